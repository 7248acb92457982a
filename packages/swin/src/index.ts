/**
 * `@swinmm/swin`: MONAI's 3-D Swin Transformer (SwinViT) on TensorFlow.js.
 *
 * - {@link SwinTransformer}: patch embedding + four shifted-window stages → five hidden states.
 * - Blocks: {@link PatchEmbed}, {@link BasicLayer}, {@link SwinTransformerBlock},
 *   {@link WindowAttention}, {@link SwinMlp}, {@link PatchMerging} (legacy / corrected / v2 order).
 * - Window helpers: {@link windowPartition}, {@link windowReverse}, {@link getWindowSize},
 *   {@link relativePositionIndex}, {@link slicedPositionIndex}, {@link computeShiftMask},
 *   {@link rollSpatial}, {@link padEnd3d}, {@link cropEnd3d} — all with rank ≤ 6 steps.
 *
 * MONAI's quirks that published weights depend on are reproduced by default (SPEC.md §4.3, §4.5,
 * §4.6): the top-left slice of the 7³ position index for shrunken windows, zero-padded tokens that
 * act as keys, and the legacy patch-merging order.
 *
 * @packageDocumentation
 */
export { SwinTransformer, PatchEmbed, BasicLayer, type SwinTransformerOptions, type StageBlock } from './swin-transformer.js';
export {
  WindowAttention,
  SwinMlp,
  SwinTransformerBlock,
  PatchMerging,
  MERGE_ORDERS,
  type DownsampleKind,
  type WindowAttentionOptions,
  type SwinBlockOptions,
} from './blocks.js';
export {
  getWindowSize,
  windowPartition,
  windowReverse,
  relativePositionIndex,
  slicedPositionIndex,
  computeShiftMask,
  rollSpatial,
  padEnd3d,
  cropEnd3d,
  windowGatherIndex,
  type Triple,
} from './window.js';
