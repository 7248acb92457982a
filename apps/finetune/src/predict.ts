/**
 * Whole-volume prediction in the manner of nnU-Net's predictor: preprocess as in training
 * (orientation RAS, resampling to the training voxel size, intensity window), run SwinMM's
 * multi-view sliding window and fusion, then undo the preprocessing — the class probabilities
 * are resampled back onto the input's own grid (shape, spacing, origin, orientation) before the
 * argmax — so that the written label map overlays the input exactly.
 *
 * @module
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readVolume, withData, writeVolume, type Volume } from '@swinmm/data';
import { multiViewFusion, type BlendMode, type TwoViewPredictor } from '@swinmm/inference';
import { explainBackendError } from '@swinmm/runtime';
import { orientation, resampleToAffine, scaleIntensityRange, spacing } from '@swinmm/transforms';
import type { ViewId } from '@swinmm/transforms/tensor';
import { caseName, LABEL_EXTENSIONS } from './evaluate.js';

/** How to preprocess and run a volume (the training run's settings). */
export interface PredictOptions {
  /** Voxel size the model was trained at (mm). */
  pixdim: readonly [number, number, number];
  /** Intensity window, mapped to 0 … 1 with clipping. */
  aMin: number;
  aMax: number;
  /** Window size (the training ROI). */
  roi: readonly [number, number, number];
  /** Number of classes the model outputs (checked against the predictor's output). */
  outChannels: number;
  /** Sliding-window overlap (SwinMM test: 0.7; default 0.5). */
  overlap?: number;
  /** Windows per forward pass (default 4). */
  swBatchSize?: number;
  /** Window blending (SwinMM test: gaussian; default gaussian). */
  mode?: BlendMode;
  /** Which view pairs to run (default all three: six maps). */
  views?: readonly ViewId[];
  /** Also return the class probabilities on the input grid. */
  probabilities?: boolean;
  /** Progress: windows done of the current view pair. */
  onProgress?: (info: { viewIndex: number; viewCount: number; windowsDone: number; windowsTotal: number }) => void;
}

/** The prediction for one volume, on the input's grid. */
export interface VolumePrediction {
  /** The label map (uint8 for ≤ 256 classes, else int16), with the input's geometry. */
  labels: Volume<Uint8Array> | Volume<Int16Array>;
  /** One probability volume per class (only with `probabilities`). */
  probabilities?: Volume<Float32Array>[];
  /** Shape of the grid the model saw (after orientation and resampling). */
  modelGrid: [number, number, number];
}

/**
 * Preprocesses a volume exactly as fine-tuning's validation transforms do (SPEC.md §7.5 steps
 * 1–3): orientation RAS, resampling to `pixdim` (bilinear), window `[aMin, aMax]` → `[0, 1]` with
 * clipping.
 */
export function preprocessForModel(image: Volume, options: Pick<PredictOptions, 'pixdim' | 'aMin' | 'aMax'>): Volume<Float32Array> {
  const ras = orientation(image, 'RAS');
  const resampled = spacing(ras, options.pixdim, { mode: 'bilinear' });
  return scaleIntensityRange(resampled, { aMin: options.aMin, aMax: options.aMax, bMin: 0, bMax: 1, clip: true });
}

/**
 * Predicts one volume: preprocess, multi-view sliding window + fusion (SPEC.md §8), resample the
 * fused probabilities back to `image`'s grid one class at a time (bilinear, so boundaries are as
 * smooth as nnU-Net's), argmax. Only one class of the input-grid probabilities is held at a time
 * unless `probabilities` is asked for. An image smaller than the ROI is padded by the sliding
 * window (MONAI's rule) and cropped back.
 */
