/**
 * A fused window-attention kernel in plain JavaScript, with its own backward pass.
 *
 * Why: on the tfjs `cpu` backend the attention logits `[Bw, heads, n, n]` (n = 343) go through
 * five or six full-size elementwise kernels (bias and mask broadcasts, softmax) whose generic
 * broadcasting loops dominate the whole model's time. Fusing the row computation
 * (logits → softmax → weighted sum) into one loop never materialises the logits, and the backward
 * pass reuses the probabilities kept by the forward pass when they fit a memory budget, and
 * otherwise recomputes them from the saved log-sum-exp per row (as flash attention does), so
 * memory stays O(Bw·heads·n). Each (window, head) is first copied into q `[n, hd]` and
 * transposed k, v `[hd, n]`, and the bias into `[heads, n, n]`, so that every inner loop walks
 * the n keys of one query with unit stride (3× faster than strided loops over the head dim). It is the built-in `windowAttention` of the `cpu` and `wasm` backends;
 * results equal the tfjs formulation to float32 rounding.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { WindowAttentionInputs } from './attention.js';

// Math builtins are bound once: under jest's vm context every `Math.x` lookup inside a hot loop
// goes through the sandbox global (measured 12× slower for exp, 45× for imul).
const exp = Math.exp;
const mathLog = Math.log;
const NEG_INF = -Infinity;

interface Geometry {
  bw: number;
  n: number;
  heads: number;
  hd: number;
  c: number;
  nW: number;
}

/**
 * Per (window, head) working copies in row-friendly layouts: q `[n, hd]`, k and v transposed to
 * `[hd, n]`, so that every inner loop runs over the n keys of one query with unit stride.
 */
class HeadBlock {
  readonly q: Float64Array;
  readonly kT: Float64Array;
  readonly vT: Float64Array;

  constructor(
    readonly n: number,
    readonly hd: number,
  ) {
    this.q = new Float64Array(n * hd);
    this.kT = new Float64Array(hd * n);
    this.vT = new Float64Array(hd * n);
  }

  /** Copies head `h` of window `w` out of `qkv` `[Bw, n, 3, heads, hd]`. */
  load(qkv: Float32Array, w: number, h: number, c: number): void {
    const { n, hd, q, kT, vT } = this;
    const stride = 3 * c;
    const base = w * n * stride + h * hd;
    for (let j = 0; j < n; j++) {
      const t = base + j * stride;
      for (let d = 0; d < hd; d++) {
        q[j * hd + d] = qkv[t + d];
        kT[d * n + j] = qkv[t + c + d];
        vT[d * n + j] = qkv[t + 2 * c + d];
      }
    }
  }
}

/**
 * The logits of query i against every key: `row[j] = scale·(q_i · k_j) + bias[h, i, j] + mask[i, j]`
 * (bias already moved to `[heads, n, n]`). Returns the row maximum.
 */
function logitsRow(blk: HeadBlock, i: number, scale: number, biasT: Float32Array | null, biasOff: number, mask: Float32Array | null, maskOff: number, row: Float64Array): number {
  const { n, hd, q, kT } = blk;
  if (biasT) for (let j = 0; j < n; j++) row[j] = biasT[biasOff + i * n + j];
  else row.fill(0);
  if (mask) for (let j = 0; j < n; j++) row[j] += mask[maskOff + i * n + j];
  addScaledRows(row, q, i * hd, scale, kT, n, hd);
  let m = NEG_INF;
  for (let j = 0; j < n; j++) if (row[j] > m) m = row[j];
  return m;
}

/**
 * `row[j] += Σ_d scale·coef[from + d] · mT[d, j]` over the hd rows of `mT` `[hd, n]`, four rows per
 * pass over the n entries: each pass is loop-overhead bound, not arithmetic bound.
 */
function addScaledRows(row: Float64Array, coef: Float64Array, from: number, scale: number, mT: Float64Array, n: number, hd: number): void {
  let d = 0;
  for (; d + 4 <= hd; d += 4) {
    const c0 = coef[from + d] * scale;
    const c1 = coef[from + d + 1] * scale;
    const c2 = coef[from + d + 2] * scale;
    const c3 = coef[from + d + 3] * scale;
    const m0 = d * n;
    const m1 = m0 + n;
    const m2 = m1 + n;
    const m3 = m2 + n;
    for (let j = 0; j < n; j++) row[j] += c0 * mT[m0 + j] + c1 * mT[m1 + j] + c2 * mT[m2 + j] + c3 * mT[m3 + j];
  }
  for (; d < hd; d++) {
    const cd = coef[from + d] * scale;
    const md = d * n;
    for (let j = 0; j < n; j++) row[j] += cd * mT[md + j];
  }
}

