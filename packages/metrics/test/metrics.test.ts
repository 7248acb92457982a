import {
  averageSurfaceDistance,
  dice,
  evaluateSegmentation,
  hausdorffDistance,
  maskSurfaceDistances,
  normalizedSurfaceDice,
  percentile,
  directedHausdorff,
  surfaceOf,
} from '../src/index.js';

type Shape = [number, number, number];

function box(shape: Shape, lo: number[], hi: number[], value = 1): Uint8Array {
  const [nx, ny, nz] = shape;
  const out = new Uint8Array(nx * ny * nz);
  for (let x = lo[0]; x < hi[0]; x++) for (let y = lo[1]; y < hi[1]; y++) for (let z = lo[2]; z < hi[2]; z++) {
    out[(x * ny + y) * nz + z] = value;
  }
  return out;
}

/** Independent reference: surface voxels by the definition, distances by brute force. */
function bruteSurfaceDistances(p: Uint8Array, g: Uint8Array, shape: Shape, spacing: number[]) {
  const [nx, ny, nz] = shape;
  const inside = (m: Uint8Array, x: number, y: number, z: number) =>
    x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz && m[(x * ny + y) * nz + z] !== 0;
  const surface = (m: Uint8Array) => {
    const pts: number[][] = [];
    for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) for (let z = 0; z < nz; z++) {
      if (!inside(m, x, y, z)) continue;
      const nb = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
      if (nb.some(([a, b, c]) => !inside(m, x + a, y + b, z + c))) pts.push([x, y, z]);
    }
    return pts;
  };
  const dist = (from: number[][], to: number[][]) =>
    from.map(([x, y, z]) => Math.min(...to.map(([a, b, c]) => Math.hypot((x - a) * spacing[0], (y - b) * spacing[1], (z - c) * spacing[2]))));
  const sp = surface(p), sg = surface(g);
  return { predToGt: dist(sp, sg), gtToPred: dist(sg, sp) };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

describe('surfaces (binary erosion, 6-connectivity, border 0)', () => {
  it('a solid 4³ cube has 56 surface voxels; a cube touching the border keeps its border face', () => {
    const shape: Shape = [6, 6, 6];
    const s = surfaceOf(box(shape, [1, 1, 1], [5, 5, 5]), shape);
    expect(s.reduce((a, b) => a + b, 0)).toBe(56);
    const t = surfaceOf(box(shape, [0, 0, 0], [6, 6, 6]), shape);
    expect(t.reduce((a, b) => a + b, 0)).toBe(6 ** 3 - 4 ** 3);
  });

  it('surface distances equal a brute-force reference on random blobs with anisotropic spacing', () => {
    const shape: Shape = [10, 8, 7];
    const rnd = lcg(7);
    const n = shape[0] * shape[1] * shape[2];
    const p = new Uint8Array(n), g = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      p[i] = rnd() < 0.35 ? 1 : 0;
      g[i] = rnd() < 0.35 ? 1 : 0;
    }
    const spacing = [0.8, 1.5, 2.5];
    const ours = maskSurfaceDistances({ data: p, shape, spacing }, { data: g, shape, spacing });
    const ref = bruteSurfaceDistances(p, g, shape, spacing);
    const sorted = (a: ArrayLike<number>) => Array.from(a).sort((u, v) => u - v);
    expect(sorted(ours.predToGt).length).toBe(ref.predToGt.length);
    sorted(ours.predToGt).forEach((v, i) => expect(v).toBeCloseTo(sorted(ref.predToGt)[i], 12));
    sorted(ours.gtToPred).forEach((v, i) => expect(v).toBeCloseTo(sorted(ref.gtToPred)[i], 12));
  });
});

describe('metrics on two shifted cubes', () => {
  const shape: Shape = [12, 12, 12];
  const gt = { data: box(shape, [3, 3, 3], [8, 8, 8]), shape, spacing: [2, 1, 1] };
  const pred = { data: box(shape, [4, 3, 3], [9, 8, 8]), shape, spacing: [2, 1, 1] };

  it('Dice counts voxels', () => {
    expect(dice(pred, gt)).toBeCloseTo((2 * 100) / 250, 12);
  });

  it('HD is one voxel step along x in mm; HD95 and ASD agree with the brute-force distances', () => {
    expect(hausdorffDistance(pred, gt)).toBe(2);
    const ref = bruteSurfaceDistances(pred.data, gt.data, shape, [2, 1, 1]);
    const p95 = (a: number[]) => percentile(a, 95);
    expect(hausdorffDistance(pred, gt, { percentile: 95 })).toBeCloseTo(Math.max(p95(ref.predToGt), p95(ref.gtToPred)), 12);
    expect(hausdorffDistance(pred, gt, { percentile: 95, directed: true })).toBeCloseTo(p95(ref.predToGt), 12);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(averageSurfaceDistance(pred, gt)).toBeCloseTo(mean(ref.predToGt), 12);
    expect(averageSurfaceDistance(pred, gt, { symmetric: true })).toBeCloseTo(mean([...ref.predToGt, ...ref.gtToPred]), 12);
    const within = (t: number) =>
      [...ref.predToGt, ...ref.gtToPred].filter((d) => d <= t).length / (ref.predToGt.length + ref.gtToPred.length);
    expect(normalizedSurfaceDice(pred, gt, 1)).toBeCloseTo(within(1), 12);
    expect(normalizedSurfaceDice(pred, gt, 2)).toBe(1);
    // An explicit spacing overrides the volumes' own.
    expect(hausdorffDistance(pred, gt, { spacing: 1 })).toBe(1);
  });
});

