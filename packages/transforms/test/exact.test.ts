import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fma, nearbyint, torchLinspaceMinus1To1 } from '../src/exact.js';

/** Parses Python's float.hex() output exactly. */
function fromHex(s: string): number {
  const m = /^(-?)0x([0-9a-f]+)\.([0-9a-f]*)p([+-]\d+)$/.exec(s);
  if (!m) throw new Error(`not a hex float: ${s}`);
  const frac = m[3] ? parseInt(m[3], 16) / 16 ** m[3].length : 0;
  const v = (parseInt(m[2], 16) + frac) * 2 ** Number(m[4]);
  return m[1] ? -v : v;
}

describe('exact helpers', () => {
  it('torchLinspaceMinus1To1 reproduces PyTorch 1.13 affine_grid base coordinates bit for bit', () => {
    const ref = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_affine_grid_base.json'), 'utf8')) as { values_hex: Record<string, string[]> };
    for (const [key, hex] of Object.entries(ref.values_hex)) {
      const n = Number(key);
      const got = Array.from(torchLinspaceMinus1To1(n), (v) => (v * (n - 1)) / n);
      const want = hex.map(fromHex);
      const bad = got.findIndex((v, i) => v !== want[i]);
      if (bad >= 0) throw new Error(`n = ${n}: element ${bad} is ${got[bad]}, PyTorch has ${want[bad]}`);
    }
  });

  it('fma rounds once', () => {
    expect(fma(0.1, 10, -1)).toBe(5.551115123125783e-17);
    expect(0.1 * 10 - 1).toBe(0);
    const e = 1 + 2 ** -52;
    expect(fma(e, e, -(1 + 2 ** -51))).toBe(2 ** -104);
    expect(fma(3, 4, 5)).toBe(17);
    expect(fma(-2.5, 4, 0)).toBe(-10);
    expect(fma(2 ** 600, 2 ** 600, 0)).toBe(Infinity);
  });

  it('nearbyint rounds halves to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(nearbyint)).toEqual([0, 2, 2, 0, -2, 2, 3]);
  });
});
