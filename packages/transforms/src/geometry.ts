/**
 * Internal geometry helpers: 4×4 matrix arithmetic in the same operation order as MONAI/NumPy
 * (so that affines come out bit-identical in the axis-aligned cases), volume construction that
 * keeps the affine exactly as computed, and typed-array allocation by type.
 *
 * @module
 * @internal
 */
import { geometryFromAffine, type Volume, type VoxelArray } from '@swinmm/data';

/** A row-major matrix. */
export type Matrix = number[][];

/** `a · b` for square matrices, each entry summed left to right (k = 0, 1, …) as BLAS-free loops do. */
export function matmul(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): Matrix {
  const n = a.length;
  const m = b[0].length;
  const out: Matrix = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < m; j++) {
      let acc = 0;
      for (let k = 0; k < b.length; k++) acc += a[i][k] * b[k][j];
      row.push(acc);
    }
    out.push(row);
  }
  return out;
}

/** The n×n identity. */
export function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

/**
 * The inverse of a square matrix by Gauss–Jordan elimination with partial pivoting (LAPACK's
 * `gesv` against the identity does the same eliminations). Throws when it is singular.
 */
export function invert(m: readonly (readonly number[])[], what = 'matrix'): Matrix {
  const n = m.length;
  const a = m.map((row) => row.slice());
  const inv = identity(n);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (a[pivot][col] === 0) throw new RangeError(`${what} is singular: ${JSON.stringify(m)}`);
    if (pivot !== col) {
      [a[pivot], a[col]] = [a[col], a[pivot]];
      [inv[pivot], inv[col]] = [inv[col], inv[pivot]];
    }
    const p = a[col][col];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r][col] / p;
      if (f === 0) continue;
      for (let c = 0; c < n; c++) {
        a[r][c] -= f * a[col][c];
        inv[r][c] -= f * inv[col][c];
      }
    }
  }
  for (let r = 0; r < n; r++) {
    const p = a[r][r];
    for (let c = 0; c < n; c++) inv[r][c] /= p;
  }
  return inv;
}

/** A deep copy of a matrix. */
export function copyMatrix(m: readonly (readonly number[])[]): Matrix {
  return m.map((row) => row.slice());
}

/** `affine · T(shift)`: the affine of a grid whose voxel 0 is voxel `shift` of the old one. */
export function translateAffine(affine: readonly (readonly number[])[], shift: readonly number[]): Matrix {
  const t = identity(4);
  for (let i = 0; i < 3; i++) t[i][3] = shift[i];
  return matmul(affine, t);
}

/** Typed-array constructors by instance, to allocate outputs of the same type as an input. */
export type VoxelArrayConstructor = new (length: number) => VoxelArray;

/** A new zero-filled typed array of the same type as `like`. */
export function allocLike<T extends VoxelArray>(like: T, length: number): T {
  const ctor = like.constructor as VoxelArrayConstructor;
  return new ctor(length) as T;
}

/** Whether the array holds integers (a label map) rather than floats. */
export function isIntegerArray(a: VoxelArray): boolean {
  return !(a instanceof Float32Array || a instanceof Float64Array);
}

/**
 * A volume on `affine` holding `data`, with spacing/origin/direction derived from the affine and
 * the affine itself kept exactly as given (so that it compares bit-equal with MONAI's).
 */
export function makeVolume<T extends VoxelArray>(data: T, shape: readonly number[], affine: readonly (readonly number[])[], source?: string): Volume<T> {
  const count = shape[0] * shape[1] * shape[2];
  if (data.length !== count) {
    throw new RangeError(`internal: shape ${shape.join('×')} needs ${count} voxels, got ${data.length}`);
  }
  const g = geometryFromAffine(affine, source);
  const v: Volume<T> = {
    data,
    shape: [shape[0], shape[1], shape[2]],
    spacing: g.spacing,
    origin: g.origin,
    direction: g.direction,
    affine: copyMatrix(affine),
  };
  if (source !== undefined) v.source = source;
  return v;
}

/** `" (file)"` for error messages when the volume has a source. */
export function where(v: Pick<Volume, 'source'>): string {
  return v.source ? ` (${v.source})` : '';
}

/** Throws unless `v` is a well-formed volume (shape, data length). */
export function checkVolume(v: Volume, what: string): void {
  if (!v || !Array.isArray(v.shape) || v.shape.length !== 3 || !v.shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw new TypeError(`${what}: expected a Volume with shape [x, y, z] of positive integers, got ${JSON.stringify(v?.shape)}`);
  }
  const count = v.shape[0] * v.shape[1] * v.shape[2];
  if (!ArrayBuffer.isView(v.data) || v.data.length !== count) {
    throw new RangeError(`${what}${where(v)}: shape ${v.shape.join('×')} needs ${count} voxels, data holds ${v.data?.length}`);
  }
  if (!Array.isArray(v.affine) || v.affine.length !== 4) {
    throw new TypeError(`${what}${where(v)}: expected a 4×4 affine, got ${JSON.stringify(v.affine)}`);
  }
}

/** Throws unless every volume has the same shape as the first (they must share a grid). */
export function checkSameShape(vols: readonly Volume[], what: string): void {
  if (vols.length === 0) throw new RangeError(`${what}: expected at least one volume`);
  vols.forEach((v, i) => checkVolume(v, `${what} (volume ${i})`));
  const s = vols[0].shape;
  for (let i = 1; i < vols.length; i++) {
    const t = vols[i].shape;
    if (t[0] !== s[0] || t[1] !== s[1] || t[2] !== s[2]) {
      throw new RangeError(`${what}: volumes must share one grid, volume 0${where(vols[0])} is ${s.join('×')} but volume ${i}${where(vols[i])} is ${t.join('×')}`);
    }
  }
}

/**
 * Copies the box `[start, start + size)` of `v` (parts outside the volume are filled with
 * `value`), as MONAI's crop-or-pad does; the affine moves by `start`.
 */
export function cropOrPad<T extends VoxelArray>(v: Volume<T>, start: readonly number[], size: readonly number[], value = 0): Volume<T> {
  const [nx, ny, nz] = v.shape;
  const [sx, sy, sz] = size;
  const out = allocLike(v.data, sx * sy * sz);
  if (value !== 0) out.fill(value);
  const src = v.data;
  const x0 = Math.max(0, -start[0]);
  const x1 = Math.min(sx, nx - start[0]);
  const y0 = Math.max(0, -start[1]);
  const y1 = Math.min(sy, ny - start[1]);
  const z0 = Math.max(0, -start[2]);
  const z1 = Math.min(sz, nz - start[2]);
  if (z1 > z0) {
    for (let x = x0; x < x1; x++) {
      for (let y = y0; y < y1; y++) {
        const from = ((x + start[0]) * ny + (y + start[1])) * nz + start[2];
        const to = (x * sy + y) * sz;
        out.set(src.subarray(from + z0, from + z1), to + z0);
      }
    }
  }
  return makeVolume(out, size, translateAffine(v.affine, start), v.source);
}
