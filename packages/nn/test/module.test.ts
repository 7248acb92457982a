import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import { Conv3d, ConvTranspose3d, LayerNorm, Linear, Module, ModuleList, StateDictError } from '../src/index.js';

class Block extends Module {
  readonly norm: LayerNorm;
  readonly proj: Linear;
  readonly conv: Conv3d;
  readonly up: ConvTranspose3d;
  constructor(rng: Rng) {
    super();
    this.norm = this.addModule('norm', new LayerNorm(4));
    this.proj = this.addModule('proj', new Linear(4, 3, { rng: rng.fork('proj') }));
    this.conv = this.addModule('conv', new Conv3d(2, 5, 3, { rng: rng.fork('conv'), bias: true }));
    this.up = this.addModule('up', new ConvTranspose3d(5, 2, { rng: rng.fork('up') }));
    this.addConstant('relative_position_index', { shape: [2, 2], values: Int32Array.from([0, 1, 2, 3]) });
  }
}

class Net extends Module {
  readonly layers: ModuleList<Block>;
  constructor() {
    super();
    const rng = Rng.fromSeed(1);
    this.layers = this.addModule('layers1', new ModuleList([new Block(rng.fork('a')), new Block(rng.fork('b'))]));
  }
}

function torchState(net: Module): Map<string, tf.Tensor> {
  // A state dict in PyTorch layout with distinct values everywhere.
  const out = new Map<string, tf.Tensor>();
  let k = 0;
  for (const [name, shape] of net.torchShapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    out.set(name, tf.tensor(Float32Array.from({ length: n }, (_, i) => k + i * 0.001), shape));
    k += 1;
  }
  return out;
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('Module', () => {
  it('names parameters with PyTorch dotted paths, in registration order', () => {
    const net = new Net();
    const names = net.namedParameters().map(([n]) => n);
    expect(names.slice(0, 7)).toEqual([
      'layers1.0.norm.weight',
      'layers1.0.norm.bias',
      'layers1.0.proj.weight',
      'layers1.0.proj.bias',
      'layers1.0.conv.weight',
      'layers1.0.conv.bias',
      'layers1.0.up.weight',
    ]);
    expect(net.parameters()).toHaveLength(14);
    expect(net.torchShapes().get('layers1.1.proj.weight')).toEqual([3, 4]);
    expect(net.torchShapes().get('layers1.1.conv.weight')).toEqual([5, 2, 3, 3, 3]);
    expect(net.torchShapes().get('layers1.1.up.weight')).toEqual([5, 2, 2, 2, 2]);
    expect(net.parameterCount()).toBe(2 * (8 + 15 + 5 * 2 * 27 + 5 + 5 * 2 * 8));
    expect(net.constantNames()).toEqual(['layers1.0.relative_position_index', 'layers1.1.relative_position_index']);
    expect(net.namedConstants().get('layers1.1.relative_position_index')).toEqual({ shape: [2, 2], values: Int32Array.from([0, 1, 2, 3]) });
    net.dispose();
  });

  it('loads a PyTorch-layout state dict, converting layouts, and stateDict gives it back', () => {
    const net = new Net();
    const sd = torchState(net);
    sd.set('layers1.0.relative_position_index', tf.zeros([343, 343], 'int32'));
    const report = net.loadStateDict(sd);
    expect(report.loaded).toHaveLength(14);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.ignoredConstants).toEqual(['layers1.0.relative_position_index']);
    // Linear [out, in] → ours [in, out]
    const w = sd.get('layers1.0.proj.weight')!.arraySync() as number[][];
    const ours = net.layers.at(0).proj.weight.arraySync() as number[][];
    expect(ours[1][2]).toBeCloseTo(w[2][1], 7);
    // Conv3d [out, in, kd, kh, kw] → [kd, kh, kw, in, out]
    const c = sd.get('layers1.0.conv.weight')!.arraySync() as number[][][][][];
    const oc = net.layers.at(0).conv.weight.arraySync() as number[][][][][];
    expect(oc[0][1][2][1][4]).toBeCloseTo(c[4][1][0][1][2], 7);
    // ConvTranspose3d [in, out, kd, kh, kw] → [kd, kh, kw, out, in]
    const u = sd.get('layers1.0.up.weight')!.arraySync() as number[][][][][];
    const ou = net.layers.at(0).up.weight.arraySync() as number[][][][][];
    expect(ou[1][0][1][1][3]).toBeCloseTo(u[3][1][1][0][1], 7);
    const back = net.stateDict();
    for (const [name, t] of back) {
      expect(t.shape).toEqual(sd.get(name)!.shape);
      expect(tf.max(tf.abs(tf.sub(t, sd.get(name)!))).arraySync()).toBe(0);
    }
    tf.dispose([...sd.values(), ...back.values()]);
    net.dispose();
  });

  it('strict loading throws naming every mismatched parameter with both shapes, and loads nothing', () => {
    const net = new Net();
    const before = net.layers.at(0).norm.weight.arraySync();
    const sd = torchState(net);
    sd.get('layers1.1.proj.weight')!.dispose();
    sd.set('layers1.1.proj.weight', tf.zeros([4, 3]));
    sd.delete('layers1.0.up.weight');
    sd.set('extra.thing', tf.zeros([1]));
    let error: unknown;
    try {
      net.loadStateDict(sd);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const message = (error as Error).message;
    expect(message).toContain('layers1.1.proj.weight: expected [3, 4] (PyTorch layout), found [4, 3]');
    expect(message).toContain('missing 1 parameter(s): layers1.0.up.weight');
    expect(message).toContain('unexpected 1 key(s): extra.thing');
    expect(net.layers.at(0).norm.weight.arraySync()).toEqual(before);
    const report = net.loadStateDict(sd, { strict: false });
    expect(report.loaded).toHaveLength(12);
    expect(report.shapeMismatch).toEqual([{ name: 'layers1.1.proj.weight', expected: [3, 4], found: [4, 3] }]);
    tf.dispose([...sd.values()]);
    net.dispose();
  });

  it('switches the whole tree between train and eval', () => {
    const net = new Net();
    expect(net.layers.at(1).proj.training).toBe(true);
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.train();
    expect(net.layers.at(0).conv.training).toBe(true);
    net.dispose();
  });

  it('initialises like PyTorch: U(±1/√fan_in), LayerNorm 1/0, deterministic per Rng', () => {
    const a = new Conv3d(4, 6, 3, { rng: Rng.fromSeed(7), bias: true });
    const b = new Conv3d(4, 6, 3, { rng: Rng.fromSeed(7), bias: true });
    const bound = 1 / Math.sqrt(4 * 27);
    const w = a.weight.dataSync();
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...w)).toBeGreaterThan(0.9 * bound);
    expect(Array.from(b.weight.dataSync())).toEqual(Array.from(w));
    const t = new ConvTranspose3d(8, 2);
    expect(Math.max(...t.weight.dataSync())).toBeLessThanOrEqual(1 / Math.sqrt(2 * 8));
    const ln = new LayerNorm(3);
    expect(Array.from(ln.weight.dataSync())).toEqual([1, 1, 1]);
    [a, b, t, ln].forEach((m) => m.dispose());
  });
});

describe('withoutInitialisation', () => {
  it('builds zero parameters (for models whose weights are loaded next)', async () => {
    const { withoutInitialisation } = await import('../src/index.js');
    const l = withoutInitialisation(() => new Linear(3, 2));
    expect(Array.from(l.weight.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    const r = new Linear(3, 2);
    expect(Array.from(r.weight.dataSync()).some((v) => v !== 0)).toBe(true);
    l.dispose();
    r.dispose();
  });
});
