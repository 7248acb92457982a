/**
 * SwinMM fine-tuning (SPEC.md §7): data from a manifest through the SwinMM transforms, two
 * random distinct views per step, per-branch DiceCE + KL consistency, AdamW with SwinMM's
 * weight-decay groups and the per-epoch warm-up cosine schedule, sliding-window validation, best
 * and last weights, resumable checkpoints, JSONL metrics and an SVG loss curve.
 *
 * The model and its loss come in through a {@link FinetuneModelKit}, so the loop does not care
 * which implementation of the SwinMM segmenter it trains.
 *
 * @module
 */
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap } from 'rxjs';
import { openManifest, VolumeLoader, type LabelArray, type ManifestEntry, type Sample as LoaderSample, type Volume } from '@swinmm/data';
import { evaluateSegmentation } from '@swinmm/metrics';
import { twoViewPseudoLabel } from '@swinmm/decoder';
import { doubleSlidingWindowInference } from '@swinmm/inference';
import { initBackend, Rng } from '@swinmm/runtime';
import {
  AdamW,
  decodeTrainingCheckpoint,
  LinearWarmupCosineAnnealingLR,
  paramGroupsWeightDecay,
  trainLoop,
  type LrScheduler,
  type LrSchedulerState,
  type TrainEvent,
  type TrainTask,
} from '@swinmm/train';
import { writeFileAtomic } from '@swinmm/runtime/files';
import {
  compose,
  finetuneDeterministicSteps,
  finetuneRandomSteps,
  type Pipeline,
  type Sample as TransformSample,
} from '@swinmm/transforms';
import { permuteView, type ViewId } from '@swinmm/transforms/tensor';
import { checkConfigFiles, type FinetuneConfig } from './config.js';
import { ConfigError, lossCurveSvg, ProgressBar, type ProgressStream } from '@swinmm/appkit';

/** The model surface fine-tuning needs (SwinMM's two-view segmenter, an `@swinmm/nn` Module). */
export interface SegmenterModel {
  /**
   * SwinMM's forward: `xa`, `xb` are the same batch seen in views `views[0]`, `views[1]`; returns
   * both branches' logits `[B, X, Y, Z, C]`, each in its own input's orientation.
   */
  forwardViews(xa: tf.Tensor5D, xb: tf.Tensor5D, views: readonly [ViewId, ViewId]): [tf.Tensor5D, tf.Tensor5D];
  /** Trainable variables by PyTorch name. */
  namedVariables(): Map<string, tf.Variable>;
  /** Training / evaluation mode. */
  train(mode?: boolean): unknown;
  eval(): unknown;
  dispose(): void;
}

/** The loss terms of one fine-tuning batch. */
export interface FinetuneLossOutput {
  /** The differentiated scalar. */
  total: tf.Scalar;
  /** Named parts (logged). */
  terms: Record<string, tf.Scalar>;
}

/** How to build the model and compute its loss, and how to move weights in and out of it. */
export interface FinetuneModelKit<M extends SegmenterModel = SegmenterModel> {
  /** Builds the segmenter for `model` settings, initialised from `seed`. */
  create(model: FinetuneConfig['model'], seed: number): M;
  /**
   * SPEC.md §7.6: `½ Σ_i [DiceCE(o_i, y) + KLmean(p_j ‖ p_i)]` for logits already mapped back
   * to the target's orientation; `target` holds class indices `[B, X, Y, Z]` (int32).
   */
  loss(logitsA: tf.Tensor5D, logitsB: tf.Tensor5D, target: tf.Tensor4D): FinetuneLossOutput;
  /** Loads an encoder initialisation (ours or an official `.pt`) and reports what loaded. */
  loadPretrained(model: M, file: string): Promise<PretrainedReport>;
  /** Writes the weights (PyTorch names and layouts) with `metadata` to `file`. */
  saveWeights(model: M, file: string, metadata: Record<string, string>): Promise<void>;
}

/** What an encoder initialisation loaded. */
export interface PretrainedReport {
  /** The checkpoint. */
  file: string;
  /** Backbone (`swinViT.*`) tensors loaded, of all backbone tensors of the model. */
  backboneLoaded: number;
  backboneTotal: number;
  /** All tensors loaded (backbone and anything else that matched). */
  loaded: number;
  /** Checkpoint tensors that matched nothing (pre-training heads, …). */
  unused: number;
  /** One line for people. */
  summary: string;
}

