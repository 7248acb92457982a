/**
 * A pre-training run: configuration → data → SSLHead → AdamW + WarmupCosine → the training loop,
 * with the run folder's files written as events arrive: `config.json`, `metrics.jsonl` (one JSON
 * object per event), `loss.svg` (total and each term), resumable checkpoints under `checkpoints/`
 * and, at the end, `ssl_head.safetensors` (the weights in PyTorch layout and names, loadable by
 * fine-tuning like the official `swinViT.*` checkpoint).
 *
 * @module
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Observable } from 'rxjs';
import { initBackend, Rng, type BackendPreference } from '@swinmm/runtime';
import { writeSafetensors, type SafetensorEntry } from '@swinmm/nn';
import { SSLHead, pretrainLoss } from '@swinmm/heads';
import { AdamW, WarmupCosineSchedule, paramGroupsWeightDecay, trainLoop, type StepEvent, type TrainEvent, type TrainTask } from '@swinmm/train';
import { writeFileAtomic } from '@swinmm/runtime/files';
import { lossCurveSvg, ProgressBar, type ProgressStream } from '@swinmm/appkit';
import { checkPretrainFiles, type PretrainConfig } from './config.js';
import { loadPretrainData } from './data.js';

/** Options of {@link runPretraining}. */
export interface RunPretrainingOptions {
  /** Where the progress bar goes (default stderr); null for none. */
  progress?: ProgressStream | null;
  /** Skip backend initialisation (tests that set the backend themselves). */
  keepBackend?: boolean;
  /** One line per notable thing (data loaded, files written); default: none. */
  log?: (line: string) => void;
}

/** The SSL head a configuration describes, initialised from the run's seed. */
export function buildModel(config: PretrainConfig): SSLHead {
  return new SSLHead({
    inChannels: config.model.inChannels,
    featureSize: config.model.featureSize,
    numHeads: config.model.numHeads,
    depths: config.model.depths,
    dropPathRate: config.model.dropPathRate,
    rng: Rng.fromSeed(config.seed).fork('init'),
  });
}

/** Writes the model's weights in PyTorch layout (safetensors, atomically). */
export async function saveModelWeights(model: SSLHead, file: string, metadata: Record<string, string> = {}): Promise<number> {
  const state = model.stateDict();
  const entries = new Map<string, SafetensorEntry>();
  for (const [name, t] of state) entries.set(name, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(await t.data()) });
  tf.dispose([...state.values()]);
  const bytes = writeSafetensors(entries, { metadata: { format: 'pt', ...metadata } });
  await writeFileAtomic(file, bytes);
  return bytes.byteLength;
}

/**
 * Runs pre-training as a cold Observable of the training loop's events (after the run folder's
 * files are written for each). Everything that can be checked before training — the files the
 * configuration names, reading every image — happens first; errors arrive as the stream's error.
 */
export function runPretraining(config: PretrainConfig, options: RunPretrainingOptions = {}): Observable<TrainEvent> {
  return new Observable<TrainEvent>((subscriber) => {
    let inner: { unsubscribe(): void } | null = null;
    let stopped = false;
    const log = options.log ?? (() => {});
    (async () => {
      await checkPretrainFiles(config);
      if (!options.keepBackend) {
        const info = await initBackend(config.backend as BackendPreference, { log });
        log(`backend: ${info.name}`);
      }
      const data = await loadPretrainData(config, (file, i, n) => log(`prepared ${i + 1}/${n}: ${file}`));
      const dir = config.output.dir;
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
      const model = buildModel(config);
      const optimizer = new AdamW(paramGroupsWeightDecay(model.namedVariables(), { weightDecay: config.optim.weightDecay }), {
        lr: config.optim.lr,
        betas: [0.9, 0.999],
        eps: 1e-8,
      });
      const scheduler = new WarmupCosineSchedule(optimizer, { warmupSteps: config.optim.warmupSteps, tTotal: config.optim.steps });
      const task: TrainTask<tf.Tensor5D> = {
        parameters: model.namedVariables(),
        nextBatch: (rng, step) => data.batch(step, rng),
        loss: (x, rng) => {
          const { losses } = pretrainLoss(model, x, rng, {
            cube: config.mask.cube,
            maskRatio: config.mask.ratio,
            normPixLoss: config.loss.normPixLoss,
            temperature: config.loss.temperature,
          });
          return { total: losses.total, terms: { L1: losses.l1, L2: losses.l2, L3: losses.l3, rot: losses.rot, con: losses.con, rec: losses.rec } };
        },
        batchSize: (x) => x.shape[0],
        disposeBatch: (x) => x.dispose(),
      };
      const metricsFile = join(dir, 'metrics.jsonl');
      const history: StepEvent[] = [];
      let bar: ProgressBar | null = null;
      const writeCurve = async (): Promise<void> => {
        const names = ['total', ...Object.keys(history[0]?.terms ?? {})];
        const series = names.map((name) => ({ name, points: history.map((e) => [e.step, name === 'total' ? e.loss : e.terms[name]] as const) }));
        await writeFileAtomic(join(dir, 'loss.svg'), lossCurveSvg(series, { title: `SwinMM pre-training (${config.preset}, F ${config.model.featureSize})`, xLabel: 'step' }));
      };
      const done = new Promise<void>((resolveDone, rejectDone) => {
        let chain = Promise.resolve();
        inner = trainLoop({
          task,
          optimizer,
          scheduler,
          totalSteps: config.optim.steps,
          accumulationSteps: config.optim.accumulationSteps,
          maxGradNorm: config.optim.maxGradNorm ?? undefined,
          seed: config.seed,
          checkpoint: { dir: join(dir, 'checkpoints'), every: config.output.checkpointEvery, keepLast: config.output.keepLast },
          resumeFrom: config.resume ?? undefined,
          extra: { config },
        }).subscribe({
          next: (e) => {
            // The bar moves as the event arrives (steps block the event loop, so a queued update
            // would only run after the next step and misstate the rate and the times).
            if (e.type === 'start' && options.progress !== null) {
              bar = new ProgressBar('pretrain', e.totalSteps, options.progress ?? process.stderr, { unit: 'step', startedAt: e.step });
            }
            if (e.type === 'step') {
              history.push(e);
              bar?.update(e.step, { loss: e.loss, ...e.terms, lr: e.lr });
            }
            if (e.type === 'complete') bar?.finish();
            // Files are written in event order; the event is passed on once its files are written.
            // The time is the event's arrival, not the (later) moment its line is written.
            const time = new Date().toISOString();
            chain = chain.then(async () => {
              await appendFile(metricsFile, JSON.stringify({ time, ...e }) + '\n');
              if (e.type === 'checkpoint' || e.type === 'complete') await writeCurve();
              if (e.type === 'complete') {
                const bytes = await saveModelWeights(model, join(dir, 'ssl_head.safetensors'), { steps: String(e.step) });
                log(`wrote ${join(dir, 'ssl_head.safetensors')} (${bytes} bytes)`);
              }
              if (!stopped) subscriber.next(e);
            });
          },
          error: (err: unknown) => {
            chain.then(() => rejectDone(err), () => rejectDone(err));
          },
          complete: () => {
            chain.then(resolveDone, rejectDone);
          },
        });
      });
      try {
        await done;
      } finally {
        optimizer.dispose();
        model.dispose();
      }
    })().then(
      () => subscriber.complete(),
      (err: unknown) => subscriber.error(err),
    );
    return () => {
      stopped = true;
      (inner as { unsubscribe(): void } | null)?.unsubscribe();
    };
  });
}