/** `out[d] = Σ_j weights[j] · mT[d, j]` for every d < hd (`mT` is `[hd, n]`), four dims per pass. */
function weightedSum(weights: Float64Array, mT: Float64Array, n: number, hd: number, out: Float64Array): void {
  let d = 0;
  for (; d + 4 <= hd; d += 4) {
    const m0 = d * n;
    const m1 = m0 + n;
    const m2 = m1 + n;
    const m3 = m2 + n;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let j = 0; j < n; j++) {
      const wj = weights[j];
      a0 += wj * mT[m0 + j];
      a1 += wj * mT[m1 + j];
      a2 += wj * mT[m2 + j];
      a3 += wj * mT[m3 + j];
    }
    out[d] = a0;
    out[d + 1] = a1;
    out[d + 2] = a2;
    out[d + 3] = a3;
  }
  for (; d < hd; d++) {
    const md = d * n;
    let a = 0;
    for (let j = 0; j < n; j++) a += weights[j] * mT[md + j];
    out[d] = a;
  }
}

/** `[n, n, heads]` → `[heads, n, n]` (and back with `inverse`). */
function moveHeads(src: Float32Array, n: number, heads: number, inverse: boolean): Float32Array {
  const dst = new Float32Array(src.length);
  for (let ij = 0; ij < n * n; ij++)
    for (let h = 0; h < heads; h++) {
      if (inverse) dst[ij * heads + h] = src[h * n * n + ij];
      else dst[h * n * n + ij] = src[ij * heads + h];
    }
  return dst;
}

function forwardRows(
  qkv: Float32Array,
  biasT: Float32Array | null,
  mask: Float32Array | null,
  g: Geometry,
  scale: number,
  out: Float32Array,
  lse: Float32Array,
  probs: Float32Array | null,
  discarded: Int32Array | null,
): void {
  const { bw, n, heads, hd, c, nW } = g;
  const row = new Float64Array(n);
  const acc = new Float64Array(hd);
  const blk = new HeadBlock(n, hd);
  const { vT } = blk;
  for (let w = 0; w < bw; w++) {
    const maskOff = mask ? (w % nW) * n * n : 0;
    for (let h = 0; h < heads; h++) {
      blk.load(qkv, w, h, c);
      for (let i = 0; i < n; i++) {
        // A discarded query (window padding) keeps zeros: its output is cropped away, and its
        // zero output gradient makes the backward pass skip it too.
        if (discarded && discarded[w * n + i] < 0) continue;
        const m = logitsRow(blk, i, scale, biasT, h * n * n, mask, maskOff, row);
        let sum = 0;
        for (let j = 0; j < n; j++) {
          const e = exp(row[j] - m);
          row[j] = e;
          sum += e;
        }
        const o = (w * n + i) * c + h * hd;
        weightedSum(row, vT, n, hd, acc);
        for (let d = 0; d < hd; d++) out[o + d] = acc[d] / sum;
        const rowIndex = (w * heads + h) * n + i;
        lse[rowIndex] = m + mathLog(sum);
        if (probs) {
          const inv = 1 / sum;
          const po = rowIndex * n;
          for (let j = 0; j < n; j++) probs[po + j] = row[j] * inv;
        }
      }
    }
  }
}

