import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The packages packed and installed together: a base package and one that imports it. */
const PACKAGES = ['runtime', 'nn'];

const workspace = resolve(__dirname, '..', '..', '..');
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_yes: 'false' } });

describe('packages install and import outside the workspace', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'swinmm-pack-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const tarballs: string[] = [];

  it.each(PACKAGES)('@swinmm/%s packs only what a consumer needs', (name) => {
    const out = run('npm', ['pack', '--json', '--pack-destination', scratch], join(workspace, 'packages', name));
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    tarballs.push(join(scratch, info.filename));
    const files = info.files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    const unexpected = files.filter((f) => !/^(dist\/.*\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/.test(f));
    expect(unexpected).toEqual([]);
  });

  it('installs the tarballs into a plain Node project and imports them', () => {
    const consumer = join(scratch, 'consumer');
    execFileSync('mkdir', ['-p', consumer]);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', '--ignore-scripts', ...tarballs], consumer);
    expect(readdirSync(join(consumer, 'node_modules', '@swinmm')).sort()).toEqual([...PACKAGES].sort());
    const script = `
      import { initBackend, Rng, detrandUniform } from '@swinmm/runtime';
      import { Linear, writeSafetensors, readSafetensors } from '@swinmm/nn';
      const info = await initBackend('cpu', { log: () => {} });
      const v = detrandUniform('input', [4], 0);
      const layer = new Linear(3, 2, { rng: Rng.fromSeed(1) });
      const names = [...layer.torchShapes().entries()].map(([n, s]) => n + ':' + s.join('x'));
      const bytes = writeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]]));
      const back = readSafetensors(bytes).get('w');
      console.log(JSON.stringify({ backend: info.name, rng: Rng.fromSeed(1).int(0, 1000), v0: v[0], names, back: Array.from(back.data) }));
    `;
    const output = JSON.parse(run('node', ['--input-type=module', '-e', script], consumer).trim().split('\n').pop()!);
    expect(output.backend).toBe('cpu');
    expect(output.v0).toBeCloseTo(-0.7166462540626526, 12);
    expect(Number.isInteger(output.rng)).toBe(true);
    expect(output.names).toEqual(['weight:2x3', 'bias:2']);
    expect(output.back).toEqual([1, 2]);

    // The tfjs-free entry points (random numbers, atomic file writes) still import once tfjs is gone.
    execFileSync('rm', ['-rf', join(consumer, 'node_modules', '@tensorflow')]);
    const randomOnly = `
      import { Rng, detrandUniform } from '@swinmm/runtime/random';
      import { writeFileAtomic } from '@swinmm/runtime/files';
      import { readFileSync } from 'node:fs';
      await writeFileAtomic('out/written.txt', 'atomic');
      console.log(JSON.stringify({ rng: Rng.fromSeed(1).int(0, 1000), v0: detrandUniform('input', [4], 0)[0], written: readFileSync('out/written.txt', 'utf8') }));
    `;
    const random = JSON.parse(run('node', ['--input-type=module', '-e', randomOnly], consumer).trim().split('\n').pop()!);
    expect(random).toEqual({ rng: output.rng, v0: output.v0, written: 'atomic' });
  });
});
