/**
 * Spatial transforms that move voxels without interpolating them: flips, quarter turns, crops
 * and padding (MONAI `Flip`/`RandFlip`, `Rotate90`/`RandRotate90`, `SpatialPad`,
 * `CropForeground`, `SpatialCrop`, `RandSpatialCropSamples`, `RandCropByPosNegLabel`). Every one
 * keeps the input's array type and updates the affine so that each voxel keeps its world position.
 * The random ones take several volumes on one grid (an image and its label) and apply the same
 * random choice to all of them.
 *
 * @module
 */
import type { Vec3, Volume, VoxelArray } from '@swinmm/data';
import type { Rng } from '@swinmm/runtime/random';
import { allocLike, checkSameShape, checkVolume, cropOrPad, identity, makeVolume, matmul, where } from './geometry.js';


function vec3(value: number | readonly number[], name: string, ctx: string, check: (v: number) => boolean, what: string): Vec3 {
  const v = typeof value === 'number' ? [value, value, value] : [...value];
  if (v.length !== 3 || !v.every((x) => typeof x === 'number' && check(x))) {
    throw new RangeError(`${ctx}: ${name} must be ${what} (one or three), got ${JSON.stringify(value)}`);
  }
  return [v[0], v[1], v[2]];
}

function checkAxis(axis: number, ctx: string): void {
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new RangeError(`${ctx}: spatial axes are 0, 1, 2 (x, y, z), got ${axis}`);
}

/**
 * Rearranges voxels so that output axis e reads input axis `src[e]`, reversed where `flip[e]`;
 * the affine becomes `affine · M` with M the output-index → input-index map.
 */
function permuteFlip<T extends VoxelArray>(v: Volume<T>, src: readonly number[], flip: readonly boolean[]): Volume<T> {
  const inShape = v.shape;
  const outShape = src.map((d) => inShape[d]);
  const inStrides = [inShape[1] * inShape[2], inShape[2], 1];
  const stride = [0, 0, 0];
  let base = 0;
  const m = identity(4);
  for (let e = 0; e < 3; e++) {
    const d = src[e];
    // Column e of the identity is replaced by the unit vector of the input axis it reads.
    m[e][e] = 0;
    m[d][e] = flip[e] ? -1 : 1;
    m[d][3] = flip[e] ? inShape[d] - 1 : 0;
    stride[e] = flip[e] ? -inStrides[d] : inStrides[d];
    if (flip[e]) base += (inShape[d] - 1) * inStrides[d];
  }
  for (let d = 0; d < 3; d++) if (!src.includes(d)) throw new RangeError(`internal: axis map ${JSON.stringify(src)} is not a permutation`);
  const out = allocLike(v.data, v.data.length);
  const data = v.data;
  let p = 0;
  for (let x = 0; x < outShape[0]; x++) {
    for (let y = 0; y < outShape[1]; y++) {
      let q = base + x * stride[0] + y * stride[1];
      for (let z = 0; z < outShape[2]; z++, q += stride[2]) out[p++] = data[q];
    }
  }
  return makeVolume(out, outShape, matmul(v.affine, m), v.source);
}

/** Reverses the voxel order along the given spatial axes (MONAI `Flip(spatial_axis)`). */
export function flip<T extends VoxelArray>(v: Volume<T>, axes: number | readonly number[]): Volume<T> {
  checkVolume(v, 'flip');
  const list = typeof axes === 'number' ? [axes] : [...axes];
  list.forEach((a) => checkAxis(a, `flip${where(v)}`));
  return permuteFlip(v, [0, 1, 2], [0, 1, 2].map((a) => list.includes(a)));
}

/**
 * `k` quarter turns in the plane of spatial axes `axes` (default [0, 1], the X–Y plane), from the
 * first axis towards the second, exactly like `torch.rot90(x, k, axes)` / MONAI `Rotate90`.
 * The affine is updated exactly (MONAI's own carries ~1e-16 round-off from cos(π/2)).
 */
