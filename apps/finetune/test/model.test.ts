import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SSLHead } from '@swinmm/heads';
import { initBackend, Rng } from '@swinmm/runtime';
import { exportSafetensors } from '@swinmm/weights';
import { createSegmenter, finetunePreset, loadFinetuned, loadPretrainedEncoder, swinmmKit } from '../src/index.js';

// Construction and weight I/O only (no forward pass: a 64³ SwinMM step takes minutes on this CPU).
describe('SwinMM model kit', () => {
  const model = finetunePreset('tiny').model;

  beforeAll(async () => {
    await initBackend('cpu', { log: () => {} });
  });

  it('initialises the encoder from a pre-training head and counts the backbone tensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-model-'));
    const head = new SSLHead({ inChannels: 1, featureSize: 12, rng: Rng.fromSeed(5) });
    const file = join(dir, 'ssl_head.safetensors');
    await writeFile(file, exportSafetensors(head));
    const seg = createSegmenter(model, 0);
    const report = await loadPretrainedEncoder(seg, file);
    const backbone = [...seg.namedVariables().keys()].filter((n) => n.startsWith('swinViT.'));
    expect(report.backboneTotal).toBe(backbone.length);
    expect(report.backboneLoaded).toBe(backbone.length);
    expect(report.unused).toBeGreaterThan(0); // the rotation / contrastive / reconstruction heads
    expect(report.summary).toContain(`loaded ${backbone.length} of ${backbone.length} backbone tensors`);
    const name = 'swinViT.patch_embed.proj.bias';
    const a = seg.namedVariables().get(name) as tf.Variable;
    const b = head.namedVariables().get(name) as tf.Variable;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    head.dispose();
    seg.dispose();
  });

  it('writes weights with their settings and refuses weights for another class count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-model-'));
    const seg = createSegmenter(model, 1);
    const file = join(dir, 'best.safetensors');
    await swinmmKit.saveWeights(seg, file, { 'swinmm.finetune': JSON.stringify({ model, transforms: { pixdim: [4.05, 2.9, 4.05], aMin: 0, aMax: 255 } }) });
    const loaded = await loadFinetuned(file);
    expect(loaded.settings.model.outChannels).toBe(7);
    expect(loaded.settings.transforms.pixdim).toEqual([4.05, 2.9, 4.05]);
    const w = (m: typeof seg) => Array.from((m.namedVariables().get('out.conv.conv.weight') as tf.Variable).dataSync().slice(0, 5));
    expect(w(loaded.model)).toEqual(w(seg));
    loaded.model.dispose();
    await expect(loadFinetuned(file, { model: { ...model, outChannels: 17 } })).rejects.toThrow(
      /the weights are for 7 classes \(out.conv.conv.weight has shape \[7, 12, 1, 1, 1\]\) but the model is configured for 17/,
    );
    seg.dispose();
  });
});
