/**
 * Reading and writing volumes through itk-wasm (`@itk-wasm/image-io`), with the one conversion
 * between ITK's world (x-fastest buffers, LPS geometry) and ours (z-fastest, RAS) done here.
 *
 * @module
 */
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Image } from 'itk-wasm';
import { readDicomSeries } from './dicom.js';
import { keepExitCode } from './exit-code.js';
import { checkImageFile, DataFileError, niftiBestAffine, type NonFiniteVoxels } from './file-check.js';
import { affineFromGeometry, compareGrids, createVolume, geometryFromAffine } from './geometry.js';
import type { Vec3, Volume, VoxelArray } from './volume.js';

/** Integer arrays a label map may hold. */
export type LabelArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Options of {@link readVolume}. */
export interface ReadVolumeOptions {
  /** Accept NaN/±Infinity voxels instead of failing (default false). */
  allowNonFinite?: boolean;
}

/** Options of {@link readLabel}. */
export interface ReadLabelOptions {
  /**
   * The allowed label values: a number `n` means 0 … n−1; an array lists them. A voxel outside
   * them is an error that names the file, the voxel and the value.
   */
  classes?: number | readonly number[];
}

/** Options of {@link writeVolume}. */
export interface WriteVolumeOptions {
  /** Compress the voxel data where the format can (.nrrd, .nhdr, .mha, .mhd). `.nii.gz` always is. */
  compress?: boolean;
}

type ImageIo = typeof import('@itk-wasm/image-io');
let imageIo: Promise<ImageIo> | undefined;

/** itk-wasm is ESM only with top-level await: load it lazily, once. */
function loadImageIo(): Promise<ImageIo> {
  imageIo ??= import('@itk-wasm/image-io');
  return imageIo;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  // itk-wasm pipelines throw a bare number (a wasm exception pointer) for C++ exceptions.
  if (typeof err === 'number') return `itk-wasm pipeline exception (code ${err}); see the ITK message printed above`;
  return String(err);
}

/** Reads a file with itk-wasm after the up-front checks; returns the ITK image and the nibabel affine for NIfTI. */
async function readItk(path: string, informationOnly = false): Promise<{ image: Image; niftiAffine?: number[][]; nonFinite?: NonFiniteVoxels }> {
  const checked = await checkImageFile(path);
  const io = await loadImageIo();
  let image: Image;
  try {
    image = await keepExitCode(() => io.readImageNode(path, { informationOnly }));
  } catch (err) {
    throw new DataFileError(path, `itk-wasm could not read it (${describeError(err)})`);
  }
  return { image, niftiAffine: checked.nifti ? niftiBestAffine(checked.nifti) : undefined, nonFinite: checked.nonFinite };
}

/**
 * The 3-D size, spacing, origin and direction of an ITK image, LPS still. Images with extra
 * dimensions of size 1 are accepted as 3-D; anything else that is not 3-D is an error.
 */
function itkGeometry(image: Image, path: string): { size: Vec3; spacing: Vec3; originLps: Vec3; directionLps: number[][] } {
  const dim = image.imageType.dimension;
  if (image.imageType.components !== 1) {
    throw new DataFileError(path, `expected one value per voxel, found ${image.imageType.components} components (${image.imageType.pixelType})`);
  }
  if (dim < 3 || image.size.slice(3).some((n) => n !== 1)) {
    throw new DataFileError(
      path,
      `expected a 3-D volume, found a ${dim}-D image of size ${image.size.join('×')}` +
        (dim > 3 ? ' (a time series or multi-channel file: split it into 3-D volumes first)' : ''),
    );
  }
  const directionLps = [0, 1, 2].map((i) => [0, 1, 2].map((j) => Number(image.direction[i * dim + j])));
  return {
    size: [image.size[0], image.size[1], image.size[2]],
    spacing: [image.spacing[0], image.spacing[1], image.spacing[2]],
    originLps: [image.origin[0], image.origin[1], image.origin[2]],
    directionLps,
  };
}

/**
 * Copies an x-fastest buffer into a z-fastest array of the same shape, converting each value with
 * `convert` (identity when the types agree).
 */
function toZFastest<T extends VoxelArray>(src: ArrayLike<number | bigint>, size: Vec3, out: T): T {
  const [sx, sy, sz] = size;
  const strideX = sy * sz;
  let i = 0;
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let z = 0; z < sz; z++) {
      for (let y = 0; y < sy; y++) {
        let dst = y * sz + z;
        for (let x = 0; x < sx; x++, i++, dst += strideX) out[dst] = Number(src[i]);
      }
    }
    return out;
  }
  // Plain numeric arrays: a direct copy (typed-array stores convert), no call per voxel.
  const s = src as ArrayLike<number>;
  for (let z = 0; z < sz; z++) {
    for (let y = 0; y < sy; y++) {
      let dst = y * sz + z;
      for (let x = 0; x < sx; x++, i++, dst += strideX) out[dst] = s[i];
    }
  }
  return out;
}

