/**
 * Stateless building blocks (activations, normalisations, dropout) shared by the layer modules.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@swinmm/runtime';
import { jsInstanceNorm3d, jsLayerNorm } from './ops/norm-js.js';
import { jsGelu, jsLeakyRelu, jsLogSoftmax } from './ops/pointwise-js.js';

/** GELU with the exact erf form, as PyTorch's default `nn.GELU()`: `0.5·x·(1 + erf(x/√2))`. */
export function gelu(x: tf.Tensor): tf.Tensor {
  // On cpu one fused JavaScript pass replaces five elementwise kernels (ops/pointwise-js.ts).
  if (tf.getBackend() === 'cpu') return jsGelu(x);
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/**
 * `log softmax` over the last axis (PyTorch `F.log_softmax(x, dim=-1)`); on cpu one fused
 * JavaScript pass (ops/pointwise-js.ts), elsewhere `tf.logSoftmax`.
 */
export function logSoftmax(x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === 'cpu') return jsLogSoftmax(x);
  return tf.logSoftmax(x);
}

/** LeakyReLU with PyTorch's default slope 0.01 (MONAI's UNETR blocks use 0.01). */
export function leakyRelu(x: tf.Tensor, slope = 0.01): tf.Tensor {
  // On cpu the tfjs gradient is three elementwise kernels (greater, select, multiply).
  if (tf.getBackend() === 'cpu') return jsLeakyRelu(x, slope);
  return tf.leakyRelu(x, slope);
}

/**
 * Layer normalisation over the last axis (biased variance, `eps` inside the square root), with an
 * optional affine `gamma`/`beta` — PyTorch's `F.layer_norm(x, [C], gamma, beta, eps)`.
 */
export function layerNorm(x: tf.Tensor, gamma?: tf.Tensor, beta?: tf.Tensor, eps = 1e-5): tf.Tensor {
  // On cpu a fused JavaScript pass is ~20× faster than tfjs' broadcasting kernels (ops/norm-js.ts).
  if (tf.getBackend() === 'cpu' && Boolean(gamma) === Boolean(beta)) return jsLayerNorm(x, gamma, beta, eps);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y;
  });
}

/**
 * Instance normalisation without affine parameters on `[B, X, Y, Z, C]`: per sample and channel,
 * over the spatial axes, biased variance (PyTorch `InstanceNorm3d(affine=False)`, which keeps no
 * running statistics and so behaves the same in training and evaluation).
 */
export function instanceNorm3d(x: tf.Tensor, eps = 1e-5): tf.Tensor {
  if (x.rank !== 5) throw new RangeError(`instanceNorm3d: expected a rank-5 input [B, X, Y, Z, C], found shape [${x.shape.join(', ')}]`);
  // cpu: speed; wasm: its float32 reductions over a whole volume lose ~1e-3 of the gradient.
  if (tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm') return jsInstanceNorm3d(x, eps);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2, 3], true);
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  });
}

/**
 * Inverted dropout with probability `p`: zeroes elements with probability `p` and scales the rest
 * by `1/(1−p)`. The mask comes from `rng`, so the same seed drops the same elements on every backend.
 */
export function dropout(x: tf.Tensor, p: number, rng: Rng): tf.Tensor {
  if (p <= 0) return x;
  if (p >= 1) return tf.zerosLike(x);
  return tf.tidy(() => {
    const u = rng.uniformArray(x.size);
    const keep = new Float32Array(x.size);
    for (let i = 0; i < keep.length; i++) keep[i] = u[i] >= p ? 1 / (1 - p) : 0;
    return tf.mul(x, tf.tensor(keep, x.shape));
  });
}

/**
 * Stochastic depth (timm's `drop_path`): drops the whole residual branch of a sample with
 * probability `p` and scales kept samples by `1/(1−p)`. The per-sample draws come from `rng`.
 */
export function dropPath(x: tf.Tensor, p: number, rng: Rng): tf.Tensor {
  if (p <= 0) return x;
  return tf.tidy(() => {
    const b = x.shape[0];
    const keep = new Float32Array(b);
    for (let i = 0; i < b; i++) keep[i] = rng.uniform() >= p ? 1 / (1 - p) : 0;
    return tf.mul(x, tf.tensor(keep, [b, ...x.shape.slice(1).map(() => 1)]));
  });
}
