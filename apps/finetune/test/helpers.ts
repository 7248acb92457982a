/**
 * A small stand-in for the SwinMM segmenter so that the fine-tuning machinery (data, views,
 * pseudo-labels, schedule, checkpoints, logs) can be tested in seconds: a per-voxel linear
 * classifier shared by both views (a 1×1×1 convolution). Its loss is the mean softmax
 * cross-entropy of both branches. Every call is recorded for the assertions.
 */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { writeSafetensors } from '@swinmm/nn';
import type { FinetuneModelKit, SegmenterModel } from '../src/index.js';

export class VoxelClassifier implements SegmenterModel {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(classes: number, seed: number) {
    this.weight = tf.variable(tf.randomUniform([1, classes], -1, 1, 'float32', seed), true, `w${seed}-${Math.random()}`);
    this.bias = tf.variable(tf.zeros([classes]), true, `b${seed}-${Math.random()}`);
  }
  forwardViews(xa: tf.Tensor5D, xb: tf.Tensor5D): [tf.Tensor5D, tf.Tensor5D] {
    const f = (x: tf.Tensor5D): tf.Tensor5D => tf.tidy(() => {
      const [b, X, Y, Z] = x.shape;
      return tf.matMul(x.reshape([-1, 1]), this.weight).add(this.bias).reshape([b, X, Y, Z, -1]) as tf.Tensor5D;
    });
    return [f(xa), f(xb)];
  }
  namedVariables(): Map<string, tf.Variable> {
    return new Map([
      ['out.weight', this.weight],
      ['out.bias', this.bias],
    ]);
  }
  train(): void {}
  eval(): void {}
  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}

export interface LossCall {
  /** Whether the target equals the argmax of the two branches' mean softmax. */
  targetIsEnsemble: boolean;
  shape: number[];
}

export function voxelKit(calls: LossCall[] = []): FinetuneModelKit<VoxelClassifier> {
  return {
    create: (m, seed) => new VoxelClassifier(m.outChannels, seed),
    loss(a, b, target) {
      const C = a.shape[4];
      const same = tf.tidy(() => tf.argMax(tf.add(tf.softmax(a), tf.softmax(b)), -1).equal(target).all().dataSync()[0]);
      calls.push({ targetIsEnsemble: same === 1, shape: [...target.shape] });
      const ce = (o: tf.Tensor5D) => tf.losses.softmaxCrossEntropy(tf.oneHot(target.reshape([-1]), C), o.reshape([-1, C])) as tf.Scalar;
      const ca = ce(a);
      const cb = ce(b);
      return { total: tf.mul(tf.add(ca, cb), 0.5) as tf.Scalar, terms: { ceA: ca, ceB: cb } };
    },
    async loadPretrained(model, file) {
      return { file, backboneLoaded: 0, backboneTotal: 0, loaded: 0, unused: 0, summary: `no backbone in ${model.constructor.name}` };
    },
    async saveWeights(model, file, metadata) {
      const entries = new Map([...model.namedVariables()].map(([n, v]) => [n, { dtype: 'F32' as const, shape: [...v.shape], data: v.dataSync() as Float32Array }]));
      await writeFile(file, writeSafetensors(entries, { metadata }));
    },
  };
}
