/**
 * `readTorchCheckpoint`: files written by `torch.save` (PyTorch ≥ 1.6 zip format), read in plain
 * TypeScript with a restricted unpickler — no Python, no tensor library, nothing executed.
 *
 * A checkpoint is a zip with `<root>/data.pkl` (the pickled object), `<root>/data/<key>` (one raw
 * little-endian entry per storage) and `<root>/version`. `<root>` is `archive` in recent PyTorch
 * and the file stem in 1.13, so it is taken from wherever `data.pkl` sits. Tensors are pickled as
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` where
 * `storage` is a persistent id `('storage', torch.FloatStorage, '<key>', 'cpu', numel)`.
 *
 * @module
 */
import { TorchCheckpointError, WeightsFormatError } from './errors.js';
import {
  NumpyDtype,
  PyGlobal,
  PyTuple,
  pyTypeName,
  sequenceItems,
  standardGlobals,
  unpickle,
  type GlobalImplementation,
  type PyValue,
} from './pickle.js';
import { TORCH_DTYPES, TORCH_STORAGE_TYPES, TorchStorage, TorchTensor, type TorchDtype, type TorchTensorData } from './tensor.js';
import { ZipArchive, looksLikeZip } from './zip.js';

/** Options for {@link parseTorchCheckpoint} / {@link readTorchCheckpoint}. */
export interface ReadTorchCheckpointOptions {
  /** Names the file in error messages (defaults to the path, or "checkpoint bytes"). */
  source?: string;
  /** Check the CRC-32 of every zip entry read (default true). */
  verifyCrc?: boolean;
  /**
   * Copy tensor data out of the file buffer (default false: contiguous tensors whose bytes are
   * aligned are views of the file's bytes, which saves memory for large checkpoints).
   */
  copy?: boolean;
  /**
   * Extra globals (`module.name`) to accept as inert objects — for example `argparse.Namespace`
   * in a checkpoint that stores its command line. Nothing is ever executed for them.
   */
  opaqueGlobals?: readonly string[];
  /** Refuse tensors with more elements than this (default 2^31); guards against stride-0 bombs. */
  maxTensorElements?: number;
}

/** A parsed `torch.save` file. */
export interface TorchCheckpoint {
  /** The unpickled object (a dict for a training checkpoint, an OrderedDict for a state_dict). */
  root: PyValue;
  /** The folder inside the zip that holds `data.pkl` (`archive`, or the file stem in torch 1.13). */
  archiveFolder: string;
  /** The content of `<folder>/version` when present (`'3'` for torch 1.13). */
  formatVersion?: string;
  /** Number of distinct storages that were read. */
  storageCount: number;
  /** Names the file in error messages. */
  source: string;
}

/** The 10-byte magic number that starts a legacy (pre-1.6) `torch.save` pickle, after `\x80\x02\x8a\x0a`. */
const LEGACY_MAGIC = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

const RESAVE_HINT =
  'Re-save it with PyTorch ≥ 1.6, which writes the zip format by default: ' +
  "python -c \"import torch; torch.save(torch.load('old.pt', map_location='cpu'), 'new.pt')\" " +
  '(only load files you trust with torch.load).';

function isLegacy(bytes: Uint8Array): boolean {
  if (bytes.length < 14 || bytes[0] !== 0x80 || bytes[2] !== 0x8a || bytes[3] !== 0x0a) return false;
  return LEGACY_MAGIC.every((b, i) => bytes[4 + i] === b);
}

function isTar(bytes: Uint8Array): boolean {
  // POSIX tar: "ustar" at offset 257 (the very first torch.save format was a tar file).
  return bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar';
}

function intArg(v: PyValue, what: string, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new TorchCheckpointError(`${where}: expected ${what} to be an integer, found ${pyTypeName(v)}${typeof v === 'number' ? ` ${v}` : ''}`);
  }
  return v;
}

