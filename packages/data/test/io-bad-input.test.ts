// Bad files give errors that say what is wrong and in which file (itk-wasm alone would pad a
// truncated gzip with zeros, read a broken NIfTI magic as Analyze, or throw a bare number).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createVolume, readLabel, readVolume, writeVolume } from '../src/index.js';
import { ITK_T1, tempDir } from './helpers.js';

describe('bad input', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const gz = readFileSync(ITK_T1);
  const raw = gunzipSync(gz);
  const file = (name: string, bytes: Uint8Array): string => {
    const p = join(tmp.dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  it('a missing file', async () => {
    const p = join(tmp.dir, 'nope.nii.gz');
    await expect(readVolume(p)).rejects.toThrow(`${p}: cannot open it (ENOENT`);
  });

  it('a truncated gzip stream (half the file, or only the trailer missing)', async () => {
    const half = file('half.nii.gz', gz.subarray(0, gz.length >> 1));
    await expect(readVolume(half)).rejects.toThrow(new RegExp(`${half}: gzip data is truncated or corrupt \\(unexpected end of file\\)`));
    const noTrailer = file('notrailer.nii.gz', gz.subarray(0, gz.length - 6));
    await expect(readVolume(noTrailer)).rejects.toThrow(/notrailer\.nii\.gz: gzip data is truncated or corrupt/);
  });

  it('a truncated uncompressed NIfTI names the sizes', async () => {
    const p = file('short.nii', raw.subarray(0, 352 + 1000));
    await expect(readVolume(p)).rejects.toThrow(
      `${p}: truncated: the header declares 128×128×62 voxels of 16 bits from byte 352, i.e. 2031968 bytes, but the (decompressed) file holds 1352`,
    );
  });

  it('a wrong NIfTI magic or header size', async () => {
    const bad = Buffer.from(raw);
    bad.write('xyz\0', 344, 'latin1');
    const p = file('magic.nii', bad);
    await expect(readVolume(p)).rejects.toThrow(`${p}: NIfTI-1 magic (bytes 344-347) should be "n+1\\u0000", found "xyz\\u0000"`);
    await expect(readVolume(file('magic.nii.gz', gzipSync(bad)))).rejects.toThrow(/magic\.nii\.gz: NIfTI-1 magic/);
    const notNifti = file('text.nii', Buffer.from('hello world, this is not an image'.repeat(20)));
    await expect(readVolume(notNifti)).rejects.toThrow(/text\.nii: not a NIfTI file: sizeof_hdr \(bytes 0-3\) should be 348 or 540/);
  });

  it('wrong NRRD and MetaImage headers', async () => {
    await expect(readVolume(file('x.nrrd', Buffer.from('PNG\nnot a nrrd')))).rejects.toThrow(/x\.nrrd: NRRD magic should be "NRRD000x"/);
    await expect(readVolume(file('x.mha', Buffer.from('hello\nworld\n')))).rejects.toThrow(/x\.mha: not a MetaImage header/);
  });

  it('a MetaImage whose data is cut short is reported with the file name', async () => {
    const v = createVolume({ data: new Float32Array(6 * 5 * 4).fill(1), shape: [6, 5, 4] });
    const p = join(tmp.dir, 'cut.mha');
    await writeVolume(p, v);
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, bytes.length - 40));
    await expect(readVolume(p)).rejects.toThrow(new RegExp(`${p}: itk-wasm could not read it`));
  });

  it('a 4-D file where a 3-D volume is expected', async () => {
    const h = Buffer.from(raw.subarray(0, 352));
    // dim[0] = 4, dim[4] = 2: two time points, voxel data repeated.
    h.writeInt16LE(4, 40);
    h.writeInt16LE(2, 48);
    const p = file('fourd.nii', Buffer.concat([h, raw.subarray(352), raw.subarray(352)]));
    await expect(readVolume(p)).rejects.toThrow(
      `${p}: expected a 3-D volume, found a 4-D image of size 128×128×62×2 (a time series or multi-channel file: split it into 3-D volumes first)`,
    );
  });

  it('a 4-D file with one time point is a 3-D volume', async () => {
    const h = Buffer.from(raw.subarray(0, 352));
    h.writeInt16LE(4, 40);
    h.writeInt16LE(1, 48);
    const v = await readVolume(file('fourd1.nii', Buffer.concat([h, raw.subarray(352)])));
    expect(v.shape).toEqual([128, 128, 62]);
  });

  // itk-wasm's NIfTI reader silently turns NaN/Inf into 0, so NIfTI is scanned separately: test it
  // and a format itk-wasm passes NaN through (.nrrd).
  it.each(['nii.gz', 'nii', 'nrrd'])('NaN voxels in .%s: named with their position, kept when allowed', async (ext) => {
    const data = new Float32Array(6 * 5 * 4);
    data[(2 * 5 + 3) * 4 + 1] = Number.NaN; // voxel (2, 3, 1)
    data[(4 * 5 + 0) * 4 + 3] = Number.POSITIVE_INFINITY; // voxel (4, 0, 3)
    const p = join(tmp.dir, `nan.${ext}`);
    await writeVolume(p, createVolume({ data, shape: [6, 5, 4] }));
    await expect(readVolume(p)).rejects.toThrow(`${p}: 2 voxel(s) are not finite; the first is voxel (2, 3, 1) = NaN`);
    const v = await readVolume(p, { allowNonFinite: true });
    expect(Number.isNaN(v.data[(2 * 5 + 3) * 4 + 1])).toBe(true);
    expect(v.data[(4 * 5 + 0) * 4 + 3]).toBe(Number.POSITIVE_INFINITY);
    await expect(readLabel(p)).rejects.toThrow(/a label map must hold integer class indices, found NaN at voxel \(2, 3, 1\)/);
  });

  it('a label file with float values; integral floats are accepted as integers', async () => {
    const data = new Float32Array(6 * 5 * 4);
    data[(1 * 5 + 4) * 4 + 2] = 1.5; // voxel (1, 4, 2)
    const p = join(tmp.dir, 'float-label.nii.gz');
    await writeVolume(p, createVolume({ data, shape: [6, 5, 4] }));
    await expect(readLabel(p)).rejects.toThrow(
      `${p}: a label map must hold integer class indices, found 1.5 at voxel (1, 4, 2) (stored as float32)`,
    );
    data[(1 * 5 + 4) * 4 + 2] = 3;
    data[0] = 300;
    await writeVolume(p, createVolume({ data, shape: [6, 5, 4] }));
    const l = await readLabel(p);
    expect(l.data).toBeInstanceOf(Int16Array);
    expect(l.data[(1 * 5 + 4) * 4 + 2]).toBe(3);
    expect(l.data[0]).toBe(300);
  });

  it('writing into a missing folder or an unknown format names the file', async () => {
    const v = createVolume({ data: new Float32Array(8), shape: [2, 2, 2] });
    const missing = join(tmp.dir, 'no-such-dir', 'x.nii');
    await expect(writeVolume(missing, v)).rejects.toThrow(`${missing}: cannot write into ${join(tmp.dir, 'no-such-dir')} (ENOENT`);
    const unknown = join(tmp.dir, 'x.unknownformat');
    await expect(writeVolume(unknown, v)).rejects.toThrow(new RegExp(`${unknown}: unknown image format: the name should end with one of .*\\.nii\\.gz`));
  });

  it('writing checks the volume first', async () => {
    const bad = { ...createVolume({ data: new Float32Array(8), shape: [2, 2, 2] }), shape: [2, 2, 3] as [number, number, number] };
    await expect(writeVolume(join(tmp.dir, 'bad.nii'), bad)).rejects.toThrow(/shape 2×2×3 needs 12 voxels, the array holds 8/);
  });
});
