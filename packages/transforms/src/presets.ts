/**
 * SwinMM's preprocessing pipelines, as its training scripts configure MONAI (SPEC.md §6.1, §7.5).
 *
 * @module
 */
import {
  compose,
  cropForegroundd,
  orientationd,
  randCropByPosNegLabeld,
  randFlipd,
  randRotate90d,
  randScaleIntensityd,
  randShiftIntensityd,
  randSpatialCropSamplesd,
  scaleIntensityRanged,
  spacingd,
  spatialPadd,
  type Pipeline,
  type SampleTransform,
} from './dictionary.js';

/** Settings of the fine-tuning pipeline (SwinMM `WORD/main.py` arguments and their defaults). */
export interface FinetunePipelineOptions {
  /** Target voxel size (default [1.5, 1.5, 2.0]). */
  pixdim?: readonly [number, number, number];
  /** Intensity window in (default −175 … 250, CT soft tissue). */
  aMin?: number;
  /** Upper end of the window (default 250). */
  aMax?: number;
  /** Crop size (default 64³, SwinMM `roi_x/y/z`). */
  roiSize?: readonly [number, number, number];
  /** Crops per volume (default 4). */
  numSamples?: number;
  /** Add MONAI `CropForegroundd(source_key=image)` after the intensity window (SwinMM has it commented out; default false). */
  cropForeground?: boolean;
  /**
   * Samples carry a `label` (default true). For unlabeled volumes (the semi-supervised mode) the
   * same steps run on `image` alone, and the crop is a plain random spatial crop, since there is
   * no label to balance positive and negative centres with.
   */
  labeled?: boolean;
}

/**
 * The deterministic part of fine-tuning preprocessing (SwinMM's validation transforms):
 * Orientation RAS → Spacing (bilinear image, nearest label) → ScaleIntensityRange with clip
 * [→ CropForeground]. Keys `image` and `label`.
 */
export function finetuneDeterministicSteps(options: FinetunePipelineOptions = {}): SampleTransform[] {
  const labeled = options.labeled ?? true;
  const keys = labeled ? ['image', 'label'] : ['image'];
  const steps: SampleTransform[] = [
    orientationd({ keys, axcodes: 'RAS' }),
    spacingd({ keys, pixdim: options.pixdim ?? [1.5, 1.5, 2.0], mode: labeled ? ['bilinear', 'nearest'] : 'bilinear' }),
    scaleIntensityRanged({ keys: ['image'], aMin: options.aMin ?? -175, aMax: options.aMax ?? 250, bMin: 0, bMax: 1, clip: true }),
  ];
  if (options.cropForeground) steps.push(cropForegroundd({ keys, sourceKey: 'image' }));
  return steps;
}

/**
 * The random part of fine-tuning preprocessing: RandCropByPosNegLabel (64³, pos 1, neg 1,
 * 4 samples, image threshold 0) → RandFlip on x, y, z (p 0.2 each) → RandRotate90 (p 0.2,
 * max k 3) → RandScaleIntensity (0.1, p 0.1) → RandShiftIntensity (0.1, p 0.1).
 */
export function finetuneRandomSteps(options: FinetunePipelineOptions = {}): SampleTransform[] {
  const labeled = options.labeled ?? true;
  const keys = labeled ? ['image', 'label'] : ['image'];
  const roiSize = options.roiSize ?? [64, 64, 64];
  const numSamples = options.numSamples ?? 4;
  const crop = labeled
    ? randCropByPosNegLabeld({ keys, labelKey: 'label', imageKey: 'image', spatialSize: roiSize, pos: 1, neg: 1, numSamples, imageThreshold: 0 })
    : randSpatialCropSamplesd({ keys, roiSize, numSamples, randomCenter: true, randomSize: false });
  return [
    crop,
    randFlipd({ keys, prob: 0.2, spatialAxis: 0 }),
    randFlipd({ keys, prob: 0.2, spatialAxis: 1 }),
    randFlipd({ keys, prob: 0.2, spatialAxis: 2 }),
    randRotate90d({ keys, prob: 0.2, maxK: 3 }),
    randScaleIntensityd({ keys: ['image'], factors: 0.1, prob: 0.1 }),
    randShiftIntensityd({ keys: ['image'], offsets: 0.1, prob: 0.1 }),
  ];
}

/** The whole fine-tuning training pipeline (deterministic then random steps). */
export function finetuneTrainPipeline(options: FinetunePipelineOptions = {}): Pipeline {
  return compose(...finetuneDeterministicSteps(options), ...finetuneRandomSteps(options));
}

/** Settings of the pre-training pipeline (SwinMM `Pretrain/main.py` defaults). */
export interface PretrainPipelineOptions {
  /** Intensity window (default −1000 … 1000). */
  aMin?: number;
  /** Upper end of the window (default 1000). */
  aMax?: number;
  /** Crop size (default 64³). */
  roiSize?: readonly [number, number, number];
  /** Crops per volume (default 2, SwinMM `sw_batch_size`). */
  numSamples?: number;
}

/**
 * SwinMM pre-training preprocessing of an `image`: Orientation RAS → ScaleIntensityRange
 * (−1000 … 1000 → 0 … 1, clip) → SpatialPad 64³ → RandSpatialCropSamples (64³, 2 samples,
 * random centre, fixed size). No resampling (native resolution).
 */
export function pretrainPipeline(options: PretrainPipelineOptions = {}): Pipeline {
  const roi = options.roiSize ?? [64, 64, 64];
  return compose(
    orientationd({ keys: ['image'], axcodes: 'RAS' }),
    scaleIntensityRanged({ keys: ['image'], aMin: options.aMin ?? -1000, aMax: options.aMax ?? 1000, bMin: 0, bMax: 1, clip: true }),
    spatialPadd({ keys: ['image'], spatialSize: roi }),
    randSpatialCropSamplesd({ keys: ['image'], roiSize: roi, numSamples: options.numSamples ?? 2, randomCenter: true, randomSize: false }),
  );
}
