/**
 * SwinMM's two-view sliding window (`WORD/inferers.py double_sliding_window_inference`, SPEC.md
 * §8.1) and the test-time fusion of the six softmax maps of the view pairs (0,1), (1,2), (2,0)
 * (`WORD/test.py`, SPEC.md §8.3).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { permuteView, type ViewId } from '@swinmm/transforms/tensor';
import { slidingWindowInferenceMulti, type SlidingWindowOptions } from './sliding-window.js';

/**
 * A two-view predictor (the SwinMM model's forward): `xa` and `xb` are the same window batch seen
 * in views `views[0]` and `views[1]` (axis swaps of `[n, X, Y, Z, C]`); it returns the two branches'
 * outputs, each in its own input's orientation. The returned tensors are owned and disposed by the
 * caller; `xa` and `xb` are disposed after the call.
 */
export type TwoViewPredictor = (
  xa: tf.Tensor5D,
  xb: tf.Tensor5D,
  views: readonly [ViewId, ViewId],
) => [tf.Tensor5D, tf.Tensor5D] | Promise<[tf.Tensor5D, tf.Tensor5D]>;

/** The view pair SwinMM's inference uses for view `v`: `[v, (v + 1) mod 3]`. */
export function viewPair(view: ViewId): [ViewId, ViewId] {
  if (view !== 0 && view !== 1 && view !== 2) throw new RangeError(`view: expected 0, 1 or 2, found ${String(view)}`);
  return [view, ((view + 1) % 3) as ViewId];
}

/**
 * SwinMM's `double_sliding_window_inference`: MONAI's sliding window where every window batch `w`
 * goes through `predictor(perm[va](w), perm[vb](w), [va, vb])` with `[va, vb] = viewPair(view)`,
 * and both outputs are mapped back with the inverse permutation before blending. Returns both
 * branches' stitched outputs (logits if the predictor returns logits), in `input`'s orientation.
 *
 * The importance map is MONAI 1.2's by default; `gaussianVariant: 'monai-0.9'` gives the map
 * SwinMM's own inference used (SPEC.md §8.2).
 */
export async function doubleSlidingWindowInference(
  input: tf.Tensor5D,
  view: ViewId,
  roiSize: readonly number[],
  swBatchSize: number,
  predictor: TwoViewPredictor,
  options: SlidingWindowOptions = {},
): Promise<[tf.Tensor5D, tf.Tensor5D]> {
  const views = viewPair(view);
  const outputs = await slidingWindowInferenceMulti(
    input,
    roiSize,
    swBatchSize,
    async (w) => {
      const xa = permuteView(w, views[0]);
      const xb = permuteView(w, views[1]);
      let pair: [tf.Tensor5D, tf.Tensor5D];
      try {
        pair = await predictor(xa, xb, views);
      } finally {
        xa.dispose();
        xb.dispose();
      }
      if (!Array.isArray(pair) || pair.length !== 2) {
        for (const t of Array.isArray(pair) ? pair : [pair]) if (t instanceof tf.Tensor) t.dispose();
        throw new TypeError(`predictor: expected [outputA, outputB] for views [${views.join(', ')}], found ${Array.isArray(pair) ? `${pair.length} outputs` : typeof pair}`);
      }
      try {
        // Each view is an axis swap, its own inverse.
        return [permuteView(pair[0], views[0]), permuteView(pair[1], views[1])];
      } finally {
        pair[0].dispose();
        pair[1].dispose();
      }
    },
    options,
  );
  return [outputs[0], outputs[1]];
}

/** Names SwinMM's test script gives the six maps, in the order they are produced. */
export const VIEW_MAP_NAMES = ['Cor1', 'Sag2', 'Sag1', 'Axi2', 'Axi1', 'Cor2'] as const;

/** One of the six per-view probability maps, reported by {@link multiViewFusion}'s `onViewMap`. */
export interface ViewMap {
  /** `Cor1`, `Sag2`, `Sag1`, `Axi2`, `Axi1` or `Cor2`. */
  name: (typeof VIEW_MAP_NAMES)[number];
  /** The view of the branch that produced it. */
  view: ViewId;
  /** The view pair `[v, (v + 1) mod 3]` of the double sliding window. */
  pair: readonly [ViewId, ViewId];
  /** Softmax over classes `[B, X, Y, Z, C]`, in the input's orientation. Disposed after the callback returns. */
  probabilities: tf.Tensor5D;
}

/** Options of {@link multiViewFusion}. */
export interface MultiViewFusionOptions extends SlidingWindowOptions {
  /** Which double sliding windows to run; default all three, `[0, 1, 2]`. */
  views?: readonly ViewId[];
  /** Called with each of the (up to six) softmax maps, e.g. to evaluate each view alone. */
  onViewMap?: (map: ViewMap) => void | Promise<void>;
  /** Called before each double sliding window with its index and view. */
  onViewStart?: (info: { index: number; count: number; view: ViewId }) => void;
}

/** The fused prediction. */
export interface FusionResult {
  /** Mean of the softmax maps `[B, X, Y, Z, C]` (SwinMM sums them; the argmax is the same). */
  probabilities: tf.Tensor5D;
  /** `argmax` over classes, int32 `[B, X, Y, Z]`. */
  labels: tf.Tensor4D;
}

/**
 * SwinMM's test-time fusion: for each view `v` of `views` (default 0, 1, 2) run
 * {@link doubleSlidingWindowInference} with the pair `[v, (v+1) mod 3]`, take the softmax over
 * classes of both outputs, and add them up; the label map is the argmax of the sum. Only the
 * running sum and the current pair's outputs are held at any time.
 */
export async function multiViewFusion(
  input: tf.Tensor5D,
  roiSize: readonly number[],
  swBatchSize: number,
  predictor: TwoViewPredictor,
  options: MultiViewFusionOptions = {},
): Promise<FusionResult> {
  const views = options.views ?? [0, 1, 2];
  if (views.length === 0) throw new RangeError('views: expected at least one view');
  let sum: tf.Tensor5D | undefined;
  let maps = 0;
  try {
    for (let i = 0; i < views.length; i++) {
      const v = views[i];
      const pair = viewPair(v);
      options.onViewStart?.({ index: i, count: views.length, view: v });
      const [oa, ob] = await doubleSlidingWindowInference(input, v, roiSize, swBatchSize, predictor, options);
      // One logits volume is released as soon as its softmax exists: at most four volumes
      // (sum, one softmax, the other branch's logits and softmax) are alive at once.
      const pa = tf.softmax(oa);
      oa.dispose();
      const pb = tf.softmax(ob);
      ob.dispose();
      try {
        if (options.onViewMap) {
          await options.onViewMap({ name: VIEW_MAP_NAMES[2 * v], view: pair[0], pair, probabilities: pa });
          await options.onViewMap({ name: VIEW_MAP_NAMES[2 * v + 1], view: pair[1], pair, probabilities: pb });
        }
        const next: tf.Tensor5D = tf.tidy(() => (sum ? sum.add(pa).add(pb) : pa.add(pb)));
        sum?.dispose();
        sum = next;
        maps += 2;
      } finally {
        pa.dispose();
        pb.dispose();
      }
    }
    const total = sum as tf.Tensor5D;
    const result = tf.tidy(() => ({
      probabilities: total.div(maps) as tf.Tensor5D,
      labels: tf.argMax(total, -1) as tf.Tensor4D,
    }));
    return result;
  } finally {
    sum?.dispose();
  }
}
