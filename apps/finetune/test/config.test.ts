import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeSchema, parseOverrides } from '@swinmm/appkit';
import { checkConfigFiles, FINETUNE_SCHEMA, finetunePreset, loadFinetuneConfig, resolveFinetuneConfig } from '../src/index.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('fine-tuning configuration', () => {
  it('paper preset holds SwinMM defaults (SPEC.md §7.5-7.9)', () => {
    const c = resolveFinetuneConfig({ data: { manifest: 'd.json' } }, '/base');
    expect(c.preset).toBe('paper');
    expect(c.model).toEqual({ inChannels: 1, outChannels: 17, featureSize: 48, roi: [64, 64, 64], dropPathRate: 0 });
    expect(c.transforms).toEqual({ pixdim: [1.5, 1.5, 2.0], aMin: -175, aMax: 250, numSamples: 4 });
    expect(c.optim.lr).toBe(1e-4);
    expect(c.optim.weightDecay).toBe(1e-5);
    expect(c.optim.warmupEpochs).toBe(50);
    expect(c.optim.maxEpochs).toBe(1500);
    expect(c.validation).toEqual({ every: 100, start: 1000, overlap: 0.5, swBatchSize: 16, mode: 'constant' });
    expect(c.data.manifest).toBe('/base/d.json');
    expect(c.output.dir).toBe('/base/runs/finetune');
  });

  it('tiny preset is small and valid', () => {
    const c = resolveFinetuneConfig({ preset: 'tiny', data: { manifest: '/x/d.json' }, optim: { lr: 3e-4 } });
    expect(c.model.featureSize).toBe(12);
    expect(c.model.roi).toEqual([64, 64, 64]);
    expect(c.optim.lr).toBe(3e-4);
    expect(c.optim.weightDecay).toBe(1e-5);
    expect(finetunePreset('tiny').preset).toBe('tiny');
  });

  it('names unknown keys, wrong types and out-of-range values', () => {
    const problems = problemsOf(() =>
      resolveFinetuneConfig({
        data: { manifest: 'd.json', labelFraction: 1.5 },
        optim: { lr: 'fast', learningRate: 1 },
        model: { roi: [64, 48, 64] },
        colour: 'blue',
      }),
    );
    expect(problems.some((p) => p.startsWith('colour: unknown key'))).toBe(true);
    expect(problems.some((p) => p.startsWith('optim.learningRate: unknown key'))).toBe(true);
    expect(problems.some((p) => p.startsWith('optim.lr: expected a number') && p.includes('"fast"'))).toBe(true);
    expect(problems.some((p) => p.startsWith('data.labelFraction: expected a number > 0 ≤ 1'))).toBe(true);
    expect(problems.some((p) => p.startsWith('model.roi:') && p.includes('multiples of 32'))).toBe(true);
    expect(problems).toHaveLength(5);
  });

  it('rejects an unknown preset, a bad window and a feature size that is not a multiple of 12', () => {
    expect(problemsOf(() => resolveFinetuneConfig({ preset: 'huge' }))[0]).toMatch(/^preset: expected one of/);
    expect(problemsOf(() => resolveFinetuneConfig({ transforms: { aMin: 10, aMax: 0 } }))[0]).toMatch(/^transforms.aMax/);
    expect(problemsOf(() => resolveFinetuneConfig({ model: { featureSize: 16 } }))[0]).toMatch(/^model.featureSize: expected a multiple of 12/);
  });

  it('loads a file relative to its folder, applies overrides and reports bad JSON and missing files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-config-'));
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ preset: 'tiny', data: { manifest: 'data/dataset.json' } }));
    const c = await loadFinetuneConfig(file, parseOverrides(['--optim.maxEpochs', '3', '--validation.mode=gaussian']));
    expect(c.data.manifest).toBe(join(dir, 'data/dataset.json'));
    expect(c.optim.maxEpochs).toBe(3);
    expect(c.validation.mode).toBe('gaussian');
    await expect(checkConfigFiles(c, file)).rejects.toThrow(/data.manifest: file not found: .*dataset.json/);
    writeFileSync(file, '{ "preset": ');
    await expect(loadFinetuneConfig(file)).rejects.toThrow(/not valid JSON/);
    await expect(loadFinetuneConfig(join(dir, 'none.json'))).rejects.toThrow(/cannot read the configuration file/);
  });

  it('documents every key', () => {
    const lines = describeSchema(FINETUNE_SCHEMA);
    expect(lines.some((l) => l.startsWith('optim.lr  (a number > 0)'))).toBe(true);
    expect(lines.length).toBeGreaterThan(20);
  });
});
