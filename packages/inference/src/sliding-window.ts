/**
 * MONAI-equivalent sliding-window inference on channels-last tensors `[B, X, Y, Z, C]`.
 *
 * Same windows, order, padding, importance weights and normalisation as MONAI 1.2's
 * `sliding_window_inference` (SPEC.md §9.2). Memory is bounded by one window batch: each batch's
 * outputs are read back, weighted and added into one host-side accumulator per output (only for
 * the voxels inside the original image) plus one shared weight map, then disposed. The full
 * volume of outputs exists once, at the end, as the returned tensor.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import {
  type BlendMode,
  type GaussianVariant,
  importanceMap,
  resolveRoiSize,
  roiPadding,
  scanInterval,
  type Size3,
  windowGrid,
} from './windows.js';

/** How an image smaller than the ROI is padded (PyTorch `F.pad` modes, as MONAI passes them). */
export type PaddingMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Progress report after each window batch. */
export interface SlidingWindowProgress {
  /** Windows processed so far (over the whole batch of images). */
  windowsDone: number;
  /** Windows in total: windows per image × images. */
  windowsTotal: number;
}

/** Options of {@link slidingWindowInference}. */
export interface SlidingWindowOptions {
  /** Fraction of overlap between neighbouring windows, in [0, 1); one value or one per axis. Default 0.25 (MONAI). */
  overlap?: number | readonly number[];
  /** `constant` (default) or `gaussian` blending. */
  mode?: BlendMode;
  /** σ of the gaussian as a fraction of the ROI size, per axis or for all; default 0.125. */
  sigmaScale?: number | readonly number[];
  /** `monai-1.2` (default, what the parity fixture uses) or `monai-0.9` (the map SwinMM's inference used). */
  gaussianVariant?: GaussianVariant;
  /** Padding of images smaller than the ROI: `constant` (default), `reflect`, `replicate` or `circular`. */
  paddingMode?: PaddingMode;
  /** Fill value of `constant` padding; default 0. */
  cval?: number;
  /** A precomputed weight map of the ROI's size (z fastest), replacing the `mode` map. It is clamped like MONAI's. */
  roiWeightMap?: Float32Array;
  /** Called after every window batch. */
  onProgress?: (progress: SlidingWindowProgress) => void;
}

/**
 * A window predictor: takes a batch of windows `[n, rx, ry, rz, C]` and returns one tensor or an
 * array of tensors, each `[n, rx, ry, rz, C_k]`. The returned tensors are owned (and disposed)
 * by the sliding window; the window batch it receives is disposed after the call, so it must not
 * be kept.
 */
export type WindowPredictor<R extends tf.Tensor5D | tf.Tensor5D[]> = (windows: tf.Tensor5D) => R | Promise<R>;

/**
 * Runs `predictor` over sliding windows of `input` and stitches the outputs (MONAI 1.2's
 * `sliding_window_inference` with one output tensor).
 *
 * @param input `[B, X, Y, Z, C]` image batch (not disposed).
 * @param roiSize window size `[x, y, z]`; entries ≤ 0 take the image's size on that axis.
 * @param swBatchSize how many windows the predictor gets at a time.
 * @returns `[B, X, Y, Z, C_out]`: the weighted average of the window outputs, on the input's grid.
 */
export async function slidingWindowInference(
  input: tf.Tensor5D,
  roiSize: readonly number[],
  swBatchSize: number,
  predictor: WindowPredictor<tf.Tensor5D>,
  options: SlidingWindowOptions = {},
): Promise<tf.Tensor5D> {
  const [out] = await slidingWindowInferenceMulti(input, roiSize, swBatchSize, async (w) => [await predictor(w)], options);
  return out;
}

/**
 * {@link slidingWindowInference} for a predictor that returns several outputs (e.g. the two
 * branches of SwinMM); each output is stitched separately and they are returned in order.
 */
