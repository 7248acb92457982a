import { Rng } from '@swinmm/runtime';
import {
  parseTorchCheckpoint,
  unpickle,
  standardGlobals,
  inflateRaw,
  crc32,
  WeightsFormatError,
  ZipFormatError,
  TorchCheckpointError,
  PyDict,
  PyTuple,
  PySet,
  PyObject,
  TorchTensor,
  extractStateDict,
  ZipArchive,
  type PyValue,
} from '../src/index.js';
import { deflateRawSync } from 'node:zlib';
import { buildZip, fixtureBytes, PickleBuilder, torchZip } from './helpers.js';

const MINI = 'swinunetr_small_ddp_mini.pt';

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but parsing succeeded');
}

describe('corrupt and truncated input gives clear errors', () => {
  const mini = fixtureBytes(MINI);

  it('truncated zip (cut anywhere) is a ZipFormatError', () => {
    for (const keep of [0.999, 0.9, 0.5, 0.1]) {
      const cut = mini.slice(0, Math.floor(mini.length * keep));
      const err = errorOf(() => parseTorchCheckpoint(cut, { source: 'cut.pt' }));
      expect(err).toBeInstanceOf(WeightsFormatError);
      expect(err.message).toMatch(/^cut\.pt: /);
    }
    // Without the last 100 bytes the end-of-central-directory record is gone.
    expect(() => parseTorchCheckpoint(mini.slice(0, mini.length - 100))).toThrow(/no end-of-central-directory record found/);
  });

  it('a zip without data.pkl names what it expected and what it found', () => {
    const zip = buildZip([{ name: 'model/weights.bin', data: new Uint8Array(8) }]);
    expect(() => parseTorchCheckpoint(zip, { source: 'w.pt' })).toThrow(
      /w\.pt: expected an entry "<folder>\/data\.pkl", found none among model\/weights\.bin/,
    );
  });

  it('two data.pkl entries are ambiguous', () => {
    const zip = buildZip([
      { name: 'a/data.pkl', data: new PickleBuilder().proto().int(1).stop().bytes() },
      { name: 'b/data.pkl', data: new PickleBuilder().proto().int(2).stop().bytes() },
    ]);
    expect(() => parseTorchCheckpoint(zip)).toThrow(/expected one "<folder>\/data\.pkl", found a\/data\.pkl, b\/data\.pkl/);
  });

  it('a storage entry that is missing or shorter than its tensor', () => {
    const pickle = new PickleBuilder().proto().tensor('FloatStorage', '0', 6, 0, [2, 3], [3, 1]).stop().bytes();
    expect(() => parseTorchCheckpoint(torchZip(pickle, {}), { source: 's.pt' })).toThrow(
      /s\.pt: the pickle references storage "0" but the archive has no entry "archive\/data\/0"/,
    );
    expect(() => parseTorchCheckpoint(torchZip(pickle, { '0': new Uint8Array(20) }), { source: 's.pt' })).toThrow(
      /storage "0" \(torch\.FloatStorage, 6 elements\) needs 24 bytes, but entry "archive\/data\/0" holds 20/,
    );
    // The storage is long enough for its declared size, but the view reaches past it.
    const far = new PickleBuilder().proto().tensor('FloatStorage', '0', 6, 4, [2, 3], [3, 1]).stop().bytes();
    expect(() => parseTorchCheckpoint(torchZip(far, { '0': new Uint8Array(24) }))).toThrow(
      /tensor of size \[2, 3\], stride \[3, 1\] at offset 4 reaches element 9, but its storage "0" holds 6 elements/,
    );
  });

  it('the real checkpoint with one storage truncated', () => {
    // Re-zip the mini file with storage 3 (the int64 index, 941192 bytes) cut short.
    const zip = new ZipArchive(mini);
    const entries = zip.names().map((name) => ({ name, data: zip.read(name).slice() }));
    const i = entries.findIndex((e) => e.name.endsWith('/data/3'));
    entries[i].data = entries[i].data.slice(0, 1000);
    expect(() => parseTorchCheckpoint(buildZip(entries))).toThrow(/storage "3" \(torch\.LongStorage, 117649 elements\) needs 941192 bytes, but entry .* holds 1000/);
  });

  it('a CRC mismatch is reported (and can be skipped)', () => {
    const bad = mini.slice();
    bad[200000] ^= 0xff; // inside a storage entry
    expect(() => parseTorchCheckpoint(bad)).toThrow(/CRC-32 0x[0-9a-f]{8} does not match the directory's 0x[0-9a-f]{8}/);
    expect(() => parseTorchCheckpoint(bad, { verifyCrc: false })).not.toThrow();
  });

  it('unknown and unsupported opcodes', () => {
    const opts = { globals: standardGlobals(), source: 'p.pkl' };
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0xff, 0x2e]), opts)).toThrow(/p\.pkl: unknown opcode 0xff \(corrupt or not a pickle\) \(at byte 2\)/);
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x82, 0x01, 0x2e]), opts)).toThrow(/opcode EXT1 \(0x82\) is not supported/);
    expect(() => unpickle(Uint8Array.from([0x80, 0x06, 0x2e]), opts)).toThrow(/unsupported pickle protocol 6/);
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x4e]), opts)).toThrow(/ended without a STOP opcode \(truncated\)/);
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x61]), opts)).toThrow(
      /BINUNICODE needs 2147483647 bytes but only 1 remain \(truncated pickle\)/,
    );
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x68, 0x05, 0x2e]), opts)).toThrow(/memo index 5 was never stored/);
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x61, 0x2e]), opts)).toThrow(/APPEND needs a value but the stack is empty/);
    expect(() => unpickle(Uint8Array.from([0x80, 0x02, 0x4b, 0x01, 0x4b, 0x02, 0x61, 0x2e]), opts)).toThrow(/APPEND expects a list, found number/);
  });

  it('a zip entry with an unsupported compression method', () => {
    const zip = torchZip(new PickleBuilder().proto().int(1).stop().bytes(), {});
    // Patch the method of the first entry (local header and central directory) to 12 (bzip2).
    zip[8] = 12;
    const dir = zip.findIndex((_, i) => zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 0x01 && zip[i + 3] === 0x02);
    zip[dir + 10] = 12;
    expect(() => parseTorchCheckpoint(zip)).toThrow(/uses compression method 12; only 0 \(stored\) and 8 \(deflate\) are supported/);
  });

  it('a stride-0 view cannot blow up memory', () => {
    const p = new PickleBuilder().proto().tensor('FloatStorage', '0', 1, 0, [100000, 100000], [0, 0]).stop().bytes();
    expect(() => parseTorchCheckpoint(torchZip(p, { '0': new Uint8Array(4) }))).toThrow(/has 10000000000 elements, above the limit of 2147483648/);
    const q = new PickleBuilder().proto().tensor('FloatStorage', '0', 1, 0, [8192, 8192], [0, 0]).stop().bytes();
    expect(() => parseTorchCheckpoint(torchZip(q, { '0': new Uint8Array(4) }))).toThrow(
      /\(67108864 elements\) is an expanded view of storage "0" \(1 elements\); refusing to materialise more than 16777216/,
    );
    // A small expansion is legitimate and materialised.
    const r = new PickleBuilder().proto().tensor('FloatStorage', '0', 2, 0, [3, 2], [0, 1]).stop().bytes();
    const t = parseTorchCheckpoint(torchZip(r, { '0': new Uint8Array(new Float32Array([1, 2]).buffer) })).root as TorchTensor;
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 1, 2, 1, 2]);
  });

  it('bad persistent ids and rebuild arguments', () => {
    const pid = new PickleBuilder().proto().mark().str('storage').global('torch', 'FloatStorage').str('../x').str('cpu').int(1).tuple().binpersid().stop();
    expect(() => parseTorchCheckpoint(torchZip(pid.bytes(), {}))).toThrow(/expected a storage key made of letters\/digits, found "\.\.\/x"/);
    const notStorage = new PickleBuilder().proto().global('torch._utils', '_rebuild_tensor_v2').mark().int(1).int(0).emptyTuple().emptyTuple().tuple().reduce().stop();
    expect(() => parseTorchCheckpoint(torchZip(notStorage.bytes(), {}))).toThrow(TorchCheckpointError);
  });
});

