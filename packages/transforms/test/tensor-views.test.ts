import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, Rng } from '@swinmm/runtime';
import { readSafetensors, type SafetensorEntry } from '@swinmm/nn';
import {
  maskRandPatch,
  permuteTransform,
  permuteView,
  permuteViewInverse,
  rotate,
  rotateInverse,
  rotRand,
  viewTransform,
} from '../src/tensor/index.js';

// Reference tensors from SwinMM's view_transforms / view_ops / mask_rand_patch (PyTorch, NCDHW).
const fixtureDir = join(__dirname, 'fixtures');
const tensors = readSafetensors(new Uint8Array(readFileSync(join(fixtureDir, 'views.safetensors'))), { source: 'views.safetensors', copy: true });
const meta = JSON.parse(readFileSync(join(fixtureDir, 'views.json'), 'utf8')) as {
  keep_cells: { mask: number[]; mask64: number[] };
  rot_rand_k: number[];
};

function entry(name: string): SafetensorEntry {
  const e = tensors.get(name);
  if (!e) throw new Error(`views.safetensors has no tensor "${name}"`);
  return e;
}

/** A fixture volume [B, C, X, Y, Z] as a channels-last tfjs tensor [B, X, Y, Z, C]. */
function channelsLast(name: string): tf.Tensor5D {
  const e = entry(name);
  if (e.dtype !== 'F32' || e.shape.length !== 5) throw new Error(`${name}: expected F32 rank 5, got ${e.dtype} [${e.shape}]`);
  const [b, c, x, y, z] = e.shape;
  return tf.tidy(() => tf.transpose(tf.tensor5d(e.data as Float32Array, [b, c, x, y, z]), [0, 2, 3, 4, 1]));
}

