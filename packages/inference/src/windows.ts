/**
 * MONAI's sliding-window geometry (MONAI 1.2 `monai/inferers/utils.py`, `monai/data/utils.py`):
 * ROI fallback, padding of images smaller than the ROI, scan intervals, window start positions and
 * importance maps. Pure numbers, no tensors.
 *
 * @module
 */

/** How overlapping window outputs are blended. */
export type BlendMode = 'constant' | 'gaussian';

/**
 * Which MONAI's gaussian: `monai-1.2` (default; `exp(−t²/2σ²)` sampled at symmetric positions) or
 * `monai-0.9`, the map SwinMM's own inference used (a unit impulse at `n//2` blurred by a
 * truncated erf-sampled gaussian, normalised to a peak of 1; SPEC.md §8.2). Because the 0.9 peak
 * sits half a voxel off the centre, single weights differ by up to about 0.07 (at 64³, σ = 8),
 * mostly on the flanks; the blended outputs differ only where windows overlap.
 */
export type GaussianVariant = 'monai-1.2' | 'monai-0.9';

/** Spatial sizes along x, y, z. */
export type Size3 = [number, number, number];

/**
 * MONAI's `fall_back_tuple`: ROI entries that are not positive take the image's size on that axis.
 */
export function resolveRoiSize(roiSize: readonly number[], imageSize: readonly number[]): Size3 {
  if (roiSize.length !== 3 || !roiSize.every((r) => Number.isInteger(r))) {
    throw new RangeError(`roiSize: expected three integers [x, y, z] (≤ 0 = whole axis), found ${JSON.stringify(roiSize)}`);
  }
  return [0, 1, 2].map((i) => (roiSize[i] > 0 ? roiSize[i] : imageSize[i])) as Size3;
}

/**
 * Padding MONAI applies when the image is smaller than the ROI: on each axis
 * `diff = max(roi − size, 0)`, `⌊diff/2⌋` before and the rest after. Returns `[before, after]` per axis.
 */
export function roiPadding(imageSize: readonly number[], roi: readonly number[]): [number, number][] {
  return [0, 1, 2].map((i) => {
    const diff = Math.max(roi[i] - imageSize[i], 0);
    const before = Math.floor(diff / 2);
    return [before, diff - before] as [number, number];
  });
}

/**
 * MONAI's `_get_scan_interval`: `int(roi·(1 − overlap))` (at least 1), or the ROI itself on an axis
 * where the (padded) image is exactly as large as the ROI.
 */
export function scanInterval(imageSize: readonly number[], roi: readonly number[], overlap: readonly number[]): Size3 {
  return [0, 1, 2].map((i) => {
    if (roi[i] === imageSize[i]) return roi[i];
    // Math.trunc of the float product, as Python's int(): 64·(1 − 0.7) = 19.2… → 19.
    const interval = Math.trunc(roi[i] * (1 - overlap[i]));
    return interval > 0 ? interval : 1;
  }) as Size3;
}

/**
 * Window start positions along one axis (MONAI `dense_patch_slices`): `k·interval` for
 * k = 0…K where K is the first k with `k·interval + roi ≥ size`, each start clamped so the
 * window ends inside the image.
 */
export function windowStarts(size: number, roi: number, interval: number): number[] {
  if (interval === 0) return [0];
  const num = Math.ceil(size / interval);
  let count = 1;
  for (let d = 0; d < num; d++) {
    if (d * interval + roi >= size) {
      count = d + 1;
      break;
    }
  }
  const starts: number[] = [];
  for (let k = 0; k < count; k++) {
    const start = k * interval;
    starts.push(start - Math.max(start + roi - size, 0));
  }
  return starts;
}

/** Every window's start `[x, y, z]`, in MONAI's order (`meshgrid(indexing="ij")`: x slowest, z fastest). */
export function windowGrid(imageSize: readonly number[], roi: readonly number[], interval: readonly number[]): Size3[] {
  const [sx, sy, sz] = [0, 1, 2].map((i) => windowStarts(imageSize[i], roi[i], interval[i]));
  const out: Size3[] = [];
  for (const x of sx) for (const y of sy) for (const z of sz) out.push([x, y, z]);
  return out;
}

/**
 * The per-voxel weight of a window's output (MONAI 1.2 `compute_importance_map` followed by the
 * clamp in `sliding_window_inference`), z fastest, as float32:
 * - `constant`: all ones;
 * - `gaussian`: the separable product of `exp(−t²/(2σ²))` with `t = −(n−1)/2 … (n−1)/2` and
 *   `σ = sigmaScale·n` per axis (each 1-D factor rounded to float32 like torch);
 * then clamped below at `max(min, 1e-3)`, so the far corners weigh 1e-3, never 0.
 */
