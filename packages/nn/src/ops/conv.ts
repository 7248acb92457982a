/**
 * 3-D convolution formulations on channels-last tensors `[B, X, Y, Z, C]`.
 *
 * Kernel 1 and kernel 2 / stride 2 convolutions are matMuls after a reshape (exact, and the
 * fastest form on every backend); other convolutions go through tfjs `conv3d`. The transposed
 * k2 s2 convolution is a matMul followed by a depth-to-space reshuffle: tfjs' conv3dTranspose
 * has no gradient. Every intermediate has rank ≤ 6 (the webgpu limit).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { linear } from './linear.js';
import { gatherRows } from './gather.js';
import { implementationFor } from './registry.js';
import { jsConv3dSame } from './conv-js.js';

/** Backends whose built-in "same" stride-1 convolution is the JavaScript kernel (conv-js.ts). */
const JS_CONV_BACKENDS = new Set(['cpu', 'wasm']);

/** Options of {@link conv3d}. */
export interface Conv3dOptions {
  /** Stride on every spatial axis (default 1). */
  stride?: number;
  /** Zero padding on every side of every spatial axis (default 0). */
  padding?: number;
}

/** The signature of a conv3d implementation (see {@link conv3d}). */
export type Conv3dImplementation = (x: tf.Tensor5D, w: tf.Tensor5D, b: tf.Tensor1D | undefined, stride: number, padding: number) => tf.Tensor5D;

const blockIndexCache = new Map<string, Int32Array>();
const IDENTITY8: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];
/** Backends where block moves are row gathers (cheaper than their transposes and gather gradients). */
const ROW_GATHER_BACKENDS = new Set(['cpu', 'wasm']);

/**
 * Row permutations between the fine grid `[B, 2X, 2Y, 2Z]` (rows of C) and the blocked layout
 * `[B, X, Y, Z, 2, 2, 2]` (rows of C): `'toDepth'` lists, for each blocked row, its fine row;
 * `'toSpace'` the inverse.
 */
function blockIndex(b: number, X: number, Y: number, Z: number, direction: 'toDepth' | 'toSpace', order: readonly number[] = IDENTITY8): Int32Array {
  const key = `${direction}/${b}/${X}/${Y}/${Z}/${order.join('')}`;
  let idx = blockIndexCache.get(key);
  if (idx) return idx;
  idx = new Int32Array(b * X * Y * Z * 8);
  let r = 0;
  for (let n = 0; n < b; n++)
    for (let x = 0; x < X; x++)
      for (let y = 0; y < Y; y++)
        for (let z = 0; z < Z; z++)
          for (let slot = 0; slot < 8; slot++, r++) {
            const k = order[slot];
            const fine = ((n * 2 * X + 2 * x + (k >> 2)) * 2 * Y + 2 * y + ((k >> 1) & 1)) * 2 * Z + 2 * z + (k & 1);
            if (direction === 'toDepth') idx[r] = fine;
            else idx[fine] = r;
          }
  if (blockIndexCache.size > 64) blockIndexCache.clear();
  blockIndexCache.set(key, idx);
  return idx;
}

/**
 * Groups 2×2×2 neighbourhoods into channels: `[B, X, Y, Z, C]` → `[B, X/2, Y/2, Z/2, 8C]` with the
 * channel index `((a·2 + b)·2 + c)·C + ch` for offsets (a, b, c) along (X, Y, Z) — the flattening
 * of a conv3d filter `[2, 2, 2, C, out]`. Sizes must be even. `order` picks which neighbour
 * (k = 4a + 2b + c) fills each of the 8 slots (default k = slot; patch merging uses its own orders,
 * duplicates allowed).
 */
export function spaceToDepth2(x: tf.Tensor5D, order: readonly number[] = IDENTITY8): tf.Tensor5D {
  const [b, X, Y, Z, c] = x.shape;
  if (X % 2 || Y % 2 || Z % 2) throw new RangeError(`spaceToDepth2: expected even spatial sizes, found [${x.shape.join(', ')}]`);
  if (ROW_GATHER_BACKENDS.has(tf.getBackend())) {
    // tfjs' cpu transpose costs ~1 µs per element at rank 6; a row gather copies C floats at once.
    const out = tf.reshape(gatherRows(tf.reshape(x, [-1, c]) as tf.Tensor2D, blockIndex(b, X / 2, Y / 2, Z / 2, 'toDepth', order)), [b, X / 2, Y / 2, Z / 2, 8 * c]);
    return out as tf.Tensor5D;
  }
  const r = tf.reshape(x, [b * (X / 2), 2, Y / 2, 2, Z / 2, 2 * c]);
  const t = tf.transpose(r, [0, 2, 4, 1, 3, 5]);
  if (order.every((k, i) => k === i)) return tf.reshape(t, [b, X / 2, Y / 2, Z / 2, 8 * c]);
  const picked = tf.gather(tf.reshape(t, [-1, 8, c]), tf.tensor1d(order as number[], 'int32'), 1);
  return tf.reshape(picked, [b, X / 2, Y / 2, Z / 2, 8 * c]);
}

