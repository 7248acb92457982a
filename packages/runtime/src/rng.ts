/**
 * A seeded, splittable pseudo-random generator.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna) over four 32-bit words, seeded by running splitmix32
 * from a 32-bit stream key. The key of the root generator is the seed folded to 32 bits; the key of
 * `fork(label)` is a hash of the parent's key and the label, so a child stream depends only on
 * where it sits in the fork tree, never on how many numbers the parent has drawn. Everything is
 * 32-bit integer arithmetic (`Math.imul`, `>>>`), so the same seed gives the same numbers on every
 * JavaScript engine, backend and machine.
 *
 * @module
 */
import { fnv1a32, mulberry32Mix } from './detrand.js';

// Bound once: tests run under jest's vm context, where each `Math.*` lookup in a hot loop costs
// 10-40x more than a local.
const { imul, floor, sqrt, log, cos, PI } = Math;

/** The complete, JSON-serialisable state of an {@link Rng}. */
export interface RngState {
  /** The stream key (identifies the position in the fork tree). */
  key: number;
  /** The four xoshiro128** state words. */
  words: [number, number, number, number];
}

function splitmix32(state: number): [next: number, output: number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [next, (z ^ (z >>> 16)) >>> 0];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function foldSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`Rng seed must be a safe integer, got ${seed}`);
  }
  const low = seed >>> 0;
  const high = floor(seed / 4294967296) >>> 0;
  return (low ^ imul(high, 0x9e3779b9)) >>> 0;
}

/**
 * Seeded random numbers for crops, masks, views, dropout and weight initialisation.
 *
 * @example
 * ```ts
 * const rng = Rng.fromSeed(42);
 * const crops = rng.fork('crops');      // independent stream, stable whatever rng draws later
 * const k = crops.int(0, 4);            // 0, 1, 2 or 3
 * const saved = rng.getState();
 * const again = Rng.fromState(saved);   // continues exactly where rng is
 * ```
 */
export class Rng {
  private readonly key: number;
  private readonly words: Uint32Array;

  private constructor(key: number, words?: readonly number[]) {
    this.key = key >>> 0;
    if (words) {
      this.words = Uint32Array.from(words);
    } else {
      this.words = new Uint32Array(4);
      let s = this.key;
      for (let i = 0; i < 4; i++) {
        const [next, out] = splitmix32(s);
        s = next;
        this.words[i] = out;
      }
      if (this.words.every((w) => w === 0)) this.words[0] = 1;
    }
  }

  /** A root generator for an integer seed (any safe integer). */
  static fromSeed(seed: number): Rng {
    return new Rng(foldSeed(seed));
  }

  /** Restores a generator saved with {@link Rng.getState}. */
  static fromState(state: RngState): Rng {
    if (!state || !Array.isArray(state.words) || state.words.length !== 4 || state.words.every((w) => w === 0)) {
      throw new TypeError(`invalid Rng state: expected { key, words: [4 non-all-zero uint32] }, got ${JSON.stringify(state)}`);
    }
    return new Rng(state.key, state.words);
  }

  /**
   * An independent child stream named `label`. Forking the same label from the same stream gives
   * the same child, regardless of how much the parent has been used.
   */
  fork(label: string): Rng {
    return new Rng(mulberry32Mix((this.key ^ imul(fnv1a32(label), 0x85ebca6b)) >>> 0));
  }

  /** A snapshot of the state, plain JSON. */
  getState(): RngState {
    const [a, b, c, d] = this.words;
    return { key: this.key, words: [a, b, c, d] };
  }

  /** The next raw 32-bit output of xoshiro128**. */
  nextUint32(): number {
    const s = this.words;
    const result = imul(rotl(imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A double uniform in [lo, hi) with 53 random bits. */
  uniform(lo = 0, hi = 1): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    const u = (a * 67108864 + b) / 9007199254740992;
    return lo + (hi - lo) * u;
  }

  /** A normal deviate (Box–Muller, two uniforms per call, no cached spare). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    return mean + std * sqrt(-2 * log(u1)) * cos(2 * PI * u2);
  }

  /** An integer uniform in [lo, hi) (unbiased, by rejection). */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi <= lo) {
      throw new RangeError(`Rng.int needs integers lo < hi, got [${lo}, ${hi})`);
    }
    const range = hi - lo;
    if (range <= 4294967296) {
      const limit = 4294967296 - (4294967296 % range);
      let x = this.nextUint32();
      while (x >= limit) x = this.nextUint32();
      return lo + (x % range);
    }
    return lo + floor(this.uniform() * range);
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** One element of `items`, uniformly, or with the given non-negative `weights`. */
  choice<T>(items: readonly T[], weights?: readonly number[]): T {
    if (items.length === 0) throw new RangeError('Rng.choice needs a non-empty array');
    if (!weights) return items[this.int(0, items.length)];
    if (weights.length !== items.length) {
      throw new RangeError(`Rng.choice: ${items.length} items but ${weights.length} weights`);
    }
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new RangeError('Rng.choice: weights must sum to a positive number');
    let r = this.uniform(0, total);
    for (let i = 0; i < items.length; i++) {
      r -= weights[i];
      if (r < 0) return items[i];
    }
    return items[items.length - 1];
  }

  /** A shuffled copy of `items` (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** A random permutation of 0 … n−1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** `count` floats uniform in [lo, hi). */
  uniformArray(count: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  /** `count` floats from N(mean, std²). */
  normalArray(count: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal(mean, std);
    return out;
  }
}
