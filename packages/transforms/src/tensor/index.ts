/**
 * `@swinmm/transforms/tensor`: SwinMM's tensor-level view operations for TensorFlow.js, on
 * channels-last `[B, X, Y, Z, C]` tensors (SPEC.md §6.2, §6.3, §7.4).
 *
 * - {@link permuteView}, {@link permuteViewInverse}, {@link permuteTransform}: the three axis-swap views;
 * - {@link rotate}, {@link rotateInverse}, {@link viewTransform}: quarter turns in the (Y, Z) plane and
 *   their composition with a view;
 * - {@link rotRand}: a random rotation per sample with its label;
 * - {@link maskRandPatch}: zeroing a random half of the 16³ cubes, one mask per call.
 *
 * Every result is bit-identical to SwinMM's PyTorch code (checked against its fixtures), has
 * gradients, and no intermediate exceeds rank 5. This entry point imports `@tensorflow/tfjs`; the
 * main entry (`@swinmm/transforms`) does not.
 *
 * @packageDocumentation
 */
export {
  permuteView,
  permuteViewInverse,
  permuteTransform,
  rotate,
  rotateInverse,
  viewTransform,
  NUM_VIEWS,
  NUM_ROTATIONS,
  type ViewId,
  type RotationId,
} from './views.js';
export {
  rotRand,
  maskRandPatch,
  type RotRandOptions,
  type RotRandResult,
  type MaskRandPatchOptions,
  type MaskRandPatchResult,
} from './augment.js';
