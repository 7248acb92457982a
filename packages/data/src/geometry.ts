/**
 * Geometry helpers for {@link Volume}: building and checking affines, making volumes with
 * validation, orientation codes, grid comparison.
 *
 * All matrices are plain `number[][]`, row-major (`m[row][col]`), RAS+ world coordinates.
 *
 * @module
 */
import type { Vec3, Volume, VoxelArray } from './volume.js';

/** Spacing, origin and direction: the geometry of a voxel grid without its size. */
export interface Geometry {
  /** Voxel size in millimetres along x, y, z (column norms of the affine's 3×3 part). */
  spacing: Vec3;
  /** World position (RAS, mm) of voxel (0, 0, 0). */
  origin: Vec3;
  /** 3×3 direction cosines; column j is the unit world direction of voxel axis j. */
  direction: number[][];
}

/** What {@link createVolume} accepts: voxels and shape, plus geometry given either way. */
export interface VolumeInit<T extends VoxelArray = VoxelArray> {
  /** Voxel values, z fastest: voxel (x, y, z) at `(x * shape[1] + y) * shape[2] + z`. */
  data: T;
  /** Size along x, y, z. */
  shape: readonly number[];
  /** Voxel size in mm (default `[1, 1, 1]`, or taken from `affine`). */
  spacing?: readonly number[];
  /** Position of voxel (0, 0, 0) in RAS mm (default `[0, 0, 0]`, or taken from `affine`). */
  origin?: readonly number[];
  /** 3×3 direction cosines, columns per voxel axis (default identity, or taken from `affine`). */
  direction?: readonly (readonly number[])[];
  /** 4×4 RAS voxel-to-world matrix; when given with spacing/origin/direction they must agree. */
  affine?: readonly (readonly number[])[];
  /** Where the voxels came from, for error messages. */
  source?: string;
}

/** Relative tolerance used when two descriptions of the same geometry are compared. */
const GEOMETRY_TOLERANCE = 1e-6;

function where(source: string | undefined): string {
  return source ? ` (${source})` : '';
}

