import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Module } from '@swinmm/nn';
import { readSafetensors } from '@swinmm/nn';
import { initBackend } from '@swinmm/runtime';
import { relativePositionIndex } from '@swinmm/swin';
import { runCli, mainHelp, COMMANDS, CLI_VERSION, type CliIo } from '../src/cli.js';
import { makeConvertCommand } from '../src/commands/convert.js';
import type { ModelRegistry } from '../src/models.js';

const FIX = join(__dirname, 'fixtures');
const MINI = join(FIX, 'swinunetr_small_ddp_mini.pt');
// sha256 of each state-dict entry of the mini file, from the reference fixtures' meta.json.
const SHA: Record<string, string> = {
  'swinViT.patch_embed.proj.weight': 'bb1d05872c6c29ba1c2e5824b412e3026bb7f3b355aa3ba9b7d1be053d55ce25',
  'swinViT.patch_embed.proj.bias': 'a75c22f91b5396667e8cfcbcecadd12a952aa69b61f3bf07eac683f5d2e43e7b',
  'swinViT.layers1.0.blocks.0.attn.relative_position_bias_table': 'dc7e6e0a10012c54c668235be1b8ccba4103f646270c7d3e801d18ddc2ea51b3',
  'swinViT.layers1.0.blocks.0.attn.relative_position_index': 'b44c3282c35eebfce03332f39d5ab73922d975b2469de29c76759918c091e447',
  'out.conv.conv.weight': 'cfc742d6102c9af8155fe54f6b45c23c7ee4c387913ca22b0268ca2e8e821aa7',
  'out.conv.conv.bias': '7bb80f1be756e5de188a4d06c1369b3f0eea7806b6f9a2ea00f0e607942c0f24',
};

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

// A model with the mini file's parameter names, registered as kind "mini" for --model.
class Leaf extends Module {
  constructor(params: [string, number[]][], constant?: string) {
    super();
    for (const [n, s] of params) this.addParameter(n, tf.zeros(s));
    // The buffer of a Swin window attention with a 7³ window, as the file holds it.
    if (constant) this.addConstant(constant, { shape: [343, 343], values: relativePositionIndex([7, 7, 7]) });
  }
}
class Node extends Module {
  constructor(children: [string, Module][]) {
    super();
    for (const [n, m] of children) this.addModule(n, m);
  }
}
const path = (names: string[], leaf: Module): Module => names.reduceRight<Module>((m, n) => new Node([[n, m]]), leaf);
function miniModel(outChannels: number): Module {
  return new Node([
    [
      'swinViT',
      new Node([
        ['patch_embed', path(['proj'], new Leaf([['weight', [12, 1, 2, 2, 2]], ['bias', [12]]]))],
        ['layers1', path(['0', 'blocks', '0', 'attn'], new Leaf([['relative_position_bias_table', [2197, 3]]], 'relative_position_index'))],
      ]),
    ],
    ['out', path(['conv', 'conv'], new Leaf([['weight', [outChannels, 12, 1, 1, 1]], ['bias', [outChannels]]]))],
  ]);
}
const registry: ModelRegistry = {
  kinds: [{ kind: 'mini', description: 'test model', create: async (c) => miniModel(Number(c.outChannels ?? 3)) }],
  presets: [{ name: 'mini-3', config: { model: 'mini', outChannels: 3 } }],
};
const commands = [makeConvertCommand(registry)];

let dir: string;
beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('swinmm dispatcher', () => {
  it('--help lists the commands; a command --help lists its options', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout.join('\n')).toBe(mainHelp(COMMANDS));
    expect(io.stdout.join('\n')).toMatch(/convert\s+convert a PyTorch checkpoint/);
    const io2 = capture();
    expect(await runCli(['convert', '--help'], io2)).toBe(0);
    const help = io2.stdout.join('\n');
    for (const flag of ['--source <MAPPING>', '--model <NAME|FILE>', '--strict', '-h, --help']) expect(help).toContain(flag);
  });

  it('--version prints the version of this package', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(CLI_VERSION).toBe(pkg.version);
    for (const flag of ['--version', '-V']) {
      const io = capture();
      expect(await runCli([flag], io)).toBe(0);
      expect(io.stdout).toEqual([`swinmm ${pkg.version}`]);
    }
  });

  it('usage errors exit with 2 and say what was expected', async () => {
    const io = capture();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/^swinmm: unknown command "frobnicate" \(expected one of: convert(, [a-z]+)*\)$/);
    const io2 = capture();
    expect(await runCli(['convert', 'a.pt'], io2)).toBe(2);
    expect(io2.stderr[0]).toBe('swinmm convert: expected <in> and <out> paths, found 1 argument(s): a.pt');
    const io3 = capture();
    expect(await runCli(['convert', 'a.pt', 'b.safetensors', '--bogus'], io3)).toBe(2);
    expect(io3.stderr[0]).toMatch(/Unknown option '--bogus'/);
    const io4 = capture();
    expect(await runCli(['convert', MINI, 'b.bin'], io4)).toBe(2);
    expect(io4.stderr[0]).toContain('the output must end with .safetensors, .pt or .pth, found "b.bin"');
    const io5 = capture();
    expect(await runCli(['convert', MINI, join(dir, 'x.safetensors'), '--model', 'nope'], io5, commands)).toBe(2);
    expect(io5.stderr[0]).toContain('--model nope: unknown model (presets: mini-3; or pass a JSON config file)');
  });
});

