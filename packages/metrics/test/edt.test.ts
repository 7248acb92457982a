import { distanceTransformEdt, squaredDistanceToFeatures } from '../src/index.js';

/** A small deterministic generator so the random volumes are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** O(n²) reference: squared distance to the nearest feature voxel. */
function bruteForce(feature: Uint8Array, shape: number[], spacing: number[]): Float64Array {
  const [nx, ny, nz] = shape;
  const pts: number[][] = [];
  for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) for (let z = 0; z < nz; z++) {
    if (feature[(x * ny + y) * nz + z]) pts.push([x, y, z]);
  }
  const out = new Float64Array(nx * ny * nz);
  for (let x = 0, i = 0; x < nx; x++) for (let y = 0; y < ny; y++) for (let z = 0; z < nz; z++, i++) {
    let best = Infinity;
    for (const [px, py, pz] of pts) {
      const d = ((x - px) * spacing[0]) ** 2 + ((y - py) * spacing[1]) ** 2 + ((z - pz) * spacing[2]) ** 2;
      if (d < best) best = d;
    }
    out[i] = best;
  }
  return out;
}

describe('squaredDistanceToFeatures (exact EDT)', () => {
  const cases: [string, number[], number[], number][] = [
    ['isotropic, dense features', [9, 7, 5], [1, 1, 1], 0.2],
    ['anisotropic, sparse features', [11, 6, 8], [0.7, 1.3, 2.1], 0.02],
    ['anisotropic, single feature', [5, 9, 4], [3, 0.5, 1], 0],
    ['one voxel thick', [1, 12, 1], [1, 2, 1], 0.15],
  ];
  it.each(cases)('matches brute force: %s', (_name, shape, spacing, density) => {
    const rnd = lcg(shape[0] * 1000 + shape[1]);
    const n = shape[0] * shape[1] * shape[2];
    const feature = new Uint8Array(n);
    for (let i = 0; i < n; i++) feature[i] = rnd() < density ? 1 : 0;
    feature[Math.floor(n / 3)] = 1;
    const ours = squaredDistanceToFeatures(feature, shape, spacing);
    const ref = bruteForce(feature, shape, spacing);
    for (let i = 0; i < n; i++) expect(Math.abs(ours[i] - ref[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, ref[i]));
  });

  it('is Infinity everywhere without features and writes into a Float32Array on request', () => {
    expect(Array.from(squaredDistanceToFeatures(new Uint8Array(8), [2, 2, 2]))).toEqual(new Array(8).fill(Infinity));
    const out = new Float32Array(27);
    const feature = new Uint8Array(27);
    feature[0] = 1;
    expect(squaredDistanceToFeatures(feature, [3, 3, 3], 1, out)).toBe(out);
    expect(out[26]).toBe(12);
  });

  it('distanceTransformEdt follows scipy: distance of non-zero voxels to the nearest zero voxel', () => {
    // 1-D line along z: 1 1 0 1 1 1 with spacing 2 → 4 2 0 2 4 6
    const d = distanceTransformEdt([1, 1, 0, 1, 1, 1], [1, 1, 6], [1, 1, 2]);
    expect(Array.from(d)).toEqual([4, 2, 0, 2, 4, 6]);
  });

  it('rejects bad shapes, spacings and lengths with a clear message', () => {
    expect(() => squaredDistanceToFeatures(new Uint8Array(4), [2, 2], 1)).toThrow(/shape: expected \[x, y, z\]/);
    expect(() => squaredDistanceToFeatures(new Uint8Array(4), [2, 2, 2], 1)).toThrow(/needs 8 voxels, found 4/);
    expect(() => squaredDistanceToFeatures(new Uint8Array(8), [2, 2, 2], [1, 0, 1])).toThrow(/spacing: expected three positive/);
  });
});