export async function slidingWindowInferenceMulti(
  input: tf.Tensor5D,
  roiSize: readonly number[],
  swBatchSize: number,
  predictor: WindowPredictor<tf.Tensor5D[]>,
  options: SlidingWindowOptions = {},
): Promise<tf.Tensor5D[]> {
  if (!(input instanceof tf.Tensor) || input.rank !== 5) {
    throw new RangeError(`input: expected a rank-5 [B, X, Y, Z, C] tensor, found ${input instanceof tf.Tensor ? `shape [${input.shape.join(', ')}]` : String(input)}`);
  }
  if (!Number.isInteger(swBatchSize) || swBatchSize < 1) {
    throw new RangeError(`swBatchSize: expected a positive integer, found ${swBatchSize}`);
  }
  const [batch, ix, iy, iz] = input.shape;
  const imageSize: Size3 = [ix, iy, iz];
  const roi = resolveRoiSize(roiSize, imageSize);
  const overlap = resolveOverlap(options.overlap ?? 0.25);
  const pad = roiPadding(imageSize, roi);
  const padded: Size3 = [0, 1, 2].map((i) => imageSize[i] + pad[i][0] + pad[i][1]) as Size3;
  const interval = scanInterval(padded, roi, overlap);
  const starts = windowGrid(padded, roi, interval);
  const perImage = starts.length;
  const total = perImage * batch;

  let weights: Float32Array;
  if (options.roiWeightMap) {
    const expected = roi[0] * roi[1] * roi[2];
    if (options.roiWeightMap.length !== expected) {
      throw new RangeError(`roiWeightMap: expected ${expected} values for ROI [${roi.join(', ')}], found ${options.roiWeightMap.length}`);
    }
    weights = Float32Array.from(options.roiWeightMap);
    let min = Infinity;
    for (const v of weights) if (v < min) min = v;
    const floor = Math.max(min, 1e-3);
    for (let i = 0; i < weights.length; i++) if (weights[i] < floor) weights[i] = floor;
  } else {
    weights = importanceMap(roi, options.mode ?? 'constant', options.sigmaScale ?? 0.125, options.gaussianVariant ?? 'monai-1.2');
  }

  // Windows are cut on the host from one read-back of the input: tfjs's rank-5 slice is slow on
  // the cpu and wasm backends, and padding becomes an index lookup instead of a padded copy.
  const paddingMode = options.paddingMode ?? 'constant';
  const cval = options.cval ?? 0;
  const srcIndex = [0, 1, 2].map((a) => paddedSourceIndex(imageSize[a], pad[a], paddingMode));
  const inChannels = input.shape[4];
  const raw = await input.data();
  const inputValues = raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>);
  const voxels = ix * iy * iz;
  const count = new Float32Array(voxels);
  const acc: Float32Array[] = [];
  const channels: number[] = [];

  for (let first = 0; first < total; first += swBatchSize) {
    const last = Math.min(first + swBatchSize, total);
    const windows = tf.tensor5d(
      cutWindows(inputValues, imageSize, inChannels, srcIndex, cval, starts, perImage, first, last, roi),
      [last - first, roi[0], roi[1], roi[2], inChannels],
    );
    let outputs: tf.Tensor5D[];
    try {
      outputs = await predictor(windows);
    } finally {
      windows.dispose();
    }
    try {
      if (!Array.isArray(outputs) || outputs.length === 0) throw new TypeError('predictor: expected a tensor or a non-empty array of tensors');
      if (acc.length > 0 && outputs.length !== acc.length) {
        throw new RangeError(`predictor: returned ${outputs.length} outputs, but ${acc.length} in the first batch`);
      }
      for (let k = 0; k < outputs.length; k++) {
        const o = outputs[k];
        const n = last - first;
        if (!(o instanceof tf.Tensor) || o.rank !== 5 || o.shape[0] !== n || o.shape[1] !== roi[0] || o.shape[2] !== roi[1] || o.shape[3] !== roi[2]) {
          throw new RangeError(
            `predictor output ${k}: expected shape [${n}, ${roi.join(', ')}, C], found ${o instanceof tf.Tensor ? `[${o.shape.join(', ')}]` : String(o)}`,
          );
        }
        if (acc.length <= k) {
          channels.push(o.shape[4]);
          acc.push(new Float32Array(batch * voxels * o.shape[4]));
        } else if (o.shape[4] !== channels[k]) {
          throw new RangeError(`predictor output ${k}: channel count changed from ${channels[k]} to ${o.shape[4]}`);
        }
        const values = (await o.data()) as Float32Array;
        for (let j = 0; j < n; j++) {
          const idx = first + j;
          accumulate(acc[k], values, j, channels[k], Math.floor(idx / perImage), starts[idx % perImage], roi, pad, imageSize, weights);
        }
      }
      // The weight map is the same for every image of the batch: count it once (image 0).
      for (let idx = first; idx < last; idx++) {
        if (idx < perImage) accumulateWeights(count, starts[idx], roi, pad, imageSize, weights);
      }
    } finally {
      for (const o of Array.isArray(outputs) ? outputs : [outputs]) if (o instanceof tf.Tensor) o.dispose();
    }
    options.onProgress?.({ windowsDone: last, windowsTotal: total });
  }

  return acc.map((a, k) => {
    const c = channels[k];
    for (let b = 0; b < batch; b++) {
      const base = b * voxels * c;
      for (let v = 0; v < voxels; v++) {
        const inv = count[v];
        for (let ch = 0; ch < c; ch++) a[base + v * c + ch] /= inv;
      }
    }
    return tf.tensor5d(a, [batch, ix, iy, iz, c]);
  });
}

