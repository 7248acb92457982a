/**
 * SwinMM's `SSLHead` (`Pretrain/models/ssl_head.py`, upsample `'vae'`; SPEC.md §6.4) on
 * channels-last tensors, with the official checkpoint's parameter names: `swinViT.*`,
 * `rotation_head.*`, `contrastive_head.*`, `conv.{0,4,8,12,16,20}.*`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { Conv3d, Linear, Module, instanceNorm3d, leakyRelu } from '@swinmm/nn';
import { SwinTransformer, type DownsampleKind } from '@swinmm/swin';
import { upsampleTrilinear2x } from './upsample.js';

/** Options of {@link SSLHead} (SwinMM's `args` in camelCase). */
export interface SSLHeadOptions {
  /** Input channels (1 for CT/MRI). */
  inChannels: number;
  /** Swin-ViT embedding size F (SwinMM: 48). */
  featureSize: number;
  /** Width of the last hidden state = 16·F; the heads read it (default 16·featureSize). */
  dim?: number;
  /** Swin window size (default 7). */
  windowSize?: number;
  /** Blocks per stage (default [2, 2, 2, 2]). */
  depths?: readonly number[];
  /** Heads per stage (default [3, 6, 12, 24]). */
  numHeads?: readonly number[];
  /** Stochastic depth rate (SwinMM pre-training: 0). */
  dropPathRate?: number;
  /** Patch merging order (default MONAI's legacy `'merging'`, which published weights need). */
  downsample?: DownsampleKind;
  /** Initial weights (default seed 0). */
  rng?: Rng;
}

/** What {@link SSLHead.forward} returns. */
export interface SSLHeadOutput {
  /** `[B, 4]` rotation logits (from token 0 of the last hidden state). */
  rotation: tf.Tensor2D;
  /** `[B, 512]` contrastive embedding (from token 1). */
  contrastive: tf.Tensor2D;
  /** `[B, X, Y, Z, inChannels]` reconstruction (no activation). */
  reconstruction: tf.Tensor5D;
  /** The normalised last hidden state `[B, x, y, z, 16F]`, only with `{ returnHidden: true }`. */
  hidden?: tf.Tensor5D;
}

/**
 * The reconstruction decoder, SwinMM's `nn.Sequential` named `conv`: five times
 * [Conv3d k3 (bias) → InstanceNorm3d → LeakyReLU(0.01) → trilinear ×2] with widths
 * dim → dim/2 → dim/4 → dim/8 → dim/16 → dim/16, then a 1×1 Conv3d to the input channels.
 * Children are named by their index in that Sequential (0, 4, 8, 12, 16, 20).
 */
export class ReconstructionDecoder extends Module {
  /** The six convolutions in order. */
  readonly convs: Conv3d[] = [];

  constructor(dim: number, outChannels: number, rng: Rng = Rng.fromSeed(0)) {
    super();
    if (!Number.isInteger(dim) || dim % 16 !== 0 || dim <= 0) throw new RangeError(`ReconstructionDecoder: dim must be a positive multiple of 16, found ${dim}`);
    const widths = [dim, dim / 2, dim / 4, dim / 8, dim / 16, dim / 16];
    for (let i = 0; i < 5; i++) {
      const name = String(4 * i);
      this.convs.push(this.addModule(name, new Conv3d(widths[i], widths[i + 1], 3, { padding: 1, bias: true, rng: rng.fork(name) })));
    }
    this.convs.push(this.addModule('20', new Conv3d(dim / 16, outChannels, 1, { padding: 0, bias: true, rng: rng.fork('20') })));
  }

  /** `[B, x, y, z, dim]` → `[B, 32x, 32y, 32z, outChannels]`. */
  forward(h: tf.Tensor5D): tf.Tensor5D {
    return tf.tidy(() => {
      let y = h;
      for (let i = 0; i < 5; i++) {
        y = upsampleTrilinear2x(leakyRelu(instanceNorm3d(this.convs[i].forward(y)), 0.01) as tf.Tensor5D);
      }
      return this.convs[5].forward(y);
    });
  }
}

/**
 * SwinMM's pre-training network: the Swin-ViT encoder plus a rotation head, a contrastive head
 * and a convolutional reconstruction decoder.
 *
 * @example
 * ```ts
 * const head = new SSLHead({ inChannels: 1, featureSize: 12 });
 * const { rotation, contrastive, reconstruction } = head.forward(tf.zeros([1, 64, 64, 64, 1]));
 * ```
 */
