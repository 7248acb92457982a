/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip stores for every entry.
 * Slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per step (about 4× faster
 * than the byte-wise loop), which matters because every storage of a checkpoint is checked.
 *
 * @module
 */

let tables: Uint32Array[] | undefined;

function crcTables(): Uint32Array[] {
  if (tables) return tables;
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  tables = [t0];
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1];
    const t = new Uint32Array(256);
    // Table k advances a byte's contribution through k further zero bytes.
    for (let n = 0; n < 256; n++) t[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
    tables.push(t);
  }
  return tables;
}

/** The CRC-32 of `bytes` (unsigned 32-bit). */
export function crc32(bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables();
  let c = 0xffffffff;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c =
      t7[c & 0xff] ^
      t6[(c >>> 8) & 0xff] ^
      t5[(c >>> 16) & 0xff] ^
      t4[c >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
