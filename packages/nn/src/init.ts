/**
 * PyTorch's default parameter initialisations, drawn from an explicit {@link Rng}.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@swinmm/runtime';

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A tensor of `shape` with values uniform in [−bound, bound). */
export function uniformInit(rng: Rng, shape: readonly number[], bound: number): tf.Tensor {
  return tf.tensor(rng.uniformArray(size(shape), -bound, bound), [...shape]);
}

/**
 * Truncated normal (timm's `trunc_normal_`): N(0, std²) redrawn outside [a, b] (default ±2,
 * absolute bounds as in timm, i.e. effectively untruncated for small std).
 */
export function truncNormalInit(rng: Rng, shape: readonly number[], std: number, a = -2, b = 2): tf.Tensor {
  const out = new Float32Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    let v: number;
    do v = rng.normal(0, std);
    while (v < a || v > b);
    out[i] = v;
  }
  return tf.tensor(out, [...shape]);
}

/**
 * The bound of PyTorch's default weight and bias initialisation for Linear / Conv layers:
 * `kaiming_uniform_(a=√5)` gives U(±1/√fan_in), and the bias U(±1/√fan_in). `fanIn` is
 * `weight.size(1) · receptive field` of the PyTorch weight — for ConvTranspose3d that is the
 * OUTPUT channel count times k³ (PyTorch's convention, kept for fidelity).
 */
export function defaultInitBound(fanIn: number): number {
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}
