/**
 * A fused window-attention kernel in plain JavaScript, with its own backward pass.
 *
 * Why: on the tfjs `cpu` backend the attention logits `[Bw, heads, n, n]` (n = 343) go through
 * five or six full-size elementwise kernels (bias and mask broadcasts, softmax) whose generic
 * broadcasting loops dominate the whole model's time. Fusing the row computation
 * (logits → softmax → weighted sum) into one loop never materialises the logits, and the backward
 * pass recomputes the probabilities from the saved log-sum-exp per row (as flash attention does),
 * so memory stays O(Bw·heads·n). It is the built-in `windowAttention` of the `cpu` and `wasm` backends;
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

function forwardRows(qkv: Float32Array, bias: Float32Array | null, mask: Float32Array | null, g: Geometry, scale: number, out: Float32Array, lse: Float32Array): void {
  const { bw, n, heads, hd, c, nW } = g;
  const row = new Float64Array(n);
  const acc = new Float64Array(hd);
  const stride = 3 * c; // one token's qkv
  for (let w = 0; w < bw; w++) {
    const base = w * n * stride;
    const maskBase = mask ? (w % nW) * n * n : 0;
    for (let h = 0; h < heads; h++) {
      const qOff = h * hd;
      const kOff = c + h * hd;
      const vOff = 2 * c + h * hd;
      for (let i = 0; i < n; i++) {
        const qi = base + i * stride + qOff;
        let m = NEG_INF;
        for (let j = 0; j < n; j++) {
          const kj = base + j * stride + kOff;
          let s = 0;
          for (let d = 0; d < hd; d++) s += qkv[qi + d] * qkv[kj + d];
          s *= scale;
          if (bias) s += bias[(i * n + j) * heads + h];
          if (mask) s += mask[maskBase + i * n + j];
          row[j] = s;
          if (s > m) m = s;
        }
        let sum = 0;
        acc.fill(0);
        for (let j = 0; j < n; j++) {
          const e = exp(row[j] - m);
          sum += e;
          const vj = base + j * stride + vOff;
          for (let d = 0; d < hd; d++) acc[d] += e * qkv[vj + d];
        }
        const o = (w * n + i) * c + h * hd;
        for (let d = 0; d < hd; d++) out[o + d] = acc[d] / sum;
        lse[(w * heads + h) * n + i] = m + mathLog(sum);
      }
    }
  }
}

function backwardRows(
  qkv: Float32Array,
  bias: Float32Array | null,
  mask: Float32Array | null,
  g: Geometry,
  scale: number,
  lse: Float32Array,
  dy: Float32Array,
  dqkv: Float32Array,
  dbias: Float32Array | null,
): void {
  const { bw, n, heads, hd, c, nW } = g;
  const p = new Float64Array(n);
  const dp = new Float64Array(n);
  const dq = new Float64Array(hd);
  const stride = 3 * c;
  for (let w = 0; w < bw; w++) {
    const base = w * n * stride;
    const maskBase = mask ? (w % nW) * n * n : 0;
    for (let h = 0; h < heads; h++) {
      const qOff = h * hd;
      const kOff = c + h * hd;
      const vOff = 2 * c + h * hd;
      for (let i = 0; i < n; i++) {
        const qi = base + i * stride + qOff;
        const doi = (w * n + i) * c + h * hd;
        const l = lse[(w * heads + h) * n + i];
        let dsum = 0;
        for (let j = 0; j < n; j++) {
          const kj = base + j * stride + kOff;
          const vj = base + j * stride + vOff;
          let s = 0;
          let g2 = 0;
          for (let d = 0; d < hd; d++) {
            s += qkv[qi + d] * qkv[kj + d];
            g2 += dy[doi + d] * qkv[vj + d];
          }
          s *= scale;
          if (bias) s += bias[(i * n + j) * heads + h];
          if (mask) s += mask[maskBase + i * n + j];
          const pj = exp(s - l);
          p[j] = pj;
          dp[j] = g2;
          dsum += pj * g2;
        }
        dq.fill(0);
        for (let j = 0; j < n; j++) {
          const ds = p[j] * (dp[j] - dsum);
          if (dbias) dbias[(i * n + j) * heads + h] += ds;
          const kj = base + j * stride + kOff;
          const dkj = kj; // same layout in dqkv
          const vj = base + j * stride + vOff;
          const sds = ds * scale;
          const pj = p[j];
          for (let d = 0; d < hd; d++) {
            dq[d] += sds * qkv[kj + d];
            dqkv[dkj + d] += sds * qkv[qi + d];
            dqkv[vj + d] += pj * dy[doi + d];
          }
        }
        for (let d = 0; d < hd; d++) dqkv[qi + d] += dq[d];
      }
    }
  }
}

/**
 * The fused kernel: same contract as `windowAttention` (no attention dropout; callers with
 * `dropProbs` are sent to the tfjs formulation).
 */
export function jsWindowAttention(inputs: WindowAttentionInputs, fallback: (i: WindowAttentionInputs) => tf.Tensor3D): tf.Tensor3D {
  const { qkv, heads, bias, mask, scale, dropProbs } = inputs;
  if (dropProbs) return fallback(inputs);
  const [bw, n, c3] = qkv.shape;
  const c = c3 / 3;
  const g: Geometry = { bw, n, heads, hd: c / heads, c, nW: mask ? mask.shape[0] : 1 };
  const maskData = mask ? (mask.dataSync() as Float32Array) : null;
  const run = tf.customGrad(((q: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const qkvData = q.dataSync() as Float32Array;
    const biasData = bias ? (b.dataSync() as Float32Array) : null;
    const out = new Float32Array(bw * n * c);
    const lse = new Float32Array(bw * heads * n);
    forwardRows(qkvData, biasData, maskData, g, scale, out, lse);
    // The log-sum-exp rows stay in this closure (the tape holds it until backprop).
    save([q, b]);
    return {
      value: tf.tensor3d(out, [bw, n, c]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, bs] = saved;
        const dqkv = new Float32Array(bw * n * c3);
        const dbias = bias ? new Float32Array(heads * n * n) : null;
        backwardRows(qs.dataSync() as Float32Array, bias ? (bs.dataSync() as Float32Array) : null, maskData, g, scale, lse, dy.dataSync() as Float32Array, dqkv, dbias);
        return [tf.tensor3d(dqkv, [bw, n, c3]), dbias ? tf.tensor3d(dbias, [n, n, heads]) : tf.zerosLike(bs)];
      },
    };
  }) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }) as (
    q: tf.Tensor,
    b: tf.Tensor,
  ) => tf.Tensor3D;
  return run(qkv, bias ?? tf.zeros([1]));
}