export function importanceMap(
  roi: readonly number[],
  mode: BlendMode = 'constant',
  sigmaScale: number | readonly number[] = 0.125,
  variant: GaussianVariant = 'monai-1.2',
): Float32Array {
  const [rx, ry, rz] = roi;
  const n = rx * ry * rz;
  const map = new Float32Array(n);
  if (mode === 'constant') {
    map.fill(1);
  } else if (mode === 'gaussian') {
    const scales = typeof sigmaScale === 'number' ? [sigmaScale, sigmaScale, sigmaScale] : sigmaScale;
    if (scales.length !== 3 || !scales.every((s) => Number.isFinite(s) && s > 0)) {
      throw new RangeError(`sigmaScale: expected a positive number or three of them, found ${JSON.stringify(sigmaScale)}`);
    }
    if (variant !== 'monai-1.2' && variant !== 'monai-0.9') {
      throw new RangeError(`gaussianVariant: expected 'monai-1.2' or 'monai-0.9', found ${JSON.stringify(variant)}`);
    }
    const profile = variant === 'monai-1.2' ? gaussian1d : blurredImpulse1d;
    const g = [0, 1, 2].map((i) => profile(roi[i], roi[i] * scales[i]));
    let k = 0;
    for (let x = 0; x < rx; x++) {
      for (let y = 0; y < ry; y++) {
        const gxy = Math.fround(g[0][x] * g[1][y]);
        for (let z = 0; z < rz; z++) map[k++] = gxy * g[2][z];
      }
    }
  } else {
    throw new RangeError(`mode: expected 'constant' or 'gaussian', found ${JSON.stringify(mode)}`);
  }
  // MONAI 1.2 clamps at max(min, 1e-3); SwinMM's 0.9-based inferer at max(smallest non-zero, 1e-3).
  const nonZeroOnly = mode === 'gaussian' && variant === 'monai-0.9';
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const v = map[i];
    if (nonZeroOnly && v === 0) continue;
    if (v < min) min = v;
  }
  const floor = Math.max(min === Infinity ? 0 : min, 1e-3);
  for (let i = 0; i < n; i++) if (map[i] < floor) map[i] = floor;
  return map;
}

/**
 * MONAI 0.9's 1-D profile: an impulse at `n//2` convolved with `GaussianFilter(σ, truncated=4,
 * approx="erf")`, whose kernel is `g[k] = ½[erf((k+½)/(σ√2)) − erf((k−½)/(σ√2))]` for
 * `|k| ≤ tail = int(max(4σ, 0.5) + 0.5)` (0 beyond), divided by its peak `g[0]`.
 */
export function blurredImpulse1d(n: number, sigma: number): Float32Array {
  const out = new Float32Array(n);
  const centre = Math.floor(n / 2);
  const tail = Math.floor(Math.max(sigma * 4, 0.5) + 0.5);
  const t = 1 / (sigma * Math.SQRT2);
  const g = (k: number) => Math.max(0, 0.5 * erfDifference(t * (k - 0.5), t * (k + 0.5)));
  const peak = g(0);
  for (let i = 0; i < n; i++) {
    const k = i - centre;
    out[i] = Math.abs(k) <= tail ? g(k) / peak : 0;
  }
  return out;
}

/** `erf(b) − erf(a)` for a ≤ b, through erfc in the tails so small differences keep their digits. */
function erfDifference(a: number, b: number): number {
  if (a >= 3) return erfc(a) - erfc(b);
  if (b <= -3) return erfc(-b) - erfc(-a);
  return erf(b) - erf(a);
}

/** erf by its Maclaurin series (|x| < 3: absolute error about 1e-14), else 1 − erfc. */
function erf(x: number): number {
  if (Math.abs(x) >= 3) return Math.sign(x) * (1 - erfc(Math.abs(x)));
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let k = 1; k < 200; k++) {
    term *= -x2 / k;
    const add = term / (2 * k + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc for x ≥ 3 by its continued fraction (Laplace), evaluated bottom-up: relative error ~1e-15. */
function erfc(x: number): number {
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

function gaussian1d(n: number, sigma: number): Float32Array {
  const out = new Float32Array(n);
  const t0 = -(n - 1) / 2;
  for (let i = 0; i < n; i++) {
    const t = Math.fround(t0 + i);
    out[i] = Math.exp((t * t) / (-2 * sigma * sigma));
  }
  return out;
}