describe("MONAI's empty-class semantics", () => {
  const shape: Shape = [5, 5, 5];
  const empty = { data: new Uint8Array(125), shape };
  const blob = { data: box(shape, [1, 1, 1], [3, 3, 3]), shape };

  it('both empty: Dice NaN (ignore_empty) or 1; HD, ASD, NSD NaN', () => {
    expect(dice(empty, empty)).toBeNaN();
    expect(dice(empty, empty, { ignoreEmpty: false })).toBe(1);
    expect(hausdorffDistance(empty, empty, { percentile: 95 })).toBeNaN();
    expect(averageSurfaceDistance(empty, empty)).toBeNaN();
    expect(normalizedSurfaceDice(empty, empty, 1)).toBeNaN();
  });

  it('empty ground truth: Dice NaN or 0; HD and ASD Infinity; NSD 0', () => {
    expect(dice(blob, empty)).toBeNaN();
    expect(dice(blob, empty, { ignoreEmpty: false })).toBe(0);
    expect(hausdorffDistance(blob, empty, { percentile: 95 })).toBe(Infinity);
    expect(averageSurfaceDistance(blob, empty)).toBe(Infinity);
    expect(normalizedSurfaceDice(blob, empty, 10)).toBe(0);
  });

  it('empty prediction: Dice 0; HD and ASD Infinity; NSD 0', () => {
    expect(dice(empty, blob)).toBe(0);
    expect(hausdorffDistance(empty, blob)).toBe(Infinity);
    expect(averageSurfaceDistance(empty, blob, { symmetric: true })).toBe(Infinity);
    expect(normalizedSurfaceDice(empty, blob, 10)).toBe(0);
  });

  it('evaluateSegmentation skips background, reports NaN for absent classes and leaves them out of the means', () => {
    const p = box(shape, [1, 1, 1], [3, 3, 3], 1);
    const g = box(shape, [1, 1, 1], [3, 3, 4], 1);
    g[124] = 3; // class 3 only in the ground truth, class 2 nowhere
    const r = evaluateSegmentation({ data: p, shape }, { data: g, shape });
    expect(r.classes.map((c) => c.label)).toEqual([1, 2, 3]);
    expect(r.classes[0].dice).toBeCloseTo(16 / 20, 12);
    expect(r.classes[1].dice).toBeNaN();
    expect(r.classes[1].hd95).toBeNaN();
    expect(r.classes[1].nsd).toBeNaN();
    expect(r.classes[2].dice).toBe(0);
    expect(r.classes[2].hd95).toBe(Infinity);
    expect(r.classes[2].nsd).toBe(0);
    expect(r.mean.dice).toBeCloseTo((0.8 + 0) / 2, 12);
    expect(r.mean.hd95).toBe(Infinity);
    const withBg = evaluateSegmentation({ data: p, shape }, { data: g, shape }, { includeBackground: true, diceOnly: true });
    expect(withBg.classes.map((c) => c.label)).toEqual([0, 1, 2, 3]);
    expect(withBg.classes[1].hd95).toBeNaN();
  });
});

describe('percentile and directed Hausdorff', () => {
  it('interpolates linearly like numpy.percentile', () => {
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 12);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([], 95)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(/q in \[0, 100\]/);
  });

  it('percentile undefined or 0 gives the maximum, as MONAI (`if not percentile`)', () => {
    const d = Float64Array.from([1, 7, 3]);
    expect(directedHausdorff(d)).toBe(7);
    expect(directedHausdorff(d, 0)).toBe(7);
    expect(directedHausdorff(new Float64Array(0), 95)).toBeNaN();
  });
});

describe('input checks', () => {
  it('names the volume and what was expected', () => {
    const a = { data: new Uint8Array(8), shape: [2, 2, 2] };
    expect(() => dice(a, { data: new Uint8Array(12), shape: [2, 2, 3] })).toThrow(/same grid: shapes \[2,2,2\] and \[2,2,3\]/);
    expect(() => dice(a, { data: new Uint8Array(7), shape: [2, 2, 2], source: 'gt.nii.gz' })).toThrow(/ground truth \(gt.nii.gz\).*needs 8 voxels but data has 7/);
    expect(() => hausdorffDistance({ ...a, spacing: [1, 1, 1] }, { ...a, spacing: [1, 2, 1] })).toThrow(/same voxel spacing/);
    expect(() => evaluateSegmentation({ data: Float32Array.from([0.5, 0, 0, 0, 0, 0, 0, 0]), shape: [2, 2, 2] }, a)).toThrow(
      /integer class labels.*found 0.5 at voxel 0/,
    );
    expect(() => evaluateSegmentation(a, a, { labels: [1, 2], nsdTolerance: [1] })).toThrow(/one tolerance per evaluated class \(2\), found 1/);
    expect(() => normalizedSurfaceDice(a, a, -1)).toThrow(/tolerance: expected a finite distance/);
  });
});
