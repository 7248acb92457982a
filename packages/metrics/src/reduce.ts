/**
 * Reductions of surface distances to scalar metrics, with MONAI 1.2's conventions.
 *
 * @module
 */
import type { SurfaceDistances } from './surface.js';

/**
 * numpy's default (`method="linear"`) percentile of `values` (0 ≤ q ≤ 100): sort, then
 * interpolate linearly between the two order statistics around `q/100·(n − 1)`.
 * `NaN` for an empty array. `values` is not modified.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile: expected q in [0, 100], found ${q}`);
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const t = pos - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  if (t === 0 || a === b) return a;
  // numpy's _lerp: a + (b − a)·t, evaluated from the nearer end for accuracy.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

function maxOf(values: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/**
 * MONAI's `compute_percent_hausdorff_distance` on one direction: `NaN` when there is no distance,
 * the maximum when `percentile` is undefined **or 0** (MONAI tests `if not percentile`, so 0 means
 * "maximum" there too), else the linear-interpolated percentile.
 */
export function directedHausdorff(distances: Float64Array, percentileQ?: number): number {
  if (distances.length === 0) return NaN;
  if (!percentileQ) return maxOf(distances);
  return percentile(distances, percentileQ);
}

/** Options of {@link hausdorffFromDistances}. */
export interface HausdorffOptions {
  /** Percentile in [0, 100] (95 for HD95); undefined = the maximum (classic Hausdorff). */
  percentile?: number;
  /** Only prediction → ground truth (MONAI `directed=True`); default false = max of both ways. */
  directed?: boolean;
}

/**
 * The (percentile) Hausdorff distance: `max(d(pred→gt), d(gt→pred))` per direction reduced by
 * {@link directedHausdorff}. `NaN` if both masks are empty, `Infinity` if exactly one is.
 */
export function hausdorffFromDistances(sd: SurfaceDistances, options: HausdorffOptions = {}): number {
  const d1 = directedHausdorff(sd.predToGt, options.percentile);
  if (options.directed) return d1;
  const d2 = directedHausdorff(sd.gtToPred, options.percentile);
  if (Number.isNaN(d1) || Number.isNaN(d2)) return NaN;
  return Math.max(d1, d2);
}

/**
 * MONAI's average surface distance: mean of the prediction → ground-truth distances, or with
 * `symmetric` the mean of both directions' distances pooled together (not the mean of the two
 * means). `NaN` if both are empty, `Infinity` if exactly one is.
 */
export function averageSurfaceDistanceFromDistances(sd: SurfaceDistances, symmetric = false): number {
  let sum = 0;
  let n = 0;
  for (const v of sd.predToGt) sum += v;
  n += sd.predToGt.length;
  if (symmetric) {
    for (const v of sd.gtToPred) sum += v;
    n += sd.gtToPred.length;
  }
  return n === 0 ? NaN : sum / n;
}

/**
 * MONAI's normalized surface Dice (`compute_surface_dice`, `use_subvoxels=False`): the fraction of
 * surface voxels of both masks whose distance to the other surface is ≤ `tolerance` (mm). `NaN`
 * if both masks are empty, 0 if exactly one is.
 */
export function surfaceDiceFromDistances(sd: SurfaceDistances, tolerance: number): number {
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new RangeError(`tolerance: expected a finite distance ≥ 0 (mm), found ${tolerance}`);
  }
  const total = sd.predToGt.length + sd.gtToPred.length;
  if (total === 0) return NaN;
  let ok = 0;
  for (const v of sd.predToGt) if (v <= tolerance) ok++;
  for (const v of sd.gtToPred) if (v <= tolerance) ok++;
  return ok / total;
}

/**
 * MONAI's Dice from voxel counts (`DiceHelper.compute_channel`): `2|P∩G| / (|P| + |G|)` when the
 * ground truth is not empty. With an empty ground truth: `NaN` if `ignoreEmpty` (MONAI's
 * default), else 1 when the prediction is empty too and 0 when it is not.
 */
export function diceFromCounts(intersection: number, predVoxels: number, gtVoxels: number, ignoreEmpty = true): number {
  if (gtVoxels > 0) return (2 * intersection) / (gtVoxels + predVoxels);
  if (ignoreEmpty) return NaN;
  return predVoxels === 0 ? 1 : 0;
}

/**
 * Mean over the finite-or-infinite entries, skipping `NaN` (MONAI's "mean" reduction over
 * `not_nans`). Returns `{ mean, count }`; `mean` is `NaN` when every entry is `NaN`.
 */
export function nanMean(values: readonly number[]): { mean: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    sum += v;
    count++;
  }
  return { mean: count === 0 ? NaN : sum / count, count };
}
