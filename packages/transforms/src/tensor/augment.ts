/**
 * SwinMM's pre-training augmentations on channels-last `[B, X, Y, Z, C]` tensors:
 * `rotRand` (a random (Y, Z)-plane rotation per sample, with its label) and `maskRandPatch`
 * (zeroing a random half of the cubes of a regular grid, one mask shared by the batch).
 * SPEC.md §6.2, §6.3, §11 item 14.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@swinmm/runtime';
import { rotate, type RotationId } from './views.js';

/** What {@link rotRand} returns. */
export interface RotRandResult {
  /** The batch with sample `i` rotated by `labels[i]` quarter turns in the (Y, Z) plane. */
  rotated: tf.Tensor5D;
  /** The rotation of each sample, 0…3 (the targets of the rotation head). */
  labels: RotationId[];
}

/** Options for {@link rotRand}. */
export interface RotRandOptions {
  /** Use these rotations (one per sample) instead of drawing them; for tests and replays. */
  k?: readonly number[];
}

/**
 * Rotates every sample of `x` by its own random number of quarter turns k ∈ {0, 1, 2, 3} in the
 * (Y, Z) plane (SwinMM `rot_rand`), drawing k with `rng.int(0, 4)` per sample in batch order.
 * Odd k swap the Y and Z sizes, so a batch can only be stacked when Y = Z (SwinMM uses cubes).
 * Gradients flow through to `x`.
 */
export function rotRand(x: tf.Tensor5D, rng: Rng | null, options: RotRandOptions = {}): RotRandResult {
  if (x.rank !== 5) {
    throw new RangeError(`rotRand: expected a rank-5 [B, X, Y, Z, C] tensor, got shape [${x.shape.join(', ')}]`);
  }
  const [b, , sy, sz] = x.shape;
  let labels: number[];
  if (options.k) {
    if (options.k.length !== b) {
      throw new RangeError(`rotRand: options.k has ${options.k.length} entries but the batch has ${b} samples`);
    }
    labels = options.k.slice();
  } else {
    if (!rng) throw new TypeError('rotRand: an Rng is required unless options.k gives the rotations');
    labels = Array.from({ length: b }, () => rng.int(0, 4));
  }
  for (const k of labels) {
    if (k !== 0 && k !== 1 && k !== 2 && k !== 3) throw new RangeError(`rotRand: rotations must be 0…3, got ${k}`);
  }
  if (sy !== sz && labels.some((k) => k % 2 === 1)) {
    throw new RangeError(`rotRand: odd rotations swap Y and Z, so they need Y = Z to stack the batch; got Y = ${sy}, Z = ${sz}`);
  }
  const rotated = tf.tidy(() => {
    const parts = tf.split(x, b, 0).map((sample, i) => rotate(sample, labels[i]));
    return tf.concat(parts, 0) as tf.Tensor5D;
  });
  return { rotated, labels: labels as RotationId[] };
}

/** Options for {@link maskRandPatch}. */
export interface MaskRandPatchOptions {
  /** Cube edge in voxels, one number or one per axis X, Y, Z (default 16, SwinMM `--cube`). */
  window?: number | readonly [number, number, number];
  /** Fraction of cells that stay visible (default 0.5, SwinMM `--mask_ratio`). */
  ratio?: number;
  /**
   * Flat C-order indices (cell (i, j, k) ↦ (i·nY + j)·nZ + k) of the cells that are KEPT; the
   * others are masked. Given for tests and replays; otherwise drawn from the Rng.
   */
  keep?: readonly number[];
}

/** What {@link maskRandPatch} returns. */
export interface MaskRandPatchResult {
  /** `x` with every voxel of every masked cell set to +0 in every sample and channel. */
  masked: tf.Tensor5D;
  /** The cell grid, C order, 1 = masked (shape {@link MaskRandPatchResult.cellShape}). */
  cells: Uint8Array;
  /** Cells per axis: input size / window. */
  cellShape: [number, number, number];
  /** Voxel mask `[X, Y, Z]`, C order, 1 = zeroed. */
  voxels: Uint8Array;
  /** The kept cells (flat indices), in the order they were drawn. */
  keep: number[];
}