describe('swinmm convert', () => {
  it('converts the real checkpoint bit-exactly and prints what it read', async () => {
    const out = join(dir, 'mini.safetensors');
    const io = capture();
    expect(await runCli(['convert', MINI, out], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('(torch; epoch=7, best_acc=0.5)');
    expect(text).toContain('key mapping: ddp; 6 tensor(s); 6 renamed; state dict under "state_dict"');
    expect(text).toContain('optimizer: state for 5 parameter(s), 2 group(s) [3 params lr 0.0001 wd 0; 2 params lr 0.0001 wd 0.00001]');
    const read = readSafetensors(new Uint8Array(readFileSync(out)));
    expect(new Set(read.keys())).toEqual(new Set(Object.keys(SHA)));
    for (const [k, e] of read) {
      const d = e.data;
      expect(createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex')).toBe(SHA[k]);
    }
  });

  it('converts both ways: .pt → .pt (wrapped) → .safetensors stays bit-exact', async () => {
    const pt = join(dir, 'back.pt');
    const io = capture();
    expect(await runCli(['convert', MINI, pt, '--wrap', 'state_dict'], io)).toBe(0);
    const out = join(dir, 'back.safetensors');
    const io2 = capture();
    expect(await runCli(['convert', pt, out], io2)).toBe(0);
    // Our .pt holds names without "module.": the auto mapping leaves them as they are.
    expect(io2.stdout.join('\n')).toContain('key mapping: plain; 6 tensor(s); 0 renamed; state dict under "state_dict"');
    for (const [k, e] of readSafetensors(new Uint8Array(readFileSync(out)))) {
      expect(createHash('sha256').update(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength)).digest('hex')).toBe(SHA[k]);
    }
  });

  it('--model --strict checks the weights against a model and prints the report', async () => {
    const io = capture();
    expect(await runCli(['convert', MINI, join(dir, 'm.safetensors'), '--model', 'mini-3', '--strict'], io, commands)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('matched 6: 5 parameter(s) loaded + 1 recomputed buffer(s)');
    expect(text).toContain('backbone (swinViT.*): 3/3 parameter(s) loaded, 1 buffer(s) matched');
    expect(text).toContain('missing 0, unexpected 0, mismatched 0');
  });

  it('--strict fails with the full report when shapes differ (JSON config with 5 output classes)', async () => {
    const config = join(dir, 'model.json');
    writeFileSync(config, JSON.stringify({ model: 'mini', outChannels: 5 }));
    const io = capture();
    expect(await runCli(['convert', MINI, join(dir, 'm5.safetensors'), '--model', config, '--strict'], io, commands)).toBe(1);
    const err = io.stderr.join('\n');
    expect(err).toContain('strict load into Node failed');
    expect(err).toContain('out.conv.conv.weight: expected [5, 12, 1, 1, 1] float, found [3, 12, 1, 1, 1] float32');
    // Without --strict the same run reports and writes what fits.
    const io2 = capture();
    expect(await runCli(['convert', MINI, join(dir, 'm5.safetensors'), '--model', config], io2, commands)).toBe(0);
    expect(io2.stdout.join('\n')).toContain('wrote');
    expect(io2.stdout.join('\n')).toContain('mismatched 2');
  });

  it('--model swinunetr-small (the real SwinUNETR): the mini file is a partial load, reported as such', async () => {
    const io = capture();
    expect(await runCli(['convert', MINI, join(dir, 'real.safetensors'), '--model', 'swinunetr-small'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('matched 6: 5 parameter(s) loaded + 1 recomputed buffer(s)');
    expect(text).toContain('backbone (swinViT.*): 3/118 parameter(s) loaded, 1 buffer(s) matched');
    expect(text).toContain('missing 146, unexpected 0, mismatched 0');
    expect(text).toContain('wrote');
  });

  it('a JSON config is validated before the model is built', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ model: 'swinunetr', inChannels: 1, outChannels: 3, featureSize: '12' }));
    const io = capture();
    expect(await runCli(['convert', MINI, join(dir, 'bad.safetensors'), '--model', config], io)).toBe(2);
    expect(io.stderr[0]).toBe('swinmm convert: model "swinunetr": option "featureSize" must be int, found "12"');
    writeFileSync(config, JSON.stringify({ model: 'swinunetr', inChannels: 1, outChannels: 3, windowSize: 5 }));
    const io2 = capture();
    expect(await runCli(['convert', MINI, join(dir, 'bad.safetensors'), '--model', config], io2)).toBe(2);
    expect(io2.stderr[0]).toMatch(/unknown option "windowSize" \(expected one of: imgSize, inChannels/);
  });

  it('a malicious checkpoint is refused with the global named, exit code 1', async () => {
    const io = capture();
    expect(await runCli(['convert', join(FIX, 'os_system_in_zip.pt'), join(dir, 'evil.safetensors')], io)).toBe(1);
    expect(io.stderr[0]).toContain('refusing to load global "posix.system"');
    const io2 = capture();
    expect(await runCli(['convert', join(dir, 'missing.pt'), join(dir, 'x.safetensors')], io2)).toBe(1);
    expect(io2.stderr[0]).toMatch(/ENOENT/);
  });
});
