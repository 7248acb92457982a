/**
 * MONAI's 3-D `SwinTransformer` (SwinViT): patch embedding, four stages of shifted-window blocks
 * each ending in patch merging, and the five channel-normalised hidden states (SPEC.md §4.1–4.8).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { Conv3d, Dropout, Module, ModuleList, layerNorm } from '@swinmm/nn';
import { PatchMerging, SwinTransformerBlock, type DownsampleKind } from './blocks.js';
import { computeShiftMask, getWindowSize, padEnd3d, type Triple } from './window.js';

/** MONAI `PatchEmbed` without norm: `proj` = Conv3d(in, embed, k = s = patch, bias), end-padding odd sizes. */
export class PatchEmbed extends Module {
  /** The patch projection. */
  readonly proj: Conv3d;

  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Embedding size. */
    readonly embedDim: number,
    /** Patch size (2 in SwinUNETR). */
    readonly patchSize: number,
    rng: Rng = Rng.fromSeed(0),
  ) {
    super();
    this.proj = this.addModule('proj', new Conv3d(inChannels, embedDim, patchSize, { stride: patchSize, padding: 0, bias: true, rng: rng.fork('proj') }));
  }

  /** `[B, X, Y, Z, in]` → `[B, ⌈X/p⌉, ⌈Y/p⌉, ⌈Z/p⌉, embed]`. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    const p = this.patchSize;
    const pads = [1, 2, 3].map((a) => (p - (x.shape[a] % p)) % p) as unknown as Triple;
    return this.proj.forward(padEnd3d(x, pads));
  }
}

/** A module applied to a stage input (SwinUNETR-V2's `layers{i}c`). */
export interface StageBlock extends Module {
  /** `[B, X, Y, Z, C]` → same shape. */
  forward(x: tf.Tensor5D): tf.Tensor5D;
}

/** MONAI `BasicLayer`: `depth` Swin blocks (shift 0 / ⌊w/2⌋ alternating) then the downsampling. */
export class BasicLayer extends Module {
  /** The Swin blocks. */
  readonly blocks: ModuleList<SwinTransformerBlock>;
  /** Patch merging at the end of the stage. */
  readonly downsample: PatchMerging;
  private readonly maskCache = new Map<string, tf.Tensor3D>();

  constructor(
    /** Channels. */
    readonly dim: number,
    depth: number,
    numHeads: number,
    /** The configured window. */
    readonly windowSize: Triple,
    options: { mlpRatio: number; qkvBias: boolean; drop: number; attnDrop: number; dropPath: readonly number[]; downsample: DownsampleKind; rng: Rng },
  ) {
    super();
    const shift = windowSize.map((w) => Math.floor(w / 2)) as unknown as Triple;
    const blocks: SwinTransformerBlock[] = [];
    for (let i = 0; i < depth; i++) {
      blocks.push(
        new SwinTransformerBlock(dim, numHeads, windowSize, i % 2 === 0 ? [0, 0, 0] : shift, {
          mlpRatio: options.mlpRatio,
          qkvBias: options.qkvBias,
          drop: options.drop,
          attnDrop: options.attnDrop,
          dropPath: options.dropPath[i] ?? 0,
          rng: options.rng.fork(`blocks.${i}`),
        }),
      );
    }
    this.blocks = this.addModule('blocks', new ModuleList(blocks));
    this.downsample = this.addModule('downsample', new PatchMerging(dim, options.downsample, options.rng.fork('downsample')));
  }

  /** The shift mask for an input of spatial `size` (cached per size). */
  private maskFor(size: Triple): tf.Tensor3D {
    const shift = this.windowSize.map((w) => Math.floor(w / 2)) as unknown as Triple;
    const { window, shift: s } = getWindowSize(size, this.windowSize, shift);
    const padded = [0, 1, 2].map((i) => Math.ceil(size[i] / window[i]) * window[i]) as unknown as Triple;
    const key = `${padded.join('x')}/${window.join('x')}/${s.join('x')}`;
    let mask = this.maskCache.get(key);
    if (!mask) {
      const { data, shape } = computeShiftMask(padded, window, s);
      mask = tf.keep(tf.tensor3d(data, shape));
      this.maskCache.set(key, mask);
    }
    return mask;
  }

