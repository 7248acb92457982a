import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import { createVolume, writeVolume } from '@swinmm/data';
import { AdamW, LinearWarmupCosineAnnealingLR } from '@swinmm/train';
import { ConfigError } from '@swinmm/appkit';
import { EpochScheduler, labelFractionSplit, randomViewPair, resolveFinetuneConfig, runFinetune, type FinetuneEvent } from '../src/index.js';
import { voxelKit, type LossCall } from './helpers.js';

const DATA = resolve(__dirname, '../../../data/itk');
const IMAGE = join(DATA, 'KmeansTest_T1UCharRaw.nii.gz');
const LABEL = join(DATA, 'KmeansTest_T1KmeansPrelimSegmentation.nii.gz');

function manifest(dir: string, body: Record<string, unknown>): string {
  const file = join(dir, 'dataset.json');
  writeFileSync(file, JSON.stringify({ name: 'itk', labels: { 0: 'zero', 1: 'air', 2: 't2', 3: 't3', 4: 't4', 5: 't5', 6: 't6' }, ...body }));
  return file;
}

function tinyConfig(dir: string, over: Record<string, unknown> = {}) {
  return resolveFinetuneConfig(
    {
      preset: 'tiny',
      backend: 'cpu',
      data: { manifest: manifest(dir, { training: [{ image: IMAGE, label: LABEL }], validation: [{ image: IMAGE, label: LABEL }] }) },
      // A coarse grid (33×34×33 voxels after RAS + resampling) keeps validation to 8 windows.
      transforms: { numSamples: 1, pixdim: [8, 5.5, 8] },
      // The stand-in model has no bottleneck, so the smallest crop the schema allows is fine.
      model: { roi: [32, 32, 32] },
      optim: { maxEpochs: 2, warmupEpochs: 1 },
      validation: { every: 2, start: 0, swBatchSize: 4 },
      output: { dir: join(dir, 'run'), checkpointEvery: 2, keepLast: 1 },
      ...over,
    },
    dir,
  );
}

describe('runFinetune', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: () => {} });
  });

  it('trains, validates, keeps best and last weights, logs JSONL and draws the loss curve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-run-'));
    const events: FinetuneEvent[] = [];
    const lines: string[] = [];
    const result = await runFinetune(tinyConfig(dir), { kit: voxelKit(), backendReady: true, onEvent: (e) => events.push(e), progress: { write: (t: string) => lines.push(t) } });
    expect(events.find((e) => e.type === 'data')).toEqual({ type: 'data', labeled: 1, unlabeled: 0, validation: 1, stepsPerEpoch: 1, totalSteps: 2 });
    const steps = events.filter((e) => e.type === 'step');
    expect(steps).toHaveLength(2);
    // Per-epoch warm-up from 0 (SwinMM): epoch 0 at lr 0, then the base rate 1e-3 after one warm-up epoch.
    expect(steps.map((e) => (e.type === 'step' ? e.lr : -1))).toEqual([0, 1e-3]);
    const validations = events.filter((e) => e.type === 'validation' && Object.keys(e.metrics).length > 0);
    expect(validations).toHaveLength(1);
    for (const v of validations) if (v.type === 'validation') expect(v.metrics.dice).toBeGreaterThanOrEqual(0);
    expect(result.best).not.toBeNull();
    expect(existsSync(result.last)).toBe(true);
    expect(existsSync(join(dir, 'run', 'best.safetensors'))).toBe(true);
    const jsonl = readFileSync(result.metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(jsonl.filter((r) => r.type === 'step')).toHaveLength(2);
    expect(jsonl.filter((r) => r.type === 'validation')).toHaveLength(1);
    expect(readFileSync(result.lossCurve, 'utf8')).toContain('<polyline');
    expect(readdirSync(join(dir, 'run', 'checkpoints'))).toEqual(['step-00000002.safetensors']);
    expect(lines[lines.length - 1]).toContain('2/2');
    expect(Number.isFinite(result.firstEpochLoss)).toBe(true);
  });

  it('resumes from a checkpoint to the same end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-resume-'));
    const cfg = tinyConfig(dir, { validation: { every: 100, start: 0 }, output: { dir: join(dir, 'run'), checkpointEvery: 1, keepLast: 5 } });
    const full = await runFinetune(cfg, { kit: voxelKit(), backendReady: true });
    const events: FinetuneEvent[] = [];
    const resumed = await runFinetune(
      { ...cfg, resume: join(dir, 'run', 'checkpoints', 'step-00000001.safetensors'), output: { ...cfg.output, dir: join(dir, 'run2') } },
      { kit: voxelKit(), backendReady: true, onEvent: (e) => events.push(e) },
    );
    expect(events.filter((e) => e.type === 'step')).toHaveLength(1);
    // The same final weights as the uninterrupted run (same seed, same backend).
    expect(Buffer.compare(readFileSync(resumed.last), readFileSync(full.last))).toBe(0);
  });

  it('semi-supervised: pseudo-labels from the two-view ensemble only for unlabeled volumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-semi-'));
    const calls: LossCall[] = [];
    const cfg = tinyConfig(dir, {
      semiSupervised: true,
      optim: { maxEpochs: 1, warmupEpochs: 0 },
      validation: { every: 100, start: 0 },
    });
    cfg.data.manifest = manifest(dir, { training: [{ image: IMAGE, label: LABEL }], validation: [], unsupervised: [{ image: IMAGE }] });
    const events: FinetuneEvent[] = [];
    await runFinetune(cfg, { kit: voxelKit(calls), backendReady: true, onEvent: (e) => events.push(e) });
    expect(events.find((e) => e.type === 'data')).toMatchObject({ labeled: 1, unlabeled: 1, stepsPerEpoch: 2, totalSteps: 2 });
    // The epoch: the labeled volume with its own labels, then the unlabeled one with pseudo-labels.
    expect(calls.map((c) => c.targetIsEnsemble)).toEqual([false, true]);
    expect(calls[1].shape).toEqual([1, 32, 32, 32]);
  });

  it('refuses a crop larger than the resampled volume, naming the key and the file, before training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-big-'));
    const events: FinetuneEvent[] = [];
    const cfg = tinyConfig(dir, { model: { roi: [64, 64, 64] } });
    const err = await runFinetune(cfg, { kit: voxelKit(), backendReady: true, onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/model.roi: the crop \[64, 64, 64\] is larger than .*KmeansTest_T1UCharRaw.nii.gz, which is \d+×\d+×\d+ voxels/);
    expect(events).toHaveLength(0);
  });

  it('refuses a label map on another grid and a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-bad-'));
    const cfg = tinyConfig(dir);
    cfg.data.manifest = manifest(dir, { training: [{ image: IMAGE, label: join(dir, 'nope.nii.gz') }], validation: [] });
    await expect(runFinetune(cfg, { kit: voxelKit(), backendReady: true })).rejects.toThrow(/nope.nii.gz/);
    const small = join(dir, 'small.nii.gz');
    await writeVolume(small, createVolume({ data: new Uint8Array(1000), shape: [10, 10, 10], spacing: [2, 2, 3] }));
    cfg.data.manifest = manifest(dir, { training: [{ image: IMAGE, label: small }], validation: [] });
    await expect(runFinetune(cfg, { kit: voxelKit(), backendReady: true })).rejects.toThrow(/are on different grids: shape 128×128×62 vs 10×10×10/);
    const cfg2 = tinyConfig(dir, { init: { pretrained: join(dir, 'missing.pt') } });
    await expect(runFinetune(cfg2, { kit: voxelKit(), backendReady: true })).rejects.toThrow(/init.pretrained: file not found: .*missing.pt/);
  });
});