/** Python's `round`: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * SwinMM `mask_rand_patch`: divides the X, Y, Z extent of `x` into cells of `window` voxels,
 * keeps `round(nCells · ratio)` of them chosen without replacement and zeroes the rest. One mask
 * per call, shared by every sample and channel of the batch (as in SwinMM). The masked values are
 * exactly +0 (written with `tf.where`), and gradients flow to `x` through the kept voxels.
 */
export function maskRandPatch(x: tf.Tensor5D, rng: Rng | null, options: MaskRandPatchOptions = {}): MaskRandPatchResult {
  if (x.rank !== 5) {
    throw new RangeError(`maskRandPatch: expected a rank-5 [B, X, Y, Z, C] tensor, got shape [${x.shape.join(', ')}]`);
  }
  const size = [x.shape[1], x.shape[2], x.shape[3]];
  const w = options.window ?? 16;
  const window = typeof w === 'number' ? [w, w, w] : [...w];
  if (window.length !== 3 || !window.every((v) => Number.isInteger(v) && v > 0)) {
    throw new RangeError(`maskRandPatch: window must be a positive integer or three, got ${JSON.stringify(w)}`);
  }
  if (size.some((s, i) => s % window[i] !== 0)) {
    throw new RangeError(`maskRandPatch: the input's X, Y, Z sizes [${size.join(', ')}] must be multiples of the window [${window.join(', ')}]`);
  }
  const ratio = options.ratio ?? 0.5;
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`maskRandPatch: ratio must be in [0, 1], got ${ratio}`);
  const cellShape: [number, number, number] = [size[0] / window[0], size[1] / window[1], size[2] / window[2]];
  const nCells = cellShape[0] * cellShape[1] * cellShape[2];
  const nKeep = roundHalfEven(nCells * ratio);

  let keep: number[];
  if (options.keep) {
    keep = options.keep.slice();
    if (keep.length !== nKeep) {
      throw new RangeError(`maskRandPatch: options.keep has ${keep.length} cells but round(${nCells} × ${ratio}) = ${nKeep} must be kept`);
    }
    const seen = new Set<number>();
    for (const c of keep) {
      if (!Number.isInteger(c) || c < 0 || c >= nCells || seen.has(c)) {
        throw new RangeError(`maskRandPatch: options.keep must hold ${nKeep} distinct cell indices in [0, ${nCells}), got ${c}`);
      }
      seen.add(c);
    }
  } else {
    if (!rng) throw new TypeError('maskRandPatch: an Rng is required unless options.keep gives the kept cells');
    keep = rng.permutation(nCells).slice(0, nKeep);
  }

  const cells = new Uint8Array(nCells).fill(1);
  for (const c of keep) cells[c] = 0;
  const voxels = new Uint8Array(size[0] * size[1] * size[2]);
  for (let i = 0; i < size[0]; i++) {
    const ci = Math.floor(i / window[0]);
    for (let j = 0; j < size[1]; j++) {
      const cj = Math.floor(j / window[1]);
      const row = (i * size[1] + j) * size[2];
      const cellRow = (ci * cellShape[1] + cj) * cellShape[2];
      for (let k = 0; k < size[2]; k++) voxels[row + k] = cells[cellRow + Math.floor(k / window[2])];
    }
  }
  const masked = tf.tidy(() => {
    const condition = tf.broadcastTo(tf.tensor(voxels, [1, size[0], size[1], size[2], 1], 'bool'), x.shape);
    return tf.where(condition, tf.zerosLike(x), x) as tf.Tensor5D;
  });
  return { masked, cells, cellShape, voxels, keep };
}
