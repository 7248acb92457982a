import {
  affineFromGeometry,
  applyAffine,
  compareGrids,
  createVolume,
  geometryFromAffine,
  invertAffine,
  multiplyAffines,
  orientationCode,
  voxelOffset,
  withData,
} from '../src/index.js';

const LSA = [
  [-1, 0, 0],
  [0, 0, 1],
  [0, 1, 0],
];

describe('affine <-> geometry', () => {
  it('builds direction·diag(spacing) with the origin in the last column', () => {
    const a = affineFromGeometry([2, 2, 3], [10, -20, 30], LSA);
    expect(a).toEqual([
      [-2, 0, 0, 10],
      [0, 0, 3, -20],
      [0, 2, 0, 30],
      [0, 0, 0, 1],
    ]);
  });

  it('splits an affine back into the same spacing, origin and direction', () => {
    const g = geometryFromAffine(affineFromGeometry([2, 2, 3], [10, -20, 30], LSA));
    expect(g.spacing).toEqual([2, 2, 3]);
    expect(g.origin).toEqual([10, -20, 30]);
    expect(g.direction).toEqual(LSA);
  });

  it('rejects a bad last row and a zero column', () => {
    expect(() => geometryFromAffine([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]])).toThrow(/last row/);
    expect(() => geometryFromAffine([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])).toThrow(/column 1 is zero/);
  });

  it('inverts and multiplies', () => {
    const a = affineFromGeometry([2, 2, 3], [10, -20, 30], LSA);
    const id = multiplyAffines(a, invertAffine(a));
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(id[i][j]).toBeCloseTo(i === j ? 1 : 0, 12);
    expect(applyAffine(a, [1, 1, 1])).toEqual([8, -17, 32]);
  });

  it('gives nibabel-style orientation codes', () => {
    expect(orientationCode(LSA)).toBe('LSA');
    expect(orientationCode(affineFromGeometry([1, 1, 1], [0, 0, 0], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]))).toBe('RAS');
    expect(orientationCode([[-1, 0, 0], [0, -1, 0], [0, 0, 1]])).toBe('LPS');
  });
});

describe('createVolume', () => {
  it('validates shape, data length, spacing and direction, naming the source', () => {
    const data = new Float32Array(24);
    expect(() => createVolume({ data, shape: [2, 3, 5], source: 'a.nii' })).toThrow(/a\.nii.*needs 30 voxels, the array holds 24/);
    expect(() => createVolume({ data, shape: [2, 3, 4.5] })).toThrow(/3 positive integers/);
    expect(() => createVolume({ data, shape: [2, 3, 4], spacing: [1, 0, 1] })).toThrow(/positive/);
    expect(() => createVolume({ data, shape: [2, 3, 4], direction: [[2, 0, 0], [0, 1, 0], [0, 0, 1]] })).toThrow(/unit vector/);
    expect(() => createVolume({ data, shape: [2, 3, 4], spacing: [1, 1, Number.NaN] })).toThrow(/finite/);
  });

  it('takes geometry from an affine and checks it against the parts when both are given', () => {
    const affine = affineFromGeometry([2, 2, 3], [1, 2, 3], LSA);
    const v = createVolume({ data: new Int16Array(24), shape: [2, 3, 4], affine });
    expect(v.spacing).toEqual([2, 2, 3]);
    expect(v.direction).toEqual(LSA);
    expect(v.affine).toEqual(affine);
    expect(() => createVolume({ data: new Int16Array(24), shape: [2, 3, 4], affine, spacing: [2, 2, 2] })).toThrow(/disagrees/);
  });

  it('withData keeps the grid and checks the length', () => {
    const v = createVolume({ data: new Float32Array(24), shape: [2, 3, 4], spacing: [1, 2, 3], source: 's' });
    const w = withData(v, new Uint8Array(24));
    expect(w.affine).toEqual(v.affine);
    expect(w.data).toBeInstanceOf(Uint8Array);
    expect(() => withData(v, new Uint8Array(23))).toThrow(/needs 24 voxels/);
    expect(voxelOffset(v.shape, 1, 2, 3)).toBe(23);
  });

  it('compareGrids names the first difference', () => {
    const a = createVolume({ data: new Float32Array(24), shape: [2, 3, 4] });
    const b = createVolume({ data: new Float32Array(24), shape: [2, 3, 4], origin: [0, 0, 1] });
    const c = createVolume({ data: new Float32Array(24), shape: [2, 4, 3] });
    expect(compareGrids(a, a)).toBeNull();
    expect(compareGrids(a, b)?.field).toBe('origin');
    expect(compareGrids(a, c)?.message).toBe('shape 2×3×4 vs 2×4×3');
  });
});
