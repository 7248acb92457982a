/**
 * Orientation: reorders and flips the voxel axes so that they point along the requested world
 * directions (MONAI `Orientation`, which uses nibabel's `io_orientation` / `ornt_transform` /
 * `inv_ornt_aff`). Only axes move; no value is interpolated.
 *
 * @module
 */
import type { Volume, VoxelArray } from '@swinmm/data';
import { allocLike, checkVolume, copyMatrix, makeVolume, matmul, where, type Matrix } from './geometry.js';

/** For each voxel axis: the world axis it follows (0, 1, 2) and the sense (+1 or −1). */
export type Ornt = [number, 1 | -1][];

/** The world-axis labels: for each world axis, the letter of its negative and positive end. */
export type AxisLabels = readonly [readonly [string, string], readonly [string, string], readonly [string, string]];

/** nibabel's default labels: x runs L→R, y P→A, z I→S (RAS+). */
export const RAS_LABELS: AxisLabels = [
  ['L', 'R'],
  ['P', 'A'],
  ['I', 'S'],
];

/** Options for {@link orientation}. */
export interface OrientationOptions {
  /** Letters for the ends of each world axis (default {@link RAS_LABELS}). */
  labels?: AxisLabels;
}

// Orthogonal polar factor of a non-singular 3×3 matrix (Newton's iteration X ← (X + X⁻ᵀ)/2),
// which is what nibabel's io_orientation builds from an SVD (P·Qᵀ).
function polarFactor(m: Matrix): Matrix {
  let x = copyMatrix(m);
  for (let it = 0; it < 100; it++) {
    const inv = invert3(x);
    let change = 0;
    const next: Matrix = [];
    for (let i = 0; i < 3; i++) {
      next.push([]);
      for (let j = 0; j < 3; j++) {
        next[i].push(0.5 * (x[i][j] + inv[j][i]));
        change = Math.max(change, Math.abs(next[i][j] - x[i][j]));
      }
    }
    x = next;
    if (change < 1e-15) break;
  }
  return x;
}