describe('inflate', () => {
  it('decodes what zlib deflates (stored, fixed and dynamic blocks)', () => {
    const rng = Rng.fromSeed(5);
    const inputs: Uint8Array[] = [new Uint8Array(0), new TextEncoder().encode('a'.repeat(1000))];
    for (let k = 0; k < 6; k++) {
      const n = rng.int(1, 70000);
      const data = new Uint8Array(n);
      // Mixed entropy: runs, text-like bytes and noise exercise every block type and long matches.
      for (let i = 0; i < n; i++) data[i] = k % 3 === 0 ? rng.int(0, 256) : k % 3 === 1 ? 97 + (i % 7) : rng.int(0, 4) * (i % 50 < 25 ? 1 : 60);
      inputs.push(data);
    }
    for (const data of inputs) {
      for (const level of [0, 1, 9]) {
        const z = new Uint8Array(deflateRawSync(data, { level }));
        // Buffer.equals: jest's toEqual walks large typed arrays element by element (slow).
        expect(Buffer.from(inflateRaw(z, data.length)).equals(Buffer.from(data))).toBe(true);
      }
    }
  });

  it('refuses output larger or smaller than declared', () => {
    const z = new Uint8Array(deflateRawSync(new Uint8Array(100)));
    expect(() => inflateRaw(z, 99)).toThrow(/inflates to more than the 99 bytes/);
    expect(() => inflateRaw(z, 101)).toThrow(/inflates to 100 bytes, but the zip directory declares 101/);
    expect(() => inflateRaw(z.slice(0, 2), 100)).toThrow(ZipFormatError);
  });
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Walks a parsed value (cycles allowed) and checks every tensor is self-consistent. */
function checkValue(root: PyValue): void {
  const seen = new Set<object>();
  const stack: PyValue[] = [root];
  while (stack.length) {
    const v = stack.pop() as PyValue;
    if (v === null || typeof v !== 'object') continue;
    if (seen.has(v)) continue;
    seen.add(v);
    if (v instanceof TorchTensor) {
      expect(v.data.length).toBe(v.shape.reduce((a, b) => a * b, 1));
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v instanceof PyTuple || v instanceof PySet) stack.push(...v.items);
    else if (v instanceof PyDict) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof PyObject) stack.push(...v.args);
  }
}

describe('fuzz: mutated checkpoints give an error or a valid result, never a crash or hang', () => {
  const sources = [fixtureBytes(MINI), fixtureBytes('crafted/dtype_zoo.pt'), fixtureBytes('crafted/dtype_zoo_deflated.pt')];

  it('400 seeded mutations', () => {
    const rng = Rng.fromSeed(20260601);
    const started = Date.now();
    let ok = 0;
    let failed = 0;
    for (let c = 0; c < 400; c++) {
      const src = sources[c % sources.length];
      let bytes: Uint8Array = src.slice();
      const kind = rng.int(0, 5);
      // Mutations aim at the structure: the first 2.5 KB (local header + data.pkl of the mini
      // file, everything of the small ones) and the central directory at the end.
      const hot = (): number => (rng.uniform() < 0.6 ? rng.int(0, Math.min(bytes.length, 2600)) : rng.int(Math.max(0, bytes.length - 1600), bytes.length));
      if (kind === 0) {
        for (let k = rng.int(1, 8); k > 0; k--) bytes[hot()] = rng.int(0, 256);
      } else if (kind === 1) {
        bytes = bytes.slice(0, rng.int(0, bytes.length));
      } else if (kind === 2) {
        const at = hot();
        const junk = Uint8Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 256));
        bytes = concat(bytes.subarray(0, at), junk, bytes.subarray(at));
      } else if (kind === 3) {
        const at = hot();
        bytes = concat(bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + rng.int(1, 32))));
      } else {
        bytes[hot()] ^= 1 << rng.int(0, 8);
      }
      try {
        const ckpt = parseTorchCheckpoint(bytes, { verifyCrc: rng.uniform() < 0.5, source: `case ${c}` });
        checkValue(ckpt.root);
        try {
          extractStateDict(ckpt.root);
        } catch (error) {
          expect(error).toBeInstanceOf(WeightsFormatError);
        }
        ok++;
      } catch (error) {
        if (!(error instanceof WeightsFormatError)) throw new Error(`case ${c} (kind ${kind}): not a WeightsFormatError: ${String(error)}`);
        expect(error.message).toMatch(new RegExp(`^case ${c}: `));
        failed++;
      }
    }
    expect(ok + failed).toBe(400);
    expect(failed).toBeGreaterThan(50); // the mutations do reach the parsers
    expect(Date.now() - started).toBeLessThan(60000);
  });
});

describe('crc32', () => {
  it('matches the standard check value and zlib on every length and alignment', () => {
    const zlib = jest.requireActual('node:zlib') as { crc32?: (b: Uint8Array) => number };
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const rng = Rng.fromSeed(9);
    const data = Uint8Array.from({ length: 300 }, () => rng.int(0, 256));
    for (let start = 0; start < 9; start++) {
      for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 100, 291 - start]) {
        const part = data.subarray(start, start + len);
        // Reference: the byte-wise definition.
        let c = 0xffffffff;
        for (const b of part) {
          c ^= b;
          for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        }
        const expected = (c ^ 0xffffffff) >>> 0;
        expect(crc32(part)).toBe(expected);
        if (zlib.crc32) expect(crc32(part)).toBe(zlib.crc32(part));
      }
    }
  });
});
