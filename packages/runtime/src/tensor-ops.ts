/**
 * Small tensor operations that TensorFlow.js lacks and that several packages need. Each is
 * written from differentiable tfjs primitives, so gradients come for free, and keeps every
 * intermediate at the input's rank (the webgpu backend supports rank ≤ 6).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

function normaliseAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new RangeError(`axis ${axis} is out of range for a rank-${rank} tensor`);
  }
  return a;
}

/**
 * Circularly shifts `x` along `axes`, like `torch.roll` / `numpy.roll`: `out[i] = x[(i − shift) mod n]`
 * along each axis. Positive shifts move elements towards higher indices.
 *
 * @example
 * ```ts
 * roll(tf.tensor1d([0, 1, 2, 3]), [1], [0]); // [3, 0, 1, 2]
 * ```
 */
export function roll<T extends tf.Tensor>(x: T, shifts: readonly number[], axes: readonly number[]): T {
  if (shifts.length !== axes.length) {
    throw new RangeError(`roll: ${shifts.length} shifts but ${axes.length} axes`);
  }
  return tf.tidy(() => {
    let y: tf.Tensor = x;
    shifts.forEach((shift, i) => {
      const axis = normaliseAxis(axes[i], x.rank);
      const n = x.shape[axis];
      const s = ((shift % n) + n) % n;
      if (s === 0) return;
      const head = tf.slice(y, Array(x.rank).fill(0).map((_, d) => (d === axis ? n - s : 0)), y.shape.map((len, d) => (d === axis ? s : len)));
      const tail = tf.slice(y, Array(x.rank).fill(0), y.shape.map((len, d) => (d === axis ? n - s : len)));
      y = tf.concat([head, tail], axis);
    });
    return y === x ? (tf.clone(x) as T) : (y as T);
  });
}

/**
 * Throws if `x` holds a NaN or an infinity, naming `what` (e.g. a file or a parameter).
 * Reads the data back, so use it at boundaries, not in hot loops.
 */
export function assertFinite(x: tf.Tensor, what: string): void {
  const values = x.dataSync();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new RangeError(`${what}: expected finite values, found ${values[i]} at flat index ${i} of shape [${x.shape.join(', ')}]`);
    }
  }
}
