import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, mainHelp, type CliIo } from '../src/cli.js';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe('swinmm evaluate', () => {
  it('is listed with its help', async () => {
    expect(mainHelp()).toMatch(/evaluate\s+per-case and per-class Dice/);
    const io = capture();
    expect(await runCli(['evaluate', '--help'], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('--nsd-tolerance <MM>');
  });

  it('names missing and bad arguments', async () => {
    let io = capture();
    expect(await runCli(['evaluate', '--pred', 'a'], io)).toBe(2);
    expect(io.stderr[0]).toBe('swinmm evaluate: --pred <dir> and --gt <dir> are both required');
    io = capture();
    expect(await runCli(['evaluate', '--pred', 'a', '--gt', 'b', '--labels', '1,x'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/--labels 1,x: expected comma-separated class values/);
    io = capture();
    expect(await runCli(['evaluate', '--pred', 'a', '--gt', 'b', '--nsd-tolerance=0'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/--nsd-tolerance 0: expected a number of mm > 0/);
  });

  it('reports an unreadable folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-eval-'));
    const io = capture();
    expect(await runCli(['evaluate', '--pred', join(dir, 'none'), '--gt', dir], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/cannot read the prediction folder .*none/);
  });
});

describe('swinmm finetune and infer', () => {
  it('check their arguments and the configuration before anything runs', async () => {
    let io = capture();
    expect(await runCli(['finetune'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/expected --config <file> or --preset <name>/);
    io = capture();
    expect(await runCli(['finetune', '--preset', 'tiny', 'lr'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/expected key=value overrides, found "lr"/);
    io = capture();
    expect(await runCli(['finetune', '--preset', 'tiny', 'data.manifest=/nope/dataset.json', 'optim.lr=fast'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/optim.lr: expected a number > 0, found the string "fast"/);
    io = capture();
    expect(await runCli(['finetune', '--preset', 'tiny', 'data.manifest=/nope/dataset.json'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/data.manifest: file not found: \/nope\/dataset.json/);
    io = capture();
    expect(await runCli(['infer', '-i', 'a.nii.gz'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/-i <image\|folder>, -o <dir> and --weights <file> are all required/);
    io = capture();
    expect(await runCli(['infer', '-i', 'a', '-o', 'b', '-w', 'c', '--overlap', '1.5'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/--overlap 1.5: expected a number in \[0, 1\)/);
  });
});
