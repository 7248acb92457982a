/**
 * The Swin building blocks: window attention with relative-position bias, the MLP, the Swin
 * Transformer block and patch merging, with MONAI's parameter names.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { Dropout, DropPath, LayerNorm, Linear, Module, gatherRows, gelu, spaceToDepth2, truncNormalInit, windowAttention } from '@swinmm/nn';
import { getWindowSize, padEnd3d, relativePositionIndex, slicedPositionIndex, windowGatherIndex, type Triple } from './window.js';

/** Options of {@link WindowAttention}. */
export interface WindowAttentionOptions {
  /** Whether qkv has a bias (default true). */
  qkvBias?: boolean;
  /** Dropout on the attention probabilities (default 0). */
  attnDrop?: number;
  /** Dropout after the output projection (default 0). */
  projDrop?: number;
  /** Initial weights. */
  rng?: Rng;
}

/**
 * MONAI `WindowAttention` (3-D): parameters `relative_position_bias_table`
 * `[(2wd−1)(2wh−1)(2ww−1), heads]`, `qkv` (Linear C → 3C), `proj` (Linear C → C); the buffer
 * `relative_position_index` is a constant here.
 */
export class WindowAttention extends Module {
  /** The bias table `[(2wd−1)(2wh−1)(2ww−1), heads]`. */
  readonly relativePositionBiasTable: tf.Variable;
  /** The qkv projection. */
  readonly qkv: Linear;
  /** The output projection. */
  readonly proj: Linear;
  private readonly attnDrop: Dropout;
  private readonly projDrop: Dropout;
  private readonly fullIndex: Int32Array;
  private readonly fullN: number;
  private readonly indexCache = new Map<number, Int32Array>();
  /** `headDim^−0.5`. */
  readonly scale: number;

  constructor(
    /** Channels C. */
    readonly dim: number,
    /** Heads (C must be divisible by it). */
    readonly numHeads: number,
    /** The configured window. */
    readonly windowSize: Triple,
    options: WindowAttentionOptions = {},
  ) {
    super();
    if (dim % numHeads !== 0) throw new RangeError(`WindowAttention: dim ${dim} is not divisible by numHeads ${numHeads}`);
    const rng = options.rng ?? Rng.fromSeed(0);
    this.scale = (dim / numHeads) ** -0.5;
    const rows = (2 * windowSize[0] - 1) * (2 * windowSize[1] - 1) * (2 * windowSize[2] - 1);
    this.relativePositionBiasTable = this.addParameter('relative_position_bias_table', truncNormalInit(rng.fork('relative_position_bias_table'), [rows, numHeads], 0.02));
    this.qkv = this.addModule('qkv', new Linear(dim, 3 * dim, { bias: options.qkvBias ?? true, rng: rng.fork('qkv') }));
    this.attnDrop = this.addModule('attn_drop', new Dropout(options.attnDrop ?? 0, { rng: rng.fork('attn_drop') }));
    this.proj = this.addModule('proj', new Linear(dim, dim, { rng: rng.fork('proj') }));
    this.projDrop = this.addModule('proj_drop', new Dropout(options.projDrop ?? 0, { rng: rng.fork('proj_drop') }));
    this.fullIndex = relativePositionIndex(windowSize);
    this.fullN = windowSize[0] * windowSize[1] * windowSize[2];
    this.addConstant('relative_position_index', { shape: [this.fullN, this.fullN], values: this.fullIndex });
  }

  /** The bias-table rows for a window of `n` tokens (the §4.3 slice), cached. */
  private indexFor(n: number): Int32Array {
    let t = this.indexCache.get(n);
    if (!t) {
      t = slicedPositionIndex(this.fullIndex, this.fullN, n);
      this.indexCache.set(n, t);
    }
    return t;
  }

  /** The relative-position bias `[n, n, heads]` for windows of `n` tokens (MONAI's index slice). */
  positionBias(n: number): tf.Tensor3D {
    return tf.reshape(gatherRows(this.relativePositionBiasTable as tf.Tensor2D, this.indexFor(n)), [n, n, this.numHeads]) as tf.Tensor3D;
  }

