/**
 * Exact floating-point helpers used to reproduce PyTorch's coordinate arithmetic bit for bit.
 *
 * @module
 * @internal
 */

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** A finite double as `m · 2^e` with integer `m` (BigInt) and integer `e`. */
function decompose(x: number): [bigint, number] {
  F64[0] = x;
  const bits = U64[0];
  const sign = bits >> 63n ? -1n : 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  if (expBits === 0) return [sign * frac, -1074];
  return [sign * (frac | 0x10000000000000n), expBits - 1075];
}

/** Rounds the exact value `m · 2^e` to the nearest double, ties to even. */
function roundToDouble(m: bigint, e: number): number {
  if (m === 0n) return 0;
  const neg = m < 0n;
  let a = neg ? -m : m;
  // Normalise to 53 significant bits (or fewer for subnormals), rounding half to even.
  let shift = a.toString(2).length - 53;
  if (e + shift < -1074) shift = -1074 - e;
  if (shift > 0) {
    const s = BigInt(shift);
    const q = a >> s;
    const r = a - (q << s);
    const half = 1n << (s - 1n);
    let rounded = q;
    if (r > half || (r === half && (q & 1n) === 1n)) rounded = q + 1n;
    a = rounded;
    e += shift;
  }
  // a · 2^e with a < 2^54 is exactly representable (or overflows to ±Infinity).
  const value = Number(a) * Math.pow(2, e);
  return neg ? -value : value;
}

/** `a · b + c` with a single rounding (C's `fma`), as compilers contract it in vectorised kernels. */
export function fma(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return a * b + c;
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const [mc, ec] = decompose(c);
  let mp = ma * mb;
  let ep = ea + eb;
  let m2 = mc;
  let e2 = ec;
  // Align both terms to the smaller exponent, then add exactly.
  if (ep > e2) {
    mp <<= BigInt(ep - e2);
    ep = e2;
  } else if (e2 > ep) {
    m2 <<= BigInt(e2 - ep);
    e2 = ep;
  }
  return roundToDouble(mp + m2, ep);
}

/**
 * `torch.linspace(-1, 1, n)` in float64 exactly as PyTorch 1.13's CPU kernel computes it on an
 * AVX2 machine: blocks of 4 starting at `base = start + step·i` (contracted to one fused
 * multiply-add) and continued with `base + j·step`; the first half counts from −1, the second
 * from +1 (a block that straddles the middle keeps its base); the tail after the last pair of
 * blocks is computed element by element.
 */
export function torchLinspaceMinus1To1(n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = -1;
    return out;
  }
  const start = -1;
  const end = 1;
  const step = (end - start) / (n - 1);
  const halfway = Math.floor(n / 2);
  const scalar = (i: number): number => (i < halfway ? fma(step, i, start) : fma(-step, n - i - 1, end));
  const width = 4;
  let i = 0;
  for (; i + 2 * width <= n; i += 2 * width) {
    for (let v = 0; v < 2; v++) {
      const s = i + v * width;
      const base = scalar(s);
      out[s] = base;
      for (let j = 1; j < width; j++) out[s + j] = base + j * step;
    }
  }
  for (; i < n; i++) out[i] = scalar(i);
  return out;
}

/** C's `nearbyint` in the default rounding mode: nearest integer, halves to even. */
export function nearbyint(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
