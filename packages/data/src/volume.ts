/**
 * The in-memory medical volume shared by every package that handles images and label maps.
 *
 * Conventions (fixed, relied on everywhere):
 * - `data` is indexed `[x][y][z]` with **z fastest**: voxel (x, y, z) is at
 *   `(x * shape[1] + y) * shape[2] + z`, exactly like a C-order NumPy array from nibabel/MONAI.
 * - Geometry is in **RAS+** world coordinates (as nibabel reports it): `affine` maps a voxel index
 *   `[x, y, z, 1]` to millimetres; `affine = [[direction · diag(spacing), origin], [0, 0, 0, 1]]`.
 * - ITK's x-fastest buffers and LPS geometry are converted once, at the I/O boundary.
 *
 * @module
 */

/** Typed arrays a volume may hold: float32 for images, integer types for label maps. */
export type VoxelArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Three numbers, one per spatial axis x, y, z. */
export type Vec3 = [number, number, number];

/** A 3-D volume with its geometry. */
export interface Volume<T extends VoxelArray = VoxelArray> {
  /** Voxel values, z fastest (see the module notes). */
  data: T;
  /** Size along x, y, z. */
  shape: Vec3;
  /** Voxel size in millimetres along x, y, z. */
  spacing: Vec3;
  /** World position (RAS, mm) of voxel (0, 0, 0). */
  origin: Vec3;
  /** 3×3 direction cosines in RAS; column j is the world direction of voxel axis j. */
  direction: number[][];
  /** 4×4 voxel-to-world matrix in RAS, as nibabel's `img.affine`. */
  affine: number[][];
  /** The file it was read from, if any (used in error messages). */
  source?: string;
}