/** Events of {@link runFinetune}: the training loop's, plus the app's own. */
export type FinetuneEvent =
  | TrainEvent
  | { type: 'data'; labeled: number; unlabeled: number; validation: number; stepsPerEpoch: number; totalSteps: number }
  | { type: 'pretrained'; report: PretrainedReport }
  | { type: 'best'; epoch: number; dice: number; path: string };

/** Options of {@link runFinetune}. */
export interface RunFinetuneOptions<M extends SegmenterModel> {
  /** The model implementation. */
  kit: FinetuneModelKit<M>;
  /** Every event, as it happens. */
  onEvent?: (e: FinetuneEvent) => void;
  /** Draw a progress bar on this stream (default: none). */
  progress?: ProgressStream;
  /** Skip `initBackend` (the caller set one up). */
  backendReady?: boolean;
  /** Where the configuration came from (for error messages). */
  source?: string;
}

/** What a finished run left behind. */
export interface FinetuneResult {
  /** The run folder. */
  dir: string;
  /** Best validation Dice (mean over classes incl. background, SwinMM's metric) and its epoch, or null without validation. */
  best: { dice: number; epoch: number; path: string } | null;
  /** The final weights. */
  last: string;
  /** `metrics.jsonl`, `loss.svg`. */
  metrics: string;
  lossCurve: string;
  /** Mean total loss of the first and the last epoch. */
  firstEpochLoss: number;
  lastEpochLoss: number;
  /** Wall time in seconds. */
  seconds: number;
}

type Sample = LoaderSample & { [key: string]: unknown };

/** A batch: stacked crops and, for labeled volumes, their labels. */
interface Batch {
  image: tf.Tensor5D;
  label: tf.Tensor4D | null;
  epoch: number;
}

/**
 * Steps a per-epoch schedule once every `stepsPerEpoch` optimizer steps (SwinMM steps its
 * `LinearWarmupCosineAnnealingLR` after each epoch, while the loop steps after each batch).
 */
export class EpochScheduler implements LrScheduler {
  private count = 0;
  constructor(
    private readonly inner: LrScheduler,
    private readonly stepsPerEpoch: number,
  ) {}
  get lastEpoch(): number {
    return this.count;
  }
  step(): void {
    this.count++;
    if (this.count % this.stepsPerEpoch === 0) this.inner.step();
  }
  getLastLr(): number[] {
    return this.inner.getLastLr();
  }
  getState(): LrSchedulerState {
    const s = this.inner.getState();
    return { ...s, kind: `${s.kind}@${this.stepsPerEpoch}`, lastEpoch: this.count };
  }
  setState(state: LrSchedulerState): void {
    const [kind, per] = state.kind.split('@');
    if (Number(per) !== this.stepsPerEpoch) {
      throw new Error(`schedule state was written with ${per} steps per epoch, this run has ${this.stepsPerEpoch} (the dataset changed?)`);
    }
    this.count = state.lastEpoch;
    this.inner.setState({ ...state, kind, lastEpoch: Math.floor(state.lastEpoch / this.stepsPerEpoch) });
  }
}

/**
 * SwinMM's label-fraction split: a seeded shuffle of the training list, the first
 * `round(r·n)` (at least 1) keep their labels, the rest become unlabeled volumes.
 */
export function labelFractionSplit(training: readonly ManifestEntry[], fraction: number, seed: number): { labeled: ManifestEntry[]; unlabeled: ManifestEntry[] } {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`labelFraction: expected a number in (0, 1], found ${fraction}`);
  if (fraction === 1) return { labeled: [...training], unlabeled: [] };
  const order = Rng.fromSeed(seed).fork('label-fraction').permutation(training.length);
  const k = Math.max(1, Math.round(fraction * training.length));
  return {
    labeled: order.slice(0, k).map((i) => training[i]),
    unlabeled: order.slice(k).map((i) => ({ image: training[i].image })),
  };
}

/** The two distinct random views of a step (SPEC.md §7.4: the first two of a permutation of {0, 1, 2}). */
export function randomViewPair(rng: Rng): [ViewId, ViewId] {
  const p = rng.permutation(3);
  return [p[0] as ViewId, p[1] as ViewId];
}

