import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, writeSafetensors } from '@swinmm/nn';
import { initBackend } from '@swinmm/runtime';
import { readLabel, readVolume } from '@swinmm/data';
import type { FinetuneModelKit, SegmenterModel } from '@swinmm/finetune';
import { runDemo } from '../src/index.js';

// The pipeline smoke test: the real pre-training (one step of the tiny preset) and every stage
// after it, with a per-voxel classifier standing in for the SwinMM segmenter so that the test
// takes a minute instead of the demo's quarter of an hour. The segmenter itself is tested in
// @swinmm/decoder and by `npm run demo`.
class VoxelClassifier implements SegmenterModel {
  readonly w = tf.variable(tf.randomUniform([1, 7], -1, 1, 'float32', 3));
  readonly b = tf.variable(tf.zeros([7]));
  forwardViews(xa: tf.Tensor5D, xb: tf.Tensor5D): [tf.Tensor5D, tf.Tensor5D] {
    const f = (x: tf.Tensor5D) => tf.tidy(() => tf.matMul(x.reshape([-1, 1]), this.w).add(this.b).reshape([...x.shape.slice(0, 4), 7]) as tf.Tensor5D);
    return [f(xa), f(xb)];
  }
  namedVariables() {
    return new Map([['out.weight', this.w], ['out.bias', this.b]]);
  }
  train() {}
  eval() {}
  dispose() {
    this.w.dispose();
    this.b.dispose();
  }
}

const kit: FinetuneModelKit<SegmenterModel> = {
  create: () => new VoxelClassifier(),
  loss: (a, b, t) => {
    const ce = (o: tf.Tensor5D) => tf.losses.softmaxCrossEntropy(tf.oneHot(t.reshape([-1]), 7), o.reshape([-1, 7])) as tf.Scalar;
    return { total: tf.add(ce(a), ce(b)) as tf.Scalar, terms: {} };
  },
  loadPretrained: async (_m, file) => ({ file, backboneLoaded: 0, backboneTotal: 0, loaded: 0, unused: 0, summary: 'stand-in' }),
  saveWeights: async (m, file) => {
    const e = new Map([...m.namedVariables()].map(([n, v]) => [n, { dtype: 'F32' as const, shape: [...v.shape], data: v.dataSync() as Float32Array }]));
    await writeFile(file, writeSafetensors(e));
  },
};

async function loadWeights(file: string) {
  const m = new VoxelClassifier();
  const t = readSafetensors(new Uint8Array(await readFile(file)));
  for (const [n, v] of m.namedVariables()) v.assign(tf.tensor(t.get(n)?.data as Float32Array, v.shape));
  return { predictor: (xa: tf.Tensor5D, xb: tf.Tensor5D) => m.forwardViews(xa, xb), dispose: () => m.dispose() };
}

describe('npm run demo pipeline (smoke)', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: () => {} });
  });

  it('pre-trains, fine-tunes, predicts on the input grid, evaluates and draws', async () => {
    const out = mkdtempSync(join(tmpdir(), 'demo-'));
    const lines: string[] = [];
    const r = await runDemo({
      outDir: out,
      dataDir: resolve(__dirname, '../../../data/itk'),
      pretrainSteps: 1,
      pretrainModel: { featureSize: 4, numHeads: [1, 2, 4, 8] },
      finetuneEpochs: 1,
      // A coarse grid and the smallest crop: the stand-in has no bottleneck to keep ≥ 2 voxels.
      finetuneOverrides: { transforms: { pixdim: [8, 5.5, 8] }, model: { roi: [32, 32, 32] } },
      views: [0],
      kit,
      loadWeights,
      progress: { write: () => true },
      log: (l) => lines.push(l),
    });
    for (const f of [r.pretrainWeights, r.pretrainLossCurve, r.finetuneWeights, r.finetuneLossCurve, r.prediction, r.metricsCsv, r.metricsMarkdown, r.overlayPng, r.groundTruthPng]) {
      expect(existsSync(f)).toBe(true);
    }
    // The prediction reads back on the input's own grid (LSA, 2×2×3 mm).
    const input = await readVolume(join(resolve(__dirname, '../../../data/itk'), 'KmeansTest_T1UCharRaw.nii.gz'));
    const pred = await readLabel(r.prediction);
    expect(pred.shape).toEqual(input.shape);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(pred.affine[i][j]).toBeCloseTo(input.affine[i][j], 5);
    expect(r.report.perClass.map((c) => c.label)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readFileSync(r.metricsMarkdown, 'utf8')).toContain('| **mean** |');
    expect([...readFileSync(r.overlayPng).subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(lines.some((l) => l.startsWith('1/4 pre-training'))).toBe(true);
    expect(lines.some((l) => l.startsWith('4/4 evaluation'))).toBe(true);
  });
});
