/**
 * The Hugging Face safetensors format, read and written in plain TypeScript (no tensor library).
 *
 * Layout: an 8-byte little-endian u64 header length `N`, a UTF-8 JSON header of `N` bytes
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`), then
 * the raw little-endian C-order bytes; offsets are relative to the first byte after the header.
 *
 * @module
 */

/** Every dtype the format defines. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/**
 * The typed array a dtype is read into. `F16` and `BF16` come back as their raw 16-bit patterns
 * (`Uint16Array`, JavaScript has no half float; see {@link safetensorToFloat32}); `BOOL` as bytes.
 */
export type SafetensorData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** One tensor of a safetensors file. */
export interface SafetensorEntry {
  /** The stored dtype. */
  dtype: SafetensorsDtype;
  /** The shape (C order); `[]` for a scalar. */
  shape: number[];
  /** The elements in C order. */
  data: SafetensorData;
}

/** Options for {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** A file name or description used in error messages. */
  source?: string;
  /**
   * Copy every tensor's bytes (default false). Without copying, tensors whose offset is aligned
   * to their item size are views into `bytes` (no copy; they change if `bytes` changes); the
   * others are copied.
   */
  copy?: boolean;
}

/** Options for {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** String key/value pairs stored under `__metadata__`. */
  metadata?: Record<string, string>;
}