function stackImages(samples: TransformSample[]): tf.Tensor5D {
  const vols = samples.map((s) => s.image as Volume<Float32Array>);
  const [X, Y, Z] = vols[0].shape;
  const data = new Float32Array(vols.length * X * Y * Z);
  vols.forEach((v, i) => data.set(v.data, i * X * Y * Z));
  return tf.tensor5d(data, [vols.length, X, Y, Z, 1], 'float32');
}

function stackLabels(samples: TransformSample[], classes: number, source: string): tf.Tensor4D {
  const vols = samples.map((s) => s.label as Volume<LabelArray>);
  const [X, Y, Z] = vols[0].shape;
  const data = new Int32Array(vols.length * X * Y * Z);
  vols.forEach((v, i) => {
    for (let j = 0; j < v.data.length; j++) {
      const l = v.data[j];
      if (l < 0 || l >= classes) throw new RangeError(`${source}: label value ${l} is outside 0…${classes - 1} (model.outChannels = ${classes})`);
      data[i * X * Y * Z + j] = l;
    }
  });
  return tf.tensor4d(data, [vols.length, X, Y, Z], 'int32');
}

/** Mean Dice of the two-view validation prediction of one volume (SPEC.md §7.9). */
async function validateVolume<M extends SegmenterModel>(model: M, image: Volume<Float32Array>, label: Volume<LabelArray>, view: ViewId, config: FinetuneConfig): Promise<number[]> {
  const [X, Y, Z] = image.shape;
  const input = tf.tensor5d(image.data, [1, X, Y, Z, 1], 'float32');
  let pair: [tf.Tensor5D, tf.Tensor5D];
  try {
    pair = await doubleSlidingWindowInference(input, view, config.model.roi, config.validation.swBatchSize, (xa, xb, views) => model.forwardViews(xa, xb, views), {
      overlap: config.validation.overlap,
      mode: config.validation.mode,
    });
  } finally {
    input.dispose();
  }
  // SwinMM: argmax of the average of the two logit maps.
  const argmax = tf.tidy(() => tf.argMax(pair[0].add(pair[1]), -1));
  tf.dispose(pair);
  const pred = new Int32Array(await argmax.data());
  argmax.dispose();
  const labels = Array.from({ length: config.model.outChannels }, (_, i) => i);
  const r = evaluateSegmentation({ data: pred, shape: image.shape }, { data: label.data, shape: label.shape }, { labels, diceOnly: true });
  return r.classes.map((c) => c.dice);
}

/**
 * Runs fine-tuning as `config` says. Everything is checked before the first step: the
 * configuration files exist, the manifest's volumes are readable and each label map shares its
 * image's grid, every prepared volume is at least as large as the crop. Returns when the run has
 * reached `optim.maxEpochs` (a resumed run continues from its checkpoint).
 */