/** The inverse of {@link toZFastest}: z-fastest voxels into a new x-fastest array of the same type. */
function toXFastest<T extends VoxelArray>(src: T, size: Vec3): T {
  const [sx, sy, sz] = size;
  const out = new (src.constructor as new (n: number) => T)(src.length);
  const strideX = sy * sz;
  let i = 0;
  for (let z = 0; z < sz; z++) {
    for (let y = 0; y < sy; y++) {
      let s = y * sz + z;
      for (let x = 0; x < sx; x++, i++, s += strideX) out[i] = src[s];
    }
  }
  return out;
}

/** LPS ↔ RAS: negate the first two world coordinates (rows of the direction, entries of the origin). */
function flipLpsRas(direction: number[][], origin: Vec3): { direction: number[][]; origin: Vec3 } {
  return {
    direction: direction.map((row, i) => (i < 2 ? row.map((v) => (v === 0 ? 0 : -v)) : row.slice())),
    origin: [origin[0] === 0 ? 0 : -origin[0], origin[1] === 0 ? 0 : -origin[1], origin[2]],
  };
}

/** Builds our volume's geometry from an ITK image, preferring nibabel's NIfTI affine if they differ. */
function rasGeometry(image: Image, path: string, niftiAffine: number[][] | undefined) {
  const g = itkGeometry(image, path);
  const ras = flipLpsRas(g.directionLps, g.originLps);
  let geometry = { spacing: g.spacing, origin: ras.origin, direction: ras.direction };
  if (niftiAffine) {
    // ITK and nibabel choose between sform and qform differently; MONAI reads NIfTI through nibabel,
    // so where the two disagree the nibabel affine is the reference geometry.
    const nib = geometryFromAffine(niftiAffine, path);
    if (compareGrids({ shape: g.size, ...geometry }, { shape: g.size, ...nib }, 1e-4) !== null) geometry = nib;
  }
  return { size: g.size, ...geometry };
}

function locate(size: Vec3, xFastestIndex: number): string {
  const x = xFastestIndex % size[0];
  const y = Math.floor(xFastestIndex / size[0]) % size[1];
  const z = Math.floor(xFastestIndex / (size[0] * size[1]));
  return `voxel (${x}, ${y}, ${z})`;
}

/** What the file check learnt that itk-wasm's result lacks. */
export interface FileFacts {
  /** nibabel's affine for a NIfTI file (preferred where ITK's differs). */
  niftiAffine?: number[][];
  /** NaN/±Infinity voxels of a float NIfTI file, which itk-wasm's NIfTI reader replaces by 0. */
  nonFinite?: NonFiniteVoxels;
}

function nonFiniteError(source: string, size: Vec3, found: NonFiniteVoxels): DataFileError {
  return new DataFileError(source, `${found.indices.length} voxel(s) are not finite; the first is ${locate(size, found.indices[0])} = ${found.values[0]}`);
}

/** Converts an ITK image (as itk-wasm gives it) to a float32 {@link Volume}. */
export function volumeFromItkImage(image: Image, source: string, options: ReadVolumeOptions & FileFacts = {}): Volume<Float32Array> {
  const geometry = rasGeometry(image, source, options.niftiAffine);
  const src = image.data;
  if (!src) throw new DataFileError(source, 'itk-wasm returned no voxel data');
  const found = options.nonFinite;
  if (found && found.indices.length > 0) {
    if (!options.allowNonFinite) throw nonFiniteError(source, geometry.size, found);
    // Put back the values itk-wasm zeroed (ITK's buffer is in file order, like the indices).
    if (src instanceof Float32Array || src instanceof Float64Array) for (let k = 0; k < found.indices.length; k++) src[found.indices[k]] = found.values[k];
  }
  // Only float storage can hold NaN/Infinity.
  if (!options.allowNonFinite && (src instanceof Float32Array || src instanceof Float64Array)) {
    for (let i = 0; i < src.length; i++) {
      const v = Number(src[i]);
      if (!Number.isFinite(v)) {
        const indices: number[] = [];
        const values: number[] = [];
        for (let k = i; k < src.length; k++) {
          if (!Number.isFinite(Number(src[k]))) {
            indices.push(k);
            values.push(Number(src[k]));
          }
        }
        throw nonFiniteError(source, geometry.size, { indices, values });
      }
    }
  }
  const data = toZFastest(src, geometry.size, new Float32Array(src.length));
  return createVolume({ data, shape: geometry.size, spacing: geometry.spacing, origin: geometry.origin, direction: geometry.direction, source });
}

