/**
 * The end-to-end demo on the bundled ITK T1 MRI (data/itk, with its k-means tissue labels):
 * `tiny` SwinMM pre-training → fine-tuning initialised from it → six-view inference written on
 * the input's grid → evaluation → a PNG of a slice with the prediction overlaid.
 *
 * There is one labeled volume, so the demo trains and evaluates on the same volume: it shows
 * that the pipeline runs end to end and where its outputs go, not what SwinMM can reach.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { initBackend, type BackendPreference } from '@swinmm/runtime';
import { writeFileAtomic } from '@swinmm/runtime/files';
import { readLabel, readVolume, withData, type LabelArray, type Volume } from '@swinmm/data';
import { orientation } from '@swinmm/transforms';
import type { TwoViewPredictor } from '@swinmm/inference';
import { resolvePretrainConfig, runPretraining } from '@swinmm/pretrain';
import { deepMerge, overlaySlicePng, ProgressBar, type ProgressStream } from '@swinmm/appkit';
import {
  evaluateVolumes,
  inferFiles,
  loadFinetuned,
  reportToCsv,
  reportToMarkdown,
  resolveFinetuneConfig,
  runFinetune,
  swinmmKit,
  type EvaluationReport,
  type FinetuneModelKit,
  type SegmenterModel,
} from '@swinmm/finetune';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Output folder (default `runs/demo`). */
  outDir?: string;
  /** Folder of the bundled data (default `data/itk`). */
  dataDir?: string;
  /** TensorFlow.js backend (default cpu, the demo's target). */
  backend?: BackendPreference;
  /** Pre-training steps (default 2). */
  pretrainSteps?: number;
  /** Pre-training feature size and heads (default 12 and 3/6/12/24, the fine-tuning backbone's). */
  pretrainModel?: { featureSize: number; numHeads: number[] };
  /** Fine-tuning epochs (= steps: one volume, one crop; default 16, about 10 minutes on 2 CPU cores). */
  finetuneEpochs?: number;
  /** View pairs at inference (default all three: six maps). */
  views?: (0 | 1 | 2)[];
  /** Settings merged over the fine-tuning `tiny` preset (e.g. a coarser grid for a quick check). */
  finetuneOverrides?: Record<string, unknown>;
  /** The fine-tuning model (default the SwinMM segmenter); tests pass a small stand-in. */
  kit?: FinetuneModelKit<SegmenterModel>;
  /** Loads the fine-tuned weights for inference (default {@link loadFinetuned}). */
  loadWeights?: (file: string) => Promise<{ predictor: TwoViewPredictor; dispose(): void }>;
  /** Progress bars (default stderr). */
  progress?: ProgressStream;
  /** One line per stage. */
  log?: (line: string) => void;
}

/** Where the demo's outputs are. */
export interface DemoResult {
  pretrainWeights: string;
  pretrainLossCurve: string;
  finetuneWeights: string;
  finetuneLossCurve: string;
  prediction: string;
  metricsCsv: string;
  metricsMarkdown: string;
  overlayPng: string;
  groundTruthPng: string;
  report: EvaluationReport;
  /** Backbone tensors the fine-tuning model took from pre-training. */
  backboneLoaded: number;
  backboneTotal: number;
  seconds: { pretrain: number; finetune: number; infer: number; evaluate: number; total: number };
}

const CLASS_NAMES: Record<number, string> = { 1: 'k-means 1 (air)', 2: 'k-means 2', 3: 'k-means 3', 4: 'k-means 4', 5: 'k-means 5', 6: 'k-means 6' };

async function defaultLoadWeights(file: string): Promise<{ predictor: TwoViewPredictor; dispose(): void }> {
  const { model } = await loadFinetuned(file);
  return { predictor: (xa, xb, views) => model.forwardViews(xa, xb, views), dispose: () => model.dispose() };
}

