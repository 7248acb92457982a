import { Rng } from '@swinmm/runtime';
import type { Volume } from '@swinmm/data';
import {
  compose,
  cropForegroundd,
  finetuneTrainPipeline,
  flip,
  orientation,
  orientationd,
  pretrainPipeline,
  randCropByPosNegLabeld,
  randFlipd,
  randRotate90d,
  randScaleIntensityd,
  randShiftIntensityd,
  randSpatialCropSamplesd,
  scaleIntensityRanged,
  spacingd,
  spatialPadd,
  type Sample,
} from '../src/index.js';
import { expectWorldConsistent, ids, synth } from './helpers.js';

const LPS = [
  [-1, 0, 0, 0],
  [0, -1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

function pair(shape: [number, number, number] = [8, 8, 8]): Sample {
  return {
    image: synth(Float32Array, shape, (x, y, z) => x + y + z - 3, LPS),
    label: synth(Uint8Array, shape, (x, y) => (x > 2 && y > 2 ? 1 + (x % 2) : 0), LPS),
    id: 'case-1',
  };
}

describe('dictionary wrappers', () => {
  it('apply to the named keys only and pass other entries through', () => {
    const s = pair();
    const out = orientationd({ keys: ['image'] })(s) as Sample;
    expect(out.id).toBe('case-1');
    expect(out.label).toBe(s.label);
    expect((out.image as Volume).affine).toEqual(orientation(s.image as Volume, 'RAS').affine);
    expect(s.image).not.toBe(out.image);
  });

  it('random wrappers make one choice per call for every key', () => {
    const s = pair();
    for (let seed = 0; seed < 10; seed++) {
      const out = compose(randFlipd({ keys: ['image', 'label'], prob: 0.5, spatialAxis: 0 }), randRotate90d({ keys: ['image', 'label'], prob: 0.5 }))(s, Rng.fromSeed(seed))[0];
      const im = out.image as Volume;
      const lb = out.label as Volume;
      expect(im.affine).toEqual(lb.affine);
      expectWorldConsistent(s.image as Volume, im);
      expectWorldConsistent(s.label as Volume, lb);
    }
    const flipped = randFlipd({ keys: ['image', 'label'], prob: 1, spatialAxis: 2 })(s, Rng.fromSeed(0)) as Sample;
    expect((flipped.image as Volume).data).toEqual(flip(s.image as Volume, 2).data);
    const scaled = randScaleIntensityd({ keys: ['image', 'label'], prob: 1 })(s, Rng.fromSeed(2)) as Sample;
    const r1 = (scaled.image as Volume).data[100] / (s.image as Volume).data[100];
    const r2 = (scaled.label as Volume).data[511] / (s.label as Volume).data[511];
    expect(r1).toBeCloseTo(r2, 5);
    const shifted = randShiftIntensityd({ keys: ['image'], prob: 1 })(s, Rng.fromSeed(2)) as Sample;
    expect((shifted.image as Volume).data[0] - (s.image as Volume).data[0]).toBeCloseTo((shifted.image as Volume).data[7] - (s.image as Volume).data[7], 5);
  });

  it('crops multiply samples; later steps run on each', () => {
    const pipeline = compose(
      randSpatialCropSamplesd({ keys: ['image', 'label'], roiSize: 4, numSamples: 3 }),
      randCropByPosNegLabeld({ keys: ['image', 'label'], labelKey: 'label', imageKey: 'image', spatialSize: 2, numSamples: 2 }),
    );
    const out = pipeline(pair(), Rng.fromSeed(5));
    expect(out).toHaveLength(6);
    for (const o of out) {
      expect((o.image as Volume).shape).toEqual([2, 2, 2]);
      expect((o.image as Volume).affine).toEqual((o.label as Volume).affine);
      expect(o.id).toBe('case-1');
    }
    const again = pipeline(pair(), Rng.fromSeed(5));
    expect(again.map((o) => (o.image as Volume).affine)).toEqual(out.map((o) => (o.image as Volume).affine));
    expect(pipeline(pair(), Rng.fromSeed(6)).map((o) => (o.image as Volume).affine)).not.toEqual(out.map((o) => (o.image as Volume).affine));
  });

  it('gives each step its own random stream (adding a step does not change the others)', () => {
    const crop = randSpatialCropSamplesd({ keys: ['image'], roiSize: 3, numSamples: 2 });
    const a = compose(scaleIntensityRanged({ keys: ['image'], aMin: 0, aMax: 1 }), crop)(pair(), Rng.fromSeed(1));
    const b = compose(scaleIntensityRanged({ keys: ['image'], aMin: 0, aMax: 2 }), crop)(pair(), Rng.fromSeed(1));
    expect(a.map((o) => (o.image as Volume).affine)).toEqual(b.map((o) => (o.image as Volume).affine));
  });

  it('report missing keys, missing Rngs and bad options clearly', () => {
    const s = pair();
    expect(() => orientationd({ keys: ['img'] })(s)).toThrow(/the sample has no "img" \(it has "image", "label", "id"\)/);
    expect(() => orientationd({ keys: ['id'] })(s)).toThrow(/sample\["id"\] is not a Volume/);
    expect(() => randFlipd({ keys: ['image'] })(s)).toThrow(/randFlipd is random: pass an Rng/);
    expect(() => compose(randFlipd({ keys: ['image'] }))(s)).toThrow(/pass an Rng/);
    expect(() => spacingd({ keys: ['image', 'label'], pixdim: 1, mode: ['nearest'] })).toThrow(/2 keys but 1 modes/);
    expect(() => orientationd({ keys: [] })).toThrow(/non-empty list of strings/);
    expect(() => cropForegroundd({ keys: ['image'], sourceKey: 'nope' })(s)).toThrow(/no "nope"/);
  });
});

describe('SwinMM pipelines', () => {
  it('fine-tuning on unlabeled volumes: the same steps on the image alone, with random crops', () => {
    const sample = { image: synth(Int16Array, [70, 70, 70], (x, y, z) => ids(x, y, z), LPS) };
    const crops = finetuneTrainPipeline({ pixdim: [1, 1, 1], labeled: false, numSamples: 2, roiSize: [32, 32, 32] })(sample, Rng.fromSeed(0));
    expect(crops).toHaveLength(2);
    for (const c of crops) {
      expect(Object.keys(c)).toEqual(['image']);
      expect((c.image as Volume).shape).toEqual([32, 32, 32]);
      expect((c.image as Volume).data).toBeInstanceOf(Float32Array);
    }
  });

  it('fine-tuning: RAS, 1.5×1.5×2 mm, CT window, 4 crops of 64³ with flips/rot90/intensity', () => {
    const sample = {
      image: synth(Int16Array, [70, 70, 70], (x, y, z) => (x > 10 && x < 60 && y > 10 && y < 60 ? 40 + ids(x, y, z) : -1000), LPS),
      label: synth(Uint8Array, [70, 70, 70], (x, y, z) => (x > 30 && x < 40 && y > 30 && y < 40 && z > 20 && z < 30 ? 3 : 0), LPS),
    };
    const crops = finetuneTrainPipeline({ pixdim: [1, 1, 1] })(sample, Rng.fromSeed(0));
    expect(crops).toHaveLength(4);
    for (const c of crops) {
      const im = c.image as Volume;
      expect(im.shape).toEqual([64, 64, 64]);
      expect(im.data).toBeInstanceOf(Float32Array);
      expect((c.label as Volume).data).toBeInstanceOf(Uint8Array);
      let min = Infinity;
      let max = -Infinity;
      for (const v of im.data) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      // The window clips to [0, 1]; the random intensity scale/shift may move it by ≤ 10 %.
      expect(min).toBeGreaterThanOrEqual(-0.11);
      expect(max).toBeLessThanOrEqual(1.22);
    }
  });

  it('pre-training: pads a small volume to 64³ and takes 2 random crops', () => {
    const out = pretrainPipeline()({ image: synth(Int16Array, [50, 70, 40], () => 0, LPS) }, Rng.fromSeed(0));
    expect(out).toHaveLength(2);
    for (const o of out) {
      expect((o.image as Volume).shape).toEqual([64, 64, 64]);
      // Voxels are the scaled intensity (0 HU → 0.5) or the zero padding added after scaling.
      expect(new Set((o.image as Volume).data)).toEqual(new Set([0, 0.5]));
    }
    const padded = spatialPadd({ keys: ['image'], spatialSize: 64 })({ image: synth(Uint8Array, [50, 70, 40], () => 1) }) as Sample;
    expect((padded.image as Volume).shape).toEqual([64, 70, 64]);
  });
});