describe('fine-tuning helpers', () => {
  it('splits by label fraction reproducibly', () => {
    const training = Array.from({ length: 10 }, (_, i) => ({ image: `i${i}`, label: `l${i}` }));
    const a = labelFractionSplit(training, 0.3, 7);
    expect(a.labeled).toHaveLength(3);
    expect(a.unlabeled).toHaveLength(7);
    expect(a.unlabeled.every((e) => !('label' in e))).toBe(true);
    expect(new Set([...a.labeled, ...a.unlabeled].map((e) => e.image)).size).toBe(10);
    expect(labelFractionSplit(training, 0.3, 7)).toEqual(a);
    expect(labelFractionSplit(training, 1, 7).labeled).toHaveLength(10);
    expect(() => labelFractionSplit(training, 0, 7)).toThrow(/labelFraction/);
  });

  it('draws two distinct views', () => {
    const rng = Rng.fromSeed(1);
    for (let i = 0; i < 20; i++) {
      const [a, b] = randomViewPair(rng);
      expect(a).not.toBe(b);
      expect([0, 1, 2]).toContain(a);
    }
  });

  it('steps a per-epoch schedule every N optimizer steps', () => {
    const v = tf.variable(tf.zeros([2]));
    const opt = new AdamW(new Map([['w', v]]), { lr: 1 });
    const s = new EpochScheduler(new LinearWarmupCosineAnnealingLR(opt, { warmupEpochs: 2, maxEpochs: 10 }), 3);
    const lrs: number[] = [];
    for (let i = 0; i < 6; i++) {
      lrs.push(opt.paramGroups[0].lr);
      s.step();
    }
    expect(lrs).toEqual([0, 0, 0, 1, 1, 1]);
    const state = s.getState();
    const s2 = new EpochScheduler(new LinearWarmupCosineAnnealingLR(opt, { warmupEpochs: 2, maxEpochs: 10 }), 3);
    s2.setState(state);
    expect(s2.lastEpoch).toBe(6);
    expect(() => new EpochScheduler(new LinearWarmupCosineAnnealingLR(opt, { warmupEpochs: 2, maxEpochs: 10 }), 4).setState(state)).toThrow(/3 steps per epoch/);
    v.dispose();
  });
});
