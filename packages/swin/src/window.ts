/**
 * Window helpers of the 3-D Swin Transformer (SPEC.md §4.2–4.4): window sizes, partition and
 * reverse, the relative-position index, the shifted-window mask, and padding / cropping / cyclic
 * shifts of channels-last volumes.
 *
 * Every tensor step here has rank ≤ 6 (the webgpu limit), and slices are taken on rank-3 views:
 * slicing rank-5 tensors is ~60× slower on wasm (STACK.md).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** A size per spatial axis (D, H, W) = (X, Y, Z). */
export type Triple = readonly [number, number, number];

/**
 * MONAI's `get_window_size`: on every axis whose size is ≤ the window, the window shrinks to the
 * size and the shift becomes 0 (that axis only).
 */
export function getWindowSize(size: Triple, window: Triple, shift: Triple): { window: [number, number, number]; shift: [number, number, number] } {
  const w: [number, number, number] = [window[0], window[1], window[2]];
  const s: [number, number, number] = [shift[0], shift[1], shift[2]];
  for (let i = 0; i < 3; i++) {
    if (size[i] <= window[i]) {
      w[i] = size[i];
      s[i] = 0;
    }
  }
  return { window: w, shift: s };
}

/**
 * Splits `[B, D, H, W, C]` (sizes multiples of the window) into windows `[B·nD·nH·nW, wd·wh·ww, C]`:
 * window index batch-major then (nD, nH, nW) row-major; token index row-major (wd, wh, ww).
 * Two rank-≤5 transposes instead of PyTorch's rank-8 permute.
 */
export function windowPartition(x: tf.Tensor, window: Triple): tf.Tensor3D {
  const [b, d, h, w, c] = x.shape;
  const [wd, wh, ww] = window;
  if (d % wd || h % wh || w % ww) {
    throw new RangeError(`windowPartition: sizes [${d}, ${h}, ${w}] are not multiples of the window [${wd}, ${wh}, ${ww}]`);
  }
  const nD = d / wd;
  const nH = h / wh;
  const nW = w / ww;
  let y = tf.reshape(x, [b * nD * wd, nH, wh, nW, ww * c]);
  y = tf.transpose(y, [0, 1, 3, 2, 4]); // [B·nD·wd, nH, nW, wh, ww·C]
  y = tf.reshape(y, [b * nD, wd, nH * nW, wh * ww * c]);
  y = tf.transpose(y, [0, 2, 1, 3]); // [B·nD, nH·nW, wd, wh·ww·C]
  return tf.reshape(y, [b * nD * nH * nW, wd * wh * ww, c]) as tf.Tensor3D;
}

/** The inverse of {@link windowPartition}: `[B·nD·nH·nW, n, C]` → `[B, D, H, W, C]`. */
export function windowReverse(windows: tf.Tensor, window: Triple, batch: number, size: Triple): tf.Tensor5D {
  const [wd, wh, ww] = window;
  const [d, h, w] = size;
  const c = windows.shape[windows.rank - 1];
  const nD = d / wd;
  const nH = h / wh;
  const nW = w / ww;
  let y = tf.reshape(windows, [batch * nD, nH * nW, wd, wh * ww * c]);
  y = tf.transpose(y, [0, 2, 1, 3]); // [B·nD, wd, nH·nW, wh·ww·C]
  y = tf.reshape(y, [batch * nD * wd, nH, nW, wh, ww * c]);
  y = tf.transpose(y, [0, 1, 3, 2, 4]); // [B·nD·wd, nH, wh, nW, ww·C]
  return tf.reshape(y, [batch, d, h, w, c]) as tf.Tensor5D;
}

/** The rank-3 view `[outer, axisLength, inner]` of a channels-last volume around spatial axis `axis` (1…3). */
function viewAround(x: tf.Tensor, axis: number): [number, number, number] {
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return [outer, x.shape[axis], inner];
}

function withAxis(shape: readonly number[], axis: number, length: number): number[] {
  return shape.map((s, i) => (i === axis ? length : s));
}

