/**
 * A read-only zip reader for `torch.save` archives: stored and deflated entries, zip64 sizes and
 * offsets (PyTorch writes zip64 end records), CRC-32 checks. Entries are located through the
 * central directory, and every offset and size is checked against the file length before it is
 * used, so that a truncated or corrupt archive gives an error rather than a wrong read.
 *
 * @module
 */
import { crc32 } from './crc32.js';
import { ZipFormatError } from './errors.js';
import { inflateRaw } from './inflate.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

/** One entry of the central directory. */
export interface ZipEntry {
  /** The entry's path inside the archive. */
  name: string;
  /** 0 = stored, 8 = deflated (the only methods supported). */
  method: number;
  /** Bytes as stored in the archive. */
  compressedSize: number;
  /** Bytes after decompression. */
  size: number;
  /** CRC-32 of the uncompressed bytes, as the directory records it. */
  crc32: number;
  /** Offset of the entry's local header in the archive. */
  localHeaderOffset: number;
}

/** Options for {@link ZipArchive}. */
export interface ZipReadOptions {
  /** Check each entry's CRC-32 when it is read (default true). */
  verifyCrc?: boolean;
}

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function u64(b: Uint8Array, o: number, what: string, where: string): number {
  const low = u32(b, o);
  const high = u32(b, o + 4);
  const value = high * 4294967296 + low;
  if (!Number.isSafeInteger(value)) throw new ZipFormatError(`${where}: ${what} ${value} is not a usable 64-bit size`);
  return value;
}

/**
 * A zip archive held in memory. Entry data is read lazily with {@link ZipArchive.read} (stored
 * entries are returned as views into the archive bytes, without copying).
 */
export class ZipArchive {
  /** The entries in central-directory order. */
  readonly entries: ZipEntry[];
  private readonly byName = new Map<string, ZipEntry>();
  private readonly verifyCrc: boolean;

  /**
   * @param bytes the whole archive.
   * @param source names the archive in error messages (a file path, usually).
   * @throws ZipFormatError when the archive is not a zip, is truncated or its directory is corrupt.
   */
  constructor(
    private readonly bytes: Uint8Array,
    readonly source = 'zip archive',
    options: ZipReadOptions = {},
  ) {
    this.verifyCrc = options.verifyCrc ?? true;
    this.entries = this.readDirectory();
    for (const e of this.entries) {
      if (this.byName.has(e.name)) throw new ZipFormatError(`${source}: entry "${e.name}" appears twice in the zip directory`);
      this.byName.set(e.name, e);
    }
  }

  private fail(message: string): never {
    throw new ZipFormatError(`${this.source}: ${message}`);
  }

  private readDirectory(): ZipEntry[] {
    const b = this.bytes;
    const n = b.length;
    if (n < 22) this.fail(`expected a zip archive (at least 22 bytes), found ${n} bytes`);
    // The end-of-central-directory record sits in the last 22 + 65535 bytes (its comment is at
    // most 65535 bytes long); search backwards for its signature.
    let eocd = -1;
    for (let o = n - 22; o >= Math.max(0, n - 22 - 65535); o--) {
      if (u32(b, o) === SIG_EOCD && o + 22 + u16(b, o + 20) === n) {
        eocd = o;
        break;
      }
    }
    if (eocd < 0) {
      for (let o = n - 22; o >= Math.max(0, n - 22 - 65535); o--) {
        if (u32(b, o) === SIG_EOCD) {
          eocd = o;
          break;
        }
      }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record found (not a zip archive, or truncated)');
    let count = u16(b, eocd + 10);
    let dirSize = u32(b, eocd + 12);
    let dirOffset = u32(b, eocd + 16);
    const locator = eocd - 20;
    if (locator >= 0 && u32(b, locator) === SIG_ZIP64_LOCATOR) {
      const z64 = u64(b, locator + 8, 'zip64 end record offset', this.source);
      if (z64 + 56 > n || u32(b, z64) !== SIG_ZIP64_EOCD) this.fail(`zip64 end record expected at offset ${z64}, not found`);
      count = u64(b, z64 + 32, 'zip64 entry count', this.source);
      dirSize = u64(b, z64 + 40, 'zip64 directory size', this.source);
      dirOffset = u64(b, z64 + 48, 'zip64 directory offset', this.source);
    } else if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      this.fail('the end record points to zip64 values but there is no zip64 locator');
    }
    if (dirOffset + dirSize > n) {
      this.fail(`central directory [${dirOffset}, ${dirOffset + dirSize}) runs past the end of the file (${n} bytes; truncated?)`);
    }
    // Each central record is at least 46 bytes: a count larger than that allows is corrupt.
    if (count * 46 > dirSize) this.fail(`the end record claims ${count} entries, more than a ${dirSize}-byte directory can hold`);
    const entries: ZipEntry[] = [];
    let p = dirOffset;
    const decoder = new TextDecoder('utf-8');
    for (let i = 0; i < count; i++) {
      if (p + 46 > dirOffset + dirSize) this.fail(`central directory entry ${i} runs past the directory`);
      if (u32(b, p) !== SIG_CENTRAL) this.fail(`central directory entry ${i} at offset ${p}: bad signature 0x${u32(b, p).toString(16)}`);
      const flags = u16(b, p + 8);
      const method = u16(b, p + 10);
      const crc = u32(b, p + 16);
      let compressedSize = u32(b, p + 20);
      let size = u32(b, p + 24);
      const nameLen = u16(b, p + 28);
      const extraLen = u16(b, p + 30);
      const commentLen = u16(b, p + 32);
      let localHeaderOffset = u32(b, p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > dirOffset + dirSize) this.fail(`central directory entry ${i} runs past the directory`);
      const name = decoder.decode(b.subarray(p + 46, p + 46 + nameLen));
      if (flags & 1) this.fail(`entry "${name}" is encrypted; encrypted archives are not supported`);
      // zip64 extended information: present values replace the 0xFFFFFFFF placeholders, in order.
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = u16(b, x);
        const len = u16(b, x + 2);
        if (x + 4 + len > xEnd) this.fail(`entry "${name}": extra field runs past its record`);
        if (id === 0x0001) {
          let q = x + 4;
          const take = (what: string): number => {
            if (q + 8 > x + 4 + len) this.fail(`entry "${name}": zip64 extra field lacks the ${what}`);
            const v = u64(b, q, what, `${this.source}: entry "${name}"`);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = take('uncompressed size');
          if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
        }
        x += 4 + len;
      }
      entries.push({ name, method, compressedSize, size, crc32: crc, localHeaderOffset });
      p = end;
    }
    return entries;
  }

