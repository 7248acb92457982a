import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import { upsampleTrilinear2x } from '../src/index.js';

/**
 * PyTorch's trilinear kernel written out per output voxel in float64: source coordinate
 * `(o + 0.5)/2 − 0.5` clamped at 0, neighbours `i0 = floor`, `i1 = min(i0 + 1, n − 1)`, and the
 * 8-corner weighted sum.
 */
function reference(x: Float32Array, shape: number[], dy?: Float32Array): { out: Float64Array; dx: Float64Array } {
  const [b, X, Y, Z, c] = shape;
  const out = new Float64Array(b * 8 * X * Y * Z * c);
  const dx = new Float64Array(x.length);
  const coord = (o: number, n: number): [number, number, number] => {
    const src = Math.max((o + 0.5) / 2 - 0.5, 0);
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, n - 1);
    return [i0, i1, src - i0];
  };
  const idx = (s: number, i: number, j: number, k: number, ch: number) => (((s * X + i) * Y + j) * Z + k) * c + ch;
  let p = 0;
  for (let s = 0; s < b; s++)
    for (let oi = 0; oi < 2 * X; oi++)
      for (let oj = 0; oj < 2 * Y; oj++)
        for (let ok = 0; ok < 2 * Z; ok++)
          for (let ch = 0; ch < c; ch++) {
            const [i0, i1, li] = coord(oi, X);
            const [j0, j1, lj] = coord(oj, Y);
            const [k0, k1, lk] = coord(ok, Z);
            let v = 0;
            for (const [ii, wi] of [[i0, 1 - li], [i1, li]])
              for (const [jj, wj] of [[j0, 1 - lj], [j1, lj]])
                for (const [kk, wk] of [[k0, 1 - lk], [k1, lk]]) {
                  v += wi * wj * wk * x[idx(s, ii, jj, kk, ch)];
                  if (dy) dx[idx(s, ii, jj, kk, ch)] += wi * wj * wk * dy[p];
                }
            out[p++] = v;
          }
  return { out, dx };
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('upsampleTrilinear2x', () => {
  it('equals PyTorch align_corners=False trilinear ×2 on a non-cubic input (incl. size-1 axes)', () => {
    for (const shape of [
      [2, 3, 4, 5, 2],
      [1, 1, 2, 1, 3],
    ]) {
      const n = shape.reduce((a, v) => a * v, 1);
      const data = Rng.fromSeed(shape[1]).uniformArray(n, -1, 1);
      const x = tf.tensor5d(data, shape as [number, number, number, number, number]);
      const y = upsampleTrilinear2x(x);
      expect(y.shape).toEqual([shape[0], 2 * shape[1], 2 * shape[2], 2 * shape[3], shape[4]]);
      const ref = reference(data, shape).out;
      const got = y.dataSync();
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      expect(worst).toBeLessThan(1e-6);
      tf.dispose([x, y]);
    }
  });

  it('has the exact adjoint as its gradient (vs the float64 reference, incl. size-1 and size-2 axes)', () => {
    for (const shape of [
      [2, 3, 4, 5, 2],
      [1, 1, 2, 3, 1],
    ]) {
      const n = shape.reduce((a, v) => a * v, 1);
      const data = Rng.fromSeed(7).uniformArray(n, -1, 1);
      const dyData = Rng.fromSeed(8).uniformArray(8 * n, -1, 1);
      const x = tf.tensor5d(data, shape as [number, number, number, number, number]);
      const dy = tf.tensor5d(dyData, [shape[0], 2 * shape[1], 2 * shape[2], 2 * shape[3], shape[4]]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(upsampleTrilinear2x(v as tf.Tensor5D), dy)))(x);
      const ref = reference(data, shape, dyData).dx;
      const got = g.dataSync();
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      expect(worst).toBeLessThan(1e-5);
      tf.dispose([x, dy, g]);
    }
  });

  it('rejects tensors that are not [B, X, Y, Z, C]', () => {
    const x = tf.zeros([2, 2, 2, 2]);
    expect(() => upsampleTrilinear2x(x as unknown as tf.Tensor5D)).toThrow(/expected \[B, X, Y, Z, C\]/);
    x.dispose();
  });
});
