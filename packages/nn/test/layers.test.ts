import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import {
  Conv3d,
  ConvTranspose3d,
  Dropout,
  DropPath,
  gelu,
  instanceNorm3d,
  layerNorm,
  linear,
  conv3d,
  windowAttention,
  registerOpImplementation,
  jsWindowAttention,
  tfjsWindowAttention,
  type LinearImplementation,
} from '../src/index.js';

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(Rng.fromSeed(seed).uniformArray(shape.reduce((a, b) => a * b, 1), -1, 1), shape);
}

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).arraySync() as number);
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('hot formulations', () => {
  it.each([
    ['wasm', [2, 5, 4]],
    ['js', [2, 5, 4]],
    // More rows than one weight-gradient chunk (8192).
    ['wasm', [3, 3000, 4]],
  ] as [string, number[]][])('linear (%s matrix engine, input %j) has the same value and gradients as tfjs matMul', (engine, shape) => {
    if (engine === 'js') process.env.SWINMM_GEMM = 'js';
    try {
      const rows = shape[0] * shape[1];
      const x = rand(shape, 1);
      const w = rand([4, 3], 2) as tf.Tensor2D;
      const b = rand([3], 3) as tf.Tensor1D;
      const r = rand([shape[0], shape[1], 3], 4);
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww as tf.Tensor2D, bb as tf.Tensor1D), r));
      const g = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(tf.add(tf.reshape(tf.matMul(tf.reshape(xx, [rows, 4]), ww as tf.Tensor2D), [shape[0], shape[1], 3]), bb), r));
      const fv = f(x, w, b).arraySync() as number;
      expect(Math.abs(fv - (g(x, w, b).arraySync() as number)) / (Math.abs(fv) + 1)).toBeLessThan(1e-5);
      const gf = tf.grads(f)([x, w, b]);
      const gg = tf.grads(g)([x, w, b]);
      gf.forEach((t, i) => expect(maxAbs(t, gg[i]) / (tf.max(tf.abs(gg[i])).dataSync()[0] + 1)).toBeLessThan(1e-5));
      // Without a bias (e.g. PatchMerging's reduction): the same value and gradients, and no bias gradient.
      const fNoBias = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww as tf.Tensor2D), r));
      const gNoBias = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.matMul(tf.reshape(xx, [rows, 4]), ww as tf.Tensor2D), [shape[0], shape[1], 3]), r));
      const fn = fNoBias(x, w).arraySync() as number;
      expect(Math.abs(fn - (gNoBias(x, w).arraySync() as number)) / (Math.abs(fn) + 1)).toBeLessThan(1e-5);
      const hf = tf.grads(fNoBias)([x, w]);
      const hg = tf.grads(gNoBias)([x, w]);
      expect(hf).toHaveLength(2);
      hf.forEach((t, i) => expect(maxAbs(t, hg[i]) / (tf.max(tf.abs(hg[i])).dataSync()[0] + 1)).toBeLessThan(1e-5));
      expect(() => linear(rand([2, 5], 1), w)).toThrow('linear: expected the last axis of the input to be 4, found shape [2, 5]');
    } finally {
      delete process.env.SWINMM_GEMM;
    }
  });

  it('conv3d k1, k2 s2 and k3 agree with a direct loop over PyTorch semantics', () => {
    const x = rand([1, 4, 4, 2, 3], 5) as tf.Tensor5D;
    const xs = x.arraySync() as number[][][][][];
    for (const [k, stride, padding] of [
      [1, 1, 0],
      [2, 2, 0],
      [3, 1, 1],
    ]) {
      const w = rand([k, k, k, 3, 2], 6 + k) as tf.Tensor5D;
      const ws = w.arraySync() as number[][][][][];
      const y = conv3d(x, w, undefined, { stride, padding });
      const ys = y.arraySync() as number[][][][][];
      const out = [4, 4, 2].map((s) => Math.floor((s + 2 * padding - k) / stride) + 1);
      expect(y.shape).toEqual([1, ...out, 2]);
      let worst = 0;
      for (let i = 0; i < out[0]; i++)
        for (let j = 0; j < out[1]; j++)
          for (let l = 0; l < out[2]; l++)
            for (let o = 0; o < 2; o++) {
              let s = 0;
              for (let a = 0; a < k; a++)
                for (let b = 0; b < k; b++)
                  for (let c = 0; c < k; c++) {
                    const p = [i * stride + a - padding, j * stride + b - padding, l * stride + c - padding];
                    if (p[0] < 0 || p[1] < 0 || p[2] < 0 || p[0] >= 4 || p[1] >= 4 || p[2] >= 2) continue;
                    for (let ci = 0; ci < 3; ci++) s += xs[0][p[0]][p[1]][p[2]][ci] * ws[a][b][c][ci][o];
                  }
              worst = Math.max(worst, Math.abs(s - ys[0][i][j][l][o]));
            }
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('ConvTranspose3d (k2 s2) matches PyTorch semantics from a PyTorch-layout weight, with gradients', () => {
    const layer = new ConvTranspose3d(3, 2, { rng: Rng.fromSeed(3) });
    const wt = rand([3, 2, 2, 2, 2], 9); // PyTorch [in, out, kd, kh, kw]
    layer.loadStateDict({ weight: wt });
    const x = rand([1, 2, 3, 1, 3], 10);
    const y = layer.forward(x);
    expect(y.shape).toEqual([1, 4, 6, 2, 2]);
    const xs = x.arraySync() as number[][][][][];
    const ws = wt.arraySync() as number[][][][][];
    const ys = y.arraySync() as number[][][][][];
    let worst = 0;
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 6; j++)
        for (let l = 0; l < 2; l++)
          for (let o = 0; o < 2; o++) {
            let s = 0;
            for (let ci = 0; ci < 3; ci++) s += xs[0][i >> 1][j >> 1][l >> 1][ci] * ws[ci][o][i & 1][j & 1][l & 1];
            worst = Math.max(worst, Math.abs(s - ys[0][i][j][l][o]));
          }
    expect(worst).toBeLessThan(1e-6);
    const g = tf.variableGrads(() => tf.sum(tf.square(layer.forward(x))) as tf.Scalar, [layer.weight]);
    expect(g.grads[layer.weight.name].shape).toEqual([2, 2, 2, 2, 3]);
    layer.dispose();
  });

  it('Conv3d layer checks the input channels', () => {
    const c = new Conv3d(2, 3, 3);
    expect(() => c.forward(tf.zeros([1, 4, 4, 4, 5]))).toThrow('Conv3d: expected an input [B, X, Y, Z, 2], found shape [1, 4, 4, 4, 5]');
    c.dispose();
  });

  it('window attention equals a direct per-head softmax computation', () => {
    const bw = 4;
    const n = 5;
    const heads = 2;
    const hd = 3;
    const qkv = rand([bw, n, 3 * heads * hd], 11) as tf.Tensor3D;
    const bias = rand([n, n, heads], 12) as tf.Tensor3D;
    const mask = tf.tensor3d(Array.from({ length: 2 * n * n }, (_, i) => (i % 3 === 0 ? -100 : 0)), [2, n, n]);
    const scale = hd ** -0.5;
    const y = windowAttention({ qkv, heads, bias, mask, scale });
    const q = qkv.arraySync();
    const bs = bias.arraySync();
    const ms = mask.arraySync();
    const ys = y.arraySync();
    let worst = 0;
    for (let w = 0; w < bw; w++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < n; i++) {
          const logits = Array.from({ length: n }, (_, j) => {
            let s = 0;
            for (let d = 0; d < hd; d++) s += q[w][i][h * hd + d] * scale * q[w][j][heads * hd + h * hd + d];
            return s + bs[i][j][h] + ms[w % 2][i][j];
          });
          const m = Math.max(...logits);
          const e = logits.map((l) => Math.exp(l - m));
          const z = e.reduce((a, b) => a + b, 0);
          for (let d = 0; d < hd; d++) {
            let o = 0;
            for (let j = 0; j < n; j++) o += (e[j] / z) * q[w][j][2 * heads * hd + h * hd + d];
            worst = Math.max(worst, Math.abs(o - ys[w][i][h * hd + d]));
          }
        }
    expect(worst).toBeLessThan(1e-5);
  });

  it.each([
    [2, 'kept'],
    [5, 'kept'],
    [2, 'recomputed'],
    [5, 'recomputed'],
  ] as [number, string][])('the fused JS kernel (cpu, head dim %i, probabilities %s) equals the tfjs formulation in value and gradients', async (hd, probabilities) => {
    const { setKeptProbabilityBudget } = await import('../src/ops/attention-js.js');
    setKeptProbabilityBudget(probabilities === 'kept' ? 1 << 26 : 0);
    const bw = 4;
    const n = 7;
    const heads = 3;
    const qkv = rand([bw, n, 3 * heads * hd], 21) as tf.Tensor3D;
    const bias = rand([n, n, heads], 22) as tf.Tensor3D;
    const w = rand([bw, n, heads * hd], 23);
    for (const mask of [null, tf.tensor3d(Array.from({ length: 2 * n * n }, (_, i) => (i % 5 === 0 ? -100 : 0)), [2, n, n])]) {
      const run = (impl: 'js' | 'tf') => (q: tf.Tensor, b: tf.Tensor) => {
        const inputs = { qkv: q as tf.Tensor3D, heads, bias: b as tf.Tensor3D, mask, scale: hd ** -0.5 };
        const y = impl === 'js' ? jsWindowAttention(inputs, tfjsWindowAttention) : tfjsWindowAttention(inputs);
        return tf.sum(tf.mul(y, w));
      };
      expect(Math.abs((run('js')(qkv, bias).arraySync() as number) - (run('tf')(qkv, bias).arraySync() as number))).toBeLessThan(1e-5);
      const gj = tf.grads(run('js'))([qkv, bias]);
      const gt = tf.grads(run('tf'))([qkv, bias]);
      gj.forEach((g, i) => expect(maxAbs(g, gt[i])).toBeLessThan(1e-5));
    }
    setKeptProbabilityBudget(1 << 26);
  });

  it('the fused JS kernel skips discarded (padding) query rows without changing the others or any gradient', () => {
    const bw = 2;
    const n = 6;
    const heads = 2;
    const hd = 4;
    const qkv = rand([bw, n, 3 * heads * hd], 24) as tf.Tensor3D;
    const bias = rand([n, n, heads], 25) as tf.Tensor3D;
    const discardedRows = Int32Array.from({ length: bw * n }, (_, r) => (r % n >= 4 ? -1 : r));
    // Loss weights are zero on discarded rows, as after the window-reverse gather.
    const keep = tf.tensor3d(Array.from({ length: bw * n * heads * hd }, (_, k) => (Math.floor(k / (heads * hd)) % n >= 4 ? 0 : 1)), [bw, n, heads * hd]);
    const w = tf.mul(rand([bw, n, heads * hd], 26), keep);
    const run = (impl: 'js' | 'tf') => (q: tf.Tensor, b: tf.Tensor) => {
      const inputs = { qkv: q as tf.Tensor3D, heads, bias: b as tf.Tensor3D, mask: null, scale: hd ** -0.5, discardedRows };
      const y = impl === 'js' ? jsWindowAttention(inputs, tfjsWindowAttention) : tfjsWindowAttention(inputs);
      return tf.sum(tf.mul(y, w));
    };
    const yJs = jsWindowAttention({ qkv, heads, bias, mask: null, scale: hd ** -0.5, discardedRows }, tfjsWindowAttention);
    const yTf = tfjsWindowAttention({ qkv, heads, bias, mask: null, scale: hd ** -0.5 });
    expect(maxAbs(tf.mul(yJs, keep), tf.mul(yTf, keep))).toBeLessThan(1e-6);
    expect(tf.sum(tf.abs(tf.mul(yJs, tf.sub(1, keep)))).dataSync()[0]).toBe(0);
    const gj = tf.grads(run('js'))([qkv, bias]);
    const gt = tf.grads(run('tf'))([qkv, bias]);
    gj.forEach((g, i) => expect(maxAbs(g, gt[i])).toBeLessThan(1e-5));
    expect(() => windowAttention({ qkv, heads, bias, mask: null, scale: 1, discardedRows: new Int32Array(3) })).toThrow(
      'windowAttention: expected discardedRows of 2·6 = 12 entries, found 3',
    );
  });

  it('a registered implementation replaces the default for its backend only', () => {
    let calls = 0;
    const impl: LinearImplementation = (x, w) => {
      calls++;
      return tf.matMul(x as tf.Tensor2D, w);
    };
    registerOpImplementation('linear', 'cpu', impl);
    linear(tf.ones([2, 3]), tf.ones([3, 1]) as tf.Tensor2D);
    registerOpImplementation('linear', 'wasm', impl);
    registerOpImplementation('linear', 'cpu', undefined);
    linear(tf.ones([2, 3]), tf.ones([3, 1]) as tf.Tensor2D);
    registerOpImplementation('linear', 'wasm', undefined);
    expect(calls).toBe(1);
  });
});