function backwardRows(
  qkv: Float32Array,
  biasT: Float32Array | null,
  mask: Float32Array | null,
  g: Geometry,
  scale: number,
  lse: Float32Array,
  probs: Float32Array | null,
  dy: Float32Array,
  dqkv: Float32Array,
  dbiasT: Float32Array | null,
): void {
  const { bw, n, heads, hd, c, nW } = g;
  const p = new Float64Array(n);
  const dp = new Float64Array(n);
  const blk = new HeadBlock(n, hd);
  const { q, kT, vT } = blk;
  const dq = new Float64Array(n * hd);
  const dqRow = new Float64Array(hd);
  const dyRow = new Float64Array(hd);
  const dkT = new Float64Array(hd * n);
  const dvT = new Float64Array(hd * n);
  const stride = 3 * c;
  for (let w = 0; w < bw; w++) {
    const maskOff = mask ? (w % nW) * n * n : 0;
    for (let h = 0; h < heads; h++) {
      blk.load(qkv, w, h, c);
      dq.fill(0);
      dkT.fill(0);
      dvT.fill(0);
      const biasOff = h * n * n;
      for (let i = 0; i < n; i++) {
        const doi = (w * n + i) * c + h * hd;
        // A query whose output gradient is zero contributes nothing (every term below carries a
        // factor dy_i): the padding tokens of a window, whose outputs are cropped away, are skipped.
        let live = false;
        for (let d = 0; d < hd; d++) {
          dyRow[d] = dy[doi + d];
          if (dyRow[d] !== 0) live = true;
        }
        if (!live) continue;
        const rowIndex = (w * heads + h) * n + i;
        if (probs) {
          const po = rowIndex * n;
          for (let j = 0; j < n; j++) p[j] = probs[po + j];
        } else {
          const l = lse[rowIndex];
          logitsRow(blk, i, scale, biasT, biasOff, mask, maskOff, p);
          for (let j = 0; j < n; j++) p[j] = exp(p[j] - l);
        }
        // dp_j = dy_i · v_j; dsum = Σ_j p_j dp_j.
        dp.fill(0);
        addScaledRows(dp, dyRow, 0, 1, vT, n, hd);
        let dsum = 0;
        for (let j = 0; j < n; j++) dsum += p[j] * dp[j];
        // dp becomes ds_j = p_j (dp_j − dsum), the gradient of the logits.
        for (let j = 0; j < n; j++) dp[j] = p[j] * (dp[j] - dsum);
        if (dbiasT) {
          const rowOff = biasOff + i * n;
          for (let j = 0; j < n; j++) dbiasT[rowOff + j] += dp[j];
        }
        // dq_i = scale Σ_j ds_j k_j; dk_j += scale ds_j q_i; dv_j += p_j dy_i.
        weightedSum(dp, kT, n, hd, dqRow);
        for (let d = 0; d < hd; d++) {
          dq[i * hd + d] = dqRow[d] * scale;
          const off = d * n;
          const gd = dyRow[d];
          const qd = q[i * hd + d] * scale;
          for (let j = 0; j < n; j++) {
            dkT[off + j] += qd * dp[j];
            dvT[off + j] += gd * p[j];
          }
        }
      }
      const base = w * n * stride + h * hd;
      for (let j = 0; j < n; j++) {
        const t = base + j * stride;
        for (let d = 0; d < hd; d++) {
          dqkv[t + d] += dq[j * hd + d];
          dqkv[t + c + d] += dkT[d * n + j];
          dqkv[t + 2 * c + d] += dvT[d * n + j];
        }
      }
    }
  }
}

/**
 * Probabilities kept from the forward pass for the backward pass, per call at most this many
 * floats (256 MB); above it, or when no gradient is being recorded, the backward pass recomputes
 * them from the log-sum-exp rows instead (as flash attention does).
 */
let maxKeptProbabilities = 1 << 26;

/** Sets the budget of kept probabilities in floats (tests use 0 to exercise the recomputation). */
export function setKeptProbabilityBudget(floats: number): void {
  maxKeptProbabilities = floats;
}

/** Whether tfjs is recording operations for a gradient (`tf.grads`, `variableGrads` …). */
function recordingGradients(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 0) > 0;
}

/**
 * The fused kernel: same contract as `windowAttention` (no attention dropout; callers with
 * `dropProbs` are sent to the tfjs formulation).
 */
export function jsWindowAttention(inputs: WindowAttentionInputs, fallback: (i: WindowAttentionInputs) => tf.Tensor3D): tf.Tensor3D {
  const { qkv, heads, bias, mask, scale, dropProbs, discardedRows } = inputs;
  if (dropProbs) return fallback(inputs);
  const [bw, n, c3] = qkv.shape;
  const c = c3 / 3;
  const g: Geometry = { bw, n, heads, hd: c / heads, c, nW: mask ? mask.shape[0] : 1 };
  const maskData = mask ? (mask.dataSync() as Float32Array) : null;
  const run = tf.customGrad(((q: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const qkvData = q.dataSync() as Float32Array;
    const biasT = bias ? moveHeads(b.dataSync() as Float32Array, n, heads, false) : null;
    const out = new Float32Array(bw * n * c);
    const lse = new Float32Array(bw * heads * n);
    // Keeping the probabilities saves the backward pass half its work (the logits and their exp).
    const keep = recordingGradients() && bw * heads * n * n <= maxKeptProbabilities;
    const probs = keep ? new Float32Array(bw * heads * n * n) : null;
    forwardRows(qkvData, biasT, maskData, g, scale, out, lse, probs, discardedRows ?? null);
    // The log-sum-exp rows (and probabilities) stay in this closure until backprop.
    save([q, b]);
    return {
      value: tf.tensor3d(out, [bw, n, c]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, bs] = saved;
        const dqkv = new Float32Array(bw * n * c3);
        const dbiasT = bias ? new Float32Array(heads * n * n) : null;
        backwardRows(qs.dataSync() as Float32Array, biasT, maskData, g, scale, lse, probs, dy.dataSync() as Float32Array, dqkv, dbiasT);
        return [tf.tensor3d(dqkv, [bw, n, c3]), dbiasT ? tf.tensor3d(moveHeads(dbiasT, n, heads, true), [n, n, heads]) : tf.zerosLike(bs)];
      },
    };
  }) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }) as (
    q: tf.Tensor,
    b: tf.Tensor,
  ) => tf.Tensor3D;
  return run(qkv, bias ?? tf.zeros([1]));
}

