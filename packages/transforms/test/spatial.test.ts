import { Rng } from '@swinmm/runtime';
import {
  axcodesOf,
  cropForeground,
  flip,
  foregroundBox,
  orientation,
  randCropByPosNegLabel,
  randFlip,
  randRotate90,
  randSpatialCropSamples,
  rotate90,
  spatialCropCenter,
  spatialPad,
} from '../src/index.js';
import { ARRAY_TYPES, at, expectWorldConsistent, ids, LABEL_TYPES, synth } from './helpers.js';

const LSA = [
  [-2, 0, 0, 10],
  [0, 0, 3, -20],
  [0, 2, 0, 5],
  [0, 0, 0, 1],
];

describe('orientation', () => {
  it.each(ARRAY_TYPES)('reorients %s voxels to any code, keeps world positions, and round-trips', (_name, ctor) => {
    const v = synth(ctor, [4, 3, 5], ids, LSA);
    expect(axcodesOf(v.affine)).toBe('LSA');
    for (const code of ['RAS', 'LPS', 'PIR', 'SAL', 'LSA']) {
      const o = orientation(v, code);
      expect(axcodesOf(o.affine)).toBe(code);
      expect(o.data).toBeInstanceOf(ctor);
      expectWorldConsistent(v, o);
      const back = orientation(o, 'LSA');
      expect(back.shape).toEqual(v.shape);
      expect(back.affine).toEqual(v.affine);
      expect(Array.from(back.data)).toEqual(Array.from(v.data));
    }
  });

  it('reads the nearest code of an oblique grid (nibabel io_orientation)', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const oblique = [
      [c * 2, -s * 2, 0, 0],
      [s * 2, c * 2, 0, 0],
      [0, 0, -1.5, 0],
      [0, 0, 0, 1],
    ];
    expect(axcodesOf(oblique)).toBe('RAI');
    const o = orientation(synth(Uint8Array, [3, 4, 2], ids, oblique), 'RAS');
    expect(o.shape).toEqual([3, 4, 2]);
    expect(o.affine[2][2]).toBe(1.5);
  });

  it('rejects unknown or repeated axis letters, naming them', () => {
    const v = synth(Uint8Array, [2, 2, 2], ids);
    expect(() => orientation(v, 'RAX')).toThrow(/"X" in "RAX" is none of L\/R, P\/A, I\/S/);
    expect(() => orientation(v, 'RLS')).toThrow(/names world axis L\/R twice/);
    expect(() => orientation(v, 'RA')).toThrow(/three letters/);
  });
});