describe('functional layers', () => {
  it('gelu is the exact erf form', () => {
    const y = gelu(tf.tensor1d([-3, -1, 0, 0.5, 2])).arraySync() as number[];
    // 0.5·x·(1+erf(x/√2)) computed in float64
    const ref = [-0.004049694285, -0.158655253931, 0, 0.345731436464, 1.954499736104];
    y.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(2e-6));
  });

  it('layerNorm and instanceNorm3d normalise with biased variance and eps 1e-5', () => {
    const x = tf.tensor2d([[1, 2, 3, 6]]);
    const y = layerNorm(x, tf.tensor1d([2, 2, 2, 2]), tf.tensor1d([1, 1, 1, 1])).arraySync() as number[][];
    const mean = 3;
    const v = (4 + 1 + 0 + 9) / 4;
    [1, 2, 3, 6].forEach((xi, i) => expect(y[0][i]).toBeCloseTo(((xi - mean) / Math.sqrt(v + 1e-5)) * 2 + 1, 5));
    const vol = rand([2, 3, 2, 2, 4], 13);
    const n = instanceNorm3d(vol);
    const { mean: m, variance } = tf.moments(n, [1, 2, 3]);
    expect(tf.max(tf.abs(m)).arraySync()).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(tf.sub(variance, 1))).arraySync()).toBeLessThan(1e-3);
  });

  it('dropout and drop-path act only in training mode and repeat with the same seed', () => {
    const x = tf.ones([4, 50]);
    const d1 = new Dropout(0.5, { rng: Rng.fromSeed(3) });
    const d2 = new Dropout(0.5, { rng: Rng.fromSeed(3) });
    const a = d1.forward(x).dataSync();
    expect(Array.from(d2.forward(x).dataSync())).toEqual(Array.from(a));
    expect(new Set(a)).toEqual(new Set([0, 2]));
    d1.eval();
    expect(d1.forward(x)).toBe(x);
    const dp = new DropPath(0.5, { rng: Rng.fromSeed(4) });
    const rows = dp.forward(x).arraySync() as number[][];
    rows.forEach((r) => expect(new Set(r).size).toBe(1));
  });
});

