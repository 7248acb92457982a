/**
 * SwinMM's cross-view attention at the bottleneck (`TransFusion`, SPEC.md §7.3).
 *
 * The two views' deepest features are aligned to one orientation, embedded as tokens with a
 * shared 1×1×1 convolution and a shared position embedding, and passed through blocks in which
 * each stream's queries attend to the OTHER stream's keys and values. The block output replaces
 * the tokens (no residual, no MLP — that is how SwinMM is written and how its weights were
 * trained), then a final LayerNorm, and the features go back to their own orientations.
 *
 * Parameter names follow SwinMM's `cross_atte6`: `patch_embeddings.{weight,bias}`,
 * `position_embeddings`, `layer.<i>.attention_norm.*`, `layer.<i>.attn.{query,key,value,out}.*`,
 * `encoder_norm.*`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { Conv3d, LayerNorm, Linear, Module, ModuleList } from '@swinmm/nn';
import { permuteTransform, permuteView, permuteViewInverse } from '@swinmm/transforms/tensor';

/** Options of {@link CrossViewAttention}. */
export interface CrossViewAttentionOptions {
  /** Channels of the bottleneck features (16·featureSize in SwinMM). */
  hiddenSize: number;
  /** Attention heads (SwinMM: the last Swin stage's heads, 24). */
  numHeads: number;
  /** Tokens per view = bottleneck voxels ((roi / 32)³ = 8 for a 64³ ROI). */
  numPatches: number;
  /** Cross-attention blocks (SwinMM's `fusion_depths[5]`, 1). */
  numLayers?: number;
  /**
   * Where the two views meet: `'firstView'` (SwinMM's default, `cross_attention_in_origin_view=False`)
   * brings the second view into the first view's orientation; `'origin'` brings both back to the
   * original orientation.
   */
  alignment?: 'firstView' | 'origin';
  /** Initial weights (PyTorch defaults; the position embedding starts at zero). */
  rng?: Rng;
}

/** Intermediate tokens of a {@link CrossViewAttention} call, for inspection and parity tests. */
export interface CrossViewAttentionTrace {
  /** Tokens entering the first block `[B, n, C]`, per stream (after embedding + position). */
  tokens: [tf.Tensor3D, tf.Tensor3D];
  /** Tokens leaving the last block, before the final LayerNorm, per stream. */
  attended: [tf.Tensor3D, tf.Tensor3D];
}

/** Multi-head attention from one stream's queries to the other stream's keys and values. */
export class CrossAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly out: Linear;

  constructor(
    readonly hiddenSize: number,
    readonly numHeads: number,
    rng: Rng,
  ) {
    super();
    if (hiddenSize % numHeads !== 0) {
      throw new RangeError(`CrossAttention: hiddenSize ${hiddenSize} is not divisible by numHeads ${numHeads}`);
    }
    this.query = this.addModule('query', new Linear(hiddenSize, hiddenSize, { rng: rng.fork('query') }));
    this.key = this.addModule('key', new Linear(hiddenSize, hiddenSize, { rng: rng.fork('key') }));
    this.value = this.addModule('value', new Linear(hiddenSize, hiddenSize, { rng: rng.fork('value') }));
    this.out = this.addModule('out', new Linear(hiddenSize, hiddenSize, { rng: rng.fork('out') }));
  }

  private heads(x: tf.Tensor): tf.Tensor4D {
    const [b, n] = x.shape;
    const d = this.hiddenSize / this.numHeads;
    return tf.transpose(tf.reshape(x, [b, n, this.numHeads, d]), [0, 2, 1, 3]);
  }

  private attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor3D {
    const [b, h, n, d] = q.shape;
    const scores = tf.div(tf.matMul(q, tf.transpose(k, [0, 1, 3, 2])), Math.sqrt(d));
    const o = tf.matMul(tf.softmax(scores), v);
    return this.out.forward(tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, n, h * d])) as tf.Tensor3D;
  }

  /** `(u1, u2)` `[B, n, C]` each → (stream 1 attending to 2, stream 2 attending to 1). */
  forward(u1: tf.Tensor3D, u2: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
    const [q1, k1, v1] = [this.query, this.key, this.value].map((l) => this.heads(l.forward(u1)));
    const [q2, k2, v2] = [this.query, this.key, this.value].map((l) => this.heads(l.forward(u2)));
    return [this.attend(q1, k2, v2), this.attend(q2, k1, v1)];
  }
}

/** One cross-attention block: a shared LayerNorm (eps 1e-6) and {@link CrossAttention}; no residual. */
export class CrossViewBlock extends Module {
  readonly attention_norm: LayerNorm;
  readonly attn: CrossAttention;

