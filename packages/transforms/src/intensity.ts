/**
 * Intensity transforms (MONAI `ScaleIntensityRange`, `RandScaleIntensity`, `RandShiftIntensity`).
 * Arithmetic is float32 step by step, as PyTorch does it on a float32 tensor with Python-float
 * scalars (each scalar rounded to float32, each operation rounded to float32).
 *
 * @module
 */
import type { Volume, VoxelArray } from '@swinmm/data';
import type { Rng } from '@swinmm/runtime/random';
import { checkVolume, copyMatrix, makeVolume, where } from './geometry.js';

const f32 = Math.fround;

/** Options for {@link scaleIntensityRange} (MONAI `ScaleIntensityRange`). */
export interface ScaleIntensityRangeOptions {
  /** Input value mapped to `bMin`. */
  aMin: number;
  /** Input value mapped to `bMax`. */
  aMax: number;
  /** Output for `aMin` (default 0). */
  bMin?: number;
  /** Output for `aMax` (default 1). */
  bMax?: number;
  /** Clip the result to [bMin, bMax] (default false, as in MONAI; SwinMM sets it). */
  clip?: boolean;
}

function requireFinite(name: string, v: number, source: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${source}: ${name} must be a finite number, got ${v}`);
}

/**
 * Linear intensity window: `(x − aMin) / (aMax − aMin) · (bMax − bMin) + bMin`, optionally clipped
 * to [bMin, bMax]. SwinMM fine-tuning uses (−175, 250) → (0, 1) with clip (CT soft-tissue window),
 * pre-training (−1000, 1000) → (0, 1). Returns float32 voxels. When `aMax = aMin` MONAI returns
 * `x − aMin + bMin` (with a warning); so does this.
 */
export function scaleIntensityRange(v: Volume, options: ScaleIntensityRangeOptions): Volume<Float32Array> {
  checkVolume(v, 'scaleIntensityRange');
  const ctx = `scaleIntensityRange${where(v)}`;
  const { aMin, aMax } = options;
  const bMin = options.bMin ?? 0;
  const bMax = options.bMax ?? 1;
  requireFinite('aMin', aMin, ctx);
  requireFinite('aMax', aMax, ctx);
  requireFinite('bMin', bMin, ctx);
  requireFinite('bMax', bMax, ctx);
  const src = v.data;
  const out = new Float32Array(src.length);
  if (aMax - aMin === 0) {
    const a = f32(aMin);
    const b = f32(bMin);
    for (let i = 0; i < src.length; i++) out[i] = f32(f32(f32(src[i]) - a) + b);
    return makeVolume(out, v.shape, copyMatrix(v.affine), v.source);
  }
  const a = f32(aMin);
  const range = f32(aMax - aMin);
  const scale = f32(bMax - bMin);
  const offset = f32(bMin);
  const lo = Math.min(bMin, bMax);
  const hi = Math.max(bMin, bMax);
  for (let i = 0; i < src.length; i++) {
    let y = f32(f32(f32(src[i]) - a) / range);
    y = f32(f32(y * scale) + offset);
    if (options.clip) y = y < lo ? f32(lo) : y > hi ? f32(hi) : y;
    out[i] = y;
  }
  return makeVolume(out, v.shape, copyMatrix(v.affine), v.source);
}

/** `x · (1 + factor)` in float32 (MONAI `ScaleIntensity(factor=…)`). */
export function scaleIntensity(v: Volume, factor: number): Volume<Float32Array> {
  checkVolume(v, 'scaleIntensity');
  requireFinite('factor', factor, `scaleIntensity${where(v)}`);
  const m = f32(1 + factor);
  const out = Float32Array.from(v.data as ArrayLike<number>, (x) => f32(x * m));
  return makeVolume(out, v.shape, copyMatrix(v.affine), v.source);
}

/** `x + offset` in float32 (MONAI `ShiftIntensity`); the result is not clipped. */
export function shiftIntensity(v: Volume, offset: number): Volume<Float32Array> {
  checkVolume(v, 'shiftIntensity');
  requireFinite('offset', offset, `shiftIntensity${where(v)}`);
  const o = f32(offset);
  const out = Float32Array.from(v.data as ArrayLike<number>, (x) => f32(x + o));
  return makeVolume(out, v.shape, copyMatrix(v.affine), v.source);
}

/** Options for {@link randScaleIntensity}. */
export interface RandScaleIntensityOptions {
  /** Factor range: a number f means (−f, f) (default 0.1 as in SwinMM). */
  factors?: number | readonly [number, number];
  /** Probability of applying it (default 0.1 as in SwinMM). */
  prob?: number;
}

/** Options for {@link randShiftIntensity}. */
export interface RandShiftIntensityOptions {
  /** Offset range: a number o means (−o, o) (default 0.1 as in SwinMM). */
  offsets?: number | readonly [number, number];
  /** Probability of applying it (default 0.1 as in SwinMM). */
  prob?: number;
}

function range(r: number | readonly [number, number], name: string): [number, number] {
  if (typeof r === 'number') {
    if (!Number.isFinite(r)) throw new RangeError(`${name} must be finite, got ${r}`);
    return [-Math.abs(r), Math.abs(r)];
  }
  if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) || r[0] > r[1]) {
    throw new RangeError(`${name} must be a number or [low, high] with low ≤ high, got ${JSON.stringify(r)}`);
  }
  return [r[0], r[1]];
}

function checkProb(p: number, name: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name}: prob must be in [0, 1], got ${p}`);
}

