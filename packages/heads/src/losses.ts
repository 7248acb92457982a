/**
 * SwinMM's pre-training losses (`Pretrain/losses/loss.py`, SPEC.md §6.5) as plain, differentiable
 * tensor functions on channels-last tensors.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

function expectRank(what: string, t: tf.Tensor, rank: number, shapeHint: string): void {
  if (t.rank !== rank) throw new RangeError(`${what}: expected a rank-${rank} tensor ${shapeHint}, found shape [${t.shape.join(', ')}]`);
}

/**
 * Rotation cross-entropy: `CrossEntropyLoss()(logits, labels)`, the mean over samples of
 * `−log softmax(logits)[label]`.
 *
 * @param logits `[N, 4]` rotation logits.
 * @param labels N integers in 0…3 (quarter turns).
 */
export function rotationLoss(logits: tf.Tensor2D, labels: readonly number[]): tf.Scalar {
  expectRank('rotationLoss logits', logits, 2, '[N, classes]');
  const [n, classes] = logits.shape;
  if (labels.length !== n) throw new RangeError(`rotationLoss: ${n} logit rows but ${labels.length} labels`);
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new RangeError(`rotationLoss: labels must be integers in [0, ${classes}), found ${l}`);
  }
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(labels as number[], 'int32'), classes);
    const logp = tf.logSoftmax(logits, 1);
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), 1))) as tf.Scalar;
  });
}

/** Rows divided by their L2 norm, the norm clamped below at `eps` (`F.normalize`). */
function normalizeRows(x: tf.Tensor2D, eps: number): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), eps));
}

/**
 * NT-Xent, SwinMM's `ContrastLoss` (τ = 0.5 by default): with `z = [normalize(a); normalize(b)]`
 * (2N rows) and `S = cos(z_i, z_j)`, the positives are the pairs (i, i + N) in both directions and
 * `L = (1/2N) Σ_i −log( exp(S_i,pos/τ) / Σ_{j≠i} exp(S_ij/τ) )` (the denominator includes the
 * positive and excludes self).
 *
 * @param a `[N, D]` embeddings of the first views.
 * @param b `[N, D]` embeddings of the second views, row i paired with row i of `a`.
 */
