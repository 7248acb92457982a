import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@swinmm/runtime';
import { readSafetensors } from '@swinmm/nn';
import {
  parseTorchCheckpoint,
  mapDdpKeys,
  mapPlainKeys,
  loadIntoModule,
  exportSafetensors,
  moduleStateDict,
  moduleBuffers,
  readWeightsFile,
  convertCheckpoint,
  writeCheckpoint,
  readCheckpoint,
  WeightsLoadError,
  WeightsFormatError,
  formatLoadReport,
  TorchTensor,
  PyDict,
  typedArrayBytes,
} from '../src/index.js';
import { FIXTURES, fixtureBytes, sha256Hex } from './helpers.js';
import { miniModel } from './fake-model.js';

const MINI = join(FIXTURES, 'swinunetr_small_ddp_mini.pt');
const meta = JSON.parse(readFileSync(join(FIXTURES, 'checkpoint-meta.json'), 'utf8'));
const miniEntries = meta.files['swinunetr_small_ddp_mini.pt'].state_dict_entries as { key: string; sha256: string; dtype: string; shape: number[] }[];
const shaOf = (key: string) => miniEntries.find((e) => e.key === `module.${key}`)!.sha256;

let dir: string;
beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  dir = mkdtempSync(join(tmpdir(), 'weights-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loading the real checkpoint into a module', () => {
  it('strips module., loads 5 parameters, matches the index buffer, and reproduces the bytes', () => {
    const model = miniModel();
    const mapped = mapDdpKeys(parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root);
    expect(mapped.renamed).toHaveLength(6);
    const report = loadIntoModule(model, mapped, { strict: true });
    expect(report.loaded.sort()).toEqual(
      [
        'out.conv.conv.bias',
        'out.conv.conv.weight',
        'swinViT.layers1.0.blocks.0.attn.relative_position_bias_table',
        'swinViT.patch_embed.proj.bias',
        'swinViT.patch_embed.proj.weight',
      ].sort(),
    );
    expect(report.constants).toEqual(['swinViT.layers1.0.blocks.0.attn.relative_position_index']);
    expect(report.constantMismatch).toEqual([]); // our recomputed index equals PyTorch's
    expect(report.matched).toBe(6);
    expect(report.backboneLoaded).toBe(3);
    expect(report.backboneTotal).toBe(3);
    expect(report.clean).toBe(true);
    // Our layout → PyTorch layout gives back the file's bytes (sha256 from meta.json).
    for (const [name, e] of moduleStateDict(model)) expect(sha256Hex(e.data)).toBe(shaOf(name));
    model.dispose();
  });

  it('the exported relative_position_index (7³ window) is bit-identical to the PyTorch buffer', () => {
    const model = miniModel();
    const buffer = moduleBuffers(model).get('swinViT.layers1.0.blocks.0.attn.relative_position_index')!;
    expect(buffer.dtype).toBe('I64');
    expect(buffer.shape).toEqual([343, 343]);
    expect(sha256Hex(buffer.data)).toBe(shaOf('swinViT.layers1.0.blocks.0.attn.relative_position_index'));
    model.dispose();
  });

  it('a strict load that does not match changes nothing and lists every problem', () => {
    const model = miniModel();
    const before = moduleStateDict(model, { buffers: false });
    // Without stripping module. nothing matches: the trap of SwinMM's --checkpoint path.
    const plain = mapPlainKeys(parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root);
    let error: WeightsLoadError | undefined;
    try {
      loadIntoModule(model, plain, { strict: true, source: 'mini.pt' });
    } catch (e) {
      error = e as WeightsLoadError;
    }
    expect(error).toBeInstanceOf(WeightsLoadError);
    expect(error!.message).toMatch(/^mini\.pt: strict load into Named failed/);
    expect(error!.report.loaded).toEqual([]);
    expect(error!.report.missing).toHaveLength(5);
    expect(error!.report.unexpected).toHaveLength(6);
    expect(error!.message).toContain('WARNING: no parameter was loaded');
    const after = moduleStateDict(model, { buffers: false });
    for (const [k, v] of before) expect(after.get(k)!.data).toEqual(v.data);
    // Non-strict: the same report, nothing loaded, no error.
    expect(loadIntoModule(model, plain, { strict: false }).loaded).toEqual([]);
    model.dispose();
  });

  it('shape and dtype mismatches are reported, the rest loads', () => {
    const model = miniModel();
    const root = parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root as PyDict;
    const mapped = mapDdpKeys(root);
    const bias = mapped.tensors.get('out.conv.conv.bias') as TorchTensor;
    mapped.tensors.set('out.conv.conv.bias', new TorchTensor('float32', [1, 3], bias.data));
    mapped.tensors.set('out.conv.conv.weight', new TorchTensor('int32', [3, 12, 1, 1, 1], new Int32Array(36)));
    const report = loadIntoModule(model, mapped, { strict: false });
    expect(report.mismatched.map((m) => [m.name, m.reason])).toEqual([
      ['out.conv.conv.weight', 'dtype'],
      ['out.conv.conv.bias', 'shape'],
    ]);
    expect(report.loaded).toHaveLength(3);
    expect(formatLoadReport(report)).toContain('out.conv.conv.bias: expected [3] float, found [1, 3] float32');
    expect(() => loadIntoModule(model, mapped, { strict: true })).toThrow(WeightsLoadError);
    model.dispose();
  });

  it('does not leak tensors over repeated loads', () => {
    const model = miniModel();
    const mapped = mapDdpKeys(parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root);
    loadIntoModule(model, mapped);
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) loadIntoModule(model, mapped);
    expect(tf.memory().numTensors).toBe(n);
    model.dispose();
  });
});