const INTEGER_ARRAYS: ReadonlyArray<readonly [new (n: number) => LabelArray, number, number]> = [
  [Uint8Array, 0, 255],
  [Int16Array, -32768, 32767],
  [Int32Array, -2147483648, 2147483647],
];

/** Converts an ITK image to an integer label {@link Volume}; float files must hold integral values only. */
export function labelFromItkImage(image: Image, source: string, options: ReadLabelOptions & FileFacts = {}): Volume<LabelArray> {
  const geometry = rasGeometry(image, source, options.niftiAffine);
  if (options.nonFinite && options.nonFinite.indices.length > 0) {
    const i = options.nonFinite.indices[0];
    throw new DataFileError(source, `a label map must hold integer class indices, found ${options.nonFinite.values[0]} at ${locate(geometry.size, i)}`);
  }
  const src = image.data;
  if (!src) throw new DataFileError(source, 'itk-wasm returned no voxel data');
  const type = image.imageType.componentType;
  let data: LabelArray;
  if (src instanceof Int8Array || src instanceof Uint8Array || src instanceof Int16Array || src instanceof Uint16Array || src instanceof Int32Array || src instanceof Uint32Array) {
    data = toZFastest(src, geometry.size, new (src.constructor as new (n: number) => LabelArray)(src.length));
  } else {
    // float or 64-bit integer storage: every value must be an integer, then the smallest array that holds them.
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < src.length; i++) {
      const v = Number(src[i]);
      if (!Number.isInteger(v)) {
        throw new DataFileError(
          source,
          `a label map must hold integer class indices, found ${v} at ${locate(geometry.size, i)} (stored as ${type})`,
        );
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const fit = INTEGER_ARRAYS.find(([, min, max]) => lo >= min && hi <= max);
    if (!fit) throw new DataFileError(source, `label values ${lo}..${hi} do not fit in 32-bit integers`);
    data = toZFastest(src, geometry.size, new fit[0](src.length));
  }
  if (options.classes !== undefined) checkLabelValues(data, geometry.size, options.classes, source);
  return createVolume({ data, shape: geometry.size, spacing: geometry.spacing, origin: geometry.origin, direction: geometry.direction, source });
}

/**
 * Throws {@link DataFileError} when a z-fastest label array holds a value outside `classes`
 * (a count `n` meaning 0 … n−1, or the list of allowed values), naming the first such voxel.
 */
export function checkLabelValues(data: ArrayLike<number>, shape: readonly number[], classes: number | readonly number[], source: string): void {
  const allowed = typeof classes === 'number' ? null : new Set(classes);
  const n = typeof classes === 'number' ? classes : 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const ok = allowed ? allowed.has(v) : Number.isInteger(v) && v >= 0 && v < n;
    if (!ok) {
      const z = i % shape[2];
      const y = Math.floor(i / shape[2]) % shape[1];
      const x = Math.floor(i / (shape[1] * shape[2]));
      const expected = allowed ? `one of ${JSON.stringify([...allowed])}` : `0..${n - 1}`;
      throw new DataFileError(source, `label ${v} at voxel (${x}, ${y}, ${z}) is outside the declared classes (${expected})`);
    }
  }
}

/**
 * Reads an image volume (.nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, and whatever else itk-wasm
 * reads) as float32, indexed `[x][y][z]` with RAS geometry exactly as nibabel/MONAI report it.
 * The file is checked first (existence, complete gzip stream, NIfTI magic and length); 4-D,
 * multi-component and non-finite data are errors that name the file. A folder is read as a
 * DICOM series (see {@link readDicomSeries}).
 */
export async function readVolume(path: string, options: ReadVolumeOptions = {}): Promise<Volume<Float32Array>> {
  if (await isDirectory(path)) {
    // A folder is a DICOM series (GDCM itself is loaded only then).
    return readDicomSeries(path, options);
  }
  const { image, niftiAffine, nonFinite } = await readItk(path);
  return volumeFromItkImage(image, path, { ...options, niftiAffine, nonFinite });
}

/** The grid of an image file and how its voxels are stored, without the voxels. */
export interface VolumeInfo {
  /** The file. */
  source: string;
  /** Size along x, y, z. */
  shape: Vec3;
  /** Voxel size in mm. */
  spacing: Vec3;
  /** RAS position of voxel (0, 0, 0). */
  origin: Vec3;
  /** RAS direction cosines (columns per voxel axis). */
  direction: number[][];
  /** 4×4 RAS voxel-to-world matrix. */
  affine: number[][];
  /** Stored voxel type as itk-wasm names it (`'int16'`, `'float32'`, …). */
  componentType: string;
}

