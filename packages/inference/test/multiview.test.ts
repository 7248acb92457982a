import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import {
  doubleSlidingWindowInference,
  multiViewFusion,
  slidingWindowInference,
  viewPair,
  VIEW_MAP_NAMES,
  type TwoViewPredictor,
  type ViewMap,
} from '../src/index.js';

function randomVolume(shape: [number, number, number, number, number], seed: number): tf.Tensor5D {
  return tf.tensor5d(Float32Array.from(Rng.fromSeed(seed).normalArray(shape.reduce((a, b) => a * b, 1))), shape);
}
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]);

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('doubleSlidingWindowInference (SwinMM §8.1)', () => {
  it('uses the view pair [v, (v+1) mod 3]', () => {
    expect(viewPair(0)).toEqual([0, 1]);
    expect(viewPair(1)).toEqual([1, 2]);
    expect(viewPair(2)).toEqual([2, 0]);
    expect(() => viewPair(3 as 0)).toThrow(/view: expected 0, 1 or 2, found 3/);
  });

  it.each([0, 1, 2] as const)('view %i: branches get axis-swapped windows and their outputs are swapped back', async (view) => {
    const x = randomVolume([1, 14, 11, 9, 1], 10 + view);
    const roi = [8, 6, 4]; // non-cubic, so a missing or wrong swap changes shapes
    const calls: { a: number[]; b: number[]; views: readonly number[] }[] = [];
    const identity: TwoViewPredictor = (xa, xb, views) => {
      calls.push({ a: xa.shape, b: xb.shape, views });
      return [xa.clone(), xb.mul(3)];
    };
    const [oa, ob] = await doubleSlidingWindowInference(x, view, roi, 4, identity, { overlap: 0.5, mode: 'gaussian' });
    const swapped = (v: number) => (v === 0 ? [8, 6, 4] : v === 1 ? [6, 8, 4] : [4, 6, 8]);
    const [va, vb] = viewPair(view);
    expect(calls[0].views).toEqual([va, vb]);
    expect(calls[0].a.slice(1, 4)).toEqual(swapped(va));
    expect(calls[0].b.slice(1, 4)).toEqual(swapped(vb));
    expect(oa.shape).toEqual(x.shape);
    expect(maxAbsDiff(oa, x)).toBeLessThan(1e-5);
    expect(tf.tidy(() => maxAbsDiff(ob, x.mul(3)))).toBeLessThan(1e-5);
    tf.dispose([x, oa, ob]);
  });

  it('with a view-equivariant predictor both branches equal the single-view sliding window', async () => {
    const x = randomVolume([1, 12, 10, 16, 2], 20);
    const h = (w: tf.Tensor5D) => tf.tidy(() => w.mul(2).add(w.mean([1, 2, 3], true))) as tf.Tensor5D;
    const ref = await slidingWindowInference(x, [8, 8, 8], 3, h, { overlap: 0.25, mode: 'gaussian' });
    const [oa, ob] = await doubleSlidingWindowInference(x, 2, [8, 8, 8], 3, (xa, xb) => [h(xa), h(xb)], { overlap: 0.25, mode: 'gaussian' });
    expect(maxAbsDiff(oa, ref)).toBeLessThan(1e-5);
    expect(maxAbsDiff(ob, ref)).toBeLessThan(1e-5);
    tf.dispose([x, ref, oa, ob]);
  });

  it('rejects a predictor that does not return two outputs', async () => {
    const x = randomVolume([1, 8, 8, 8, 1], 21);
    const before = tf.memory().numTensors;
    const bad = ((xa: tf.Tensor5D) => [xa.clone()]) as unknown as TwoViewPredictor;
    await expect(doubleSlidingWindowInference(x, 0, [8, 8, 8], 1, bad)).rejects.toThrow(/expected \[outputA, outputB\] for views \[0, 1\], found 1 outputs/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('multiViewFusion (SwinMM §8.3)', () => {
  // Two-class logits [s·x, 0]: the softmax of class 0 is sigmoid(s·x). Each view scales by a
  // different s, so the fused mean is the mean of six sigmoids.
  const scale = (v: number) => [1, 2, 4][v];
  const logits = (x: tf.Tensor5D, s: number) => tf.tidy(() => tf.concat([x.mul(s), tf.zerosLike(x)], 4) as tf.Tensor5D);
  const predictor: TwoViewPredictor = (xa, xb, views) => [logits(xa, scale(views[0])), logits(xb, scale(views[1]))];

  it('averages the six softmax maps, reports them in SwinMM order, and argmaxes', async () => {
    const x = randomVolume([1, 10, 9, 8, 1], 30);
    const seen: Pick<ViewMap, 'name' | 'view' | 'pair'>[] = [];
    const before = tf.memory().numTensors;
    const { probabilities, labels } = await multiViewFusion(x, [8, 8, 8], 2, predictor, {
      overlap: 0.5,
      mode: 'gaussian',
      onViewMap: ({ name, view, pair, probabilities: p }) => {
        expect(p.shape).toEqual([1, 10, 9, 8, 2]);
        seen.push({ name, view, pair });
      },
    });
    expect(seen.map((s) => s.name)).toEqual([...VIEW_MAP_NAMES]);
    expect(seen.map((s) => s.view)).toEqual([0, 1, 1, 2, 2, 0]);
    expect(seen.map((s) => s.pair)).toEqual([[0, 1], [0, 1], [1, 2], [1, 2], [2, 0], [2, 0]]);
    const expected = tf.tidy(() => {
      const s = (k: number) => tf.sigmoid(x.mul(k));
      const p0 = s(1).mul(2).add(s(2).mul(2)).add(s(4).mul(2)).div(6);
      return tf.concat([p0, tf.onesLike(p0).sub(p0)], 4);
    });
    expect(maxAbsDiff(probabilities, expected)).toBeLessThan(1e-5);
    expect(labels.dtype).toBe('int32');
    expect(Array.from(labels.dataSync())).toEqual(Array.from(x.dataSync()).map((v) => (v > 0 ? 0 : 1)));
    tf.dispose([probabilities, labels, expected]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
