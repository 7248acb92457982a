/**
 * MONAI `SwinUNETR` (SPEC.md §4.10) on channels-last tensors, with MONAI's parameter names.
 *
 * The pieces are public and separately callable ({@link SwinUNETRBase.encode},
 * {@link SwinUNETRBase.decode}) so that variants such as SwinMM's two-view segmenter can reuse the
 * encoders and decoder blocks and insert their own steps between them.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { Module } from '@swinmm/nn';
import { SwinTransformer, type DownsampleKind } from '@swinmm/swin';
import { UnetOutBlock, UnetrBasicBlock, UnetrUpBlock, type NormName } from './blocks.js';

/** Options of {@link SwinUNETR}: MONAI's constructor arguments in camelCase. */
export interface SwinUNETROptions {
  /**
   * The training patch size (validated only, as in MONAI: every entry must be divisible by 32;
   * weights do not depend on it). Default [96, 96, 96].
   */
  imgSize?: readonly [number, number, number] | number;
  /** Input channels. */
  inChannels: number;
  /** Output channels (classes). */
  outChannels: number;
  /** Blocks per Swin stage (default [2, 2, 2, 2]). */
  depths?: readonly number[];
  /** Heads per Swin stage (default [3, 6, 12, 24]). */
  numHeads?: readonly number[];
  /** Feature size F (default 24 as in MONAI; must be divisible by 12). */
  featureSize?: number;
  /** Normalisation of the convolutional blocks (default `'instance'`). */
  normName?: NormName;
  /** Dropout rate in the Swin blocks (default 0). */
  dropRate?: number;
  /** Attention dropout rate (default 0). */
  attnDropRate?: number;
  /** Stochastic-depth rate (default 0). */
  dropoutPathRate?: number;
  /** Layer-normalise the hidden states given to the decoder (default true). */
  normalize?: boolean;
  /** SwinUNETR-V2: a residual block on each Swin stage input (default false). */
  useV2?: boolean;
  /** Patch-merging variant (default `'merging'`, the legacy order published weights need). */
  downsample?: DownsampleKind;
  /** Initial weights (default seed 0). */
  rng?: Rng;
}

/** The skip features of {@link SwinUNETRBase.encode}. */
export interface SwinUNETREncoding {
  /** The five hidden states of the Swin backbone (h0 … h4), channels-last. */
  hidden: tf.Tensor5D[];
  /** encoder1(x), encoder2(h0), encoder3(h1), encoder4(h2) (enc0 … enc3). */
  enc: tf.Tensor5D[];
  /** encoder10(h4) (dec4). */
  dec4: tf.Tensor5D;
}

/** Intermediate decoder states of {@link SwinUNETRBase.decode}. */
export interface SwinUNETRDecoding {
  /** decoder5(dec4, h3). */
  dec3: tf.Tensor5D;
  /** decoder4(dec3, enc3). */
  dec2: tf.Tensor5D;
  /** decoder3(dec2, enc2). */
  dec1: tf.Tensor5D;
  /** decoder2(dec1, enc1). */
  dec0: tf.Tensor5D;
  /** decoder1(dec0, enc0). */
  out: tf.Tensor5D;
  /** The output block's logits. */
  logits: tf.Tensor5D;
}

function triple(v: readonly [number, number, number] | number): [number, number, number] {
  return typeof v === 'number' ? [v, v, v] : [v[0], v[1], v[2]];
}

/**
 * The modules and the encoder/decoder passes that MONAI's `SwinUNETR` and SwinMM's two-view
 * segmenter share: a Swin-ViT encoder (`swinViT`), UNETR residual encoders (`encoder1..4`,
 * `encoder10`), up blocks (`decoder5..1`) and a 1×1×1 output (`out`). Subclasses define `forward`.
 */
