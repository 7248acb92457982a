/**
 * `writeTorchCheckpoint`: the other direction — a state dict (or a checkpoint dict around one) as
 * a `torch.save` zip file that `torch.load` reads, with the layout PyTorch writes: `archive/data.pkl`
 * (pickle protocol 2), one `archive/data/<n>` entry per tensor (raw little-endian bytes, aligned
 * to 64 bytes like PyTorch does), `archive/version` = 3 and `archive/byteorder` = little.
 *
 * Only data is written: dicts, OrderedDicts, lists, tuples, strings, numbers, booleans, None and
 * tensors. JavaScript numbers that are integers are written as Python ints, others as floats.
 *
 * @module
 */
import { crc32 } from './crc32.js';
import { WeightsFormatError } from './errors.js';
import { PyDict, PyTuple, pyTypeName, type PyValue } from './pickle.js';
import { TorchTensor, typedArrayBytes, type TorchDtype } from './tensor.js';

const STORAGE_OF: Record<TorchDtype, string> = {
  float64: 'DoubleStorage',
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

class PickleWriter {
  private chunks: number[] = [];
  readonly storages: Uint8Array[] = [];

  /** Appends raw bytes (opcodes and their arguments). */
  byte(...b: number[]): void {
    for (const x of b) this.chunks.push(x);
  }

  private u32(n: number): void {
    this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  private text(s: string): void {
    const b = new TextEncoder().encode(s);
    this.byte(0x58);
    this.u32(b.length);
    for (const x of b) this.chunks.push(x);
  }

  private global(module: string, name: string): void {
    this.byte(0x63);
    for (const x of new TextEncoder().encode(`${module}\n${name}\n`)) this.chunks.push(x);
  }

  private int(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < 256) return this.byte(0x4b, n);
    if (typeof n === 'number' && n >= 0 && n < 65536) return this.byte(0x4d, n & 0xff, n >>> 8);
    if (typeof n === 'number' && n >= -2147483648 && n <= 2147483647) {
      this.byte(0x4a);
      return this.u32(n >>> 0);
    }
    // LONG1: little-endian two's complement, minimal length.
    let v = BigInt(n);
    const out: number[] = [];
    for (;;) {
      const b = Number(v & 0xffn);
      out.push(b);
      v >>= 8n;
      if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
    }
    this.byte(0x8a, out.length, ...out);
  }

  private tensor(t: TorchTensor, at: string): void {
    const key = String(this.storages.length);
    this.storages.push(typedArrayBytes(t.data));
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.byte(0x28); // MARK: the argument tuple
    this.byte(0x28); // MARK: the persistent id
    this.text('storage');
    this.global('torch', STORAGE_OF[t.dtype]);
    this.text(key);
    this.text('cpu');
    this.int(t.numel);
    this.byte(0x74, 0x51); // TUPLE, BINPERSID
    this.int(0); // storage offset
    const strides: number[] = [];
    let s = 1;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      strides[d] = s;
      s *= t.shape[d];
    }
    this.byte(0x28);
    for (const d of t.shape) this.int(d);
    this.byte(0x74, 0x28);
    for (const d of strides) this.int(d);
    this.byte(0x74, t.requiresGrad ? 0x88 : 0x89);
    this.global('collections', 'OrderedDict');
    this.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE: backward hooks
    this.byte(0x74, 0x52); // TUPLE, REDUCE
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new WeightsFormatError(`${at}: tensor of shape [${t.shape.join(', ')}] has ${t.data.length} elements`);
    }
  }

  value(v: PyValue, at: string, depth = 0): void {
    if (depth > 100) throw new WeightsFormatError(`${at}: nesting deeper than 100 levels (a cycle?)`);
    if (v === null) return this.byte(0x4e);
    if (v === true) return this.byte(0x88);
    if (v === false) return this.byte(0x89);
    if (typeof v === 'string') return this.text(v);
    if (typeof v === 'bigint') return this.int(v);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) return this.int(v);
      this.byte(0x47);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v, false);
      return this.byte(...b);
    }
    if (v instanceof TorchTensor) return this.tensor(v, at);
    if (Array.isArray(v)) {
      this.byte(0x5d);
      if (v.length) {
        this.byte(0x28);
        v.forEach((x, i) => this.value(x, `${at}[${i}]`, depth + 1));
        this.byte(0x65);
      }
      return;
    }
    if (v instanceof PyTuple) {
      this.byte(0x28);
      v.items.forEach((x, i) => this.value(x, `${at}[${i}]`, depth + 1));
      return this.byte(0x74);
    }
    if (v instanceof PyDict) {
      if (v.kind === 'OrderedDict') {
        this.global('collections', 'OrderedDict');
        this.byte(0x29, 0x52);
      } else {
        this.byte(0x7d);
      }
      if (v.size) {
        this.byte(0x28);
        for (const [k, x] of v) {
          this.value(k, `${at} key`, depth + 1);
          this.value(x, `${at}[${typeof k === 'string' ? JSON.stringify(k) : String(k)}]`, depth + 1);
        }
        this.byte(0x75);
      }
      return;
    }
    throw new WeightsFormatError(`${at}: cannot write a ${pyTypeName(v)} to a torch checkpoint (only data and tensors)`);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

