/**
 * Dictionary-style transforms (MONAI's `*d` classes) and {@link compose}.
 *
 * A sample is a plain object whose volume entries are named by keys (`{ image, label }`); each
 * wrapper applies one plain transform to the named keys and copies the other entries through.
 * Random wrappers make ONE random choice per call and apply it to every key, as MONAI does, so an
 * image and its label stay aligned. A pipeline always returns an array of samples, because crops
 * such as {@link randCropByPosNegLabeld} turn one sample into several; later steps then run on
 * each of them.
 *
 * @module
 */
import type { Volume, VoxelArray } from '@swinmm/data';
import type { Rng } from '@swinmm/runtime/random';
import { orientation, type AxisLabels } from './orientation.js';
import { spacing, type InterpolationMode, type PaddingMode } from './spacing.js';
import {
  drawScaleFactor,
  drawShiftOffset,
  scaleIntensity,
  scaleIntensityRange,
  shiftIntensity,
  type RandScaleIntensityOptions,
  type RandShiftIntensityOptions,
  type ScaleIntensityRangeOptions,
} from './intensity.js';
import {
  cropForeground,
  randCropByPosNegLabel,
  randFlip,
  randRotate90,
  randSpatialCropSamples,
  spatialPad,
  type CropForegroundOptions,
  type RandCropByPosNegLabelOptions,
  type RandFlipOptions,
  type RandRotate90Options,
  type RandSpatialCropSamplesOptions,
  type SpatialPadOptions,
} from './spatial.js';

/** A sample: named volumes plus anything else (file names, ids), passed through untouched. */
export type Sample = Record<string, unknown>;

/**
 * One step of a pipeline: a sample in, one or several samples out. Random steps draw from `rng`
 * and throw when it is missing.
 */
export type SampleTransform = (sample: Sample, rng?: Rng) => Sample | Sample[];

/** A composed pipeline: always returns the list of resulting samples. */
export type Pipeline = (sample: Sample, rng?: Rng) => Sample[];

/** Options shared by every dictionary transform: which entries to transform. */
export interface KeysOption {
  /** The sample keys holding the volumes to transform, e.g. `['image', 'label']`. */
  keys: readonly string[];
}

function isVolume(x: unknown): x is Volume {
  return typeof x === 'object' && x !== null && ArrayBuffer.isView((x as Volume).data) && Array.isArray((x as Volume).shape) && Array.isArray((x as Volume).affine);
}

function volumeAt(sample: Sample, key: string, ctx: string): Volume {
  if (typeof sample !== 'object' || sample === null) throw new TypeError(`${ctx}: expected a sample object, got ${String(sample)}`);
  const v = sample[key];
  if (v === undefined) throw new RangeError(`${ctx}: the sample has no "${key}" (it has ${Object.keys(sample).map((k) => `"${k}"`).join(', ') || 'no keys'})`);
  if (!isVolume(v)) throw new TypeError(`${ctx}: sample["${key}"] is not a Volume`);
  return v;
}

function checkKeys(keys: readonly string[], ctx: string): void {
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string')) {
    throw new RangeError(`${ctx}: keys must be a non-empty list of strings, got ${JSON.stringify(keys)}`);
  }
}

function needRng(rng: Rng | undefined, ctx: string): Rng {
  if (!rng) throw new TypeError(`${ctx} is random: pass an Rng to the pipeline (pipeline(sample, rng))`);
  return rng;
}

function mapKeys(sample: Sample, keys: readonly string[], ctx: string, fn: (v: Volume, key: string, index: number) => Volume): Sample {
  const out: Sample = { ...sample };
  keys.forEach((k, i) => {
    out[k] = fn(volumeAt(sample, k, ctx), k, i);
  });
  return out;
}

/**
 * Chains transforms like MONAI's `Compose`. Each step runs on every sample produced so far; a
 * step that returns several samples multiplies them. Step `i` on sample `j` draws from
 * `rng.fork("step<i>.<j>")`, so each random step has its own stream and adding a step does not
 * change the draws of the others.
 */
