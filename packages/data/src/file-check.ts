/**
 * Checks on an image file made before itk-wasm sees it. itk-wasm accepts a truncated gzip stream
 * (it pads with zeros), reads a NIfTI file with a damaged magic as an Analyze file with identity
 * geometry, and reports a missing file as a bare number. These checks turn each of those into an
 * error that names the file and what is wrong.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';

/** Image file formats that {@link formatOf} recognises by extension. */
export type ImageFormat = 'nifti' | 'nrrd' | 'metaimage' | 'other';

/** The format of a path, from its (case-insensitive) extension. */
export function formatOf(path: string): { format: ImageFormat; gzip: boolean } {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.nii.gz')) return { format: 'nifti', gzip: true };
  if (name.endsWith('.nii')) return { format: 'nifti', gzip: false };
  if (name.endsWith('.nrrd') || name.endsWith('.nhdr')) return { format: 'nrrd', gzip: false };
  if (name.endsWith('.mha') || name.endsWith('.mhd')) return { format: 'metaimage', gzip: false };
  return { format: 'other', gzip: name.endsWith('.gz') };
}

/** An error about the content of a data file; `file` says which. */
export class DataFileError extends Error {
  /** The file the problem is in. */
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'DataFileError';
    this.file = file;
  }
}

/** Header fields of a NIfTI file that decide its geometry (as nibabel reads them). */
export interface NiftiHeaderInfo {
  /** 1 or 2. */
  version: 1 | 2;
  /** `dim[0..7]`. */
  dim: number[];
  /** `pixdim[0..7]`. */
  pixdim: number[];
  /** Bits per voxel. */
  bitpix: number;
  /** NIfTI datatype code (16 float32, 64 float64, …). */
  datatype: number;
  /** Byte order of the file. */
  littleEndian: boolean;
  /** Offset of the voxel data in the (decompressed) file. */
  voxOffset: number;
  qformCode: number;
  sformCode: number;
  /** quatern_b, quatern_c, quatern_d. */
  quatern: [number, number, number];
  /** qoffset_x, qoffset_y, qoffset_z. */
  qoffset: [number, number, number];
  /** srow_x, srow_y, srow_z. */
  srow: number[][];
}

const HEAD_BYTES = 1024;

/** Non-finite voxels found in a float NIfTI file, in file order (x fastest). */
export interface NonFiniteVoxels {
  /** Voxel indices in file order. */
  indices: number[];
  /** Their values (NaN, Infinity or -Infinity). */
  values: number[];
}

/**
 * Looks at every float voxel of a NIfTI stream for NaN/±Infinity. itk-wasm's NIfTI reader turns
 * them into 0 without a word, so they must be found in the file itself.
 */
class NonFiniteScanner {
  readonly found: NonFiniteVoxels = { indices: [], values: [] };
  private carry = Buffer.alloc(0);
  private offset = 0;
  constructor(
    private readonly start: number,
    private readonly bytes: 4 | 8,
    private readonly little: boolean,
    private readonly count: number,
  ) {}

  push(chunk: Buffer): void {
    let buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let pos = 0;
    if (this.offset < this.start) {
      const skip = Math.min(buf.length, this.start - this.offset);
      pos = skip;
      this.offset += skip;
    }
    const usable = pos + Math.floor((buf.length - pos) / this.bytes) * this.bytes;
    const b = this.bytes;
    for (; pos < usable; pos += b) {
      const index = (this.offset - this.start) / b;
      this.offset += b;
      if (index >= this.count) continue;
      const v =
        b === 4 ? (this.little ? buf.readFloatLE(pos) : buf.readFloatBE(pos)) : this.little ? buf.readDoubleLE(pos) : buf.readDoubleBE(pos);
      if (!Number.isFinite(v)) {
        this.found.indices.push(index);
        this.found.values.push(v);
      }
    }
    buf = buf.subarray(usable);
    this.carry = Buffer.from(buf);
  }
}

/**
 * Reads a file once, as a stream (decompressing gzip): returns its first bytes and full
 * (decompressed) length, and gives every chunk to `onChunk` once the head is known.
 */
async function streamFile(
  path: string,
  gzip: boolean,
  makeSink?: (head: Buffer) => ((chunk: Buffer) => void) | undefined,
): Promise<{ head: Buffer; total: number }> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new DataFileError(path, 'expected a file, found a directory or special file');
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(path, `cannot open it (${(err as Error).message})`);
  }
  return new Promise((resolve, reject) => {
    const pending: Buffer[] = [];
    let head: Buffer | undefined;
    let kept = 0;
    let total = 0;
    let sink: ((chunk: Buffer) => void) | undefined;
    let failed = false;
    const input = createReadStream(path);
    const stream = gzip ? input.pipe(createGunzip()) : input;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(err);
    };
    const startSink = (): void => {
      head = Buffer.concat(pending).subarray(0, HEAD_BYTES);
      try {
        sink = makeSink?.(head);
        if (sink) for (const c of pending) sink(c);
      } catch (err) {
        fail(err);
      }
    };
    input.on('error', (err) => fail(new DataFileError(path, `cannot read it (${err.message})`)));
    if (gzip) {
      // A truncated or corrupt gzip file is only detected when the stream reaches its end.
      stream.on('error', (err: Error) => fail(new DataFileError(path, `gzip data is truncated or corrupt (${err.message}) after ${total} decompressed bytes`)));
    }
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (head === undefined) {
        pending.push(chunk);
        kept += chunk.length;
        if (kept >= HEAD_BYTES) startSink();
      } else if (sink) {
        try {
          sink(chunk);
        } catch (err) {
          fail(err);
        }
      }
    });
    stream.on('end', () => {
      if (failed) return;
      if (head === undefined) startSink();
      if (!failed) resolve({ head: head ?? Buffer.alloc(0), total });
    });
  });
}

