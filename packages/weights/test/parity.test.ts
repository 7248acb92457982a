// Numerical parity through the load path: the real torch.save file's patch-embedding weights,
// loaded with module. stripped and converted to our layout, reproduce PyTorch's patch embedding
// (reference fixture crop) within the project tolerance 1e-4.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@swinmm/runtime';
import { readSafetensors, type Conv3d } from '@swinmm/nn';
import { parseTorchCheckpoint, mapDdpKeys, loadIntoModule } from '../src/index.js';
import { fixtureBytes } from './helpers.js';
import { miniModel } from './fake-model.js';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

it("loaded patch_embed.proj weights give PyTorch's patch embedding within 1e-4", () => {
  const crop = readSafetensors(fixtureBytes('patch_embed_crop.safetensors'));
  const input = crop.get('input')!; // [1, 1, 16, 16, 16] NCDHW
  const expected = crop.get('patch_embed')!; // [1, 12, 8, 8, 8] NCDHW
  const model = miniModel(123); // different initial weights: the load must replace them
  const report = loadIntoModule(model, mapDdpKeys(parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root));
  expect(report.clean).toBe(true);
  const proj = new Map(model.namedModules()).get('swinViT.patch_embed.proj') as Conv3d;
  const maxDiff = tf.tidy(() => {
    const x = tf.tensor(input.data as Float32Array, input.shape).transpose([0, 2, 3, 4, 1]); // → channels-last
    const y = proj.forward(x).transpose([0, 4, 1, 2, 3]); // → NCDHW
    expect(y.shape).toEqual(expected.shape);
    return tf.max(tf.abs(tf.sub(y, tf.tensor(expected.data as Float32Array, expected.shape)))).dataSync()[0];
  });
  expect(maxDiff).toBeLessThan(1e-4);
  model.dispose();
});