  /** The names of all entries, in directory order. */
  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** The entry called `name`, or undefined. */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * The uncompressed bytes of an entry. Stored entries are views into the archive.
   *
   * @throws ZipFormatError when the entry is missing, truncated, uses an unsupported compression
   *   method or fails its CRC check.
   */
  read(name: string): Uint8Array {
    const e = this.byName.get(name);
    if (!e) this.fail(`expected an entry "${name}", found none (entries: ${this.describeNames()})`);
    const b = this.bytes;
    const h = e.localHeaderOffset;
    if (h + 30 > b.length) this.fail(`entry "${name}": local header at offset ${h} is past the end of the file (truncated?)`);
    if (u32(b, h) !== SIG_LOCAL) this.fail(`entry "${name}": bad local header signature at offset ${h}`);
    const nameLen = u16(b, h + 26);
    const extraLen = u16(b, h + 28);
    const start = h + 30 + nameLen + extraLen;
    const localName = new TextDecoder('utf-8').decode(b.subarray(h + 30, Math.min(b.length, h + 30 + nameLen)));
    if (localName !== name) this.fail(`entry "${name}": its local header names "${localName}"`);
    if (start + e.compressedSize > b.length) {
      this.fail(`entry "${name}": data [${start}, ${start + e.compressedSize}) runs past the end of the file (${b.length} bytes; truncated?)`);
    }
    const raw = b.subarray(start, start + e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) this.fail(`entry "${name}" is stored but its sizes differ (${e.compressedSize} vs ${e.size})`);
      data = raw;
    } else if (e.method === 8) {
      // Deflate cannot expand data more than ~1032:1; a larger declared size is a corrupt or
      // hostile directory, and refusing it keeps the allocation bounded by the file size.
      if (e.size > e.compressedSize * 1032 + 1024) {
        this.fail(`entry "${name}" claims to inflate ${e.compressedSize} bytes to ${e.size}, more than deflate can`);
      }
      data = inflateRaw(raw, e.size, `${this.source}: entry "${name}"`);
    } else {
      this.fail(`entry "${name}" uses compression method ${e.method}; only 0 (stored) and 8 (deflate) are supported`);
    }
    if (this.verifyCrc) {
      const c = crc32(data);
      if (c !== e.crc32) {
        this.fail(`entry "${name}": CRC-32 0x${c.toString(16).padStart(8, '0')} does not match the directory's 0x${e.crc32.toString(16).padStart(8, '0')} (corrupt file)`);
      }
    }
    return data;
  }

  private describeNames(): string {
    const names = this.names();
    return names.length > 8 ? `${names.slice(0, 8).join(', ')}, … (${names.length} in all)` : names.join(', ') || 'none';
  }
}

/** True when `bytes` starts like a zip archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && u32(bytes, 0) === SIG_LOCAL;
}
