/**
 * A 3-D convolution (odd kernel k, stride 1, "same" zero padding (k−1)/2) with its input and
 * filter gradients, as unfolded planes + matrix products: the built-in `conv3d` of the `cpu` and
 * `wasm` backends for the k3 convolutions of the UNETR blocks.
 *
 * Why: tfjs' cpu conv3d runs at ~0.2 GMAC/s and wasm's at ~0.13 (STACK.md), and the wasm input
 * gradient falls back to the cpu kernel (wasm's is wrong). Unfolding the (y, z) neighbourhood of
 * every voxel of a slab of x-planes into rows of k²·Cin values turns the convolution into k plain
 * 2-D matrix products (one per x tap, on row blocks shifted by whole planes), which {@link gemm}
 * runs on XNNPACK when the wasm backend is loaded (~15 GFLOP/s on one core).
 *
 * - forward: `Σ_a col(x)[plane + a] · W_a`, with W_a `[k²·Cin, Cout]` (the filter's own layout);
 * - input gradient: the same convolution of dy with the filter mirrored in space and its channel
 *   axes swapped (exact for symmetric "same" padding);
 * - filter gradient: `col(x)[plane + a]ᵀ · dy` per slab and x tap, summed in float64 blocks by
 *   {@link addTransposedProduct} (XNNPACK sums in float32, which loses ~1e-3 over a whole volume).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { addTransposedProduct, gemm } from './gemm.js';

const { max, min } = Math;

interface Geometry {
  b: number;
  X: number;
  Y: number;
  Z: number;
  k: number;
}

/** Floats per unfolded slab (32 MB), which bounds the extra memory of a convolution. */
const SLAB_FLOATS = 1 << 23;

/**
 * Unfolds the (y, z) neighbourhoods of the x-planes `xFrom … xFrom+planes−1` of batch item `n`
 * (planes outside the volume are zeros) into `col` `[planes·Y·Z, k²·c]`: for each tap (b, c) in
 * filter order, the `c` channels of the source voxel, or zeros outside the volume.
 *
 * Why only (y, z): the x taps of a k³ filter then read the same rows shifted by whole planes, so
 * the product for x tap `a` is a plain matrix product on a contiguous block of rows starting at
 * plane a, and the unfolding costs k² instead of k³ copies per voxel.
 */
function unfoldPlanes(src: Float32Array, c: number, g: Geometry, n: number, xFrom: number, planes: number, col: Float32Array): void {
  const { X, Y, Z, k } = g;
  const p = (k - 1) / 2;
  const run = k * c;
  const width = k * run;
  const planeRows = Y * Z;
  for (let plane = 0; plane < planes; plane++) {
    const x = xFrom + plane;
    const planeStart = plane * planeRows * width;
    if (x < 0 || x >= X) {
      col.fill(0, planeStart, planeStart + planeRows * width);
      continue;
    }
    for (let y = 0; y < Y; y++) {
      for (let bb = 0; bb < k; bb++) {
        const sy = y + bb - p;
        const blockOffset = planeStart + y * Z * width + bb * run;
        if (sy < 0 || sy >= Y) {
          for (let z = 0; z < Z; z++) col.fill(0, blockOffset + z * width, blockOffset + z * width + run);
          continue;
        }
        const lineStart = (((n * X + x) * Y + sy) * Z - p) * c; // source of tap c = 0 at z = 0
        for (let z = 0; z < Z; z++) {
          const to = blockOffset + z * width;
          const from = lineStart + z * c;
          if (z >= p && z + p < Z) {
            for (let i = 0; i < run; i++) col[to + i] = src[from + i];
          } else {
            // The z run leaves the volume: zeros for the missing taps.
            for (let t = 0; t < k; t++) {
              const sz = z + t - p;
              const o = to + t * c;
              if (sz < 0 || sz >= Z) col.fill(0, o, o + c);
              else for (let i = 0; i < c; i++) col[o + i] = src[from + t * c + i];
            }
          }
        }
      }
    }
  }
}

/** How many output x-planes one slab holds (its halo of k−1 planes counted in the budget). */
function slabPlanes(g: Geometry, c: number): number {
  const planeFloats = g.Y * g.Z * g.k * g.k * c;
  return max(1, min(g.X, Math.floor(SLAB_FLOATS / planeFloats) - (g.k - 1)));
}

