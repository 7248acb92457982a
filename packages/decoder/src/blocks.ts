/**
 * MONAI's UNETR convolutional blocks on channels-last `[B, X, Y, Z, C]` (SPEC.md §4.9), with
 * MONAI's parameter names (`layer.conv1.conv.weight`, `transp_conv.conv.weight`, …).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { Conv3d, ConvTranspose3d, Module, concatChannels, instanceNorm3d, leakyRelu } from '@swinmm/nn';

/** The normalisations the blocks support: MONAI's `"instance"` (InstanceNorm3d, affine=False). */
export type NormName = 'instance';

function checkNorm(normName: string): NormName {
  if (normName !== 'instance') {
    throw new RangeError(`normName: expected 'instance' (InstanceNorm3d without affine, MONAI's default for SwinUNETR), found '${normName}'`);
  }
  return normName;
}

/**
 * Instance norm with MONAI/PyTorch's refusal of a single spatial element (PyTorch raises
 * "Expected more than 1 spatial element" in training and evaluation alike, since
 * InstanceNorm3d keeps no running statistics).
 */
function norm(x: tf.Tensor, where: string): tf.Tensor {
  const s = x.shape as number[];
  const spatial = s[1] * s[2] * s[3];
  if (spatial <= 1) {
    throw new RangeError(`${where}: instance norm needs more than 1 spatial element, found input shape [${x.shape.join(', ')}] (use larger inputs, e.g. at least 64 along two axes for SwinUNETR)`);
  }
  return instanceNorm3d(x);
}

/**
 * MONAI's `Convolution(conv_only=True)` wrapper: a module whose only child is `conv`, so that the
 * parameter names are `<name>.conv.weight` as in MONAI checkpoints.
 */
export class ConvOnly extends Module {
  /** The convolution. */
  readonly conv: Conv3d;

  constructor(inChannels: number, outChannels: number, kernelSize: number, options: { stride?: number; bias?: boolean; rng: Rng }) {
    super();
    this.conv = this.addModule('conv', new Conv3d(inChannels, outChannels, kernelSize, { stride: options.stride, bias: options.bias ?? false, rng: options.rng.fork('conv') }));
  }

  /** The convolution of `x`. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return this.conv.forward(x);
  }
}

/** MONAI's transposed `Convolution` wrapper (k2 s2, no bias): parameter `conv.weight` `[in, out, 2, 2, 2]`. */
export class TransposedConvOnly extends Module {
  /** The transposed convolution. */
  readonly conv: ConvTranspose3d;

  constructor(inChannels: number, outChannels: number, rng: Rng) {
    super();
    this.conv = this.addModule('conv', new ConvTranspose3d(inChannels, outChannels, { rng: rng.fork('conv') }));
  }

  /** `[B, X, Y, Z, in]` → `[B, 2X, 2Y, 2Z, out]`. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return this.conv.forward(x);
  }
}

/** Options shared by the blocks. */
export interface BlockOptions {
  /** Kernel size (default 3). */
  kernelSize?: number;
  /** Stride of the first convolution (default 1). */
  stride?: number;
  /** Normalisation (default `'instance'`). */
  normName?: NormName;
  /** Initial weights (default seed 0). */
  rng?: Rng;
}

/** A block mapping `[B, X, Y, Z, in]` to `[B, X', Y', Z', out]`. */
export interface ConvBlock extends Module {
  /** Applies the block. */
  forward(x: tf.Tensor5D): tf.Tensor5D;
}

/**
 * MONAI `UnetResBlock`: `lrelu(IN(conv2(lrelu(IN(conv1(x))))) + r)` with `r = IN(conv3(x))`
 * (1×1×1, stride) when the channels or stride change, else `x`. All convolutions bias-free,
 * LeakyReLU slope 0.01.
 */
export class UnetResBlock extends Module implements ConvBlock {
  /** k×k×k, in → out, stride. */
  readonly conv1: ConvOnly;
  /** k×k×k, out → out. */
  readonly conv2: ConvOnly;
  /** 1×1×1 residual projection, when in ≠ out or stride ≠ 1. */
  readonly conv3: ConvOnly | null;

  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels. */
    readonly outChannels: number,
    options: BlockOptions = {},
  ) {
    super();
    checkNorm(options.normName ?? 'instance');
    const rng = options.rng ?? Rng.fromSeed(0);
    const k = options.kernelSize ?? 3;
    const stride = options.stride ?? 1;
    this.conv1 = this.addModule('conv1', new ConvOnly(inChannels, outChannels, k, { stride, rng: rng.fork('conv1') }));
    this.conv2 = this.addModule('conv2', new ConvOnly(outChannels, outChannels, k, { rng: rng.fork('conv2') }));
    this.conv3 = inChannels !== outChannels || stride !== 1 ? this.addModule('conv3', new ConvOnly(inChannels, outChannels, 1, { stride, rng: rng.fork('conv3') })) : null;
  }

