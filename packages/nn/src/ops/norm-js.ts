/**
 * Layer and instance normalisation as JavaScript loops with hand-written gradients, used on the
 * `cpu` backend. Why: tfjs' cpu kernels for the broadcast subtract/multiply inside `tf.moments`
 * normalisation cost ~0.5 µs per element (generic index arithmetic), which made the norms a large
 * share of the model's time; one fused pass per row is ~20× cheaper. Statistics accumulate in
 * float64.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

// Math builtins are bound once: under jest's vm context every `Math.x` lookup inside a hot loop
// goes through the sandbox global (measured 12× slower for exp, 45× for imul).
const sqrt = Math.sqrt;

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
type Custom = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: GradFn };

/**
 * Normalises groups of `count` elements spaced `stride` apart. Group g of `groups` starts at
 * `start(g)`. Layer norm: groups = rows, count = C, stride 1. Instance norm: groups = B·C,
 * count = spatial size, stride C.
 */
interface Grouping {
  groups: number;
  count: number;
  stride: number;
  start: (g: number) => number;
  /** The affine channel of group g's elements (layer norm: per element index; instance norm: none). */
}

function normalise(x: Float32Array, grouping: Grouping, eps: number, xhat: Float32Array, rstd: Float64Array): void {
  const { groups, count, stride, start } = grouping;
  for (let g = 0; g < groups; g++) {
    const s0 = start(g);
    let mean = 0;
    for (let k = 0, o = s0; k < count; k++, o += stride) mean += x[o];
    mean /= count;
    let v = 0;
    for (let k = 0, o = s0; k < count; k++, o += stride) {
      const dd = x[o] - mean;
      v += dd * dd;
    }
    const r = 1 / sqrt(v / count + eps);
    rstd[g] = r;
    for (let k = 0, o = s0; k < count; k++, o += stride) xhat[o] = (x[o] - mean) * r;
  }
}

/** d/dx of the normalisation, given the gradient w.r.t. x̂ (`dxhat`). */
function normaliseBackward(dxhat: Float32Array, xhat: Float32Array, rstd: Float64Array, grouping: Grouping, dx: Float32Array): void {
  const { groups, count, stride, start } = grouping;
  for (let g = 0; g < groups; g++) {
    const s0 = start(g);
    let m1 = 0;
    let m2 = 0;
    for (let k = 0, o = s0; k < count; k++, o += stride) {
      m1 += dxhat[o];
      m2 += dxhat[o] * xhat[o];
    }
    m1 /= count;
    m2 /= count;
    const r = rstd[g];
    for (let k = 0, o = s0; k < count; k++, o += stride) dx[o] = r * (dxhat[o] - m1 - xhat[o] * m2);
  }
}

/** Layer norm over the last axis with optional affine, in JavaScript (see the module comment). */
export function jsLayerNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): tf.Tensor {
  const c = x.shape[x.rank - 1];
  const rows = x.size / c;
  const grouping: Grouping = { groups: rows, count: c, stride: 1, start: (g) => g * c };
  const affine = Boolean(gamma && beta);
  const f = ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args[0] as tf.Tensor;
    const data = xs.dataSync() as Float32Array;
    const xhat = new Float32Array(data.length);
    const rstd = new Float64Array(rows);
    normalise(data, grouping, eps, xhat, rstd);
    let out = xhat;
    let gData: Float32Array | null = null;
    if (affine) {
      gData = (args[1] as tf.Tensor).dataSync() as Float32Array;
      const bData = (args[2] as tf.Tensor).dataSync() as Float32Array;
      out = new Float32Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const k = i % c;
        out[i] = xhat[i] * gData[k] + bData[k];
      }
    }
    (args[args.length - 1] as tf.GradSaveFunc)([]);
    return {
      value: tf.tensor(out, xs.shape),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        let dxhat = g;
        const grads: tf.Tensor[] = [];
        let dGamma: Float32Array | null = null;
        let dBeta: Float32Array | null = null;
        if (gData) {
          dxhat = new Float32Array(g.length);
          dGamma = new Float32Array(c);
          dBeta = new Float32Array(c);
          const dG = new Float64Array(c);
          const dB = new Float64Array(c);
          for (let i = 0; i < g.length; i++) {
            const k = i % c;
            dxhat[i] = g[i] * gData[k];
            dG[k] += g[i] * xhat[i];
            dB[k] += g[i];
          }
          dGamma.set(dG);
          dBeta.set(dB);
        }
        const dx = new Float32Array(g.length);
        normaliseBackward(dxhat, xhat, rstd, grouping, dx);
        grads.push(tf.tensor(dx, xs.shape));
        if (dGamma && dBeta) grads.push(tf.tensor1d(dGamma), tf.tensor1d(dBeta));
        return grads;
      },
    };
  }) as unknown as Custom;
  const run = tf.customGrad(f as never) as unknown as (...t: tf.Tensor[]) => tf.Tensor;
  return affine ? run(x, gamma as tf.Tensor, beta as tf.Tensor) : run(x);
}

/** Instance norm (no affine) of `[B, X, Y, Z, C]` over the spatial axes, in JavaScript. */
export function jsInstanceNorm3d(x: tf.Tensor, eps: number): tf.Tensor {
  const [b, X, Y, Z, c] = x.shape;
  const spatial = X * Y * Z;
  const grouping: Grouping = { groups: b * c, count: spatial, stride: c, start: (g) => Math.floor(g / c) * spatial * c + (g % c) };
  const f = ((xs: tf.Tensor, save: tf.GradSaveFunc) => {
    const data = xs.dataSync() as Float32Array;
    const xhat = new Float32Array(data.length);
    const rstd = new Float64Array(b * c);
    normalise(data, grouping, eps, xhat, rstd);
    save([]);
    return {
      value: tf.tensor(xhat, xs.shape),
      gradFunc: (dy: tf.Tensor) => {
        const dx = new Float32Array(xhat.length);
        normaliseBackward(dy.dataSync() as Float32Array, xhat, rstd, grouping, dx);
        return [tf.tensor(dx, xs.shape)];
      },
    };
  }) as unknown as Custom;
  return (tf.customGrad(f as never) as unknown as (t: tf.Tensor) => tf.Tensor)(x);
}
