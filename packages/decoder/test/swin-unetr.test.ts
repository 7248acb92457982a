import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import { StateDictError, withoutInitialisation } from '@swinmm/nn';
import { PatchMerging, SwinTransformerBlock } from '@swinmm/swin';
import { SwinUNETR, UnetBasicBlock, UnetResBlock, UnetrUpBlock, diceCELoss, diceCELossParts } from '../src/index.js';

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(Rng.fromSeed(seed).uniformArray(shape.reduce((a, b) => a * b, 1), -1, 1), shape);
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('SwinUNETR construction', () => {
  it.each([
    [48, 14, false, 62187296],
    [48, 17, false, 62187443],
    [24, 14, false, 15703304],
    [48, 14, true, 62187296 + 10575360],
  ])('F %i, %i classes, useV2 %s has the parameter count of SPEC.md §4.12 (%i)', (featureSize, outChannels, useV2, expected) => {
    const model = withoutInitialisation(() => new SwinUNETR({ imgSize: 96, inChannels: 1, outChannels, featureSize, useV2 }));
    expect(model.parameterCount()).toBe(expected);
    if (!useV2 && featureSize === 48) {
      const count = (prefix: string) => model.namedParameters().filter(([n]) => n.startsWith(prefix)).reduce((a, [, p]) => a + p.variable.size, 0);
      expect(count('swinViT.')).toBe(8062002);
      expect(count('encoder10.')).toBe(31850496);
      expect(count('decoder5.')).toBe(14598144);
      expect(count('out.')).toBe(outChannels === 14 ? 686 : 833);
    }
    model.dispose();
  });

  it('uses MONAI state-dict names (SPEC.md §4.14)', () => {
    const model = new SwinUNETR({ imgSize: [64, 32, 64], inChannels: 1, outChannels: 3, featureSize: 12 });
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toHaveLength(151);
    for (const n of [
      'swinViT.patch_embed.proj.weight',
      'swinViT.layers4.0.downsample.reduction.weight',
      'encoder1.layer.conv3.conv.weight',
      'encoder10.layer.conv2.conv.weight',
      'decoder5.transp_conv.conv.weight',
      'decoder1.conv_block.conv3.conv.weight',
      'out.conv.conv.bias',
    ]) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain('encoder2.layer.conv3.conv.weight');
    expect(model.torchShapes().get('decoder5.transp_conv.conv.weight')).toEqual([192, 96, 2, 2, 2]);
    model.dispose();
  });

  it('rejects imgSize not divisible by 32 and featureSize not divisible by 12', () => {
    expect(() => new SwinUNETR({ imgSize: [64, 48, 64], inChannels: 1, outChannels: 2, featureSize: 12 })).toThrow(
      'SwinUNETR: imgSize must be positive and divisible by 32 (2^5) on every axis, found [64, 48, 64]',
    );
    expect(() => new SwinUNETR({ imgSize: 64, inChannels: 1, outChannels: 2, featureSize: 16 })).toThrow('SwinUNETR: featureSize must be a positive multiple of 12, found 16');
    expect(() => new SwinUNETR({ imgSize: 64, inChannels: 1, outChannels: 2, featureSize: 12, normName: 'batch' as 'instance' })).toThrow("normName: expected 'instance'");
  });

  it('rejects inputs of the wrong rank, channel count or spatial size, naming both', () => {
    const model = new SwinUNETR({ imgSize: 64, inChannels: 2, outChannels: 2, featureSize: 12, depths: [1, 1, 1, 1] });
    expect(() => model.forward(tf.zeros([64, 64, 64, 2]) as unknown as tf.Tensor5D)).toThrow(
      'SwinUNETR: expected a rank-5 input [B, X, Y, Z, 2] (channels-last), found rank 4 with shape [64, 64, 64, 2]',
    );
    expect(() => model.forward(tf.zeros([1, 64, 64, 64, 1]) as tf.Tensor5D)).toThrow(
      'SwinUNETR: expected 2 input channel(s) on the last axis of [B, X, Y, Z, C], found shape [1, 64, 64, 64, 1]',
    );
    expect(() => model.forward(tf.zeros([1, 64, 40, 64, 2]) as tf.Tensor5D)).toThrow('SwinUNETR: spatial sizes must be divisible by 32 (2^5), found [64, 40, 64]');
    model.dispose();
  });

  it('a state dict with a wrong shape fails naming the parameter and both shapes', () => {
    const model = new SwinUNETR({ imgSize: 64, inChannels: 1, outChannels: 3, featureSize: 12 });
    const sd = model.stateDict();
    sd.get('decoder2.transp_conv.conv.weight')!.dispose();
    sd.set('decoder2.transp_conv.conv.weight', tf.zeros([12, 24, 2, 2, 2]));
    expect(() => model.loadStateDict(sd)).toThrow(StateDictError);
    expect(() => model.loadStateDict(sd)).toThrow('decoder2.transp_conv.conv.weight: expected [24, 12, 2, 2, 2] (PyTorch layout), found [12, 24, 2, 2, 2]');
    tf.dispose([...sd.values()]);
    model.dispose();
  });
});

