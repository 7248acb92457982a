/**
 * Parity with MONAI 1.2.0 SwinUNETR on the `swinunetr-small` fixture (see fixtures/README.md):
 * intermediates and logits within 1e-4 absolute, DiceCE within 1e-5 relative, parameter gradients
 * within 1e-3 relative — on the cpu backend and on wasm (with the runtime's kernel fixes).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detrandParameter, initBackend } from '@swinmm/runtime';
import { readSafetensors, type SafetensorEntry } from '@swinmm/nn';
import { SwinUNETR, diceCELossParts } from '../src/index.js';

const FIXTURE = join(__dirname, 'fixtures', 'swinunetr-small');
const io = readSafetensors(readFileSync(join(FIXTURE, 'io.safetensors')), { source: 'io.safetensors' });
const ioJson = JSON.parse(readFileSync(join(FIXTURE, 'io.json'), 'utf8'));
const weightsJson = JSON.parse(readFileSync(join(FIXTURE, 'weights.json'), 'utf8'));
const meta = JSON.parse(readFileSync(join(FIXTURE, 'meta.json'), 'utf8'));
const REF_LOSS: number = ioJson.losses[Object.keys(ioJson.losses).find((k) => k.startsWith('DiceCELoss(to_onehot_y=True, softmax=True) [MONAI defaults'))!];
const REF_LOSS_SQUARED: number = ioJson.losses['DiceCELoss(to_onehot_y=True, softmax=True, squared_pred=True, smooth_nr=0.0, smooth_dr=1e-6)'];
const GRAD_NORMS: Record<string, number> = meta.grad_l2_norms_all_params;

/** NCDHW fixture tensor → channels-last tf tensor. */
function channelsLast(name: string): tf.Tensor5D {
  const e = io.get(name) as SafetensorEntry;
  return tf.tidy(() => {
    const t: tf.Tensor = tf.tensor(e.data as Float32Array, e.shape);
    return tf.transpose(t, [0, 2, 3, 4, 1]);
  }) as tf.Tensor5D;
}

/** The detrand weights, each checked against the sha256 the fixture lists. */
function fixtureWeights(): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, info] of Object.entries(weightsJson.tensors as Record<string, { shape: number[]; sha256: string }>)) {
    const values = detrandParameter(name, info.shape, weightsJson.seed);
    const sha = createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
    if (sha !== info.sha256) throw new Error(`regenerated weight ${name} has sha256 ${sha}, the fixture lists ${info.sha256}`);
    out.set(name, tf.tensor(values, info.shape));
  }
  return out;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).arraySync() as number);
}

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => (tf.norm(tf.sub(a, b)).arraySync() as number) / (tf.norm(b).arraySync() as number));
}

interface StepResult {
  acts: Map<string, tf.Tensor>;
  loss: number;
  dice: number;
  ce: number;
  grads: Map<string, tf.Tensor>;
  maxRank: number;
  rankViolations: string[];
}

/** One training step (forward in train mode, DiceCE, backward), profiled for tensor ranks. */
async function trainingStep(model: SwinUNETR, x: tf.Tensor5D, label: tf.Tensor): Promise<StepResult> {
  const acts = new Map<string, tf.Tensor>();
  const vars = model.namedVariables();
  let loss = 0;
  let dice = 0;
  let ce = 0;
  let grads = new Map<string, tf.Tensor>();
  const profile = await tf.profile(() => {
    const result = tf.variableGrads(() => {
      acts.set('patch_embed', tf.keep(model.swinViT.patchEmbed.forward(x)));
      const { hidden, enc, dec4 } = model.encode(x);
      const d = model.decode(dec4, hidden[3], enc);
      [1, 2, 3, 4].forEach((i) => acts.set(`hidden${i}`, tf.keep(hidden[i])));
      acts.set('dec4', tf.keep(dec4));
      acts.set('dec3', tf.keep(d.dec3));
      acts.set('dec2', tf.keep(d.dec2));
      acts.set('logits', tf.keep(d.logits));
      const parts = diceCELossParts(d.logits, label);
      dice = parts.dice.arraySync();
      ce = parts.ce.arraySync();
      return parts.loss;
    }, [...vars.values()]);
    loss = result.value.arraySync();
    const byVar = new Map([...vars].map(([n, v]) => [v.name, n]));
    grads = new Map(Object.entries(result.grads).map(([k, g]) => [byVar.get(k)!, g]));
    result.value.dispose();
    return tf.scalar(0);
  });
  let maxRank = 0;
  const rankViolations: string[] = [];
  for (const k of profile.kernels) {
    for (const s of [...k.inputShapes, ...k.outputShapes]) {
      if (!s) continue;
      maxRank = Math.max(maxRank, s.length);
      if (s.length > 6) rankViolations.push(`${k.name} [${s.join(', ')}]`);
    }
  }
  return { acts, loss, dice, ce, grads, maxRank, rankViolations };
}