describe('spaceToDepth2 / depthToSpace2', () => {
  it('group 2×2×2 neighbours in slot order and invert each other', async () => {
    const { spaceToDepth2, depthToSpace2 } = await import('../src/index.js');
    const x = rand([1, 4, 2, 2, 3], 61) as tf.Tensor5D;
    const xs = x.arraySync() as number[][][][][];
    const order = [0, 4, 2, 1, 5, 2, 1, 7];
    const y = spaceToDepth2(x, order).arraySync() as number[][][][][];
    for (let i = 0; i < 2; i++)
      for (let slot = 0; slot < 8; slot++) {
        const k = order[slot];
        const src = xs[0][2 * i + (k >> 2)][(k >> 1) & 1][k & 1];
        expect(y[0][i][0][0].slice(slot * 3, slot * 3 + 3)).toEqual(src);
      }
    expect(depthToSpace2(spaceToDepth2(x)).arraySync()).toEqual(xs);
  });
});

describe('concatChannels', () => {
  it('equals tf.concat on the last axis, with split gradients', async () => {
    const { concatChannels } = await import('../src/index.js');
    const a = rand([2, 3, 2], 51);
    const b = rand([2, 3, 1], 52);
    expect(concatChannels([a, b]).arraySync()).toEqual(tf.concat([a, b], -1).arraySync());
    const w = rand([2, 3, 3], 53);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(concatChannels([x, y]), w)))([a, b]);
    expect(ga.arraySync()).toEqual(tf.slice(w, [0, 0, 0], [2, 3, 2]).arraySync());
    expect(gb.arraySync()).toEqual(tf.slice(w, [0, 0, 2], [2, 3, 1]).arraySync());
    expect(() => concatChannels([a, rand([2, 2, 1], 54)])).toThrow('concatChannels: every input needs the leading shape [2, 3], found [2, 2, 1]');
  });
});