/** Bit patterns, so that +0/−0 and every last bit count. */
function bits(t: tf.Tensor): Uint32Array {
  const v = t.dataSync() as Float32Array;
  return new Uint32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

function expectBitEqual(actual: tf.Tensor, expectedName: string): void {
  const expected = channelsLast(expectedName);
  expect(actual.shape).toEqual(expected.shape);
  expect(bits(actual)).toEqual(bits(expected));
  expected.dispose();
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('permutation views and rotations match SwinMM bit for bit', () => {
  it.each([0, 1, 2])('perm.%i and its inverse', (v) => {
    const x = channelsLast('x');
    const p = permuteView(x, v);
    expectBitEqual(p, `perm.${v}`);
    const pi = permuteViewInverse(x, v);
    expectBitEqual(pi, `perm_inv.${v}`);
    const back = permuteViewInverse(p, v);
    expect(bits(back)).toEqual(bits(x));
    tf.dispose([x, p, pi, back]);
  });

  it.each([0, 1, 2, 3])('rot.%i and its inverse', (k) => {
    const x = channelsLast('x');
    const r = rotate(x, k);
    expectBitEqual(r, `rot.${k}`);
    const ri = rotateInverse(x, k);
    expectBitEqual(ri, `rot_inv.${k}`);
    const back = rotateInverse(r, k);
    expect(bits(back)).toEqual(bits(x));
    tf.dispose([x, r, ri, back]);
  });

  it.each([0, 1, 2].flatMap((s) => [0, 1, 2].map((d) => [s, d])))('permute_transform.%i%i', (src, dst) => {
    const x = channelsLast('x');
    const y = permuteTransform(x, src, dst);
    expectBitEqual(y, `permute_transform.${src}${dst}`);
    tf.dispose([x, y]);
  });

  it.each([0, 1, 2, 3].flatMap((k) => [0, 1, 2].map((v) => [k, v])))('compose.rot%i_perm%i and its inverse', (k, v) => {
    const x = channelsLast('x');
    const y = viewTransform(x, k, v);
    expectBitEqual(y, `compose.rot${k}_perm${v}`);
    const back = viewTransform(y, k, v, { inverse: true });
    expect(back.shape).toEqual(x.shape);
    expect(bits(back)).toEqual(bits(x));
    tf.dispose([x, y, back]);
  });

  it('rejects bad ids and ranks with a message naming them', () => {
    const x = tf.zeros([1, 2, 2, 2, 1]) as tf.Tensor5D;
    expect(() => permuteView(x, 3)).toThrow(/view must be 0, 1 or 2, got 3/);
    expect(() => rotate(x, 4)).toThrow(/rotation k must be 0, 1, 2 or 3, got 4/);
    expect(() => rotate(tf.zeros([2, 2, 2]), 1)).toThrow(/rank-5 \[B, X, Y, Z, C\].*shape \[2, 2, 2\]/);
    x.dispose();
  });
});

describe('rotRand', () => {
  it('matches SwinMM rot_rand for the pinned rotations k = [1, 3]', () => {
    const x = channelsLast('rot_rand.input');
    const { rotated, labels } = rotRand(x, null, { k: meta.rot_rand_k });
    expectBitEqual(rotated, 'rot_rand.out');
    const refLabels = Array.from(entry('rot_rand.labels').data as BigInt64Array, Number);
    expect(labels).toEqual(refLabels);
    tf.dispose([x, rotated]);
  });

  it('draws one k per sample from the Rng, reproducibly, and undoes exactly', () => {
    const x = tf.tidy(() => tf.randomUniform([5, 3, 4, 4, 2], -1, 1, 'float32', 7)) as tf.Tensor5D;
    const a = rotRand(x, Rng.fromSeed(3));
    const b = rotRand(x, Rng.fromSeed(3));
    expect(a.labels).toEqual(b.labels);
    expect(a.labels.every((k) => k >= 0 && k < 4)).toBe(true);
    expect(bits(a.rotated)).toEqual(bits(b.rotated));
    const back = tf.concat(tf.split(a.rotated, 5, 0).map((s, i) => rotateInverse(s, a.labels[i])), 0);
    expect(bits(back)).toEqual(bits(x));
    tf.dispose([x, a.rotated, b.rotated, back]);
  });

  it('refuses odd rotations of a batch whose Y and Z differ', () => {
    const x = tf.zeros([2, 2, 3, 4, 1]) as tf.Tensor5D;
    expect(() => rotRand(x, null, { k: [1, 0] })).toThrow(/need Y = Z.*Y = 3, Z = 4/);
    x.dispose();
  });
});

describe('maskRandPatch', () => {
  it('matches SwinMM mask_rand_patch with window (2, 3, 4) and the pinned keep list', () => {
    const x = channelsLast('mask.input');
    const r = maskRandPatch(x, null, { window: [2, 3, 4], ratio: 0.5, keep: meta.keep_cells.mask });
    expect(r.cellShape).toEqual([4, 4, 4]);
    expect(Array.from(r.cells)).toEqual(Array.from(entry('mask.cells').data as Uint8Array));
    expect(Array.from(r.voxels)).toEqual(Array.from(entry('mask.voxels').data as Uint8Array));
    expectBitEqual(r.masked, 'mask.out');
    tf.dispose([x, r.masked]);
  });

  it('reproduces the real 16³-cube / 64³ cell grid (mask64.cells)', () => {
    const x = tf.zeros([1, 64, 64, 64, 1]) as tf.Tensor5D;
    const r = maskRandPatch(x, null, { keep: meta.keep_cells.mask64 });
    expect(Array.from(r.cells)).toEqual(Array.from(entry('mask64.cells').data as Uint8Array));
    expect(r.cells.reduce((a, b) => a + b, 0)).toBe(32);
    tf.dispose([x, r.masked]);
  });

  it('draws round(cells × ratio) distinct kept cells from the Rng, one mask for the whole batch', () => {
    const x = tf.tidy(() => tf.add(tf.randomUniform([3, 8, 8, 8, 2], 0.5, 1, 'float32', 1), 0)) as tf.Tensor5D;
    const r = maskRandPatch(x, Rng.fromSeed(11), { window: 4 });
    const again = maskRandPatch(x, Rng.fromSeed(11), { window: 4 });
    expect(again.keep).toEqual(r.keep);
    expect(new Set(r.keep).size).toBe(4);
    const v = r.masked.dataSync();
    const src = x.dataSync();
    // Every sample and channel: zero exactly where the voxel mask says, untouched elsewhere.
    for (let i = 0; i < v.length; i++) {
      const voxel = Math.floor(i / 2) % 512;
      expect(v[i]).toBe(r.voxels[voxel] ? 0 : src[i]);
    }
    tf.dispose([x, r.masked, again.masked]);
  });

  it('rejects sizes that are not multiples of the window and bad keep lists', () => {
    const x = tf.zeros([1, 8, 8, 6, 1]) as tf.Tensor5D;
    expect(() => maskRandPatch(x, null, { window: 4, keep: [0] })).toThrow(/\[8, 8, 6\] must be multiples of the window \[4, 4, 4\]/);
    const y = tf.zeros([1, 8, 8, 8, 1]) as tf.Tensor5D;
    expect(() => maskRandPatch(y, null, { window: 4, keep: [0, 1, 2] })).toThrow(/has 3 cells but round\(8 × 0.5\) = 4/);
    expect(() => maskRandPatch(y, null, { window: 4, keep: [0, 1, 2, 2] })).toThrow(/distinct/);
    tf.dispose([x, y]);
  });
});

describe('gradients and memory', () => {
  it('gradients flow through views, rotations, rotRand and masking (mask blocks exactly the masked voxels)', () => {
    const x = tf.tidy(() => tf.randomUniform([2, 4, 4, 4, 1], -1, 1, 'float32', 5)) as tf.Tensor5D;
    const w = tf.tidy(() => tf.randomUniform([2, 4, 4, 4, 1], -1, 1, 'float32', 6));
    const keep = [0, 3, 5, 6];
    const grad = tf.grad((t: tf.Tensor) => {
      const v = viewTransform(t as tf.Tensor5D, 1, 2);
      const back = viewTransform(v, 1, 2, { inverse: true });
      const m = maskRandPatch(back, null, { window: 2, keep }).masked;
      return tf.sum(tf.mul(m, w));
    })(x);
    const g = grad.dataSync();
    const wv = w.dataSync();
    const { voxels } = maskRandPatch(x, null, { window: 2, keep });
    for (let i = 0; i < g.length; i++) expect(g[i]).toBe(voxels[i % 64] ? 0 : wv[i]);

    const gr = tf.grad((t: tf.Tensor) => tf.sum(tf.square(rotRand(t as tf.Tensor5D, null, { k: [1, 2] }).rotated)))(x);
    const expected = tf.mul(x, 2);
    expect(Array.from(gr.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([x, w, grad, gr, expected]);
  });

  it('does not leak tensors over repeated calls', () => {
    const x = tf.zeros([2, 4, 4, 4, 1]) as tf.Tensor5D;
    const rng = Rng.fromSeed(1);
    const run = () => {
      const a = viewTransform(x, 3, 1);
      const b = permuteTransform(a, 1, 2);
      const r = rotRand(x, rng);
      const m = maskRandPatch(x, rng, { window: 2 });
      tf.dispose([a, b, r.rotated, m.masked]);
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