export abstract class SwinUNETRBase extends Module {
  /** The Swin backbone. */
  readonly swinViT: SwinTransformer;
  /** UnetrBasicBlock(in → F) on the image. */
  readonly encoder1: UnetrBasicBlock;
  /** (F → F) on h0. */
  readonly encoder2: UnetrBasicBlock;
  /** (2F → 2F) on h1. */
  readonly encoder3: UnetrBasicBlock;
  /** (4F → 4F) on h2. */
  readonly encoder4: UnetrBasicBlock;
  /** (16F → 16F) on h4. */
  readonly encoder10: UnetrBasicBlock;
  /** UnetrUpBlock(16F → 8F), skip h3. */
  readonly decoder5: UnetrUpBlock;
  /** (8F → 4F), skip enc3. */
  readonly decoder4: UnetrUpBlock;
  /** (4F → 2F), skip enc2. */
  readonly decoder3: UnetrUpBlock;
  /** (2F → F), skip enc1. */
  readonly decoder2: UnetrUpBlock;
  /** (F → F), skip enc0. */
  readonly decoder1: UnetrUpBlock;
  /** 1×1×1 conv (F → out) with bias. */
  readonly out: UnetOutBlock;
  /** The resolved options. */
  readonly config: Required<Omit<SwinUNETROptions, 'rng' | 'imgSize'>> & { imgSize: [number, number, number] };

