// write → read is exact for every format (voxels bit for bit, geometry to float32 precision of the
// header), and NIfTI files we write carry the affine a second reader (nifti-reader-js) agrees with.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { affineFromGeometry, createVolume, readLabel, readVolume, writeVolume, type Volume } from '../src/index.js';
import { readNiftiIndependently, tempDir } from './helpers.js';

const FORMATS = ['nii', 'nii.gz', 'nrrd', 'nhdr', 'mha', 'mhd'];
const SHAPE: [number, number, number] = [5, 4, 3];
const N = SHAPE[0] * SHAPE[1] * SHAPE[2];

// LSA grid with exactly representable numbers, and an oblique one (rotation about S by 30°).
const LSA = { spacing: [2, 2, 3], origin: [10.5, -254, 3.25], direction: [[-1, 0, 0], [0, 0, 1], [0, 1, 0]] };
const c = Math.cos(Math.PI / 6);
const s = Math.sin(Math.PI / 6);
const OBLIQUE = { spacing: [0.8, 1.25, 2.5], origin: [-12.5, 40, -7], direction: [[c, -s, 0], [s, c, 0], [0, 0, 1]] };

function image(geometry: typeof LSA): Volume<Float32Array> {
  // Distinct values that depend on x, y and z separately, so any axis mix-up changes them.
  const data = new Float32Array(N);
  for (let x = 0; x < SHAPE[0]; x++)
    for (let y = 0; y < SHAPE[1]; y++) for (let z = 0; z < SHAPE[2]; z++) data[(x * SHAPE[1] + y) * SHAPE[2] + z] = 100 * x + 10 * y + z + 0.125;
  return createVolume({ data, shape: SHAPE, ...geometry });
}

function expectAffineClose(actual: number[][], expected: number[][], tol: number): void {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(Math.abs(actual[i][j] - expected[i][j])).toBeLessThanOrEqual(tol);
}

describe('write → read round trips', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it.each(FORMATS)('float32 image through .%s is exact', async (ext) => {
    for (const [name, geometry] of [['lsa', LSA], ['oblique', OBLIQUE]] as const) {
      const v = image(geometry);
      const path = join(tmp.dir, `${name}-img.${ext}`);
      await writeVolume(path, v);
      const back = await readVolume(path);
      expect(back.shape).toEqual(v.shape);
      expect(back.data).toEqual(v.data);
      // Header fields are float32 in NIfTI, decimal text elsewhere: geometry to 1e-5 mm.
      expectAffineClose(back.affine, v.affine, 1e-5);
      if (name === 'lsa') expect(back.affine.map((r) => r.map((x) => x + 0))).toEqual(v.affine);
    }
  });

  it.each(FORMATS)('integer label maps through .%s keep their type and values', async (ext) => {
    // Every format with the two common label types; the wider types on two formats (speed).
    const types = ext === 'nii.gz' || ext === 'nrrd' ? [Uint8Array, Int16Array, Uint16Array, Int32Array] : [Uint8Array, Int16Array];
    for (const Ctor of types) {
      const data = new Ctor(N);
      for (let i = 0; i < N; i++) data[i] = (i * 7) % 5;
      const v = createVolume({ data, shape: SHAPE, ...LSA });
      const path = join(tmp.dir, `lab-${Ctor.name}.${ext}`);
      await writeVolume(path, v);
      const back = await readLabel(path);
      expect(back.data).toBeInstanceOf(Ctor);
      expect(back.data).toEqual(v.data);
      expect(back.affine).toEqual(v.affine);
    }
  });

  it('compressed .nrrd/.mha/.nhdr/.mhd round-trip too, and no temporary files are left', async () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const ext of ['nrrd', 'mha', 'nhdr', 'mhd']) {
        const v = image(OBLIQUE);
        const path = join(dir, `z.${ext}`);
        await writeVolume(path, v, { compress: true });
        const back = await readVolume(path);
        expect(back.data).toEqual(v.data);
        expectAffineClose(back.affine, v.affine, 1e-5);
      }
      expect(readdirSync(dir).filter((f) => f.startsWith('.swinmm-write-'))).toEqual([]);
      expect(existsSync(join(dir, 'z.nhdr'))).toBe(true);
    } finally {
      cleanup();
    }
  });

  it.each(['nii', 'nii.gz'])('a .%s we write has sform and qform equal to our affine for nifti-reader-js', async (ext) => {
    for (const geometry of [LSA, OBLIQUE]) {
      const v = image(geometry);
      const path = join(tmp.dir, `check.${ext}`);
      await writeVolume(path, v);
      const { header, srow, image: raw } = await readNiftiIndependently(path);
      const expected = affineFromGeometry(geometry.spacing, geometry.origin, geometry.direction);
      expect(header.sform_code).toBeGreaterThan(0);
      expectAffineClose([...srow, [0, 0, 0, 1]], expected, 1e-5);
      expect(header.qform_code).toBeGreaterThan(0);
      const q = header.convertNiftiQFormToNiftiSForm(
        header.quatern_b, header.quatern_c, header.quatern_d,
        header.qoffset_x, header.qoffset_y, header.qoffset_z,
        header.pixDims[1], header.pixDims[2], header.pixDims[3], header.pixDims[0] === 0 ? 1 : header.pixDims[0],
      );
      expectAffineClose(q, expected, 1e-5);
      // File order is x fastest: voxel (x, y, z) at x + 5·(y + 4·z).
      const f = new Float32Array(raw);
      expect(header.datatypeCode).toBe(16);
      expect(f[3 + 5 * (2 + 4 * 1)]).toBe(321.125);
    }
  });
});
