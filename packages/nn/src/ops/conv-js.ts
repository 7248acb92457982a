/**
 * A 3-D convolution (odd kernel k, stride 1, "same" zero padding (k−1)/2) in plain JavaScript,
 * with its input and filter gradients: the built-in `conv3d` of the `cpu` and `wasm` backends for
 * the k3 convolutions of the UNETR blocks.
 *
 * Why: tfjs' cpu conv3d runs at ~0.2 GMAC/s and wasm's at ~0.13 (STACK.md), and the wasm input
 * gradient falls back to the cpu kernel (wasm's is wrong); a tap-major loop with the output
 * channels innermost is several times faster on both, and exact to float32 rounding.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

interface Geometry {
  b: number;
  X: number;
  Y: number;
  Z: number;
  cin: number;
  cout: number;
  k: number;
}

/**
 * Calls `visit(o, s, tap)` for every output voxel o (flat over B·X·Y·Z), every kernel tap and
 * its in-range source voxel s.
 */
function forEachTap(g: Geometry, visit: (o: number, s: number, tap: number) => void): void {
  const { b, X, Y, Z, k } = g;
  const p = (k - 1) / 2;
  for (let n = 0; n < b; n++)
    for (let x = 0; x < X; x++)
      for (let y = 0; y < Y; y++)
        for (let z = 0; z < Z; z++) {
          const o = ((n * X + x) * Y + y) * Z + z;
          let tap = 0;
          for (let a = 0; a < k; a++) {
            const sx = x + a - p;
            for (let bb = 0; bb < k; bb++) {
              const sy = y + bb - p;
              for (let c = 0; c < k; c++, tap++) {
                const sz = z + c - p;
                if (sx < 0 || sx >= X || sy < 0 || sy >= Y || sz < 0 || sz >= Z) continue;
                visit(o, ((n * X + sx) * Y + sy) * Z + sz, tap);
              }
            }
          }
        }
}

function convForward(x: Float32Array, w: Float32Array, g: Geometry): Float32Array {
  const { cin, cout } = g;
  const out = new Float32Array(g.b * g.X * g.Y * g.Z * cout);
  forEachTap(g, (o, s, tap) => {
    const xo = s * cin;
    const wo = tap * cin * cout;
    const oo = o * cout;
    for (let ci = 0; ci < cin; ci++) {
      const v = x[xo + ci];
      if (v === 0) continue;
      const wr = wo + ci * cout;
      for (let co = 0; co < cout; co++) out[oo + co] += v * w[wr + co];
    }
  });
  return out;
}

function convBackwardInput(dy: Float32Array, w: Float32Array, g: Geometry): Float32Array {
  const { cin, cout } = g;
  const dx = new Float32Array(g.b * g.X * g.Y * g.Z * cin);
  forEachTap(g, (o, s, tap) => {
    const dyo = o * cout;
    const wo = tap * cin * cout;
    const xo = s * cin;
    for (let ci = 0; ci < cin; ci++) {
      const wr = wo + ci * cout;
      let acc = 0;
      for (let co = 0; co < cout; co++) acc += dy[dyo + co] * w[wr + co];
      dx[xo + ci] += acc;
    }
  });
  return dx;
}

function convBackwardFilter(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
  const { cin, cout, k } = g;
  // Accumulate in float64: a filter gradient sums over every voxel.
  const dw = new Float64Array(k * k * k * cin * cout);
  forEachTap(g, (o, s, tap) => {
    const dyo = o * cout;
    const xo = s * cin;
    const wo = tap * cin * cout;
    for (let ci = 0; ci < cin; ci++) {
      const v = x[xo + ci];
      if (v === 0) continue;
      const wr = wo + ci * cout;
      for (let co = 0; co < cout; co++) dw[wr + co] += v * dy[dyo + co];
    }
  });
  return Float32Array.from(dw);
}

/**
 * `conv3d(x, w)` with stride 1 and padding (k−1)/2 on `[B, X, Y, Z, Cin]`, filter
 * `[k, k, k, Cin, Cout]`, differentiable in both arguments.
 */
export function jsConv3dSame(x: tf.Tensor5D, w: tf.Tensor5D): tf.Tensor5D {
  const [b, X, Y, Z, cin] = x.shape;
  const [k, , , , cout] = w.shape;
  const g: Geometry = { b, X, Y, Z, cin, cout, k };
  const f = ((xs: tf.Tensor, ws: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xs, ws]);
    const out = convForward(xs.dataSync() as Float32Array, ws.dataSync() as Float32Array, g);
    return {
      value: tf.tensor5d(out, [b, X, Y, Z, cout]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved;
        const dyData = dy.dataSync() as Float32Array;
        const dx = convBackwardInput(dyData, sw.dataSync() as Float32Array, g);
        const dw = convBackwardFilter(sx.dataSync() as Float32Array, dyData, g);
        return [tf.tensor5d(dx, [b, X, Y, Z, cin]), tf.tensor5d(dw, [k, k, k, cin, cout])];
      },
    };
  }) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
  return (tf.customGrad(f as never) as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor5D)(x, w);
}