  constructor(hiddenSize: number, numHeads: number, rng: Rng) {
    super();
    this.attention_norm = this.addModule('attention_norm', new LayerNorm(hiddenSize, 1e-6));
    this.attn = this.addModule('attn', new CrossAttention(hiddenSize, numHeads, rng.fork('attn')));
  }

  /** Both streams' tokens in, both replaced by their cross-attention outputs. */
  forward(t1: tf.Tensor3D, t2: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
    return this.attn.forward(this.attention_norm.forward(t1) as tf.Tensor3D, this.attention_norm.forward(t2) as tf.Tensor3D);
  }
}

/**
 * SwinMM's `TransFusion`: fuses two views' bottleneck features `[B, s, s, s, C]` (channels-last,
 * each in its own view's orientation) and returns them, fused, in the same orientations.
 */
export class CrossViewAttention extends Module {
  readonly patch_embeddings: Conv3d;
  readonly position_embeddings: tf.Variable;
  readonly layer: ModuleList<CrossViewBlock>;
  readonly encoder_norm: LayerNorm;
  readonly alignment: 'firstView' | 'origin';

  constructor(readonly options: CrossViewAttentionOptions) {
    super();
    const { hiddenSize, numHeads, numPatches } = options;
    const rng = options.rng ?? Rng.fromSeed(0);
    this.alignment = options.alignment ?? 'firstView';
    this.patch_embeddings = this.addModule('patch_embeddings', new Conv3d(hiddenSize, hiddenSize, 1, { bias: true, rng: rng.fork('patch_embeddings') }));
    this.position_embeddings = this.addParameter('position_embeddings', tf.zeros([1, numPatches, hiddenSize]));
    const blocks = Array.from({ length: options.numLayers ?? 1 }, (_, i) => new CrossViewBlock(hiddenSize, numHeads, rng.fork(`layer.${i}`)));
    this.layer = this.addModule('layer', new ModuleList(blocks));
    this.encoder_norm = this.addModule('encoder_norm', new LayerNorm(hiddenSize, 1e-6));
  }

  private embed(f: tf.Tensor5D): tf.Tensor3D {
    const [b, x, y, z, c] = f.shape;
    if (x * y * z !== this.options.numPatches || c !== this.options.hiddenSize) {
      throw new RangeError(
        `CrossViewAttention: expected features [B, X, Y, Z, ${this.options.hiddenSize}] with X·Y·Z = ${this.options.numPatches}, found [${f.shape.join(', ')}]`,
      );
    }
    const tokens = tf.reshape(this.patch_embeddings.forward(f), [b, x * y * z, c]);
    return tf.add(tokens, this.position_embeddings) as tf.Tensor3D;
  }

  /**
   * Fuses `f1` (view `views[0]`) and `f2` (view `views[1]`); returns them in the same orientations.
   * With `trace`, the tokens entering the first block and leaving the last are also returned
   * (tensors the caller disposes).
   */
  forward(f1: tf.Tensor5D, f2: tf.Tensor5D, views: readonly [number, number]): [tf.Tensor5D, tf.Tensor5D];
  forward(f1: tf.Tensor5D, f2: tf.Tensor5D, views: readonly [number, number], trace: true): [tf.Tensor5D, tf.Tensor5D, CrossViewAttentionTrace];
  forward(f1: tf.Tensor5D, f2: tf.Tensor5D, views: readonly [number, number], trace = false): [tf.Tensor5D, tf.Tensor5D] | [tf.Tensor5D, tf.Tensor5D, CrossViewAttentionTrace] {
    const [va, vb] = views;
    let a = f1;
    let b = f2;
    if (this.alignment === 'firstView') {
      b = permuteTransform(f2, vb, va);
    } else {
      a = permuteViewInverse(f1, va);
      b = permuteViewInverse(f2, vb);
    }
    const shape = a.shape;
    let t1 = this.embed(a);
    let t2 = this.embed(b);
    const tokens: [tf.Tensor3D, tf.Tensor3D] = [t1, t2];
    for (const block of this.layer) [t1, t2] = block.forward(t1, t2);
    const attended: [tf.Tensor3D, tf.Tensor3D] = [t1, t2];
    let o1 = tf.reshape(this.encoder_norm.forward(t1), shape) as tf.Tensor5D;
    let o2 = tf.reshape(this.encoder_norm.forward(t2), shape) as tf.Tensor5D;
    if (this.alignment === 'firstView') {
      o2 = permuteTransform(o2, va, vb);
    } else {
      o1 = permuteView(o1, va);
      o2 = permuteView(o2, vb);
    }
    return trace ? [o1, o2, { tokens, attended }] : [o1, o2];
  }
}