/** The first bytes of a file and its size, without reading the rest (formats itk-wasm checks itself). */
async function readHead(path: string, gzip: boolean): Promise<{ head: Buffer; total: number }> {
  if (gzip) return streamFile(path, true);
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new DataFileError(path, 'expected a file, found a directory or special file');
    size = s.size;
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(path, `cannot open it (${(err as Error).message})`);
  }
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
    await handle.read(head, 0, head.length, 0);
    return { head, total: size };
  } finally {
    await handle.close();
  }
}

function printable(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1'));
}

/** Parses and checks a NIfTI-1/2 header; throws {@link DataFileError} on a wrong size, magic or length. */
function parseNifti(path: string, head: Buffer, total: number): NiftiHeaderInfo {
  if (head.length < 348) {
    throw new DataFileError(path, `too short for a NIfTI header: ${total} bytes, a NIfTI-1 header needs 348`);
  }
  const le = head.readInt32LE(0);
  const be = head.readInt32BE(0);
  let version: 1 | 2;
  let little: boolean;
  if (le === 348 || be === 348) {
    version = 1;
    little = le === 348;
  } else if (le === 540 || be === 540) {
    version = 2;
    little = le === 540;
  } else {
    throw new DataFileError(path, `not a NIfTI file: sizeof_hdr (bytes 0-3) should be 348 or 540, found ${le}`);
  }
  const i16 = (o: number): number => (little ? head.readInt16LE(o) : head.readInt16BE(o));
  const i32 = (o: number): number => (little ? head.readInt32LE(o) : head.readInt32BE(o));
  const f32 = (o: number): number => (little ? head.readFloatLE(o) : head.readFloatBE(o));
  const f64 = (o: number): number => (little ? head.readDoubleLE(o) : head.readDoubleBE(o));
  const i64 = (o: number): number => Number(little ? head.readBigInt64LE(o) : head.readBigInt64BE(o));
  let info: NiftiHeaderInfo;
  if (version === 1) {
    const magic = head.subarray(344, 348);
    const text = magic.toString('latin1');
    if (text !== 'n+1\0' && text !== 'ni1\0') {
      throw new DataFileError(path, `NIfTI-1 magic (bytes 344-347) should be "n+1\\u0000", found ${printable(magic)}`);
    }
    info = {
      version,
      dim: Array.from({ length: 8 }, (_, i) => i16(40 + 2 * i)),
      pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)),
      bitpix: i16(72),
      datatype: i16(70),
      littleEndian: little,
      voxOffset: f32(108),
      qformCode: i16(252),
      sformCode: i16(254),
      quatern: [f32(256), f32(260), f32(264)],
      qoffset: [f32(268), f32(272), f32(276)],
      srow: [0, 1, 2].map((r) => Array.from({ length: 4 }, (_, i) => f32(280 + 16 * r + 4 * i))),
    };
  } else {
    if (head.length < 540) throw new DataFileError(path, `too short for a NIfTI-2 header: ${total} bytes, it needs 540`);
    const magic = head.subarray(4, 12);
    if (magic.toString('latin1') !== 'n+2\0\r\n\x1a\n') {
      throw new DataFileError(path, `NIfTI-2 magic (bytes 4-11) should be "n+2\\u0000\\r\\n\\u001a\\n", found ${printable(magic)}`);
    }
    info = {
      version,
      dim: Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i)),
      pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i)),
      bitpix: i16(14),
      datatype: i16(12),
      littleEndian: little,
      voxOffset: i64(168),
      qformCode: i32(344),
      sformCode: i32(348),
      quatern: [f64(352), f64(360), f64(368)],
      qoffset: [f64(376), f64(384), f64(392)],
      srow: [0, 1, 2].map((r) => Array.from({ length: 4 }, (_, i) => f64(400 + 32 * r + 8 * i))),
    };
  }
  const rank = info.dim[0];
  if (!(rank >= 1 && rank <= 7)) throw new DataFileError(path, `NIfTI dim[0] should be 1..7, found ${rank}`);
  for (let i = 1; i <= rank; i++) {
    if (!(info.dim[i] >= 1)) throw new DataFileError(path, `NIfTI dim[${i}] should be ≥ 1, found ${info.dim[i]}`);
  }
  return info;
}