  /**
   * Attention over windows `x` `[Bw, n, C]`, with an optional shift mask `[nW, n, n]`.
   * `partition` (the window gather index, −1 for padding) lets the kernel skip padding queries.
   */
  forward(x: tf.Tensor3D, mask: tf.Tensor3D | null, partition?: Int32Array): tf.Tensor3D {
    const n = x.shape[1];
    const qkv = this.qkv.forward(x) as tf.Tensor3D;
    const dropProbs = this.training && this.attnDrop.p > 0 ? (p: tf.Tensor) => this.attnDrop.forward(p) : undefined;
    const out = windowAttention({ qkv, heads: this.numHeads, bias: this.positionBias(n), mask, scale: this.scale, dropProbs, discardedRows: partition });
    return this.projDrop.forward(this.proj.forward(out)) as tf.Tensor3D;
  }

}

/** MONAI `MLPBlock` in "swin" dropout mode: `linear1` → GELU → dropout → `linear2` → dropout. */
export class SwinMlp extends Module {
  /** C → hidden. */
  readonly linear1: Linear;
  /** hidden → C. */
  readonly linear2: Linear;
  private readonly drop1: Dropout;
  private readonly drop2: Dropout;

  constructor(dim: number, hidden: number, dropRate: number, rng: Rng) {
    super();
    this.linear1 = this.addModule('linear1', new Linear(dim, hidden, { rng: rng.fork('linear1') }));
    this.linear2 = this.addModule('linear2', new Linear(hidden, dim, { rng: rng.fork('linear2') }));
    this.drop1 = this.addModule('drop1', new Dropout(dropRate, { rng: rng.fork('drop1') }));
    this.drop2 = this.addModule('drop2', new Dropout(dropRate, { rng: rng.fork('drop2') }));
  }

  /** The MLP over the last axis. */
  forward(x: tf.Tensor): tf.Tensor {
    const h = this.drop1.forward(gelu(this.linear1.forward(x)));
    return this.drop2.forward(this.linear2.forward(h));
  }
}

/** Options of {@link SwinTransformerBlock}. */
export interface SwinBlockOptions {
  /** MLP hidden size = dim · mlpRatio (default 4). */
  mlpRatio?: number;
  /** qkv bias (default true). */
  qkvBias?: boolean;
  /** Dropout after projections and in the MLP (default 0). */
  drop?: number;
  /** Dropout on attention probabilities (default 0). */
  attnDrop?: number;
  /** Drop-path probability of this block (default 0). */
  dropPath?: number;
  /** Initial weights and dropout draws. */
  rng?: Rng;
}

/**
 * MONAI `SwinTransformerBlock` (SPEC.md §4.5): `x + attn(LN1(x))`, `+ MLP(LN2(x))`, with
 * zero-padding AFTER the norm (padded tokens are exact zeros and act as keys/values, as in
 * MONAI), cyclic shift by −s before and +s after attention when the effective shift is non-zero.
 */
export class SwinTransformerBlock extends Module {
  /** LayerNorm before attention. */
  readonly norm1: LayerNorm;
  /** Window attention. */
  readonly attn: WindowAttention;
  /** LayerNorm before the MLP. */
  readonly norm2: LayerNorm;
  /** The MLP. */
  readonly mlp: SwinMlp;
  private readonly dropPath: DropPath;
  private readonly indexCache = new Map<string, { partition: Int32Array; reverse: Int32Array }>();

