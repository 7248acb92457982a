/**
 * Segmentation metrics on binary masks and on label maps.
 *
 * Semantics are MONAI 1.2's (`compute_dice` / `DiceMetric`, `compute_hausdorff_distance`,
 * `compute_average_surface_distance`, `compute_surface_dice`), see SPEC.md §9.3:
 * - Dice: NaN for an empty ground truth (`ignoreEmpty`, default), else 1/0 as MONAI.
 * - HD / HD-percentile / ASD: NaN when both masks are empty, Infinity when exactly one is.
 * - NSD: NaN when both are empty, 0 when exactly one is.
 * - Background (label 0) is excluded unless `includeBackground`.
 * Distances are in millimetres when a spacing is known (MONAI's `spacing=`), else in voxels.
 *
 * @module
 */
import { type Box, surfaceDistances, type SurfaceDistances } from './surface.js';
import {
  averageSurfaceDistanceFromDistances,
  diceFromCounts,
  hausdorffFromDistances,
  nanMean,
  surfaceDiceFromDistances,
} from './reduce.js';
import { checkPair, type LabelVolumeLike, type Triple } from './volume.js';

/** Options shared by the single-mask metric functions. */
export interface MaskMetricOptions {
  /** Voxel spacing (mm) along x, y, z; overrides the volumes' own `spacing`. Default: theirs, else 1. */
  spacing?: readonly number[] | number;
}

/**
 * Surface distances between the non-zero voxels of `pred` and of `gt` (both directions), the
 * shared input of HD, ASD and NSD. Compute it once when you need several of them.
 */
export function maskSurfaceDistances(pred: LabelVolumeLike, gt: LabelVolumeLike, options: MaskMetricOptions = {}): SurfaceDistances {
  const c = checkPair(pred, gt, options.spacing);
  return surfaceDistances(c.pred.data, c.gt.data, c.pred.shape, c.spacing);
}

/**
 * Dice of the non-zero voxels of `pred` and `gt`: `2|P∩G| / (|P| + |G|)`; for an empty ground
 * truth NaN (default `ignoreEmpty: true`) or, with `ignoreEmpty: false`, 1 if the prediction is
 * empty too and 0 otherwise.
 */
export function dice(pred: LabelVolumeLike, gt: LabelVolumeLike, options: { ignoreEmpty?: boolean } = {}): number {
  const c = checkPair(pred, gt, undefined);
  let inter = 0, np = 0, ng = 0;
  const p = c.pred.data, g = c.gt.data;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] !== 0, b = g[i] !== 0;
    if (a) np++;
    if (b) ng++;
    if (a && b) inter++;
  }
  return diceFromCounts(inter, np, ng, options.ignoreEmpty ?? true);
}

/**
 * Hausdorff distance between the surfaces of the non-zero voxels of `pred` and `gt` (mm with a
 * spacing, else voxels). `percentile: 95` gives HD95; undefined gives the maximum.
 */
export function hausdorffDistance(
  pred: LabelVolumeLike,
  gt: LabelVolumeLike,
  options: MaskMetricOptions & { percentile?: number; directed?: boolean } = {},
): number {
  return hausdorffFromDistances(maskSurfaceDistances(pred, gt, options), options);
}

/** Average surface distance, prediction → ground truth (or pooled both ways with `symmetric`). */
export function averageSurfaceDistance(
  pred: LabelVolumeLike,
  gt: LabelVolumeLike,
  options: MaskMetricOptions & { symmetric?: boolean } = {},
): number {
  return averageSurfaceDistanceFromDistances(maskSurfaceDistances(pred, gt, options), options.symmetric ?? false);
}

/** Normalized surface Dice at `tolerance` millimetres (voxels when no spacing is known). */
export function normalizedSurfaceDice(
  pred: LabelVolumeLike,
  gt: LabelVolumeLike,
  tolerance: number,
  options: MaskMetricOptions = {},
): number {
  return surfaceDiceFromDistances(maskSurfaceDistances(pred, gt, options), tolerance);
}

