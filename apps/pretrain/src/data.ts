/**
 * Pre-training data (SPEC.md §6.1): every image is read once, oriented to RAS, windowed to
 * [0, 1] with clipping, zero-padded symmetrically to the crop size if smaller, and kept in
 * memory; each step draws `samplesPerVolume` random crops from each of `batchSize` volumes.
 *
 * The volumes of step s are positions s·B … s·B + B − 1 of an endless sequence of epochs, each
 * epoch a permutation seeded by (seed, epoch): so which volumes a step sees depends on the step
 * alone, and the crops on the checkpointed data `Rng`, which keeps resume exact.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { loadManifest, readVolume, type Volume } from '@swinmm/data';
import { orientation, randSpatialCropSamples, scaleIntensityRange, spatialPad } from '@swinmm/transforms';
import type { PretrainConfig } from './config.js';

/** Prepared volumes and the crop sampler. */
export interface PretrainData {
  /** The prepared volumes (RAS, windowed, padded). */
  volumes: Volume<Float32Array>[];
  /** Which volumes step `step` uses. */
  volumesOfStep(step: number): number[];
  /** The crops of step `step` as `[B·samples, X, Y, Z, 1]` (drawn from `rng`). */
  batch(step: number, rng: Rng): tf.Tensor5D;
}

/** The image files of a configuration: the manifest's `training` and `unsupervised` images, then `data.images`. */
export async function listPretrainImages(config: PretrainConfig): Promise<string[]> {
  const files: string[] = [];
  if (config.data.manifest !== null) {
    const m = await loadManifest(config.data.manifest);
    for (const e of [...m.training, ...m.unsupervised]) files.push(e.image);
  }
  files.push(...config.data.images);
  if (files.length === 0) throw new Error(`data: no images (data.manifest ${config.data.manifest ?? 'null'} lists none and data.images is empty)`);
  return files;
}

/** Reads and prepares one image the way SwinMM's pre-training does. */
export async function preparePretrainVolume(file: string, config: PretrainConfig): Promise<Volume<Float32Array>> {
  const raw = await readVolume(file);
  const ras = orientation(raw, 'RAS');
  const windowed = scaleIntensityRange(ras, { aMin: config.data.aMin, aMax: config.data.aMax, bMin: 0, bMax: 1, clip: true });
  return spatialPad(windowed, config.roi) as Volume<Float32Array>;
}

/** Reads every image of the configuration and returns the sampler. */
export async function loadPretrainData(config: PretrainConfig, onVolume?: (file: string, index: number, total: number) => void): Promise<PretrainData> {
  const files = await listPretrainImages(config);
  const volumes: Volume<Float32Array>[] = [];
  for (let i = 0; i < files.length; i++) {
    volumes.push(await preparePretrainVolume(files[i], config));
    onVolume?.(files[i], i, files.length);
  }
  return pretrainSampler(volumes, config);
}

/** The sampler over already prepared volumes (see the module notes). */
export function pretrainSampler(volumes: Volume<Float32Array>[], config: PretrainConfig): PretrainData {
  const n = volumes.length;
  if (n === 0) throw new Error('pretrainSampler: no volumes');
  const epochs = Rng.fromSeed(config.seed).fork('epochs');
  let cachedEpoch = -1;
  let cachedPerm: number[] = [];
  const volumesOfStep = (step: number): number[] =>
    Array.from({ length: config.batchSize }, (_, j) => {
      const p = step * config.batchSize + j;
      const epoch = Math.floor(p / n);
      if (epoch !== cachedEpoch) {
        cachedPerm = epochs.fork(`epoch-${epoch}`).permutation(n);
        cachedEpoch = epoch;
      }
      return cachedPerm[p % n];
    });
  const [rx, ry, rz] = config.roi;
  const batch = (step: number, rng: Rng): tf.Tensor5D => {
    const crops: Float32Array[] = [];
    for (const v of volumesOfStep(step)) {
      const samples = randSpatialCropSamples([volumes[v]], rng, { roiSize: config.roi, numSamples: config.samplesPerVolume, randomCenter: true, randomSize: false });
      for (const [crop] of samples) crops.push(crop.data as Float32Array);
    }
    const out = new Float32Array(crops.length * rx * ry * rz);
    crops.forEach((c, i) => out.set(c, i * rx * ry * rz));
    return tf.tensor5d(out, [crops.length, rx, ry, rz, 1]);
  };
  return { volumes, volumesOfStep, batch };
}
