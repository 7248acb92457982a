import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, deepMerge, defineConfig, describeSchema, parseConfigArgs, parseOverrides, validateAgainst, type ObjectField } from '../src/index.js';

interface TestConfig {
  preset: 'small' | 'large';
  lr: number;
  window: { lo: number; hi: number };
  roi: [number, number, number];
  data: { manifest: string | null; images: string[]; cacheDir: string | null };
  output: { dir: string };
  resume: string | null;
}

const SCHEMA: ObjectField = {
  kind: 'object',
  doc: 'a test configuration',
  fields: {
    preset: { kind: 'string', values: ['small', 'large'], doc: 'the preset' },
    lr: { kind: 'number', gt: 0, doc: 'learning rate' },
    window: {
      kind: 'object',
      doc: 'intensity window',
      fields: { lo: { kind: 'number', doc: 'lower end' }, hi: { kind: 'number', doc: 'upper end' } },
    },
    roi: { kind: 'triple', integer: true, gt: 0, multipleOf: 32, doc: 'crop size' },
    data: {
      kind: 'object',
      doc: 'data',
      fields: {
        manifest: { kind: 'string', nullable: true, file: true, doc: 'dataset.json' },
        cacheDir: { kind: 'string', nullable: true, doc: 'cache folder' },
      },
    },
    output: { kind: 'object', doc: 'outputs', fields: { dir: { kind: 'string', doc: 'run folder' } } },
    resume: { kind: 'string', nullable: true, file: true, doc: 'checkpoint' },
  },
};

const SMALL: TestConfig = {
  preset: 'small',
  lr: 1e-3,
  window: { lo: 0, hi: 255 },
  roi: [64, 64, 64],
  data: { manifest: 'dataset.json', images: [], cacheDir: null },
  output: { dir: 'runs/small' },
  resume: null,
};

function withoutImages(c: TestConfig): unknown {
  const copy = structuredClone(c) as unknown as { data?: Record<string, unknown> };
  if (typeof copy.data === 'object' && copy.data !== null) delete copy.data.images;
  return copy;
}

const KIND = defineConfig<TestConfig>({
  presets: { small: SMALL, large: { ...SMALL, preset: 'large', lr: 1e-4, roi: [96, 96, 96] } },
  defaultPreset: 'small',
  validate: (merged) => {
    const p = validateAgainst(SCHEMA, withoutImages(merged));
    if (!Array.isArray(merged.data?.images)) p.push(`data.images: expected a list of file paths, found ${JSON.stringify(merged.data?.images)}`);
    return p;
  },
  relations: (c) => (c.window.hi > c.window.lo ? [] : [`window.hi: expected a number > window.lo (${c.window.lo}), found ${c.window.hi}`]),
  pathKeys: ['data.manifest', 'data.images', 'data.cacheDir', 'output.dir', 'resume'],
  fileKeys: ['data.manifest', 'data.images', 'resume'],
});

/** The problems of the ConfigError that `fn` must throw. */
function problemsOf(fn: () => unknown): string[] {
  let thrown: unknown = null;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return (thrown as ConfigError).problems;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'appkit-config-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('schema', () => {
  it('names unknown keys, missing keys, wrong types and out-of-range values by dotted key', () => {
    const problems = validateAgainst(SCHEMA, {
      preset: 'medium',
      lr: 0,
      window: { lo: 0 },
      roi: [64, 48, 64],
      data: { manifest: null, cacheDir: 3 },
      output: { dir: '' },
      resume: null,
      colour: 'blue',
    });
    expect(problems).toEqual([
      'colour: unknown key (known keys here: preset, lr, window, roi, data, output, resume)',
      'preset: expected one of "small", "large", found the string "medium"',
      'lr: expected a number > 0, found number 0',
      'window.hi: missing (expected a number: upper end)',
      'roi: expected three integers > 0, multiples of 32, found an array [64,48,64]',
      'data.cacheDir: expected a string or null, found number 3',
      'output.dir: expected a string, found the string ""',
    ]);
    expect(validateAgainst(SCHEMA, [])).toEqual(['(root): expected an object, found an array []']);
  });

  it('merges objects deeply, replaces lists and values, and never shares structure', () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 'x' };
    const merged = deepMerge(base, { a: { c: [3] }, e: { f: true } });
    expect(merged).toEqual({ a: { b: 1, c: [3] }, d: 'x', e: { f: true } });
    merged.a.c.push(4);
    expect(base.a.c).toEqual([1, 2]);
  });

  it('documents every key, one line each', () => {
    const lines = describeSchema(SCHEMA);
    expect(lines).toContain('lr  (a number > 0)  learning rate');
    expect(lines).toContain('window.lo  (a number)  lower end');
    expect(lines).toContain('data.manifest  (a file path or null)  dataset.json');
    expect(lines).toHaveLength(9);
  });
});