describe('UNETR blocks', () => {
  it('UnetResBlock equals its definition written with tfjs ops', () => {
    const block = new UnetResBlock(2, 3, { rng: Rng.fromSeed(2) });
    const x = rand([1, 4, 4, 4, 2], 3) as tf.Tensor5D;
    const inorm = (t: tf.Tensor) => {
      const { mean, variance } = tf.moments(t, [1, 2, 3], true);
      return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5)));
    };
    const conv = (t: tf.Tensor, w: tf.Variable, p: number) => tf.conv3d(p ? tf.pad(t as tf.Tensor5D, [[0, 0], [p, p], [p, p], [p, p], [0, 0]]) : (t as tf.Tensor5D), w as tf.Tensor5D, 1, 'valid');
    const ref = tf.tidy(() => {
      const y = tf.leakyRelu(inorm(conv(x, block.conv1.conv.weight, 1)), 0.01);
      const z = inorm(conv(y, block.conv2.conv.weight, 1));
      return tf.leakyRelu(tf.add(z, inorm(conv(x, block.conv3!.conv.weight, 0))), 0.01);
    });
    expect(tf.max(tf.abs(tf.sub(block.forward(x), ref))).arraySync()).toBeLessThan(1e-5);
    block.dispose();
  });

  it('UnetrUpBlock upsamples, concatenates the skip and checks its shape', () => {
    const up = new UnetrUpBlock(4, 2);
    const y = up.forward(rand([1, 2, 2, 2, 4], 4) as tf.Tensor5D, rand([1, 4, 4, 4, 2], 5) as tf.Tensor5D);
    expect(y.shape).toEqual([1, 4, 4, 4, 2]);
    expect(() => up.forward(rand([1, 2, 2, 2, 4], 4) as tf.Tensor5D, rand([1, 4, 4, 4, 3], 5) as tf.Tensor5D)).toThrow(
      'UnetrUpBlock: expected a skip [1, 4, 4, 4, 2], found [1, 4, 4, 4, 3]',
    );
    up.dispose();
  });
});

