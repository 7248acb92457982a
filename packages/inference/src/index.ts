/**
 * `@swinmm/inference`: sliding-window inference and SwinMM's multi-view test-time fusion on
 * TensorFlow.js tensors (channels-last `[B, X, Y, Z, C]`).
 *
 * - {@link slidingWindowInference} / {@link slidingWindowInferenceMulti}: MONAI 1.2's
 *   `sliding_window_inference` (windows, padding, scan rules, constant/gaussian importance maps),
 *   with memory bounded by one window batch;
 * - {@link doubleSlidingWindowInference}: SwinMM's two-view sliding window for one view pair;
 * - {@link multiViewFusion}: the six softmax maps of the pairs (0,1), (1,2), (2,0), summed, and their argmax;
 * - {@link importanceMap}, {@link windowGrid}, {@link scanInterval}, {@link windowStarts},
 *   {@link roiPadding}, {@link padVolume}: the geometry underneath.
 *
 * Predictors are plain functions, so any model (or a stub in a test) can be plugged in.
 *
 * @packageDocumentation
 */
export {
  slidingWindowInference,
  slidingWindowInferenceMulti,
  padVolume,
  type PaddingMode,
  type SlidingWindowOptions,
  type SlidingWindowProgress,
  type WindowPredictor,
} from './sliding-window.js';
export {
  importanceMap,
  blurredImpulse1d,
  resolveRoiSize,
  roiPadding,
  scanInterval,
  windowStarts,
  windowGrid,
  type BlendMode,
  type GaussianVariant,
  type Size3,
} from './windows.js';
export {
  doubleSlidingWindowInference,
  multiViewFusion,
  viewPair,
  VIEW_MAP_NAMES,
  type TwoViewPredictor,
  type ViewMap,
  type MultiViewFusionOptions,
  type FusionResult,
} from './multiview.js';
export type { ViewId } from '@swinmm/transforms/tensor';