describe('defineConfig', () => {
  it('merges the named preset, resolves relative paths (lists included) and leaves null and absolute ones', () => {
    const c = KIND.resolve({ preset: 'large', data: { images: ['a.nii.gz', '/abs/b.nii.gz'] }, resume: null }, '/base');
    expect(c.lr).toBe(1e-4);
    expect(c.roi).toEqual([96, 96, 96]);
    expect(c.data).toEqual({ manifest: '/base/dataset.json', images: ['/base/a.nii.gz', '/abs/b.nii.gz'], cacheDir: null });
    expect(c.output.dir).toBe('/base/runs/small');
    expect(KIND.resolve({}, '/x').preset).toBe('small');
  });

  it('does not change the presets it was given', () => {
    KIND.resolve({ window: { lo: 1 }, data: { images: ['x'] } }, '/base');
    expect(SMALL.window).toEqual({ lo: 0, hi: 255 });
    expect(SMALL.data.images).toEqual([]);
    expect(SMALL.data.manifest).toBe('dataset.json');
  });

  it('reports a non-object, an unknown preset, every schema problem, then relations', () => {
    expect(problemsOf(() => KIND.resolve([1], '/b', 'cfg.json'))).toEqual(['(root): expected an object, found [1]']);
    expect(problemsOf(() => KIND.resolve({ preset: 'huge' }))).toEqual(['preset: expected one of "small", "large", found "huge"']);
    const schemaProblems = problemsOf(() => KIND.resolve({ lr: 'fast', data: { images: 'a' }, window: { lo: 9, hi: 1 } }));
    expect(schemaProblems).toHaveLength(2);
    expect(schemaProblems[0]).toMatch(/^lr: expected a number > 0, found the string "fast"/);
    expect(schemaProblems[1]).toMatch(/^data.images: expected a list/);
    expect(problemsOf(() => KIND.resolve({ window: { lo: 9, hi: 1 } }))).toEqual(['window.hi: expected a number > window.lo (9), found 1']);
    expect(() => KIND.resolve({ lr: -1 }, '/b', 'run.json')).toThrow(new ConfigError('run.json', ['lr: expected a number > 0, found number -1']).message);
  });

  it('loads a file relative to its folder with overrides on top, and reports unreadable files and bad JSON', async () => {
    const dir = join(tmp, 'load');
    mkdirSync(dir);
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ preset: 'large', data: { manifest: 'd/dataset.json' } }));
    const c = await KIND.load(file, parseOverrides(['--lr', '3e-4', '--data.cacheDir=cache']));
    expect(c.preset).toBe('large');
    expect(c.lr).toBe(3e-4);
    expect(c.data.manifest).toBe(join(dir, 'd/dataset.json'));
    expect(c.data.cacheDir).toBe(join(dir, 'cache'));
    await expect(KIND.load(file, { lr: 0 })).rejects.toThrow(`${file}: invalid configuration:\n  - lr: expected a number > 0, found number 0`);
    writeFileSync(file, '{ "preset": ');
    await expect(KIND.load(file)).rejects.toThrow(/run.json: invalid configuration:\n {2}- not valid JSON/);
    await expect(KIND.load(join(dir, 'none.json'))).rejects.toThrow(/cannot read the configuration file: .*ENOENT/);
  });

  it('checks that every file key names an existing file, list entries by index', async () => {
    const dir = join(tmp, 'files');
    mkdirSync(join(dir, 'folder'), { recursive: true });
    writeFileSync(join(dir, 'dataset.json'), '{}');
    writeFileSync(join(dir, 'a.nii.gz'), 'x');
    const good = KIND.resolve({ data: { images: ['a.nii.gz'] } }, dir);
    await expect(KIND.checkFiles(good)).resolves.toBeUndefined();
    const bad = KIND.resolve({ data: { manifest: 'folder', images: ['a.nii.gz', 'b.nii.gz'] }, resume: 'ckpt.safetensors' }, dir);
    let problems: string[] = [];
    await KIND.checkFiles(bad, 'run.json').catch((err: ConfigError) => {
      expect(err.source).toBe('run.json');
      problems = err.problems;
    });
    expect(problems).toEqual([
      `data.manifest: ${join(dir, 'folder')} is not a file`,
      `data.images[1]: file not found: ${join(dir, 'b.nii.gz')}`,
      `resume: file not found: ${join(dir, 'ckpt.safetensors')}`,
    ]);
  });

  it('rejects a default preset that is not among the presets, and path keys that do not exist', () => {
    expect(() => defineConfig({ presets: { a: {} }, defaultPreset: 'b', validate: () => [], pathKeys: [], fileKeys: [] })).toThrow(/default preset "b" is not one of a/);
    const broken = defineConfig<{ preset: string; out: { dir: string } }>({
      presets: { a: { preset: 'a', out: { dir: 'x' } } },
      defaultPreset: 'a',
      validate: () => [],
      pathKeys: ['output.dir'],
      fileKeys: [],
    });
    expect(() => broken.resolve({})).toThrow(/path key output.dir does not exist in the configuration \(no object at output\)/);
  });
});

describe('command lines', () => {
  it('parses overrides as JSON where possible, else as strings', () => {
    expect(parseOverrides(['--model.roi', '[32,32,32]', '--data.manifest=a b.json', '--semiSupervised', 'true', '--optim.lr', '3e-4'])).toEqual({
      model: { roi: [32, 32, 32] },
      data: { manifest: 'a b.json' },
      semiSupervised: true,
      optim: { lr: 3e-4 },
    });
    expect(() => parseOverrides(['--optim.lr'])).toThrow(/optim.lr: missing value after --optim.lr/);
    expect(() => parseOverrides(['lr'])).toThrow(/unexpected argument "lr" \(expected --key value\)/);
  });

  it('takes --config out of the arguments', () => {
    expect(parseConfigArgs(['--preset', 'tiny', '--config', 'run.json', '--optim.lr=1e-3'])).toEqual({ file: 'run.json', overrides: { preset: 'tiny', optim: { lr: 1e-3 } } });
    expect(parseConfigArgs(['--config=a.json'])).toEqual({ file: 'a.json', overrides: {} });
    expect(parseConfigArgs(['--seed', '3'])).toEqual({ file: null, overrides: { seed: 3 } });
    expect(() => parseConfigArgs(['--config'])).toThrow(/--config: missing file name/);
    expect(() => parseConfigArgs(['--config', '--seed', '3'])).toThrow(/--config: missing file name/);
    expect(() => parseConfigArgs(['--config='])).toThrow(/--config: missing file name/);
  });
});
