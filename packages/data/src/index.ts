/**
 * `@swinmm/data`: medical volumes in TypeScript, with no tensor library.
 *
 * - {@link Volume}: voxels indexed `[x][y][z]` (z fastest) with RAS geometry, as nibabel/MONAI see them;
 * - geometry helpers: {@link createVolume}, {@link affineFromGeometry}, {@link geometryFromAffine},
 *   {@link orientationCode}, {@link compareGrids}.
 *
 * @packageDocumentation
 */
export type { Volume, VoxelArray, Vec3 } from './volume.js';
export {
  affineFromGeometry,
  geometryFromAffine,
  createVolume,
  withData,
  voxelCount,
  voxelOffset,
  applyAffine,
  invertAffine,
  multiplyAffines,
  orientationCode,
  compareGrids,
  type Geometry,
  type VolumeInit,
  type GridDifference,
} from './geometry.js';