function invert3(m: Matrix): Matrix {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, k] = m[2];
  const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  if (det === 0 || !Number.isFinite(det)) throw new RangeError(`orientation: the affine's 3×3 part is singular: ${JSON.stringify(m)}`);
  return [
    [(e * k - f * h) / det, (c * h - b * k) / det, (b * f - c * e) / det],
    [(f * g - d * k) / det, (a * k - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

/**
 * The orientation of a voxel grid (nibabel `io_orientation`): for each voxel axis, the world axis
 * it is closest to and its sense, taken greedily in voxel-axis order from the orthogonal part of
 * the affine so that oblique grids get the nearest axis-aligned code.
 */
export function ioOrientation(affine: readonly (readonly number[])[]): Ornt {
  const rzs: Matrix = [0, 1, 2].map((i) => [affine[i][0], affine[i][1], affine[i][2]]);
  for (let j = 0; j < 3; j++) {
    let norm = Math.sqrt(rzs[0][j] * rzs[0][j] + rzs[1][j] * rzs[1][j] + rzs[2][j] * rzs[2][j]);
    if (norm === 0) norm = 1;
    for (let i = 0; i < 3; i++) rzs[i][j] /= norm;
  }
  const r = polarFactor(rzs);
  const ornt: Ornt = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    let outAx = 0;
    for (let i = 1; i < 3; i++) if (Math.abs(r[i][inAx]) > Math.abs(r[outAx][inAx])) outAx = i;
    if (Math.abs(r[outAx][inAx]) < 1e-8) throw new RangeError(`orientation: voxel axis ${inAx} has no world direction in ${JSON.stringify(affine)}`);
    ornt.push([outAx, r[outAx][inAx] < 0 ? -1 : 1]);
    for (let j = 0; j < 3; j++) r[outAx][j] = 0;
  }
  return ornt;
}

/** nibabel `axcodes2ornt`: `'RAS'` → [[0, 1], [1, 1], [2, 1]], `'LSA'` → [[0, −1], [2, 1], [1, 1]]. */
export function axcodesToOrnt(axcodes: string, labels: AxisLabels = RAS_LABELS): Ornt {
  if (typeof axcodes !== 'string' || axcodes.length !== 3) {
    throw new RangeError(`orientation: axcodes must be three letters such as "RAS", got ${JSON.stringify(axcodes)}`);
  }
  const ornt: Ornt = [];
  const used = new Set<number>();
  for (const code of axcodes) {
    const axis = labels.findIndex((pair) => pair[0] === code || pair[1] === code);
    if (axis < 0) {
      throw new RangeError(`orientation: "${code}" in "${axcodes}" is none of ${labels.map((p) => p.join('/')).join(', ')}`);
    }
    if (used.has(axis)) throw new RangeError(`orientation: "${axcodes}" names world axis ${labels[axis].join('/')} twice`);
    used.add(axis);
    ornt.push([axis, labels[axis][0] === code ? -1 : 1]);
  }
  return ornt;
}

/** The axis codes of an orientation (nibabel `ornt2axcodes`). */
export function orntToAxcodes(ornt: Ornt, labels: AxisLabels = RAS_LABELS): string {
  return ornt.map(([axis, flip]) => labels[axis][flip === 1 ? 1 : 0]).join('');
}

/** The axis codes of a volume's grid, e.g. `'LSA'` for the ITK k-means MRI. */
export function axcodesOf(affine: readonly (readonly number[])[], labels: AxisLabels = RAS_LABELS): string {
  return orntToAxcodes(ioOrientation(affine), labels);
}

/**
 * nibabel `ornt_transform(start, end)`: for each input axis, the output axis it becomes and whether
 * it must be flipped to go from orientation `start` to orientation `end`.
 */
export function orntTransform(start: Ornt, end: Ornt): Ornt {
  const result: Ornt = [];
  for (let s = 0; s < 3; s++) {
    const e = end.findIndex(([axis]) => axis === start[s][0]);
    if (e < 0) throw new RangeError(`orientation: cannot find world axis ${start[s][0]} of ${JSON.stringify(start)} in ${JSON.stringify(end)}`);
    result.push([e, start[s][1] === end[e][1] ? 1 : -1]);
  }
  return result;
}

/**
 * nibabel `inv_ornt_aff(ornt, shape)`: the matrix taking output voxel indices back to input
 * voxel indices, so that the new affine is `affine · invOrntAff(ornt, inputShape)`.
 */
export function invOrntAff(ornt: Ornt, shape: readonly number[]): Matrix {
  const reorder: Matrix = [];
  for (let i = 0; i < 3; i++) reorder.push([0, 1, 2, 3].map((j) => (j === ornt[i][0] ? 1 : 0)));
  reorder.push([0, 0, 0, 1]);
  const flip: Matrix = [
    [ornt[0][1], 0, 0, 0],
    [0, ornt[1][1], 0, 0],
    [0, 0, ornt[2][1], 0],
    [0, 0, 0, 1],
  ];
  for (let i = 0; i < 3; i++) {
    const centre = -(shape[i] - 1) / 2;
    flip[i][3] = ornt[i][1] * centre - centre;
  }
  return matmul(flip, reorder);
}

/**
 * Applies an orientation transform (see {@link orntTransform}) to the voxels: flips the input
 * axes whose sense changes, then moves input axis i to output axis `ornt[i][0]`.
 */
export function applyOrnt<T extends VoxelArray>(v: Volume<T>, ornt: Ornt): Volume<T> {
  const inShape = v.shape;
  const outShape = [0, 0, 0];
  for (let i = 0; i < 3; i++) outShape[ornt[i][0]] = inShape[i];
  const out = allocLike(v.data, v.data.length);
  // Strides of the input array, expressed per output axis, with flips folded into a start offset.
  const inStrides = [inShape[1] * inShape[2], inShape[2], 1];
  const stride = [0, 0, 0];
  let base = 0;
  for (let i = 0; i < 3; i++) {
    const o = ornt[i][0];
    if (ornt[i][1] === -1) {
      stride[o] = -inStrides[i];
      base += (inShape[i] - 1) * inStrides[i];
    } else {
      stride[o] = inStrides[i];
    }
  }
  const src = v.data;
  let p = 0;
  for (let x = 0; x < outShape[0]; x++) {
    for (let y = 0; y < outShape[1]; y++) {
      let q = base + x * stride[0] + y * stride[1];
      for (let z = 0; z < outShape[2]; z++, q += stride[2]) out[p++] = src[q];
    }
  }
  return makeVolume(out, outShape, matmul(v.affine, invOrntAff(ornt, inShape)), v.source);
}

/**
 * Reorients `v` so that its voxel axes follow `axcodes` (MONAI `Orientation(axcodes)`), e.g.
 * `'RAS'`: x towards Right, y towards Anterior, z towards Superior. The voxels are only permuted
 * and flipped; the affine becomes `affine · inv_ornt_aff(…)` exactly as in MONAI, so the volume
 * still maps to the same world positions. Reorienting back to the original code is the identity.
 */
export function orientation<T extends VoxelArray>(v: Volume<T>, axcodes = 'RAS', options: OrientationOptions = {}): Volume<T> {
  checkVolume(v, 'orientation');
  const labels = options.labels ?? RAS_LABELS;
  const dst = axcodesToOrnt(axcodes, labels);
  let src: Ornt;
  try {
    src = ioOrientation(v.affine);
  } catch (e) {
    throw new RangeError(`orientation${where(v)}: ${(e as Error).message}`);
  }
  return applyOrnt(v, orntTransform(src, dst));
}
