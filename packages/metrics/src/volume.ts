/**
 * The minimal volume shape the metrics accept, and its validation.
 *
 * A `Volume` from `@swinmm/data` fits {@link LabelVolumeLike} structurally (it has `data`, `shape`
 * and `spacing`), so metrics need no dependency on the I/O package: plain `{ data, shape }`
 * objects built by hand work just as well.
 *
 * @module
 */

/** Voxel values indexed `[x][y][z]` with z fastest: voxel (x, y, z) is at `(x·Y + y)·Z + z`. */
export type VoxelData = ArrayLike<number>;

/** Three positive numbers, one per axis x, y, z. */
export type Triple = readonly [number, number, number];

/**
 * A label map (integer class per voxel) or a binary mask (non-zero = inside), z fastest.
 * `spacing` (mm per voxel along x, y, z) defaults to 1 when absent.
 */
export interface LabelVolumeLike {
  /** Voxel values, `shape[0]·shape[1]·shape[2]` of them, z fastest. */
  readonly data: VoxelData;
  /** Size along x, y, z. */
  readonly shape: readonly number[];
  /** Voxel size along x, y, z in millimetres (default `[1, 1, 1]`). */
  readonly spacing?: readonly number[];
  /** Where the volume came from, used in error messages. */
  readonly source?: string;
}

/** A validated volume: integer shape of rank 3 and the data length checked. */
export interface CheckedVolume {
  data: VoxelData;
  shape: Triple;
  spacing: Triple | undefined;
  name: string;
}

/** Checks rank, sizes and data length of `volume`; `what` names it in error messages. */
export function checkVolume(volume: LabelVolumeLike, what: string): CheckedVolume {
  const name = volume.source ? `${what} (${volume.source})` : what;
  if (volume === null || typeof volume !== 'object' || !('data' in volume) || !('shape' in volume)) {
    throw new TypeError(`${what}: expected an object { data, shape, spacing? }, found ${String(volume)}`);
  }
  const { shape } = volume;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new RangeError(`${name}: expected shape [x, y, z] of three positive integers, found ${JSON.stringify(shape)}`);
  }
  const n = shape[0] * shape[1] * shape[2];
  if (volume.data.length !== n) {
    throw new RangeError(
      `${name}: shape ${JSON.stringify(shape)} needs ${n} voxels but data has ${volume.data.length}`,
    );
  }
  const spacing = volume.spacing === undefined ? undefined : checkSpacing(volume.spacing, `${name}.spacing`);
  return { data: volume.data, shape: [shape[0], shape[1], shape[2]], spacing, name };
}

/** Checks that `spacing` is three positive finite numbers (or one, applied to every axis). */
export function checkSpacing(spacing: readonly number[] | number, what: string): Triple {
  const s = typeof spacing === 'number' ? [spacing, spacing, spacing] : spacing.length === 1 ? [spacing[0], spacing[0], spacing[0]] : spacing;
  if (s.length !== 3 || !s.every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(`${what}: expected three positive finite voxel sizes (mm), found ${JSON.stringify(spacing)}`);
  }
  return [s[0], s[1], s[2]];
}

/**
 * Checks that prediction and ground truth lie on the same grid and picks the spacing: the explicit
 * `spacing` if given, else the ground truth's, else the prediction's, else 1 mm. Spacings that
 * differ by more than 1e-4 mm are an error (the volumes would not be on the same grid).
 */
export function checkPair(
  pred: LabelVolumeLike,
  gt: LabelVolumeLike,
  spacing: readonly number[] | number | undefined,
): { pred: CheckedVolume; gt: CheckedVolume; spacing: Triple } {
  const p = checkVolume(pred, 'prediction');
  const g = checkVolume(gt, 'ground truth');
  if (p.shape.some((s, i) => s !== g.shape[i])) {
    throw new RangeError(
      `${p.name} and ${g.name} must have the same grid: shapes ${JSON.stringify(p.shape)} and ${JSON.stringify(g.shape)}`,
    );
  }
  if (spacing !== undefined) return { pred: p, gt: g, spacing: checkSpacing(spacing, 'spacing') };
  // Same bound as @swinmm/data's compareGrids: 1e-4 mm absolute.
  if (p.spacing && g.spacing && p.spacing.some((s, i) => Math.abs(s - g.spacing![i]) > 1e-4)) {
    throw new RangeError(
      `${p.name} and ${g.name} must have the same voxel spacing: ${JSON.stringify(p.spacing)} and ${JSON.stringify(g.spacing)}`,
    );
  }
  return { pred: p, gt: g, spacing: g.spacing ?? p.spacing ?? [1, 1, 1] };
}
