import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLabel, readVolume, type Volume } from '@swinmm/data';
import { Rng } from '@swinmm/runtime';
import {
  axcodesOf,
  compose,
  cropForegroundd,
  orientation,
  orientationd,
  randCropByPosNegLabeld,
  scaleIntensityRanged,
  spacingd,
  type Sample,
} from '../src/index.js';

// MONAI 1.2.0's outputs on the ITK k-means T1 MRI (LSA, 2×2×3 mm) after each step.
interface StepStats {
  shape: number[];
  affine: number[][];
  spacing: number[];
  min: number;
  max: number;
  mean: number;
  std: number;
}
interface Step {
  step: string;
  image: StepStats;
  label: StepStats;
}
const ref = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'realdata_itk_kmeans.json'), 'utf8')) as {
  image: { axcodes: string; affine: number[][] };
  pipeline: {
    steps: Step[];
    after_scale_axis_mean_profiles: { axis0: number[]; axis1: number[]; axis2: number[] };
    after_spacing_label_counts: Record<string, number>;
  };
};
const steps = ref.pipeline.steps;
const dataDir = join(__dirname, '..', '..', '..', 'data', 'itk');

function stats(v: Volume): { min: number; max: number; mean: number; std: number } {
  const d = v.data;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const mean = sum / d.length;
  let sq = 0;
  for (let i = 0; i < d.length; i++) sq += (d[i] - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(sq / d.length) };
}

/** Exact affine equality by value (nibabel writes −0 where we compute 0; they are the same number). */
function expectAffine(actual: number[][], expected: number[][]): void {
  expect(actual).toHaveLength(4);
  actual.forEach((row, i) => row.forEach((x, j) => {
    if (x !== expected[i][j]) throw new Error(`affine[${i}][${j}] = ${x}, MONAI has ${expected[i][j]}`);
  }));
}

/** Same length and every element equal (fast for millions of voxels). */
function expectSameVoxels(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  let bad = -1;
  for (let i = 0; i < a.length && bad < 0; i++) if (a[i] !== b[i]) bad = i;
  expect(bad).toBe(-1);
}

function expectRel(actual: number, expected: number, what: string): void {
  const rel = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
  if (!(rel <= 1e-4)) throw new Error(`${what}: ${actual} vs MONAI ${expected} (relative difference ${rel.toExponential(2)} > 1e-4)`);
}

/** Shape and affine exact, statistics within 1e-4 relative (MONAI's shape has the channel first). */
function expectMatches(v: Volume, r: StepStats, what: string): void {
  expect(v.shape).toEqual(r.shape.slice(-3));
  expectAffine(v.affine, r.affine);
  v.spacing.forEach((s, i) => expect(s).toBeCloseTo(r.spacing[i], 12));
  const s = stats(v);
  expectRel(s.mean, r.mean, `${what} mean`);
  expectRel(s.std, r.std, `${what} std`);
  expect(s.min).toBeCloseTo(r.min, 6);
  expect(s.max).toBeCloseTo(r.max, 6);
}

function axisMeans(v: Volume, axis: number): number[] {
  const [nx, ny, nz] = v.shape;
  const sums = new Float64Array(v.shape[axis]);
  let p = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, p++) sums[axis === 0 ? x : axis === 1 ? y : z] += v.data[p];
    }
  }
  const per = (nx * ny * nz) / v.shape[axis];
  return Array.from(sums, (s) => s / per);
}

let image: Volume<Float32Array>;
let label: Volume;
// The sample after each deterministic step (computed once; the steps take a few seconds here).
const after: Sample[] = [];

beforeAll(async () => {
  image = await readVolume(join(dataDir, 'KmeansTest_T1UCharRaw.nii.gz'));
  label = await readLabel(join(dataDir, 'KmeansTest_T1KmeansPrelimSegmentation.nii.gz'));
  const deterministic = [
    orientationd({ keys: ['image', 'label'], axcodes: 'RAS' }),
    spacingd({ keys: ['image', 'label'], pixdim: [1.5, 1.5, 2.0], mode: ['bilinear', 'nearest'] }),
    scaleIntensityRanged({ keys: ['image'], aMin: 0, aMax: 255, bMin: 0, bMax: 1, clip: true }),
    cropForegroundd({ keys: ['image', 'label'], sourceKey: 'image' }),
  ];
  let sample: Sample = { image, label, id: 'itk' };
  for (const t of deterministic) {
    const out = compose(t)(sample);
    expect(out).toHaveLength(1);
    sample = out[0];
    after.push(sample);
  }
});