export function compose(...transforms: SampleTransform[]): Pipeline {
  transforms.forEach((t, i) => {
    if (typeof t !== 'function') throw new TypeError(`compose: step ${i} is not a transform function`);
  });
  return (sample: Sample, rng?: Rng): Sample[] => {
    let items: Sample[] = [sample];
    transforms.forEach((t, i) => {
      const next: Sample[] = [];
      items.forEach((item, j) => {
        const r = t(item, rng ? rng.fork(`step${i}.${j}`) : undefined);
        if (Array.isArray(r)) next.push(...r);
        else next.push(r);
      });
      items = next;
    });
    return items;
  };
}

/** MONAI `Orientationd`: {@link orientation} on each key (default `'RAS'`). */
export function orientationd(options: KeysOption & { axcodes?: string; labels?: AxisLabels }): SampleTransform {
  checkKeys(options.keys, 'orientationd');
  return (s) => mapKeys(s, options.keys, 'orientationd', (v) => orientation(v, options.axcodes ?? 'RAS', { labels: options.labels }));
}

/**
 * MONAI `Spacingd`: {@link spacing} on each key; `mode` is one mode or one per key (SwinMM:
 * `['bilinear', 'nearest']` for image and label).
 */
export function spacingd(
  options: KeysOption & { pixdim: number | readonly number[]; mode?: InterpolationMode | readonly InterpolationMode[]; paddingMode?: PaddingMode; diagonal?: boolean },
): SampleTransform {
  checkKeys(options.keys, 'spacingd');
  const mode = options.mode;
  const modes: InterpolationMode[] = mode === undefined || typeof mode === 'string' ? options.keys.map(() => mode ?? 'bilinear') : [...mode];
  if (modes.length !== options.keys.length) throw new RangeError(`spacingd: ${options.keys.length} keys but ${modes.length} modes`);
  return (s) =>
    mapKeys(s, options.keys, 'spacingd', (v, _k, i) => spacing(v, options.pixdim, { mode: modes[i], paddingMode: options.paddingMode, diagonal: options.diagonal }));
}

/** MONAI `ScaleIntensityRanged`: {@link scaleIntensityRange} on each key. */
export function scaleIntensityRanged(options: KeysOption & ScaleIntensityRangeOptions): SampleTransform {
  checkKeys(options.keys, 'scaleIntensityRanged');
  return (s) => mapKeys(s, options.keys, 'scaleIntensityRanged', (v) => scaleIntensityRange(v, options));
}

/** MONAI `CropForegroundd(source_key)`: crops every key to the foreground box of `sourceKey`. */
export function cropForegroundd(options: KeysOption & CropForegroundOptions & { sourceKey: string }): SampleTransform {
  checkKeys(options.keys, 'cropForegroundd');
  return (s) => {
    const source = volumeAt(s, options.sourceKey, 'cropForegroundd (sourceKey)');
    const vols = options.keys.map((k) => volumeAt(s, k, 'cropForegroundd'));
    const cropped = cropForeground([source, ...vols] as Volume<VoxelArray>[], { ...options, sourceIndex: 0 });
    const out: Sample = { ...s };
    options.keys.forEach((k, i) => (out[k] = cropped[i + 1]));
    return out;
  };
}

/** MONAI `SpatialPadd`: {@link spatialPad} on each key. */
export function spatialPadd(options: KeysOption & SpatialPadOptions & { spatialSize: number | readonly number[] }): SampleTransform {
  checkKeys(options.keys, 'spatialPadd');
  return (s) => mapKeys(s, options.keys, 'spatialPadd', (v) => spatialPad(v, options.spatialSize, options));
}