function resolveOverlap(overlap: number | readonly number[]): Size3 {
  const o = typeof overlap === 'number' ? [overlap, overlap, overlap] : overlap;
  if (o.length !== 3 || !o.every((v) => v >= 0 && v < 1)) {
    throw new RangeError(`overlap: expected a number in [0, 1) or three of them, found ${JSON.stringify(overlap)}`);
  }
  return [o[0], o[1], o[2]];
}

/**
 * For each padded coordinate of one axis, the source coordinate in the image, or −1 where
 * `constant` padding puts `cval` (PyTorch `F.pad` semantics for the other modes).
 */
function paddedSourceIndex(n: number, pad: readonly [number, number], mode: PaddingMode): Int32Array {
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate' && mode !== 'circular') {
    throw new RangeError(`paddingMode: expected 'constant', 'reflect', 'replicate' or 'circular', found ${JSON.stringify(mode)}`);
  }
  const [before, after] = pad;
  if (mode === 'reflect' && (before >= n || after >= n)) {
    throw new RangeError(`paddingMode 'reflect': padding (${before}, ${after}) must be smaller than the axis size ${n}, as in PyTorch`);
  }
  const out = new Int32Array(n + before + after);
  for (let i = 0; i < out.length; i++) {
    const j = i - before;
    out[i] = mode === 'constant' ? (j >= 0 && j < n ? j : -1) : sourceIndex(j, n, mode);
  }
  return out;
}

/** Copies windows `first … last − 1` (image-major, MONAI's order) out of the padded image. */
function cutWindows(
  values: Float32Array,
  image: Size3,
  c: number,
  srcIndex: Int32Array[],
  cval: number,
  starts: Size3[],
  perImage: number,
  first: number,
  last: number,
  roi: Size3,
): Float32Array {
  const [rx, ry, rz] = roi;
  const [, iy, iz] = image;
  const out = new Float32Array((last - first) * rx * ry * rz * c);
  const [ix0, iy0, iz0] = srcIndex;
  let o = 0;
  for (let idx = first; idx < last; idx++) {
    const b = Math.floor(idx / perImage);
    const [sx, sy, sz] = starts[idx % perImage];
    const imgBase = b * image[0] * iy * iz;
    for (let x = 0; x < rx; x++) {
      const gx = ix0[sx + x];
      for (let y = 0; y < ry; y++) {
        const gy = iy0[sy + y];
        for (let z = 0; z < rz; z++) {
          const gz = iz0[sz + z];
          if (gx < 0 || gy < 0 || gz < 0) {
            for (let ch = 0; ch < c; ch++) out[o++] = cval;
          } else {
            let src = (imgBase + (gx * iy + gy) * iz + gz) * c;
            for (let ch = 0; ch < c; ch++) out[o++] = values[src++];
          }
        }
      }
    }
  }
  return out;
}

