/**
 * `@swinmm/transforms`: MONAI-equivalent preprocessing and augmentation of 3-D medical volumes on
 * plain typed arrays, with no tensor library (the tensor-level SwinMM operations live in the
 * `@swinmm/transforms/tensor` entry point).
 *
 * - geometry: {@link orientation}, {@link spacing} (and {@link resampleToAffine}), {@link flip},
 *   {@link rotate90}, {@link spatialPad}, {@link cropForeground}, {@link spatialCropCenter};
 * - intensity: {@link scaleIntensityRange}, {@link scaleIntensity}, {@link shiftIntensity};
 * - random (each takes an `Rng` from `@swinmm/runtime`): {@link randFlip}, {@link randRotate90},
 *   {@link randSpatialCropSamples}, {@link randCropByPosNegLabel}, {@link randScaleIntensity},
 *   {@link randShiftIntensity};
 * - dictionary wrappers (MONAI's `*d`) and {@link compose}, plus SwinMM's pipelines
 *   ({@link finetuneTrainPipeline}, {@link pretrainPipeline}).
 *
 * Volumes are `@swinmm/data` {@link Volume}s: `[x][y][z]` voxels (z fastest) with a RAS affine.
 *
 * @packageDocumentation
 */
export type { Volume, VoxelArray, Vec3 } from '@swinmm/data';
export type { Matrix } from './geometry.js';
export {
  orientation,
  ioOrientation,
  axcodesToOrnt,
  orntToAxcodes,
  axcodesOf,
  orntTransform,
  invOrntAff,
  applyOrnt,
  RAS_LABELS,
  type Ornt,
  type AxisLabels,
  type OrientationOptions,
} from './orientation.js';
export {
  spacing,
  resampleToAffine,
  zoomAffine,
  computeShapeOffset,
  affineToSpacing,
  type SpacingOptions,
  type InterpolationMode,
  type PaddingMode,
} from './spacing.js';
export {
  scaleIntensityRange,
  scaleIntensity,
  shiftIntensity,
  randScaleIntensity,
  randShiftIntensity,
  drawScaleFactor,
  drawShiftOffset,
  type ScaleIntensityRangeOptions,
  type RandScaleIntensityOptions,
  type RandShiftIntensityOptions,
} from './intensity.js';
export {
  flip,
  rotate90,
  spatialPad,
  foregroundBox,
  cropForeground,
  spatialCropCenter,
  randFlip,
  randRotate90,
  randSpatialCropSamples,
  randCropByPosNegLabel,
  binaryToIndices,
  correctCropCenter,
  type SpatialPadOptions,
  type CropForegroundOptions,
  type RandFlipOptions,
  type RandRotate90Options,
  type RandSpatialCropSamplesOptions,
  type RandCropByPosNegLabelOptions,
} from './spatial.js';
export {
  compose,
  orientationd,
  spacingd,
  scaleIntensityRanged,
  cropForegroundd,
  spatialPadd,
  randSpatialCropSamplesd,
  randCropByPosNegLabeld,
  randFlipd,
  randRotate90d,
  randScaleIntensityd,
  randShiftIntensityd,
  type Sample,
  type SampleTransform,
  type Pipeline,
  type KeysOption,
} from './dictionary.js';
export {
  finetuneDeterministicSteps,
  finetuneRandomSteps,
  finetuneTrainPipeline,
  pretrainPipeline,
  type FinetunePipelineOptions,
  type PretrainPipelineOptions,
} from './presets.js';
