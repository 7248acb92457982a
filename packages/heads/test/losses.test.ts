import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import { contrastiveLoss, mutualLoss, normalizePerVolume, reconstructionLoss, rotationLoss, sslLoss } from '../src/index.js';
import { f32, loadSslFixture, relErr } from './helpers.js';

const { json, tensors } = loadSslFixture();
const L = json.results.losses;

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('rotationLoss', () => {
  it('matches the fixture rotation CE from its stored logits (rel 1e-5)', () => {
    const logits = tf.tensor2d(f32(tensors, 'step.rot_p'), [4, 4]);
    const { rot1, rot2 } = json.results.choices;
    const loss = rotationLoss(logits, [...rot1, ...rot2]);
    expect(relErr(loss.dataSync()[0], L['L1.rot_CE'])).toBeLessThanOrEqual(1e-5);
    tf.dispose([logits, loss]);
  });

  it('rejects labels out of range', () => {
    const logits = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => rotationLoss(logits, [0, 4])).toThrow(/labels must be integers in \[0, 4\), found 4/);
    expect(() => rotationLoss(logits, [0])).toThrow(/2 logit rows but 1 labels/);
    logits.dispose();
  });
});

describe('contrastiveLoss', () => {
  it('matches the fixture NT-Xent (τ 0.5) from the stored embeddings (rel 1e-5)', () => {
    const a = tf.tensor2d(f32(tensors, 'step.con1'), [2, 512]);
    const b = tf.tensor2d(f32(tensors, 'step.con2'), [2, 512]);
    const loss = contrastiveLoss(a, b, 0.5);
    expect(relErr(loss.dataSync()[0], L['L1.contrastive_NTXent_tau0.5'])).toBeLessThanOrEqual(1e-5);
    tf.dispose([a, b, loss]);
  });

  it('equals an independent float64 evaluation of the formula and is invariant to scaling', () => {
    const rng = Rng.fromSeed(3);
    const n = 3;
    const d = 5;
    const av = rng.normalArray(n * d);
    const bv = rng.normalArray(n * d);
    const z: number[][] = [];
    for (const src of [av, bv]) {
      for (let i = 0; i < n; i++) {
        const row = Array.from(src.slice(i * d, i * d + d));
        const norm = Math.hypot(...row);
        z.push(row.map((v) => v / norm));
      }
    }
    const dot = (p: number[], q: number[]) => p.reduce((s, v, k) => s + v * q[k], 0);
    let ref = 0;
    for (let i = 0; i < 2 * n; i++) {
      let den = 0;
      for (let j = 0; j < 2 * n; j++) if (j !== i) den += Math.exp(dot(z[i], z[j]) / 0.5);
      ref += -Math.log(Math.exp(dot(z[i], z[(i + n) % (2 * n)]) / 0.5) / den);
    }
    ref /= 2 * n;
    const a = tf.tensor2d(av, [n, d]);
    const b = tf.tensor2d(bv, [n, d]);
    const loss = contrastiveLoss(a, b);
    const scaled = contrastiveLoss(tf.mul(a, 7) as tf.Tensor2D, b);
    expect(relErr(loss.dataSync()[0], ref)).toBeLessThanOrEqual(1e-6);
    expect(relErr(scaled.dataSync()[0], ref)).toBeLessThanOrEqual(1e-6);
    tf.dispose([a, b, loss, scaled]);
  });
});