/**
 * Adds `weights · window j of values` into `acc` for the voxels of the window that fall inside
 * the original (unpadded) image; padded voxels are dropped here rather than cropped at the end.
 */
function accumulate(
  acc: Float32Array,
  values: Float32Array,
  j: number,
  c: number,
  b: number,
  start: Size3,
  roi: Size3,
  pad: [number, number][],
  image: Size3,
  weights: Float32Array,
): void {
  const [rx, ry, rz] = roi;
  const [ix, iy, iz] = image;
  const winBase = j * rx * ry * rz * c;
  const imgBase = b * ix * iy * iz * c;
  for (let x = 0; x < rx; x++) {
    const gx = start[0] + x - pad[0][0];
    if (gx < 0 || gx >= ix) continue;
    for (let y = 0; y < ry; y++) {
      const gy = start[1] + y - pad[1][0];
      if (gy < 0 || gy >= iy) continue;
      const z0 = Math.max(0, pad[2][0] - start[2]);
      const z1 = Math.min(rz, iz + pad[2][0] - start[2]);
      let w = (x * ry + y) * rz + z0;
      let src = winBase + w * c;
      let dst = imgBase + ((gx * iy + gy) * iz + start[2] + z0 - pad[2][0]) * c;
      for (let z = z0; z < z1; z++, w++) {
        const wt = weights[w];
        for (let ch = 0; ch < c; ch++) acc[dst++] += wt * values[src++];
      }
    }
  }
}

function accumulateWeights(count: Float32Array, start: Size3, roi: Size3, pad: [number, number][], image: Size3, weights: Float32Array): void {
  const [rx, ry, rz] = roi;
  const [ix, iy, iz] = image;
  for (let x = 0; x < rx; x++) {
    const gx = start[0] + x - pad[0][0];
    if (gx < 0 || gx >= ix) continue;
    for (let y = 0; y < ry; y++) {
      const gy = start[1] + y - pad[1][0];
      if (gy < 0 || gy >= iy) continue;
      const z0 = Math.max(0, pad[2][0] - start[2]);
      const z1 = Math.min(rz, iz + pad[2][0] - start[2]);
      let w = (x * ry + y) * rz + z0;
      let dst = (gx * iy + gy) * iz + start[2] + z0 - pad[2][0];
      for (let z = z0; z < z1; z++) count[dst++] += weights[w++];
    }
  }
}

/**
 * Pads the spatial axes of `[B, X, Y, Z, C]` like PyTorch's `F.pad`: `constant` (with `cval`),
 * `reflect` (mirror without repeating the edge), `replicate` (repeat the edge) or `circular`
 * (wrap around). Non-constant modes gather rows with computed indices, one axis at a time.
 */
export function padVolume(x: tf.Tensor5D, pad: readonly (readonly [number, number])[], mode: PaddingMode, cval = 0): tf.Tensor5D {
  if (mode === 'constant') {
    return tf.pad(x, [[0, 0], [pad[0][0], pad[0][1]], [pad[1][0], pad[1][1]], [pad[2][0], pad[2][1]], [0, 0]], cval);
  }
  const index = [0, 1, 2].map((a) => paddedSourceIndex(x.shape[a + 1], pad[a], mode));
  return tf.tidy(() => {
    let y: tf.Tensor = x;
    for (let axis = 0; axis < 3; axis++) {
      if (pad[axis][0] === 0 && pad[axis][1] === 0) continue;
      y = tf.gather(y, tf.tensor1d(index[axis], 'int32'), axis + 1);
    }
    return y as tf.Tensor5D;
  });
}

function sourceIndex(i: number, n: number, mode: 'reflect' | 'replicate' | 'circular'): number {
  if (mode === 'replicate') return Math.min(Math.max(i, 0), n - 1);
  if (mode === 'circular') return ((i % n) + n) % n;
  // reflect: … 2 1 | 0 1 2 … n−1 | n−2 n−3 …
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}