describe('JavaScript conv3d (cpu, wasm)', () => {
  afterEach(() => {
    delete process.env.SWINMM_GEMM;
  });

  it('multiplies matrices on wasm XNNPACK next to the cpu backend, or in JavaScript when told to', async () => {
    const { gemm, gemmEngine } = await import('../src/ops/gemm.js');
    const a = Float32Array.from({ length: 5 * 7 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 7 * 3 }, (_, i) => Math.cos(i));
    const expected = tf.matMul(tf.tensor2d(a, [5, 7]), tf.tensor2d(b, [7, 3])).dataSync();
    expect(gemmEngine()).toBe('wasm');
    const viaWasm = gemm(a, b, 5, 7, 3);
    process.env.SWINMM_GEMM = 'js';
    expect(gemmEngine()).toBe('js');
    const viaJs = gemm(a, b, 5, 7, 3);
    for (let i = 0; i < expected.length; i++) {
      expect(Math.abs(viaWasm[i] - expected[i])).toBeLessThan(1e-5);
      expect(Math.abs(viaJs[i] - expected[i])).toBeLessThan(1e-5);
    }
    expect(() => gemm(a, b, 5, 8, 3)).toThrow('gemm: expected a of 5×8 and b of 8×3 elements, found 35 and 21');
  });

  it.each([
    [20000, 3, 5], // transposes a (fewer columns), three row blocks
    [20000, 6, 2], // transposes b and the product back
    [7, 4, 4],
  ])('addTransposedProduct over %i rows (%i, %i columns) adds Aᵀ·B to a float64 sum as a float64 loop does', async (rows, ka, kb) => {
    const { addTransposedProduct } = await import('../src/ops/gemm.js');
    const a = Float32Array.from({ length: rows * ka }, (_, i) => Math.sin(0.37 * i));
    const b = Float32Array.from({ length: rows * kb }, (_, i) => Math.cos(0.11 * i));
    const expected = new Float64Array(ka * kb).fill(0.5);
    for (let r = 0; r < rows; r++) for (let i = 0; i < ka; i++) for (let j = 0; j < kb; j++) expected[i * kb + j] += a[r * ka + i] * b[r * kb + j];
    const into = new Float64Array(ka * kb).fill(0.5);
    addTransposedProduct(into, a, b, rows, ka, kb);
    for (let i = 0; i < expected.length; i++) expect(Math.abs(into[i] - expected[i]) / (Math.abs(expected[i]) + 1)).toBeLessThan(1e-5);
  });

  it.each([
    ['wasm', [2, 4, 3, 5, 3], 3],
    ['js', [2, 4, 3, 5, 3], 3],
    // More voxels than one filter-gradient slab (8192 rows), and a k5 filter.
    ['wasm', [1, 24, 20, 20, 2], 3],
    ['js', [1, 6, 5, 7, 2], 5],
  ] as [string, number[], number][])('%s engine, input %j, kernel %i: equals tfjs conv3d (same padding) in value and both gradients', async (engine, shape, k) => {
    if (engine === 'js') process.env.SWINMM_GEMM = 'js';
    const { jsConv3dSame } = await import('../src/ops/conv-js.js');
    const p = (k - 1) / 2;
    const x = rand(shape, 41) as tf.Tensor5D;
    const w = rand([k, k, k, shape[4], 4], 42) as tf.Tensor5D;
    const r = rand([...shape.slice(0, 4), 4], 43);
    const ref = (xx: tf.Tensor, ww: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv3d(tf.pad(xx as tf.Tensor5D, [[0, 0], [p, p], [p, p], [p, p], [0, 0]]), ww as tf.Tensor5D, 1, 'valid'), r));
    const ours = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(jsConv3dSame(xx as tf.Tensor5D, ww as tf.Tensor5D), r));
    const scale = Math.abs(ref(x, w).arraySync() as number) + 1;
    expect(Math.abs((ref(x, w).arraySync() as number) - (ours(x, w).arraySync() as number)) / scale).toBeLessThan(1e-5);
    const gr = tf.grads(ref)([x, w]);
    const go = tf.grads(ours)([x, w]);
    gr.forEach((t, i) => expect(maxAbs(t, go[i]) / (tf.max(tf.abs(t)).dataSync()[0] + 1)).toBeLessThan(1e-5));
  });
});