/** Options of {@link evaluateSegmentation}. */
export interface EvaluateOptions extends MaskMetricOptions {
  /** The classes to evaluate. Default: 1…max label found in either volume (0 too with `includeBackground`). */
  labels?: readonly number[];
  /** Evaluate label 0 as well (MONAI `include_background`); default false. Ignored when `labels` is given. */
  includeBackground?: boolean;
  /** Percentile of the percentile Hausdorff distance; default 95. */
  percentile?: number;
  /** NSD tolerance in mm (voxels without spacing): one for all classes or one per evaluated class. Default 1. */
  nsdTolerance?: number | readonly number[];
  /** Dice for an empty ground truth: NaN (true, default) or 1/0 (false). */
  ignoreEmpty?: boolean;
  /** Skip the surface metrics (Dice only: one pass over the voxels). */
  diceOnly?: boolean;
}

/** Metrics of one class. Distances are in mm when a spacing was known, else in voxels. */
export interface ClassMetrics {
  /** The class label. */
  label: number;
  /** Voxels of this class in the prediction. */
  predVoxels: number;
  /** Voxels of this class in the ground truth. */
  gtVoxels: number;
  /** Voxels of this class in both. */
  intersection: number;
  /** Dice (NaN for an empty ground truth unless `ignoreEmpty: false`). */
  dice: number;
  /** Percentile Hausdorff distance (HD95 by default). */
  hd95: number;
  /** Hausdorff distance (maximum). */
  hd: number;
  /** Average surface distance prediction → ground truth (MONAI's default, `symmetric=False`). */
  asd: number;
  /** Average symmetric surface distance (MONAI `symmetric=True`: both directions pooled). */
  assd: number;
  /** Normalized surface Dice at the class's tolerance. */
  nsd: number;
  /** The NSD tolerance used for this class. */
  nsdTolerance: number;
  /** Surface voxels of the prediction and of the ground truth. */
  predSurfaceVoxels: number;
  /** Surface voxels of the ground truth. */
  gtSurfaceVoxels: number;
}

/** Per-class metrics plus their means over the classes where each metric is not NaN. */
export interface SegmentationEvaluation {
  /** One entry per evaluated label, in the order of `labels`. */
  classes: ClassMetrics[];
  /** Means over classes, NaN entries skipped (MONAI "mean" reduction; an Infinity stays Infinity). */
  mean: { dice: number; hd95: number; hd: number; asd: number; assd: number; nsd: number };
  /** The spacing the distances were computed with. */
  spacing: Triple;
}

/**
 * Evaluates a predicted label map against a ground-truth label map on the same grid: per class
 * Dice, percentile Hausdorff (HD95), Hausdorff, ASD, ASSD and NSD, with MONAI's semantics for empty
 * classes. One pass over the voxels finds every class's counts and bounding box; the surface work
 * of each class then runs only inside the bounding box of its union.
 */
