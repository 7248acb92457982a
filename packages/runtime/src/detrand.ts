/**
 * detrand: the counter-based generator that produced every weight and input of the reference
 * fixtures. One float per element, computed from the tensor's name, a seed and the element's flat
 * C-order index, so any element of any tensor can be regenerated bit-exactly without state.
 *
 * Algorithm (all integer arithmetic is unsigned 32-bit, wrapping):
 * - key = fnv1a32(utf8(name)) XOR imul(seed, 0x9E3779B9)
 * - x = key + imul(i, 0x6D2B79F5); z = mulberry32's output function of x
 * - u = 2·z / 2³² − 1 ∈ [−1, 1); value = float32(base + u·scale), rounded once.
 *
 * @module
 */

// Bound once: tests run under jest's vm context, where each `Math.*` lookup in a hot loop costs
// 10-40x more than a local.
const { imul, sqrt } = Math;

/** FNV-1a 32-bit hash of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** mulberry32's output (finalising) function applied to a 32-bit counter value. */
export function mulberry32Mix(x: number): number {
  let t = imul(x ^ (x >>> 15), x | 1) >>> 0;
  t = (t ^ ((t + imul(t ^ (t >>> 7), t | 61)) >>> 0)) >>> 0;
  return (t ^ (t >>> 14)) >>> 0;
}

/** The per-stream key: `fnv1a32(name) XOR imul(seed, 0x9E3779B9)`. */
export function detrandKey(name: string, seed: number): number {
  return (fnv1a32(name) ^ imul(seed, 0x9e3779b9)) >>> 0;
}

/** The raw uint32 value `z_i` of element `index` of stream (`name`, `seed`). */
export function detrandUint32(name: string, seed: number, index: number): number {
  const key = detrandKey(name, seed);
  return mulberry32Mix((key + imul(index, 0x6d2b79f5)) >>> 0);
}

/**
 * Fills a float32 array with `base + u·scale`, u uniform in [−1, 1), for every element of a tensor
 * of `shape` in C order.
 *
 * @example
 * ```ts
 * const x = detrandUniform('input', [1, 1, 64, 32, 64], 0); // the swinunetr-small input
 * ```
 */
export function detrandUniform(name: string, shape: readonly number[], seed: number, base = 0, scale = 1): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const key = detrandKey(name, seed);
  for (let i = 0; i < size; i++) {
    const z = mulberry32Mix((key + imul(i, 0x6d2b79f5)) >>> 0);
    out[i] = base + ((2 * z) / 4294967296 - 1) * scale;
  }
  return out;
}

/** Base and scale that the fixtures' weight rule assigns to a parameter. */
export interface DetrandRule {
  base: number;
  scale: number;
}

/**
 * The fixtures' weight rule, checked in order: relative-position bias tables U(±0.5); 1-D `.weight`
 * (LayerNorm γ) 1 ± 0.1; `.bias` ± 0.05; anything else U(±√(3 / prod(shape[1:]))).
 */
export function detrandWeightRule(name: string, shape: readonly number[]): DetrandRule {
  if (name.endsWith('relative_position_bias_table')) return { base: 0, scale: 0.5 };
  if (shape.length === 1 && name.endsWith('.weight')) return { base: 1, scale: 0.1 };
  if (name.endsWith('.bias')) return { base: 0, scale: 0.05 };
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return { base: 0, scale: sqrt(3 / fanIn) };
}

/** The value the fixtures give parameter `name` of PyTorch `shape` under `seed` (PyTorch layout). */
export function detrandParameter(name: string, shape: readonly number[], seed: number): Float32Array {
  const { base, scale } = detrandWeightRule(name, shape);
  return detrandUniform(name, shape, seed, base, scale);
}