/** The inverse of {@link spaceToDepth2}: `[B, X, Y, Z, 8C]` → `[B, 2X, 2Y, 2Z, C]`. */
export function depthToSpace2(x: tf.Tensor5D): tf.Tensor5D {
  const [b, X, Y, Z, c8] = x.shape;
  if (c8 % 8) throw new RangeError(`depthToSpace2: expected channels divisible by 8, found [${x.shape.join(', ')}]`);
  const c = c8 / 8;
  if (ROW_GATHER_BACKENDS.has(tf.getBackend())) {
    return tf.reshape(gatherRows(tf.reshape(x, [-1, c]) as tf.Tensor2D, blockIndex(b, X, Y, Z, 'toSpace')), [b, 2 * X, 2 * Y, 2 * Z, c]) as tf.Tensor5D;
  }
  const r = tf.reshape(x, [b * X, Y, Z, 2, 2, 2 * c]);
  const t = tf.transpose(r, [0, 3, 1, 4, 2, 5]);
  return tf.reshape(t, [b, 2 * X, 2 * Y, 2 * Z, c]);
}

function defaultConv3d(x: tf.Tensor5D, w: tf.Tensor5D, b: tf.Tensor1D | undefined, stride: number, padding: number): tf.Tensor5D {
  const [k0, k1, k2, cin, cout] = w.shape;
  if (k0 === 1 && k1 === 1 && k2 === 1 && stride === 1 && padding === 0) {
    return linear(x, tf.reshape(w, [cin, cout]) as tf.Tensor2D, b) as tf.Tensor5D;
  }
  if (k0 === 2 && k1 === 2 && k2 === 2 && stride === 2 && padding === 0) {
    return linear(spaceToDepth2(x), tf.reshape(w, [8 * cin, cout]) as tf.Tensor2D, b) as tf.Tensor5D;
  }
  if (stride === 1 && k0 === k1 && k1 === k2 && k0 % 2 === 1 && padding === (k0 - 1) / 2 && JS_CONV_BACKENDS.has(tf.getBackend())) {
    const y = jsConv3dSame(x, w);
    return b ? tf.add(y, b) : y;
  }
  const xp =
    padding > 0
      ? tf.pad(x, [
          [0, 0],
          [padding, padding],
          [padding, padding],
          [padding, padding],
          [0, 0],
        ])
      : x;
  let y: tf.Tensor5D = tf.conv3d(xp, w, stride, 'valid');
  if (b) y = tf.add(y, b);
  return y;
}

/**
 * A 3-D convolution on `[B, X, Y, Z, Cin]` with filter `w` `[kd, kh, kw, Cin, Cout]` (PyTorch's
 * cross-correlation with symmetric zero padding). Dispatches to the implementation registered for
 * the current backend.
 *
 * @throws RangeError when the channel counts do not match.
 */
export function conv3d(x: tf.Tensor5D, w: tf.Tensor5D, b?: tf.Tensor1D, options: Conv3dOptions = {}): tf.Tensor5D {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  if (x.rank !== 5) throw new RangeError(`conv3d: expected a rank-5 input [B, X, Y, Z, C], found shape [${x.shape.join(', ')}]`);
  if (x.shape[4] !== w.shape[3]) {
    throw new RangeError(`conv3d: the filter expects ${w.shape[3]} input channels, found input shape [${x.shape.join(', ')}]`);
  }
  return implementationFor<Conv3dImplementation>('conv3d', defaultConv3d)(x, w, b, stride, padding);
}

/**
 * The transposed convolution with kernel 2 and stride 2 (PyTorch `ConvTranspose3d(k=2, s=2)`), as
 * a matMul `[Cin → 8·Cout]` plus depth-to-space. Exact, and differentiable (tfjs' conv3dTranspose
 * has no gradient). `w` is `[2, 2, 2, Cout, Cin]` (the tfjs conv3dTranspose filter layout).
 */
export function convTranspose3dK2S2(x: tf.Tensor5D, w: tf.Tensor5D, b?: tf.Tensor1D): tf.Tensor5D {
  const [k0, k1, k2, cout, cin] = w.shape;
  if (k0 !== 2 || k1 !== 2 || k2 !== 2) throw new RangeError(`convTranspose3dK2S2: expected a [2, 2, 2, out, in] filter, found [${w.shape.join(', ')}]`);
  if (x.rank !== 5 || x.shape[4] !== cin) {
    throw new RangeError(`convTranspose3dK2S2: expected an input [B, X, Y, Z, ${cin}], found shape [${x.shape.join(', ')}]`);
  }
  // [kd, kh, kw, out, in] → [in, kd, kh, kw, out] → [in, 8·out]: column ((a·2+b)·2+c)·out + o.
  const wm = tf.reshape(tf.transpose(w, [4, 0, 1, 2, 3]), [cin, 8 * cout]) as tf.Tensor2D;
  let y = depthToSpace2(linear(x, wm) as tf.Tensor5D);
  if (b) y = tf.add(y, b);
  return y;
}
