import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@swinmm/runtime';
import { SSLHead } from '../src/index.js';
import { loadSslFixture } from './helpers.js';
import { fixtureModel } from './model-helpers.js';

const { json } = loadSslFixture();

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('SSLHead', () => {
  it('has the official parameter names and count (134 tensors, 1,459,639 values)', () => {
    const model = new SSLHead({ inChannels: 1, featureSize: 12 });
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toEqual(Object.keys(json.weight_sha256));
    expect(model.parameterCount()).toBe(1459639);
    expect(model.noWeightDecay().length).toBe(8);
    model.dispose();
  });

  it('loads the fixture weights (regenerated with detrand, every sha256 checked) in PyTorch layout and gives them back', () => {
    const model = fixtureModel();
    const state = model.stateDict();
    const w = state.get('conv.20.weight') as tf.Tensor;
    expect(w.shape).toEqual([1, 12, 1, 1, 1]);
    const ours = model.namedParameters().find(([n]) => n === 'conv.20.weight')?.[1].variable as tf.Variable;
    expect(ours.shape).toEqual([1, 1, 1, 12, 1]); // channels-last filter [kd, kh, kw, in, out]
    const missing = new Map(state);
    missing.delete('rotation_head.bias');
    expect(() => model.loadStateDict(missing)).toThrow(/rotation_head\.bias/);
    tf.dispose([...state.values()]);
    model.dispose();
  });

  it('refuses inputs whose last hidden state has fewer than 2 tokens and wrong widths', () => {
    expect(() => new SSLHead({ inChannels: 1, featureSize: 12, dim: 96 })).toThrow(/dim must equal 16·featureSize = 192/);
    const model = new SSLHead({ inChannels: 1, featureSize: 3, numHeads: [1, 1, 1, 1], depths: [1, 1, 1, 1] });
    const x = tf.zeros([1, 32, 32, 32, 1]) as tf.Tensor5D;
    expect(() => model.forward(x)).toThrow(/1 token\(s\).*need 2/);
    x.dispose();
    model.dispose();
  });
});