describe('JavaScript norms (cpu) against the tfjs formulation', () => {
  it('layer norm with and without affine, and instance norm: values and gradients', async () => {
    const { jsLayerNorm, jsInstanceNorm3d } = await import('../src/ops/norm-js.js');
    const x = rand([3, 4, 5], 31);
    const g = rand([5], 32);
    const b = rand([5], 33);
    const w = rand([3, 4, 5], 34);
    const ref = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
      const { mean, variance } = tf.moments(xx, -1, true);
      return tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, 1e-5))), gg), bb), w));
    };
    const ours = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(jsLayerNorm(xx, gg, bb, 1e-5), w));
    const gr = tf.grads(ref)([x, g, b]);
    const go = tf.grads(ours)([x, g, b]);
    gr.forEach((t, i) => expect(maxAbs(t, go[i])).toBeLessThan(2e-5));
    const plain = (xx: tf.Tensor) => tf.sum(tf.mul(jsLayerNorm(xx, undefined, undefined, 1e-5), w));
    const plainRef = (xx: tf.Tensor) => ref(xx, tf.ones([5]), tf.zeros([5]));
    expect(maxAbs(tf.grad(plain)(x), tf.grad(plainRef)(x))).toBeLessThan(2e-5);
    const v = rand([2, 3, 2, 4, 3], 35);
    const wv = rand([2, 3, 2, 4, 3], 36);
    const inRef = (xx: tf.Tensor) => {
      const { mean, variance } = tf.moments(xx, [1, 2, 3], true);
      return tf.sum(tf.mul(tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, 1e-5))), wv));
    };
    const inOurs = (xx: tf.Tensor) => tf.sum(tf.mul(jsInstanceNorm3d(xx, 1e-5), wv));
    expect(Math.abs((inRef(v).arraySync() as number) - (inOurs(v).arraySync() as number))).toBeLessThan(1e-4);
    expect(maxAbs(tf.grad(inRef)(v), tf.grad(inOurs)(v))).toBeLessThan(2e-5);
  });

  it('gatherRows copies rows, fills zeros for −1 and scatters gradients back', async () => {
    const { gatherRows } = await import('../src/index.js');
    const x = rand([4, 3], 37) as tf.Tensor2D;
    const idx = Int32Array.from([2, -1, 0, 2]);
    const y = gatherRows(x, idx);
    const xs = x.arraySync();
    expect(y.arraySync()).toEqual([xs[2], [0, 0, 0], xs[0], xs[2]]);
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(gatherRows(xx as tf.Tensor2D, idx), tf.tensor2d([[1, 1, 1], [5, 5, 5], [2, 2, 2], [3, 3, 3]]))))(x);
    expect(gx.arraySync()).toEqual([[2, 2, 2], [0, 0, 0], [4, 4, 4], [0, 0, 0]]);
    expect(() => gatherRows(x, Int32Array.from([4]))).toThrow('gatherRows: index 4 at position 0 is out of range for 4 rows');
  });
});

