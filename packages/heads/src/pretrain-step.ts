/**
 * The complete SwinMM pre-training objective of one step (`Pretrain/main.py`, SPEC.md §6.6):
 * two rotated + cube-masked copies of the batch, two axis-permuted copies of those, four
 * {@link SSLHead} passes, and `L = L1 + L2 + L3`.
 *
 * Every random choice (rotations, kept cells, permutations) is drawn from an {@link Rng}, in a
 * fixed order, or passed explicitly in {@link PretrainChoices}; the choices used are returned so a
 * step can be replayed.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@swinmm/runtime';
import { maskRandPatch, permuteView, permuteViewInverse, rotRand } from '@swinmm/transforms/tensor';
import { mutualLoss, sslLoss } from './losses.js';
import type { SSLHead } from './ssl-head.js';

/** The random choices of one pre-training step. */
export interface PretrainChoices {
  /** Quarter turns per sample of the first view (0…3). */
  rot1: number[];
  /** Quarter turns per sample of the second view. */
  rot2: number[];
  /** Kept cells of the first mask (flat C-order cell indices). */
  keep1: number[];
  /** Kept cells of the second mask. */
  keep2: number[];
  /** Permutation view of the first copy (1 = swap X,Y; 2 = swap X,Z). */
  p1: number;
  /** Permutation view of the second copy. */
  p2: number;
}

/** Options of {@link pretrainLoss}. */
export interface PretrainLossOptions {
  /** Cube edge of the mask in voxels (SwinMM `--cube`, 16). */
  cube?: number;
  /** SwinMM `--mask_ratio` (0.5): the fraction of cells kept, and the loss divisor. */
  maskRatio?: number;
  /** Normalise reconstruction targets per volume (SwinMM: on). */
  normPixLoss?: boolean;
  /** NT-Xent temperature (0.5). */
  temperature?: number;
  /** Fixed choices; any not given are drawn from the Rng. */
  choices?: Partial<PretrainChoices>;
}

/** Every loss of one step (new scalars; the caller disposes them). */
export interface PretrainLosses {
  /** L1 + L2 + L3. */
  total: tf.Scalar;
  /** rot + con + rec on the two masked views. */
  l1: tf.Scalar;
  /** Masked reconstruction of the two permuted views (mapped back). */
  l2: tf.Scalar;
  /** Mutual loss between view 1's reconstruction and its permuted copy's. */
  l3: tf.Scalar;
  /** Rotation cross-entropy (part of L1). */
  rot: tf.Scalar;
  /** Contrastive loss (part of L1). */
  con: tf.Scalar;
  /** Masked reconstruction loss of the two masked views (part of L1). */
  rec: tf.Scalar;
}

/** What {@link pretrainLoss} returns. */
export interface PretrainStepResult {
  /** The losses. */
  losses: PretrainLosses;
  /** The choices used (drawn or given). */
  choices: PretrainChoices;
  /** Extra outputs kept for inspection when `keepOutputs` is set (else absent). */
  outputs?: {
    /** `[2B, 4]` rotation logits of views 1 and 2. */
    rotLogits: tf.Tensor2D;
    /** Contrastive embeddings of views 1…4. */
    con: tf.Tensor2D[];
    /** Reconstructions R1…R4 `[B, X, Y, Z, 1]`, R3/R4 mapped back by the inverse permutation. */
    recon: tf.Tensor5D[];
    /** Cell masks of views 1 and 2 (1 = masked). */
    maskCells: Uint8Array[];
  };
}

/**
 * The SwinMM pre-training loss of one batch `x` `[B, X, Y, Z, 1]` (SwinMM: B = 4 crops of 64³).
 * Draw order from `rng` (for the choices not given): rotations of view 1 (one `int(0,4)` per
 * sample), of view 2, the kept cells of mask 1 (a permutation), of mask 2, then p1 and p2 (each a
 * uniform choice of 1 or 2). Differentiable with respect to the model's variables; call it inside
 * `tf.variableGrads` to train.
 *
 * @param keepOutputs also return the intermediate outputs (for parity checks).
 */
