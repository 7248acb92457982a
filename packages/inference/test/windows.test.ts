import { blurredImpulse1d, importanceMap, resolveRoiSize, roiPadding, scanInterval, windowGrid, windowStarts } from '../src/index.js';

describe("MONAI's window geometry", () => {
  it('scan interval is int(roi·(1 − overlap)), at least 1, and the ROI where image == ROI', () => {
    expect(scanInterval([333, 333, 300], [64, 64, 64], [0.7, 0.7, 0.7])).toEqual([19, 19, 19]);
    expect(scanInterval([333, 333, 300], [64, 64, 64], [0.5, 0.5, 0.5])).toEqual([32, 32, 32]);
    expect(scanInterval([64, 65, 64], [64, 64, 1], [0.5, 0.5, 0.99])).toEqual([64, 32, 1]);
  });

  it('window starts step by the interval and the last one is clamped to end at the border (SPEC §8.1)', () => {
    expect(windowStarts(45, 32, 16)).toEqual([0, 13]);
    expect(windowStarts(37, 16, 8)).toEqual([0, 8, 16, 21]);
    expect(windowStarts(64, 64, 64)).toEqual([0]);
    // WORD-sized case of SPEC §8.1: overlap 0.7 gives 16 windows on 333 voxels, 14 on 300; 0.5 gives 10 and 9.
    expect(windowStarts(333, 64, 19)).toHaveLength(16);
    expect(windowStarts(300, 64, 19)).toHaveLength(14);
    expect(windowStarts(333, 64, 32)).toHaveLength(10);
    expect(windowStarts(300, 64, 32)).toHaveLength(9);
  });

  it('windows are ordered x slowest, z fastest (meshgrid "ij")', () => {
    expect(windowGrid([4, 3, 3], [2, 3, 2], [2, 3, 1])).toEqual([
      [0, 0, 0], [0, 0, 1], [2, 0, 0], [2, 0, 1],
    ]);
  });

  it('pads ⌊diff/2⌋ before and the rest after, only where the image is smaller than the ROI', () => {
    expect(roiPadding([10, 64, 61], [64, 64, 64])).toEqual([[27, 27], [0, 0], [1, 2]]);
    expect(resolveRoiSize([32, -1, 0], [40, 50, 60])).toEqual([32, 50, 60]);
    expect(() => resolveRoiSize([32, 16], [40, 50, 60])).toThrow(/roiSize: expected three integers/);
  });
});

describe('importance maps', () => {
  it('constant is all ones', () => {
    expect(Array.from(importanceMap([2, 3, 4], 'constant'))).toEqual(new Array(24).fill(1));
  });

  it('gaussian: separable exp(−t²/2σ²), σ = 0.125·n, peak 1 at the centre of odd sizes, 1-D edge 4.3e-4 at n = 64 (SPEC §8.2)', () => {
    const g = importanceMap([64, 64, 64], 'gaussian');
    const at = (x: number, y: number, z: number) => g[(x * 64 + y) * 64 + z];
    const edge1d = Math.exp(-(31.5 ** 2) / (2 * 8 ** 2));
    expect(edge1d).toBeCloseTo(4.3e-4, 5);
    const centre = Math.exp(-(0.5 ** 2) / (2 * 8 ** 2)) ** 3;
    expect(at(32, 32, 32)).toBeCloseTo(centre, 6);
    const f = (t: number) => Math.exp(-(t ** 2) / 128);
    expect(at(4, 32, 32)).toBeCloseTo(f(27.5) * f(0.5) ** 2, 7);
    expect(at(10, 20, 40)).toBeCloseTo(f(21.5) * f(11.5) * f(8.5), 7);
    // the face centre (≈ 4.3e-4) is below the floor and is clamped like the corners (≈ 8e-11)
    expect(at(0, 32, 32)).toBeCloseTo(1e-3, 9);
    expect(at(0, 0, 0)).toBeCloseTo(1e-3, 9);
    expect(g.reduce((m, v) => Math.min(m, v), Infinity)).toBeCloseTo(1e-3, 9);
    const odd = importanceMap([5, 5, 5], 'gaussian', [0.5, 0.5, 0.5]);
    expect(odd[62]).toBe(1);
  });

  it("SwinMM's MONAI 0.9 gaussian: blurred impulse at n//2, 1-D edges 3.4e-4 (index 0) and 5.5e-4 (index 63) at n = 64 (SPEC §8.2)", () => {
    const g = blurredImpulse1d(64, 8);
    // reference: scipy.special.erf in float64, ½[erf((k+½)/(σ√2)) − erf((k−½)/(σ√2))] / peak
    expect(g[32]).toBe(1);
    expect(g[0]).toBeCloseTo(0.000338966138748, 9);
    expect(g[63]).toBeCloseTo(0.000554157947975, 9);
    expect(g[31]).toBeCloseTo(0.992228026397857, 6);
    expect(g[33]).toBe(g[31]);
    // a narrow kernel is truncated at int(max(4σ, 0.5) + 0.5) = 1 voxel from the centre
    expect(Array.from(blurredImpulse1d(7, 0.3)).map((v) => +v.toFixed(6))).toEqual([0, 0, 0.052841, 1, 0.052841, 0, 0]);
    const map = importanceMap([64, 64, 64], 'gaussian', 0.125, 'monai-0.9');
    expect(map[(32 * 64 + 32) * 64 + 32]).toBe(1);
    expect(map[(31 * 64 + 32) * 64 + 32]).toBeCloseTo(0.992228026397857, 6);
    expect(map[0]).toBeCloseTo(1e-3, 9);
    // unlike MONAI 1.2's map (symmetric about 31.5), the 0.9 map is symmetric about n//2 = 32
    const at = (m: Float32Array, x: number) => m[(x * 64 + 32) * 64 + 32];
    expect(at(map, 30)).toBe(at(map, 34));
    expect(at(map, 59)).toBeGreaterThan(at(map, 4) * 1.5); // k = +27 vs k = −28 from the peak
    const m12 = importanceMap([64, 64, 64], 'gaussian');
    expect(at(m12, 4)).toBe(at(m12, 59));
  });

  it('rejects unknown modes and bad sigma scales', () => {
    expect(() => importanceMap([4, 4, 4], 'cosine' as 'constant')).toThrow(/mode: expected 'constant' or 'gaussian'/);
    expect(() => importanceMap([4, 4, 4], 'gaussian', [0.1, 0])).toThrow(/sigmaScale/);
    expect(() => importanceMap([4, 4, 4], 'gaussian', 0.125, 'monai-1.0' as 'monai-1.2')).toThrow(/gaussianVariant/);
  });
});
