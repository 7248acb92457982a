import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { detrandParameter, initBackend } from '@swinmm/runtime';
import { AdamW, clipGradNorm, globalGradNorm, paramGroupsWeightDecay, type NamedVariable } from '../src/index.js';
import { loadAdamWFixture } from './helpers.js';

const { json, tensors } = loadAdamWFixture();

function sha256(a: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('paramGroupsWeightDecay', () => {
  it('reproduces the SSLHead split of the fixture: 89 no-decay (incl. the 8 bias tables) and 45 decay', () => {
    const vars: NamedVariable[] = Object.entries(json.param_shapes).map(([n, s]) => [n, tf.variable(tf.zeros([s.reduce((a, b) => a * b, 1)]).reshape(s))]);
    const [noDecay, decay] = paramGroupsWeightDecay(vars, { weightDecay: json.adamw.weight_decay });
    expect(noDecay.params.length).toBe(json.adamw.groups['no_decay (wd 0)']);
    expect(decay.params.length).toBe(json.adamw.groups['decay (wd 0.1)']);
    expect(noDecay.params.filter(([, v]) => v.rank > 1).map(([n]) => n)).toEqual(json.adamw.no_decay_2d_names);
    expect(noDecay.weightDecay).toBe(0);
    expect(decay.weightDecay).toBe(0.1);
    for (const [name, info] of Object.entries(json.updated)) {
      const inDecay = decay.params.some(([n]) => n === name);
      expect(inDecay ? 0.1 : 0).toBe(info.weight_decay);
    }
    tf.dispose(vars.map(([, v]) => v));
  });
});

describe('AdamW', () => {
  it('one step from the detrand weights and the stored gradients reproduces PyTorch (rel 1e-6)', () => {
    const names = Object.keys(json.params);
    const vars: NamedVariable[] = names.map((n) => {
      const p = json.params[n];
      const init = detrandParameter(n, p.shape, 0);
      expect(sha256(init)).toBe(p.sha256); // the regenerated weights are the fixture's
      return [n, tf.variable(tf.tensor(init, p.shape))];
    });
    const groups = paramGroupsWeightDecay(vars, { weightDecay: json.adamw.weight_decay });
    const opt = new AdamW(groups, { lr: json.adamw.lr, betas: json.adamw.betas, eps: json.adamw.eps });
    const grads = new Map<string, tf.Tensor>();
    for (const n of names) {
      const g = tensors.get(`grad.${n}`);
      if (!g) throw new Error(`fixture lacks grad.${n}`);
      expect(sha256(g.data as Float32Array)).toBe(json.tensor_sha256[`grad.${n}`]);
      grads.set(n, tf.tensor(g.data as Float32Array, g.shape));
    }
    opt.step(grads);
    for (const [n, v] of vars) {
      const ref = tensors.get(`adamw.${n}`)?.data as Float32Array;
      const got = v.dataSync();
      // The fixture's criterion: relative error 1e-6 (per element, and over the tensor).
      let worst = 0;
      let num = 0;
      let den = 0;
      for (let i = 0; i < ref.length; i++) {
        worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(Math.abs(ref[i]), 1e-12));
        num += (got[i] - ref[i]) ** 2;
        den += ref[i] ** 2;
      }
      expect(worst).toBeLessThanOrEqual(1e-6);
      expect(Math.sqrt(num / den)).toBeLessThanOrEqual(1e-6);
      // With torch's evaluation order (addcmul / addcdiv) the cpu backend is in fact bit-exact.
      expect(sha256(got as Float32Array)).toBe(json.updated[n].sha256_after);
      expect(opt.stepCount(n)).toBe(1);
    }
    tf.dispose([...grads.values()]);
    opt.dispose();
    tf.dispose(vars.map(([, v]) => v));
  });

  it('applies decoupled decay before the moments and eps after bias correction (hand-computed, 2 steps)', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new AdamW([['p', p]], { lr: 0.1, betas: [0.5, 0.75], eps: 0.01, weightDecay: 0.2 });
    let x = [1, -2];
    let m = [0, 0];
    let v = [0, 0];
    const gs = [
      [0.5, 1],
      [-0.25, 2],
    ];
    gs.forEach((g, k) => {
      const t = k + 1;
      x = x.map((xi) => xi * (1 - 0.1 * 0.2));
      m = m.map((mi, i) => mi * 0.5 + g[i] * 0.5);
      v = v.map((vi, i) => vi * 0.75 + 0.25 * g[i] * g[i]);
      x = x.map((xi, i) => xi - (0.1 / (1 - 0.5 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.75 ** t) + 0.01)));
      const gt = tf.tensor1d(g);
      opt.step(new Map([['p', gt]]));
      gt.dispose();
    });
    const got = p.dataSync();
    x.forEach((xi, i) => expect(got[i]).toBeCloseTo(xi, 6));
    opt.dispose();
    p.dispose();
  });

  it('skips parameters without a gradient and rejects unknown names and wrong shapes', () => {
    const a = tf.variable(tf.ones([2]));
    const b = tf.variable(tf.ones([3]));
    const opt = new AdamW([['a', a], ['b', b]], { lr: 0.1 });
    const g = tf.ones([2]);
    opt.step(new Map([['a', g]]));
    expect(opt.stepCount('a')).toBe(1);
    expect(opt.stepCount('b')).toBe(0);
    expect(Array.from(b.dataSync())).toEqual([1, 1, 1]);
    expect(() => opt.step(new Map([['zzz', g]]))).toThrow(/unknown parameter "zzz"/);
    expect(() => opt.step(new Map([['b', g]]))).toThrow(/"b" has shape \[2\], expected \[3\]/);
    g.dispose();
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('saves and restores its state so that later steps are bit-identical, without leaking tensors', async () => {
    const make = () => tf.variable(tf.tensor2d([[0.3, -0.7], [1.1, 0.2]]));
    const pa = make();
    const pb = make();
    const oa = new AdamW([{ name: 'decay', params: [['w', pa]], weightDecay: 0.1 }], { lr: 0.01 });
    const ob = new AdamW([{ name: 'decay', params: [['w', pb]], weightDecay: 0.1 }], { lr: 0.01 });
    const grad = (k: number) => tf.tensor2d([[Math.sin(k), Math.cos(k)], [0.1 * k, -0.2]]);
    for (let k = 0; k < 3; k++) {
      const g = grad(k);
      oa.step(new Map([['w', g]]));
      g.dispose();
    }
    pb.assign(pa);
    oa.paramGroups[0].lr = 0.005;
    ob.setState(await oa.getState());
    expect(ob.paramGroups[0].lr).toBe(0.005);
    const before = tf.memory().numTensors;
    for (let k = 3; k < 6; k++) {
      const g = grad(k);
      oa.step(new Map([['w', g]]));
      ob.step(new Map([['w', g]]));
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(pb.dataSync())).toEqual(Array.from(pa.dataSync()));
    const sa = await oa.getState();
    const sb = await ob.getState();
    expect(Array.from(sb.expAvg.get('w')?.data ?? [])).toEqual(Array.from(sa.expAvg.get('w')?.data ?? []));
    expect(Array.from(sb.expAvgSq.get('w')?.data ?? [])).toEqual(Array.from(sa.expAvgSq.get('w')?.data ?? []));
    expect(sb.meta.steps).toEqual({ w: 6 });
    oa.dispose();
    ob.dispose();
    tf.dispose([pa, pb]);
  });

  it('refuses a state whose parameters differ, naming them', async () => {
    const a = new AdamW([['x', tf.variable(tf.zeros([1]))]]);
    const b = new AdamW([['y', tf.variable(tf.zeros([1]))]]);
    expect(() => b.setState({ meta: { groups: [{ name: 'default', lr: 1e-3, initialLr: 1e-3, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, params: ['x'] }], steps: {} }, expAvg: new Map(), expAvgSq: new Map() })).toThrow(/"x" vs "y"/);
    expect(() => new AdamW([['x', tf.variable(tf.zeros([1]))]], { lr: -1 })).toThrow(/lr must be/);
    a.dispose();
    b.dispose();
  });
});

describe('clipGradNorm', () => {
  it('scales by maxNorm / (norm + 1e-6) when the norm is larger, like torch.nn.utils.clip_grad_norm_', () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor2d([[0, 4]])],
    ]);
    expect(globalGradNorm(grads)).toBeCloseTo(5, 6);
    const { grads: clipped, totalNorm, scale } = clipGradNorm(grads, 1);
    expect(totalNorm).toBeCloseTo(5, 6);
    expect(scale).toBeCloseTo(1 / (5 + 1e-6), 7);
    expect(clipped.get('a')?.dataSync()[0]).toBeCloseTo(3 / 5, 6);
    const { scale: none } = clipGradNorm(grads, 10);
    expect(none).toBe(1);
    expect(() => clipGradNorm(grads, 0)).toThrow(/maxNorm/);
    tf.dispose([...grads.values(), ...clipped.values()]);
  });
});