  constructor(options: SwinUNETROptions) {
    super();
    const imgSize = triple(options.imgSize ?? 96);
    const featureSize = options.featureSize ?? 24;
    if (imgSize.some((s) => !Number.isInteger(s) || s <= 0 || s % 32 !== 0)) {
      throw new RangeError(`SwinUNETR: imgSize must be positive and divisible by 32 (2^5) on every axis, found [${imgSize.join(', ')}]`);
    }
    if (!Number.isInteger(featureSize) || featureSize <= 0 || featureSize % 12 !== 0) {
      throw new RangeError(`SwinUNETR: featureSize must be a positive multiple of 12, found ${featureSize}`);
    }
    for (const [what, v] of [
      ['inChannels', options.inChannels],
      ['outChannels', options.outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`SwinUNETR: ${what} must be a positive integer, found ${v}`);
    }
    for (const [what, v] of [
      ['dropRate', options.dropRate ?? 0],
      ['attnDropRate', options.attnDropRate ?? 0],
      ['dropoutPathRate', options.dropoutPathRate ?? 0],
    ] as const) {
      if (!(v >= 0 && v <= 1)) throw new RangeError(`SwinUNETR: ${what} must be in [0, 1], found ${v}`);
    }
    this.config = {
      imgSize,
      inChannels: options.inChannels,
      outChannels: options.outChannels,
      depths: options.depths ?? [2, 2, 2, 2],
      numHeads: options.numHeads ?? [3, 6, 12, 24],
      featureSize,
      normName: options.normName ?? 'instance',
      dropRate: options.dropRate ?? 0,
      attnDropRate: options.attnDropRate ?? 0,
      dropoutPathRate: options.dropoutPathRate ?? 0,
      normalize: options.normalize ?? true,
      useV2: options.useV2 ?? false,
      downsample: options.downsample ?? 'merging',
    };
    const c = this.config;
    const rng = options.rng ?? Rng.fromSeed(0);
    const F = featureSize;
    const block = (name: string, cin: number, cout: number) =>
      this.addModule(name, new UnetrBasicBlock(cin, cout, { kernelSize: 3, stride: 1, normName: c.normName, resBlock: true, rng: rng.fork(name) }));
    const up = (name: string, cin: number, cout: number) =>
      this.addModule(name, new UnetrUpBlock(cin, cout, { kernelSize: 3, normName: c.normName, resBlock: true, rng: rng.fork(name) }));
    this.swinViT = this.addModule(
      'swinViT',
      new SwinTransformer({
        inChannels: c.inChannels,
        embedDim: F,
        windowSize: 7,
        patchSize: 2,
        depths: c.depths,
        numHeads: c.numHeads,
        mlpRatio: 4,
        qkvBias: true,
        dropRate: c.dropRate,
        attnDropRate: c.attnDropRate,
        dropPathRate: c.dropoutPathRate,
        downsample: c.downsample,
        stageBlock: c.useV2 ? (ch, _stage, r) => new UnetrBasicBlock(ch, ch, { kernelSize: 3, stride: 1, normName: c.normName, resBlock: true, rng: r }) : undefined,
        rng: rng.fork('swinViT'),
      }),
    );
    this.encoder1 = block('encoder1', c.inChannels, F);
    this.encoder2 = block('encoder2', F, F);
    this.encoder3 = block('encoder3', 2 * F, 2 * F);
    this.encoder4 = block('encoder4', 4 * F, 4 * F);
    this.encoder10 = block('encoder10', 16 * F, 16 * F);
    this.decoder5 = up('decoder5', 16 * F, 8 * F);
    this.decoder4 = up('decoder4', 8 * F, 4 * F);
    this.decoder3 = up('decoder3', 4 * F, 2 * F);
    this.decoder2 = up('decoder2', 2 * F, F);
    this.decoder1 = up('decoder1', F, F);
    this.out = this.addModule('out', new UnetOutBlock(F, c.outChannels, rng.fork('out')));
  }

  /** Checks an input `[B, X, Y, Z, inChannels]` with spatial sizes divisible by 32. */
  checkInput(x: tf.Tensor): void {
    const cin = this.config.inChannels;
    if (x.rank !== 5) {
      throw new RangeError(`SwinUNETR: expected a rank-5 input [B, X, Y, Z, ${cin}] (channels-last), found rank ${x.rank} with shape [${x.shape.join(', ')}]`);
    }
    if (x.shape[4] !== cin) {
      throw new RangeError(`SwinUNETR: expected ${cin} input channel(s) on the last axis of [B, X, Y, Z, C], found shape [${x.shape.join(', ')}]`);
    }
    const spatial = x.shape.slice(1, 4);
    if (spatial.some((s) => s % 32 !== 0)) {
      throw new RangeError(`SwinUNETR: spatial sizes must be divisible by 32 (2^5), found [${spatial.join(', ')}] in input shape [${x.shape.join(', ')}]`);
    }
  }

  /** The Swin backbone and the encoder blocks: hidden states, enc0 … enc3 and dec4. */
  encode(x: tf.Tensor5D): SwinUNETREncoding {
    this.checkInput(x);
    const hidden = this.swinViT.forward(x, this.config.normalize);
    const enc = [this.encoder1.forward(x), this.encoder2.forward(hidden[0]), this.encoder3.forward(hidden[1]), this.encoder4.forward(hidden[2])];
    const dec4 = this.encoder10.forward(hidden[4]);
    return { hidden, enc, dec4 };
  }

  /**
   * The decoder from `dec4`, with skips `skip3` (h3 in MONAI's SwinUNETR; SwinMM passes its
   * `encoder5(h3)`) and `enc` (enc0 … enc3).
   */
  decode(dec4: tf.Tensor5D, skip3: tf.Tensor5D, enc: readonly tf.Tensor5D[]): SwinUNETRDecoding {
    const dec3 = this.decoder5.forward(dec4, skip3);
    const dec2 = this.decoder4.forward(dec3, enc[3]);
    const dec1 = this.decoder3.forward(dec2, enc[2]);
    const dec0 = this.decoder2.forward(dec1, enc[1]);
    const out = this.decoder1.forward(dec0, enc[0]);
    const logits = this.out.forward(out);
    return { dec3, dec2, dec1, dec0, out, logits };
  }

}

/**
 * MONAI `SwinUNETR` (see {@link SwinUNETRBase} for its parts). `forward` maps
 * `[B, X, Y, Z, inChannels]` (spatial sizes divisible by 32) to logits `[B, X, Y, Z, outChannels]`.
 */
export class SwinUNETR extends SwinUNETRBase {
  /** Logits `[B, X, Y, Z, outChannels]` of `x` `[B, X, Y, Z, inChannels]`. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return tf.tidy(() => {
      const { hidden, enc, dec4 } = this.encode(x);
      return this.decode(dec4, hidden[3], enc).logits;
    });
  }
}
