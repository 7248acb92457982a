/**
 * `@swinmm/metrics`: segmentation metrics on label volumes with voxel spacing, in plain
 * TypeScript (no tensor library).
 *
 * - {@link evaluateSegmentation}: per-class Dice, HD95 (any percentile), HD, ASD, ASSD and NSD of a
 *   predicted label map against a ground truth, with MONAI 1.2's semantics for empty classes;
 * - {@link dice}, {@link hausdorffDistance}, {@link averageSurfaceDistance},
 *   {@link normalizedSurfaceDice}: the same metrics on one pair of binary masks;
 * - {@link squaredDistanceToFeatures}, {@link distanceTransformEdt}: an exact Euclidean distance
 *   transform in linear time with anisotropic spacing;
 * - {@link surfaceDistances}, {@link surfaceOf}, {@link percentile}: the building blocks;
 * - {@link casesToCsv}, {@link casesToMarkdown}, {@link summarizeCases}: per-case/per-class tables.
 *
 * Volumes are `{ data, shape, spacing? }` indexed `[x][y][z]` with z fastest, so a `Volume` from
 * `@swinmm/data` can be passed as is.
 *
 * @packageDocumentation
 */
export { checkVolume, checkSpacing, checkPair, type LabelVolumeLike, type VoxelData, type Triple, type CheckedVolume } from './volume.js';
export { squaredDistanceToFeatures, distanceTransformEdt, type DistanceArray } from './edt.js';
export { surfaceDistances, surfaceOf, unionBoundingBox, type SurfaceDistances, type Box, type ClassSelector } from './surface.js';
export {
  percentile,
  directedHausdorff,
  hausdorffFromDistances,
  averageSurfaceDistanceFromDistances,
  surfaceDiceFromDistances,
  diceFromCounts,
  nanMean,
  type HausdorffOptions,
} from './reduce.js';
export {
  dice,
  hausdorffDistance,
  averageSurfaceDistance,
  normalizedSurfaceDice,
  maskSurfaceDistances,
  evaluateSegmentation,
  type MaskMetricOptions,
  type EvaluateOptions,
  type ClassMetrics,
  type SegmentationEvaluation,
} from './metrics.js';
export {
  summarizeCases,
  casesToCsv,
  casesToMarkdown,
  METRIC_NAMES,
  type MetricName,
  type CaseEvaluation,
  type ClassSummary,
  type MarkdownOptions,
} from './report.js';
