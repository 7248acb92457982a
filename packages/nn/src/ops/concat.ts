/**
 * Concatenation along the last (channel) axis.
 *
 * Why: the gradient of `tf.concat` is a split, which on the `cpu` backend slices element by
 * element (36 s for one `[1, 64, 32, 64, 24]` split in a training step) and on wasm slices rank-5
 * tensors slowly; here both directions are row-interleaving copies in JavaScript.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

const JS_CONCAT_BACKENDS = new Set(['cpu', 'wasm']);

function jsConcatLast(xs: tf.Tensor[]): tf.Tensor {
  const widths = xs.map((t) => t.shape[t.rank - 1]);
  const total = widths.reduce((a, b) => a + b, 0);
  const rows = xs[0].size / widths[0];
  const shape = [...xs[0].shape.slice(0, -1), total];
  const f = ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, xs.length) as tf.Tensor[];
    (args[xs.length] as tf.GradSaveFunc)([]);
    const out = new Float32Array(rows * total);
    let offset = 0;
    inputs.forEach((t, i) => {
      const d = t.dataSync() as Float32Array;
      const w = widths[i];
      for (let r = 0; r < rows; r++) out.set(d.subarray(r * w, r * w + w), r * total + offset);
      offset += w;
    });
    return {
      value: tf.tensor(out, shape),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        let o = 0;
        return inputs.map((t, i) => {
          const w = widths[i];
          const part = new Float32Array(rows * w);
          for (let r = 0; r < rows; r++) part.set(g.subarray(r * total + o, r * total + o + w), r * w);
          o += w;
          return tf.tensor(part, t.shape);
        });
      },
    };
  }) as unknown;
  return (tf.customGrad(f as never) as unknown as (...t: tf.Tensor[]) => tf.Tensor)(...xs);
}

/**
 * `tf.concat(xs, -1)` for float32 tensors of equal leading shape; JavaScript copies on `cpu` and
 * `wasm`, `tf.concat` elsewhere.
 *
 * @throws RangeError when the leading shapes differ.
 */
export function concatChannels(xs: tf.Tensor[]): tf.Tensor {
  const lead = xs[0].shape.slice(0, -1);
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.slice(0, -1).some((s, i) => s !== lead[i])) {
      throw new RangeError(`concatChannels: every input needs the leading shape [${lead.join(', ')}], found [${t.shape.join(', ')}]`);
    }
  }
  return JS_CONCAT_BACKENDS.has(tf.getBackend()) ? jsConcatLast(xs) : tf.concat(xs, -1);
}
