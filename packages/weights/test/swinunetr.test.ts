// The weights path with the real SwinUNETR of @swinmm/decoder (MONAI names, PyTorch layouts).
import { initBackend, Rng } from '@swinmm/runtime';
import { SwinUNETR } from '@swinmm/decoder';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, toTorchLayout } from '@swinmm/nn';
import {
  parseTorchCheckpoint,
  mapDdpKeys,
  mapPlainKeys,
  loadIntoModule,
  exportSafetensors,
  safetensorsToStateDict,
  WeightsLoadError,
} from '../src/index.js';
import { fixtureBytes, sha256Hex } from './helpers.js';

// The swinunetr-small fixture config (the mini checkpoint comes from it). Models are large for
// this machine, so one is shared by the tests.
const small = (seed = 0): SwinUNETR => new SwinUNETR({ imgSize: [64, 32, 64], inChannels: 1, outChannels: 3, featureSize: 12, rng: Rng.fromSeed(seed) });
let model: SwinUNETR;
beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  model = small();
});
afterAll(() => model.dispose());

describe('SwinUNETR and real checkpoints', () => {
  it('the mini checkpoint loads its 5 parameters and its index buffer equals the model window', () => {
    const mapped = mapDdpKeys(parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root);
    // A strict load refuses the partial file (and changes nothing).
    expect(() => loadIntoModule(model, mapped, { strict: true })).toThrow(WeightsLoadError);
    const report = loadIntoModule(model, mapped, { strict: false });
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
    expect(report.constantMismatch).toEqual([]);
    expect(report.missing).toHaveLength(151 - 5);
    expect(report.unexpected).toEqual([]);
    expect(report.backboneTotal).toBe(118);
    expect(report.backboneLoaded).toBe(3);
    // The loaded values, back in PyTorch layout, are the file's bytes.
    const params = new Map(model.namedParameters());
    for (const name of report.loaded) {
      const p = params.get(name)!;
      const back = tf.tidy(() => toTorchLayout(p.variable, p.layout).dataSync() as Float32Array);
      expect(sha256Hex(back)).toBe(sha256Hex(mapped.tensors.get(name)!.data));
    }
  });

  it("export has the 159 entries of MONAI's state_dict (151 parameters + 8 index buffers) and re-imports strictly", () => {
    // Bit-exactness of export → import is tested on small modules (module-io.test.ts); constructing
    // a second SwinUNETR costs ~20 s under jest on this machine.
    const entries = readSafetensors(exportSafetensors(model));
    expect(entries.size).toBe(159);
    const index = [...entries].filter(([, e]) => e.dtype === 'I64');
    expect(index).toHaveLength(8);
    expect(index.every(([k, e]) => k.endsWith('.attn.relative_position_index') && e.shape.join() === '343,343')).toBe(true);
    const report = loadIntoModule(model, mapPlainKeys(safetensorsToStateDict(entries)), { strict: true });
    expect(report.matched).toBe(159);
    expect(report.constants).toHaveLength(8);
    expect(report.constantMismatch).toEqual([]);
  });
});
