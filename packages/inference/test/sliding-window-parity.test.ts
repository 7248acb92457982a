// Parity with MONAI 1.2's sliding_window_inference (fixtures/sliding_window_ref.json): input
// detrand "sw_input" (1,1,45,37,29), roi (32,16,16), sw_batch_size 3, predictor
// `2*w + w.mean(dim=(2,3,4), keepdim=True)`, constant and gaussian blending at overlaps 0, 0.25
// and 0.5. Compared: min/max/mean/std/abs_sum, 32 samples and the three axis-mean profiles, to 1e-5.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { detrandUniform, initBackend } from '@swinmm/runtime';
import { slidingWindowInference, type BlendMode } from '../src/index.js';

interface Run {
  mode: BlendMode;
  overlap: number;
  shape: number[];
  min: number;
  max: number;
  mean: number;
  std: number;
  abs_sum: number;
  samples: { flat_index: number[]; values: number[] };
  axis_mean_profiles: { axis0: number[]; axis1: number[]; axis2: number[] };
}
const ref = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'sliding_window_ref.json'), 'utf8')) as {
  input: { stream: string; seed: number; shape: number[]; abs_sum: number };
  roi_size: number[];
  sw_batch_size: number;
  predictor: string;
  runs: Run[];
};

/** The fixture's predictor: 2·w + the mean of each window (per channel) over its spatial axes. */
const predictor = (w: tf.Tensor5D): tf.Tensor5D => tf.tidy(() => w.mul(2).add(w.mean([1, 2, 3], true)));

describe('slidingWindowInference matches MONAI 1.2', () => {
  let input: tf.Tensor5D;
  const [, , X, Y, Z] = ref.input.shape;
  beforeAll(async () => {
    await initBackend('cpu', { log: () => {} });
    expect(ref.predictor).toBe('2*w + w.mean(dim=(2,3,4), keepdim=True)');
    // NCDHW with C = 1 has the same flat order as channels-last [1, X, Y, Z, 1].
    const values = detrandUniform(ref.input.stream, ref.input.shape, ref.input.seed);
    const absSum = values.reduce((s, v) => s + Math.abs(v), 0);
    expect(Math.abs(absSum - ref.input.abs_sum)).toBeLessThan(1e-6 * ref.input.abs_sum);
    input = tf.tensor5d(values, [1, X, Y, Z, 1]);
  });
  afterAll(() => input.dispose());

  it.each(ref.runs.map((r) => [r.mode, r.overlap, r] as const))('%s blending, overlap %s', async (mode, overlap, run) => {
    const before = tf.memory().numTensors;
    const out = await slidingWindowInference(input, ref.roi_size, ref.sw_batch_size, predictor, { mode, overlap });
    expect(out.shape).toEqual([1, X, Y, Z, 1]);
    const v = out.dataSync();
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);

    let min = Infinity, max = -Infinity, sum = 0, abs = 0;
    for (const x of v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      abs += Math.abs(x);
    }
    const mean = sum / v.length;
    let sq = 0;
    for (const x of v) sq += (x - mean) ** 2;
    // The fixture stats are float64 NumPy statistics: population std (ddof = 0).
    const std = Math.sqrt(sq / v.length);
    const tol = 1e-5;
    expect(Math.abs(min - run.min)).toBeLessThan(tol);
    expect(Math.abs(max - run.max)).toBeLessThan(tol);
    expect(Math.abs(mean - run.mean)).toBeLessThan(tol);
    expect(Math.abs(std - run.std)).toBeLessThan(tol);
    expect(Math.abs(abs - run.abs_sum)).toBeLessThan(tol * run.abs_sum);
    run.samples.flat_index.forEach((i, k) => expect(Math.abs(v[i] - run.samples.values[k])).toBeLessThan(tol));

    const profiles = [new Float64Array(X), new Float64Array(Y), new Float64Array(Z)];
    for (let x = 0, i = 0; x < X; x++) for (let y = 0; y < Y; y++) for (let z = 0; z < Z; z++, i++) {
      profiles[0][x] += v[i] / (Y * Z);
      profiles[1][y] += v[i] / (X * Z);
      profiles[2][z] += v[i] / (X * Y);
    }
    const expected = [run.axis_mean_profiles.axis0, run.axis_mean_profiles.axis1, run.axis_mean_profiles.axis2];
    profiles.forEach((p, a) => p.forEach((val, i) => expect(Math.abs(val - expected[a][i])).toBeLessThan(tol)));
  });
});