/** MONAI `RandSpatialCropSamplesd`: `numSamples` samples, each with the same box on every key. */
export function randSpatialCropSamplesd(options: KeysOption & RandSpatialCropSamplesOptions): SampleTransform {
  checkKeys(options.keys, 'randSpatialCropSamplesd');
  return (s, rng) => {
    const r = needRng(rng, 'randSpatialCropSamplesd');
    const vols = options.keys.map((k) => volumeAt(s, k, 'randSpatialCropSamplesd'));
    return randSpatialCropSamples(vols, r, options).map((crop) => {
      const out: Sample = { ...s };
      options.keys.forEach((k, i) => (out[k] = crop[i]));
      return out;
    });
  };
}

/**
 * MONAI `RandCropByPosNegLabeld(label_key, image_key)`: `numSamples` samples cropped around
 * foreground/background centres chosen from `labelKey` (and `imageKey` for the threshold).
 */
export function randCropByPosNegLabeld(options: KeysOption & RandCropByPosNegLabelOptions & { labelKey: string; imageKey?: string }): SampleTransform {
  checkKeys(options.keys, 'randCropByPosNegLabeld');
  return (s, rng) => {
    const r = needRng(rng, 'randCropByPosNegLabeld');
    const label = volumeAt(s, options.labelKey, 'randCropByPosNegLabeld (labelKey)');
    const image = options.imageKey ? volumeAt(s, options.imageKey, 'randCropByPosNegLabeld (imageKey)') : undefined;
    const vols = options.keys.map((k) => volumeAt(s, k, 'randCropByPosNegLabeld'));
    return randCropByPosNegLabel(vols, label, r, { ...options, image }).samples.map((crop) => {
      const out: Sample = { ...s };
      options.keys.forEach((k, i) => (out[k] = crop[i]));
      return out;
    });
  };
}

/** MONAI `RandFlipd`: one draw, the same flip on every key. */
export function randFlipd(options: KeysOption & RandFlipOptions): SampleTransform {
  checkKeys(options.keys, 'randFlipd');
  return (s, rng) => {
    const r = needRng(rng, 'randFlipd');
    const flipped = randFlip(
      options.keys.map((k) => volumeAt(s, k, 'randFlipd')),
      r,
      options,
    );
    const out: Sample = { ...s };
    options.keys.forEach((k, i) => (out[k] = flipped[i]));
    return out;
  };
}

/** MONAI `RandRotate90d`: one draw of (k, apply), the same rotation on every key. */
export function randRotate90d(options: KeysOption & RandRotate90Options): SampleTransform {
  checkKeys(options.keys, 'randRotate90d');
  return (s, rng) => {
    const r = needRng(rng, 'randRotate90d');
    const turned = randRotate90(
      options.keys.map((k) => volumeAt(s, k, 'randRotate90d')),
      r,
      options,
    );
    const out: Sample = { ...s };
    options.keys.forEach((k, i) => (out[k] = turned[i]));
    return out;
  };
}

/** MONAI `RandScaleIntensityd`: one factor for the call, applied to every key. */
export function randScaleIntensityd(options: KeysOption & RandScaleIntensityOptions): SampleTransform {
  checkKeys(options.keys, 'randScaleIntensityd');
  return (s, rng) => {
    const factor = drawScaleFactor(needRng(rng, 'randScaleIntensityd'), options);
    if (factor === null) return { ...s };
    return mapKeys(s, options.keys, 'randScaleIntensityd', (v) => scaleIntensity(v, factor));
  };
}

/** MONAI `RandShiftIntensityd`: one offset for the call, applied to every key. */
export function randShiftIntensityd(options: KeysOption & RandShiftIntensityOptions): SampleTransform {
  checkKeys(options.keys, 'randShiftIntensityd');
  return (s, rng) => {
    const offset = drawShiftOffset(needRng(rng, 'randShiftIntensityd'), options);
    if (offset === null) return { ...s };
    return mapKeys(s, options.keys, 'randShiftIntensityd', (v) => shiftIntensity(v, offset));
  };
}