/**
 * The random decision of {@link randScaleIntensity}, drawn as MONAI draws it: first
 * `uniform() < prob`, then (only if applied) the factor `uniform(low, high)`.
 */
export function drawScaleFactor(rng: Rng, options: RandScaleIntensityOptions = {}): number | null {
  const prob = options.prob ?? 0.1;
  checkProb(prob, 'randScaleIntensity');
  const [lo, hi] = range(options.factors ?? 0.1, 'randScaleIntensity: factors');
  if (!(rng.uniform() < prob)) return null;
  return rng.uniform(lo, hi);
}

/** The random decision of {@link randShiftIntensity}: `uniform() < prob`, then the offset. */
export function drawShiftOffset(rng: Rng, options: RandShiftIntensityOptions = {}): number | null {
  const prob = options.prob ?? 0.1;
  checkProb(prob, 'randShiftIntensity');
  const [lo, hi] = range(options.offsets ?? 0.1, 'randShiftIntensity: offsets');
  if (!(rng.uniform() < prob)) return null;
  return rng.uniform(lo, hi);
}

/**
 * With probability `prob`, multiplies the intensities by `1 + u`, u ~ U(factors) (MONAI
 * `RandScaleIntensity`; SwinMM: factors 0.1, prob 0.1). Otherwise returns `v` unchanged (the same
 * object).
 */
export function randScaleIntensity<T extends VoxelArray>(v: Volume<T>, rng: Rng, options: RandScaleIntensityOptions = {}): Volume<T> | Volume<Float32Array> {
  checkVolume(v, 'randScaleIntensity');
  const factor = drawScaleFactor(rng, options);
  return factor === null ? v : scaleIntensity(v, factor);
}

/**
 * With probability `prob`, adds u ~ U(offsets) to every intensity (MONAI `RandShiftIntensity`;
 * SwinMM: offsets 0.1, prob 0.1; no clipping afterwards). Otherwise returns `v` unchanged.
 */
export function randShiftIntensity<T extends VoxelArray>(v: Volume<T>, rng: Rng, options: RandShiftIntensityOptions = {}): Volume<T> | Volume<Float32Array> {
  checkVolume(v, 'randShiftIntensity');
  const offset = drawShiftOffset(rng, options);
  return offset === null ? v : shiftIntensity(v, offset);
}
