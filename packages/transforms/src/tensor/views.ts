/**
 * SwinMM's view operations on channels-last `[B, X, Y, Z, C]` tensors (SPEC.md §6.2, §7.4).
 *
 * The PyTorch reference works on `[B, C, X, Y, Z]`; its dims 2, 3, 4 are our axes 1, 2, 3.
 * - permutation views: 0 identity, 1 swaps X↔Y, 2 swaps X↔Z (each its own inverse);
 * - rotations: `torch.rot90(x, k, dims=(3, 4))`, a rotation in the (Y, Z) plane, k ∈ {0, 1, 2, 3},
 *   inverse k ↦ (4 − k) mod 4;
 * - `viewTransform([rot, perm])` = permutation after rotation (SwinMM's DEFAULT_ORDER).
 *
 * Everything is made of `tf.transpose` and `tf.reverse`, which copy values bit-exactly and have
 * gradients, and never goes above rank 5.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** A permutation view id: 0 identity, 1 swap X↔Y, 2 swap X↔Z. */
export type ViewId = 0 | 1 | 2;

/** A rotation id: `k` quarter turns in the (Y, Z) plane. */
export type RotationId = 0 | 1 | 2 | 3;

/** The number of permutation views SwinMM defines. */
export const NUM_VIEWS = 3;

/** The number of rotations SwinMM defines. */
export const NUM_ROTATIONS = 4;

// Axis orders for tf.transpose of a [B, X, Y, Z, C] tensor, per view.
const VIEW_PERMUTATIONS: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4],
  [0, 2, 1, 3, 4],
  [0, 3, 2, 1, 4],
];

function checkRank5(x: tf.Tensor, what: string): void {
  if (x.rank !== 5) {
    throw new RangeError(`${what}: expected a rank-5 [B, X, Y, Z, C] tensor, got rank ${x.rank} with shape [${x.shape.join(', ')}]`);
  }
}

function checkView(view: number, what: string): asserts view is ViewId {
  if (view !== 0 && view !== 1 && view !== 2) {
    throw new RangeError(`${what}: view must be 0, 1 or 2, got ${view}`);
  }
}

function checkRotation(k: number, what: string): asserts k is RotationId {
  if (k !== 0 && k !== 1 && k !== 2 && k !== 3) {
    throw new RangeError(`${what}: rotation k must be 0, 1, 2 or 3, got ${k}`);
  }
}

/**
 * Permutation view `view` of `x` (SwinMM `permutation_transforms[view]`): 0 keeps `x`, 1 swaps the
 * X and Y axes, 2 swaps X and Z. Returns a new tensor (a copy even for view 0).
 */
export function permuteView<T extends tf.Tensor>(x: T, view: number): T {
  checkRank5(x, 'permuteView');
  checkView(view, 'permuteView');
  return tf.transpose(x, VIEW_PERMUTATIONS[view] as number[]) as T;
}

/** The inverse of {@link permuteView}; each view is an axis swap, so this is the same operation. */
export function permuteViewInverse<T extends tf.Tensor>(x: T, view: number): T {
  checkRank5(x, 'permuteViewInverse');
  checkView(view, 'permuteViewInverse');
  return tf.transpose(x, VIEW_PERMUTATIONS[view] as number[]) as T;
}

/**
 * Maps a tensor seen in view `src` to view `dst` (SwinMM `get_permute_transform(src, dst)`):
 * `permuteView(permuteViewInverse(x, src), dst)`. TransFusion aligns branch b with
 * `permuteTransform(x, vb, va)`, and outputs go back to the original view with `dst = 0`.
 */
export function permuteTransform<T extends tf.Tensor>(x: T, src: number, dst: number): T {
  checkRank5(x, 'permuteTransform');
  checkView(src, 'permuteTransform (src)');
  checkView(dst, 'permuteTransform (dst)');
  // Compose the two axis orders into one transpose: the result is the same copy of values.
  const a = VIEW_PERMUTATIONS[src];
  const b = VIEW_PERMUTATIONS[dst];
  return tf.transpose(x, b.map((i) => a[i])) as T;
}

/**
 * `torch.rot90(x, k, dims=(Y, Z))` for `[B, X, Y, Z, C]`: k quarter turns from the Y axis towards
 * the Z axis. k = 1 reverses Z then swaps Y and Z; k = 2 reverses both; k = 3 reverses Y then swaps.
 */
export function rotate<T extends tf.Tensor>(x: T, k: number): T {
  checkRank5(x, 'rotate');
  checkRotation(k, 'rotate');
  return tf.tidy(() => {
    switch (k) {
      case 0:
        return tf.clone(x);
      case 1:
        return tf.transpose(tf.reverse(x, 3), [0, 1, 3, 2, 4]);
      case 2:
        return tf.reverse(x, [2, 3]);
      default:
        return tf.transpose(tf.reverse(x, 2), [0, 1, 3, 2, 4]);
    }
  }) as T;
}

/** The inverse of {@link rotate}: `rotate(x, (4 − k) mod 4)`. */
export function rotateInverse<T extends tf.Tensor>(x: T, k: number): T {
  checkRotation(k, 'rotateInverse');
  return rotate(x, (4 - k) % 4);
}

/**
 * SwinMM `get_transforms_func([rot, perm])`: rotation `rot` first, then permutation view `perm`.
 * With `inverse: true` it undoes that: inverse permutation first, then inverse rotation.
 */
export function viewTransform<T extends tf.Tensor>(x: T, rot: number, perm: number, options: { inverse?: boolean } = {}): T {
  checkRank5(x, 'viewTransform');
  checkRotation(rot, 'viewTransform');
  checkView(perm, 'viewTransform');
  return tf.tidy(() => {
    if (options.inverse) {
      return rotateInverse(permuteViewInverse(x, perm), rot);
    }
    return permuteView(rotate(x, rot), perm);
  }) as T;
}
