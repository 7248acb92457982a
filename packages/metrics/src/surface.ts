/**
 * Surfaces and surface distances exactly as MONAI 1.2 computes them (`monai/metrics/utils.py`:
 * `get_mask_edges`, `get_surface_distance`), without scipy.
 *
 * - The two masks are cropped to the bounding box of their union (MONAI's `crop=True`). This is
 *   only a speed-up: surfaces and distances are the same as on the full grid.
 * - A surface ("edge") voxel is a mask voxel removed by one binary erosion with the 6-connected
 *   cross and border value 0 (scipy's defaults), i.e. a mask voxel with at least one of its six
 *   face neighbours outside the mask or outside the array.
 * - The distance from a voxel of surface A to surface B is the exact Euclidean distance (mm, with
 *   the voxel spacing) to the nearest voxel of B.
 * - Empty surfaces follow MONAI: if B is empty, each voxel of A gets `Infinity`; if A is empty but
 *   B is not, the result is one `Infinity` per voxel of B; if both are empty, no distances.
 *
 * @module
 */
import { squaredDistanceToFeatures } from './edt.js';
import type { Triple, VoxelData } from './volume.js';

// Bound once: global lookups in hot loops are slow in sandboxed realms (see edt.ts).
const sqrt = Math.sqrt;

/** Inclusive-exclusive box `[x0, x1) × [y0, y1) × [z0, z1)`. */
export interface Box {
  readonly start: Triple;
  readonly end: Triple;
}

/** The surface distances between a prediction and a ground truth (one class). */
export interface SurfaceDistances {
  /** For every prediction surface voxel, its distance (mm) to the ground-truth surface. */
  readonly predToGt: Float64Array;
  /** For every ground-truth surface voxel, its distance (mm) to the prediction surface. */
  readonly gtToPred: Float64Array;
  /** Number of prediction surface voxels. */
  readonly predSurfaceVoxels: number;
  /** Number of ground-truth surface voxels. */
  readonly gtSurfaceVoxels: number;
}

/** Selects the voxels of one class: `label` for a label map, `undefined` for "non-zero". */
export type ClassSelector = number | undefined;

/** Bounding box of `select(pred) ∪ select(gt)`; `undefined` if both are empty. */
export function unionBoundingBox(
  pred: VoxelData,
  gt: VoxelData,
  shape: Triple,
  predLabel: ClassSelector,
  gtLabel: ClassSelector,
): Box | undefined {
  const [nx, ny, nz] = shape;
  let x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
  let i = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, i++) {
        if (isIn(pred[i], predLabel) || isIn(gt[i], gtLabel)) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
          if (z < z0) z0 = z;
          if (z > z1) z1 = z;
        }
      }
    }
  }
  return x1 < 0 ? undefined : { start: [x0, y0, z0], end: [x1 + 1, y1 + 1, z1 + 1] };
}

/**
 * Surface distances in both directions between the class `predLabel` of `pred` and `gtLabel` of
 * `gt` (both `undefined` = non-zero voxels), MONAI's way (see the module notes).
 *
 * @param box the union's bounding box when the caller already knows it (saves one scan); it
 *   must contain every selected voxel of both volumes.
 */
export function surfaceDistances(
  pred: VoxelData,
  gt: VoxelData,
  shape: Triple,
  spacing: Triple,
  predLabel: ClassSelector = undefined,
  gtLabel: ClassSelector = predLabel,
  box?: Box,
): SurfaceDistances {
  const b = box ?? unionBoundingBox(pred, gt, shape, predLabel, gtLabel);
  if (!b) return { predToGt: new Float64Array(0), gtToPred: new Float64Array(0), predSurfaceVoxels: 0, gtSurfaceVoxels: 0 };
  const [bx, by, bz] = [b.end[0] - b.start[0], b.end[1] - b.start[1], b.end[2] - b.start[2]];
  const n = bx * by * bz;
  const mp = new Uint8Array(n);
  const mg = new Uint8Array(n);
  const [, ny, nz] = shape;
  let j = 0;
  for (let x = b.start[0]; x < b.end[0]; x++) {
    for (let y = b.start[1]; y < b.end[1]; y++) {
      let i = (x * ny + y) * nz + b.start[2];
      for (let z = 0; z < bz; z++, i++, j++) {
        mp[j] = isIn(pred[i], predLabel) ? 1 : 0;
        mg[j] = isIn(gt[i], gtLabel) ? 1 : 0;
      }
    }
  }
  const cropShape: Triple = [bx, by, bz];
  const ep = surfaceOf(mp, cropShape);
  const eg = surfaceOf(mg, cropShape);
  const nP = count(ep);
  const nG = count(eg);
  if (nP === 0 && nG === 0) {
    return { predToGt: new Float64Array(0), gtToPred: new Float64Array(0), predSurfaceVoxels: 0, gtSurfaceVoxels: 0 };
  }
  if (nP === 0 || nG === 0) {
    // MONAI: an empty side makes every distance of the other side infinite, in both directions.
    const m = Math.max(nP, nG);
    return {
      predToGt: new Float64Array(m).fill(Infinity),
      gtToPred: new Float64Array(m).fill(Infinity),
      predSurfaceVoxels: nP,
      gtSurfaceVoxels: nG,
    };
  }
  const work = new Float64Array(n);
  squaredDistanceToFeatures(eg, cropShape, spacing, work);
  const predToGt = gatherSqrt(work, ep, nP);
  squaredDistanceToFeatures(ep, cropShape, spacing, work);
  const gtToPred = gatherSqrt(work, eg, nG);
  return { predToGt, gtToPred, predSurfaceVoxels: nP, gtSurfaceVoxels: nG };
}

/**
 * The surface of a binary mask: `mask XOR erosion(mask)` with the 6-connected structuring element
 * and border value 0 (scipy's `binary_erosion` defaults, as MONAI uses it).
 */
export function surfaceOf(mask: Uint8Array, shape: Triple): Uint8Array {
  const [nx, ny, nz] = shape;
  const sx = ny * nz;
  const out = new Uint8Array(mask.length);
  let i = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, i++) {
        if (mask[i] === 0) continue;
        const edge =
          x === 0 || x === nx - 1 || y === 0 || y === ny - 1 || z === 0 || z === nz - 1 ||
          mask[i - sx] === 0 || mask[i + sx] === 0 || mask[i - nz] === 0 || mask[i + nz] === 0 ||
          mask[i - 1] === 0 || mask[i + 1] === 0;
        if (edge) out[i] = 1;
      }
    }
  }
  return out;
}

function isIn(value: number, label: ClassSelector): boolean {
  return label === undefined ? value !== 0 : value === label;
}

function count(mask: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < mask.length; i++) c += mask[i];
  return c;
}

function gatherSqrt(squared: Float64Array, where: Uint8Array, m: number): Float64Array {
  const out = new Float64Array(m);
  let k = 0;
  for (let i = 0; i < where.length; i++) if (where[i] !== 0) out[k++] = sqrt(squared[i]);
  return out;
}
