// Speed of the SwinUNETR port (@swinmm/decoder on @swinmm/swin and @swinmm/nn) per backend.
// Run from the repository root after building the packages:
//   npx nx run-many -t build -p runtime nn swin decoder && node tools/bench-models/bench.mjs [options]
// Options: --backends cpu,wasm   --repeats 5   --size 64,32,64   --feature 12   --classes 3
//          --f48   (also F 48 at 96³: one forward per backend, if it fits; slow)
// For each backend it prints JSON: median forward time and median training-step time (forward,
// DiceCE, backward, one Adam update) over `repeats` runs after one warm-up, the peak tensor bytes
// of a training step (tf.profile), the process RSS, and the kernel time by op type of one
// training step (the fused JavaScript kernels of @swinmm/nn appear as "unnamed scope": tf.customGrad kernels).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/runtime/dist/index.js';
import { withoutInitialisation } from '../../packages/nn/dist/index.js';
import { SwinUNETR, diceCELoss } from '../../packages/decoder/dist/index.js';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const backends = option('backends', 'cpu,wasm').split(',');
const repeats = Number(option('repeats', '5'));
const size = option('size', '64,32,64').split(',').map(Number);
const featureSize = Number(option('feature', '12'));
const classes = Number(option('classes', '3'));
const f48 = process.argv.includes('--f48');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms) => +(ms / 1000).toFixed(3);

function uniform(shape, seed) {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t = ((t + Math.imul(t ^ (t >>> 7), t | 61)) | 0) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
  return tf.tensor(out, shape);
}

// The in-run reference: one 512×512 by 512×512 float32 matMul on the same backend (median of 3
// after a warm-up). Model times are also reported as multiples of it, which stay comparable
// across machines of different speed and load.
function referenceMatMulMs() {
  const a = uniform([512, 512], 11);
  const b = uniform([512, 512], 12);
  const once = () => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    return performance.now() - t0;
  };
  once();
  const ms = median([once(), once(), once()]);
  tf.dispose([a, b]);
  return ms;
}

async function benchBackend(backend) {
  const info = await initBackend(backend, { log: () => {} });
  const referenceMs = referenceMatMulMs();
  const model = new SwinUNETR({ imgSize: size, inChannels: 1, outChannels: classes, featureSize });
  const x = uniform([1, ...size, 1], 1);
  const label = tf.tidy(() => tf.cast(tf.floor(tf.mul(tf.add(uniform([1, ...size], 2), 1), classes / 2)), 'int32'));
  const optimizer = tf.train.adam(1e-4);
  let rss = process.memoryUsage().rss;
  const forward = () => {
    const t0 = performance.now();
    const y = model.forward(x);
    y.dataSync();
    y.dispose();
    rss = Math.max(rss, process.memoryUsage().rss);
    return performance.now() - t0;
  };
  const trainStep = () => {
    const t0 = performance.now();
    const cost = optimizer.minimize(() => diceCELoss(model.forward(x), label), true, model.parameters());
    cost.dataSync();
    cost.dispose();
    rss = Math.max(rss, process.memoryUsage().rss);
    return performance.now() - t0;
  };
  model.eval();
  forward();
  const fwd = [];
  for (let i = 0; i < repeats; i++) fwd.push(forward());
  model.train();
  trainStep();
  const steps = [];
  for (let i = 0; i < repeats; i++) steps.push(trainStep());
  const before = tf.memory().numTensors;
  const profile = await tf.profile(() => {
    const cost = optimizer.minimize(() => diceCELoss(model.forward(x), label), true, model.parameters());
    cost.dataSync();
    cost.dispose();
  });
  const byOp = new Map();
  for (const k of profile.kernels) {
    const name = k.name || '(custom: JS kernels)';
    byOp.set(name, (byOp.get(name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  const result = {
    backend,
    device: info.device,
    config: { size, featureSize, classes, params: model.parameterCount() },
    repeats,
    reference_matmul512_s: seconds(referenceMs),
    forward_median_s: seconds(median(fwd)),
    forward_over_reference: +(median(fwd) / referenceMs).toFixed(1),
    forward_all_s: fwd.map(seconds),
    train_step_median_s: seconds(median(steps)),
    train_step_all_s: steps.map(seconds),
    train_step_over_reference: +(median(steps) / referenceMs).toFixed(1),
    train_step_peak_tensor_MB: +(profile.peakBytes / 2 ** 20).toFixed(1),
    rss_peak_MB: +(rss / 2 ** 20).toFixed(0),
    tensors_leaked_by_profiled_step: tf.memory().numTensors - before,
    kernel_time_by_op_ms: Object.fromEntries(
      [...byOp]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 15)
        .map(([n, t]) => [n, `${t.toFixed(0)} (${((100 * t) / total).toFixed(1)} %)`]),
    ),
  };
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, label]);
  return result;
}

const results = [];
for (const backend of backends) results.push(await benchBackend(backend));
// F 48 at 96³ (the paper's fine-tuning size), one forward pass per backend. A backend that cannot
// hold it (wasm's 4 GB heap) is recorded with its error instead of ending the run.
if (f48) {
  for (const backend of backends) {
    await initBackend(backend, { log: () => {} });
    const referenceMs = referenceMatMulMs();
    const model = withoutInitialisation(() => new SwinUNETR({ imgSize: 96, inChannels: 1, outChannels: 14, featureSize: 48 }));
    const x = uniform([1, 96, 96, 96, 1], 3);
    model.eval();
    const entry = { backend, config: 'F48 96³ 14 classes, forward once', reference_matmul512_s: seconds(referenceMs) };
    try {
      const t0 = performance.now();
      const y = model.forward(x);
      y.dataSync();
      const ms = performance.now() - t0;
      y.dispose();
      Object.assign(entry, { forward_s: seconds(ms), forward_over_reference: +(ms / referenceMs).toFixed(1) });
    } catch (error) {
      entry.error = String(error instanceof Error ? error.message : error).slice(0, 300);
    }
    entry.rss_MB = +(process.memoryUsage().rss / 2 ** 20).toFixed(0);
    results.push(entry);
    model.dispose();
    x.dispose();
  }
}
console.log(JSON.stringify(results, null, 2));
