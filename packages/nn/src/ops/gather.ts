/**
 * Row gathers: the formulation of every data movement of the Swin blocks (window partition with
 * padding and cyclic shift, its reverse, position-bias lookup) as ONE rank-2 gather each.
 *
 * Why: on the `cpu` backend the strided slices, pads and transposes that express these moves
 * cost hundreds of ns per element (generic index arithmetic), and on webgpu rank > 6 is not
 * available. A precomputed index turns each move into a single `[rows, C]` gather; on `cpu` the
 * gather and its gradient (a scatter-add) run as plain row copies in JavaScript.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Backends that gather rows in JavaScript: on cpu tfjs' gather is slow, and on both cpu and wasm
 * the gradient of `tf.gather` (UnsortedSegmentSum, the cpu kernel on wasm) costs
 * O(rows × segments) — quadratic for a permutation of every token.
 */
const JS_GATHER_BACKENDS = new Set(['cpu', 'wasm']);

function jsGatherRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  const [rows, c] = x.shape;
  const run = tf.customGrad(((src: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const data = src.dataSync() as Float32Array;
    const out = new Float32Array(index.length * c);
    for (let r = 0; r < index.length; r++) {
      const s = index[r];
      if (s >= 0) out.set(data.subarray(s * c, s * c + c), r * c);
    }
    return {
      value: tf.tensor2d(out, [index.length, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const dx = new Float32Array(rows * c);
        for (let r = 0; r < index.length; r++) {
          const s = index[r];
          if (s < 0) continue;
          const o = s * c;
          const gi = r * c;
          for (let k = 0; k < c; k++) dx[o + k] += g[gi + k];
        }
        return [tf.tensor2d(dx, [rows, c])];
      },
    };
  }) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor[] }) as (s: tf.Tensor) => tf.Tensor2D;
  return run(x);
}

function tfGatherRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  const [rows, c] = x.shape;
  let hasZero = false;
  for (let i = 0; i < index.length; i++) if (index[i] < 0) hasZero = true;
  if (!hasZero) return tf.gather(x, tf.tensor1d(index, 'int32'));
  // Negative entries read an appended zero row.
  const fixed = Int32Array.from(index, (v) => (v < 0 ? rows : v));
  return tf.gather(tf.concat([x, tf.zeros([1, c])], 0), tf.tensor1d(fixed, 'int32')) as tf.Tensor2D;
}

/**
 * `out[r] = x[index[r]]` for a 2-D `x` `[rows, C]`, or zeros where `index[r] < 0`. Differentiable.
 * Plain JavaScript row copies on the `cpu` and `wasm` backends, `tf.gather` elsewhere.
 *
 * @throws RangeError for an index ≥ rows.
 */
export function gatherRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  if (x.rank !== 2) throw new RangeError(`gatherRows: expected a 2-D input [rows, C], found shape [${x.shape.join(', ')}]`);
  const rows = x.shape[0];
  for (let i = 0; i < index.length; i++) {
    if (index[i] >= rows) throw new RangeError(`gatherRows: index ${index[i]} at position ${i} is out of range for ${rows} rows`);
  }
  return JS_GATHER_BACKENDS.has(tf.getBackend()) ? jsGatherRows(x, index) : tfGatherRows(x, index);
}
