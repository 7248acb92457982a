/**
 * `@swinmm/data`: medical volumes in TypeScript, with no tensor library.
 *
 * - {@link Volume}: voxels indexed `[x][y][z]` (z fastest) with RAS geometry, as nibabel/MONAI see them;
 * - geometry helpers: {@link createVolume}, {@link affineFromGeometry}, {@link geometryFromAffine},
 *   {@link orientationCode}, {@link compareGrids};
 * - image I/O through itk-wasm: {@link readVolume} (float32), {@link readLabel} (integer label maps),
 *   {@link writeVolume}; NIfTI, NRRD, MetaImage and more, with files checked before reading.
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
export {
  readVolume,
  readLabel,
  writeVolume,
  volumeFromItkImage,
  labelFromItkImage,
  itkImageFromVolume,
  checkLabelValues,
  type LabelArray,
  type ReadVolumeOptions,
  type ReadLabelOptions,
  type WriteVolumeOptions,
  type FileFacts,
} from './io.js';
export { checkImageFile, niftiBestAffine, formatOf, DataFileError, type ImageFormat, type NiftiHeaderInfo, type NonFiniteVoxels } from './file-check.js';
export { readVolumeInfo, type VolumeInfo } from './io.js';
export {
  parseManifest,
  loadManifest,
  validateManifest,
  openManifest,
  ManifestError,
  MANIFEST_SPLITS,
  type DatasetManifest,
  type ManifestEntry,
  type ManifestSplit,
  type ManifestProblem,
  type ValidateManifestOptions,
} from './manifest.js';
export {
  VolumeLoader,
  type Sample,
  type LoaderRng,
  type PrepareTransform,
  type RandomTransform,
  type LoaderOptions,
  type LoaderCacheOptions,
  type LoadedVolume,
  type LoaderProgress,
} from './loader.js';
export { readDicomSeries } from './dicom.js';
