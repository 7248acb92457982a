/**
 * The linear-layer formulation: `y = x · W + b` over the last axis.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { implementationFor } from './registry.js';
import { addTransposedProduct, gemm, gemmEngine, transposeRows } from './gemm.js';

/** Rows per partial product of a weight gradient (see {@link weightGradient}). */
const GRADIENT_CHUNK_ROWS = 8192;

/**
 * `xᵀ · dy` summed over all N rows. For large N it is summed per chunk of rows and the partials
 * are added: backends that accumulate a long dot product in float32 (wasm's XNNPACK) lose ~1e-3
 * relative precision over a 64×32×64 volume (measured on the 1×1×1 convolution of encoder1),
 * while chunked sums stay near 1e-6.
 */
function weightGradient(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  if (n <= 2 * GRADIENT_CHUNK_ROWS) return tf.matMul(tf.transpose(x), dy);
  const partials: tf.Tensor2D[] = [];
  for (let start = 0; start < n; start += GRADIENT_CHUNK_ROWS) {
    const rows = Math.min(GRADIENT_CHUNK_ROWS, n - start);
    const xc = tf.slice(x, [start, 0], [rows, x.shape[1]]);
    const dc = tf.slice(dy, [start, 0], [rows, dy.shape[1]]);
    partials.push(tf.matMul(tf.transpose(xc), dc));
  }
  return tf.addN(partials);
}

/**
 * `x · w` for 2-D `x` `[N, in]` and `w` `[in, out]`, with a gradient written as plain 2-D
 * matMuls on explicitly transposed operands. Why: on wasm only `matMul(a, b)` without transpose
 * flags takes the fast path (STACK.md; the flagged forms are 10–50× slower), and tfjs' own
 * MatMul gradient uses the flags.
 */
const matMulPlainGrad = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      // On cpu the transpose kernel is the slow part (~1 µs per element), and its matMul handles
      // the flags at full speed; elsewhere transpose explicitly so matMul stays on its fast path.
      if (tf.getBackend() === 'cpu') return [tf.matMul(dy2, ws, false, true), tf.matMul(xs, dy2, true, false)];
      return [tf.matMul(dy2, tf.transpose(ws)), weightGradient(xs, dy2)];
    },
  };
}) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }) as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
) => tf.Tensor2D;

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/**
 * `x · w (+ b)` through {@link gemm} (XNNPACK called from the cpu backend), with its gradients: the
 * cpu backend's own matMul runs at ~0.5 GFLOP/s, and its bias gradient (a column sum) transposes
 * first. The weight gradient `xᵀ · dy` is summed in float64 blocks ({@link addTransposedProduct}),
 * the bias gradient (only when there is a bias) in float64.
 */
function gemmLinear(x: tf.Tensor2D, w: tf.Tensor2D, bias: Float32Array | null, save: tf.GradSaveFunc): { value: tf.Tensor; gradFunc: GradFunc } {
  save([x, w]);
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  const y = gemm(x.dataSync() as Float32Array, w.dataSync() as Float32Array, n, inF, outF);
  if (bias) for (let r = 0; r < n; r++) for (let j = 0; j < outF; j++) y[r * outF + j] += bias[j];
  return {
    value: tf.tensor2d(y, [n, outF]),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved;
      const dyData = dy.dataSync() as Float32Array;
      const wT = transposeRows(ws.dataSync() as Float32Array, outF, 0, inF, new Float32Array(inF * outF));
      const dx = gemm(dyData, wT, n, outF, inF);
      const sum = new Float64Array(inF * outF);
      addTransposedProduct(sum, xs.dataSync() as Float32Array, dyData, n, inF, outF);
      const grads: tf.Tensor[] = [tf.tensor2d(dx, [n, inF]), tf.tensor2d(Float32Array.from(sum), [inF, outF])];
      if (bias) {
        const db = new Float64Array(outF);
        for (let r = 0; r < n; r++) for (let j = 0; j < outF; j++) db[j] += dyData[r * outF + j];
        grads.push(tf.tensor1d(Float32Array.from(db)));
      }
      return grads;
    },
  };
}

type CustomGradBody = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: GradFunc };

const linearViaGemm = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) =>
  gemmLinear(x, w, b.dataSync() as Float32Array, save)) as unknown as CustomGradBody) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

const linearViaGemmNoBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => gemmLinear(x, w, null, save)) as unknown as CustomGradBody) as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
) => tf.Tensor2D;

/** The signature of a linear implementation: `x` `[..., in]`, `w` `[in, out]`, optional `b` `[out]`. */
export type LinearImplementation = (x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D) => tf.Tensor;

function defaultLinear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const [inF, outF] = w.shape;
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inF]) as tf.Tensor2D;
  let y: tf.Tensor;
  if (tf.getBackend() === 'cpu' && gemmEngine() === 'wasm') {
    y = b ? linearViaGemm(x2, w, b) : linearViaGemmNoBias(x2, w);
  } else {
    y = matMulPlainGrad(x2, w);
    if (b) y = tf.add(y, b);
  }
  return x.rank === 2 ? y : tf.reshape(y, [...lead, outF]);
}

/**
 * `y = x · w + b` over the last axis of `x` (any rank ≥ 2). `w` is `[in, out]` (our layout; PyTorch
 * stores `[out, in]`). Dispatches to the implementation registered for the current backend.
 *
 * @throws RangeError when the last axis of `x` is not `in`.
 */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inF = w.shape[0];
  if (x.shape[x.rank - 1] !== inF) {
    throw new RangeError(`linear: expected the last axis of the input to be ${inF}, found shape [${x.shape.join(', ')}]`);
  }
  return implementationFor<LinearImplementation>('linear', defaultLinear)(x, w, b);
}