export async function runFinetune<M extends SegmenterModel>(config: FinetuneConfig, options: RunFinetuneOptions<M>): Promise<FinetuneResult> {
  const source = options.source ?? 'config';
  const emit = (e: FinetuneEvent): void => options.onEvent?.(e);
  const t0 = Date.now();
  await checkConfigFiles(config, source);
  if (!options.backendReady) await initBackend(config.backend === 'auto' ? undefined : config.backend, { log: () => {} });
  const C = config.model.outChannels;
  const manifest = await openManifest(config.data.manifest, { classes: Array.from({ length: C }, (_, i) => i) });
  if (manifest.training.length === 0) throw new ConfigError(source, [`data.manifest: ${manifest.file} has no "training" volumes`]);
  const split = labelFractionSplit(manifest.training, config.data.labelFraction, config.seed);
  const unlabeledEntries: ManifestEntry[] = config.semiSupervised ? [...split.unlabeled, ...manifest.unsupervised.map((e) => ({ image: e.image }))] : [];
  const roi = config.model.roi;
  const rootRng = Rng.fromSeed(config.seed);
  const cache = config.data.cacheDir ? { dir: config.data.cacheDir, key: `ft-${config.transforms.pixdim.join('x')}-${config.transforms.aMin}-${config.transforms.aMax}` } : undefined;
  const pipelineOptions = { pixdim: config.transforms.pixdim, aMin: config.transforms.aMin, aMax: config.transforms.aMax, roiSize: roi, numSamples: config.transforms.numSamples };
  const labeledPrepare = compose(...finetuneDeterministicSteps(pipelineOptions));
  const labeledRandom = compose(...finetuneRandomSteps(pipelineOptions));
  const unl = {
    prepare: compose(...finetuneDeterministicSteps({ ...pipelineOptions, labeled: false })),
    random: compose(...finetuneRandomSteps({ ...pipelineOptions, labeled: false })),
  };
  const first = (p: Pipeline) => (s: Sample): Sample => p(s as TransformSample)[0] as Sample;
  const labeledLoader = new VolumeLoader<Sample, Rng>({ entries: split.labeled, rng: rootRng.fork('labeled'), prepare: first(labeledPrepare), cache: cache && { ...cache, key: `${cache.key}-l` } });
  const unlabeledLoader = new VolumeLoader<Sample, Rng>({ entries: unlabeledEntries, rng: rootRng.fork('unlabeled'), prepare: first(unl.prepare), cache: cache && { ...cache, key: `${cache.key}-u` } });
  const validationEntries = manifest.validation.filter((e) => e.label !== undefined);
  const validationLoader = new VolumeLoader<Sample, Rng>({ entries: validationEntries, rng: rootRng.fork('validation'), prepare: first(labeledPrepare), shuffle: false, cache: cache && { ...cache, key: `${cache.key}-l` } });
  await Promise.all([labeledLoader.prepareAll(), unlabeledLoader.prepareAll(), validationLoader.prepareAll()]);
  // A crop larger than a (resampled) volume cannot be taken: say which file and key.
  const tooSmall: string[] = [];
  for (const [loader, entries] of [[labeledLoader, split.labeled], [unlabeledLoader, unlabeledEntries]] as const) {
    for (let i = 0; i < entries.length; i++) {
      const s = (await loader.prepared(i)).image.shape;
      if (s.some((n, a) => n < roi[a])) {
        tooSmall.push(`model.roi: the crop [${roi.join(', ')}] is larger than ${entries[i].image}, which is ${s.join('×')} voxels at transforms.pixdim [${config.transforms.pixdim.join(', ')}] mm`);
      }
    }
  }
  if (tooSmall.length > 0) throw new ConfigError(source, tooSmall);

  const stepsPerEpoch = split.labeled.length + unlabeledEntries.length;
  const totalSteps = stepsPerEpoch * config.optim.maxEpochs;
  emit({ type: 'data', labeled: split.labeled.length, unlabeled: unlabeledEntries.length, validation: validationEntries.length, stepsPerEpoch, totalSteps });

  const model = options.kit.create(config.model, config.seed);
  try {
    if (config.init.pretrained && !config.resume) {
      emit({ type: 'pretrained', report: await options.kit.loadPretrained(model, config.init.pretrained) });
    }
    model.train();
    const params = model.namedVariables();
    const optimizer = new AdamW(paramGroupsWeightDecay(params, { weightDecay: config.optim.weightDecay }), { lr: config.optim.lr, weightDecay: config.optim.weightDecay });
    const scheduler = new EpochScheduler(
      new LinearWarmupCosineAnnealingLR(optimizer, { warmupEpochs: config.optim.warmupEpochs, maxEpochs: config.optim.maxEpochs }),
      stepsPerEpoch,
    );
    // Epoch e visits the labeled volumes in the loader's shuffled order, then the unlabeled ones.
    const slot = (step: number): { epoch: number; labeled: boolean; index: number } => {
      const epoch = Math.floor(step / stepsPerEpoch);
      const pos = step % stepsPerEpoch;
      if (pos < split.labeled.length) return { epoch, labeled: true, index: labeledLoader.order(epoch)[pos] };
      return { epoch, labeled: false, index: unlabeledLoader.order(epoch)[pos - split.labeled.length] };
    };
    const task: TrainTask<Batch> = {
      parameters: params,
      async nextBatch(_rng, step) {
        const { epoch, labeled, index } = slot(step);
        const loader = labeled ? labeledLoader : unlabeledLoader;
        const prepared = await loader.prepared(index);
        const copy: TransformSample = { ...prepared, image: { ...prepared.image, data: prepared.image.data.slice() } };
        if (prepared.label) copy.label = { ...prepared.label, data: prepared.label.data.slice() };
        const samples = (labeled ? labeledRandom : unl.random)(copy, loader.rngFor(epoch, index));
        const entry = (labeled ? split.labeled : unlabeledEntries)[index];
        return { image: stackImages(samples), label: labeled ? stackLabels(samples, C, entry.label ?? entry.image) : null, epoch };
      },
      loss(batch, rng) {
        const views = randomViewPair(rng);
        const xa = permuteView(batch.image, views[0]);
        const xb = permuteView(batch.image, views[1]);
        const [ya, yb] = model.forwardViews(xa, xb, views);
        // Each view is an axis swap, its own inverse: back to the batch's orientation.
        const oa = permuteView(ya, views[0]);
        const ob = permuteView(yb, views[1]);
        let target = batch.label;
        if (target === null) {
          // Semi-supervised (SPEC.md §7.8, as the paper intends): the two-view ensemble's argmax
          // is the target of THIS unlabeled batch only. Read out as plain numbers, so no gradient
          // flows through the pseudo-label.
          const ens = twoViewPseudoLabel(oa, ob);
          target = tf.tensor4d(ens.dataSync() as Int32Array, ens.shape as [number, number, number, number], 'int32');
        }
        const out = options.kit.loss(oa, ob, target);
        return { total: out.total, terms: out.terms };
      },
      batchSize: (b) => b.image.shape[0],
      disposeBatch: (b) => {
        b.image.dispose();
        b.label?.dispose();
      },
    };

    const dir = config.output.dir;
    await mkdir(dir, { recursive: true });
    const metricsFile = join(dir, 'metrics.jsonl');
    const svgFile = join(dir, 'loss.svg');
    const bestFile = join(dir, 'best.safetensors');
    const lastFile = join(dir, 'last.safetensors');
    if (!config.resume) await rm(metricsFile, { force: true });
    const series = new Map<string, [number, number][]>();
    const dice: [number, number][] = [];
    let best: { dice: number; epoch: number; path: string } | null = null;
    if (config.resume) {
      const prior = await readFile(config.resume);
      const extra = decodeTrainingCheckpoint(new Uint8Array(prior.buffer, prior.byteOffset, prior.byteLength), config.resume).extra as { best?: { dice: number; epoch: number } };
      if (extra.best) best = { ...extra.best, path: bestFile };
    }
    const meta = {
      'swinmm.finetune': JSON.stringify({
        model: config.model,
        transforms: { pixdim: config.transforms.pixdim, aMin: config.transforms.aMin, aMax: config.transforms.aMax },
        seed: config.seed,
      }),
    };
    const epochLoss = new Map<number, number[]>();
    // Stored in every resumable checkpoint (the loop reads it at each write), so a resumed run knows its best so far.
    const extra: Record<string, unknown> = { config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>, best: best ? { dice: best.dice, epoch: best.epoch } : null };
    let bar: ProgressBar | null = null as ProgressBar | null;
    const validate = async (step: number): Promise<Record<string, number>> => {
      const epoch = step / stepsPerEpoch;
      if (epoch < config.validation.start || epoch % config.validation.every !== 0 || validationEntries.length === 0) return {};
      model.eval();
      const perCase: number[][] = [];
      try {
        const vr = rootRng.fork(`validation-${epoch}`);
        for (let i = 0; i < validationEntries.length; i++) {
          const s = await validationLoader.prepared(i);
          perCase.push(await validateVolume(model, s.image, s.label as Volume<LabelArray>, vr.int(0, 3) as ViewId, config));
        }
      } finally {
        model.train();
      }
      const meanOf = (xs: number[]) => {
        const ok = xs.filter((x) => !Number.isNaN(x));
        return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
      };
      const all = meanOf(perCase.map((c) => meanOf(c)));
      const fg = meanOf(perCase.map((c) => meanOf(c.slice(1))));
      dice.push([epoch, all]);
      if (Number.isFinite(all) && (best === null || all > best.dice)) {
        await options.kit.saveWeights(model, bestFile, { ...meta, 'swinmm.best': JSON.stringify({ epoch, dice: all }) });
        best = { dice: all, epoch, path: bestFile };
        extra.best = { dice: all, epoch };
        emit({ type: 'best', epoch, dice: all, path: bestFile });
      }
      return { epoch, dice: all, diceForeground: fg };
    };
    const loop = trainLoop<Batch>({
      task,
      optimizer,
      scheduler,
      totalSteps,
      accumulationSteps: config.optim.accumulationSteps,
      maxGradNorm: config.optim.maxGradNorm ?? undefined,
      seed: config.seed,
      checkpoint: { dir: join(dir, 'checkpoints'), every: config.output.checkpointEvery * stepsPerEpoch, keepLast: config.output.keepLast },
      resumeFrom: config.resume ?? undefined,
      validation: { every: stepsPerEpoch, run: validate },
      extra,
    });
    // File writes are queued so that events (emitted synchronously) are logged in order.
    let io: Promise<void> = Promise.resolve();
    const queue = (job: () => Promise<void>): void => {
      io = io.then(job);
    };
    await lastValueFrom(
      loop.pipe(
        tap((e) => {
          emit(e);
          if (e.type === 'start') {
            if (options.progress) bar = new ProgressBar('finetune', e.totalSteps, options.progress, { startedAt: e.step, unit: 'step' });
          } else if (e.type === 'step') {
            const epoch = Math.floor((e.step - 1) / stepsPerEpoch);
            const list = epochLoss.get(epoch) ?? [];
            list.push(e.loss);
            epochLoss.set(epoch, list);
            const points = series.get('total') ?? [];
            points.push([e.step, e.loss]);
            series.set('total', points);
            for (const [k, v] of Object.entries(e.terms)) {
              const ps = series.get(k) ?? [];
              ps.push([e.step, v]);
              series.set(k, ps);
            }
            bar?.update(e.step, { loss: e.loss, ...e.terms, lr: e.lr });
            const record = { type: 'step', step: e.step, epoch, loss: e.loss, terms: e.terms, lr: e.lr, gradNorm: e.gradNorm, seconds: e.seconds, samplesPerSecond: e.samplesPerSecond, numTensors: e.numTensors };
            const snapshot = new Map([...series].map(([k, v]) => [k, [...v]] as const));
            queue(async () => {
              await appendJsonl(metricsFile, record);
              await writeLossCurve(svgFile, snapshot, `fine-tuning loss (${config.preset}, F ${config.model.featureSize}, ROI ${config.model.roi.join('×')})`);
            });
          } else if (e.type === 'validation' && Object.keys(e.metrics).length > 0) {
            queue(() => appendJsonl(metricsFile, { type: 'validation', step: e.step, ...e.metrics }));
          } else if (e.type === 'checkpoint') {
            queue(() => appendJsonl(metricsFile, { type: 'checkpoint', step: e.step, path: e.path, bytes: e.bytes }));
          }
        }),
      ),
      { defaultValue: undefined },
    );
    bar?.finish();
    await io;
    await options.kit.saveWeights(model, lastFile, meta);
    const epochs = [...epochLoss.keys()].sort((a, b) => a - b);
    const meanLoss = (e: number | undefined): number => {
      const xs = e === undefined ? [] : (epochLoss.get(e) ?? []);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
    };
    if (dice.length > 0) await writeFileAtomic(join(dir, 'validation.svg'), lossCurveSvg([{ name: 'validation Dice', points: dice }], { title: 'validation Dice', xLabel: 'epoch', log: false }));
    return {
      dir,
      best,
      last: lastFile,
      metrics: metricsFile,
      lossCurve: svgFile,
      firstEpochLoss: meanLoss(epochs[0]),
      lastEpochLoss: meanLoss(epochs[epochs.length - 1]),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}

/** Appends one JSON line. */
export async function appendJsonl(file: string, record: Record<string, unknown>): Promise<void> {
  await appendFile(file, JSON.stringify(record) + '\n');
}

/** Rewrites the loss-curve SVG from the series so far. */
export async function writeLossCurve(file: string, series: ReadonlyMap<string, readonly (readonly [number, number])[]>, title: string): Promise<void> {
  await writeFileAtomic(file, lossCurveSvg([...series].map(([name, points]) => ({ name, points })), { title, xLabel: 'step' }));
}
