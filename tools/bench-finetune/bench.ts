// Benchmarks of the `tiny` fine-tuning configuration on the bundled ITK T1:
//  - fine-tuning steps/s (two views at the 64³ ROI, one crop, forward + backward + AdamW),
//  - inference time of the whole demo volume (six views, overlap 0.5, gaussian), preprocessing
//    and the way back to the input grid included.
// Each time is also given as a ratio to a reference measured in the same run on the same backend:
// a 512×512×512 float32 matMul (`tf.matMul`), so that numbers from machines of different speed and
// load can be compared. Steps = 0 measures the inference only (the wasm backend cannot hold a
// fine-tuning step at 64³ in its 4 GB heap).
// Usage: node tools/run-ts/run-ts.cjs tools/bench-finetune/bench.ts [cpu|wasm|webgpu] [steps]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@swinmm/runtime';
import { readVolume } from '@swinmm/data';
import { AdamW, paramGroupsWeightDecay } from '@swinmm/train';
import { permuteView } from '@swinmm/transforms/tensor';
import { createSegmenter, finetunePreset, predictVolume, swinmmKit } from '@swinmm/finetune';
import { gemmEngine } from '@swinmm/nn';

/** Seconds of one 512³ matMul on the current backend (median of three, after a warm-up). */
async function referenceSeconds(): Promise<number> {
  const a = tf.randomUniform([512, 512]);
  const b = tf.randomUniform([512, 512]);
  const runs: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    if (i > 0) runs.push((performance.now() - t0) / 1000);
  }
  tf.dispose([a, b]);
  return runs.sort((x, y) => x - y)[1];
}

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'cpu') as 'cpu' | 'wasm' | 'webgpu';
  const steps = Number(process.argv[3] ?? 2);
  const info = await initBackend(backend, { log: () => {} });
  const reference = await referenceSeconds();
  const cfg = finetunePreset('tiny');
  const model = createSegmenter(cfg.model, 0);
  const opt = new AdamW(paramGroupsWeightDecay(model.namedVariables(), { weightDecay: 1e-5 }), { lr: 1e-4, weightDecay: 1e-5 });
  const [X, Y, Z] = cfg.model.roi;
  const x = tf.randomUniform([1, X, Y, Z, 1]) as tf.Tensor5D;
  const y = tf.randomUniform([1, X, Y, Z], 0, cfg.model.outChannels, 'int32') as tf.Tensor4D;
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const [a, b] = model.forwardViews(permuteView(x, 0), permuteView(x, 1), [0, 1]);
      return swinmmKit.loss(permuteView(a, 0), permuteView(b, 1), y).total;
    }, [...model.namedVariables().values()]);
    await value.data();
    const named = new Map<string, tf.Tensor>();
    for (const [n, v] of model.namedVariables()) named.set(n, grads[v.name]);
    opt.step(named);
    tf.dispose([value, ...Object.values(grads)]);
    times.push((performance.now() - t0) / 1000);
    console.log(`step ${s + 1}: ${times[s].toFixed(1)} s`);
  }
  const image = await readVolume('data/itk/KmeansTest_T1UCharRaw.nii.gz');
  model.eval();
  const t1 = performance.now();
  const p = await predictVolume(image, (xa, xb, v) => model.forwardViews(xa, xb, v), {
    pixdim: cfg.transforms.pixdim,
    aMin: cfg.transforms.aMin,
    aMax: cfg.transforms.aMax,
    roi: cfg.model.roi,
    outChannels: cfg.model.outChannels,
    overlap: 0.5,
    swBatchSize: 1,
    mode: 'gaussian',
  });
  const inferSeconds = (performance.now() - t1) / 1000;
  const steady = times.length > 1 ? times.slice(1) : times;
  const mean = steady.length ? steady.reduce((a, b) => a + b, 0) / steady.length : Number.NaN;
  console.log(
    JSON.stringify({
      backend: info.name,
      device: info.device,
      matrixEngine: gemmEngine(),
      config: { featureSize: cfg.model.featureSize, roi: cfg.model.roi, crops: 1, views: 2 },
      referenceMatMul512Seconds: reference,
      stepSeconds: times,
      stepsPerSecond: steady.length ? 1 / mean : null,
      stepInReferenceUnits: steady.length ? mean / reference : null,
      inference: { seconds: inferSeconds, inReferenceUnits: inferSeconds / reference, modelGrid: p.modelGrid, views: 6, overlap: 0.5 },
      load: (await import('node:os')).loadavg(),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