describe('flip and rotate90', () => {
  it.each(ARRAY_TYPES)('flips %s along any axes with a matching affine', (_name, ctor) => {
    const v = synth(ctor, [3, 4, 2], ids, LSA);
    for (const axes of [0, 1, 2, [0, 2], [0, 1, 2]]) {
      const f = flip(v, axes);
      expect(f.data).toBeInstanceOf(ctor);
      expectWorldConsistent(v, f);
      expect(Array.from(flip(f, axes).data)).toEqual(Array.from(v.data));
    }
    expect(at(flip(v, 0), 0, 1, 1)).toBe(at(v, 2, 1, 1));
  });

  it('turns like torch.rot90 / numpy.rot90 in the first two axes', () => {
    // numpy.rot90([[1, 2, 3], [4, 5, 6]]) = [[3, 6], [2, 5], [1, 4]]
    const v = synth(Int16Array, [2, 3, 1], (x, y) => x * 3 + y + 1);
    const r = rotate90(v, 1);
    expect(r.shape).toEqual([3, 2, 1]);
    expect(Array.from(r.data)).toEqual([3, 6, 2, 5, 1, 4]);
    expect(Array.from(rotate90(v, 2).data)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(Array.from(rotate90(v, 3).data)).toEqual([4, 1, 5, 2, 6, 3]);
  });

  it.each(ARRAY_TYPES)('rotates %s in every plane with a matching affine; four turns are the identity', (_name, ctor) => {
    const v = synth(ctor, [3, 4, 2], ids, LSA);
    for (const axes of [
      [0, 1],
      [1, 2],
      [0, 2],
      [2, 0],
    ] as [number, number][]) {
      let r = v;
      for (let k = 1; k <= 4; k++) {
        r = rotate90(r, 1, axes);
        expectWorldConsistent(v, r);
        expect(rotate90(v, k, axes).data).toEqual(r.data);
      }
      expect(r.affine).toEqual(v.affine);
    }
  });
});

describe('padding and cropping', () => {
  it.each(ARRAY_TYPES)('spatialPad pads %s symmetrically (floor before) and only where needed', (_name, ctor) => {
    const v = synth(ctor, [3, 6, 2], (x, y, z) => 1 + ids(x, y, z), LSA);
    const p = spatialPad(v, [6, 4, -1]);
    expect(p.shape).toEqual([6, 6, 2]);
    expect(p.data).toBeInstanceOf(ctor);
    expectWorldConsistent(v, p, 0);
    expect(at(p, 1, 0, 0)).toBe(at(v, 0, 0, 0));
    expect(at(p, 0, 0, 0)).toBe(0);
    const e = spatialPad(v, 5, { method: 'end', value: 7 });
    expect(e.shape).toEqual([5, 6, 5]);
    expect(at(e, 0, 0, 0)).toBe(at(v, 0, 0, 0));
    expect(at(e, 4, 0, 0)).toBe(7);
    expect(() => spatialPad(v, [0, 1, 1])).toThrow(/spatialSize must be positive integers or −1/);
  });

  it.each(ARRAY_TYPES)('cropForeground crops %s image and label to the image foreground box', (_name, ctor) => {
    const img = synth(ctor, [8, 7, 6], (x, y, z) => (x >= 2 && x <= 5 && y >= 1 && y <= 3 && z === 4 ? 1 + ids(x, y, z) : 0), LSA);
    const lab = synth(Uint8Array, [8, 7, 6], (x) => x % 3, LSA);
    expect(foregroundBox(img)).toEqual({ start: [2, 1, 4], end: [6, 4, 5] });
    const [ci, cl] = cropForeground([img, lab as never]);
    expect(ci.shape).toEqual([4, 3, 1]);
    expect(ci.data).toBeInstanceOf(ctor);
    expectWorldConsistent(img, ci);
    expectWorldConsistent(lab, cl);
    expect(cl.affine).toEqual(ci.affine);
    // margin widens (clipped at the border); kDivisible grows symmetrically and pads with 0.
    expect(foregroundBox(img, undefined, 1)).toEqual({ start: [1, 0, 3], end: [7, 5, 6] });
    expect(foregroundBox(img, undefined, 0, 4)).toEqual({ start: [2, 1, 3], end: [6, 5, 7] });
    const [k] = cropForeground([img], { kDivisible: 4 });
    expect(k.shape).toEqual([4, 4, 4]);
    expectWorldConsistent(img, k, 0);
    expect(foregroundBox(img, undefined, 1, 1, false)).toEqual({ start: [1, 0, 3], end: [7, 5, 6] });
    expect(foregroundBox(img, undefined, 2, 1, false)).toEqual({ start: [0, -1, 2], end: [8, 6, 7] });
    const [wide] = cropForeground([img], { margin: 2, allowSmaller: false });
    expect(wide.shape).toEqual([8, 7, 5]);
    expectWorldConsistent(img, wide, 0);
    expect(foregroundBox(img, (x) => x > 1000)).toBeNull();
    expect(() => cropForeground([img], { select: (x) => x > 1000 })).toThrow(/synthetic.*no foreground voxel/);
  });

  it('spatialCropCenter follows MONAI SpatialCrop(roi_center, roi_size)', () => {
    const v = synth(Uint8Array, [10, 10, 10], ids);
    const c = spatialCropCenter(v, [5, 1, 9], [4, 4, 4]);
    expect(c.shape).toEqual([4, 4, 3]);
    expect(c.affine.slice(0, 3).map((r) => r[3])).toEqual([3, 0, 7]);
    expectWorldConsistent(v, c);
  });

  it('rejects volumes on different grids', () => {
    const a = synth(Uint8Array, [4, 4, 4], ids);
    const b = synth(Uint8Array, [4, 4, 5], ids);
    expect(() => cropForeground([a, b])).toThrow(/share one grid.*4×4×4.*4×4×5/);
  });
});

describe('random spatial transforms', () => {
  it.each(ARRAY_TYPES)('randFlip and randRotate90 apply one draw to every %s volume', (_name, ctor) => {
    const img = synth(ctor, [4, 4, 3], ids, LSA);
    const lab = synth(Uint8Array, [4, 4, 3], (x, y) => (x + y) % 2, LSA);
    expect(randFlip([img], Rng.fromSeed(1), { prob: 0 })[0]).toBe(img);
    const [fi, fl] = randFlip([img, lab as never], Rng.fromSeed(1), { prob: 1, spatialAxis: 1 });
    expect(fi.data).toEqual(flip(img, 1).data);
    expect(fl.data).toEqual(flip(lab, 1).data);
    expect(fi.affine).toEqual(fl.affine);
    let seen = 0;
    for (let s = 0; s < 40; s++) {
      const [ri, rl] = randRotate90([img, lab as never], Rng.fromSeed(s), { prob: 0.5 });
      expect(ri.affine).toEqual(rl.affine);
      expectWorldConsistent(img, ri);
      expectWorldConsistent(lab, rl);
      if (ri !== img) seen++;
      expect(randRotate90([img], Rng.fromSeed(s), { prob: 0.5 })[0].data).toEqual(ri.data);
    }
    expect(seen).toBeGreaterThan(5);
    expect(seen).toBeLessThan(35);
  });

  it.each(ARRAY_TYPES)('randSpatialCropSamples crops %s at random positions, the same box for every volume', (_name, ctor) => {
    const img = synth(ctor, [9, 7, 5], ids, LSA);
    const lab = synth(Uint8Array, [9, 7, 5], (x) => x % 2, LSA);
    const samples = randSpatialCropSamples([img, lab as never], Rng.fromSeed(3), { roiSize: [4, 4, 8], numSamples: 5 });
    expect(samples).toHaveLength(5);
    const starts = new Set<string>();
    for (const [ci, cl] of samples) {
      expect(ci.shape).toEqual([4, 4, 5]);
      expect(ci.affine).toEqual(cl.affine);
      expectWorldConsistent(img, ci);
      expectWorldConsistent(lab, cl);
      starts.add(JSON.stringify(ci.affine));
    }
    expect(starts.size).toBeGreaterThan(1);
    const again = randSpatialCropSamples([img], Rng.fromSeed(3), { roiSize: [4, 4, 8], numSamples: 5 });
    expect(again.map((s) => s[0].affine)).toEqual(samples.map((s) => s[0].affine));
    const centre = randSpatialCropSamples([img], Rng.fromSeed(3), { roiSize: 3, numSamples: 1, randomCenter: false })[0][0];
    expect(centre.affine).toEqual(spatialCropCenter(img, [4, 3, 2], [3, 3, 3]).affine);
    for (const [c] of randSpatialCropSamples([img], Rng.fromSeed(4), { roiSize: 2, numSamples: 20, randomSize: true, maxRoiSize: [5, 3, -1] })) {
      expect(c.shape[0]).toBeGreaterThanOrEqual(2);
      expect(c.shape[0]).toBeLessThanOrEqual(5);
      expect(c.shape[1]).toBeLessThanOrEqual(3);
    }
  });

  it.each(LABEL_TYPES)('randCropByPosNegLabel centres crops on %s foreground or image-thresholded background', (_name, ctor) => {
    const lab = synth(ctor, [20, 20, 20], (x, y, z) => (x >= 8 && x < 12 && y >= 8 && y < 12 && z >= 8 && z < 12 ? 1 + (x % 2) : 0), LSA);
    const img = synth(Float32Array, [20, 20, 20], (x) => (x < 5 ? 1 : -1), LSA);
    const pos = randCropByPosNegLabel([img, lab as never], lab, Rng.fromSeed(0), { spatialSize: 6, pos: 1, neg: 0, numSamples: 6 });
    expect(pos.samples).toHaveLength(6);
    for (const [i, [ci, cl]] of pos.samples.entries()) {
      expect(ci.shape).toEqual([6, 6, 6]);
      expect(cl.data).toBeInstanceOf(ctor);
      expect(at(lab, ...pos.centers[i])).toBeGreaterThan(0);
      expectWorldConsistent(lab, cl);
    }
    // Background centres must have image > threshold (x < 5); centres are then shifted to fit.
    const neg = randCropByPosNegLabel([lab], lab, Rng.fromSeed(0), { spatialSize: 6, pos: 0, neg: 1, numSamples: 8, image: img, imageThreshold: 0 });
    for (const c of neg.centers) {
      expect(c[0]).toBeLessThan(5);
      expect(c.every((v) => v >= 3 && v <= 17)).toBe(true);
    }
    // No foreground at all: every crop falls back to background.
    const empty = synth(ctor, [20, 20, 20], () => 0);
    expect(randCropByPosNegLabel([empty], empty, Rng.fromSeed(0), { spatialSize: 4, numSamples: 3 }).centers).toHaveLength(3);
    expect(() => randCropByPosNegLabel([lab], lab, Rng.fromSeed(0), { spatialSize: 21 })).toThrow(/larger than the volume \[20, 20, 20\] on axis 0/);
    expect(randCropByPosNegLabel([lab], lab, Rng.fromSeed(0), { spatialSize: [21, 4, 4], allowSmaller: true }).samples[0][0].shape).toEqual([20, 4, 4]);
  });

  it('randCropByPosNegLabel splits crops by pos/(pos+neg)', () => {
    const lab = synth(Uint8Array, [16, 16, 16], (x) => (x < 8 ? 1 : 0));
    const { centers } = randCropByPosNegLabel([lab], lab, Rng.fromSeed(9), { spatialSize: 2, pos: 3, neg: 1, numSamples: 400 });
    const fg = centers.filter((c) => at(lab, ...c) > 0).length;
    expect(fg / 400).toBeGreaterThan(0.68);
    expect(fg / 400).toBeLessThan(0.82);
  });
});
