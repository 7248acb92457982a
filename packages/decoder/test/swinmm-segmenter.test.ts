import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detrandParameter, initBackend } from '@swinmm/runtime';
import { readSafetensors, safetensorToFloat32 } from '@swinmm/nn';
import { klDivMean, SwinMMSegmenter, swinmmFinetuneLossParts, twoViewPseudoLabel, type ViewPair } from '../src/index.js';

/**
 * SwinMM's two-view model against the `swinmm-small` fixture (SwinMM WORD/models on MONAI 1.2.0:
 * F 12, 64³, 5 classes, detrand weights with seed 0). The cross-view attention is checked on the
 * fixture's own bottleneck inputs; the full two-branch forward is measured in tools/ (too slow for
 * the default CPU test run).
 */
const FIXTURES = join(__dirname, 'fixtures', 'swinmm-small');
const io = readSafetensors(readFileSync(join(FIXTURES, 'io.safetensors')));
const meta = JSON.parse(readFileSync(join(FIXTURES, 'io.json'), 'utf8'));

/** A fixture tensor, NCDHW → channels-last when it is a volume. */
function ref(name: string): tf.Tensor {
  const entry = io.get(name);
  if (!entry) throw new Error(`fixture tensor ${name} is missing`);
  const t = tf.tensor(safetensorToFloat32(entry), entry.shape);
  return entry.shape.length === 5 ? tf.transpose(t, [0, 2, 3, 4, 1]) : t;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const sha256 = (v: Float32Array) => createHash('sha256').update(Buffer.from(v.buffer, v.byteOffset, v.byteLength)).digest('hex');

let model: SwinMMSegmenter;

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  model = new SwinMMSegmenter({ imgSize: 64, inChannels: 1, outChannels: 5, featureSize: 12 });
  const weights = new Map<string, tf.Tensor>();
  for (const [name, shape] of model.torchShapes()) {
    const values = detrandParameter(name, shape, 0);
    expect(sha256(values)).toBe(meta.weight_sha256[name]?.sha256);
    weights.set(name, tf.tensor(values, shape));
  }
  model.loadStateDict(weights);
  tf.dispose([...weights.values()]);
  model.eval();
});

describe('SwinMMSegmenter (swinmm-small fixture)', () => {
  it('has exactly the fixture model’s parameters (names, PyTorch shapes, count)', () => {
    expect(model.parameterCount()).toBe(meta.params);
    const shapes = model.torchShapes();
    expect([...shapes.keys()].sort()).toEqual(Object.keys(meta.weight_sha256).sort());
    for (const [name, shape] of shapes) expect(shape).toEqual(meta.weight_sha256[name].shape);
  });

  it.each([
    ['v01', [0, 1]],
    ['v21', [2, 1]],
  ] as [string, ViewPair][])('pair %s: cross-view attention tokens and fused bottlenecks match', (pair, views) => {
    tf.tidy(() => {
      const fa = ref(`${pair}.a.dec4_pre`) as tf.Tensor5D;
      const fb = ref(`${pair}.b.dec4_pre`) as tf.Tensor5D;
      const [oa, ob, trace] = model.cross_atte6.forward(fa, fb, views, true);
      expect(maxAbsDiff(trace.tokens[0], ref(`${pair}.a.tf_tokens`))).toBeLessThan(1e-4);
      expect(maxAbsDiff(trace.tokens[1], ref(`${pair}.b.tf_tokens`))).toBeLessThan(1e-4);
      expect(maxAbsDiff(trace.attended[0], ref(`${pair}.a.tf_attn_out`))).toBeLessThan(1e-4);
      expect(maxAbsDiff(trace.attended[1], ref(`${pair}.b.tf_attn_out`))).toBeLessThan(1e-4);
      expect(maxAbsDiff(oa, ref(`${pair}.a.dec4_post`))).toBeLessThan(1e-4);
      expect(maxAbsDiff(ob, ref(`${pair}.b.dec4_post`))).toBeLessThan(1e-4);
      // decoder5 with encoder5's skip, from the fixture's fused bottleneck and enc4.
      const dec3 = model.decoder5.forward(ref(`${pair}.a.dec4_post`) as tf.Tensor5D, ref(`${pair}.a.enc4`) as tf.Tensor5D);
      expect(maxAbsDiff(dec3, ref(`${pair}.a.dec3`))).toBeLessThan(1e-4);
      // encoder5 on hidden3.
      expect(maxAbsDiff(model.encoder5.forward(ref(`${pair}.b.hidden3`) as tf.Tensor5D), ref(`${pair}.b.enc4`))).toBeLessThan(1e-4);
    });
  });

  it('rejects views outside {0, 1, 2} and mismatched view shapes', () => {
    const x = tf.zeros([1, 64, 64, 64, 1]) as tf.Tensor5D;
    expect(() => model.forward(x, [0, 3] as unknown as ViewPair)).toThrow(/views must be two ids from \{0, 1, 2\}, found \[0, 3\]/);
    expect(() => model.forwardViews(x, tf.zeros([1, 64, 64, 32, 1]) as tf.Tensor5D, [0, 1])).toThrow(/same shape/);
    x.dispose();
  });
});

describe('SwinMM fine-tuning loss', () => {
  it('KLmean is PyTorch KLDivLoss(mean): the mean over all elements of q·(log q − log p)', () => {
    const a = tf.tensor([[0.1, 2, -1], [0.5, 0.5, 0]]);
    const b = tf.tensor([[1, 0, 0.3], [-2, 1, 0.2]]);
    const p = tf.softmax(a).arraySync() as number[][];
    const q = tf.softmax(b).arraySync() as number[][];
    let sum = 0;
    for (let i = 0; i < 2; i++) for (let c = 0; c < 3; c++) sum += q[i][c] * (Math.log(q[i][c]) - Math.log(p[i][c]));
    expect(klDivMean(a, b).dataSync()[0]).toBeCloseTo(sum / 6, 6);
  });

  it('is ½ Σ (DiceCE + KL) over the branches and gives a two-view pseudo-label', () => {
    const la = tf.randomNormal([1, 4, 4, 4, 3], 0, 1, 'float32', 1);
    const lb = tf.randomNormal([1, 4, 4, 4, 3], 0, 1, 'float32', 2);
    const y = tf.tensor(Array.from({ length: 64 }, (_, i) => i % 3), [1, 4, 4, 4, 1], 'int32');
    const parts = swinmmFinetuneLossParts(la, lb, y);
    const [d0, d1, k0, k1] = [...parts.diceCE, ...parts.consistency].map((t) => t.dataSync()[0]);
    expect(parts.loss.dataSync()[0]).toBeCloseTo((d0 + d1 + k0 + k1) / 2, 6);
    expect(k0).toBeCloseTo(klDivMean(la, lb).dataSync()[0], 7);
    const pseudo = twoViewPseudoLabel(la, lb);
    expect(pseudo.shape).toEqual([1, 4, 4, 4]);
    expect(pseudo.dataSync()).toEqual(tf.argMax(tf.add(tf.softmax(la), tf.softmax(lb)), -1).dataSync());
  });
});