/** Zero-pads the END of spatial axes 1…3 of `[B, D, H, W, C]` by `pads` (rank-3 steps). */
export function padEnd3d(x: tf.Tensor, pads: Triple): tf.Tensor {
  let y = x;
  for (let i = 0; i < 3; i++) {
    const p = pads[i];
    if (p <= 0) continue;
    const axis = i + 1;
    const [o, n, inner] = viewAround(y, axis);
    const padded = tf.pad(tf.reshape(y, [o, n, inner]), [
      [0, 0],
      [0, p],
      [0, 0],
    ]);
    y = tf.reshape(padded, withAxis(y.shape, axis, n + p));
  }
  return y;
}

/** Keeps the first `size[i]` entries of spatial axes 1…3 of `[B, D, H, W, C]` (rank-3 slices). */
export function cropEnd3d(x: tf.Tensor, size: Triple): tf.Tensor {
  let y = x;
  for (let i = 0; i < 3; i++) {
    const axis = i + 1;
    if (y.shape[axis] === size[i]) continue;
    const [o, , inner] = viewAround(y, axis);
    const cut = tf.slice(tf.reshape(y, [o, y.shape[axis], inner]), [0, 0, 0], [o, size[i], inner]);
    y = tf.reshape(cut, withAxis(y.shape, axis, size[i]));
  }
  return y;
}

/**
 * `torch.roll(x, shifts, dims=(1, 2, 3))` on `[B, D, H, W, C]`: `out[i] = x[(i − shift) mod n]`
 * per spatial axis, done as two slices and a concat on rank-3 views.
 */
export function rollSpatial(x: tf.Tensor, shifts: Triple): tf.Tensor {
  let y = x;
  for (let i = 0; i < 3; i++) {
    const axis = i + 1;
    const n = y.shape[axis];
    const s = ((shifts[i] % n) + n) % n;
    if (s === 0) continue;
    const [o, , inner] = viewAround(y, axis);
    const v = tf.reshape(y, [o, n, inner]);
    const head = tf.slice(v, [0, n - s, 0], [o, s, inner]);
    const tail = tf.slice(v, [0, 0, 0], [o, n - s, inner]);
    y = tf.reshape(tf.concat([head, tail], 1), y.shape);
  }
  return y;
}

/**
 * The relative-position index of a window `(wd, wh, ww)` (MONAI `WindowAttention`):
 * `index[i, j] = r_d·(2wh−1)(2ww−1) + r_h·(2ww−1) + r_w` with `r = coords(i) − coords(j) + (w − 1)`.
 * Returns `n × n` entries, row-major (n = wd·wh·ww).
 */
export function relativePositionIndex(window: Triple): Int32Array {
  const [wd, wh, ww] = window;
  const n = wd * wh * ww;
  const out = new Int32Array(n * n);
  const mh = 2 * wh - 1;
  const mw = 2 * ww - 1;
  for (let i = 0; i < n; i++) {
    const di = Math.floor(i / (wh * ww));
    const hi = Math.floor(i / ww) % wh;
    const wi = i % ww;
    for (let j = 0; j < n; j++) {
      const dj = Math.floor(j / (wh * ww));
      const hj = Math.floor(j / ww) % wh;
      const wj = j % ww;
      out[i * n + j] = (di - dj + wd - 1) * mh * mw + (hi - hj + wh - 1) * mw + (wi - wj + ww - 1);
    }
  }
  return out;
}

/**
 * The bias-table rows used for a window of `n` tokens — MONAI's QUIRK (SPEC.md §4.3): the top-left
 * `n × n` block of the index of the CONFIGURED window, even when the window shrank. `full` is
 * {@link relativePositionIndex} of the configured window (`N × N`).
 */
export function slicedPositionIndex(full: Int32Array, fullN: number, n: number): Int32Array {
  if (n > fullN) throw new RangeError(`slicedPositionIndex: a window of ${n} tokens exceeds the configured ${fullN}`);
  if (n === fullN) return full;
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++) out.set(full.subarray(i * fullN, i * fullN + n), i * n);
  return out;
}

/**
 * The shifted-window attention mask (MONAI `compute_mask`) on the padded grid `padded`:
 * region labels from three slices per axis, `[0, P−w)`, `[P−w, P−s)`, `[P−s, P)` (a zero shift
 * leaves one region on that axis, as Python's `slice(-0, None)` does), windows partitioned like
 * the tokens; `mask[k, i, j] = 0` when tokens i and j of window k share a label, else −100.
 *
 * @returns `{ data, shape: [nW, n, n] }`.
 */