interface ZipRecord {
  name: string;
  data: Uint8Array;
}

/** A stored (uncompressed) zip whose entries' data start at multiples of 64, as PyTorch writes. */
function storedZip(records: ZipRecord[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const r of records) {
    const name = enc.encode(r.name);
    const base = offset + 30 + name.length;
    // PyTorch pads with an extra field (id "FB") so that the data is 64-byte aligned.
    const pad = (64 - ((base + 4) % 64)) % 64;
    const extraLen = 4 + pad;
    if (offset > 0xfffffffe || r.data.length > 0xfffffffe) throw new WeightsFormatError(`torch checkpoint: entries above 4 GB (zip64) are not supported by this writer`);
    const crc = crc32(r.data);
    const local = new Uint8Array(30 + name.length + extraLen);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, r.data.length, true);
    lv.setUint32(22, r.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(name, 30);
    lv.setUint16(30 + name.length, 0x4246, true); // "FB"
    lv.setUint16(32 + name.length, pad, true);
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, r.data.length, true);
    cv.setUint32(24, r.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    central.push(c);
    parts.push(local, r.data);
    offset += local.length + r.data.length;
  }
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, records.length, true);
  ev.setUint16(10, records.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Options for {@link writeTorchCheckpoint}. */
export interface WriteTorchCheckpointOptions {
  /** The folder inside the zip (default `archive`, what PyTorch ≥ 2 writes). */
  folder?: string;
}

/**
 * Serialise a value (typically `{state_dict: OrderedDict of tensors, epoch: …}` or a bare
 * OrderedDict of tensors) in the `torch.save` zip format. Each tensor gets its own contiguous
 * storage.
 *
 * @throws WeightsFormatError for values that are not plain data or tensors.
 */
export function writeTorchCheckpoint(value: PyValue, options: WriteTorchCheckpointOptions = {}): Uint8Array {
  const folder = options.folder ?? 'archive';
  if (!/^[A-Za-z0-9_.-]+$/.test(folder)) throw new WeightsFormatError(`torch checkpoint folder must be a simple name, found "${folder}"`);
  const w = new PickleWriter();
  w.byte(0x80, 0x02);
  w.value(value, 'checkpoint');
  w.byte(0x2e);
  const enc = new TextEncoder();
  return storedZip([
    { name: `${folder}/data.pkl`, data: w.bytes() },
    { name: `${folder}/byteorder`, data: enc.encode('little') },
    ...w.storages.map((data, i) => ({ name: `${folder}/data/${i}`, data })),
    { name: `${folder}/version`, data: enc.encode('3\n') },
  ]);
}

/** A state dict (name → tensor) as the `OrderedDict` PyTorch saves, optionally wrapped (`{wrapper: sd, ...extra}`). */
export function stateDictValue(tensors: Map<string, TorchTensor>, wrapper?: string, extra: Record<string, PyValue> = {}): PyValue {
  const sd = new PyDict();
  sd.kind = 'OrderedDict';
  for (const [k, t] of tensors) sd.set(k, t);
  if (!wrapper) return sd;
  const root = new PyDict();
  for (const [k, v] of Object.entries(extra)) root.set(k, v);
  root.set(wrapper, sd);
  return root;
}
