/**
 * Layer modules with PyTorch's parameter names, shapes (in PyTorch layout at weight I/O) and
 * default initialisation.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@swinmm/runtime';
import { Module } from './module.js';
import { defaultInitBound, uniformInit } from './init.js';
import { linear } from './ops/linear.js';
import { conv3d, convTranspose3dK2S2 } from './ops/conv.js';
import { dropPath, dropout, gelu, instanceNorm3d, layerNorm, leakyRelu } from './functional.js';

/** The random source of a layer's initial weights (default: seed 0). */
export interface InitOptions {
  /** Where initial weights come from; fork it per layer for order-independent draws. */
  rng?: Rng;
}

function rngOf(options: InitOptions): Rng {
  return options.rng ?? Rng.fromSeed(0);
}

function checkPositiveInt(what: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${what}: expected a positive integer, found ${value}`);
}

/** Options of {@link Linear}. */
export interface LinearOptions extends InitOptions {
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
}

/** PyTorch `nn.Linear(in, out, bias)`: parameters `weight` `[out, in]` (ours `[in, out]`) and `bias` `[out]`. */
export class Linear extends Module {
  /** The weight, our layout `[in, out]`. */
  readonly weight: tf.Variable;
  /** The bias `[out]`, if any. */
  readonly bias: tf.Variable | null;

  constructor(
    /** Input features. */
    readonly inFeatures: number,
    /** Output features. */
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    checkPositiveInt('Linear inFeatures', inFeatures);
    checkPositiveInt('Linear outFeatures', outFeatures);
    const rng = rngOf(options);
    const bound = defaultInitBound(inFeatures);
    this.weight = this.addParameter('weight', uniformInit(rng.fork('weight'), [inFeatures, outFeatures], bound), 'linear');
    this.bias = options.bias === false ? null : this.addParameter('bias', uniformInit(rng.fork('bias'), [outFeatures], bound));
  }

  /** `x · W + b` over the last axis of `x` `[..., in]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return linear(x, this.weight as tf.Tensor2D, (this.bias ?? undefined) as tf.Tensor1D | undefined);
  }
}

/** Options of {@link Conv3d}. */
export interface Conv3dLayerOptions extends InitOptions {
  /** Stride (default 1). */
  stride?: number;
  /** Zero padding per side (default `⌊(k − stride + 1)/2⌋`, MONAI's `get_padding`). */
  padding?: number;
  /** Whether the layer has a bias (default false, as MONAI's `get_conv_layer`). */
  bias?: boolean;
}

/**
 * PyTorch `nn.Conv3d(in, out, k, stride, padding, bias)` on channels-last `[B, X, Y, Z, C]`:
 * parameters `weight` `[out, in, k, k, k]` (ours `[k, k, k, in, out]`) and optional `bias`.
 */
export class Conv3d extends Module {
  /** The filter, our layout `[k, k, k, in, out]`. */
  readonly weight: tf.Variable;
  /** The bias `[out]`, if any. */
  readonly bias: tf.Variable | null;
  /** Stride on every axis. */
  readonly stride: number;
  /** Padding on every side. */
  readonly padding: number;

  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels. */
    readonly outChannels: number,
    /** Kernel size on every axis. */
    readonly kernelSize: number,
    options: Conv3dLayerOptions = {},
  ) {
    super();
    checkPositiveInt('Conv3d inChannels', inChannels);
    checkPositiveInt('Conv3d outChannels', outChannels);
    checkPositiveInt('Conv3d kernelSize', kernelSize);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? Math.floor((kernelSize - this.stride + 1) / 2);
    const rng = rngOf(options);
    const k = kernelSize;
    const bound = defaultInitBound(inChannels * k * k * k);
    this.weight = this.addParameter('weight', uniformInit(rng.fork('weight'), [k, k, k, inChannels, outChannels], bound), 'conv3d');
    this.bias = options.bias ? this.addParameter('bias', uniformInit(rng.fork('bias'), [outChannels], bound)) : null;
  }

  /** The convolution of `x` `[B, X, Y, Z, in]`. */
  forward(x: tf.Tensor): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new RangeError(`Conv3d: expected an input [B, X, Y, Z, ${this.inChannels}], found shape [${x.shape.join(', ')}]`);
    }
    return conv3d(x as tf.Tensor5D, this.weight as tf.Tensor5D, (this.bias ?? undefined) as tf.Tensor1D | undefined, {
      stride: this.stride,
      padding: this.padding,
    });
  }
}

/**
 * PyTorch `nn.ConvTranspose3d(in, out, kernel_size=2, stride=2)` on channels-last tensors:
 * parameters `weight` `[in, out, 2, 2, 2]` (ours `[2, 2, 2, out, in]`) and optional `bias`.
 * Only kernel 2 / stride 2 exists here (all SwinUNETR uses), computed as an exact matMul.
 */