/** float64 reference of the masked MSE with optional per-volume normalisation, channels-last. */
function refRecon(r: Float32Array, t: Float32Array, m: Float32Array, shape: number[], norm: boolean, ratio: number): number {
  const [b, x, y, z, c] = shape;
  const vox = x * y * z;
  const tt = Float64Array.from(t);
  if (norm) {
    for (let s = 0; s < b; s++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let v = 0; v < vox; v++) sum += t[(s * vox + v) * c + ch];
        const mean = sum / vox;
        let ss = 0;
        for (let v = 0; v < vox; v++) ss += (t[(s * vox + v) * c + ch] - mean) ** 2;
        const sd = Math.sqrt(ss / (vox - 1) + 1e-6);
        for (let v = 0; v < vox; v++) tt[(s * vox + v) * c + ch] = (t[(s * vox + v) * c + ch] - mean) / sd;
      }
    }
  }
  let acc = 0;
  for (let i = 0; i < r.length; i++) {
    const mk = m[i % (vox * c)];
    acc += (mk * r[i] - mk * tt[i]) ** 2;
  }
  return acc / r.length / ratio;
}

describe('reconstructionLoss / mutualLoss', () => {
  const shape = [2, 4, 3, 2, 2];
  const size = shape.reduce((a, v) => a * v, 1);
  const rng = Rng.fromSeed(9);
  const r = rng.normalArray(size);
  const t = rng.uniformArray(size, 0, 1);
  const m = Float32Array.from({ length: 4 * 3 * 2 * 2 }, () => (rng.bernoulli(0.5) ? 1 : 0));

  it('is the masked MSE over the mask ratio with the normPixLoss target (float64 oracle)', () => {
    const R = tf.tensor5d(r, shape as [number, number, number, number, number]);
    const T = tf.tensor5d(t, shape as [number, number, number, number, number]);
    const M = tf.tensor4d(m, [4, 3, 2, 2]);
    for (const norm of [true, false]) {
      const loss = reconstructionLoss(R, T, M, { normPixLoss: norm, maskRatio: 0.5 });
      expect(relErr(loss.dataSync()[0], refRecon(r, t, m, shape, norm, 0.5))).toBeLessThanOrEqual(1e-5);
      loss.dispose();
    }
    const mut = mutualLoss(R, T, M, 0.5);
    expect(relErr(mut.dataSync()[0], refRecon(r, t, m, shape, false, 0.5))).toBeLessThanOrEqual(1e-5);
    const normed = normalizePerVolume(T);
    const mom = tf.moments(normed, [1, 2, 3]);
    expect(Math.max(...Array.from(mom.mean.dataSync()).map(Math.abs))).toBeLessThan(1e-6);
    const bad = tf.zeros([3, 3, 2, 2]);
    expect(() => reconstructionLoss(R, T, bad)).toThrow(/does not broadcast/);
    tf.dispose([R, T, M, mut, normed, mom.mean, mom.variance, bad]);
  });

  it('sslLoss adds rotation, contrastive and reconstruction terms (or returns rec alone with onlyMae)', () => {
    const R = tf.tensor5d(r, shape as [number, number, number, number, number]);
    const T = tf.tensor5d(t, shape as [number, number, number, number, number]);
    const M = tf.tensor4d(m, [4, 3, 2, 2]);
    const rotLogits = tf.tensor2d(f32(tensors, 'step.rot_p'), [4, 4]);
    const con1 = tf.tensor2d(f32(tensors, 'step.con1'), [2, 512]);
    const con2 = tf.tensor2d(f32(tensors, 'step.con2'), [2, 512]);
    const { rot1, rot2 } = json.results.choices;
    const terms = sslLoss({ rotLogits, rotLabels: [...rot1, ...rot2], con1, con2, recon: R, target: T, mask: M });
    const [rot, con, rec, total] = [terms.rot, terms.con, terms.rec, terms.total].map((x) => x.dataSync()[0]);
    expect(total).toBeCloseTo(rot + con + rec, 5);
    expect(relErr(rot, L['L1.rot_CE'])).toBeLessThanOrEqual(1e-5);
    const mae = sslLoss({ recon: R, target: T, mask: M }, { onlyMae: true });
    expect(mae.total.dataSync()[0]).toBe(rec);
    expect(() => sslLoss({ recon: R, target: T, mask: M })).toThrow(/required unless onlyMae/);
    tf.dispose([R, T, M, rotLogits, con1, con2, ...Object.values(terms), ...Object.values(mae)]);
  });
});
