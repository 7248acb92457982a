/**
 * Gradient clipping by global L2 norm, as `torch.nn.utils.clip_grad_norm_(params, maxNorm)`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** What {@link clipGradNorm} returns. */
export interface ClipResult {
  /** The gradients after clipping (new tensors; the caller disposes them and the inputs). */
  grads: Map<string, tf.Tensor>;
  /** The global L2 norm before clipping (float32, as torch computes it). */
  totalNorm: number;
  /** The factor every gradient was multiplied by (≤ 1). */
  scale: number;
}

/**
 * Scales all gradients by `min(1, maxNorm / (‖g‖ + 1e-6))`, where ‖g‖ is the L2 norm of the
 * per-tensor L2 norms, exactly like PyTorch's `clip_grad_norm_` (norm type 2). A non-finite norm
 * raises an error naming it (PyTorch's `error_if_nonfinite`), because stepping with it would
 * destroy the weights.
 */
export function clipGradNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): ClipResult {
  if (!Number.isFinite(maxNorm) || maxNorm <= 0) throw new RangeError(`clipGradNorm: maxNorm must be a finite number > 0, found ${maxNorm}`);
  const names = [...grads.keys()];
  if (names.length === 0) return { grads: new Map(), totalNorm: 0, scale: 1 };
  const totalNorm = globalGradNorm(grads);
  if (!Number.isFinite(totalNorm)) {
    throw new RangeError(`clipGradNorm: the total gradient norm is ${totalNorm}; a loss or gradient is not finite`);
  }
  // torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to at most 1, multiplied in float32.
  const coef = Math.fround(Math.fround(maxNorm) / Math.fround(totalNorm + 1e-6));
  const scale = Math.min(coef, 1);
  const out = new Map<string, tf.Tensor>();
  for (const n of names) {
    const g = grads.get(n) as tf.Tensor;
    out.set(n, tf.tidy(() => tf.mul(g, tf.scalar(scale))));
  }
  return { grads: out, totalNorm, scale };
}

/** The global L2 norm of a set of gradients (for logging). */
export function globalGradNorm(grads: ReadonlyMap<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const norm = tf.tidy(() => tf.norm(tf.stack([...grads.values()].map((g) => tf.norm(g)))));
  const value = norm.dataSync()[0];
  norm.dispose();
  return value;
}
