/**
 * `@swinmm/heads`: SwinMM's self-supervised pre-training on top of the Swin-ViT backbone.
 *
 * - Losses (SPEC.md §6.5): {@link rotationLoss}, {@link contrastiveLoss} (NT-Xent),
 *   {@link reconstructionLoss} (masked MSE, `normPixLoss`), {@link mutualLoss}, and
 *   {@link sslLoss} (SwinMM's `Loss`).
 * - {@link upsampleTrilinear2x}: PyTorch's trilinear ×2 up-sampling (align_corners=False).
 *
 * @packageDocumentation
 */
export {
  rotationLoss,
  contrastiveLoss,
  normalizePerVolume,
  reconstructionLoss,
  mutualLoss,
  sslLoss,
  type ReconstructionLossOptions,
  type SslLossTerms,
  type SslLossInputs,
  type SslLossOptions,
} from './losses.js';
export { upsampleTrilinear2x } from './upsample.js';
export { SSLHead, ReconstructionDecoder, type SSLHeadOptions, type SSLHeadOutput } from './ssl-head.js';
export { pretrainLoss, type PretrainChoices, type PretrainLossOptions, type PretrainLosses, type PretrainStepResult } from './pretrain-step.js';