export async function predictVolume(image: Volume, predictor: TwoViewPredictor, options: PredictOptions): Promise<VolumePrediction> {
  const pre = preprocessForModel(image, options);
  const [X, Y, Z] = pre.shape;
  const C = options.outChannels;
  const views = options.views ?? [0, 1, 2];
  let viewIndex = 0;
  const input = tf.tensor5d(pre.data, [1, X, Y, Z, 1], 'float32');
  let fused;
  try {
    fused = await multiViewFusion(input, options.roi, options.swBatchSize ?? 4, predictor, {
      overlap: options.overlap ?? 0.5,
      mode: options.mode ?? 'gaussian',
      views,
      onViewStart: ({ index }) => {
        viewIndex = index;
      },
      onProgress: (p) => options.onProgress?.({ viewIndex, viewCount: views.length, windowsDone: p.windowsDone, windowsTotal: p.windowsTotal }),
    });
  } finally {
    input.dispose();
  }
  fused.labels.dispose();
  const probs = fused.probabilities;
  if (probs.shape[4] !== C) {
    probs.dispose();
    throw new RangeError(`predict: the model outputs ${probs.shape[4]} classes but ${C} were expected (outChannels); are the weights for another class count?`);
  }
  const n = image.data.length;
  const best = new Float32Array(n).fill(-Infinity);
  const labels = C <= 256 ? new Uint8Array(n) : new Int16Array(n);
  const kept: Volume<Float32Array>[] = [];
  try {
    for (let c = 0; c < C; c++) {
      const slice = tf.tidy(() => probs.slice([0, 0, 0, 0, c], [1, X, Y, Z, 1]));
      const data = (await slice.data()) as Float32Array;
      slice.dispose();
      const onModelGrid = withData(pre, Float32Array.from(data));
      // Back to the input's own grid: orientation and spacing are undone together because the
      // resampling pulls every input voxel from its world position in the model's grid.
      const back = resampleToAffine(onModelGrid, image.affine, image.shape, { mode: 'bilinear', paddingMode: 'border' }) as Volume<Float32Array>;
      const p = back.data;
      for (let i = 0; i < n; i++) {
        if (p[i] > best[i]) {
          best[i] = p[i];
          labels[i] = c;
        }
      }
      if (options.probabilities) kept.push(withData(image, Float32Array.from(p)));
    }
  } finally {
    probs.dispose();
  }
  const out: VolumePrediction = { labels: withData(image, labels) as Volume<Uint8Array> | Volume<Int16Array>, modelGrid: [X, Y, Z] };
  if (options.probabilities) out.probabilities = kept;
  return out;
}

/** The image files `input` names: itself if it is a file, else the recognised images in the folder. */
export async function listImages(input: string): Promise<string[]> {
  let s;
  try {
    s = await stat(input);
  } catch {
    throw new Error(`infer: input not found: ${input}`);
  }
  if (s.isFile()) return [input];
  const names = (await readdir(input)).filter((n) => caseName(n) !== null).sort();
  if (names.length === 0) throw new Error(`infer: no images (${LABEL_EXTENSIONS.join(', ')}) in ${input}`);
  return names.map((n) => join(input, n));
}

/** What {@link inferFiles} wrote for one input. */
export interface InferredCase {
  /** The input image. */
  input: string;
  /** The label map written (same name and format as the input). */
  output: string;
  /** Probability files (one per class), if asked for. */
  probabilities: string[];
  /** Seconds spent on this case. */
  seconds: number;
}

/**
 * Predicts every image of `input` (a file or a folder) and writes `<outDir>/<same file name>`
 * label maps on each input's grid (and `<case>_prob_<c>.nii.gz` per class with `probabilities`).
 */
export async function inferFiles(
  input: string,
  outDir: string,
  predictor: TwoViewPredictor,
  options: PredictOptions & { onCase?: (info: { index: number; total: number; file: string }) => void },
): Promise<InferredCase[]> {
  const files = await listImages(input);
  await mkdir(outDir, { recursive: true });
  const done: InferredCase[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    options.onCase?.({ index: i, total: files.length, file });
    const t0 = performance.now();
    const image = await readVolume(file);
    let prediction: Awaited<ReturnType<typeof predictVolume>>;
    try {
      prediction = await predictVolume(image, predictor, options);
    } catch (error) {
      // A full wasm heap surfaces as a cryptic abort: say what happened and what to do instead.
      throw explainBackendError(error);
    }
    const name = basename(file);
    const output = join(outDir, name);
    await writeVolume(output, prediction.labels);
    const probFiles: string[] = [];
    if (prediction.probabilities) {
      const stem = caseName(name) as string;
      for (let c = 0; c < prediction.probabilities.length; c++) {
        const p = join(outDir, `${stem}_prob_${c}.nii.gz`);
        await writeVolume(p, prediction.probabilities[c]);
        probFiles.push(p);
      }
    }
    done.push({ input: file, output, probabilities: probFiles, seconds: (performance.now() - t0) / 1000 });
  }
  return done;
}
