import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@swinmm/runtime';
import { createVolume, readLabel, readVolume, writeVolume, type Volume } from '@swinmm/data';
import type { TwoViewPredictor } from '@swinmm/inference';
import { inferFiles, predictVolume } from '../src/index.js';

// A stand-in for the model: two classes, "bright" where the (preprocessed, 0…1) intensity is
// above 0.5. It is elementwise, so it is correct in any view; what is tested is the geometry
// around it: orientation, resampling, padding to the ROI, and the way back to the input grid.
const threshold: TwoViewPredictor = (xa, xb) =>
  tf.tidy(() => [xa, xb].map((x) => tf.concat([x.sub(0.5).mul(-20), x.sub(0.5).mul(20)], -1)) as [tf.Tensor5D, tf.Tensor5D]);

function phantom(): Volume<Float32Array> {
  const shape: [number, number, number] = [20, 18, 10];
  const data = new Float32Array(20 * 18 * 10);
  for (let x = 0; x < 20; x++)
    for (let y = 0; y < 18; y++)
      for (let z = 0; z < 10; z++) {
        const r2 = ((x - 9.5) / 6) ** 2 + ((y - 8.5) / 5) ** 2 + ((z - 4.5) / 3) ** 2;
        data[(x * 18 + y) * 10 + z] = r2 < 1 ? 80 : 20;
      }
  // LPS-like storage (x towards the right, y towards posterior), 2×2×3 mm: not RAS, so orientation matters.
  return createVolume({ data, shape, spacing: [2, 2, 3], origin: [10, 20, -5], direction: [[-1, 0, 0], [0, -1, 0], [0, 0, 1]] });
}

describe('predictVolume', () => {
  beforeAll(async () => {
    await initBackend('cpu', { log: () => {} });
  });

  it('pads an image smaller than the ROI and returns labels on the input grid', async () => {
    const image = phantom();
    const before = tf.memory().numTensors;
    const p = await predictVolume(image, threshold, { pixdim: [2, 2, 3], aMin: 0, aMax: 100, roi: [32, 32, 32], outChannels: 2, overlap: 0.5, swBatchSize: 2, views: [0, 1, 2], probabilities: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(p.modelGrid).toEqual([20, 18, 10]);
    expect(p.labels.shape).toEqual(image.shape);
    expect(p.labels.affine).toEqual(image.affine);
    let wrong = 0;
    for (let i = 0; i < image.data.length; i++) if (p.labels.data[i] !== (image.data[i] > 50 ? 1 : 0)) wrong++;
    expect(wrong).toBe(0);
    expect(p.probabilities).toHaveLength(2);
    const sum = (p.probabilities as Volume<Float32Array>[])[0].data[0] + (p.probabilities as Volume<Float32Array>[])[1].data[0];
    expect(sum).toBeCloseTo(1, 5);
  });

  it('resamples to the model voxel size and back', async () => {
    const image = phantom();
    const p = await predictVolume(image, threshold, { pixdim: [3, 3, 3], aMin: 0, aMax: 100, roi: [32, 32, 32], outChannels: 2, views: [0] });
    // MONAI's rule: round(extent in mm / pixdim) + 1 = round(38/3)+1, round(34/3)+1, round(27/3)+1.
    expect(p.modelGrid).toEqual([14, 12, 10]);
    expect(p.labels.shape).toEqual(image.shape);
    let inter = 0, a = 0, b = 0;
    for (let i = 0; i < image.data.length; i++) {
      const g = image.data[i] > 50 ? 1 : 0;
      inter += g & p.labels.data[i];
      a += g;
      b += p.labels.data[i];
    }
    expect((2 * inter) / (a + b)).toBeGreaterThan(0.85);
  });

  it('names a class-count mismatch', async () => {
    await expect(predictVolume(phantom(), threshold, { pixdim: [2, 2, 3], aMin: 0, aMax: 100, roi: [32, 32, 32], outChannels: 3, views: [0] })).rejects.toThrow(
      /the model outputs 2 classes but 3 were expected/,
    );
  });

  it('writes label maps that read back with the input affine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-infer-'));
    const file = join(dir, 'case.nii.gz');
    await writeVolume(file, phantom());
    const input = await readVolume(file);
    const done = await inferFiles(file, join(dir, 'out'), threshold, { pixdim: [2, 2, 3], aMin: 0, aMax: 100, roi: [32, 32, 32], outChannels: 2, views: [0] });
    expect(done[0].output).toBe(join(dir, 'out', 'case.nii.gz'));
    const back = await readLabel(done[0].output);
    expect(back.shape).toEqual(input.shape);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(back.affine[i][j]).toBeCloseTo(input.affine[i][j], 5);
    let wrong = 0;
    for (let i = 0; i < input.data.length; i++) if (back.data[i] !== (input.data[i] > 50 ? 1 : 0)) wrong++;
    expect(wrong).toBe(0);
  });
});