export function rotate90<T extends VoxelArray>(v: Volume<T>, k: number, axes: readonly [number, number] = [0, 1]): Volume<T> {
  checkVolume(v, 'rotate90');
  const ctx = `rotate90${where(v)}`;
  if (!Number.isInteger(k)) throw new RangeError(`${ctx}: k must be an integer, got ${k}`);
  if (!Array.isArray(axes) || axes.length !== 2) throw new RangeError(`${ctx}: axes must be two spatial axes, got ${JSON.stringify(axes)}`);
  const [a, b] = axes;
  checkAxis(a, ctx);
  checkAxis(b, ctx);
  if (a === b) throw new RangeError(`${ctx}: the two axes must differ, got ${JSON.stringify(axes)}`);
  const turns = ((k % 4) + 4) % 4;
  const src = [0, 1, 2];
  const flips = [false, false, false];
  if (turns === 1) {
    src[a] = b;
    src[b] = a;
    flips[a] = true;
  } else if (turns === 2) {
    flips[a] = true;
    flips[b] = true;
  } else if (turns === 3) {
    src[a] = b;
    src[b] = a;
    flips[b] = true;
  }
  return permuteFlip(v, src, flips);
}

/** Options for {@link spatialPad}. */
export interface SpatialPadOptions {
  /** `'symmetric'` (default: half before, the rest after) or `'end'` (all after). */
  method?: 'symmetric' | 'end';
  /** The fill value (default 0, MONAI's constant mode). */
  value?: number;
}

/**
 * Pads with `value` so that every axis is at least `spatialSize` (MONAI `SpatialPad`); axes that
 * are already large enough, or whose target is −1, are left alone. Symmetric padding puts
 * `floor(total / 2)` before. The affine moves so that the original voxels stay in place.
 */
export function spatialPad<T extends VoxelArray>(v: Volume<T>, spatialSize: number | readonly number[], options: SpatialPadOptions = {}): Volume<T> {
  checkVolume(v, 'spatialPad');
  const ctx = `spatialPad${where(v)}`;
  const target = vec3(spatialSize, 'spatialSize', ctx, (x) => Number.isInteger(x) && (x > 0 || x === -1), 'positive integers or −1');
  const method = options.method ?? 'symmetric';
  if (method !== 'symmetric' && method !== 'end') throw new RangeError(`${ctx}: method must be "symmetric" or "end", got ${JSON.stringify(method)}`);
  const start: number[] = [];
  const size: number[] = [];
  for (let i = 0; i < 3; i++) {
    const total = target[i] === -1 ? 0 : Math.max(target[i] - v.shape[i], 0);
    const before = method === 'symmetric' ? Math.floor(total / 2) : 0;
    start.push(-before);
    size.push(v.shape[i] + total);
  }
  return cropOrPad(v, start, size, options.value ?? 0);
}

/**
 * The box `[start, end)` MONAI `CropForeground` selects: per axis, the first and last index where
 * `select(voxel)` holds, widened by `margin`, clipped to the volume when `allowSmaller` (MONAI
 * 1.2's default; otherwise the margin may reach outside and is padded), then grown symmetrically
 * to a multiple of `kDivisible`. Returns null when nothing is selected.
 */
export function foregroundBox(
  v: Volume,
  select: (value: number) => boolean = (x) => x > 0,
  margin: number | readonly number[] = 0,
  kDivisible: number | readonly number[] = 1,
  allowSmaller = true,
): { start: Vec3; end: Vec3 } | null {
  checkVolume(v, 'foregroundBox');
  const ctx = `cropForeground${where(v)}`;
  const m = vec3(margin, 'margin', ctx, (x) => Number.isInteger(x) && x >= 0, 'non-negative integers');
  const k = vec3(kDivisible, 'kDivisible', ctx, (x) => Number.isInteger(x) && x > 0, 'positive integers');
  const [nx, ny, nz] = v.shape;
  const lo: Vec3 = [nx, ny, nz];
  const hi: Vec3 = [-1, -1, -1];
  const data = v.data;
  let p = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, p++) {
        if (!select(data[p])) continue;
        if (x < lo[0]) lo[0] = x;
        if (x > hi[0]) hi[0] = x;
        if (y < lo[1]) lo[1] = y;
        if (y > hi[1]) hi[1] = y;
        if (z < lo[2]) lo[2] = z;
        if (z > hi[2]) hi[2] = z;
      }
    }
  }
  if (hi[0] < 0) return null;
  const start: Vec3 = [0, 0, 0];
  const end: Vec3 = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const s = allowSmaller ? Math.max(lo[i] - m[i], 0) : lo[i] - m[i];
    const e = allowSmaller ? Math.min(hi[i] + m[i] + 1, v.shape[i]) : hi[i] + m[i] + 1;
    const size = e - s;
    const divisible = Math.ceil(size / k[i]) * k[i];
    start[i] = s - Math.floor((divisible - size) / 2);
    end[i] = start[i] + divisible;
  }
  return { start, end };
}

