// Parity with MONAI 1.2 on a real label map: the ITK k-means tissue segmentation (128×128×62,
// 2×2×3 mm) against copies of itself shifted by whole voxels. The expected numbers were computed
// by MONAI (compute_dice / compute_hausdorff_distance) and are stored in
// fixtures/realdata_itk_kmeans.json; see fixtures/README.md.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { evaluateSegmentation } from '../src/index.js';
import { readLabel, type Volume } from '@swinmm/data';

interface ShiftRecord {
  classes: number[];
  dice: number[];
  hd95_vox: number[];
  hd95_mm: number[];
  hd_max_vox: number[];
  voxels_label: number[];
  voxels_perturbed: number[];
}

const fixtures = join(__dirname, 'fixtures');
const ref = JSON.parse(readFileSync(join(fixtures, 'realdata_itk_kmeans.json'), 'utf8')) as Record<string, unknown> & {
  metric_settings: string;
  label: { shape: number[] };
};
// readLabel keeps nibabel's array order ([i][j][k] as stored, k fastest): the order the fixture's
// shifts were applied in.
let volume: Volume;
let label: { data: ArrayLike<number>; shape: [number, number, number]; spacing: [number, number, number] };
beforeAll(async () => {
  volume = await readLabel(join(fixtures, 'KmeansTest_T1KmeansPrelimSegmentation.nii.gz'));
  label = { data: volume.data, shape: volume.shape, spacing: volume.spacing };
});

/** The fixture's perturbation: pert[i+a, j+b, k+c] = lab[i, j, k] on the array as stored, zero fill. */
function shifted(a: number, b: number, c: number): Uint8Array {
  const [ni, nj, nk] = label.shape;
  const out = new Uint8Array(label.data.length);
  for (let i = 0; i < ni; i++) {
    const ti = i + a;
    if (ti < 0 || ti >= ni) continue;
    for (let j = 0; j < nj; j++) {
      const tj = j + b;
      if (tj < 0 || tj >= nj) continue;
      for (let k = 0; k < nk; k++) {
        const tk = k + c;
        if (tk < 0 || tk >= nk) continue;
        out[(ti * nj + tj) * nk + tk] = label.data[(i * nj + j) * nk + k];
      }
    }
  }
  return out;
}

const shifts = Object.keys(ref).filter((k) => k.startsWith('metrics_shift_'));

function expectRelative(actual: number, expected: number, rel: number): void {
  expect(Number.isFinite(actual)).toBe(true);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('MONAI parity on the ITK k-means label map', () => {
  it('reads the label map as the fixture describes it', () => {
    expect(label.shape).toEqual(ref.label.shape);
    expect(label.spacing).toEqual([2, 2, 3]);
    expect(shifts.length).toBeGreaterThanOrEqual(2);
  });

  it.each(shifts)('%s: Dice (1e-6), HD95 in voxels and mm and HD (1e-4 relative)', (key) => {
    const rec = ref[key] as ShiftRecord;
    const [a, b, c] = key.replace('metrics_shift_', '').split('_').map(Number);
    const pred = { data: shifted(a, b, c), shape: label.shape };
    const gt = { data: label.data, shape: label.shape };
    const vox = evaluateSegmentation(pred, gt, { labels: rec.classes, spacing: 1 });
    // A @swinmm/data Volume is accepted as is (its own spacing is used).
    const mm = evaluateSegmentation({ ...pred, spacing: label.spacing }, volume, { labels: rec.classes });
    expect(mm.spacing).toEqual([2, 2, 3]);
    rec.classes.forEach((cls, n) => {
      const v = vox.classes[n];
      expect(v.label).toBe(cls);
      expect(v.gtVoxels).toBe(rec.voxels_label[n]);
      expect(v.predVoxels).toBe(rec.voxels_perturbed[n]);
      expect(Math.abs(v.dice - rec.dice[n])).toBeLessThanOrEqual(1e-6);
      expectRelative(v.hd95, rec.hd95_vox[n], 1e-4);
      expectRelative(v.hd, rec.hd_max_vox[n], 1e-4);
      expectRelative(mm.classes[n].hd95, rec.hd95_mm[n], 1e-4);
      expect(mm.classes[n].dice).toBe(v.dice);
    });
  });
});
