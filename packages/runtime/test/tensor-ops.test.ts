import * as tf from '@tensorflow/tfjs';
import { assertFinite, initBackend, roll } from '../src/index.js';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('roll', () => {
  it('matches numpy.roll on several axes, with negative and oversized shifts', () => {
    const x = tf.range(0, 24).reshape([2, 3, 4]);
    const y = roll(x, [1, -1, 5], [0, 1, 2]);
    // numpy.roll(np.arange(24).reshape(2,3,4), (1,-1,5), axis=(0,1,2))
    const expected = [
      [[19, 16, 17, 18], [23, 20, 21, 22], [15, 12, 13, 14]],
      [[7, 4, 5, 6], [11, 8, 9, 10], [3, 0, 1, 2]],
    ];
    expect(y.arraySync()).toEqual(expected);
    expect(roll(x, [0], [-1]).arraySync()).toEqual(x.arraySync());
    expect(() => roll(x, [1], [3])).toThrow(/out of range/);
    expect(() => roll(x, [1, 2], [0])).toThrow(/2 shifts but 1 axes/);
  });

  it('has the inverse roll as its gradient', () => {
    const x = tf.randomNormal([3, 4, 5, 2]);
    const w = tf.randomNormal([3, 4, 5, 2]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(roll(t, [2, -1], [1, 2]), w)))(x);
    const expected = roll(w, [-2, 1], [1, 2]);
    expect(tf.max(tf.abs(tf.sub(grad, expected))).dataSync()[0]).toBe(0);
  });

  it('does not leak tensors', () => {
    const x = tf.ones([4, 4]);
    const before = tf.memory().numTensors;
    roll(x, [1, 1], [0, 1]).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('assertFinite', () => {
  it('names the tensor and the position of a NaN', () => {
    expect(() => assertFinite(tf.tensor1d([1, NaN]), 'image.nii')).toThrow(/image\.nii: expected finite values, found NaN at flat index 1/);
    expect(() => assertFinite(tf.tensor1d([1, 2]), 'ok')).not.toThrow();
  });
});