export function computeShiftMask(padded: Triple, window: Triple, shift: Triple): { data: Float32Array; shape: [number, number, number] } {
  const [pd, ph, pw] = padded;
  const region = (p: number, axisLength: number, w: number, s: number): number => {
    // Python slices: slice(-w) = [0, P−w); slice(-w, -s); slice(-s, None). With s = 0 the last
    // slice is the whole axis and is applied last, so every position ends in region 2.
    if (s === 0) return 2;
    if (p < axisLength - w) return 0;
    if (p < axisLength - s) return 1;
    return 2;
  };
  const labels = new Int32Array(pd * ph * pw);
  for (let d = 0; d < pd; d++)
    for (let h = 0; h < ph; h++)
      for (let w = 0; w < pw; w++) {
        labels[(d * ph + h) * pw + w] = region(d, pd, window[0], shift[0]) * 9 + region(h, ph, window[1], shift[1]) * 3 + region(w, pw, window[2], shift[2]);
      }
  const [wd, wh, ww] = window;
  const nD = pd / wd;
  const nH = ph / wh;
  const nW = pw / ww;
  const n = wd * wh * ww;
  const count = nD * nH * nW;
  const data = new Float32Array(count * n * n);
  const tokenLabels = new Int32Array(n);
  for (let a = 0; a < nD; a++)
    for (let b = 0; b < nH; b++)
      for (let c = 0; c < nW; c++) {
        const k = (a * nH + b) * nW + c;
        let t = 0;
        for (let d = 0; d < wd; d++)
          for (let h = 0; h < wh; h++)
            for (let w = 0; w < ww; w++) tokenLabels[t++] = labels[((a * wd + d) * ph + (b * wh + h)) * pw + (c * ww + w)];
        const base = k * n * n;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (tokenLabels[i] !== tokenLabels[j]) data[base + i * n + j] = -100;
      }
  return { data, shape: [count, n, n] };
}

/**
 * Row indices that perform, as one gather each, the whole window move of a Swin block on a
 * `[B·D·H·W, C]` token matrix (SPEC.md §4.5):
 *
 * - `partition[r]`: for row r of the windows `[B·nWin·n, C]` (window-major as
 *   {@link windowPartition}), the source token of the zero-padded (at the END) and cyclically
 *   shifted (`torch.roll` by −shift) volume, or −1 for a padded (zero) token;
 * - `reverse[t]`: for token t of `[B·D·H·W]`, the window row that holds it after the reverse
 *   shift (+shift) and the crop.
 *
 * Equivalent to `padEnd3d → rollSpatial(−s) → windowPartition` and
 * `windowReverse → rollSpatial(+s) → cropEnd3d`.
 */
export function windowGatherIndex(batch: number, size: Triple, window: Triple, shift: Triple): { partition: Int32Array; reverse: Int32Array; padded: Triple } {
  const [d, h, w] = size;
  const [wd, wh, ww] = window;
  const padded: Triple = [Math.ceil(d / wd) * wd, Math.ceil(h / wh) * wh, Math.ceil(w / ww) * ww];
  const [pd, ph, pw] = padded;
  const nD = pd / wd;
  const nH = ph / wh;
  const nW = pw / ww;
  const n = wd * wh * ww;
  const perBatchWindows = nD * nH * nW;
  const tokens = d * h * w;
  const partition = new Int32Array(batch * perBatchWindows * n);
  const reverse = new Int32Array(batch * tokens);
  let r = 0;
  for (let b = 0; b < batch; b++)
    for (let a = 0; a < nD; a++)
      for (let bb = 0; bb < nH; bb++)
        for (let c = 0; c < nW; c++)
          for (let i = 0; i < wd; i++)
            for (let j = 0; j < wh; j++)
              for (let k = 0; k < ww; k++, r++) {
                // Position in the rolled padded grid, and where it came from before the roll.
                const qd = (a * wd + i + shift[0]) % pd;
                const qh = (bb * wh + j + shift[1]) % ph;
                const qw = (c * ww + k + shift[2]) % pw;
                if (qd < d && qh < h && qw < w) {
                  const t = ((qd * h + qh) * w + qw) + b * tokens;
                  partition[r] = t;
                  reverse[t] = r;
                } else {
                  partition[r] = -1;
                }
              }
  return { partition, reverse, padded };
}