function checkVec3(name: string, v: readonly number[] | undefined, source: string | undefined, positive: boolean): Vec3 {
  if (!v || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new RangeError(`${name}${where(source)}: expected 3 finite numbers, got ${JSON.stringify(v)}`);
  }
  if (positive && !v.every((x) => x > 0)) {
    throw new RangeError(`${name}${where(source)}: expected 3 positive numbers, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1], v[2]];
}

function checkMatrix(name: string, m: readonly (readonly number[])[] | undefined, n: number, source: string | undefined): number[][] {
  const ok =
    Array.isArray(m) &&
    m.length === n &&
    m.every((row) => Array.isArray(row) && row.length === n && row.every((x) => typeof x === 'number' && Number.isFinite(x)));
  if (!ok) {
    throw new RangeError(`${name}${where(source)}: expected a ${n}×${n} array of finite numbers, got ${JSON.stringify(m)}`);
  }
  return m.map((row) => row.slice());
}

function det3(m: readonly (readonly number[])[]): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Checks that `direction` has unit columns and is not singular; returns a copy. */
function checkDirection(d: readonly (readonly number[])[] | undefined, source: string | undefined): number[][] {
  const m = checkMatrix('direction', d, 3, source);
  for (let j = 0; j < 3; j++) {
    const norm = Math.hypot(m[0][j], m[1][j], m[2][j]);
    // Directions decoded from NIfTI quaternions or text headers are unit only to ~1e-7.
    if (Math.abs(norm - 1) > 1e-4) {
      throw new RangeError(`direction${where(source)}: column ${j} should be a unit vector, its norm is ${norm}`);
    }
  }
  const det = det3(m);
  if (Math.abs(det) < 1e-6) {
    throw new RangeError(`direction${where(source)}: matrix is singular (determinant ${det}): ${JSON.stringify(m)}`);
  }
  return m;
}

/**
 * The 4×4 voxel-to-world matrix for a geometry: `[[direction · diag(spacing), origin], [0, 0, 0, 1]]`.
 */
export function affineFromGeometry(spacing: readonly number[], origin: readonly number[], direction: readonly (readonly number[])[]): number[][] {
  const s = checkVec3('spacing', spacing, undefined, true);
  const o = checkVec3('origin', origin, undefined, false);
  const d = checkDirection(direction, undefined);
  const a: number[][] = [];
  for (let i = 0; i < 3; i++) a.push([d[i][0] * s[0], d[i][1] * s[1], d[i][2] * s[2], o[i]]);
  a.push([0, 0, 0, 1]);
  return a;
}

/**
 * Splits a 4×4 voxel-to-world matrix into spacing (column norms), origin (last column) and
 * direction (unit columns). Throws when the last row is not `[0, 0, 0, 1]` or a column is zero.
 */
export function geometryFromAffine(affine: readonly (readonly number[])[], source?: string): Geometry {
  const a = checkMatrix('affine', affine, 4, source);
  if (a[3][0] !== 0 || a[3][1] !== 0 || a[3][2] !== 0 || a[3][3] !== 1) {
    throw new RangeError(`affine${where(source)}: last row should be [0, 0, 0, 1], got ${JSON.stringify(a[3])}`);
  }
  const spacing: Vec3 = [0, 0, 0];
  const direction = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let j = 0; j < 3; j++) {
    const norm = Math.hypot(a[0][j], a[1][j], a[2][j]);
    if (!(norm > 0)) throw new RangeError(`affine${where(source)}: column ${j} is zero, so voxel axis ${j} has no size`);
    spacing[j] = norm;
    for (let i = 0; i < 3; i++) direction[i][j] = a[i][j] / norm;
  }
  checkDirection(direction, source);
  return { spacing, origin: [a[0][3], a[1][3], a[2][3]], direction };
}

function close(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= GEOMETRY_TOLERANCE * Math.max(1, scale);
}

/**
 * Makes a {@link Volume} after checking everything: `shape` three positive integers, `data`
 * exactly `shape[0]·shape[1]·shape[2]` long, spacing positive, direction with unit columns and
 * non-singular, and (when both are given) `affine` agreeing with spacing/origin/direction.
 * Geometry may be given as spacing/origin/direction, as an affine, or both. The arrays are
 * copied; `data` is kept as is (not copied).
 */
export function createVolume<T extends VoxelArray>(init: VolumeInit<T>): Volume<T> {
  const { data, source } = init;
  const shape = init.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new RangeError(`shape${where(source)}: expected 3 positive integers [x, y, z], got ${JSON.stringify(shape)}`);
  }
  const count = shape[0] * shape[1] * shape[2];
  if (!ArrayBuffer.isView(data) || typeof (data as { length?: unknown }).length !== 'number') {
    throw new TypeError(`data${where(source)}: expected a typed array, got ${Object.prototype.toString.call(data)}`);
  }
  if (data.length !== count) {
    throw new RangeError(
      `data${where(source)}: shape ${shape.join('×')} needs ${count} voxels, the array holds ${data.length}`,
    );
  }
  let geometry: Geometry;
  const hasParts = init.spacing !== undefined || init.origin !== undefined || init.direction !== undefined;
  if (init.affine !== undefined) {
    geometry = geometryFromAffine(init.affine, source);
    if (hasParts) {
      const parts: Geometry = {
        spacing: init.spacing ? checkVec3('spacing', init.spacing, source, true) : geometry.spacing,
        origin: init.origin ? checkVec3('origin', init.origin, source, false) : geometry.origin,
        direction: init.direction ? checkDirection(init.direction, source) : geometry.direction,
      };
      const fromParts = affineFromGeometry(parts.spacing, parts.origin, parts.direction);
      const scale = Math.max(...geometry.spacing, ...geometry.origin.map(Math.abs));
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 4; j++) {
          if (!close(fromParts[i][j], init.affine[i][j], scale)) {
            throw new RangeError(
              `affine${where(source)} disagrees with spacing/origin/direction at [${i}][${j}]: ` +
                `${init.affine[i][j]} vs ${fromParts[i][j]}`,
            );
          }
        }
      }
      geometry = parts;
    }
  } else {
    geometry = {
      spacing: checkVec3('spacing', init.spacing ?? [1, 1, 1], source, true),
      origin: checkVec3('origin', init.origin ?? [0, 0, 0], source, false),
      direction: checkDirection(
        init.direction ?? [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        source,
      ),
    };
  }
  const volume: Volume<T> = {
    data,
    shape: [shape[0], shape[1], shape[2]],
    spacing: geometry.spacing,
    origin: geometry.origin,
    direction: geometry.direction,
    affine: affineFromGeometry(geometry.spacing, geometry.origin, geometry.direction),
  };
  if (source !== undefined) volume.source = source;
  return volume;
}

/**
 * A volume on the same grid as `like` (shape, spacing, origin, direction, affine, source) holding
 * `data` instead. Throws if the length does not match.
 */
export function withData<T extends VoxelArray>(like: Volume, data: T): Volume<T> {
  return createVolume({
    data,
    shape: like.shape,
    spacing: like.spacing,
    origin: like.origin,
    direction: like.direction,
    source: like.source,
  });
}

/** Number of voxels in a shape. */
export function voxelCount(shape: readonly number[]): number {
  return shape[0] * shape[1] * shape[2];
}

/** Offset of voxel (x, y, z) in a z-fastest array of the given shape. */
export function voxelOffset(shape: readonly number[], x: number, y: number, z: number): number {
  return (x * shape[1] + y) * shape[2] + z;
}

/** Applies a 4×4 affine to a point or voxel index `[x, y, z]`. */
export function applyAffine(affine: readonly (readonly number[])[], p: readonly number[]): Vec3 {
  const out: Vec3 = [0, 0, 0];
  for (let i = 0; i < 3; i++) out[i] = affine[i][0] * p[0] + affine[i][1] * p[1] + affine[i][2] * p[2] + affine[i][3];
  return out;
}

/** The inverse of a 4×4 affine whose last row is `[0, 0, 0, 1]` (world-to-voxel from voxel-to-world). */
export function invertAffine(affine: readonly (readonly number[])[]): number[][] {
  const a = checkMatrix('affine', affine, 4, undefined);
  const d = det3(a);
  if (Math.abs(d) < 1e-12) throw new RangeError(`affine is singular (determinant of its 3×3 part is ${d})`);
  const inv = [
    [(a[1][1] * a[2][2] - a[1][2] * a[2][1]) / d, (a[0][2] * a[2][1] - a[0][1] * a[2][2]) / d, (a[0][1] * a[1][2] - a[0][2] * a[1][1]) / d],
    [(a[1][2] * a[2][0] - a[1][0] * a[2][2]) / d, (a[0][0] * a[2][2] - a[0][2] * a[2][0]) / d, (a[0][2] * a[1][0] - a[0][0] * a[1][2]) / d],
    [(a[1][0] * a[2][1] - a[1][1] * a[2][0]) / d, (a[0][1] * a[2][0] - a[0][0] * a[2][1]) / d, (a[0][0] * a[1][1] - a[0][1] * a[1][0]) / d],
  ];
  const out: number[][] = [];
  for (let i = 0; i < 3; i++) {
    const t = -(inv[i][0] * a[0][3] + inv[i][1] * a[1][3] + inv[i][2] * a[2][3]);
    out.push([inv[i][0], inv[i][1], inv[i][2], t]);
  }
  out.push([0, 0, 0, 1]);
  return out;
}

/** Product of two 4×4 matrices, `a · b`. */
export function multiplyAffines(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const row: number[] = [];
    for (let j = 0; j < 4; j++) row.push(a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j] + a[i][3] * b[3][j]);
    out.push(row);
  }
  return out;
}

const AXIS_LETTERS: readonly (readonly [string, string])[] = [
  ['R', 'L'],
  ['A', 'P'],
  ['S', 'I'],
];

/**
 * The orientation code of a grid, as nibabel's `aff2axcodes` gives it for a RAS affine: for each
 * voxel axis, the world direction it points to most closely (`'LSA'` means x runs towards Left,
 * y towards Superior, z towards Anterior). Accepts a 3×3 direction or a 4×4 affine. Throws when
 * two voxel axes point along the same world axis (an oblique grid with no clear code).
 */
export function orientationCode(matrix: readonly (readonly number[])[]): string {
  const used = new Set<number>();
  let code = '';
  for (let j = 0; j < 3; j++) {
    let best = -1;
    let bestAbs = -1;
    for (let i = 0; i < 3; i++) {
      const v = Math.abs(matrix[i][j]);
      if (v > bestAbs) {
        bestAbs = v;
        best = i;
      }
    }
    if (used.has(best)) {
      throw new RangeError(`orientationCode: voxel axes share world axis ${'RAS'[best]}; matrix ${JSON.stringify(matrix)}`);
    }
    used.add(best);
    code += AXIS_LETTERS[best][matrix[best][j] >= 0 ? 0 : 1];
  }
  return code;
}

/** How two grids differ, for {@link compareGrids}. */
export interface GridDifference {
  /** Which property differs: `'shape'`, `'spacing'`, `'origin'` or `'direction'`. */
  field: 'shape' | 'spacing' | 'origin' | 'direction';
  /** A sentence naming both values. */
  message: string;
}

/**
 * Compares the grids (shape, spacing, origin, direction) of two volumes. Returns `null` when they
 * agree within `tolerance` (absolute, mm for spacing/origin, default 1e-4, and the same bound on
 * direction cosines), else the first difference found.
 */
export function compareGrids(
  a: Pick<Volume, 'shape' | 'spacing' | 'origin' | 'direction'>,
  b: Pick<Volume, 'shape' | 'spacing' | 'origin' | 'direction'>,
  tolerance = 1e-4,
): GridDifference | null {
  if (a.shape.some((n, i) => n !== b.shape[i])) {
    return { field: 'shape', message: `shape ${a.shape.join('×')} vs ${b.shape.join('×')}` };
  }
  if (a.spacing.some((s, i) => Math.abs(s - b.spacing[i]) > tolerance)) {
    return { field: 'spacing', message: `spacing [${a.spacing.join(', ')}] vs [${b.spacing.join(', ')}]` };
  }
  if (a.origin.some((o, i) => Math.abs(o - b.origin[i]) > tolerance)) {
    return { field: 'origin', message: `origin [${a.origin.join(', ')}] vs [${b.origin.join(', ')}]` };
  }
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      if (Math.abs(a.direction[i][j] - b.direction[i][j]) > tolerance) {
        return {
          field: 'direction',
          message: `direction ${JSON.stringify(a.direction)} vs ${JSON.stringify(b.direction)}`,
        };
      }
    }
  }
  return null;
}