/** Options for {@link cropForeground}. */
export interface CropForegroundOptions {
  /** Which voxels are foreground (default `x > 0`, MONAI's `is_positive`). */
  select?: (value: number) => boolean;
  /** Voxels added around the box on each side (default 0). */
  margin?: number | readonly number[];
  /** Grow the box to a multiple of this (default 1). */
  kDivisible?: number | readonly number[];
  /** Clip the margin at the volume's edge (default true, MONAI 1.2); false pads beyond it. */
  allowSmaller?: boolean;
}

/**
 * Crops `volumes` (one grid, e.g. image and label) to the bounding box of the foreground of
 * `volumes[sourceIndex]` (MONAI `CropForegroundd(source_key=…)`). Parts of a `kDivisible`-grown
 * box outside the volume are zero-padded. Throws when the source has no foreground voxel (MONAI
 * would return an empty array).
 */
export function cropForeground<T extends VoxelArray>(volumes: readonly Volume<T>[], options: CropForegroundOptions & { sourceIndex?: number } = {}): Volume<T>[] {
  checkSameShape(volumes, 'cropForeground');
  const source = volumes[options.sourceIndex ?? 0];
  if (!source) throw new RangeError(`cropForeground: sourceIndex ${options.sourceIndex} is not one of the ${volumes.length} volumes`);
  const box = foregroundBox(source, options.select, options.margin, options.kDivisible, options.allowSmaller ?? true);
  if (!box) throw new RangeError(`cropForeground${where(source)}: the source volume has no foreground voxel, so there is nothing to crop to`);
  const size = [0, 1, 2].map((i) => box.end[i] - box.start[i]);
  return volumes.map((v) => cropOrPad(v, box.start, size));
}

/**
 * MONAI `SpatialCrop(roi_center, roi_size)`: the box starting at `max(center − floor(size/2), 0)`,
 * clipped to the volume.
 */
export function spatialCropCenter<T extends VoxelArray>(v: Volume<T>, center: readonly number[], size: readonly number[]): Volume<T> {
  checkVolume(v, 'spatialCropCenter');
  const start: number[] = [];
  const len: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = Math.max(center[i] - Math.floor(size[i] / 2), 0);
    const e = Math.min(Math.max(s + size[i], s), v.shape[i]);
    if (e <= s) throw new RangeError(`spatialCropCenter${where(v)}: the box at centre [${center.join(', ')}] with size [${size.join(', ')}] is empty on axis ${i}`);
    start.push(s);
    len.push(e - s);
  }
  return cropOrPad(v, start, len);
}

/** Options for {@link randFlip}. */
export interface RandFlipOptions {
  /** Probability of flipping (default 0.5 as in MONAI; SwinMM uses 0.2 per axis). */
  prob?: number;
  /** The axis or axes flipped together when the draw succeeds (default all three). */
  spatialAxis?: number | readonly number[];
}