export class SSLHead extends Module {
  /** The backbone (`swinViT.*`). */
  readonly swinViT: SwinTransformer;
  /** `Linear(dim, 4)` (`rotation_head.*`). */
  readonly rotationHead: Linear;
  /** `Linear(dim, 512)` (`contrastive_head.*`). */
  readonly contrastiveHead: Linear;
  /** The decoder (`conv.*`). */
  readonly decoder: ReconstructionDecoder;
  /** Width of the last hidden state. */
  readonly dim: number;

  constructor(readonly options: SSLHeadOptions) {
    super();
    const { inChannels, featureSize } = options;
    if (!Number.isInteger(inChannels) || inChannels <= 0) throw new RangeError(`SSLHead: inChannels must be a positive integer, found ${inChannels}`);
    if (!Number.isInteger(featureSize) || featureSize <= 0) throw new RangeError(`SSLHead: featureSize must be a positive integer, found ${featureSize}`);
    this.dim = options.dim ?? 16 * featureSize;
    if (this.dim !== 16 * featureSize) {
      throw new RangeError(`SSLHead: dim must equal 16·featureSize = ${16 * featureSize} (the width of the last Swin stage), found ${this.dim}`);
    }
    const rng = options.rng ?? Rng.fromSeed(0);
    this.swinViT = this.addModule(
      'swinViT',
      new SwinTransformer({
        inChannels,
        embedDim: featureSize,
        windowSize: options.windowSize ?? 7,
        patchSize: 2,
        depths: options.depths ?? [2, 2, 2, 2],
        numHeads: options.numHeads ?? [3, 6, 12, 24],
        mlpRatio: 4,
        qkvBias: true,
        dropPathRate: options.dropPathRate ?? 0,
        downsample: options.downsample ?? 'merging',
        rng: rng.fork('swinViT'),
      }),
    );
    this.rotationHead = this.addModule('rotation_head', new Linear(this.dim, 4, { rng: rng.fork('rotation_head') }));
    this.contrastiveHead = this.addModule('contrastive_head', new Linear(this.dim, 512, { rng: rng.fork('contrastive_head') }));
    this.decoder = this.addModule('conv', new ReconstructionDecoder(this.dim, inChannels, rng.fork('conv')));
  }

  /** The normalised last hidden state `[B, x, y, z, dim]` (`swinViT(x)[4]`). */
  encode(x: tf.Tensor5D): tf.Tensor5D {
    return tf.tidy(() => this.swinViT.forward(x)[4]);
  }

  /**
   * Rotation logits, contrastive embedding and reconstruction of `x` `[B, X, Y, Z, inChannels]`
   * (SwinMM: 64³). The heads read tokens 0 and 1 of the last hidden state in row-major (X, Y, Z)
   * order, i.e. positions (0, 0, 0) and (0, 0, 1); the last hidden state needs at least 2 tokens.
   */
  forward(x: tf.Tensor5D, options: { returnHidden?: boolean } = {}): SSLHeadOutput {
    const h = this.encode(x);
    let keep = false;
    try {
      const [b, hx, hy, hz, c] = h.shape;
      if (hx * hy * hz < 2) {
        throw new RangeError(`SSLHead: the last hidden state has ${hx * hy * hz} token(s) (input [${x.shape.join(', ')}]); the heads need 2 — use inputs of at least 64³`);
      }
      const [rotation, contrastive] = tf.tidy(() => {
        const tokens = tf.reshape(h, [b, hx * hy * hz, c]);
        const t0 = tf.reshape(tf.slice(tokens, [0, 0, 0], [b, 1, c]), [b, c]);
        const t1 = tf.reshape(tf.slice(tokens, [0, 1, 0], [b, 1, c]), [b, c]);
        return [this.rotationHead.forward(t0) as tf.Tensor2D, this.contrastiveHead.forward(t1) as tf.Tensor2D];
      });
      const reconstruction = this.decoder.forward(h);
      keep = options.returnHidden === true;
      return keep ? { rotation, contrastive, reconstruction, hidden: h } : { rotation, contrastive, reconstruction };
    } finally {
      if (!keep) h.dispose();
    }
  }

  /** Names that SwinMM excludes from weight decay although they are 2-D (its `no_weight_decay()`). */
  noWeightDecay(): string[] {
    return this.namedParameters()
      .map(([n]) => n)
      .filter((n) => n.endsWith('relative_position_bias_table'));
  }
}