  /** `[B, D, H, W, C]` → `[B, D/2, H/2, W/2, 2C]`. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    const mask = this.maskFor([x.shape[1], x.shape[2], x.shape[3]]);
    let y = x;
    for (const blk of this.blocks) y = blk.forward(y, mask);
    return this.downsample.forward(y);
  }

  protected override disposeOwned(): void {
    for (const m of this.maskCache.values()) m.dispose();
    this.maskCache.clear();
  }
}

/** Options of {@link SwinTransformer} (MONAI's names in camelCase). */
export interface SwinTransformerOptions {
  /** Input channels. */
  inChannels: number;
  /** Embedding size (SwinUNETR's feature size F). */
  embedDim: number;
  /** Window size per axis (default 7). */
  windowSize?: number | Triple;
  /** Patch size (default 2). */
  patchSize?: number;
  /** Blocks per stage (default [2, 2, 2, 2]). */
  depths?: readonly number[];
  /** Heads per stage (default [3, 6, 12, 24]). */
  numHeads?: readonly number[];
  /** MLP ratio (default 4). */
  mlpRatio?: number;
  /** qkv bias (default true). */
  qkvBias?: boolean;
  /** Dropout rate (default 0). */
  dropRate?: number;
  /** Attention dropout rate (default 0). */
  attnDropRate?: number;
  /** Stochastic-depth rate, spread linearly over all blocks (default 0). */
  dropPathRate?: number;
  /**
   * Downsampling (default `'merging'`, MONAI's legacy order that published weights need; see
   * {@link DownsampleKind}).
   */
  downsample?: DownsampleKind;
  /** SwinUNETR-V2: a block applied to each stage input, built by this factory (`layers{i}c`). */
  stageBlock?: (channels: number, stage: number, rng: Rng) => StageBlock;
  /** Initial weights (default seed 0). */
  rng?: Rng;
}

/**
 * MONAI `SwinTransformer` for 3-D inputs. Parameter names match MONAI's (`patch_embed.proj.weight`,
 * `layers1.0.blocks.0.attn.qkv.weight`, …). `forward` takes `[B, X, Y, Z, C]` and returns the
 * five hidden states (patch embedding and the four stage outputs), channels-last.
 */
export class SwinTransformer extends Module {
  /** Patch embedding. */
  readonly patchEmbed: PatchEmbed;
  /** The four stages (`layers1` … `layers4`, each a one-element list as in MONAI). */
  readonly stages: BasicLayer[] = [];
  /** SwinUNETR-V2 stage-input blocks (`layers1c` …), empty otherwise. */
  readonly stageBlocks: StageBlock[] = [];
  private readonly posDrop: Dropout;
  /** Channels of the five hidden states: embed·[1, 2, 4, 8, 16]. */
  readonly hiddenChannels: number[];

  constructor(readonly options: SwinTransformerOptions) {
    super();
    const depths = options.depths ?? [2, 2, 2, 2];
    const heads = options.numHeads ?? [3, 6, 12, 24];
    if (depths.length !== 4 || heads.length !== 4) {
      throw new RangeError(`SwinTransformer: expected 4 depths and 4 head counts, found depths [${depths.join(', ')}] and numHeads [${heads.join(', ')}]`);
    }
    const embed = options.embedDim;
    for (let i = 0; i < 4; i++) {
      const dim = embed * 2 ** i;
      if (dim % heads[i] !== 0) throw new RangeError(`SwinTransformer: stage ${i + 1} width ${dim} is not divisible by numHeads[${i}] = ${heads[i]}`);
    }
    const ws = options.windowSize ?? 7;
    const window: Triple = typeof ws === 'number' ? [ws, ws, ws] : ws;
    const rng = options.rng ?? Rng.fromSeed(0);
    this.patchEmbed = this.addModule('patch_embed', new PatchEmbed(options.inChannels, embed, options.patchSize ?? 2, rng.fork('patch_embed')));
    this.posDrop = this.addModule('pos_drop', new Dropout(options.dropRate ?? 0, { rng: rng.fork('pos_drop') }));
    const total = depths.reduce((a, b) => a + b, 0);
    const rate = options.dropPathRate ?? 0;
    const dpr = Array.from({ length: total }, (_, i) => (total > 1 ? (rate * i) / (total - 1) : 0));
    let offset = 0;
    for (let i = 0; i < 4; i++) {
      const stage = new BasicLayer(embed * 2 ** i, depths[i], heads[i], window, {
        mlpRatio: options.mlpRatio ?? 4,
        qkvBias: options.qkvBias ?? true,
        drop: options.dropRate ?? 0,
        attnDrop: options.attnDropRate ?? 0,
        dropPath: dpr.slice(offset, offset + depths[i]),
        downsample: options.downsample ?? 'merging',
        rng: rng.fork(`layers${i + 1}.0`),
      });
      offset += depths[i];
      this.addModule(`layers${i + 1}`, new ModuleList([stage]));
      this.stages.push(stage);
    }
    if (options.stageBlock) {
      for (let i = 0; i < 4; i++) {
        const block = options.stageBlock(embed * 2 ** i, i, rng.fork(`layers${i + 1}c.0`));
        this.addModule(`layers${i + 1}c`, new ModuleList([block]));
        this.stageBlocks.push(block);
      }
    }
    this.hiddenChannels = [1, 2, 4, 8, 16].map((m) => embed * m);
  }

  /**
   * The five hidden states `[h0, h1, h2, h3, h4]` of `x` `[B, X, Y, Z, C]`: h0 the patch embedding,
   * h_i the output of stage i (after its patch merging), each layer-normalised over channels
   * without affine when `normalize` (default true). Stages are fed the un-normalised tensors.
   */
  forward(x: tf.Tensor5D, normalize = true): tf.Tensor5D[] {
    if (x.rank !== 5 || x.shape[4] !== this.options.inChannels) {
      throw new RangeError(`SwinTransformer: expected an input [B, X, Y, Z, ${this.options.inChannels}], found shape [${x.shape.join(', ')}]`);
    }
    const out = (t: tf.Tensor5D): tf.Tensor5D => (normalize ? (layerNorm(t) as tf.Tensor5D) : t);
    let h = this.posDrop.forward(this.patchEmbed.forward(x)) as tf.Tensor5D;
    const hidden = [out(h)];
    for (let i = 0; i < 4; i++) {
      if (this.stageBlocks.length) h = this.stageBlocks[i].forward(h);
      h = this.stages[i].forward(h);
      hidden.push(out(h));
    }
    return hidden;
  }
}
