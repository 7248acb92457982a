// The bundled ITK T1 MRI (LSA, 2×2×3 mm) and its k-means label map, read through our I/O and
// checked against what the NIfTI header says, read by an independent reader (nifti-reader-js).
import { orientationCode, readLabel, readVolume } from '../src/index.js';
import { ITK_LABELS, ITK_T1, readNiftiIndependently } from './helpers.js';

describe('ITK KmeansTest T1', () => {
  it('has the shape, spacing and RAS affine nibabel gives, and voxels in [x][y][z] order', async () => {
    const { header, image, srow } = await readNiftiIndependently(ITK_T1);
    // Header fields as nifti-reader-js reads them.
    expect(header.dims.slice(0, 4)).toEqual([3, 128, 128, 62]);
    expect(header.pixDims.slice(1, 4)).toEqual([2, 2, 3]);
    expect(header.sform_code).toBe(1);
    // nibabel's img.affine is get_best_affine(): the sform rows whenever sform_code > 0.
    // srow_x = [-2 0 0 0]: voxel x steps 2 mm towards Left (−R);
    // srow_y = [0 0 3 −254]: world A comes from voxel z (3 mm), origin A = −254;
    // srow_z = [0 2 0 0]: world S comes from voxel y (2 mm). Hence code LSA.
    const fromHeader = [...srow, [0, 0, 0, 1]];
    const expected = [
      [-2, 0, 0, 0],
      [0, 0, 3, -254],
      [0, 2, 0, 0],
      [0, 0, 0, 1],
    ];
    expect(fromHeader.map((r) => r.map((v) => v + 0))).toEqual(expected);
    // The qform (quaternion b=0, c=d=0.707107, qfac 1) describes the same grid up to the rounding of
    // 1/√2 to 6 digits; nifti-reader-js's `affine` is that qform.
    expect(header.qform_code).toBe(2);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expect(Math.abs(header.affine[i][j] - expected[i][j])).toBeLessThan(1e-3);

    const v = await readVolume(ITK_T1);
    expect(v.shape).toEqual([128, 128, 62]);
    expect(v.spacing).toEqual([2, 2, 3]);
    expect(v.affine.map((r) => r.map((x) => x + 0))).toEqual(expected);
    expect(v.origin.map((x) => x + 0)).toEqual([0, -254, 0]);
    expect(orientationCode(v.affine)).toBe('LSA');
    expect(v.data).toBeInstanceOf(Float32Array);
    expect(v.source).toBe(ITK_T1);

    // NIfTI stores voxels with i (x) fastest; ours are z fastest. Compare every voxel.
    expect(header.datatypeCode).toBe(4); // int16
    const raw = new Int16Array(image);
    const [sx, sy, sz] = v.shape;
    let mismatches = 0;
    let max = -Infinity;
    for (let x = 0; x < sx; x++)
      for (let y = 0; y < sy; y++)
        for (let z = 0; z < sz; z++) {
          const ours = v.data[(x * sy + y) * sz + z];
          if (ours !== raw[x + sx * (y + sy * z)]) mismatches++;
          if (ours > max) max = ours;
        }
    expect(mismatches).toBe(0);
    expect(max).toBe(255);
  });

  it('reads the label map as uint8 classes 0..6 on the same grid', async () => {
    const image = await readVolume(ITK_T1);
    const labels = await readLabel(ITK_LABELS, { classes: 7 });
    expect(labels.data).toBeInstanceOf(Uint8Array);
    expect(labels.affine).toEqual(image.affine);
    const counts = new Array(7).fill(0);
    for (const l of labels.data) counts[l]++;
    // The data README: label 1 is the air/background class with 729,202 voxels.
    expect(counts[1]).toBe(729202);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(128 * 128 * 62);
    expect(counts.slice(2).every((c) => c > 0)).toBe(true);
  });

  it('rejects labels outside the declared classes, naming the file, voxel and value', async () => {
    await expect(readLabel(ITK_LABELS, { classes: 6 })).rejects.toThrow(
      /KmeansTest_T1KmeansPrelimSegmentation\.nii\.gz: label 6 at voxel \(\d+, \d+, \d+\) is outside the declared classes \(0\.\.5\)/,
    );
    await expect(readLabel(ITK_LABELS, { classes: [0, 1, 2, 3, 4, 5] })).rejects.toThrow(/label 6 .*one of \[0,1,2,3,4,5\]/);
  });
});
