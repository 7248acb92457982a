/**
 * `@swinmm/decoder`: MONAI's UNETR blocks, `SwinUNETR` and the segmentation losses.
 *
 * - {@link SwinUNETR}: MONAI's model (`new SwinUNETR({ imgSize, inChannels, outChannels,
 *   featureSize, depths, numHeads, normName, useV2, downsample })`, `forward(x)` on
 *   `[B, X, Y, Z, C]`); {@link SwinUNETR.encode} / {@link SwinUNETR.decode} expose the pieces.
 * - Blocks: {@link UnetResBlock}, {@link UnetBasicBlock}, {@link UnetrBasicBlock},
 *   {@link UnetrUpBlock}, {@link UnetOutBlock} (MONAI parameter names).
 * - Losses: {@link diceCELoss} / {@link diceCELossParts} (MONAI `DiceCELoss` defaults).
 *
 * @packageDocumentation
 */
export {
  SwinUNETR,
  type SwinUNETROptions,
  type SwinUNETREncoding,
  type SwinUNETRDecoding,
} from './swin-unetr.js';
export {
  UnetResBlock,
  UnetBasicBlock,
  UnetrBasicBlock,
  UnetrUpBlock,
  UnetOutBlock,
  ConvOnly,
  TransposedConvOnly,
  type NormName,
  type BlockOptions,
  type UnetrBlockOptions,
  type ConvBlock,
} from './blocks.js';
export { diceCELoss, diceCELossParts, type DiceCEOptions, type DiceCEParts } from './losses.js';
export { SwinUNETRBase } from './swin-unetr.js';
export {
  SwinMMSegmenter,
  type SwinMMSegmenterOptions,
  type ViewEncoding,
  type SwinMMTrace,
  type ViewPair,
} from './swinmm-segmenter.js';
export {
  CrossViewAttention,
  CrossViewBlock,
  CrossAttention,
  type CrossViewAttentionOptions,
  type CrossViewAttentionTrace,
} from './cross-view-attention.js';
export {
  swinmmFinetuneLoss,
  swinmmFinetuneLossParts,
  klDivMean,
  twoViewPseudoLabel,
  type SwinMMFinetuneLossParts,
} from './swinmm-loss.js';