describe.each(['cpu', 'wasm'] as const)('SwinUNETR parity with MONAI on swinunetr-small (%s backend)', (backend) => {
  let model: SwinUNETR;
  let step: StepResult;
  let x: tf.Tensor5D;
  let label: tf.Tensor;

  beforeAll(async () => {
    await initBackend(backend, { log: () => {} });
    model = new SwinUNETR({ imgSize: [64, 32, 64], inChannels: 1, outChannels: 3, featureSize: 12 });
    const weights = fixtureWeights();
    const report = model.loadStateDict(weights);
    expect(report.loaded).toHaveLength(151);
    tf.dispose([...weights.values()]);
    x = channelsLast('input');
    const l = io.get('label')!;
    label = tf.tensor(Int32Array.from(l.data as Uint8Array), [1, 64, 32, 64]);
    step = await trainingStep(model.train(), x, label);
  });

  afterAll(() => {
    model.dispose();
    tf.dispose([x, label, ...step.acts.values(), ...step.grads.values()]);
  });

  it.each(['patch_embed', 'hidden1', 'hidden2', 'hidden3', 'hidden4', 'dec4', 'dec3', 'dec2', 'logits'])('%s within 1e-4 absolute', (name) => {
    const ref = channelsLast(name);
    expect(maxAbsDiff(step.acts.get(name)!, ref)).toBeLessThan(1e-4);
    ref.dispose();
  });

  it('DiceCE within 1e-5 relative', () => {
    expect(Math.abs(step.loss - REF_LOSS) / REF_LOSS).toBeLessThan(1e-5);
    expect(Math.abs(step.dice + step.ce - REF_LOSS) / REF_LOSS).toBeLessThan(1e-5);
    const squared = tf.tidy(() => diceCELossParts(step.acts.get('logits')!, label, { squaredPred: true, smoothNr: 0, smoothDr: 1e-6 }).loss.arraySync());
    expect(Math.abs(squared - REF_LOSS_SQUARED) / REF_LOSS_SQUARED).toBeLessThan(1e-5);
  });

  it('the stored parameter gradients within 1e-3 relative', () => {
    const stored = [...io.keys()].filter((k) => k.startsWith('grad.'));
    expect(stored).toHaveLength(8);
    for (const key of stored) {
      const name = key.slice('grad.'.length);
      const e = io.get(key)!;
      const ours = model.namedParameters().find(([n]) => n === name)![1];
      // Our gradient is in our layout: bring it to PyTorch's before comparing.
      const g = tf.tidy(() => {
        const t = step.grads.get(name)!;
        const perm = ours.layout === 'conv3d' || ours.layout === 'convTranspose3d' ? [4, 3, 0, 1, 2] : ours.layout === 'linear' ? [1, 0] : null;
        return perm ? tf.transpose(t, perm) : tf.clone(t);
      });
      const ref = tf.tensor(e.data as Float32Array, e.shape);
      expect([name, relDiff(g, ref)]).toEqual([name, expect.any(Number)]);
      expect(relDiff(g, ref)).toBeLessThan(1e-3);
      tf.dispose([g, ref]);
    }
  });

  it('the L2 norm of every parameter gradient within 1e-3 relative', () => {
    const bad: string[] = [];
    for (const [name, refNorm] of Object.entries(GRAD_NORMS)) {
      const g = step.grads.get(name);
      if (!g) {
        bad.push(`${name}: no gradient`);
        continue;
      }
      const norm = tf.tidy(() => tf.norm(g).arraySync() as number);
      if (Math.abs(norm - refNorm) > 1e-3 * refNorm) bad.push(`${name}: ${norm} vs ${refNorm}`);
    }
    expect(bad).toEqual([]);
    expect(Object.keys(GRAD_NORMS)).toHaveLength(151);
  });

  it('every tensor of the training step (forward and backward) has rank ≤ 6', () => {
    expect(step.rankViolations).toEqual([]);
    expect(step.maxRank).toBeGreaterThanOrEqual(5);
  });
});