describe('diceCELoss', () => {
  it('matches the MONAI definition computed by hand on a small case', () => {
    const logits = tf.tensor([0.2, -1, 0.5, 2, 0.1, -0.3, 0, 0, 1, -2, 3, 0.5], [1, 2, 2, 1, 3]);
    const labels = tf.tensor([0, 1, 2, 1], [1, 2, 2, 1], 'int32');
    const l = logits.arraySync() as number[][][][][];
    const y = [0, 1, 2, 1];
    const p = [0, 1, 2, 3].map((v) => {
      const z = l[0][v >> 1][v & 1][0];
      const m = Math.max(...z);
      const e = z.map((q) => Math.exp(q - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((q) => q / s);
    });
    let dice = 0;
    for (let c = 0; c < 3; c++) {
      let inter = 0;
      let g = 0;
      let pr = 0;
      for (let v = 0; v < 4; v++) {
        const yc = y[v] === c ? 1 : 0;
        inter += p[v][c] * yc;
        g += yc;
        pr += p[v][c];
      }
      dice += 1 - (2 * inter + 1e-5) / (g + pr + 1e-5);
    }
    dice /= 3;
    const ce = -[0, 1, 2, 3].reduce((a, v) => a + Math.log(p[v][y[v]]), 0) / 4;
    const parts = diceCELossParts(logits, labels);
    expect(parts.dice.arraySync()).toBeCloseTo(dice, 6);
    expect(parts.ce.arraySync()).toBeCloseTo(ce, 6);
    expect(diceCELoss(logits, tf.reshape(labels, [1, 2, 2, 1, 1])).arraySync()).toBeCloseTo(dice + ce, 6);
    expect(() => diceCELoss(logits, tf.tensor([0, 1, 3, 1], [1, 2, 2, 1], 'int32'))).toThrow('labels must be integer classes in [0, 3) for 3-channel logits, found values in [0, 3]');
    expect(() => diceCELoss(logits, tf.zeros([1, 2, 2], 'int32'))).toThrow('expected a label map [1, 2, 2, 1] or [1, 2, 2, 1, 1]');
  });
});

describe('training steps', () => {
  it('a repeated step (forward, DiceCE, backward, Adam update) leaves tf.memory().numTensors unchanged', () => {
    const model = new SwinUNETR({ imgSize: [32, 64, 32], inChannels: 1, outChannels: 2, featureSize: 12, depths: [1, 1, 1, 1] });
    const x = rand([1, 32, 64, 32, 1], 6) as tf.Tensor5D;
    const label = tf.tidy(() => tf.cast(tf.greater(rand([1, 32, 64, 32], 7), 0.3), 'int32'));
    const optimizer = tf.train.adam(1e-3);
    const step = () => {
      const cost = optimizer.minimize(() => diceCELoss(model.forward(x), label), true, model.parameters());
      const value = cost!.arraySync();
      cost!.dispose();
      return value;
    };
    // The first step creates Adam's slots; every later step must leave the count unchanged.
    const first = step();
    const after1 = tf.memory().numTensors;
    const second = step();
    expect(tf.memory().numTensors).toBe(after1);
    expect(Number.isFinite(first) && Number.isFinite(second)).toBe(true);
    expect(second).toBeLessThan(first);
    optimizer.dispose();
    model.dispose();
  });
});

describe('inference memory', () => {
  // Without a gradient tape, a block's intermediates must be freed when the block returns (not
  // at the end of the whole forward pass): the F 48 / 96³ forward pass only fits the wasm
  // backend's 4 GB heap that way (tools/bench-models).
  it('each block leaves exactly its output behind', () => {
    const rng = Rng.fromSeed(3);
    const x8 = rand([1, 8, 8, 8, 4], 8) as tf.Tensor5D;
    const x4 = rand([1, 4, 4, 4, 4], 9) as tf.Tensor5D;
    const skip = rand([1, 8, 8, 8, 2], 10) as tf.Tensor5D;
    const blocks = {
      UnetResBlock: new UnetResBlock(4, 2, { rng }),
      UnetBasicBlock: new UnetBasicBlock(4, 2, { rng }),
      UnetrUpBlock: new UnetrUpBlock(4, 2, { rng }),
      SwinTransformerBlock: new SwinTransformerBlock(4, 2, [7, 7, 7], [0, 0, 0], { rng }),
      PatchMerging: new PatchMerging(4, 'merging', rng),
    };
    const runs: [string, () => tf.Tensor][] = [
      ['UnetResBlock', () => blocks.UnetResBlock.forward(x8)],
      ['UnetBasicBlock', () => blocks.UnetBasicBlock.forward(x8)],
      ['UnetrUpBlock', () => blocks.UnetrUpBlock.forward(x4, skip)],
      ['SwinTransformerBlock', () => blocks.SwinTransformerBlock.forward(x8, null)],
      ['PatchMerging', () => blocks.PatchMerging.forward(x8)],
    ];
    for (const [name, run] of runs) {
      const before = tf.memory().numTensors;
      const y = run();
      expect({ name, newTensors: tf.memory().numTensors - before }).toEqual({ name, newTensors: 1 });
      expect(Number.isFinite(tf.tidy(() => y.sum().arraySync() as number))).toBe(true);
      y.dispose();
    }
    for (const block of Object.values(blocks)) block.dispose();
    tf.dispose([x8, x4, skip]);
  });
});
