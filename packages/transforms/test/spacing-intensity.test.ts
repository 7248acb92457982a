import { Rng } from '@swinmm/runtime';
import type { Volume } from '@swinmm/data';
import {
  axcodesOf,
  computeShapeOffset,
  orientation,
  randScaleIntensity,
  randShiftIntensity,
  resampleToAffine,
  scaleIntensity,
  scaleIntensityRange,
  shiftIntensity,
  spacing,
  zoomAffine,
} from '../src/index.js';
import { ARRAY_TYPES, at, ids, LABEL_TYPES, synth } from './helpers.js';

const f32 = Math.fround;

describe('spacing', () => {
  it('computes MONAI output shape and affine: corners (n − 1)·ratio + 1, anchored at voxel 0', () => {
    const aff = [
      [2, 0, 0, -254],
      [0, 3, 0, -254],
      [0, 0, 2, 0],
      [0, 0, 0, 1],
    ];
    const z = zoomAffine(aff, [1.5, 1.5, 2]);
    expect(z).toEqual([
      [1.5, 0, 0, 0],
      [0, 1.5, 0, 0],
      [0, 0, 2, 0],
      [0, 0, 0, 1],
    ]);
    expect(computeShapeOffset([128, 62, 128], aff, z)).toEqual({ shape: [170, 123, 128], offset: [-254, -254, 0] });
    // Non-positive pixdim entries keep the input spacing of that axis.
    expect(zoomAffine(aff, [1, -1, 0]).slice(0, 3).map((r, i) => r[i])).toEqual([1, 3, 2]);
  });

  it.each(LABEL_TYPES)('nearest keeps %s labels (no new values) and the integer type', (_name, ctor) => {
    const v = synth(ctor, [6, 5, 4], ids, [
      [2, 0, 0, 0],
      [0, 2, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ]);
    const s = spacing(v, [1, 1, 1.5], { mode: 'nearest' });
    expect(s.data).toBeInstanceOf(ctor);
    expect(s.shape).toEqual([11, 9, 7]);
    const values = new Set(v.data);
    for (const x of s.data) expect(values.has(x)).toBe(true);
    // Output voxel (2i, 2j, 2k) sits exactly on input voxel (i, j, k).
    expect(at(s, 4, 2, 4)).toBe(at(v, 2, 1, 2));
    expect(s.affine).toEqual([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1.5, 0],
      [0, 0, 0, 1],
    ]);
  });

  it.each(ARRAY_TYPES)('bilinear resamples a linear %s ramp exactly and returns float32', (_name, ctor) => {
    const v = synth(ctor, [5, 4, 6], (x, y, z) => 10 * x + 3 * y + z);
    const s = spacing(v, [0.5, 2, 0.75]);
    expect(s.data).toBeInstanceOf(Float32Array);
    // (n − 1)·ratio + 1 = 9, 2.5 → 2 (NumPy rounds halves to even), 7.67 → 8.
    expect(s.shape).toEqual([9, 2, 8]);
    for (let x = 0; x < 9; x++) {
      for (let y = 0; y < 2; y++) {
        // Border padding: the last z sample (5.25) reads the edge voxel 5.
        for (let z = 0; z < 8; z++) expect(at(s, x, y, z)).toBeCloseTo(10 * (x * 0.5) + 3 * (y * 2) + Math.min(z * 0.75, 5), 4);
      }
    }
  });

  it('returns the input unchanged when the grid does not change (MONAI’s 1e-3 tolerance)', () => {
    const v = synth(Float32Array, [3, 3, 3], ids);
    const s = spacing(v, [1, 1, 1.0000001]);
    expect(s.affine).toEqual(v.affine);
    expect(Array.from(s.data)).toEqual(Array.from(v.data));
    expect(s.data).not.toBe(v.data);
  });

  it('keeps the rotation of a non-RAS grid (zoom_affine) and agrees with orientation-first', () => {
    const lsa = [
      [-2, 0, 0, 10],
      [0, 0, 3, -20],
      [0, 2, 0, 5],
      [0, 0, 0, 1],
    ];
    const v = synth(Float32Array, [6, 6, 4], ids, lsa);
    const s = spacing(v, [1, 1, 1.5]);
    expect(axcodesOf(s.affine)).toBe('LSA');
    expect(s.spacing).toEqual([1, 1, 1.5]);
    // Interpolated values agree; nearest-neighbour ties could not (they are mirrored by the flip).
    const viaRas = orientation(spacing(orientation(v, 'RAS'), [1, 1.5, 1]), 'LSA');
    expect(viaRas.shape).toEqual(s.shape);
    expect(viaRas.affine).toEqual(s.affine);
    s.data.forEach((x, i) => expect(viaRas.data[i]).toBeCloseTo(x, 4));
  });

  it('zeros padding fills outside the input; border repeats the edge', () => {
    const v = synth(Float32Array, [3, 3, 3], () => 5);
    const shifted = [
      [1, 0, 0, -2],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    expect(at(resampleToAffine(v, shifted, [3, 3, 3], { mode: 'nearest', paddingMode: 'zeros' }), 0, 0, 0)).toBe(0);
    expect(at(resampleToAffine(v, shifted, [3, 3, 3], { mode: 'nearest' }), 0, 0, 0)).toBe(5);
    expect(at(resampleToAffine(v, shifted, [3, 3, 3], { paddingMode: 'zeros' }), 0, 0, 0)).toBe(0);
  });

  it('rejects bad pixdim and modes, naming the volume', () => {
    const v = synth(Float32Array, [3, 3, 3], ids);
    expect(() => spacing(v, [1, Number.NaN, 1])).toThrow(/spacing \(synthetic\): pixdim must be 1 to 3 finite numbers/);
    expect(() => spacing(v, 2, { mode: 'cubic' as never })).toThrow(/mode must be "bilinear" or "nearest", got "cubic"/);
  });
});

describe('intensity', () => {
  it.each(ARRAY_TYPES)('scaleIntensityRange maps %s with float32 steps and clips', (_name, ctor) => {
    const v = synth(ctor, [4, 4, 4], (x, y, z) => x * 16 + y * 4 + z);
    const s = scaleIntensityRange(v, { aMin: 10, aMax: 50, bMin: -1, bMax: 1, clip: true });
    expect(s.data).toBeInstanceOf(Float32Array);
    for (let i = 0; i < v.data.length; i++) {
      const y = f32(f32(f32(f32(v.data[i]) - 10) / 40) * 2) - 1;
      expect(s.data[i]).toBe(f32(Math.min(1, Math.max(-1, f32(y)))));
    }
    const unclipped = scaleIntensityRange(v, { aMin: 10, aMax: 50 });
    expect(unclipped.data[63]).toBeCloseTo((63 - 10) / 40, 6);
    expect(scaleIntensityRange(v, { aMin: 3, aMax: 3, bMin: 2 }).data[5]).toBe(4);
    expect(() => scaleIntensityRange(v, { aMin: Number.NaN, aMax: 1 })).toThrow(/aMin must be a finite number/);
  });

  it('SwinMM CT window: (−175, 250) → (0, 1), clipped', () => {
    const v = synth(Float32Array, [1, 1, 4], (_x, _y, z) => [-1000, -175, 37.5, 400][z]);
    expect(Array.from(scaleIntensityRange(v, { aMin: -175, aMax: 250, bMin: 0, bMax: 1, clip: true }).data)).toEqual([0, 0, 0.5, 1]);
  });

  it.each(ARRAY_TYPES)('randScaleIntensity / randShiftIntensity on %s follow prob and the factor range', (_name, ctor) => {
    const v: Volume = synth(ctor, [2, 2, 2], (x, y, z) => 1 + x + y + z);
    expect(randScaleIntensity(v, Rng.fromSeed(1), { prob: 0 })).toBe(v);
    expect(randShiftIntensity(v, Rng.fromSeed(1), { prob: 0 })).toBe(v);
    for (let s = 0; s < 20; s++) {
      const scaled = randScaleIntensity(v, Rng.fromSeed(s), { prob: 1, factors: 0.1 });
      const ratio = scaled.data[7] / v.data[7];
      expect(ratio).toBeGreaterThanOrEqual(0.9 - 1e-6);
      expect(ratio).toBeLessThanOrEqual(1.1 + 1e-6);
      expect(Array.from(scaled.data)).toEqual(Array.from(scaleIntensity(v, ratio - 1).data).map((x, i) => (Math.abs(x - scaled.data[i]) < 1e-5 ? scaled.data[i] : x)));
      const shifted = randShiftIntensity(v, Rng.fromSeed(s), { prob: 1, offsets: [0.5, 2] });
      const d = shifted.data[0] - v.data[0];
      expect(d).toBeGreaterThanOrEqual(0.5 - 1e-6);
      expect(d).toBeLessThanOrEqual(2 + 1e-6);
      expect(shifted.data).toEqual(shiftIntensity(v, Math.fround(d)).data.map((x, i) => (Math.abs(x - shifted.data[i]) < 1e-5 ? shifted.data[i] : x)));
    }
    expect(() => randScaleIntensity(v, Rng.fromSeed(1), { prob: 2 })).toThrow(/prob must be in \[0, 1\], got 2/);
    expect(() => randShiftIntensity(v, Rng.fromSeed(1), { offsets: [1, 0] })).toThrow(/low ≤ high/);
  });
});
