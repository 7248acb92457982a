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
import { implementationFor } from './registry.js';

/** Options of {@link conv3d}. */
export interface Conv3dOptions {
  /** Stride on every spatial axis (default 1). */
  stride?: number;
  /** Zero padding on every side of every spatial axis (default 0). */
  padding?: number;
}

/** The signature of a conv3d implementation (see {@link conv3d}). */
export type Conv3dImplementation = (x: tf.Tensor5D, w: tf.Tensor5D, b: tf.Tensor1D | undefined, stride: number, padding: number) => tf.Tensor5D;

/**
 * Groups 2×2×2 neighbourhoods into channels: `[B, X, Y, Z, C]` → `[B, X/2, Y/2, Z/2, 8C]` with the
 * channel index `((a·2 + b)·2 + c)·C + ch` for offsets (a, b, c) along (X, Y, Z) — the flattening
 * of a conv3d filter `[2, 2, 2, C, out]`. Sizes must be even.
 */
export function spaceToDepth2(x: tf.Tensor5D): tf.Tensor5D {
  const [b, X, Y, Z, c] = x.shape;
  if (X % 2 || Y % 2 || Z % 2) throw new RangeError(`spaceToDepth2: expected even spatial sizes, found [${x.shape.join(', ')}]`);
  const r = tf.reshape(x, [b * (X / 2), 2, Y / 2, 2, Z / 2, 2 * c]);
  const t = tf.transpose(r, [0, 2, 4, 1, 3, 5]);
  return tf.reshape(t, [b, X / 2, Y / 2, Z / 2, 8 * c]);
}

/** The inverse of {@link spaceToDepth2}: `[B, X, Y, Z, 8C]` → `[B, 2X, 2Y, 2Z, C]`. */
export function depthToSpace2(x: tf.Tensor5D): tf.Tensor5D {
  const [b, X, Y, Z, c8] = x.shape;
  if (c8 % 8) throw new RangeError(`depthToSpace2: expected channels divisible by 8, found [${x.shape.join(', ')}]`);
  const c = c8 / 8;
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