export function contrastiveLoss(a: tf.Tensor2D, b: tf.Tensor2D, temperature = 0.5): tf.Scalar {
  expectRank('contrastiveLoss a', a, 2, '[N, D]');
  expectRank('contrastiveLoss b', b, 2, '[N, D]');
  if (a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) {
    throw new RangeError(`contrastiveLoss: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  }
  if (!(temperature > 0)) throw new RangeError(`contrastiveLoss: temperature must be > 0, found ${temperature}`);
  const n = a.shape[0];
  return tf.tidy(() => {
    const z = tf.concat([normalizeRows(a, 1e-12), normalizeRows(b, 1e-12)], 0) as tf.Tensor2D;
    // F.cosine_similarity renormalises each row (norm clamped at 1e-8) before the dot product.
    const zn = tf.div(z, tf.maximum(tf.norm(z, 2, 1, true), 1e-8)) as tf.Tensor2D;
    const sim = tf.matMul(zn, zn, false, true);
    const size = 2 * n;
    const eye = tf.eye(size);
    const partner = new Float32Array(size * size);
    for (let i = 0; i < size; i++) partner[i * size + ((i + n) % size)] = 1;
    const pos = tf.sum(tf.mul(sim, tf.tensor2d(partner, [size, size])), 1);
    const expSim = tf.exp(tf.div(sim, temperature));
    const denom = tf.sum(tf.mul(expSim, tf.sub(1, eye)), 1);
    const nom = tf.exp(tf.div(pos, temperature));
    return tf.div(tf.sum(tf.neg(tf.log(tf.div(nom, denom)))), size) as tf.Scalar;
  });
}

/**
 * SwinMM's `norm_pix_loss` target normalisation: each (sample, channel) of `t` `[B, X, Y, Z, C]`
 * becomes `(t − mean) / sqrt(var_unbiased + 1e-6)` over all its voxels.
 */
export function normalizePerVolume(t: tf.Tensor5D, eps = 1e-6): tf.Tensor5D {
  expectRank('normalizePerVolume', t, 5, '[B, X, Y, Z, C]');
  const count = t.shape[1] * t.shape[2] * t.shape[3];
  if (count < 2) throw new RangeError(`normalizePerVolume: needs at least 2 voxels, found ${count}`);
  return tf.tidy(() => {
    const mean = tf.mean(t, [1, 2, 3], true);
    const centred = tf.sub(t, mean);
    const varUnbiased = tf.div(tf.sum(tf.square(centred), [1, 2, 3], true), count - 1);
    return tf.div(centred, tf.sqrt(tf.add(varUnbiased, eps))) as tf.Tensor5D;
  });
}

/** Options of {@link reconstructionLoss}. */
export interface ReconstructionLossOptions {
  /** The masking ratio the loss is divided by (SwinMM: 0.5). */
  maskRatio?: number;
  /** Normalise the target per sample and channel first (SwinMM's `--norm_pix_loss`, on in run.sh; default true). */
  normPixLoss?: boolean;
}

function checkMask(what: string, r: tf.Tensor, m: tf.Tensor): void {
  // The mask broadcasts against [B, X, Y, Z, C]: [X, Y, Z, C], [X, Y, Z, 1], [B, X, Y, Z, C]…
  const rs = r.shape;
  const ms = m.shape;
  if (ms.length > rs.length) throw new RangeError(`${what}: mask of shape [${ms.join(', ')}] has more axes than [${rs.join(', ')}]`);
  const off = rs.length - ms.length;
  ms.forEach((d, i) => {
    if (d !== 1 && d !== rs[i + off]) throw new RangeError(`${what}: mask of shape [${ms.join(', ')}] does not broadcast to [${rs.join(', ')}]`);
  });
}

/**
 * Masked reconstruction loss: `mean[(M·R − M·T)²] / maskRatio` over every element (≈ the mean
 * squared error over the masked voxels), with T normalised per volume when `normPixLoss`.
 *
 * @param recon R `[B, X, Y, Z, C]`, the reconstructions (one channel per view).
 * @param target T `[B, X, Y, Z, C]`, the un-masked (rotated) images.
 * @param mask M, 1 where voxels were masked, broadcastable to R (SwinMM: `[X, Y, Z, C]`, one mask per view).
 */
export function reconstructionLoss(recon: tf.Tensor5D, target: tf.Tensor5D, mask: tf.Tensor, options: ReconstructionLossOptions = {}): tf.Scalar {
  expectRank('reconstructionLoss recon', recon, 5, '[B, X, Y, Z, C]');
  if (recon.shape.some((d, i) => d !== target.shape[i]) || target.rank !== 5) {
    throw new RangeError(`reconstructionLoss: recon [${recon.shape.join(', ')}] and target [${target.shape.join(', ')}] must have the same shape`);
  }
  checkMask('reconstructionLoss', recon, mask);
  const ratio = options.maskRatio ?? 0.5;
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`reconstructionLoss: maskRatio must be in (0, 1], found ${ratio}`);
  return tf.tidy(() => {
    const t = options.normPixLoss ?? true ? normalizePerVolume(target) : target;
    const m = tf.cast(mask, 'float32');
    return tf.div(tf.mean(tf.square(tf.sub(tf.mul(m, recon), tf.mul(m, t)))), ratio) as tf.Scalar;
  });
}

/**
 * SwinMM's `MutualLoss`: `mean[(M·Ra − M·Rb)²] / maskRatio`, gradients into both sides.
 *
 * @param a reconstruction `[B, X, Y, Z, C]`.
 * @param b reconstruction of the same shape (SwinMM: the back-permuted reconstruction of the same view).
 * @param mask 1 where voxels were masked, broadcastable to `a`.
 */
export function mutualLoss(a: tf.Tensor5D, b: tf.Tensor5D, mask: tf.Tensor, maskRatio = 0.5): tf.Scalar {
  expectRank('mutualLoss a', a, 5, '[B, X, Y, Z, C]');
  if (b.rank !== 5 || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`mutualLoss: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  }
  checkMask('mutualLoss', a, mask);
  if (!(maskRatio > 0 && maskRatio <= 1)) throw new RangeError(`mutualLoss: maskRatio must be in (0, 1], found ${maskRatio}`);
  return tf.tidy(() => {
    const m = tf.cast(mask, 'float32');
    return tf.div(tf.mean(tf.square(tf.sub(tf.mul(m, a), tf.mul(m, b)))), maskRatio) as tf.Scalar;
  });
}

/** The parts of {@link sslLoss}. */
export interface SslLossTerms {
  /** Rotation cross-entropy (zero tensor when `onlyMae`). */
  rot: tf.Scalar;
  /** NT-Xent contrastive loss (zero tensor when `onlyMae`). */
  con: tf.Scalar;
  /** Masked reconstruction loss. */
  rec: tf.Scalar;
  /** rot + con + rec (rec alone when `onlyMae`). */
  total: tf.Scalar;
}

/** Inputs of {@link sslLoss}. */
export interface SslLossInputs {
  /** `[2N, 4]` rotation logits of both views. */
  rotLogits?: tf.Tensor2D;
  /** 2N rotation labels. */
  rotLabels?: readonly number[];
  /** `[N, D]` contrastive embeddings of view 1. */
  con1?: tf.Tensor2D;
  /** `[N, D]` contrastive embeddings of view 2. */
  con2?: tf.Tensor2D;
  /** `[N, X, Y, Z, 2]` reconstructions, one channel per view. */
  recon: tf.Tensor5D;
  /** `[N, X, Y, Z, 2]` un-masked targets. */
  target: tf.Tensor5D;
  /** Masks `[X, Y, Z, 2]`, 1 = masked. */
  mask: tf.Tensor;
}

/** Options of {@link sslLoss}. */
export interface SslLossOptions extends ReconstructionLossOptions {
  /** Return only the reconstruction term (SwinMM's `only_mae`). */
  onlyMae?: boolean;
  /** NT-Xent temperature (0.5). */
  temperature?: number;
  /** Weights α1 (rotation), α2 (contrastive), α3 (reconstruction); SwinMM uses 1, 1, 1. */
  weights?: readonly [number, number, number];
}

/**
 * SwinMM's `Loss`: `α1·rot + α2·con + α3·rec`, or `rec` alone with `onlyMae`. All returned tensors
 * are new; the caller disposes them.
 */
export function sslLoss(inputs: SslLossInputs, options: SslLossOptions = {}): SslLossTerms {
  const [a1, a2, a3] = options.weights ?? [1, 1, 1];
  const rec = tf.tidy(() => tf.mul(reconstructionLoss(inputs.recon, inputs.target, inputs.mask, options), a3) as tf.Scalar);
  if (options.onlyMae) {
    return { rot: tf.scalar(0), con: tf.scalar(0), rec, total: tf.clone(rec) };
  }
  const { rotLogits, rotLabels, con1, con2 } = inputs;
  if (!rotLogits || !rotLabels || !con1 || !con2) {
    rec.dispose();
    throw new TypeError('sslLoss: rotLogits, rotLabels, con1 and con2 are required unless onlyMae is set');
  }
  const rot = tf.tidy(() => tf.mul(rotationLoss(rotLogits, rotLabels), a1) as tf.Scalar);
  const con = tf.tidy(() => tf.mul(contrastiveLoss(con1, con2, options.temperature ?? 0.5), a2) as tf.Scalar);
  const total = tf.tidy(() => tf.addN([rot, con, rec]) as tf.Scalar);
  return { rot, con, rec, total };
}
