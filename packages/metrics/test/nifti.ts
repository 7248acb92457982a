// A minimal NIfTI-1 reader for the test fixture (uint8/int16 label maps, gzip), so that this
// package's parity test does not depend on the I/O package. It returns the array in NumPy/nibabel
// index order [i][j][k] (k fastest) as stored on disk, without any re-orientation.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface NiftiLabels {
  data: Uint8Array;
  shape: [number, number, number];
  spacing: [number, number, number];
}

export function readNiftiLabels(path: string): NiftiLabels {
  const raw = readFileSync(path);
  const buf = path.endsWith('.gz') ? gunzipSync(raw) : raw;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const little = view.getInt32(0, true) === 348;
  if (!little && view.getInt32(0, false) !== 348) throw new Error(`${path}: not a NIfTI-1 file (sizeof_hdr != 348)`);
  const i16 = (o: number) => view.getInt16(o, little);
  const f32 = (o: number) => view.getFloat32(o, little);
  const ndim = i16(40);
  if (ndim !== 3) throw new Error(`${path}: expected a 3-D image, found dim[0] = ${ndim}`);
  const shape: [number, number, number] = [i16(42), i16(44), i16(46)];
  const spacing: [number, number, number] = [f32(80), f32(84), f32(88)];
  const datatype = i16(70);
  const offset = Math.round(f32(108));
  const [ni, nj, nk] = shape;
  const n = ni * nj * nk;
  const read =
    datatype === 2 ? (f: number) => view.getUint8(offset + f) :
    datatype === 4 ? (f: number) => view.getInt16(offset + 2 * f, little) :
    datatype === 512 ? (f: number) => view.getUint16(offset + 2 * f, little) :
    undefined;
  if (!read) throw new Error(`${path}: unsupported NIfTI datatype ${datatype}`);
  const data = new Uint8Array(n);
  // On disk i is fastest: file index f = i + ni·(j + nj·k); ours is (i·nj + j)·nk + k.
  for (let k = 0, f = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, f++) data[(i * nj + j) * nk + k] = read(f);
    }
  }
  return { data, shape, spacing };
}