function checkProb(p: number, ctx: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${ctx}: prob must be in [0, 1], got ${p}`);
}

/**
 * MONAI `RandFlipd`: one draw `uniform() < prob` for the call; when it succeeds every volume is
 * flipped along `spatialAxis`. SwinMM chains three of these (axes 0, 1, 2, prob 0.2 each).
 */
export function randFlip<T extends VoxelArray>(volumes: readonly Volume<T>[], rng: Rng, options: RandFlipOptions = {}): Volume<T>[] {
  checkSameShape(volumes, 'randFlip');
  const prob = options.prob ?? 0.5;
  checkProb(prob, 'randFlip');
  const axes = options.spatialAxis ?? [0, 1, 2];
  if (!(rng.uniform() < prob)) return volumes.slice();
  return volumes.map((v) => flip(v, axes));
}

/** Options for {@link randRotate90}. */
export interface RandRotate90Options {
  /** Probability of rotating (default 0.1 as in MONAI; SwinMM uses 0.2). */
  prob?: number;
  /** k is drawn from 1 … maxK (default 3). */
  maxK?: number;
  /** The rotation plane (default [0, 1]). */
  spatialAxes?: readonly [number, number];
}

/**
 * MONAI `RandRotate90d`: draws `k = int(0, maxK) + 1` and then `uniform() < prob` (that order);
 * when the second succeeds every volume turns by k quarter turns in `spatialAxes`.
 */
export function randRotate90<T extends VoxelArray>(volumes: readonly Volume<T>[], rng: Rng, options: RandRotate90Options = {}): Volume<T>[] {
  checkSameShape(volumes, 'randRotate90');
  const prob = options.prob ?? 0.1;
  checkProb(prob, 'randRotate90');
  const maxK = options.maxK ?? 3;
  if (!Number.isInteger(maxK) || maxK < 1) throw new RangeError(`randRotate90: maxK must be a positive integer, got ${maxK}`);
  const k = rng.int(0, maxK) + 1;
  if (!(rng.uniform() < prob)) return volumes.slice();
  return volumes.map((v) => rotate90(v, k, options.spatialAxes ?? [0, 1]));
}

/** Options for {@link randSpatialCropSamples}. */
export interface RandSpatialCropSamplesOptions {
  /** Crop size (−1 keeps the whole axis); with `randomSize` the minimum size. */
  roiSize: number | readonly number[];
  /** How many crops (SwinMM pre-training: 2 per volume). */
  numSamples: number;
  /** Random position (default true); false takes the centre crop. */
  randomCenter?: boolean;
  /** Random size between `roiSize` and `maxRoiSize` (default false, as SwinMM sets it). */
  randomSize?: boolean;
  /** Upper bound of the random size (default the volume size). */
  maxRoiSize?: number | readonly number[];
}

/**
 * MONAI `RandSpatialCropSamplesd`: `numSamples` independent crops of `roiSize` (clipped to the
 * volume), each at a uniformly random position (start ∈ [0, n − size] per axis), the same boxes
 * for every volume of the grid. Returns one array of volumes per sample.
 */
export function randSpatialCropSamples<T extends VoxelArray>(volumes: readonly Volume<T>[], rng: Rng, options: RandSpatialCropSamplesOptions): Volume<T>[][] {
  checkSameShape(volumes, 'randSpatialCropSamples');
  const ctx = `randSpatialCropSamples${where(volumes[0])}`;
  if (!Number.isInteger(options.numSamples) || options.numSamples < 1) throw new RangeError(`${ctx}: numSamples must be a positive integer, got ${options.numSamples}`);
  const shape = volumes[0].shape;
  const roi = vec3(options.roiSize, 'roiSize', ctx, (x) => Number.isInteger(x) && (x > 0 || x === -1), 'positive integers or −1').map((s, i) => (s === -1 ? shape[i] : s));
  const maxRoi = options.maxRoiSize === undefined ? [...shape] : vec3(options.maxRoiSize, 'maxRoiSize', ctx, (x) => Number.isInteger(x) && (x > 0 || x === -1), 'positive integers or −1').map((s, i) => (s === -1 ? shape[i] : s));
  const samples: Volume<T>[][] = [];
  for (let n = 0; n < options.numSamples; n++) {
    let size = roi.slice();
    if (options.randomSize) size = size.map((s, i) => rng.int(s, Math.max(maxRoi[i], s) + 1));
    const valid = size.map((s, i) => Math.min(s, shape[i]));
    let start: number[];
    if (options.randomCenter ?? true) {
      start = valid.map((s, i) => rng.int(0, shape[i] - s + 1));
    } else {
      start = valid.map((s, i) => Math.max(Math.floor(shape[i] / 2) - Math.floor(s / 2), 0));
    }
    samples.push(volumes.map((v) => cropOrPad(v, start, valid)));
  }
  return samples;
}

/** Options for {@link randCropByPosNegLabel}. */
export interface RandCropByPosNegLabelOptions {
  /** Crop size (−1 keeps the whole axis); SwinMM: 64³. */
  spatialSize: number | readonly number[];
  /** Weight of foreground-centred crops (default 1). */
  pos?: number;
  /** Weight of background-centred crops (default 1). */
  neg?: number;
  /** How many crops (SwinMM: 4). */
  numSamples?: number;
  /**
   * With an image: background centres must also have `image > imageThreshold` (SwinMM: 0), so
   * crops are not centred in the air around the body.
   */
  imageThreshold?: number;
  /** Allow a crop larger than the volume (clipped); MONAI's default false makes it an error. */
  allowSmaller?: boolean;
}

/** The foreground and background candidate voxels (flat C-order indices), MONAI `map_binary_to_indices`. */
export function binaryToIndices(label: Volume, image?: Volume, imageThreshold = 0): { fg: Int32Array; bg: Int32Array } {
  const n = label.data.length;
  let nf = 0;
  let nb = 0;
  const lab = label.data;
  const img = image?.data;
  for (let i = 0; i < n; i++) {
    if (lab[i] > 0) nf++;
    else if (!img || img[i] > imageThreshold) nb++;
  }
  const fg = new Int32Array(nf);
  const bg = new Int32Array(nb);
  nf = 0;
  nb = 0;
  for (let i = 0; i < n; i++) {
    if (lab[i] > 0) fg[nf++] = i;
    else if (!img || img[i] > imageThreshold) bg[nb++] = i;
  }
  return { fg, bg };
}

/**
 * MONAI `correct_crop_centers`: moves a centre so that a crop of `size` around it fits in `shape`
 * (valid centres are `floor(size/2)` … `shape − size/2` rounded down, as MONAI computes them).
 */
export function correctCropCenter(center: readonly number[], size: readonly number[], shape: readonly number[]): Vec3 {
  const out: Vec3 = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const validStart = Math.floor(size[i] / 2);
    let validEnd = Math.trunc(shape[i] + 1 - size[i] / 2);
    if (validStart === validEnd) validEnd += 1;
    out[i] = Math.min(Math.max(center[i], validStart), validEnd - 1);
  }
  return out;
}

/**
 * MONAI `RandCropByPosNegLabeld`: `numSamples` crops of `spatialSize`, each centred on a random
 * foreground voxel (`label > 0`) with probability pos/(pos+neg), else on a random background voxel
 * (`label = 0`, and `image > imageThreshold` when an image is given), the centre then shifted so
 * that the crop fits. Per sample the draws are `uniform() < ratio`, then `int(0, count)`. If one
 * of the two sets is empty every crop comes from the other. `volumes` are cropped identically;
 * `label` (and `image`) only choose the centres and must be on the same grid.
 */
export function randCropByPosNegLabel<T extends VoxelArray>(
  volumes: readonly Volume<T>[],
  label: Volume,
  rng: Rng,
  options: RandCropByPosNegLabelOptions & { image?: Volume },
): { samples: Volume<T>[][]; centers: Vec3[] } {
  checkSameShape([label, ...(options.image ? [options.image] : []), ...volumes], 'randCropByPosNegLabel');
  const ctx = `randCropByPosNegLabel${where(label)}`;
  const shape = label.shape;
  const size = vec3(options.spatialSize, 'spatialSize', ctx, (x) => Number.isInteger(x) && (x > 0 || x === -1), 'positive integers or −1').map((s, i) => (s === -1 ? shape[i] : s));
  const pos = options.pos ?? 1;
  const neg = options.neg ?? 1;
  if (!(pos >= 0 && neg >= 0 && pos + neg > 0)) throw new RangeError(`${ctx}: pos and neg must be non-negative and not both 0, got ${pos}, ${neg}`);
  const numSamples = options.numSamples ?? 1;
  if (!Number.isInteger(numSamples) || numSamples < 1) throw new RangeError(`${ctx}: numSamples must be a positive integer, got ${numSamples}`);
  for (let i = 0; i < 3; i++) {
    if (size[i] > shape[i]) {
      if (!options.allowSmaller) {
        throw new RangeError(`${ctx}: the crop [${size.join(', ')}] is larger than the volume [${shape.join(', ')}] on axis ${i}; pad first or set allowSmaller`);
      }
      size[i] = shape[i];
    }
  }
  const { fg, bg } = binaryToIndices(label, options.image, options.imageThreshold ?? 0);
  if (fg.length === 0 && bg.length === 0) throw new RangeError(`${ctx}: no foreground and no background voxel to centre a crop on`);
  let ratio = pos / (pos + neg);
  if (fg.length === 0) ratio = 0;
  else if (bg.length === 0) ratio = 1;
  const centers: Vec3[] = [];
  const samples: Volume<T>[][] = [];
  const plane = shape[1] * shape[2];
  for (let n = 0; n < numSamples; n++) {
    const pool = rng.uniform() < ratio ? fg : bg;
    const idx = pool[rng.int(0, pool.length)];
    const c = [Math.floor(idx / plane), Math.floor(idx / shape[2]) % shape[1], idx % shape[2]];
    const center = correctCropCenter(c, size, shape);
    centers.push(center);
    samples.push(volumes.map((v) => spatialCropCenter(v, center, size)));
  }
  return { samples, centers };
}
