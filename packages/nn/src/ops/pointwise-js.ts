/**
 * GELU, log-softmax and LeakyReLU as single JavaScript loops with hand-written gradients, the built-ins of the
 * `cpu` and `wasm` backends.
 *
 * Why: on the `cpu` backend each elementwise tfjs kernel costs tens of nanoseconds per element,
 * and those that broadcast (a scalar, or a `[N, 1]` row statistic against `[N, C]`) go through
 * generic index arithmetic at ~0.5 µs per element. The exact GELU is five such kernels forward and
 * more backward; `tf.logSoftmax` is four, over every voxel and class of the segmentation logits,
 * several times per loss. One fused pass each removes most of the non-convolution time of a
 * fine-tuning step. Arithmetic is in float64; results equal the tfjs formulations to float32
 * rounding.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

// Math builtins are bound once: under jest's vm context every `Math.x` lookup inside a hot loop
// goes through the sandbox global.
const exp = Math.exp;
const mathLog = Math.log;
const abs = Math.abs;

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] | tf.Tensor;
type Custom = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: GradFn };

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the approximation tfjs' own Erf kernels use,
// so that the fused GELU gives the values of the tfjs formulation.
const ERF_P = 0.3275911;
const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;

function erf(x: number): number {
  const v = abs(x);
  const t = 1 / (1 + ERF_P * v);
  const poly = t * (ERF_A[0] + t * (ERF_A[1] + t * (ERF_A[2] + t * (ERF_A[3] + t * ERF_A[4]))));
  const y = 1 - poly * exp(-v * v);
  return x < 0 ? -y : y;
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * An elementwise function with its derivative, as one JavaScript pass each way: `value(v)` per
 * element forward, `dy · derivative(v)` backward (v the saved input).
 */
function elementwise(x: tf.Tensor, value: (v: number) => number, derivative: (v: number) => number): tf.Tensor {
  const run = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    const xs = input.dataSync() as Float32Array;
    const out = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = value(xs[i]);
    return {
      value: tf.tensor(out, input.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xv = saved[0].dataSync() as Float32Array;
        const g = dy.dataSync() as Float32Array;
        const dx = new Float32Array(xv.length);
        for (let i = 0; i < xv.length; i++) dx[i] = g[i] * derivative(xv[i]);
        return [tf.tensor(dx, saved[0].shape)];
      },
    };
  }) as unknown as Custom) as unknown as (a: tf.Tensor) => tf.Tensor;
  return run(x);
}

const geluValue = (v: number): number => v * 0.5 * (1 + erf(v * INV_SQRT2));
const geluDerivative = (v: number): number => 0.5 * (1 + erf(v * INV_SQRT2)) + v * INV_SQRT_2PI * exp(-0.5 * v * v);

/** The exact (erf) GELU, `x·½(1 + erf(x/√2))`, with derivative `½(1 + erf(x/√2)) + x·φ(x)`. */
export function jsGelu(x: tf.Tensor): tf.Tensor {
  return elementwise(x, geluValue, geluDerivative);
}

/**
 * `log softmax` over the last axis: `x − max − log Σ exp(x − max)` per row, with gradient
 * `dy − softmax(x)·Σ dy` per row.
 */
export function jsLogSoftmax(x: tf.Tensor): tf.Tensor {
  const c = x.shape[x.rank - 1];
  const run = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const xs = input.dataSync() as Float32Array;
    const out = new Float32Array(xs.length);
    for (let r = 0; r < xs.length; r += c) {
      let m = -Infinity;
      for (let j = 0; j < c; j++) if (xs[r + j] > m) m = xs[r + j];
      let s = 0;
      for (let j = 0; j < c; j++) s += exp(xs[r + j] - m);
      const shift = m + mathLog(s);
      for (let j = 0; j < c; j++) out[r + j] = xs[r + j] - shift;
    }
    const value = tf.tensor(out, input.shape);
    save([value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const logp = saved[0].dataSync() as Float32Array;
        const g = dy.dataSync() as Float32Array;
        const dx = new Float32Array(logp.length);
        for (let r = 0; r < logp.length; r += c) {
          let s = 0;
          for (let j = 0; j < c; j++) s += g[r + j];
          for (let j = 0; j < c; j++) dx[r + j] = g[r + j] - exp(logp[r + j]) * s;
        }
        return [tf.tensor(dx, saved[0].shape)];
      },
    };
  }) as unknown as Custom) as unknown as (a: tf.Tensor) => tf.Tensor;
  return run(x);
}

/** LeakyReLU `x > 0 ? x : slope·x`, with gradient `dy·(x > 0 ? 1 : slope)`. */
export function jsLeakyRelu(x: tf.Tensor, slope: number): tf.Tensor {
  return elementwise(
    x,
    (v) => (v > 0 ? v : slope * v),
    (v) => (v > 0 ? 1 : slope),
  );
}
