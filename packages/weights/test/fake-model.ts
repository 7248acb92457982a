// A small Module with exactly the parameter names (and PyTorch shapes) of the entries of
// swinunetr_small_ddp_mini.pt, built from @swinmm/nn layers, so that loading and exporting can be
// tested on the real file before the full SwinUNETR exists.
import * as tf from '@tensorflow/tfjs';
import { Conv3d, Module } from '@swinmm/nn';
import { Rng } from '@swinmm/runtime';
import { relativePositionIndex } from '@swinmm/swin';

/** The parameter and buffer of a Swin window attention with a 7³ window (what the file holds). */
class Attn extends Module {
  constructor(heads: number) {
    super();
    this.addParameter('relative_position_bias_table', tf.zeros([13 * 13 * 13, heads]));
    this.addConstant('relative_position_index', { shape: [343, 343], values: relativePositionIndex([7, 7, 7]) });
  }
}
class Named extends Module {
  constructor(children: [string, Module][]) {
    super();
    for (const [n, m] of children) this.addModule(n, m);
  }
}

/** swinViT.patch_embed.proj (Conv3d 1→12 k2), swinViT.layers1.0.blocks.0.attn (table + index), out.conv.conv (Conv3d 12→3 k1). */
export function miniModel(seed = 1): Module {
  const rng = Rng.fromSeed(seed);
  const proj = new Conv3d(1, 12, 2, { stride: 2, bias: true, rng: rng.fork('proj') });
  const out = new Conv3d(12, 3, 1, { bias: true, rng: rng.fork('out') });
  return new Named([
    ['swinViT', new Named([
      ['patch_embed', new Named([['proj', proj]])],
      ['layers1', new Named([['0', new Named([['blocks', new Named([['0', new Named([['attn', new Attn(3)]])]])]])]])],
    ])],
    ['out', new Named([['conv', new Named([['conv', out]])]])],
  ]);
}