function intTuple(v: PyValue, what: string, where: string): number[] {
  return sequenceItems(v, what, where).map((x, i) => intArg(x, `${what}[${i}]`, where));
}

const TORCH_DTYPE_NAMES = ['float64', 'float32', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'double', 'float', 'half', 'long', 'int', 'short'];

/** Numpy scalar decoding: dtype code → [item size, read]. */
function numpyScalar(dtype: NumpyDtype, raw: Uint8Array, where: string): PyValue {
  const code = dtype.code.replace(/^[<>|=]/, '');
  const little = dtype.byteOrder !== '>';
  const need: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };
  const size = need[code];
  if (size === undefined) throw new TorchCheckpointError(`${where}: numpy scalar of dtype "${dtype.code}" is not supported (expected a numeric dtype)`);
  if (raw.length !== size) throw new TorchCheckpointError(`${where}: numpy ${code} scalar needs ${size} bytes, found ${raw.length}`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  switch (code) {
    case 'f2':
      return halfBitsToNumber(view.getUint16(0, little));
    case 'f4':
      return view.getFloat32(0, little);
    case 'f8':
      return view.getFloat64(0, little);
    case 'i1':
      return view.getInt8(0);
    case 'i2':
      return view.getInt16(0, little);
    case 'i4':
      return view.getInt32(0, little);
    case 'u1':
      return view.getUint8(0);
    case 'u2':
      return view.getUint16(0, little);
    case 'u4':
      return view.getUint32(0, little);
    case 'b1':
      return view.getUint8(0) !== 0;
    case 'i8': {
      const v = view.getBigInt64(0, little);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    default: {
      const v = view.getBigUint64(0, little);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
  }
}

function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return sign * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * 2 ** (e - 15) * (1 + f / 1024);
}

/** Largest tensor that may be materialised from a storage with fewer elements (stride-0 views). */
const MAX_EXPANDED_ELEMENTS = 2 ** 24;

class CheckpointLoader {
  private readonly storages = new Map<string, TorchStorage>();
  private readonly maxElements: number;

  constructor(
    private readonly zip: ZipArchive,
    private readonly folder: string,
    private readonly options: ReadTorchCheckpointOptions,
    private readonly source: string,
  ) {
    this.maxElements = options.maxTensorElements ?? 2 ** 31;
  }

  storageCount(): number {
    return new Set([...this.storages.values()].map((s) => s.key)).size;
  }

  persistentLoad = (pid: PyValue, where: string): PyValue => {
    const items = sequenceItems(pid, 'the persistent id', where);
    if (items[0] !== 'storage' || items.length !== 5) {
      throw new TorchCheckpointError(
        `${where}: expected a persistent id ('storage', type, key, location, numel), found a ${items.length}-tuple starting ${JSON.stringify(typeof items[0] === 'string' ? items[0] : pyTypeName(items[0]))}`,
      );
    }
    const [, type, key, location, numelValue] = items;
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in TORCH_STORAGE_TYPES)) {
      throw new TorchCheckpointError(`${where}: expected a torch.*Storage type in the persistent id, found ${pyTypeName(type)}`);
    }
    if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) {
      throw new TorchCheckpointError(`${where}: expected a storage key made of letters/digits, found ${typeof key === 'string' ? JSON.stringify(key) : pyTypeName(key)}`);
    }
    const dtype = TORCH_STORAGE_TYPES[type.name];
    const numel = intArg(numelValue, 'the storage size', where);
    if (numel < 0) throw new TorchCheckpointError(`${where}: negative storage size ${numel}`);
    const cacheKey = `${key}/${dtype}`;
    const cached = this.storages.get(cacheKey);
    if (cached) {
      if (cached.numel !== numel) {
        throw new TorchCheckpointError(`${where}: storage "${key}" is referenced with ${numel} and ${cached.numel} elements`);
      }
      return cached;
    }
    const entryName = `${this.folder}/data/${key}`;
    if (!this.zip.entry(entryName)) {
      throw new TorchCheckpointError(`${this.source}: the pickle references storage "${key}" but the archive has no entry "${entryName}"`);
    }
    const bytes = this.zip.read(entryName);
    const need = numel * TORCH_DTYPES[dtype].itemSize;
    if (bytes.length < need) {
      throw new TorchCheckpointError(
        `${this.source}: storage "${key}" (torch.${type.name}, ${numel} elements) needs ${need} bytes, but entry "${entryName}" holds ${bytes.length}`,
      );
    }
    const storage = new TorchStorage(key, dtype, numel, bytes, typeof location === 'string' ? location : 'cpu');
    this.storages.set(cacheKey, storage);
    return storage;
  };

  rebuildTensor(args: PyValue[], where: string): TorchTensor {
    if (args.length < 4) throw new TorchCheckpointError(`${where}: expected (storage, offset, size, stride, …), found ${args.length} arguments`);
    const [storage, offsetValue, sizeValue, strideValue, requiresGrad] = args;
    if (!(storage instanceof TorchStorage)) throw new TorchCheckpointError(`${where}: expected a storage as first argument, found ${pyTypeName(storage)}`);
    const offset = intArg(offsetValue, 'the storage offset', where);
    const shape = intTuple(sizeValue, 'the size', where);
    const stride = intTuple(strideValue, 'the stride', where);
    if (shape.length !== stride.length) {
      throw new TorchCheckpointError(`${where}: size [${shape.join(', ')}] and stride [${stride.join(', ')}] have different lengths`);
    }
    if (shape.some((s) => s < 0) || stride.some((s) => s < 0) || offset < 0) {
      throw new TorchCheckpointError(`${where}: negative size, stride or offset (size [${shape.join(', ')}], stride [${stride.join(', ')}], offset ${offset})`);
    }
    let numel = 1;
    for (const s of shape) numel *= s;
    if (numel > this.maxElements) {
      throw new TorchCheckpointError(`${where}: tensor of size [${shape.join(', ')}] has ${numel} elements, above the limit of ${this.maxElements}`);
    }
    const info = TORCH_DTYPES[storage.dtype];
    if (numel === 0) return new TorchTensor(storage.dtype, shape, info.make(new ArrayBuffer(0), 0, 0), requiresGrad === true);
    let last = offset;
    for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
    if (last >= storage.numel) {
      throw new TorchCheckpointError(
        `${where}: tensor of size [${shape.join(', ')}], stride [${stride.join(', ')}] at offset ${offset} reaches element ${last}, ` +
          `but its storage "${storage.key}" holds ${storage.numel} elements`,
      );
    }
    // Views with stride 0 can describe far more elements than their storage holds; materialising
    // them costs memory the file never paid for, so large expansions are refused.
    if (numel > storage.numel && numel > MAX_EXPANDED_ELEMENTS) {
      throw new TorchCheckpointError(
        `${where}: tensor of size [${shape.join(', ')}] (${numel} elements) is an expanded view of storage "${storage.key}" ` +
          `(${storage.numel} elements); refusing to materialise more than ${MAX_EXPANDED_ELEMENTS} elements from a smaller storage`,
      );
    }
    const data = this.materialise(storage, offset, shape, stride, numel);
    return new TorchTensor(storage.dtype, shape, data, requiresGrad === true);
  }

  private materialise(storage: TorchStorage, offset: number, shape: number[], stride: number[], numel: number): TorchTensorData {
    const src = storage.data();
    // C-contiguous (ignoring size-1 dims, whose stride is arbitrary): a slice of the storage.
    let expected = 1;
    let contiguous = true;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (shape[d] === 1) continue;
      if (stride[d] !== expected) {
        contiguous = false;
        break;
      }
      expected *= shape[d];
    }
    if (contiguous) {
      const view = src.subarray(offset, offset + numel) as TorchTensorData;
      return this.options.copy ? (view.slice() as TorchTensorData) : view;
    }
    // A strided view (transposed, sliced, expanded): gather it into C order.
    const info = TORCH_DTYPES[storage.dtype];
    const out = info.make(new ArrayBuffer(numel * info.itemSize), 0, numel);
    const rank = shape.length;
    const index = new Array<number>(rank).fill(0);
    let at = offset;
    const inner = rank - 1;
    const innerSize = shape[inner];
    const innerStride = stride[inner];
    const set = out as unknown as { [i: number]: number | bigint };
    const get = src as unknown as { [i: number]: number | bigint };
    for (let o = 0; o < numel; ) {
      for (let k = 0, p = at; k < innerSize; k++, p += innerStride) set[o++] = get[p];
      // Odometer over the outer dims.
      let d = inner - 1;
      for (; d >= 0; d--) {
        index[d]++;
        at += stride[d];
        if (index[d] < shape[d]) break;
        at -= stride[d] * shape[d];
        index[d] = 0;
      }
      if (d < 0) break;
    }
    return out;
  }

  globals(): Map<string, GlobalImplementation> {
    const g = standardGlobals();
    for (const name of Object.keys(TORCH_STORAGE_TYPES)) g.set(`torch.${name}`, {});
    for (const name of TORCH_DTYPE_NAMES) g.set(`torch.${name}`, {});
    const rebuild: GlobalImplementation = { call: (args, where) => this.rebuildTensor(args, where) };
    g.set('torch._utils._rebuild_tensor_v2', rebuild);
    g.set('torch._utils._rebuild_tensor', rebuild);
    const parameter: GlobalImplementation = {
      call: (args, where) => {
        const [data, requiresGrad] = args;
        if (!(data instanceof TorchTensor)) throw new TorchCheckpointError(`${where}: expected a tensor, found ${pyTypeName(data)}`);
        return new TorchTensor(data.dtype, data.shape, data.data, requiresGrad === true, true);
      },
    };
    g.set('torch._utils._rebuild_parameter', parameter);
    g.set('torch._utils._rebuild_parameter_with_state', parameter);
    g.set('torch.Size', { call: (args, where) => new PyTuple(args.length === 0 ? [] : intTuple(args[0], 'torch.Size', where)) });
    g.set('torch.device', {
      call: (args, where) => {
        const [type, index] = args;
        if (typeof type !== 'string') throw new TorchCheckpointError(`${where}: expected a device type string, found ${pyTypeName(type)}`);
        return typeof index === 'number' ? `${type}:${index}` : type;
      },
    });
    const dtype: GlobalImplementation = {
      call: (args, where) => {
        if (typeof args[0] !== 'string') throw new TorchCheckpointError(`${where}: expected a dtype code string, found ${pyTypeName(args[0])}`);
        return new NumpyDtype(args[0]);
      },
    };
    const scalar: GlobalImplementation = {
      call: (args, where) => {
        const [dt, raw] = args;
        if (!(dt instanceof NumpyDtype) || !(raw instanceof Uint8Array)) {
          throw new TorchCheckpointError(`${where}: expected (numpy dtype, bytes), found (${pyTypeName(dt)}, ${pyTypeName(raw)})`);
        }
        return numpyScalar(dt, raw, where);
      },
    };
    g.set('numpy.dtype', dtype);
    g.set('numpy.core.multiarray.scalar', scalar);
    g.set('numpy._core.multiarray.scalar', scalar);
    return g;
  }
}

