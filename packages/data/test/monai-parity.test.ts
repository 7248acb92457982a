// Parity with MONAI's LoadImaged (NibabelReader) on the bundled ITK MRI: the reference values
// were computed by MONAI 1.2.0 (test/fixtures/realdata_itk_kmeans.json, first pipeline step).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readLabel, readVolume, type Volume } from '../src/index.js';
import { ITK_LABELS, ITK_T1 } from './helpers.js';

interface StepStats {
  shape: number[];
  affine: number[][];
  spacing: number[];
  min: number;
  max: number;
  mean: number;
  std: number;
}
const fixture = JSON.parse(readFileSync(resolve(__dirname, 'fixtures/realdata_itk_kmeans.json'), 'utf8'));
const load = fixture.pipeline.steps[0] as { step: string; image: StepStats; label: StepStats };

function stats(v: Volume): { min: number; max: number; mean: number; std: number } {
  // float64 accumulation, as the fixture's statistics.
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of v.data) {
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const mean = sum / v.data.length;
  let ss = 0;
  for (const x of v.data) ss += (x - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(ss / v.data.length) };
}

function relClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-4 * Math.max(Math.abs(expected), 1e-12));
}

describe('readVolume / readLabel match MONAI LoadImaged on the ITK MRI', () => {
  it('is the fixture step we think it is', () => {
    expect(load.step).toBe('LoadImaged(reader=NibabelReader, image_only=True)');
    expect(fixture.files.image.sha256).toBe('e0e5975587f3f7916804bdd317c493cdb99cdb3703bf2671d458528f62510327');
    expect(fixture.files.label.sha256).toBe('8f48a7ced6d27644489b8a2fc8084bf6594560d05f8997ad4327b6353d11f342');
  });

  it.each([
    ['image', ITK_T1, readVolume],
    ['label', ITK_LABELS, readLabel],
  ] as const)('%s: shape, affine, spacing exact; statistics within 1e-4 relative', async (key, path, read) => {
    const ref = load[key];
    const v = await read(path);
    expect(v.shape).toEqual(ref.shape);
    expect(v.spacing).toEqual(ref.spacing);
    expect(v.affine.map((r) => r.map((x) => x + 0))).toEqual(ref.affine.map((r) => r.map((x) => x + 0)));
    const s = stats(v);
    expect(s.min).toBe(ref.min);
    expect(s.max).toBe(ref.max);
    relClose(s.mean, ref.mean);
    // N vs N−1 in the variance differs by 5e-7 relative here, well inside the tolerance.
    relClose(s.std, ref.std);
  });
});
