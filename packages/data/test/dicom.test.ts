// DICOM series folders through @itk-wasm/dicom, offline.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { orientationCode, readDicomSeries, readVolume, readVolumeInfo } from '../src/index.js';
import { tempDir } from './helpers.js';

const SERIES = resolve(__dirname, 'fixtures/dicom-series');

describe('DICOM series', () => {
  it('reads the folder as one volume: slices sorted by position, HU values, RAS geometry', async () => {
    const v = await readVolume(SERIES);
    // x = column (6), y = row (5), z = slice (4); spacing x = column spacing 0.8, y = row spacing 0.7.
    expect(v.shape).toEqual([6, 5, 4]);
    expect(v.spacing.map((s) => +s.toFixed(6))).toEqual([0.8, 0.7, 2.5]);
    // ImagePositionPatient of the first slice is (−10, −20, 30) in LPS, i.e. (10, 20, 30) in RAS;
    // ImageOrientationPatient [1 0 0 0 1 0] runs columns to patient Left and rows to Posterior.
    expect(v.origin.map((x) => +x.toFixed(6))).toEqual([10, 20, 30]);
    expect(v.affine.map((r) => r.map((x) => +x.toFixed(6) + 0))).toEqual([
      [-0.8, 0, 0, 10],
      [0, -0.7, 0, 20],
      [0, 0, 2.5, 30],
      [0, 0, 0, 1],
    ]);
    expect(orientationCode(v.affine)).toBe('LPS');
    const at = (x: number, y: number, z: number) => v.data[(x * 5 + y) * 4 + z];
    expect(at(0, 0, 0)).toBe(-1024);
    expect(at(1, 2, 3)).toBe(100 * 3 + 10 * 2 + 1 - 1024);
    expect(at(5, 4, 2)).toBe(200 + 40 + 5 - 1024);
    const info = await readVolumeInfo(SERIES);
    expect(info.shape).toEqual(v.shape);
    expect(info.affine).toEqual(v.affine);
  });

  it('reports an empty folder and files that are not DICOM, naming the folder', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      await expect(readDicomSeries(empty)).rejects.toThrow(`${empty}: expected DICOM files in this folder, found none`);
      const junk = join(dir, 'junk');
      mkdirSync(junk);
      writeFileSync(join(junk, 'x.dcm'), 'not dicom at all');
      await expect(readVolume(junk)).rejects.toThrow(new RegExp(`${junk}: @itk-wasm/dicom could not read the series of 1 file`));
    } finally {
      cleanup();
    }
  });
});

describe('process exit code', () => {
  it('a failed itk-wasm pipeline leaves process.exitCode as it was (Emscripten sets it to 1)', async () => {
    const { dir, cleanup } = tempDir();
    const before = process.exitCode;
    try {
      writeFileSync(join(dir, 'x.dcm'), 'not dicom at all');
      await expect(readDicomSeries(dir)).rejects.toThrow(/could not read the series/);
      expect(process.exitCode).toBe(before);
    } finally {
      process.exitCode = before;
      cleanup();
    }
  });
});