function niftiVoxels(info: NiftiHeaderInfo): number {
  let voxels = 1;
  for (let i = 1; i <= info.dim[0]; i++) voxels *= info.dim[i];
  return voxels;
}

function niftiDataStart(info: NiftiHeaderInfo): number {
  return Math.max(info.voxOffset, info.version === 1 ? 352 : 544);
}

function checkNiftiLength(path: string, info: NiftiHeaderInfo, total: number): void {
  const rank = info.dim[0];
  const needed = niftiDataStart(info) + (niftiVoxels(info) * info.bitpix) / 8;
  if (total < needed) {
    throw new DataFileError(
      path,
      `truncated: the header declares ${info.dim.slice(1, rank + 1).join('×')} voxels of ${info.bitpix} bits from byte ` +
        `${info.voxOffset}, i.e. ${needed} bytes, but the (decompressed) file holds ${total}`,
    );
  }
}

/**
 * Checks a file before it is given to itk-wasm: it exists, a gzip stream decompresses to its end,
 * and for NIfTI the header size, magic and data length are right; NRRD and MetaImage headers
 * start the way their formats require. Returns the NIfTI header fields when the file is NIfTI.
 */
export async function checkImageFile(
  path: string,
): Promise<{ format: ImageFormat; nifti?: NiftiHeaderInfo; nonFinite?: NonFiniteVoxels }> {
  const { format, gzip } = formatOf(path);
  if (format === 'nifti') {
    let info: NiftiHeaderInfo | undefined;
    let scanner: NonFiniteScanner | undefined;
    const { head, total } = await streamFile(path, gzip, (h) => {
      // A header too short to parse is reported after the stream ends, with the file's length.
      if (h.length < 348) return undefined;
      info = parseNifti(path, h, Number.POSITIVE_INFINITY);
      if (info.datatype === 16 || info.datatype === 64) {
        scanner = new NonFiniteScanner(niftiDataStart(info), info.datatype === 16 ? 4 : 8, info.littleEndian, niftiVoxels(info));
        return (chunk) => scanner?.push(chunk);
      }
      return undefined;
    });
    info ??= parseNifti(path, head, total);
    checkNiftiLength(path, info, total);
    return { format, nifti: info, nonFinite: scanner?.found };
  }
  const { head } = await readHead(path, gzip);
  if (format === 'nrrd') {
    const magic = head.subarray(0, 7).toString('latin1');
    if (magic !== 'NRRD000') throw new DataFileError(path, `NRRD magic should be "NRRD000x", found ${printable(head.subarray(0, 8))}`);
  } else if (format === 'metaimage') {
    const text = head.toString('latin1');
    if (!/^\s*(ObjectType|NDims|Comment|ObjectSubType|TransformType)\s*=/m.test(text) || !/NDims\s*=/.test(text)) {
      throw new DataFileError(path, `not a MetaImage header: expected "ObjectType = Image" / "NDims = 3" lines, found ${printable(head.subarray(0, 40))}`);
    }
  }
  return { format };
}

/**
 * The voxel-to-world matrix nibabel reports for a NIfTI header (`img.affine`, i.e.
 * `get_best_affine`): the sform when `sform_code > 0`, else the qform when `qform_code > 0`, else
 * the fallback `diag(pixdim)` centred the Analyze way. MONAI reads NIfTI through nibabel, so this is
 * the geometry the reference sees.
 */
export function niftiBestAffine(h: NiftiHeaderInfo): number[][] {
  if (h.sformCode > 0) return [...h.srow.map((r) => r.slice()), [0, 0, 0, 1]];
  const [dx, dy, dz] = [Math.abs(h.pixdim[1]) || 1, Math.abs(h.pixdim[2]) || 1, Math.abs(h.pixdim[3]) || 1];
  if (h.qformCode > 0) {
    const [b, c, d] = h.quatern;
    // Quaternion of a rotation with a ≥ 0 (NIfTI stores b, c, d); tiny negative a² from rounding is 0.
    const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
    const qfac = h.pixdim[0] < 0 ? -1 : 1;
    const r = [
      [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
    ];
    const zooms = [dx, dy, dz * qfac];
    return [
      [r[0][0] * zooms[0], r[0][1] * zooms[1], r[0][2] * zooms[2], h.qoffset[0]],
      [r[1][0] * zooms[0], r[1][1] * zooms[1], r[1][2] * zooms[2], h.qoffset[1]],
      [r[2][0] * zooms[0], r[2][1] * zooms[1], r[2][2] * zooms[2], h.qoffset[2]],
      [0, 0, 0, 1],
    ];
  }
  // nibabel's get_base_affine: x flipped, centred on the middle voxel.
  const n = [h.dim[1], h.dim[2] || 1, h.dim[3] || 1];
  return [
    [-dx, 0, 0, ((n[0] - 1) / 2) * dx],
    [0, dy, 0, -((n[1] - 1) / 2) * dy],
    [0, 0, dz, -((n[2] - 1) / 2) * dz],
    [0, 0, 0, 1],
  ];
}
