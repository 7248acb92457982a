/**
 * Segmentation losses with MONAI's semantics (SPEC.md §9.1).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { logSoftmax } from '@swinmm/nn';

/** Options of {@link diceCELoss}; the defaults are MONAI `DiceCELoss(to_onehot_y=True, softmax=True)`'s. */
export interface DiceCEOptions {
  /** Include the background channel 0 in the Dice term (default true). */
  includeBackground?: boolean;
  /** Use Σp² and Σy² in the Dice denominator (default false). */
  squaredPred?: boolean;
  /** Added to the Dice numerator (default 1e-5). */
  smoothNr?: number;
  /** Added to the Dice denominator (default 1e-5). */
  smoothDr?: number;
  /** Weight of the Dice term (default 1). */
  lambdaDice?: number;
  /** Weight of the cross-entropy term (default 1). */
  lambdaCe?: number;
  /**
   * Check that every label is an integer class in [0, C) (default true; reads two scalars back
   * from the device).
   */
  validateLabels?: boolean;
}

/** The two terms and their weighted sum (scalars; the caller disposes them). */
export interface DiceCEParts {
  /** λ_dice·dice + λ_ce·ce. */
  loss: tf.Scalar;
  /** The Dice loss (mean over batch and classes). */
  dice: tf.Scalar;
  /** The cross-entropy (mean over voxels). */
  ce: tf.Scalar;
}

function labelsOf(logits: tf.Tensor, target: tf.Tensor): tf.Tensor {
  const want = logits.shape.slice(0, -1);
  const t = target.rank === logits.rank && target.shape[target.rank - 1] === 1 ? tf.reshape(target, want) : target;
  if (t.rank !== want.length || t.shape.some((s, i) => s !== want[i])) {
    throw new RangeError(`diceCELoss: expected a label map [${want.join(', ')}] or [${[...want, 1].join(', ')}] for logits [${logits.shape.join(', ')}], found [${target.shape.join(', ')}]`);
  }
  return t;
}

/**
 * MONAI `DiceCELoss(to_onehot_y=True, softmax=True)` on channels-last logits `[B, ..., C]` and an
 * integer label map `[B, ...]` (or `[B, ..., 1]`), with the terms separately.
 *
 * Dice: `p = softmax(logits)`, `y = onehot(target)`, per (b, c) over space
 * `1 − (2Σpy + nr)/(Σy + Σp + dr)`, mean over b and c. CE: mean over voxels of `−log softmax`.
 *
 * @throws RangeError when the shapes do not fit or (with `validateLabels`) a label is outside [0, C).
 */
export function diceCELossParts(logits: tf.Tensor, target: tf.Tensor, options: DiceCEOptions = {}): DiceCEParts {
  const c = logits.shape[logits.rank - 1];
  const labels = labelsOf(logits, target);
  if (options.validateLabels ?? true) {
    const [lo, hi, frac] = tf.tidy(() => {
      const l = tf.cast(labels, 'float32');
      return [tf.min(l), tf.max(l), tf.max(tf.abs(tf.sub(l, tf.round(l))))];
    });
    const [mn, mx, fr] = [lo.dataSync()[0], hi.dataSync()[0], frac.dataSync()[0]];
    tf.dispose([lo, hi, frac]);
    if (mn < 0 || mx >= c || fr !== 0) {
      throw new RangeError(`diceCELoss: labels must be integer classes in [0, ${c}) for ${c}-channel logits, found values in [${mn}, ${mx}]${fr ? ' including non-integers' : ''}`);
    }
  }
  return tf.tidy(() => {
    const includeBackground = options.includeBackground ?? true;
    const nr = options.smoothNr ?? 1e-5;
    const dr = options.smoothDr ?? 1e-5;
    const b = logits.shape[0];
    const flat = tf.reshape(logits, [b, -1, c]);
    const y = tf.oneHot(tf.reshape(tf.cast(labels, 'int32'), [b, -1]), c); // [B, N, C]
    const logp = logSoftmax(flat);
    const p = tf.exp(logp);
    let pd: tf.Tensor = p;
    let yd: tf.Tensor = y;
    if (!includeBackground && c > 1) {
      pd = tf.slice(p, [0, 0, 1], [-1, -1, c - 1]);
      yd = tf.slice(y, [0, 0, 1], [-1, -1, c - 1]);
    }
    const intersection = tf.sum(tf.mul(pd, yd), 1);
    const ground = options.squaredPred ? tf.sum(tf.square(yd), 1) : tf.sum(yd, 1);
    const pred = options.squaredPred ? tf.sum(tf.square(pd), 1) : tf.sum(pd, 1);
    const dice = tf.mean(tf.sub(1, tf.div(tf.add(tf.mul(intersection, 2), nr), tf.add(tf.add(ground, pred), dr)))) as tf.Scalar;
    const n = flat.shape[1] as number;
    const ce = tf.div(tf.neg(tf.sum(tf.mul(y, logp))), b * n) as tf.Scalar;
    const loss = tf.add(tf.mul(dice, options.lambdaDice ?? 1), tf.mul(ce, options.lambdaCe ?? 1)) as tf.Scalar;
    return { loss, dice, ce };
  });
}

/** MONAI `DiceCELoss(to_onehot_y=True, softmax=True)` with MONAI's defaults; see {@link diceCELossParts}. */
export function diceCELoss(logits: tf.Tensor, target: tf.Tensor, options: DiceCEOptions = {}): tf.Scalar {
  const { loss, dice, ce } = diceCELossParts(logits, target, options);
  tf.dispose([dice, ce]);
  return loss;
}