describe('MONAI parity on the ITK k-means MRI (realdata_itk_kmeans.json)', () => {
  it('starts from the same voxels and LSA affine as nibabel', () => {
    expect(axcodesOf(image.affine)).toBe(ref.image.axcodes);
    expectMatches(image, steps[0].image, 'loaded image');
    expectMatches(label, steps[0].label, 'loaded label');
  });

  it('matches every step of Orientation → Spacing → ScaleIntensityRange → CropForeground', () => {
    // steps[2..5] are after Orientationd, Spacingd, ScaleIntensityRanged, CropForegroundd.
    after.forEach((sample, i) => {
      const r = steps[i + 2];
      expectMatches(sample.image as Volume, r.image, `${r.step} image`);
      expectMatches(sample.label as Volume, r.label, `${r.step} label`);
      expect(sample.id).toBe('itk');
      if (i === 1) {
        // Nearest-neighbour label resampling, class by class: many sample points are exact ties.
        const hist = new Float64Array(256);
        const lab = (sample.label as Volume).data;
        for (let k = 0; k < lab.length; k++) hist[lab[k]]++;
        const counts: Record<string, number> = {};
        hist.forEach((c, value) => {
          if (c > 0) counts[String(value)] = c;
        });
        expect(counts).toEqual(ref.pipeline.after_spacing_label_counts);
      }
      if (i === 2) {
        const profiles = ref.pipeline.after_scale_axis_mean_profiles;
        [profiles.axis0, profiles.axis1, profiles.axis2].forEach((expected, axis) => {
          const actual = axisMeans(sample.image as Volume, axis);
          expect(actual).toHaveLength(expected.length);
          // The profile values are stored rounded to ~6 significant digits.
          actual.forEach((a, k) => expect(Math.abs(a - expected[k])).toBeLessThanOrEqual(1e-4 * Math.abs(expected[k]) + 1e-6));
        });
      }
    });
  });

  it('keeps the label as integers through Spacing (nearest) and keeps image and label aligned', () => {
    const out = after[1];
    expect((out.label as Volume).data).toBeInstanceOf(label.data.constructor);
    expect((out.image as Volume).data).toBeInstanceOf(Float32Array);
    expect((out.image as Volume).affine).toEqual((out.label as Volume).affine);
  });

  it('RandCropByPosNegLabeld(64³, 4 samples) gives MONAI-shaped crops with valid centres', () => {
    const pipeline = compose(
      randCropByPosNegLabeld({ keys: ['image', 'label'], labelKey: 'label', imageKey: 'image', spatialSize: 64, pos: 1, neg: 1, numSamples: 4, imageThreshold: 0 }),
    );
    const crops = pipeline(after[2], Rng.fromSeed(0));
    expect(crops).toHaveLength(4);
    for (const c of crops) {
      const im = c.image as Volume;
      const lb = c.label as Volume;
      expect(im.shape).toEqual([64, 64, 64]);
      expect(lb.shape).toEqual([64, 64, 64]);
      expect(im.affine).toEqual(lb.affine);
      // The crop's corner lies on the resampled grid (1.5, 1.5, 2 mm) inside the volume.
      const corner = im.affine.map((row) => row[3]);
      const steps3 = [(corner[0] + 254) / 1.5, (corner[1] + 254) / 1.5, corner[2] / 2];
      steps3.forEach((s, i) => {
        expect(Number.isInteger(Math.round(s * 1e9) / 1e9)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s + 64).toBeLessThanOrEqual([170, 123, 128][i]);
      });
    }
    const again = pipeline(after[2], Rng.fromSeed(0));
    expect(again.map((c) => (c.image as Volume).affine)).toEqual(crops.map((c) => (c.image as Volume).affine));
  });

  it('orientation to RAS and back to LSA is the identity on the real volume', () => {
    const ras = orientation(label, 'RAS');
    expect(axcodesOf(ras.affine)).toBe('RAS');
    const back = orientation(ras, 'LSA');
    expect(back.shape).toEqual(label.shape);
    expectAffine(back.affine, label.affine);
    expectSameVoxels(back.data, label.data);
  });
});