/** Runs the whole demo and returns where everything went. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const t0 = Date.now();
  const log = options.log ?? (() => {});
  const out = resolve(options.outDir ?? 'runs/demo');
  const dataDir = resolve(options.dataDir ?? 'data/itk');
  const image = join(dataDir, 'KmeansTest_T1UCharRaw.nii.gz');
  const label = join(dataDir, 'KmeansTest_T1KmeansPrelimSegmentation.nii.gz');
  const progress = options.progress ?? process.stderr;
  await mkdir(out, { recursive: true });
  const info = await initBackend(options.backend ?? 'cpu', { log: () => {} });
  log(`backend: ${info.name}`);
  const manifest = join(out, 'dataset.json');
  await writeFileAtomic(
    manifest,
    JSON.stringify(
      {
        name: 'ITK KmeansTest T1 (demo)',
        labels: { 0: 'k-means 0', ...CLASS_NAMES },
        training: [{ image, label }],
        validation: [{ image, label }],
      },
      null,
      2,
    ) + '\n',
  );

  // 1. Pre-training (tiny preset, backbone as wide as the fine-tuning one so that it loads).
  const pm = options.pretrainModel ?? { featureSize: 12, numHeads: [3, 6, 12, 24] };
  const steps = options.pretrainSteps ?? 2;
  const pretrainConfig = resolvePretrainConfig(
    {
      preset: 'tiny',
      backend: options.backend ?? 'cpu',
      data: { images: [image] },
      model: pm,
      optim: { steps, warmupSteps: Math.floor(steps / 4) },
      output: { dir: join(out, 'pretrain'), checkpointEvery: steps, keepLast: 1 },
    },
    out,
  );
  log(`1/4 pre-training: tiny, F ${pm.featureSize}, ${steps} steps → ${pretrainConfig.output.dir}`);
  const tp = Date.now();
  await lastValueFrom(runPretraining(pretrainConfig, { progress, keepBackend: true }), { defaultValue: undefined });
  const pretrainWeights = join(pretrainConfig.output.dir, 'ssl_head.safetensors');
  const pretrainSeconds = (Date.now() - tp) / 1000;

  // 2. Fine-tuning from it.
  const epochs = options.finetuneEpochs ?? 16;
  const ft = resolveFinetuneConfig(
    deepMerge({
      preset: 'tiny',
      backend: options.backend ?? 'cpu',
      data: { manifest },
      init: { pretrained: pretrainWeights },
      optim: { maxEpochs: epochs, warmupEpochs: Math.min(1, epochs - 1) },
      validation: { every: epochs, start: 0 },
      output: { dir: join(out, 'finetune'), checkpointEvery: epochs, keepLast: 1 },
    }, options.finetuneOverrides ?? {}),
    out,
  );
  log(`2/4 fine-tuning: tiny, F ${ft.model.featureSize}, ROI ${ft.model.roi.join('×')}, ${epochs} epochs from ${pretrainWeights}`);
  const tf0 = Date.now();
  let backboneLoaded = 0;
  let backboneTotal = 0;
  const result = await runFinetune(ft, {
    kit: options.kit ?? (swinmmKit as unknown as FinetuneModelKit<SegmenterModel>),
    backendReady: true,
    progress,
    onEvent: (e) => {
      if (e.type === 'pretrained') {
        backboneLoaded = e.report.backboneLoaded;
        backboneTotal = e.report.backboneTotal;
        log(`   init: ${e.report.summary}`);
      }
    },
  });
  const finetuneSeconds = (Date.now() - tf0) / 1000;
  const weights = result.best?.path ?? result.last;

  // 3. Inference: six views fused, written on the input's grid.
  log(`3/4 inference: views ${(options.views ?? [0, 1, 2]).join(',')} with ${weights}`);
  const ti = Date.now();
  const loaded = await (options.loadWeights ?? defaultLoadWeights)(weights);
  let bar: ProgressBar | null = null;
  let predictionFile: string;
  try {
    const done = await inferFiles(image, join(out, 'prediction'), loaded.predictor, {
      pixdim: ft.transforms.pixdim,
      aMin: ft.transforms.aMin,
      aMax: ft.transforms.aMax,
      roi: ft.model.roi,
      outChannels: ft.model.outChannels,
      overlap: 0.5,
      swBatchSize: 1,
      mode: 'gaussian',
      views: options.views ?? [0, 1, 2],
      onProgress: ({ viewIndex, viewCount, windowsDone, windowsTotal }) => {
        bar ??= new ProgressBar('infer', viewCount * windowsTotal, progress, { unit: 'window' });
        bar.update(viewIndex * windowsTotal + windowsDone);
      },
    });
    predictionFile = done[0].output;
  } finally {
    loaded.dispose();
  }
  (bar as ProgressBar | null)?.finish();
  const inferSeconds = (Date.now() - ti) / 1000;

  // 4. Evaluation and pictures.
  log('4/4 evaluation');
  const te = Date.now();
  const pred = await readLabel(predictionFile);
  const gt = await readLabel(label);
  const report = evaluateVolumes([{ name: 'KmeansTest_T1', pred, gt }], { labels: [1, 2, 3, 4, 5, 6], classNames: CLASS_NAMES, nsdTolerance: 2 });
  const metricsCsv = join(out, 'metrics.csv');
  const metricsMarkdown = join(out, 'metrics.md');
  await writeFileAtomic(metricsCsv, reportToCsv(report));
  await writeFileAtomic(metricsMarkdown, reportToMarkdown(report, 'SwinMM demo on the ITK T1 (trained and evaluated on the same volume)'));
  const img = orientation(await readVolume(image), 'RAS');
  const predRas = orientation(pred, 'RAS') as Volume<LabelArray>;
  const gtRas = orientation(withData(gt, gt.data), 'RAS') as Volume<LabelArray>;
  const overlayPng = join(out, 'overlay.png');
  const groundTruthPng = join(out, 'ground-truth.png');
  await writeFileAtomic(overlayPng, overlaySlicePng(img, predRas));
  await writeFileAtomic(groundTruthPng, overlaySlicePng(img, gtRas));
  const evaluateSeconds = (Date.now() - te) / 1000;
  return {
    pretrainWeights,
    pretrainLossCurve: join(pretrainConfig.output.dir, 'loss.svg'),
    finetuneWeights: weights,
    finetuneLossCurve: result.lossCurve,
    prediction: predictionFile,
    metricsCsv,
    metricsMarkdown,
    overlayPng,
    groundTruthPng,
    report,
    backboneLoaded,
    backboneTotal,
    seconds: { pretrain: pretrainSeconds, finetune: finetuneSeconds, infer: inferSeconds, evaluate: evaluateSeconds, total: (Date.now() - t0) / 1000 },
  };
}
