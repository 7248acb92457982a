/**
 * SwinMM's two-view fine-tuning model (SPEC.md §7.1–7.2): a MONAI SwinUNETR whose two views share
 * every weight, with an extra residual block on the third hidden state (`encoder5`, used as the
 * deepest skip instead of raw h3) and cross-view attention between the two bottlenecks
 * (`cross_atte6`). Parameter names are those of SwinMM's checkpoints.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { permuteView, permuteViewInverse } from '@swinmm/transforms/tensor';
import { UnetrBasicBlock } from './blocks.js';
import { CrossViewAttention, type CrossViewAttentionTrace } from './cross-view-attention.js';
import { SwinUNETRBase, type SwinUNETROptions } from './swin-unetr.js';

/** Options of {@link SwinMMSegmenter}: SwinUNETR's plus SwinMM's fusion settings. */
export interface SwinMMSegmenterOptions extends SwinUNETROptions {
  /**
   * Cross-attention blocks at the bottleneck (SwinMM's `fusion_depths[5]`, default 1). The
   * official model takes a six-entry `fusion_depths` but only uses the last one.
   */
  fusionDepth?: number;
  /**
   * Attend in the original orientation instead of the first view's
   * (`cross_attention_in_origin_view`, default false as in SwinMM).
   */
  crossAttentionInOriginView?: boolean;
}

/** One view's encoder outputs: SwinUNETR's plus `enc4 = encoder5(h3)`. */
export interface ViewEncoding {
  /** h0 … h4. */
  hidden: tf.Tensor5D[];
  /** enc0 … enc3. */
  enc: tf.Tensor5D[];
  /** encoder5(h3): the deepest skip. */
  enc4: tf.Tensor5D;
  /** encoder10(h4), before cross-view attention. */
  dec4: tf.Tensor5D;
}

/** Intermediate tensors of {@link SwinMMSegmenter.forwardViewsTraced}, each in its branch's own orientation. */
export interface SwinMMTrace {
  /** Per branch: encoder outputs. */
  encodings: [ViewEncoding, ViewEncoding];
  /** Per branch: the bottleneck after cross-view attention. */
  fused: [tf.Tensor5D, tf.Tensor5D];
  /** Per branch: decoder5(fused dec4, enc4). */
  dec3: [tf.Tensor5D, tf.Tensor5D];
  /** The cross-view attention's tokens (in the attention's common orientation). */
  attention: CrossViewAttentionTrace;
  /** Per branch: logits in the branch's own orientation. */
  logits: [tf.Tensor5D, tf.Tensor5D];
}

/** A pair of view ids from {0, 1, 2} (SPEC.md §6.2: identity, swap X↔Y, swap X↔Z). */
export type ViewPair = readonly [number, number];

function checkViews(views: ViewPair): void {
  if (views.length !== 2 || views.some((v) => v !== 0 && v !== 1 && v !== 2)) {
    throw new RangeError(`SwinMMSegmenter: views must be two ids from {0, 1, 2}, found [${views.join(', ')}]`);
  }
}

/**
 * SwinMM's segmenter. `forwardViews(xa, xb, views)` is SwinMM's forward: each input is already in
 * its view's orientation and each output stays in it. `forward(x, views)` permutes `x` into the
 * two views itself and maps both outputs back to `x`'s orientation.
 *
 * @example
 * ```ts
 * const model = new SwinMMSegmenter({ imgSize: 64, inChannels: 1, outChannels: 5, featureSize: 12 });
 * const [a, b] = model.forward(x, [0, 1]); // both [B, 64, 64, 64, 5], in x's orientation
 * ```
 */
export class SwinMMSegmenter extends SwinUNETRBase {
  /** UnetrBasicBlock(8F → 8F) on h3. */
  readonly encoder5: UnetrBasicBlock;
  /** Cross-view attention between the two bottlenecks. */
  readonly cross_atte6: CrossViewAttention;

  constructor(options: SwinMMSegmenterOptions) {
    super(options);
    const F = this.config.featureSize;
    const rng = options.rng ?? Rng.fromSeed(0);
    const [x, y, z] = this.config.imgSize;
    const fusionDepth = options.fusionDepth ?? 1;
    if (!Number.isInteger(fusionDepth) || fusionDepth < 1) {
      throw new RangeError(`SwinMMSegmenter: fusionDepth must be a positive integer, found ${fusionDepth}`);
    }
    this.encoder5 = this.addModule(
      'encoder5',
      new UnetrBasicBlock(8 * F, 8 * F, { kernelSize: 3, stride: 1, normName: this.config.normName, resBlock: true, rng: rng.fork('encoder5') }),
    );
    this.cross_atte6 = this.addModule(
      'cross_atte6',
      new CrossViewAttention({
        hiddenSize: 16 * F,
        numHeads: this.config.numHeads[this.config.numHeads.length - 1],
        numPatches: (x / 32) * (y / 32) * (z / 32),
        numLayers: fusionDepth,
        alignment: options.crossAttentionInOriginView ? 'origin' : 'firstView',
        rng: rng.fork('cross_atte6'),
      }),
    );
  }

  /** One view's encoder pass (shared weights). */
  encodeView(x: tf.Tensor5D): ViewEncoding {
    const { hidden, enc, dec4 } = this.encode(x);
    return { hidden, enc, enc4: this.encoder5.forward(hidden[3]), dec4 };
  }

  /** SwinMM's forward, keeping every intermediate (for inspection and parity tests; wrap it in `tf.tidy`). */
  forwardViewsTraced(xa: tf.Tensor5D, xb: tf.Tensor5D, views: ViewPair): SwinMMTrace {
    checkViews(views);
    if (xa.shape.some((s, i) => s !== xb.shape[i])) {
      throw new RangeError(`SwinMMSegmenter: both views must have the same shape, found [${xa.shape.join(', ')}] and [${xb.shape.join(', ')}]`);
    }
    const ea = this.encodeView(xa);
    const eb = this.encodeView(xb);
    const [fa, fb, attention] = this.cross_atte6.forward(ea.dec4, eb.dec4, [views[0], views[1]], true);
    const da = this.decode(fa, ea.enc4, ea.enc);
    const db = this.decode(fb, eb.enc4, eb.enc);
    return { encodings: [ea, eb], fused: [fa, fb], dec3: [da.dec3, db.dec3], attention, logits: [da.logits, db.logits] };
  }

  /** SwinMM's forward: logits of `xa` (view `views[0]`) and `xb` (view `views[1]`), each in its own orientation. */
  forwardViews(xa: tf.Tensor5D, xb: tf.Tensor5D, views: ViewPair): [tf.Tensor5D, tf.Tensor5D] {
    return tf.tidy(() => this.forwardViewsTraced(xa, xb, views).logits);
  }

  /**
   * Permutes `x` `[B, X, Y, Z, C]` into views `views[0]` and `views[1]`, runs both branches and
   * returns both logits mapped back to `x`'s orientation.
   */
  forward(x: tf.Tensor5D, views: ViewPair = [0, 1]): [tf.Tensor5D, tf.Tensor5D] {
    checkViews(views);
    return tf.tidy(() => {
      const [la, lb] = this.forwardViews(permuteView(x, views[0]), permuteView(x, views[1]), views);
      return [permuteViewInverse(la, views[0]), permuteViewInverse(lb, views[1])];
    }) as unknown as [tf.Tensor5D, tf.Tensor5D];
  }
}