describe('export and round trips', () => {
  it('export → import is bit-exact, buffers included', async () => {
    const a = miniModel(7);
    const file = join(dir, 'a.safetensors');
    const bytes = exportSafetensors(a, { metadata: { note: 'test' } });
    const entries = readSafetensors(bytes);
    expect(entries.get('swinViT.layers1.0.blocks.0.attn.relative_position_index')?.dtype).toBe('I64');
    expect(entries.get('swinViT.patch_embed.proj.weight')?.shape).toEqual([12, 1, 2, 2, 2]); // PyTorch layout
    await convertCheckpoint(MINI, join(dir, 'unused.safetensors')); // exercise the writer's folder handling
    writeFileSync(file, bytes);
    const b = miniModel(8);
    const input = await readWeightsFile(file);
    expect(input.format).toBe('safetensors');
    const report = loadIntoModule(b, input.mapped, { strict: true });
    expect(report.matched).toBe(6);
    const sa = moduleStateDict(a);
    const sb = moduleStateDict(b);
    expect([...sb.keys()]).toEqual([...sa.keys()]);
    for (const [k, v] of sa) expect(sha256Hex(sb.get(k)!.data)).toBe(sha256Hex(v.data));
    a.dispose();
    b.dispose();
  });

  it('convert .pt → .safetensors keeps every tensor bit-exact (all entries, or what the model uses)', async () => {
    const out = join(dir, 'mini.safetensors');
    const all = await convertCheckpoint(MINI, out, { source: 'ddp' });
    expect(all.report).toBeNull();
    expect(all.input.info).toEqual({ epoch: 7, best_acc: 0.5 });
    expect(all.input.optimizer?.state.size).toBe(5);
    const read = readSafetensors(new Uint8Array(readFileSync(out)));
    expect([...read.keys()].sort()).toEqual(miniEntries.map((e) => e.key.slice('module.'.length)).sort());
    for (const [k, e] of read) expect(sha256Hex(e.data)).toBe(shaOf(k));
    const model = miniModel();
    const checked = await convertCheckpoint(MINI, out, { model, strict: true });
    expect(checked.report?.matched).toBe(6);
    expect(checked.written).toHaveLength(6);
    // No temporary files are left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    model.dispose();
  });
});

describe('checkpoint container', () => {
  it('round-trips tensors of every dtype and JSON metadata', async () => {
    const rng = Rng.fromSeed(3);
    const tensors = new Map([
      ['model.w', { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from(rng.normalArray(6)) }],
      ['optim.exp_avg.w', { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from(rng.normalArray(6)) }],
      ['step_counts', { dtype: 'I64' as const, shape: [2], data: BigInt64Array.from([1n, 2n ** 40n]) }],
      ['mask', { dtype: 'U8' as const, shape: [3], data: Uint8Array.from([0, 1, 255]) }],
    ]);
    const metadata = { step: 12, schedule: { epoch: 3, lr: 1e-4 }, rngs: { data: rng.fork('data').getState() } };
    const base = join(dir, 'run', 'ckpt-12');
    const paths = await writeCheckpoint(base, { tensors, metadata });
    expect(existsSync(paths.tensors) && existsSync(paths.json)).toBe(true);
    const back = await readCheckpoint(base);
    expect(back.metadata).toEqual(JSON.parse(JSON.stringify(metadata)));
    expect([...back.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [k, v] of tensors) {
      const got = back.tensors.get(k)!;
      expect(got.dtype).toBe(v.dtype);
      expect(got.shape).toEqual(v.shape);
      expect(sha256Hex(typedArrayBytes(got.data as Float32Array))).toBe(sha256Hex(v.data));
    }
    // Overwriting replaces both files; the reader notices a torn pair.
    await writeCheckpoint(base, { tensors: new Map([['x', { dtype: 'F32', shape: [1], data: new Float32Array([5]) }]]), metadata: { step: 13 } });
    expect((await readCheckpoint(base)).metadata).toEqual({ step: 13 });
    writeFileSync(paths.tensors, readFileSync(paths.tensors).subarray(0, 10));
    await expect(readCheckpoint(base)).rejects.toThrow(/the pair is torn or mixed/);
    expect(readdirSync(join(dir, 'run')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses metadata that JSON cannot keep', async () => {
    await expect(writeCheckpoint(join(dir, 'bad'), { tensors: new Map(), metadata: { lr: NaN } })).rejects.toThrow(WeightsFormatError);
  });
});
