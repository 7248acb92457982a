import type { Volume, VoxelArray } from '@swinmm/data';
import { makeVolume } from '../src/geometry.js';

/** Every typed array a Volume may hold, with a name for test titles. */
export const ARRAY_TYPES: [string, new (n: number) => VoxelArray][] = [
  ['Float32Array', Float32Array],
  ['Float64Array', Float64Array],
  ['Uint8Array', Uint8Array],
  ['Int8Array', Int8Array],
  ['Int16Array', Int16Array],
  ['Uint16Array', Uint16Array],
  ['Int32Array', Int32Array],
  ['Uint32Array', Uint32Array],
];

/** Integer label types only. */
export const LABEL_TYPES = ARRAY_TYPES.filter(([name]) => !name.startsWith('Float'));

/** A volume whose voxel (x, y, z) holds `fn(x, y, z)`. */
export function synth<T extends VoxelArray>(
  ctor: new (n: number) => T,
  shape: [number, number, number],
  fn: (x: number, y: number, z: number) => number,
  affine: number[][] = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ],
): Volume<T> {
  const data = new ctor(shape[0] * shape[1] * shape[2]);
  let p = 0;
  for (let x = 0; x < shape[0]; x++) for (let y = 0; y < shape[1]; y++) for (let z = 0; z < shape[2]; z++) data[p++] = fn(x, y, z);
  return makeVolume(data, shape, affine, 'synthetic');
}

/** A distinct small integer per voxel (fits every type, including Int8). */
export function ids(x: number, y: number, z: number): number {
  return (x * 31 + y * 7 + z * 3) % 120;
}

export function at(v: Volume, x: number, y: number, z: number): number {
  return v.data[(x * v.shape[1] + y) * v.shape[2] + z];
}

function apply(a: number[][], p: number[]): number[] {
  return [0, 1, 2].map((i) => a[i][0] * p[0] + a[i][1] * p[1] + a[i][2] * p[2] + a[i][3]);
}

function solve3(a: number[][], w: number[]): number[] {
  // Voxel index of world point w under affine a (3×3 part inverted by Cramer's rule).
  const m = [0, 1, 2].map((i) => [a[i][0], a[i][1], a[i][2]]);
  const b = [0, 1, 2].map((i) => w[i] - a[i][3]);
  const det = (q: number[][]) =>
    q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) - q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) + q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
  const d = det(m);
  return [0, 1, 2].map((j) => det(m.map((row, i) => row.map((v, k) => (k === j ? b[i] : v)))) / d);
}

/**
 * Every output voxel sits at a world position where the input has a voxel with the same value
 * (or, outside the input, `outside`). This is what "the affine was updated correctly" means for
 * transforms that move voxels without interpolating.
 */
export function expectWorldConsistent(input: Volume, output: Volume, outside = 0): void {
  const [ox, oy, oz] = output.shape;
  for (let x = 0; x < ox; x++) {
    for (let y = 0; y < oy; y++) {
      for (let z = 0; z < oz; z++) {
        const w = apply(output.affine, [x, y, z]);
        const q = solve3(input.affine, w).map((c) => Math.round(c * 1e6) / 1e6);
        if (!q.every(Number.isInteger)) throw new Error(`output voxel [${x}, ${y}, ${z}] maps to non-integer input index [${q}]`);
        const inside = q.every((c, i) => c >= 0 && c < input.shape[i]);
        const expected = inside ? at(input, q[0], q[1], q[2]) : outside;
        if (at(output, x, y, z) !== expected) {
          throw new Error(`output voxel [${x}, ${y}, ${z}] = ${at(output, x, y, z)} but input at [${q}] is ${expected}`);
        }
      }
    }
  }
}