  constructor(
    /** Channels. */
    readonly dim: number,
    /** Heads. */
    readonly numHeads: number,
    /** The configured window. */
    readonly windowSize: Triple,
    /** The configured shift (0 for even blocks, ⌊w/2⌋ for odd ones). */
    readonly shiftSize: Triple,
    options: SwinBlockOptions = {},
  ) {
    super();
    const rng = options.rng ?? Rng.fromSeed(0);
    this.norm1 = this.addModule('norm1', new LayerNorm(dim));
    this.attn = this.addModule(
      'attn',
      new WindowAttention(dim, numHeads, windowSize, { qkvBias: options.qkvBias, attnDrop: options.attnDrop, projDrop: options.drop, rng: rng.fork('attn') }),
    );
    this.dropPath = this.addModule('drop_path', new DropPath(options.dropPath ?? 0, { rng: rng.fork('drop_path') }));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim));
    this.mlp = this.addModule('mlp', new SwinMlp(dim, Math.floor(dim * (options.mlpRatio ?? 4)), options.drop ?? 0, rng.fork('mlp')));
  }

  /** The window gather indices for this input geometry (cached). */
  private gatherIndex(batch: number, size: Triple, window: Triple, shift: Triple): { partition: Int32Array; reverse: Int32Array } {
    const key = `${batch}/${size.join('x')}/${window.join('x')}/${shift.join('x')}`;
    let idx = this.indexCache.get(key);
    if (!idx) {
      idx = windowGatherIndex(batch, size, window, shift);
      this.indexCache.set(key, idx);
    }
    return idx;
  }

  /** `x` `[B, D, H, W, C]`; `mask` is the stage's shift mask (used only when the effective shift is non-zero). */
  forward(x: tf.Tensor5D, mask: tf.Tensor3D | null): tf.Tensor5D {
    const [b, d, h, w, c] = x.shape;
    const size: Triple = [d, h, w];
    const { window, shift } = getWindowSize(size, this.windowSize, this.shiftSize);
    const shifted = shift.some((s) => s > 0);
    const { partition, reverse } = this.gatherIndex(b, size, window, shift);
    // Pad (after the norm: padded tokens are exact zeros), shift and partition as one gather.
    // One tidy per block (as in every block of the models): without a tape the intermediates are
    // freed as soon as the block returns instead of at the end of the whole forward pass; with
    // a tape, what backward needs is kept by the engine anyway.
    return tf.tidy(() => {
      const tokens = tf.reshape(this.norm1.forward(x), [-1, c]) as tf.Tensor2D;
      const n = window[0] * window[1] * window[2];
      const windows = tf.reshape(gatherRows(tokens, partition), [-1, n, c]) as tf.Tensor3D;
      const attended = this.attn.forward(windows, shifted ? mask : null, partition);
      const y = tf.reshape(gatherRows(tf.reshape(attended, [-1, c]) as tf.Tensor2D, reverse), x.shape);
      const x1 = tf.add(x, this.dropPath.forward(y));
      return tf.add(x1, this.dropPath.forward(this.mlp.forward(this.norm2.forward(x1)))) as tf.Tensor5D;
    });
  }
}

/**
 * The downsampling choices (SPEC.md §4.6): `'merging'` is MONAI's legacy PatchMerging order (with
 * its duplicated slices; what every published Swin UNETR / SwinMM checkpoint needs),
 * `'mergingCorrected'` the order MONAI ≥ 1.5 uses, `'mergingv2'` MONAI's PatchMergingV2.
 */
export type DownsampleKind = 'merging' | 'mergingv2' | 'mergingCorrected';

/** Which 2×2×2 neighbour (k = 4a + 2b + c for offsets a, b, c along D, H, W) fills each of the 8 slots. */
export const MERGE_ORDERS: Record<DownsampleKind, readonly number[]> = {
  merging: [0, 4, 2, 1, 5, 2, 1, 7],
  mergingCorrected: [0, 4, 2, 1, 6, 5, 3, 7],
  mergingv2: [0, 1, 2, 3, 4, 5, 6, 7],
};

/**
 * MONAI `PatchMerging` / `PatchMergingV2`: gathers the 8 strided sub-grids in the variant's order
 * → LayerNorm(8C) → Linear(8C → 2C, no bias). Odd sizes are zero-padded at the end.
 * Parameters: `reduction.weight`, `norm.weight`, `norm.bias`.
 */
export class PatchMerging extends Module {
  /** 8C → 2C, no bias. */
  readonly reduction: Linear;
  /** LayerNorm(8C). */
  readonly norm: LayerNorm;

  constructor(
    /** Input channels C. */
    readonly dim: number,
    /** The slot order variant. */
    readonly kind: DownsampleKind = 'merging',
    rng: Rng = Rng.fromSeed(0),
  ) {
    super();
    if (!(kind in MERGE_ORDERS)) throw new RangeError(`PatchMerging: unknown downsample "${kind}" (expected ${Object.keys(MERGE_ORDERS).join(', ')})`);
    this.reduction = this.addModule('reduction', new Linear(8 * dim, 2 * dim, { bias: false, rng: rng.fork('reduction') }));
    this.norm = this.addModule('norm', new LayerNorm(8 * dim));
  }

  /** `[B, D, H, W, C]` → `[B, ⌈D/2⌉, ⌈H/2⌉, ⌈W/2⌉, 2C]`. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    const [, d0, h0, w0] = x.shape;
    return tf.tidy(() => {
      const y = padEnd3d(x, [d0 % 2, h0 % 2, w0 % 2]);
      // The 8 strided sub-grids in the variant's slot order, concatenated along channels.
      const merged = spaceToDepth2(y as tf.Tensor5D, MERGE_ORDERS[this.kind]);
      return this.reduction.forward(this.norm.forward(merged)) as tf.Tensor5D;
    });
  }
}