/**
 * Reads only the geometry of an image file (after the same file checks as {@link readVolume}), e.g.
 * to check that an image and its label map share a grid before any voxels are loaded.
 */
export async function readVolumeInfo(path: string): Promise<VolumeInfo> {
  if (await isDirectory(path)) {
    // GDCM has no header-only series read here: read the series and keep its geometry.
    const v = await readDicomSeries(path, { allowNonFinite: true });
    return { source: path, shape: v.shape, spacing: v.spacing, origin: v.origin, direction: v.direction, affine: v.affine, componentType: 'float32' };
  }
  const { image, niftiAffine } = await readItk(path, true);
  const g = rasGeometry(image, path, niftiAffine);
  const affine = affineFromGeometry(g.spacing, g.origin, g.direction);
  return { source: path, shape: g.size, spacing: g.spacing, origin: g.origin, direction: g.direction, affine, componentType: image.imageType.componentType };
}

/**
 * Reads a label map: integer voxel types are kept as they are; a float file is accepted only if
 * every value is an integer (else an error names the voxel and value). With `classes`, every
 * value must be one of the declared classes.
 */
export async function readLabel(path: string, options: ReadLabelOptions = {}): Promise<Volume<LabelArray>> {
  const { image, niftiAffine, nonFinite } = await readItk(path);
  return labelFromItkImage(image, path, { ...options, niftiAffine, nonFinite });
}

const COMPONENT_TYPES = new Map<string, Image['imageType']['componentType']>([
  ['Float32Array', 'float32'],
  ['Float64Array', 'float64'],
  ['Int8Array', 'int8'],
  ['Uint8Array', 'uint8'],
  ['Int16Array', 'int16'],
  ['Uint16Array', 'uint16'],
  ['Int32Array', 'int32'],
  ['Uint32Array', 'uint32'],
]);

/** Converts a {@link Volume} to an itk-wasm image (x-fastest, LPS), with no metadata. */
export function itkImageFromVolume(volume: Volume): Image {
  const v = createVolume(volume);
  const componentType = COMPONENT_TYPES.get(v.data.constructor.name);
  if (!componentType) throw new TypeError(`writeVolume: unsupported voxel array ${v.data.constructor.name}`);
  const lps = flipLpsRas(v.direction, v.origin);
  const direction = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) direction[i * 3 + j] = lps.direction[i][j];
  return {
    imageType: { dimension: 3, componentType, pixelType: 'Scalar', components: 1 },
    name: 'Image',
    origin: [...lps.origin],
    spacing: [...v.spacing],
    direction,
    size: [...v.shape],
    metadata: new Map(),
    data: toXFastest(v.data, v.shape),
  };
}

/**
 * Writes a volume with its geometry (so a label map written for an input opens aligned with it in
 * any viewer). The format follows the extension. Everything is written into a temporary folder
 * beside the target and then renamed into place, data files before the header, so a reader never
 * sees a half-written file.
 */
export async function writeVolume(path: string, volume: Volume, options: WriteVolumeOptions = {}): Promise<void> {
  const image = itkImageFromVolume(volume);
  const io = await loadImageIo();
  // Without a known extension itk-wasm tries every writer in turn (seconds), then fails vaguely.
  const lower = basename(path).toLowerCase();
  const known = [...io.extensionToImageIo.keys()];
  if (!known.some((ext) => lower.endsWith(`.${ext}`))) {
    throw new DataFileError(path, `unknown image format: the name should end with one of ${known.map((e) => `.${e}`).join(', ')}`);
  }
  const dir = dirname(path);
  let tmp: string;
  try {
    tmp = await mkdtemp(join(dir, '.swinmm-write-'));
  } catch (err) {
    throw new DataFileError(path, `cannot write into ${dir} (${(err as Error).message})`);
  }
  try {
    const name = basename(path);
    try {
      await keepExitCode(() => io.writeImageNode(image, join(tmp, name), { useCompression: Boolean(options.compress) }));
    } catch (err) {
      throw new DataFileError(path, `itk-wasm could not write it (${describeError(err)})`);
    }
    const written = await readdir(tmp);
    if (!written.includes(name)) throw new DataFileError(path, `itk-wasm reported success but wrote ${JSON.stringify(written)}`);
    // Detached headers (.nhdr, .mhd) name their data file relative to themselves: move data first.
    for (const f of written) if (f !== name) await rename(join(tmp, f), join(dir, f));
    await rename(join(tmp, name), path);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