export function pretrainLoss(model: SSLHead, x: tf.Tensor5D, rng: Rng | null, options: PretrainLossOptions = {}, keepOutputs = false): PretrainStepResult {
  if (x.rank !== 5 || x.shape[4] !== model.options.inChannels) {
    throw new RangeError(`pretrainLoss: expected x [B, X, Y, Z, ${model.options.inChannels}], found shape [${x.shape.join(', ')}]`);
  }
  const given = options.choices ?? {};
  const cube = options.cube ?? 16;
  const ratio = options.maskRatio ?? 0.5;
  const needRng = (what: string): Rng => {
    if (!rng) throw new TypeError(`pretrainLoss: an Rng is required because choices.${what} was not given`);
    return rng;
  };
  const drawPerm = (what: 'p1' | 'p2'): number => {
    const v = given[what] ?? needRng(what).choice([1, 2]);
    if (v !== 1 && v !== 2) throw new RangeError(`pretrainLoss: choices.${what} must be 1 or 2 (identity is excluded), found ${v}`);
    return v;
  };
  const kept: tf.Tensor[] = [];
  const choices: Partial<PretrainChoices> = {};
  const maskCells: Uint8Array[] = [];
  const losses = tf.tidy(() => {
    const v1 = rotRand(x, given.rot1 ? null : needRng('rot1'), given.rot1 ? { k: given.rot1 } : {});
    const v2 = rotRand(x, given.rot2 ? null : needRng('rot2'), given.rot2 ? { k: given.rot2 } : {});
    const m1 = maskRandPatch(v1.rotated, given.keep1 ? null : needRng('keep1'), { window: cube, ratio, ...(given.keep1 ? { keep: given.keep1 } : {}) });
    const m2 = maskRandPatch(v2.rotated, given.keep2 ? null : needRng('keep2'), { window: cube, ratio, ...(given.keep2 ? { keep: given.keep2 } : {}) });
    const p1 = drawPerm('p1');
    const p2 = drawPerm('p2');
    choices.rot1 = v1.labels.slice();
    choices.rot2 = v2.labels.slice();
    choices.keep1 = m1.keep.slice();
    choices.keep2 = m2.keep.slice();
    choices.p1 = p1;
    choices.p2 = p2;
    maskCells.push(m1.cells, m2.cells);

    const o1 = model.forward(m1.masked);
    const o2 = model.forward(m2.masked);
    const o3 = model.forward(permuteView(m1.masked, p1));
    const o4 = model.forward(permuteView(m2.masked, p2));
    const r3 = permuteViewInverse(o3.reconstruction, p1);
    const r4 = permuteViewInverse(o4.reconstruction, p2);
    // Masks are [X, Y, Z, 1] in the rotated frame, one channel per view (SwinMM stacks M1, M2).
    const mask1 = tf.tensor4d(m1.voxels, [v1.rotated.shape[1], v1.rotated.shape[2], v1.rotated.shape[3], 1], 'float32');
    const mask2 = tf.tensor4d(m2.voxels, [v2.rotated.shape[1], v2.rotated.shape[2], v2.rotated.shape[3], 1], 'float32');
    const mask = tf.concat([mask1, mask2], 3);
    const target = tf.concat([v1.rotated, v2.rotated], 4) as tf.Tensor5D;
    const rotLogits = tf.concat([o1.rotation, o2.rotation], 0) as tf.Tensor2D;
    const lossOptions = { maskRatio: ratio, normPixLoss: options.normPixLoss ?? true, temperature: options.temperature ?? 0.5 };
    const t1 = sslLoss(
      {
        rotLogits,
        rotLabels: [...v1.labels, ...v2.labels],
        con1: o1.contrastive,
        con2: o2.contrastive,
        recon: tf.concat([o1.reconstruction, o2.reconstruction], 4) as tf.Tensor5D,
        target,
        mask,
      },
      lossOptions,
    );
    const t2 = sslLoss({ recon: tf.concat([r3, r4], 4) as tf.Tensor5D, target, mask }, { ...lossOptions, onlyMae: true });
    const l3 = mutualLoss(r3, o1.reconstruction, mask1, ratio);
    const total = tf.addN([t1.total, t2.total, l3]) as tf.Scalar;
    if (keepOutputs) {
      kept.push(rotLogits, o1.contrastive, o2.contrastive, o3.contrastive, o4.contrastive, o1.reconstruction, o2.reconstruction, r3, r4);
      for (const t of kept) tf.keep(t);
    }
    return { total, l1: t1.total, l2: t2.total, l3, rot: t1.rot, con: t1.con, rec: t1.rec };
  });
  const result: PretrainStepResult = { losses, choices: choices as PretrainChoices };
  if (keepOutputs) {
    const [rotLogits, c1, c2, c3, c4, r1, r2, r3, r4] = kept;
    result.outputs = {
      rotLogits: rotLogits as tf.Tensor2D,
      con: [c1, c2, c3, c4] as tf.Tensor2D[],
      recon: [r1, r2, r3, r4] as tf.Tensor5D[],
      maskCells,
    };
  }
  return result;
}
