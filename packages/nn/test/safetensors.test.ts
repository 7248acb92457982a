import { readSafetensors, readSafetensorsMetadata, safetensorToFloat32, writeSafetensors, SafetensorsError, type SafetensorEntry } from '../src/index.js';

/** Build a file by hand, byte by byte as the format defines it, independent of writeSafetensors. */
function handMade(header: object, data: Uint8Array, pad = true): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  if (pad) {
    const n = Math.ceil((8 + json.length) / 8) * 8 - 8;
    const p = new Uint8Array(n).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('readSafetensors', () => {
  it('reads a hand-made file with F32, I64 and U8 tensors and metadata', () => {
    const f = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
    const i = new BigInt64Array([5n, -9n]);
    const u = new Uint8Array([0, 1, 2]);
    const data = new Uint8Array(24 + 16 + 3);
    data.set(new Uint8Array(i.buffer), 0);
    data.set(new Uint8Array(f.buffer), 16);
    data.set(u, 40);
    const bytes = handMade(
      {
        __metadata__: { format: 'pt' },
        w: { dtype: 'F32', shape: [2, 3], data_offsets: [16, 40] },
        idx: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
        lab: { dtype: 'U8', shape: [1, 3], data_offsets: [40, 43] },
      },
      data,
    );
    const t = readSafetensors(bytes);
    expect([...t.keys()]).toEqual(['w', 'idx', 'lab']);
    expect(t.get('w')!.shape).toEqual([2, 3]);
    expect(Array.from(t.get('w')!.data as Float32Array)).toEqual([1.5, -2, 3.25, 0, 7, 8]);
    expect(t.get('idx')!.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(t.get('idx')!.data as BigInt64Array)).toEqual([5n, -9n]);
    expect(Array.from(t.get('lab')!.data as Uint8Array)).toEqual([0, 1, 2]);
    expect(readSafetensorsMetadata(bytes)).toEqual({ format: 'pt' });
  });

  it('copies tensors whose offset is not aligned, and reads a scalar', () => {
    const data = new Uint8Array(1 + 4);
    data[0] = 9;
    data.set(new Uint8Array(new Float32Array([0.5]).buffer), 1);
    const bytes = handMade({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, s: { dtype: 'F32', shape: [], data_offsets: [1, 5] } }, data, false);
    const t = readSafetensors(bytes);
    expect(t.get('s')!.shape).toEqual([]);
    expect(Array.from(t.get('s')!.data as Float32Array)).toEqual([0.5]);
  });

  it.each([
    ['too short', new Uint8Array(4), /at least 8 bytes/],
    ['header past the end', (() => { const b = new Uint8Array(16); b[0] = 200; return b; })(), /runs past the end/],
  ])('rejects a file that is %s', (_what, bytes, message) => {
    expect(() => readSafetensors(bytes, { source: 'x.safetensors' })).toThrow(SafetensorsError);
    expect(() => readSafetensors(bytes, { source: 'x.safetensors' })).toThrow(message);
  });

  it('rejects bad JSON, dtypes, shapes and offsets with messages naming the tensor', () => {
    const bad = (header: object, data = new Uint8Array(8)) => () => readSafetensors(handMade(header, data), { source: 'm.safetensors' });
    const garbage = new Uint8Array(8 + 4);
    new DataView(garbage.buffer).setBigUint64(0, 4n, true);
    garbage.set([0x7b, 0x7b, 0x20, 0x20], 8);
    expect(() => readSafetensors(garbage, { source: 'm.safetensors' })).toThrow(/m\.safetensors: the 4-byte header is not valid UTF-8 JSON/);
    expect(bad({ w: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } })).toThrow(/tensor "w": unknown dtype "F8"/);
    expect(bad({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } })).toThrow(/tensor "w": expected shape/);
    expect(bad({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } })).toThrow(/tensor "w": F32 shape \[3\] needs 12 bytes, but data_offsets \[0, 8\] span 8/);
    expect(bad({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } })).toThrow(/run past the end of the data section \(8 bytes\)/);
    expect(bad({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } })).toThrow(/leaves a hole of 4 bytes/);
    expect(bad({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } })).toThrow(/overlaps/);
    expect(bad({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } })).toThrow(/cover 4 bytes but the data section has 8/);
    expect(bad({ __metadata__: { n: 3 } })).toThrow(/metadata "n" must be a string/);
  });
});

describe('writeSafetensors', () => {
  it('round-trips every dtype, aligns each tensor and pads the header to 8 bytes', () => {
    const tensors: Record<string, SafetensorEntry> = {
      u8: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      f64: { dtype: 'F64', shape: [1], data: new Float64Array([Math.PI]) },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-1n, 2n ** 40n]) },
      i32: { dtype: 'I32', shape: [1], data: new Int32Array([-7]) },
      bf16: { dtype: 'BF16', shape: [1], data: new Uint16Array([0x3fc0]) },
      f16: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
      b: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    };
    const bytes = writeSafetensors(tensors, { metadata: { format: 'pt' } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const back = readSafetensors(bytes);
    for (const [name, t] of Object.entries(tensors)) {
      const r = back.get(name)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
      expect((r.data.byteOffset) % r.data.BYTES_PER_ELEMENT).toBe(0);
    }
    expect(readSafetensorsMetadata(bytes)).toEqual({ format: 'pt' });
    expect(Array.from(safetensorToFloat32(back.get('bf16')!))).toEqual([1.5]);
    expect(Array.from(safetensorToFloat32(back.get('f16')!))).toEqual([1, -2]);
    expect(Array.from(safetensorToFloat32(back.get('i64')!))).toEqual([-1, 2 ** 40]);
  });

  it('rejects a data array of the wrong type or length, naming the tensor', () => {
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(/tensor "w": dtype F32 needs a Float32Array, found Float64Array/);
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/tensor "w": shape \[3\] has 3 elements, but the data has 2/);
  });
});
