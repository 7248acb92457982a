/**
 * A small DEFLATE (RFC 1951) decoder, so that zip entries written with compression can be read
 * without Node's zlib (the reader also has to work in a browser). `torch.save` itself stores its
 * entries uncompressed; deflated entries appear when somebody re-zips a checkpoint.
 *
 * The output size is known from the zip directory, so the output buffer is allocated once and
 * any stream that would write past it, or stop short of it, is rejected: a malicious entry cannot
 * make the decoder allocate more than the directory declared.
 *
 * @module
 */
import { ZipFormatError } from './errors.js';

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order in which a dynamic block lists the code lengths of the code-length alphabet. */
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const MAX_BITS = 15;

/** A canonical Huffman code: how many codes of each length, and the symbols in code order. */
interface Huffman {
  counts: Uint16Array;
  symbols: Uint16Array;
}

function buildHuffman(lengths: ArrayLike<number>, n: number, where: string): Huffman {
  const counts = new Uint16Array(MAX_BITS + 1);
  for (let s = 0; s < n; s++) counts[lengths[s]]++;
  // A code set that assigns more codes than a length allows cannot be decoded unambiguously.
  let left = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = left * 2 - counts[len];
    if (left < 0) throw new ZipFormatError(`${where}: deflate stream has an over-subscribed Huffman code`);
  }
  const offsets = new Uint16Array(MAX_BITS + 2);
  for (let len = 1; len <= MAX_BITS; len++) offsets[len + 1] = offsets[len] + counts[len];
  const symbols = new Uint16Array(n);
  for (let s = 0; s < n; s++) if (lengths[s] !== 0) symbols[offsets[lengths[s]]++] = s;
  return { counts, symbols };
}

let fixedLit: Huffman | undefined;
let fixedDist: Huffman | undefined;