/**
 * Parse the bytes of a `torch.save` file.
 *
 * @throws WeightsFormatError (or a subclass: ZipFormatError, PickleFormatError,
 *   UnsafePickleError naming a refused global, TorchCheckpointError) for anything malformed,
 *   unsafe or unsupported, including the legacy pre-1.6 format (with instructions to re-save).
 */
export function parseTorchCheckpoint(bytes: Uint8Array, options: ReadTorchCheckpointOptions = {}): TorchCheckpoint {
  const source = options.source ?? 'checkpoint bytes';
  if (!(bytes instanceof Uint8Array)) {
    throw new TorchCheckpointError(`${source}: expected a Uint8Array of file bytes, found ${Object.prototype.toString.call(bytes)}`);
  }
  if (isLegacy(bytes)) {
    throw new TorchCheckpointError(`${source}: this is the legacy (pre-1.6) torch.save format, which is not supported. ${RESAVE_HINT}`);
  }
  if (isTar(bytes)) {
    throw new TorchCheckpointError(`${source}: this is the tar-based torch.save format of PyTorch < 0.4, which is not supported. ${RESAVE_HINT}`);
  }
  if (!looksLikeZip(bytes)) {
    const head = Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new TorchCheckpointError(
      `${source}: expected a torch.save zip archive (starting with "PK\\x03\\x04"), found bytes ${head || '(empty file)'}` +
        (bytes[0] === 0x80 ? `; it looks like a bare pickle. ${RESAVE_HINT}` : ''),
    );
  }
  const zip = new ZipArchive(bytes, source, { verifyCrc: options.verifyCrc });
  const pickles = zip.names().filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length === 0) {
    const hint = zip.names().some((n) => n.endsWith('constants.pkl'))
      ? ' (this looks like a TorchScript archive: save model.state_dict() with torch.save instead)'
      : '';
    throw new TorchCheckpointError(`${source}: expected an entry "<folder>/data.pkl", found none among ${zip.names().slice(0, 10).join(', ') || 'no entries'}${hint}`);
  }
  if (pickles.length > 1) throw new TorchCheckpointError(`${source}: expected one "<folder>/data.pkl", found ${pickles.join(', ')}`);
  const folder = pickles[0].slice(0, -'/data.pkl'.length);
  let formatVersion: string | undefined;
  if (zip.entry(`${folder}/version`)) formatVersion = new TextDecoder().decode(zip.read(`${folder}/version`)).trim();
  const byteOrderEntry = zip.entry(`${folder}/byteorder`) ? new TextDecoder().decode(zip.read(`${folder}/byteorder`)).trim() : 'little';
  if (byteOrderEntry !== 'little') {
    throw new TorchCheckpointError(`${source}: storages are "${byteOrderEntry}"-endian; only little-endian checkpoints are supported`);
  }
  const loader = new CheckpointLoader(zip, folder, options, source);
  const hasTorchScript = zip.names().some((n) => n === `${folder}/constants.pkl`);
  let root: PyValue;
  try {
    root = unpickle(zip.read(pickles[0]), {
      globals: loader.globals(),
      persistentLoad: loader.persistentLoad,
      opaqueGlobals: options.opaqueGlobals,
      source: `${source}: ${pickles[0]}`,
    });
  } catch (error) {
    if (hasTorchScript && error instanceof WeightsFormatError) {
      error.message += ' (this looks like a TorchScript archive: save model.state_dict() with torch.save instead)';
    }
    throw error;
  }
  return { root, archiveFolder: folder, formatVersion, storageCount: loader.storageCount(), source };
}

/**
 * Read a `torch.save` file (PyTorch ≥ 1.6 zip format) from a path or from its bytes.
 *
 * @example
 * ```ts
 * const ckpt = await readTorchCheckpoint('model.pt');
 * const sd = extractStateDict(ckpt.root);          // Map<name, TorchTensor>
 * ```
 * @throws WeightsFormatError (see {@link parseTorchCheckpoint}); Node's fs errors for a missing file.
 */
export async function readTorchCheckpoint(input: string | Uint8Array, options: ReadTorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
  if (typeof input === 'string') {
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(input);
    return parseTorchCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...options, source: options.source ?? input });
  }
  return parseTorchCheckpoint(input, options);
}

export type { TorchDtype };