export function evaluateSegmentation(pred: LabelVolumeLike, gt: LabelVolumeLike, options: EvaluateOptions = {}): SegmentationEvaluation {
  const c = checkPair(pred, gt, options.spacing);
  const p = c.pred.data, g = c.gt.data;
  const [nx, ny, nz] = c.pred.shape;
  const maxLabel = Math.max(maxLabelOf(p, c.pred.name), maxLabelOf(g, c.gt.name));
  const labels = options.labels
    ? [...options.labels]
    : Array.from({ length: maxLabel + 1 }, (_, i) => i).filter((l) => l > 0 || options.includeBackground);
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 0) throw new RangeError(`labels: expected non-negative integers, found ${l}`);
  }
  const tolerances = resolveTolerances(options.nsdTolerance, labels.length);

  const size = Math.max(maxLabel, ...labels, 0) + 1;
  const cp = new Float64Array(size), cg = new Float64Array(size), ci = new Float64Array(size);
  const lo = new Int32Array(size * 3).fill(2 ** 30);
  const hi = new Int32Array(size * 3).fill(-1);
  let i = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, i++) {
        const a = p[i], b = g[i];
        cp[a]++;
        cg[b]++;
        if (a === b) ci[a]++;
        grow(lo, hi, a, x, y, z);
        if (b !== a) grow(lo, hi, b, x, y, z);
      }
    }
  }

  const classes: ClassMetrics[] = labels.map((label, k) => {
    const d = diceFromCounts(ci[label], cp[label], cg[label], options.ignoreEmpty ?? true);
    const base = { label, predVoxels: cp[label], gtVoxels: cg[label], intersection: ci[label], dice: d, nsdTolerance: tolerances[k] };
    if (options.diceOnly) {
      return { ...base, hd95: NaN, hd: NaN, asd: NaN, assd: NaN, nsd: NaN, predSurfaceVoxels: 0, gtSurfaceVoxels: 0 };
    }
    const box: Box | undefined =
      hi[label * 3] < 0
        ? undefined
        : {
            start: [lo[label * 3], lo[label * 3 + 1], lo[label * 3 + 2]],
            end: [hi[label * 3] + 1, hi[label * 3 + 1] + 1, hi[label * 3 + 2] + 1],
          };
    const sd: SurfaceDistances = box
      ? surfaceDistances(p, g, c.pred.shape, c.spacing, label, label, box)
      : { predToGt: new Float64Array(0), gtToPred: new Float64Array(0), predSurfaceVoxels: 0, gtSurfaceVoxels: 0 };
    return {
      ...base,
      hd95: hausdorffFromDistances(sd, { percentile: options.percentile ?? 95 }),
      hd: hausdorffFromDistances(sd),
      asd: averageSurfaceDistanceFromDistances(sd, false),
      assd: averageSurfaceDistanceFromDistances(sd, true),
      nsd: surfaceDiceFromDistances(sd, tolerances[k]),
      predSurfaceVoxels: sd.predSurfaceVoxels,
      gtSurfaceVoxels: sd.gtSurfaceVoxels,
    };
  });
  const meanOf = (key: 'dice' | 'hd95' | 'hd' | 'asd' | 'assd' | 'nsd') => nanMean(classes.map((m) => m[key])).mean;
  return {
    classes,
    mean: { dice: meanOf('dice'), hd95: meanOf('hd95'), hd: meanOf('hd'), asd: meanOf('asd'), assd: meanOf('assd'), nsd: meanOf('nsd') },
    spacing: c.spacing,
  };
}

function grow(lo: Int32Array, hi: Int32Array, label: number, x: number, y: number, z: number): void {
  const o = label * 3;
  if (x < lo[o]) lo[o] = x;
  if (x > hi[o]) hi[o] = x;
  if (y < lo[o + 1]) lo[o + 1] = y;
  if (y > hi[o + 1]) hi[o + 1] = y;
  if (z < lo[o + 2]) lo[o + 2] = z;
  if (z > hi[o + 2]) hi[o + 2] = z;
}

/** Largest label, checking that every voxel is a non-negative integer below 2²⁴. */
function maxLabelOf(data: ArrayLike<number>, name: string): number {
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v > max) max = v;
    // (v | 0) !== v catches fractions and NaN; labels beyond 2^24 would make per-label tables huge.
    if ((v | 0) !== v || v < 0 || v >= 1 << 24) {
      throw new RangeError(`${name}: expected integer class labels in [0, 2^24), found ${v} at voxel ${i}`);
    }
  }
  return max;
}

function resolveTolerances(t: number | readonly number[] | undefined, n: number): number[] {
  if (t === undefined) return new Array<number>(n).fill(1);
  if (typeof t === 'number') return new Array<number>(n).fill(t);
  if (t.length !== n) throw new RangeError(`nsdTolerance: expected one tolerance per evaluated class (${n}), found ${t.length}`);
  return [...t];
}
