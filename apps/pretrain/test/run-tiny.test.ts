import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { initBackend } from '@swinmm/runtime';
import { readSafetensors } from '@swinmm/nn';
import type { StepEvent } from '@swinmm/train';
import { resolvePretrainConfig, runPretraining } from '../src/index.js';

const ROOT = path.resolve(__dirname, '../../..');
let tmp: string;
beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'swinmm-pretrain-run-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tiny pre-training on the bundled MRI', () => {
  it('runs the SwinMM step end to end, writes the run folder, and resumes', async () => {
    // Three SwinMM steps (each 4 SSLHead passes + backward) take minutes on the shared CPU.
    const dir = path.join(tmp, 'run');
    const config = resolvePretrainConfig({ preset: 'tiny', optim: { steps: 2, warmupSteps: 1 }, output: { dir, checkpointEvery: 1, keepLast: 2 } }, ROOT);
    const t0 = Date.now();
    const events = await lastValueFrom(runPretraining(config, { keepBackend: true, progress: null }).pipe(toArray()));
    const seconds = (Date.now() - t0) / 1000;
    console.log(`tiny preset, 2 steps on cpu: ${seconds.toFixed(1)} s`);
    const steps = events.filter((e): e is StepEvent => e.type === 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2]);
    for (const s of steps) {
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(Object.keys(s.terms).sort()).toEqual(['L1', 'L2', 'L3', 'con', 'rec', 'rot']);
      expect(s.loss).toBeCloseTo(s.terms.L1 + s.terms.L2 + s.terms.L3, 4);
      expect(s.terms.L1).toBeCloseTo(s.terms.rot + s.terms.con + s.terms.rec, 4);
      expect(s.samples).toBe(2);
    }
    expect(steps[0].lr).toBe(0); // warm-up starts at 0, as SwinMM's schedule
    expect(readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['step-00000001.safetensors', 'step-00000002.safetensors']);
    const metrics = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(metrics.map((m) => m.type)).toEqual(events.map((e) => e.type));
    expect(readFileSync(path.join(dir, 'loss.svg'), 'utf8')).toMatch(/^<svg/);
    expect(existsSync(path.join(dir, 'config.json'))).toBe(true);
    const weights = readSafetensors(new Uint8Array(readFileSync(path.join(dir, 'ssl_head.safetensors'))));
    expect(weights.get('swinViT.patch_embed.proj.weight')?.shape).toEqual([4, 1, 2, 2, 2]);
    expect(weights.get('conv.20.weight')?.shape).toEqual([1, 4, 1, 1, 1]);

    // Resume from step 1 to step 2 gives the same step-2 losses as the uninterrupted run.
    const resumed = resolvePretrainConfig(
      { preset: 'tiny', optim: { steps: 2, warmupSteps: 1 }, output: { dir: path.join(tmp, 'resumed'), checkpointEvery: 1 }, resume: path.join(dir, 'checkpoints', 'step-00000001.safetensors') },
      ROOT,
    );
    const again = await lastValueFrom(runPretraining(resumed, { keepBackend: true, progress: null }).pipe(toArray()));
    const step2 = again.filter((e): e is StepEvent => e.type === 'step');
    expect(step2.map((s) => s.step)).toEqual([2]);
    expect(step2[0].loss).toBe(steps[1].loss);
    expect(step2[0].terms).toEqual(steps[1].terms);
  }, 15 * 60 * 1000);

  it('fails before training when a data file is missing, naming the key and file', async () => {
    const config = resolvePretrainConfig({ preset: 'tiny', data: { images: ['does/not/exist.nii.gz'] }, output: { dir: path.join(tmp, 'never') } }, ROOT);
    await expect(lastValueFrom(runPretraining(config, { keepBackend: true, progress: null }))).rejects.toThrow(/data\.images\[0\]: file not found: .*exist\.nii\.gz/);
    expect(existsSync(path.join(tmp, 'never'))).toBe(false);
  });
});
