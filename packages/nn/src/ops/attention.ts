/**
 * The window-attention formulation of the Swin Transformer (SPEC.md §4.3).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { implementationFor } from './registry.js';
import { jsWindowAttention } from './attention-js.js';

/** Inputs of {@link windowAttention}. */
export interface WindowAttentionInputs {
  /** The projected tokens `[Bw, n, 3·C]`, channels ordered (3, heads, headDim) as PyTorch's qkv. */
  qkv: tf.Tensor3D;
  /** The number of heads. */
  heads: number;
  /**
   * The relative-position bias `[n, n, heads]` (the layout of rows gathered from a bias table), or
   * null: `bias[i, j, h]` is added to head h's logit of query i and key j.
   */
  bias: tf.Tensor3D | null;
  /** The shifted-window mask `[nW, n, n]` (0 or −100), or null; `Bw` must be a multiple of `nW`. */
  mask: tf.Tensor3D | null;
  /** The query scale (`headDim^−0.5`). */
  scale: number;
  /** Applied to the attention probabilities `[Bw, heads, n, n]` (attention dropout), if given. */
  dropProbs?: (probs: tf.Tensor) => tf.Tensor;
  /**
   * Optional hint `[Bw·n]`: a negative entry marks a query row whose output the caller discards
   * (a window's padding tokens). Implementations may skip those rows (the fused JavaScript kernel
   * returns zeros there); every other row is unaffected, and the row still serves as a key.
   */
  discardedRows?: Int32Array;
}

/** The signature of a window-attention implementation. */
export type WindowAttentionImplementation = (inputs: WindowAttentionInputs) => tf.Tensor3D;

/**
 * The tfjs formulation of {@link windowAttention}: batched matMuls without transpose flags and
 * tfjs softmax (the default on every backend except `cpu`).
 */
export function tfjsWindowAttention({ qkv, heads, bias, mask, scale, dropProbs }: WindowAttentionInputs): tf.Tensor3D {
  const [bw, n, c3] = qkv.shape;
  const c = c3 / 3;
  const hd = c / heads;
  // [Bw, n, 3, h, hd] → [3, Bw, h, n, hd] → three [Bw·h, n, hd]; k goes straight to [Bw·h, hd, n]
  // so that both products are plain batched matMuls (no transpose flags).
  const t = tf.transpose(tf.reshape(qkv, [bw, n, 3, heads, hd]), [2, 0, 3, 1, 4]);
  const [q, k, v] = tf.split(tf.reshape(t, [3, bw * heads, n, hd]), 3, 0).map((s) => tf.reshape(s, [bw * heads, n, hd]) as tf.Tensor3D);
  const kT = tf.transpose(k, [0, 2, 1]) as tf.Tensor3D;
  let a: tf.Tensor = tf.reshape(tf.matMul(tf.mul(q, scale), kT), [bw, heads, n, n]);
  if (bias) a = tf.add(a, tf.transpose(bias, [2, 0, 1]));
  if (mask) {
    const nW = mask.shape[0];
    a = tf.reshape(tf.add(tf.reshape(a, [bw / nW, nW, heads, n, n]), tf.reshape(mask, [nW, 1, n, n])), [bw, heads, n, n]);
  }
  let probs = tf.softmax(a);
  if (dropProbs) probs = dropProbs(probs);
  const p = tf.reshape(probs, [bw * heads, n, n]) as tf.Tensor3D;
  const o = tf.reshape(tf.matMul(p, v), [bw, heads, n, hd]);
  return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [bw, n, c]) as tf.Tensor3D;
}

/** Backends whose built-in window attention is the fused JavaScript kernel. */
const JS_ATTENTION_BACKENDS = new Set(['cpu', 'wasm']);

/**
 * Multi-head self-attention inside each window, PyTorch's order of operations:
 * `softmax((q·scale)·kᵀ + bias + mask)·v`, heads concatenated → `[Bw, n, C]` (before the output
 * projection). Dispatches to the implementation registered for the current backend.
 *
 * @throws RangeError when the shapes do not fit together.
 */
export function windowAttention(inputs: WindowAttentionInputs): tf.Tensor3D {
  const { qkv, heads, bias, mask } = inputs;
  const [bw, n, c3] = qkv.shape;
  if (qkv.rank !== 3 || c3 % (3 * heads) !== 0) {
    throw new RangeError(`windowAttention: expected qkv [Bw, n, 3·C] with C divisible by ${heads} heads, found shape [${qkv.shape.join(', ')}]`);
  }
  if (bias && (bias.shape[0] !== n || bias.shape[1] !== n || bias.shape[2] !== heads)) {
    throw new RangeError(`windowAttention: expected bias [${n}, ${n}, ${heads}], found [${bias.shape.join(', ')}]`);
  }
  if (inputs.discardedRows && inputs.discardedRows.length !== bw * n) {
    throw new RangeError(`windowAttention: expected discardedRows of ${bw}·${n} = ${bw * n} entries, found ${inputs.discardedRows.length}`);
  }
  if (mask && (mask.shape[1] !== n || mask.shape[2] !== n || bw % mask.shape[0] !== 0)) {
    throw new RangeError(`windowAttention: expected mask [nW, ${n}, ${n}] with nW dividing ${bw} windows, found [${mask.shape.join(', ')}]`);
  }
  // On cpu and wasm the fused JavaScript kernel is faster than the tfjs kernels and never
  // materialises the [Bw, heads, n, n] logits (wasm aborts on their memory in training at 64³;
  // see attention-js.ts).
  const builtIn = JS_ATTENTION_BACKENDS.has(tf.getBackend()) ? (i: WindowAttentionInputs) => jsWindowAttention(i, tfjsWindowAttention) : tfjsWindowAttention;
  return implementationFor<WindowAttentionImplementation>('windowAttention', builtIn)(inputs);
}