export class ConvTranspose3d extends Module {
  /** The filter, our layout `[2, 2, 2, out, in]`. */
  readonly weight: tf.Variable;
  /** The bias `[out]`, if any. */
  readonly bias: tf.Variable | null;

  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels. */
    readonly outChannels: number,
    options: InitOptions & { bias?: boolean } = {},
  ) {
    super();
    checkPositiveInt('ConvTranspose3d inChannels', inChannels);
    checkPositiveInt('ConvTranspose3d outChannels', outChannels);
    const rng = rngOf(options);
    // PyTorch computes fan_in from weight.size(1) = out channels for transposed convolutions.
    const bound = defaultInitBound(outChannels * 8);
    this.weight = this.addParameter('weight', uniformInit(rng.fork('weight'), [2, 2, 2, outChannels, inChannels], bound), 'convTranspose3d');
    this.bias = options.bias ? this.addParameter('bias', uniformInit(rng.fork('bias'), [outChannels], bound)) : null;
  }

  /** `[B, X, Y, Z, in]` → `[B, 2X, 2Y, 2Z, out]`. */
  forward(x: tf.Tensor): tf.Tensor5D {
    return convTranspose3dK2S2(x as tf.Tensor5D, this.weight as tf.Tensor5D, (this.bias ?? undefined) as tf.Tensor1D | undefined);
  }
}

/** PyTorch `nn.LayerNorm(C, eps)` over the last axis: parameters `weight` (γ = 1) and `bias` (β = 0). */
export class LayerNorm extends Module {
  /** γ `[C]`. */
  readonly weight: tf.Variable;
  /** β `[C]`. */
  readonly bias: tf.Variable;

  constructor(
    /** The normalised size (last axis). */
    readonly normalizedShape: number,
    /** Added to the variance (default 1e-5). */
    readonly eps = 1e-5,
  ) {
    super();
    checkPositiveInt('LayerNorm normalizedShape', normalizedShape);
    this.weight = this.addParameter('weight', tf.ones([normalizedShape]));
    this.bias = this.addParameter('bias', tf.zeros([normalizedShape]));
  }

  /** Normalises the last axis of `x`. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.normalizedShape) {
      throw new RangeError(`LayerNorm: expected the last axis to be ${this.normalizedShape}, found shape [${x.shape.join(', ')}]`);
    }
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** PyTorch `nn.InstanceNorm3d(C, affine=False)` on `[B, X, Y, Z, C]` (no parameters, no running stats). */
export class InstanceNorm3d extends Module {
  constructor(
    /** Added to the variance (default 1e-5). */
    readonly eps = 1e-5,
  ) {
    super();
  }

  /** Normalises each channel of each sample over the spatial axes. */
  forward(x: tf.Tensor): tf.Tensor {
    return instanceNorm3d(x, this.eps);
  }
}

/** PyTorch `nn.Dropout(p)`: active in training mode only; draws come from the given Rng. */
export class Dropout extends Module {
  private readonly rng: Rng;

  constructor(
    /** The drop probability. */
    readonly p: number,
    options: InitOptions = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: expected a probability in [0, 1], found ${p}`);
    this.rng = rngOf(options);
  }

  /** Identity in evaluation mode or when p = 0. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.training && this.p > 0 ? dropout(x, this.p, this.rng) : x;
  }
}

/** Stochastic depth per sample (timm `DropPath`): active in training mode only. */
export class DropPath extends Module {
  private readonly rng: Rng;

  constructor(
    /** The probability of dropping a sample's branch. */
    readonly p: number,
    options: InitOptions = {},
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`DropPath: expected a probability in [0, 1), found ${p}`);
    this.rng = rngOf(options);
  }

  /** Identity in evaluation mode or when p = 0. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.training && this.p > 0 ? dropPath(x, this.p, this.rng) : x;
  }
}

/** PyTorch `nn.GELU()` (exact erf form). */
export class GELU extends Module {
  /** `0.5·x·(1 + erf(x/√2))`. */
  forward(x: tf.Tensor): tf.Tensor {
    return gelu(x);
  }
}

/** PyTorch `nn.LeakyReLU(slope)` (MONAI blocks use 0.01). */
export class LeakyReLU extends Module {
  constructor(
    /** The negative slope (default 0.01). */
    readonly slope = 0.01,
  ) {
    super();
  }

  /** `max(x, slope·x)`. */
  forward(x: tf.Tensor): tf.Tensor {
    return leakyRelu(x, this.slope);
  }
}