describe('fused GELU, log-softmax and LeakyReLU (cpu)', () => {
  it('equal the tfjs formulations in value and gradient', async () => {
    const { jsGelu, jsLogSoftmax } = await import('../src/ops/pointwise-js.js');
    const x = tf.mul(rand([3, 4, 7], 61), 4);
    const r = rand([3, 4, 7], 62);
    const geluRef = (xx: tf.Tensor) => tf.sum(tf.mul(tf.mul(tf.mul(xx, 0.5), tf.add(tf.erf(tf.mul(xx, Math.SQRT1_2)), 1)), r));
    const geluOurs = (xx: tf.Tensor) => tf.sum(tf.mul(jsGelu(xx), r));
    expect(Math.abs((geluRef(x).arraySync() as number) - (geluOurs(x).arraySync() as number))).toBeLessThan(1e-5);
    expect(maxAbs(tf.grad(geluRef)(x), tf.grad(geluOurs)(x))).toBeLessThan(1e-5);
    const lsRef = (xx: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(xx), r));
    const lsOurs = (xx: tf.Tensor) => tf.sum(tf.mul(jsLogSoftmax(xx), r));
    expect(maxAbs(jsLogSoftmax(x), tf.logSoftmax(x))).toBeLessThan(1e-6);
    expect(Math.abs((lsRef(x).arraySync() as number) - (lsOurs(x).arraySync() as number))).toBeLessThan(1e-5);
    expect(maxAbs(tf.grad(lsRef)(x), tf.grad(lsOurs)(x))).toBeLessThan(1e-5);
    const { jsLeakyRelu } = await import('../src/ops/pointwise-js.js');
    const lrRef = (xx: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(xx, 0.01), r));
    const lrOurs = (xx: tf.Tensor) => tf.sum(tf.mul(jsLeakyRelu(xx, 0.01), r));
    expect(maxAbs(jsLeakyRelu(x, 0.01), tf.leakyRelu(x, 0.01))).toBe(0);
    expect(maxAbs(tf.grad(lrRef)(x), tf.grad(lrOurs)(x))).toBeLessThan(1e-6);
    // A known value: GELU(1) = 0.8413447… (exact erf; the A&S erf is within 1.5e-7).
    expect(Math.abs(jsGelu(tf.scalar(1)).dataSync()[0] - 0.8413447460685429)).toBeLessThan(2e-7);
  });
});
