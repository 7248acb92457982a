import * as tf from '@tensorflow/tfjs';
import { BackendOutOfMemoryError, explainBackendError, initBackend, Rng } from '../src/index.js';

/**
 * The wasm backend of tfjs 4.22.0 returns wrong numbers for some kernels (or lacks them).
 * initBackend('wasm') patches them; here every patched case is computed on wasm and on the
 * reference cpu backend, forward and gradient, and must agree to 1e-5 relative (L2).
 */

type Case = () => tf.Tensor[];

const rng = Rng.fromSeed(11);
function data(shape: number[]): { values: Float32Array; shape: number[] } {
  return { values: rng.uniformArray(shape.reduce((a, b) => a * b, 1), -1, 1), shape };
}
const t = (d: { values: Float32Array; shape: number[] }) => tf.tensor(d.values, d.shape);

const conv = { x: data([1, 6, 5, 4, 3]), w: data([3, 3, 3, 3, 4]), up: data([1, 3, 2, 4, 4]), wt: data([2, 2, 2, 5, 4]) };
const rank7 = { a: data([2, 1, 3, 2, 2, 1, 3]), b: data([1, 2, 3, 1, 2, 2, 3]) };
const gather = { table: data([7, 5]), w: data([6, 5]) };
const einsum = { a: data([3, 4, 5]), b: data([3, 5, 2]) };

const cases: Record<string, Case> = {
  'conv3d input and filter gradients (stride 1)': () => {
    const x = t(conv.x);
    const w = t(conv.w);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 1, 'same'))));
    return g([x, w]);
  },
  'conv3d gradients at stride 2 (Conv3DBackpropFilterV2)': () => {
    const x = t(conv.x);
    const w = t(conv.w);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 2, 'same'))));
    return g([x, w]);
  },
  'conv3dTranspose forward (Conv3DBackpropInputV2)': () => {
    const y = tf.conv3dTranspose(t(conv.up) as tf.Tensor5D, t(conv.wt) as tf.Tensor5D, [1, 6, 4, 8, 5], 2, 'valid');
    return [y];
  },
  'rank-7 add/sub/mul/div with broadcasting and their gradients': () => {
    const a = t(rank7.a);
    const b = tf.add(t(rank7.b), 2);
    const f = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.div(tf.mul(tf.add(p, q), tf.sub(p, q)), q));
    return [f(a, b), tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), ...tf.grads(f)([a, b])];
  },
  'gather gradient (UnsortedSegmentSum)': () => {
    const table = t(gather.table);
    const w = t(gather.w);
    const idx = tf.tensor1d([0, 3, 3, 6, 1, 0], 'int32');
    return [tf.grad((tab: tf.Tensor) => tf.sum(tf.mul(tf.gather(tab, idx), w)))(table), tf.unsortedSegmentSum(w, tf.tensor1d([2, 0, 2, 1, 0, 2], 'int32'), 3)];
  },
  'einsum (batched matrix product)': () => [tf.einsum('bij,bjk->bik', t(einsum.a), t(einsum.b))],
};

async function evaluate(backend: 'cpu' | 'wasm', fn: Case): Promise<Float32Array[]> {
  await initBackend(backend, { log: () => {} });
  return tf.tidy(() => fn()).map((r) => {
    const v = r.dataSync() as Float32Array;
    r.dispose();
    return Float32Array.from(v);
  });
}

function relativeL2(actual: Float32Array, expected: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i] - expected[i]) ** 2;
    den += expected[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

afterAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('wasm backend with the runtime fixes agrees with cpu', () => {
  it.each(Object.keys(cases))('%s', async (name) => {
    const reference = await evaluate('cpu', cases[name]);
    const wasm = await evaluate('wasm', cases[name]);
    expect(wasm.length).toBe(reference.length);
    reference.forEach((ref, i) => {
      expect(wasm[i].length).toBe(ref.length);
      expect(relativeL2(wasm[i], ref)).toBeLessThanOrEqual(1e-5);
    });
  });

  it('does not leak tensors on either backend', async () => {
    await initBackend('wasm', { log: () => {} });
    const before = tf.memory().numTensors;
    for (const fn of Object.values(cases)) tf.dispose(tf.tidy(fn));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('explainBackendError', () => {
  it('names the wasm heap limit and the way out for wasm memory failures, and leaves other errors alone', async () => {
    await initBackend('wasm', { log: () => {} });
    const aborted = new Error('Aborted(). Build with -sASSERTIONS for more info.');
    const explained = explainBackendError(aborted);
    expect(explained).toBeInstanceOf(BackendOutOfMemoryError);
    expect((explained as Error).message).toMatch(/wasm backend ran out of memory \(its WebAssembly heap stops at 4 GB; found: Aborted\(\)/);
    expect((explained as Error).message).toMatch(/Use the 'cpu' backend/);
    expect((explained as Error).cause).toBe(aborted);
    expect(explainBackendError(new RangeError('offset is out of bounds'))).toBeInstanceOf(BackendOutOfMemoryError);
    const other = new RangeError('shapes differ');
    expect(explainBackendError(other)).toBe(other);
    await initBackend('cpu', { log: () => {} });
    expect(explainBackendError(aborted)).toBe(aborted);
  });
});
