import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import { importanceMap, padVolume, slidingWindowInference, slidingWindowInferenceMulti, type PaddingMode } from '../src/index.js';

const windowMean = (w: tf.Tensor5D): tf.Tensor5D => tf.tidy(() => w.mul(2).add(w.mean([1, 2, 3], true)));

function randomVolume(shape: [number, number, number, number, number], seed: number): tf.Tensor5D {
  return tf.tensor5d(Float32Array.from(Rng.fromSeed(seed).normalArray(shape.reduce((a, b) => a * b, 1))), shape);
}

/** Independent PyTorch-F.pad reference for one coordinate. */
function padIndex(i: number, n: number, mode: PaddingMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return -1;
  if (mode === 'replicate') return i < 0 ? 0 : n - 1;
  if (mode === 'circular') return i < 0 ? i + n : i - n;
  return i < 0 ? -i : 2 * (n - 1) - i; // reflect (pads smaller than n)
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('images smaller than the ROI are padded like MONAI and cropped back', () => {
  const shape: [number, number, number, number, number] = [1, 5, 6, 7, 2];
  const roi = [8, 8, 8];
  const modes: PaddingMode[] = ['constant', 'reflect', 'replicate', 'circular'];

  it.each(modes)('%s padding: one window, output = 2x + mean of the padded window', async (mode) => {
    const x = randomVolume(shape, 1);
    const v = x.dataSync();
    const cval = mode === 'constant' ? 0.5 : 0;
    // expected window mean per channel over the 8³ padded window (pad before = floor(diff / 2))
    const before = [1, 1, 0];
    const sums = [0, 0];
    for (let a = 0; a < 8; a++) for (let b = 0; b < 8; b++) for (let c = 0; c < 8; c++) {
      const [i, j, k] = [padIndex(a - before[0], 5, mode), padIndex(b - before[1], 6, mode), padIndex(c - before[2], 7, mode)];
      for (let ch = 0; ch < 2; ch++) sums[ch] += i < 0 || j < 0 || k < 0 ? cval : v[((i * 6 + j) * 7 + k) * 2 + ch];
    }
    const out = await slidingWindowInference(x, roi, 4, windowMean, { paddingMode: mode, cval, mode: 'gaussian' });
    expect(out.shape).toEqual(shape);
    const o = out.dataSync();
    for (let i = 0; i < o.length; i++) expect(o[i]).toBeCloseTo(2 * v[i] + sums[i % 2] / 512, 5);
    tf.dispose([x, out]);
  });

  it('padVolume agrees with tf.mirrorPad (reflect) and tf.pad (constant)', () => {
    const x = randomVolume([1, 4, 3, 5, 1], 2);
    const pad: [number, number][] = [[2, 1], [0, 2], [1, 0]];
    const ours = padVolume(x, pad, 'reflect');
    const tfRef = tf.mirrorPad(x, [[0, 0], ...pad, [0, 0]], 'reflect');
    expect(Array.from(ours.dataSync())).toEqual(Array.from(tfRef.dataSync()));
    const c = padVolume(x, pad, 'constant', 3);
    expect(c.shape).toEqual([1, 7, 5, 6, 1]);
    expect(c.dataSync()[0]).toBe(3);
    expect(() => padVolume(x, [[4, 0], [0, 0], [0, 0]], 'reflect')).toThrow(/must be smaller than the axis size 4/);
    tf.dispose([x, ours, tfRef, c]);
  });

  it('pads only the axes that need it and keeps the rest of the scan', async () => {
    const x = randomVolume([1, 40, 10, 20, 1], 3);
    const seen: number[][] = [];
    const out = await slidingWindowInference(x, [32, 16, 16], 2, (w) => {
      seen.push(w.shape);
      return w.clone();
    }, { overlap: 0.5 });
    // x: 40 → starts 0, 8; y padded to 16 → one window; z: 20 → starts 0, 4: 4 windows in batches of 2
    expect(seen).toEqual([[2, 32, 16, 16, 1], [2, 32, 16, 16, 1]]);
    const diff = tf.tidy(() => tf.max(tf.abs(out.sub(x))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-6);
    tf.dispose([x, out]);
  });
});

describe('batches, outputs and memory', () => {
  it('a batch of two images gives the same result as each image alone; multi-output predictors stitch each output', async () => {
    const a = randomVolume([1, 12, 10, 9, 1], 4);
    const b = randomVolume([1, 12, 10, 9, 1], 5);
    const both = tf.concat([a, b], 0) as tf.Tensor5D;
    const twoOutputs = (w: tf.Tensor5D) => tf.tidy(() => [windowMean(w), tf.concat([w, w.neg()], 4) as tf.Tensor5D]);
    const progress: number[] = [];
    const [out, second] = await slidingWindowInferenceMulti(both, [8, 6, 5], 3, twoOutputs, {
      overlap: 0.4,
      mode: 'gaussian',
      onProgress: (p) => progress.push(p.windowsDone / p.windowsTotal),
    });
    expect(out.shape).toEqual([2, 12, 10, 9, 1]);
    expect(second.shape).toEqual([2, 12, 10, 9, 2]);
    expect(progress[progress.length - 1]).toBe(1);
    const oa = await slidingWindowInference(a, [8, 6, 5], 3, windowMean, { overlap: 0.4, mode: 'gaussian' });
    const ob = await slidingWindowInference(b, [8, 6, 5], 3, windowMean, { overlap: 0.4, mode: 'gaussian' });
    const expected = tf.concat([oa, ob], 0);
    expect(tf.tidy(() => tf.max(tf.abs(out.sub(expected))).dataSync()[0])).toBeLessThan(1e-5);
    // the second output is [x, -x] blended: weights cancel exactly
    expect(tf.tidy(() => tf.max(tf.abs(second.slice([0, 0, 0, 0, 0], [2, 12, 10, 9, 1]).sub(both))).dataSync()[0])).toBeLessThan(1e-5);
    tf.dispose([a, b, both, out, second, oa, ob, expected]);
  });

  it('a precomputed roiWeightMap replaces the mode map and is clamped like MONAI', async () => {
    const x = randomVolume([1, 12, 10, 9, 1], 8);
    const opts = { overlap: 0.5 };
    const gaussian = await slidingWindowInference(x, [8, 6, 5], 2, windowMean, { ...opts, mode: 'gaussian' });
    const custom = await slidingWindowInference(x, [8, 6, 5], 2, windowMean, { ...opts, roiWeightMap: importanceMap([8, 6, 5], 'gaussian') });
    expect(tf.tidy(() => tf.max(tf.abs(gaussian.sub(custom))).dataSync()[0])).toBe(0);
    // an all-zero map is clamped to 1e-3 everywhere: the same as constant blending
    const zeros = await slidingWindowInference(x, [8, 6, 5], 2, windowMean, { ...opts, roiWeightMap: new Float32Array(240) });
    const constant = await slidingWindowInference(x, [8, 6, 5], 2, windowMean, opts);
    expect(tf.tidy(() => tf.max(tf.abs(zeros.sub(constant))).dataSync()[0])).toBeLessThan(1e-5);
    await expect(slidingWindowInference(x, [8, 6, 5], 2, windowMean, { roiWeightMap: new Float32Array(10) })).rejects.toThrow(
      /roiWeightMap: expected 240 values for ROI \[8, 6, 5\], found 10/,
    );
    tf.dispose([x, gaussian, custom, zeros, constant]);
  });

  it('does not leak tensors over repeated runs', async () => {
    const x = randomVolume([1, 16, 12, 10, 1], 6);
    const run = async () => (await slidingWindowInference(x, [8, 8, 8], 2, windowMean, { overlap: 0.5, mode: 'gaussian' })).dispose();
    await run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await run();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rejects bad arguments and bad predictor outputs with clear messages, without leaking', async () => {
    const x = randomVolume([1, 8, 8, 8, 1], 7);
    const rank4 = x.squeeze([0]) as unknown as tf.Tensor5D;
    const before = tf.memory().numTensors;
    await expect(slidingWindowInference(x, [4, 4, 4], 2, windowMean, { overlap: 1 })).rejects.toThrow(/overlap: expected a number in \[0, 1\)/);
    await expect(slidingWindowInference(x, [4, 4, 4], 0, windowMean)).rejects.toThrow(/swBatchSize: expected a positive integer, found 0/);
    await expect(slidingWindowInference(rank4, [4, 4, 4], 1, windowMean)).rejects.toThrow(/rank-5/);
    await expect(
      slidingWindowInference(x, [4, 4, 4], 2, (w) => tf.tidy(() => w.slice([0, 0, 0, 0, 0], [w.shape[0], 2, 4, 4, 1]))),
    ).rejects.toThrow(/predictor output 0: expected shape \[2, 4, 4, 4, C\], found \[2, 2, 4, 4, 1\]/);
    await expect(slidingWindowInference(x, [4, 4, 4], 2, windowMean, { paddingMode: 'edge' as PaddingMode })).rejects.toThrow(/paddingMode/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, rank4]);
  });
});
