/**
 * Row-major float32 matrix products for the JavaScript kernels (conv-js.ts), run by the fastest
 * engine this process has.
 *
 * Why: the `cpu` backend multiplies matrices at ~0.5 GFLOP/s and a JavaScript loop at about the
 * same, while the `wasm` backend's XNNPACK matMul reaches ~15 GFLOP/s on one core (STACK.md).
 * When the wasm backend has been initialised in this process (`initBackend` does so next to `cpu`
 * unless told not to), its BatchMatMul kernel is called directly on copies of our arrays,
 * whichever backend is active; otherwise a plain JavaScript loop runs. Both are exact to float32
 * rounding of sums of at most a few thousand terms; callers that sum over long axes split them
 * (XNNPACK accumulates in float32).
 *
 * Set the environment variable `SWINMM_GEMM=js` to force the JavaScript loop.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** The engine that {@link gemm} uses now: `'wasm'` (XNNPACK) or `'js'`. */
export type GemmEngine = 'wasm' | 'js';

interface DataIdLike {
  readonly id?: number;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` that a kernel call needs. */
interface WasmBackendLike {
  write(values: Float32Array, shape: number[], dtype: 'float32'): DataIdLike;
  readSync(dataId: DataIdLike): Float32Array;
  disposeData(dataId: DataIdLike, force?: boolean): boolean;
}

function forcedJs(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.SWINMM_GEMM === 'js';
}

/** The initialised wasm backend instance of this process, or null (never starts one). */
function wasmBackend(): WasmBackendLike | null {
  if (forcedJs()) return null;
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  const backend = registry.wasm as WasmBackendLike | undefined;
  if (!backend || typeof backend.write !== 'function') return null;
  return tf.getKernel('BatchMatMul', 'wasm') ? backend : null;
}

/** Which engine {@link gemm} would use now. */
export function gemmEngine(): GemmEngine {
  return wasmBackend() ? 'wasm' : 'js';
}

function gemmWasm(backend: WasmBackendLike, a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const kernel = tf.getKernel('BatchMatMul', 'wasm')!;
  const aShape = [1, m, k];
  const bShape = [1, k, n];
  const aId = backend.write(a.length === m * k ? a : a.subarray(0, m * k), aShape, 'float32');
  const bId = backend.write(b.length === k * n ? b : b.subarray(0, k * n), bShape, 'float32');
  try {
    const out = kernel.kernelFunc({
      inputs: { a: { dataId: aId, shape: aShape, dtype: 'float32' }, b: { dataId: bId, shape: bShape, dtype: 'float32' } } as never,
      attrs: { transposeA: false, transposeB: false },
      backend: backend as never,
    }) as tf.TensorInfo;
    const values = backend.readSync(out.dataId as DataIdLike);
    backend.disposeData(out.dataId as DataIdLike, true);
    return values;
  } finally {
    backend.disposeData(aId, true);
    backend.disposeData(bId, true);
  }
}

function gemmJs(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ar = i * k;
    const cr = i * n;
    for (let p = 0; p < k; p++) {
      const v = a[ar + p];
      if (v === 0) continue; // im2col rows are mostly zero at volume borders and after ReLU
      const br = p * n;
      for (let j = 0; j < n; j++) c[cr + j] += v * b[br + j];
    }
  }
  return c;
}

/**
 * `A · B` for row-major `a` `[m, k]` and `b` `[k, n]` (extra trailing elements are ignored);
 * returns a new `[m, n]` array.
 */
export function gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  if (a.length < m * k || b.length < k * n) {
    throw new RangeError(`gemm: expected a of ${m}×${k} and b of ${k}×${n} elements, found ${a.length} and ${b.length}`);
  }
  if (m === 0 || n === 0) return new Float32Array(m * n);
  const backend = wasmBackend();
  return backend ? gemmWasm(backend, a, b, m, k, n) : gemmJs(a, b, m, k, n);
}

/** `[rows, cols]` → `[cols, rows]` of rows `r0 … r0+rows−1` of a row-major matrix with `cols` columns. */
export function transposeRows(a: Float32Array, cols: number, r0: number, rows: number, out: Float32Array): Float32Array {
  for (let r = 0; r < rows; r++) {
    const from = (r0 + r) * cols;
    for (let j = 0; j < cols; j++) out[j * rows + r] = a[from + j];
  }
  return out;
}

/** Rows per product in {@link addTransposedProduct}. */
const TRANSPOSED_PRODUCT_ROWS = 8192;

/**
 * `into += Aᵀ · B` for row-major `a` `[rows, ka]` and `b` `[rows, kb]` (extra trailing elements
 * ignored), with `into` `[ka, kb]` in float64: the weight gradients of linear layers and
 * convolutions (`xᵀ · dy`).
 *
 * The sum over rows runs per block of at most 8192 rows and the blocks are added in float64,
 * because XNNPACK accumulates a long dot product in float32 and loses ~1e-3 relative precision
 * over a whole volume (measured on the 1×1×1 convolution of encoder1). Of the two operands the
 * one with fewer columns is transposed for {@link gemm} (the product is transposed back while it
 * is added).
 */
export function addTransposedProduct(into: Float64Array, a: Float32Array, b: Float32Array, rows: number, ka: number, kb: number): void {
  const block = Math.min(rows, TRANSPOSED_PRODUCT_ROWS);
  const transposeA = ka <= kb;
  const narrow = transposeA ? ka : kb;
  const scratch = new Float32Array(narrow * block);
  for (let r0 = 0; r0 < rows; r0 += block) {
    const n = Math.min(block, rows - r0);
    if (transposeA) {
      const part = gemm(transposeRows(a, ka, r0, n, scratch), b.subarray(r0 * kb), ka, n, kb); // [ka, kb]
      for (let i = 0; i < part.length; i++) into[i] += part[i];
    } else {
      const part = gemm(transposeRows(b, kb, r0, n, scratch), a.subarray(r0 * ka), kb, n, ka); // [kb, ka]
      for (let j = 0; j < kb; j++) for (let i = 0; i < ka; i++) into[i * kb + j] += part[j * ka + i];
    }
  }
}

