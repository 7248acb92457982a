import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detrandParameter, detrandUniform, initBackend } from '@swinmm/runtime';
import { readSafetensors, safetensorToFloat32 } from '@swinmm/nn';
import { permuteView, permuteViewInverse } from '@swinmm/transforms/tensor';
import { klDivMean, SwinMMSegmenter, swinmmFinetuneLossParts, twoViewPseudoLabel, type ViewPair } from '../src/index.js';

/**
 * SwinMM's two-view model against the `swinmm-small` fixture (SwinMM WORD/models on MONAI 1.2.0:
 * F 12, 64³, 5 classes, detrand weights with seed 0): the cross-view attention on the fixture's
 * own bottleneck inputs, then both view pairs end to end (intermediates, logits in the input's
 * orientation, the loss terms and gradients of the total loss).
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

function relL2(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0] / tf.norm(b).dataSync()[0]);
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
  const report = model.loadStateDict(weights);
  expect(report.loaded.length).toBe(Object.keys(meta.weight_sha256).length);
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

  it.each([
    ['v01', [0, 1]],
    ['v21', [2, 1]],
  ] as [string, ViewPair][])('pair %s: intermediates, logits, losses and gradients match', (pair, views) => {
    const results = meta.results.pairs[pair];
    const x = tf.transpose(tf.tensor(detrandUniform('input', [1, 1, 64, 64, 64], 0), [1, 1, 64, 64, 64]), [0, 2, 3, 4, 1]) as tf.Tensor5D;
    const label = ref('label');
    tf.tidy(() => {
      const xa = permuteView(x, views[0]);
      const xb = permuteView(x, views[1]);
      const trace = model.forwardViewsTraced(xa, xb, views);
      (['a', 'b'] as const).forEach((branch, i) => {
        const e = trace.encodings[i];
        const p = `${pair}.${branch}`;
        expect(maxAbsDiff(e.hidden[3], ref(`${p}.hidden3`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(e.hidden[4], ref(`${p}.hidden4`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(e.enc4, ref(`${p}.enc4`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(e.dec4, ref(`${p}.dec4_pre`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(trace.attention.tokens[i], ref(`${p}.tf_tokens`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(trace.attention.attended[i], ref(`${p}.tf_attn_out`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(trace.fused[i], ref(`${p}.dec4_post`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(trace.dec3[i], ref(`${p}.dec3`))).toBeLessThan(1e-4);
        // Logits in the original orientation: the stored sub-sample and block, and full stats.
        const logits = permuteViewInverse(trace.logits[i], views[i]);
        const s2 = tf.stridedSlice(logits, [0, 0, 1, 0, 0], [1, 64, 64, 64, 5], [1, 2, 2, 2, 1]);
        expect(maxAbsDiff(s2, ref(`${pair}.logits.${branch}.s2`))).toBeLessThan(1e-4);
        expect(maxAbsDiff(tf.slice(logits, [0, 24, 24, 24, 0], [1, 16, 16, 16, 5]), ref(`${pair}.logits.${branch}.blk`))).toBeLessThan(1e-4);
        const stats = results[`logits.${branch}`];
        const { mean, variance } = tf.moments(logits);
        expect(Math.abs(mean.dataSync()[0] - stats.mean)).toBeLessThan(1e-5);
        expect(Math.abs(Math.sqrt(variance.dataSync()[0]) - stats.std)).toBeLessThan(1e-5);
      });
    });

    // The fine-tuning loss and its gradients (train mode = eval mode: no dropout, no batch norm).
    const lossRef = results.loss;
    const names = Object.keys(meta.tensors).filter((k) => k.startsWith(`${pair}.grad.`)).map((k) => k.slice(`${pair}.grad.`.length));
    const variables = model.namedVariables();
    const terms: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const [la, lb] = model.forward(x, views);
      const parts = swinmmFinetuneLossParts(la, lb, label);
      terms.diceCEa = parts.diceCE[0].dataSync()[0];
      terms.diceCEb = parts.diceCE[1].dataSync()[0];
      terms.kla = parts.consistency[0].dataSync()[0];
      terms.klb = parts.consistency[1].dataSync()[0];
      return parts.loss;
    }, [...variables.values()]);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(value.dataSync()[0], lossRef.total)).toBeLessThan(1e-5);
    expect(rel(terms.diceCEa, lossRef['branch0.DiceCE'])).toBeLessThan(1e-5);
    expect(rel(terms.diceCEb, lossRef['branch1.DiceCE'])).toBeLessThan(1e-5);
    expect(rel(terms.kla, lossRef['KL(p1||p0) = KLDivLoss(mean)(log_softmax(o0), softmax(o1))'])).toBeLessThan(1e-5);
    expect(rel(terms.klb, lossRef['KL(p0||p1) = KLDivLoss(mean)(log_softmax(o1), softmax(o0))'])).toBeLessThan(1e-5);
    const gradientErrors: Record<string, number> = {};
    for (const name of names) {
      const v = variables.get(name)!;
      const g = grads[v.name];
      const layoutRef = tf.tidy(() => {
        const r = io.get(`${pair}.grad.${name}`)!;
        const t = tf.tensor(safetensorToFloat32(r), r.shape);
        const ours = model.stateDict();
        const shapeOk = ours.get(name)!.shape.join() === t.shape.join();
        tf.dispose([...ours.values()]);
        expect(shapeOk).toBe(true);
        return t;
      });
      // Gradients are in our layout; compare in PyTorch layout through the module's converter.
      const layout = model.namedParameters().find(([n]) => n === name)![1].layout;
      const torchGrad = tf.tidy(() => (layout === 'conv3d' ? tf.transpose(g, [4, 3, 0, 1, 2]) : layout === 'linear' ? tf.transpose(g) : tf.clone(g)));
      gradientErrors[name] = relL2(torchGrad, layoutRef);
      tf.dispose([layoutRef, torchGrad]);
    }
    // The stored L2 norms of 13 more parameters' gradients, and of all of them together.
    let squares = 0;
    for (const [name, v] of variables) {
      const norm = tf.tidy(() => tf.norm(grads[v.name]).dataSync()[0]);
      squares += norm * norm;
      const expected = results.grad_l2_norms[name];
      if (expected !== undefined) gradientErrors[`‖${name}‖`] = rel(norm, expected);
    }
    gradientErrors['‖all‖'] = rel(Math.sqrt(squares), results.grad_l2_norm_all_params);
    expect(Object.keys(gradientErrors).length).toBe(names.length + Object.keys(results.grad_l2_norms).length + 1);
    expect(Object.entries(gradientErrors).filter(([, e]) => !(e < 1e-3))).toEqual([]);
    tf.dispose([value, x, label, ...Object.values(grads)]);
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