  /** Applies the residual block. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new RangeError(`UnetResBlock: expected an input [B, X, Y, Z, ${this.inChannels}], found shape [${x.shape.join(', ')}]`);
    }
    const name = 'UnetResBlock';
    // A tidy per block frees the full-resolution intermediates when the block returns (inference
    // memory); under a gradient tape the engine keeps what backward needs.
    return tf.tidy(() => {
      let y = leakyRelu(norm(this.conv1.forward(x), name));
      y = norm(this.conv2.forward(y as tf.Tensor5D), name);
      const residual = this.conv3 ? norm(this.conv3.forward(x), name) : x;
      return leakyRelu(tf.add(y, residual)) as tf.Tensor5D;
    });
  }
}

/** MONAI `UnetBasicBlock`: `lrelu(IN(conv2(lrelu(IN(conv1(x))))))` (no residual). */
export class UnetBasicBlock extends Module implements ConvBlock {
  /** k×k×k, in → out, stride. */
  readonly conv1: ConvOnly;
  /** k×k×k, out → out. */
  readonly conv2: ConvOnly;

  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels. */
    readonly outChannels: number,
    options: BlockOptions = {},
  ) {
    super();
    checkNorm(options.normName ?? 'instance');
    const rng = options.rng ?? Rng.fromSeed(0);
    const k = options.kernelSize ?? 3;
    this.conv1 = this.addModule('conv1', new ConvOnly(inChannels, outChannels, k, { stride: options.stride ?? 1, rng: rng.fork('conv1') }));
    this.conv2 = this.addModule('conv2', new ConvOnly(outChannels, outChannels, k, { rng: rng.fork('conv2') }));
  }

  /** Applies the block. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new RangeError(`UnetBasicBlock: expected an input [B, X, Y, Z, ${this.inChannels}], found shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const y = leakyRelu(norm(this.conv1.forward(x), 'UnetBasicBlock'));
      return leakyRelu(norm(this.conv2.forward(y as tf.Tensor5D), 'UnetBasicBlock')) as tf.Tensor5D;
    });
  }
}

/** Options of {@link UnetrBasicBlock} and {@link UnetrUpBlock}. */
export interface UnetrBlockOptions extends BlockOptions {
  /** Residual variant (default true, what SwinUNETR uses). */
  resBlock?: boolean;
}

/** MONAI `UnetrBasicBlock`: a `layer` that is a {@link UnetResBlock} (or {@link UnetBasicBlock} without `resBlock`). */
export class UnetrBasicBlock extends Module implements ConvBlock {
  /** The wrapped block. */
  readonly layer: UnetResBlock | UnetBasicBlock;

  constructor(inChannels: number, outChannels: number, options: UnetrBlockOptions = {}) {
    super();
    const rng = options.rng ?? Rng.fromSeed(0);
    const inner = { ...options, rng: rng.fork('layer') };
    this.layer = this.addModule('layer', options.resBlock === false ? new UnetBasicBlock(inChannels, outChannels, inner) : new UnetResBlock(inChannels, outChannels, inner));
  }

  /** Applies the block. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return this.layer.forward(x);
  }
}

/**
 * MONAI `UnetrUpBlock`: `transp_conv` (ConvTranspose3d k2 s2, no bias) → concat with the skip
 * along channels (upsampled first) → `conv_block` ({@link UnetResBlock} 2·out → out).
 */
export class UnetrUpBlock extends Module {
  /** The ×2 upsampling. */
  readonly transpConv: TransposedConvOnly;
  /** The block after the concatenation. */
  readonly convBlock: UnetResBlock | UnetBasicBlock;

  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels (and the skip's channels). */
    readonly outChannels: number,
    options: UnetrBlockOptions = {},
  ) {
    super();
    const rng = options.rng ?? Rng.fromSeed(0);
    this.transpConv = this.addModule('transp_conv', new TransposedConvOnly(inChannels, outChannels, rng.fork('transp_conv')));
    const inner = { ...options, stride: 1, rng: rng.fork('conv_block') };
    this.convBlock = this.addModule(
      'conv_block',
      options.resBlock === false ? new UnetBasicBlock(2 * outChannels, outChannels, inner) : new UnetResBlock(2 * outChannels, outChannels, inner),
    );
  }

  /** `x` `[B, X, Y, Z, in]` and `skip` `[B, 2X, 2Y, 2Z, out]` → `[B, 2X, 2Y, 2Z, out]`. */
  forward(x: tf.Tensor5D, skip: tf.Tensor5D): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new RangeError(`UnetrUpBlock: expected an input [B, X, Y, Z, ${this.inChannels}], found shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const up = this.transpConv.forward(x);
      if (skip.rank !== 5 || skip.shape.some((s, i) => (i < 4 ? s !== up.shape[i] : s !== this.outChannels))) {
        throw new RangeError(`UnetrUpBlock: expected a skip [${[...up.shape.slice(0, 4), this.outChannels].join(', ')}], found [${skip.shape.join(', ')}]`);
      }
      return this.convBlock.forward(concatChannels([up, skip]) as tf.Tensor5D);
    });
  }
}

/** MONAI `UnetOutBlock`: a 1×1×1 convolution with bias, parameters `conv.conv.{weight,bias}`. */
export class UnetOutBlock extends Module {
  /** The wrapped convolution. */
  readonly conv: ConvOnly;

  constructor(inChannels: number, outChannels: number, rng: Rng = Rng.fromSeed(0)) {
    super();
    this.conv = this.addModule('conv', new ConvOnly(inChannels, outChannels, 1, { bias: true, rng: rng.fork('conv') }));
  }

  /** `[B, X, Y, Z, in]` → `[B, X, Y, Z, out]`. */
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return this.conv.forward(x);
  }
}
