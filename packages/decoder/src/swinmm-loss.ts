/**
 * SwinMM's fine-tuning objective (SPEC.md §7.6): for the two branches' logits (both in the same
 * orientation as the label), `½ Σ_i [DiceCE(o_i, y) + KLmean(p_j ‖ p_i)]`, j ≠ i.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { logSoftmax } from '@swinmm/nn';
import { diceCELossParts, type DiceCEOptions } from './losses.js';

/**
 * PyTorch's `KLDivLoss(reduction='mean')(log_softmax(logits), softmax(targetLogits))`: the mean
 * over EVERY element (batch, voxels and classes) of `p_t · (log p_t − log p)`, so it is the
 * per-voxel KL divided by the number of classes. Gradients flow into both arguments, as in SwinMM.
 */
export function klDivMean(logits: tf.Tensor, targetLogits: tf.Tensor): tf.Scalar {
  if (logits.shape.some((s, i) => s !== targetLogits.shape[i]) || logits.rank !== targetLogits.rank) {
    throw new RangeError(`klDivMean: logits shapes differ: [${logits.shape.join(', ')}] vs [${targetLogits.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const logP = logSoftmax(logits);
    const logQ = logSoftmax(targetLogits);
    return tf.mean(tf.mul(tf.exp(logQ), tf.sub(logQ, logP))) as tf.Scalar;
  });
}

/** The terms of {@link swinmmFinetuneLossParts} (scalars the caller disposes). */
export interface SwinMMFinetuneLossParts {
  /** `½ Σ_i (diceCE_i + consistency_i)`. */
  loss: tf.Scalar;
  /** DiceCE of each branch against the label. */
  diceCE: [tf.Scalar, tf.Scalar];
  /** `KLmean(p_b ‖ p_a)` for branch a and `KLmean(p_a ‖ p_b)` for branch b. */
  consistency: [tf.Scalar, tf.Scalar];
}

/**
 * SwinMM's supervised fine-tuning loss of two branches' logits `[B, X, Y, Z, C]` (already mapped
 * back to the label's orientation) and an integer label map `[B, X, Y, Z]` or `[B, X, Y, Z, 1]`.
 * For the semi-supervised mode pass the two-view pseudo-label as `target`.
 */
export function swinmmFinetuneLossParts(
  logitsA: tf.Tensor,
  logitsB: tf.Tensor,
  target: tf.Tensor,
  options: DiceCEOptions = {},
): SwinMMFinetuneLossParts {
  const [loss, diceA, diceB, klA, klB] = tf.tidy(() => {
    const a = diceCELossParts(logitsA, target, options);
    const b = diceCELossParts(logitsB, target, options);
    const consistencyA = klDivMean(logitsA, logitsB);
    const consistencyB = klDivMean(logitsB, logitsA);
    const total = tf.mul(tf.addN([a.loss, b.loss, consistencyA, consistencyB]), 0.5) as tf.Scalar;
    return [total, a.loss, b.loss, consistencyA, consistencyB];
  });
  return { loss, diceCE: [diceA, diceB], consistency: [klA, klB] };
}

/** {@link swinmmFinetuneLossParts}'s total only. */
export function swinmmFinetuneLoss(logitsA: tf.Tensor, logitsB: tf.Tensor, target: tf.Tensor, options: DiceCEOptions = {}): tf.Scalar {
  const parts = swinmmFinetuneLossParts(logitsA, logitsB, target, options);
  tf.dispose([...parts.diceCE, ...parts.consistency]);
  return parts.loss;
}

/**
 * The two-view ensemble's pseudo-label for unlabeled volumes (SwinMM's semi-supervised mode as the
 * paper intends it): `argmax((softmax(o_a) + softmax(o_b)) / 2)` over classes, as int32
 * `[B, X, Y, Z]`. No gradient flows through it.
 */
export function twoViewPseudoLabel(logitsA: tf.Tensor, logitsB: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.argMax(tf.add(tf.softmax(logitsA), tf.softmax(logitsB)), -1));
}