function fixedCodes(): [Huffman, Huffman] {
  if (!fixedLit || !fixedDist) {
    const lit = new Uint8Array(288);
    for (let s = 0; s < 288; s++) lit[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    fixedLit = buildHuffman(lit, 288, 'fixed code');
    fixedDist = buildHuffman(new Uint8Array(30).fill(5), 30, 'fixed code');
  }
  return [fixedLit, fixedDist];
}

class Inflater {
  private pos = 0;
  private bitBuf = 0;
  private bitCount = 0;
  private outPos = 0;

  constructor(
    private readonly input: Uint8Array,
    private readonly out: Uint8Array,
    private readonly where: string,
  ) {}

  private bits(n: number): number {
    while (this.bitCount < n) {
      if (this.pos >= this.input.length) throw new ZipFormatError(`${this.where}: deflate stream is truncated (ran out of input)`);
      this.bitBuf |= this.input[this.pos++] << this.bitCount;
      this.bitCount += 8;
    }
    const value = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCount -= n;
    return value;
  }

  private decode(h: Huffman): number {
    // Canonical codes are read most-significant bit first, one bit at a time; at each length
    // the codes of that length form a contiguous range starting at `first`.
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      code |= this.bits(1);
      const count = h.counts[len];
      if (code - first < count) return h.symbols[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new ZipFormatError(`${this.where}: deflate stream contains an invalid Huffman code`);
  }

  private put(byte: number): void {
    if (this.outPos >= this.out.length) {
      throw new ZipFormatError(`${this.where}: deflate stream inflates to more than the ${this.out.length} bytes the zip directory declares`);
    }
    this.out[this.outPos++] = byte;
  }

  private stored(): void {
    this.bitBuf = 0;
    this.bitCount = 0;
    if (this.pos + 4 > this.input.length) throw new ZipFormatError(`${this.where}: deflate stream is truncated in a stored block header`);
    const len = this.input[this.pos] | (this.input[this.pos + 1] << 8);
    const nlen = this.input[this.pos + 2] | (this.input[this.pos + 3] << 8);
    this.pos += 4;
    if (len !== (~nlen & 0xffff)) throw new ZipFormatError(`${this.where}: deflate stored block length ${len} does not match its complement`);
    if (this.pos + len > this.input.length) throw new ZipFormatError(`${this.where}: deflate stored block is truncated`);
    if (this.outPos + len > this.out.length) {
      throw new ZipFormatError(`${this.where}: deflate stream inflates to more than the ${this.out.length} bytes the zip directory declares`);
    }
    this.out.set(this.input.subarray(this.pos, this.pos + len), this.outPos);
    this.pos += len;
    this.outPos += len;
  }

  private codes(lit: Huffman, dist: Huffman): void {
    for (;;) {
      const sym = this.decode(lit);
      if (sym < 256) {
        this.put(sym);
      } else if (sym === 256) {
        return;
      } else {
        const li = sym - 257;
        if (li >= 29) throw new ZipFormatError(`${this.where}: deflate stream uses invalid length symbol ${sym}`);
        const length = LENGTH_BASE[li] + this.bits(LENGTH_EXTRA[li]);
        const di = this.decode(dist);
        if (di >= 30) throw new ZipFormatError(`${this.where}: deflate stream uses invalid distance symbol ${di}`);
        const distance = DIST_BASE[di] + this.bits(DIST_EXTRA[di]);
        if (distance > this.outPos) {
          throw new ZipFormatError(`${this.where}: deflate back-reference distance ${distance} reaches before the start of the output (${this.outPos} bytes written)`);
        }
        if (this.outPos + length > this.out.length) {
          throw new ZipFormatError(`${this.where}: deflate stream inflates to more than the ${this.out.length} bytes the zip directory declares`);
        }
        // Byte by byte on purpose: source and destination may overlap (run-length copies).
        for (let k = 0; k < length; k++, this.outPos++) this.out[this.outPos] = this.out[this.outPos - distance];
      }
    }
  }

  private dynamic(): void {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) throw new ZipFormatError(`${this.where}: deflate dynamic block declares ${nlen} literal/${ndist} distance codes (max 286/30)`);
    const clen = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) clen[CLEN_ORDER[i]] = this.bits(3);
    const lencode = buildHuffman(clen, 19, this.where);
    const lengths = new Uint8Array(nlen + ndist);
    let i = 0;
    while (i < nlen + ndist) {
      const sym = this.decode(lencode);
      if (sym < 16) {
        lengths[i++] = sym;
        continue;
      }
      let value = 0;
      let repeat: number;
      if (sym === 16) {
        if (i === 0) throw new ZipFormatError(`${this.where}: deflate code-length repeat with no previous length`);
        value = lengths[i - 1];
        repeat = 3 + this.bits(2);
      } else if (sym === 17) {
        repeat = 3 + this.bits(3);
      } else {
        repeat = 11 + this.bits(7);
      }
      if (i + repeat > nlen + ndist) throw new ZipFormatError(`${this.where}: deflate code-length repeat runs past the declared code count`);
      lengths.fill(value, i, i + repeat);
      i += repeat;
    }
    if (lengths[256] === 0) throw new ZipFormatError(`${this.where}: deflate dynamic block has no end-of-block code`);
    const lit = buildHuffman(lengths.subarray(0, nlen), nlen, this.where);
    const dist = buildHuffman(lengths.subarray(nlen), ndist, this.where);
    this.codes(lit, dist);
  }

  run(): void {
    let last = 0;
    while (!last) {
      last = this.bits(1);
      const type = this.bits(2);
      if (type === 0) this.stored();
      else if (type === 1) this.codes(...fixedCodes());
      else if (type === 2) this.dynamic();
      else throw new ZipFormatError(`${this.where}: deflate stream has a block of reserved type 3`);
    }
    if (this.outPos !== this.out.length) {
      throw new ZipFormatError(`${this.where}: deflate stream inflates to ${this.outPos} bytes, but the zip directory declares ${this.out.length}`);
    }
  }
}

/**
 * Decode a raw DEFLATE stream (no zlib/gzip wrapper) that must inflate to exactly `size` bytes.
 *
 * @param where names the entry in error messages.
 * @throws ZipFormatError for a corrupt stream or a size other than `size`.
 */
export function inflateRaw(input: Uint8Array, size: number, where = 'deflate stream'): Uint8Array {
  let out: Uint8Array;
  try {
    out = new Uint8Array(size);
  } catch {
    throw new ZipFormatError(`${where}: cannot allocate the ${size} bytes the zip directory declares`);
  }
  new Inflater(input, out, where).run();
  return out;
}