interface DtypeInfo {
  size: number;
  make: (buffer: ArrayBuffer, byteOffset: number, length: number) => SafetensorData;
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  F64: { size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  F32: { size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  F16: { size: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  BF16: { size: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  I64: { size: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  I32: { size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  I16: { size: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  I8: { size: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  U64: { size: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
  U32: { size: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  U16: { size: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  U8: { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  BOOL: { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

/** The item size in bytes of a safetensors dtype. */
export function safetensorsDtypeSize(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].size;
}

/** The largest header the reference implementation accepts (100 MB); guards against garbage. */
const MAX_HEADER_BYTES = 100_000_000;

/** The metadata key of a safetensors header. */
const METADATA_KEY = '__metadata__';

/** Raised for a malformed safetensors file; the message names the file and what was wrong. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/**
 * Read the metadata (`__metadata__`) of a safetensors file without reading its tensors.
 * Returns `{}` when there is none.
 */
export function readSafetensorsMetadata(bytes: Uint8Array, options: { source?: string } = {}): Record<string, string> {
  const { header } = parseHeader(bytes, options.source ?? 'safetensors data');
  return header.metadata;
}

interface ParsedHeader {
  dataStart: number;
  entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[];
  metadata: Record<string, string>;
}

function parseHeader(bytes: Uint8Array, where: string): { header: ParsedHeader } {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError(`${where}: expected a Uint8Array, found ${Object.prototype.toString.call(bytes)}`);
  }
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(`${where}: expected at least 8 bytes (the header length), found ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`${where}: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  const n = Number(headerLength);
  if (8 + n > bytes.byteLength) {
    throw new SafetensorsError(`${where}: header length ${n} runs past the end of the data (${bytes.byteLength} bytes; expected at least ${8 + n})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    throw new SafetensorsError(`${where}: the ${n}-byte header is not valid UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError(`${where}: expected the header to be a JSON object, found ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: ParsedHeader['entries'] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new SafetensorsError(`${where}: expected "${METADATA_KEY}" to be an object of strings, found ${JSON.stringify(raw)}`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(`${where}: metadata "${k}" must be a string, found ${typeof v}`);
        }
        metadata[k] = v;
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object') {
      throw new SafetensorsError(`${where}: tensor "${name}": expected {dtype, shape, data_offsets}, found ${JSON.stringify(raw)}`);
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!isDtype(dtype)) {
      throw new SafetensorsError(`${where}: tensor "${name}": unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new SafetensorsError(`${where}: tensor "${name}": expected shape to be an array of non-negative integers, found ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(`${where}: tensor "${name}": expected data_offsets [begin, end] of non-negative integers, found ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (end < begin) {
      throw new SafetensorsError(`${where}: tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    }
    if (end > dataLength) {
      throw new SafetensorsError(`${where}: tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the data section (${dataLength} bytes)`);
    }
    const expectedBytes = product(shape as number[]) * DTYPES[dtype].size;
    if (end - begin !== expectedBytes) {
      throw new SafetensorsError(
        `${where}: tensor "${name}": ${dtype} shape [${(shape as number[]).join(', ')}] needs ${expectedBytes} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }
  // The format requires the tensors to tile the data section exactly: no overlap, no hole.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin !== cursor) {
      throw new SafetensorsError(
        e.begin < cursor
          ? `${where}: tensor "${e.name}" at data_offsets [${e.begin}, ${e.end}] overlaps the previous tensor (which ends at ${cursor})`
          : `${where}: tensor "${e.name}" at data_offsets [${e.begin}, ${e.end}] leaves a hole of ${e.begin - cursor} bytes after offset ${cursor}`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    throw new SafetensorsError(`${where}: the tensors cover ${cursor} bytes but the data section has ${dataLength}`);
  }
  return { header: { dataStart, entries, metadata } };
}

/**
 * Parse a safetensors file.
 *
 * @param bytes the whole file.
 * @returns a map from tensor name to dtype, shape and data, in header order.
 * @throws SafetensorsError when the header length, JSON, dtypes, shapes or offsets are invalid;
 *   the message says what was expected and what was found.
 */
export function readSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): Map<string, SafetensorEntry> {
  const where = options.source ?? 'safetensors data';
  const { header } = parseHeader(bytes, where);
  const out = new Map<string, SafetensorEntry>();
  for (const e of header.entries) {
    const info = DTYPES[e.dtype];
    const count = (e.end - e.begin) / info.size;
    const absolute = bytes.byteOffset + header.dataStart + e.begin;
    let data: SafetensorData;
    if (!options.copy && absolute % info.size === 0) {
      data = info.make(bytes.buffer as ArrayBuffer, absolute, count);
    } else {
      const copy = new Uint8Array(e.end - e.begin);
      copy.set(bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end));
      data = info.make(copy.buffer, 0, count);
    }
    out.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return out;
}

function expectedArrayName(dtype: SafetensorsDtype): string {
  switch (dtype) {
    case 'F64':
      return 'Float64Array';
    case 'F32':
      return 'Float32Array';
    case 'F16':
    case 'BF16':
    case 'U16':
      return 'Uint16Array';
    case 'I64':
      return 'BigInt64Array';
    case 'U64':
      return 'BigUint64Array';
    case 'I32':
      return 'Int32Array';
    case 'U32':
      return 'Uint32Array';
    case 'I16':
      return 'Int16Array';
    case 'I8':
      return 'Int8Array';
    case 'U8':
    case 'BOOL':
      return 'Uint8Array';
  }
}

/**
 * Serialise tensors to the safetensors format.
 *
 * Tensors are laid out by decreasing item size (stable otherwise), so that every tensor starts at
 * a multiple of its item size and readers can view the data without copying; the header is padded
 * with spaces so the data section starts at a multiple of 8.
 *
 * @param tensors name → {dtype, shape, data}; `data` must be the typed array of the dtype
 *   (see {@link SafetensorData}) with exactly `prod(shape)` elements.
 * @throws SafetensorsError naming the tensor whose dtype, array type or length is wrong.
 */
export function writeSafetensors(
  tensors: Map<string, SafetensorEntry> | Record<string, SafetensorEntry>,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (name === METADATA_KEY) throw new SafetensorsError(`tensor name "${METADATA_KEY}" is reserved for metadata`);
    if (!isDtype(t.dtype)) {
      throw new SafetensorsError(`tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)} (expected one of ${Object.keys(DTYPES).join(', ')})`);
    }
    if (!t.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new SafetensorsError(`tensor "${name}": expected a shape of non-negative integers, found [${t.shape.join(', ')}]`);
    }
    const arrayName = expectedArrayName(t.dtype);
    if (t.data?.constructor?.name !== arrayName) {
      throw new SafetensorsError(`tensor "${name}": dtype ${t.dtype} needs a ${arrayName}, found ${t.data?.constructor?.name ?? typeof t.data}`);
    }
    const n = product(t.shape);
    if (t.data.length !== n) {
      throw new SafetensorsError(`tensor "${name}": shape [${t.shape.join(', ')}] has ${n} elements, but the data has ${t.data.length}`);
    }
  }
  const ordered = list
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => DTYPES[b.entry[1].dtype].size - DTYPES[a.entry[1].dtype].size || a.i - b.i)
    .map((x) => x.entry);
  const header: Record<string, unknown> = {};
  if (options.metadata && Object.keys(options.metadata).length > 0) {
    for (const [k, v] of Object.entries(options.metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string, found ${typeof v}`);
    }
    header[METADATA_KEY] = options.metadata;
  }
  let offset = 0;
  for (const [name, t] of ordered) {
    const size = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let cursor = 8 + json.length;
  for (const [, t] of ordered) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), cursor);
    cursor += t.data.byteLength;
  }
  return out;
}

/** Decode one IEEE half-precision bit pattern. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * The values of a tensor as float32, whatever its dtype (F16/BF16 decoded from their bit
 * patterns; integers converted, which is exact up to 2^24). Returns the tensor's own array for F32.
 */
export function safetensorToFloat32(entry: SafetensorEntry): Float32Array {
  const { dtype, data } = entry;
  if (dtype === 'F32') return data as Float32Array;
  const out = new Float32Array(data.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    const src = data as Uint16Array;
    for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
    return out;
  }
  if (dtype === 'F16') {
    const src = data as Uint16Array;
    for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
    return out;
  }
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
