import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '@swinmm/appkit';
import { checkPretrainFiles, configFromArgs, loadPretrainConfig, pretrainHelp, pretrainPreset, resolvePretrainConfig } from '../src/index.js';

const ROOT = path.resolve(__dirname, '../../..');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'swinmm-pretrain-config-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('pre-training configuration', () => {
  it('has SwinMM defaults in the paper preset (SPEC.md §6.7)', () => {
    const c = pretrainPreset('paper');
    expect(c.roi).toEqual([64, 64, 64]);
    expect(c.model.featureSize).toBe(48);
    expect(c.batchSize * c.samplesPerVolume).toBe(4);
    expect(c.optim).toMatchObject({ lr: 5e-4, weightDecay: 0.1, warmupSteps: 500, steps: 30000, maxGradNorm: null });
    expect(c.mask).toEqual({ cube: 16, ratio: 0.5 });
    expect(c.loss).toEqual({ normPixLoss: true, temperature: 0.5 });
    expect(c.data).toMatchObject({ aMin: -1000, aMax: 1000 });
    expect(c.output.checkpointEvery).toBe(1000);
  });

  it('resolves the tiny preset with paths relative to the base folder', () => {
    const c = resolvePretrainConfig({ preset: 'tiny' }, ROOT);
    expect(c.data.images).toEqual([path.join(ROOT, 'data/itk/KmeansTest_T1UCharRaw.nii.gz')]);
    expect(c.output.dir).toBe(path.join(ROOT, 'runs/pretrain-tiny'));
  });

  it('names every bad key: unknown keys, wrong types, out-of-range values', () => {
    const p = problemsOf(() =>
      resolvePretrainConfig({ preset: 'tiny', optim: { lr: 'fast', warmup: 3 }, roi: [64, 64], model: { numHeads: [1, 2, 4] }, data: { images: 'x.nii' }, bogus: 1 }, ROOT),
    );
    const text = p.join('\n');
    expect(text).toMatch(/^optim\.lr: expected a number > 0, found the string "fast"/m);
    expect(text).toMatch(/^optim\.warmup: unknown key/m);
    expect(text).toMatch(/^bogus: unknown key/m);
    expect(text).toMatch(/^roi: expected three integers > 0, multiples of 32/m);
    expect(text).toMatch(/^model\.numHeads: expected 4 positive integers/m);
    expect(text).toMatch(/^data\.images: expected a list of file paths/m);
  });

  it('checks relations: heads dividing widths, crops the heads can read, cube dividing the crop, contrastive batch', () => {
    expect(problemsOf(() => resolvePretrainConfig({ preset: 'tiny', model: { numHeads: [1, 3, 4, 8] } }, ROOT)).join('\n')).toMatch(/model\.numHeads: stage 2 width 8 .* not divisible by 3 heads/);
    expect(problemsOf(() => resolvePretrainConfig({ preset: 'tiny', roi: [32, 32, 32] }, ROOT)).join('\n')).toMatch(/roi: the last Swin stage .* has 1 token/);
    expect(problemsOf(() => resolvePretrainConfig({ preset: 'tiny', mask: { cube: 24 } }, ROOT)).join('\n')).toMatch(/mask\.cube: 24 must divide/);
    expect(problemsOf(() => resolvePretrainConfig({ preset: 'tiny', samplesPerVolume: 1 }, ROOT)).join('\n')).toMatch(/samplesPerVolume: batchSize·samplesPerVolume must be ≥ 2/);
    expect(problemsOf(() => resolvePretrainConfig({ preset: 'weird' }, ROOT)).join('\n')).toMatch(/preset: expected one of "paper", "tiny"/);
  });

  it('reports missing data files and unreadable config files by name, before any training', async () => {
    const c = resolvePretrainConfig({ preset: 'tiny', data: { images: ['nope/missing.nii.gz'] } }, tmp);
    await expect(checkPretrainFiles(c, 'my.json')).rejects.toThrow(/data\.images\[0\]: file not found: .*nope\/missing\.nii\.gz/);
    await expect(loadPretrainConfig(path.join(tmp, 'absent.json'))).rejects.toThrow(/absent\.json.*cannot read the configuration file/s);
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, '{ "preset": "tiny", ');
    await expect(loadPretrainConfig(bad)).rejects.toThrow(/not valid JSON/);
  });

  it('reads a config file, applies command-line overrides, and explains itself in --help', async () => {
    const file = path.join(tmp, 'run.json');
    writeFileSync(file, JSON.stringify({ preset: 'tiny', optim: { steps: 7 }, output: { dir: 'out' } }));
    const c = await configFromArgs(['--config', file, '--optim.lr', '0.002']);
    expect(c.optim.steps).toBe(7);
    expect(c.optim.lr).toBe(0.002);
    expect(c.output.dir).toBe(path.join(tmp, 'out'));
    await expect(configFromArgs([])).rejects.toThrow(/--config <file> or --preset/);
    expect(pretrainHelp()).toMatch(/optim\.warmupSteps/);
    expect(pretrainHelp()).toMatch(/model\.numHeads/);
  });
});