/**
 * Calls `visit(n, x0, planes, col)` for each slab of output x-planes, with `col` holding the
 * unfolded planes `x0 − p … x0 + planes − 1 + p`.
 */
function forEachSlab(src: Float32Array, c: number, g: Geometry, visit: (n: number, x0: number, planes: number, col: Float32Array) => void): void {
  const p = (g.k - 1) / 2;
  const perSlab = slabPlanes(g, c);
  const col = new Float32Array((perSlab + 2 * p) * g.Y * g.Z * g.k * g.k * c);
  for (let n = 0; n < g.b; n++)
    for (let x0 = 0; x0 < g.X; x0 += perSlab) {
      const planes = min(perSlab, g.X - x0);
      unfoldPlanes(src, c, g, n, x0 - p, planes + 2 * p, col);
      visit(n, x0, planes, col);
    }
}

/** `conv(src)` with the filter `[k, k, k, cin, cout]`; output `[voxels, cout]`. */
function convolve(src: Float32Array, cin: number, w: Float32Array, cout: number, g: Geometry): Float32Array {
  const { k } = g;
  const planeRows = g.Y * g.Z;
  const width = k * k * cin;
  const out = new Float32Array(g.b * g.X * planeRows * cout);
  forEachSlab(src, cin, g, (n, x0, planes, col) => {
    const rows = planes * planeRows;
    const outStart = (n * g.X + x0) * planeRows * cout;
    for (let a = 0; a < k; a++) {
      // x tap a reads the unfolded planes shifted by a: rows a·Y·Z … of the slab.
      const part = gemm(col.subarray(a * planeRows * width), w.subarray(a * width * cout), rows, width, cout);
      if (a === 0) out.set(part, outStart);
      else for (let i = 0; i < part.length; i++) out[outStart + i] += part[i];
    }
  });
  return out;
}

/** The filter `[k³, cin, cout]` mirrored in space with its channel axes swapped: `[k³, cout, cin]`. */
function mirrorFilter(w: Float32Array, taps: number, cin: number, cout: number): Float32Array {
  const m = new Float32Array(w.length);
  for (let t = 0; t < taps; t++) {
    const from = t * cin * cout;
    const to = (taps - 1 - t) * cout * cin;
    for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) m[to + co * cin + ci] = w[from + ci * cout + co];
  }
  return m;
}

function filterGradient(x: Float32Array, cin: number, dy: Float32Array, cout: number, g: Geometry): Float32Array {
  const { k } = g;
  const planeRows = g.Y * g.Z;
  const width = k * k * cin;
  const sum = new Float64Array(k * width * cout);
  forEachSlab(x, cin, g, (n, x0, planes, col) => {
    const rows = planes * planeRows;
    const dySlab = dy.subarray((n * g.X + x0) * planeRows * cout);
    for (let a = 0; a < k; a++) {
      // Filter rows of x tap a ([k²·cin, cout]) from the unfolded planes shifted by a.
      addTransposedProduct(sum.subarray(a * width * cout, (a + 1) * width * cout), col.subarray(a * planeRows * width), dySlab, rows, width, cout);
    }
  });
  return Float32Array.from(sum);
}

/**
 * `conv3d(x, w)` with stride 1 and padding (k−1)/2 on `[B, X, Y, Z, Cin]`, filter
 * `[k, k, k, Cin, Cout]`, differentiable in both arguments.
 */
export function jsConv3dSame(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  const [b, X, Y, Z, cin] = x.shape;
  const [k, , , , cout] = w.shape;
  const g: Geometry = { b, X, Y, Z, k };
  const f = ((xs: tf.Tensor, ws: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xs, ws]);
    const out = convolve(xs.dataSync() as Float32Array, cin, ws.dataSync() as Float32Array, cout, g);
    return {
      value: tf.tensor5d(out, [b, X, Y, Z, cout]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved;
        const dyData = dy.dataSync() as Float32Array;
        const dx = convolve(dyData, cout, mirrorFilter(sw.dataSync() as Float32Array, k * k * k, cin, cout), cin, g);
        const dw = filterGradient(sx.dataSync() as Float32Array, cin, dyData, cout, g);
        return [tf.tensor5d(dx, [b, X, Y, Z, cin]), tf.tensor5d(dw, [k, k, k, cin, cout])];
      },
    };
  }) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
  return (tf.customGrad(f as never) as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor5D)(x, w);
}
export { unfoldPlanes as __unfoldPlanesForBench };
