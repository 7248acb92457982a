/**
 * The training loop as an rxjs stream of events. It knows nothing about the model: a
 * {@link TrainTask} gives named variables, batches and a loss, so the same loop runs SwinMM
 * pre-training and fine-tuning. Apps subscribe and render (progress bar, JSONL, plots).
 *
 * One optimizer step = `accumulationSteps` micro-batches whose gradients are averaged, optional
 * clipping by global norm, `AdamW.step`, then `scheduler.step()` (PyTorch order, so with SwinMM's
 * warm-up the first step runs at lr 0).
 *
 * Randomness comes from two {@link Rng} streams, `data` (batches) and `step` (rotations, masks,
 * views inside the loss); their states go into every checkpoint, so a resumed run continues
 * bit-identically on the same backend.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { Observable } from 'rxjs';
import { explainBackendError, Rng, type RngState } from '@swinmm/runtime';
import type { AdamW } from './adamw.js';
import type { LrScheduler } from './schedules.js';
import { namedVariableList, type NamedVariables } from './params.js';
import { clipGradNorm, globalGradNorm } from './clip.js';
import {
  checkpointFileName,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
  type TensorData,
  type TrainingCheckpoint,
} from './checkpoint.js';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';

/** What a task's loss returns. */
export interface LossOutput {
  /** The scalar that is differentiated. */
  total: tf.Scalar;
  /** Named parts for logging (not differentiated separately). */
  terms?: Record<string, tf.Scalar>;
}

/** The model-specific half of training. */
export interface TrainTask<B> {
  /** The trainable variables by PyTorch name (the optimizer must hold the same ones). */
  parameters: NamedVariables;
  /** The next micro-batch. `rng` is the checkpointed data stream; `step` is 0-based. */
  nextBatch(rng: Rng, step: number, micro: number): B | Promise<B>;
  /**
   * The loss of one micro-batch; runs inside the gradient tape. Draw every random choice from
   * `rng` (the checkpointed step stream).
   */
  loss(batch: B, rng: Rng): LossOutput;
  /** Number of samples in a batch (for samples/s). */
  batchSize(batch: B): number;
  /** Frees a batch after its step (tensors it owns). */
  disposeBatch?(batch: B): void;
}

/** Checkpointing options of {@link trainLoop}. */
export interface CheckpointOptions {
  /** Folder for `step-XXXXXXXX.safetensors` files. */
  dir: string;
  /** Write a checkpoint every this many optimizer steps (and always after the last step). */
  every: number;
  /** Keep only the newest N checkpoints (default: keep all). */
  keepLast?: number;
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<B> {
  /** Model, data and loss. */
  task: TrainTask<B>;
  /** The optimizer over the task's parameters. */
  optimizer: AdamW;
  /** Stepped after every optimizer step. */
  scheduler?: LrScheduler;
  /** Optimizer steps to reach (a resumed run continues up to this number). */
  totalSteps: number;
  /** Micro-batches per optimizer step (default 1); gradients are averaged. */
  accumulationSteps?: number;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  maxGradNorm?: number;
  /** Seed of the root {@link Rng}; `data` and `step` streams fork from it. */
  seed: number;
  /** Periodic checkpoints. */
  checkpoint?: CheckpointOptions;
  /** A checkpoint file to resume from. */
  resumeFrom?: string;
  /** Periodic validation; its metrics appear as `validation` events. */
  validation?: { every: number; run: (step: number) => Promise<Record<string, number>> };
  /** JSON stored in each checkpoint's `extra` (e.g. the run configuration). */
  extra?: Record<string, unknown>;
}

/** Emitted once before the first step. */
export interface StartEvent {
  type: 'start';
  /** Steps already done (0, or the resumed checkpoint's step). */
  step: number;
  totalSteps: number;
  /** Number of scalar parameters trained. */
  parameterCount: number;
  /** The checkpoint resumed from, if any. */
  resumedFrom: string | null;
}

/** Emitted after every optimizer step. */
export interface StepEvent {
  type: 'step';
  /** Optimizer steps completed (1 after the first). */
  step: number;
  totalSteps: number;
  /** Mean total loss over the micro-batches. */
  loss: number;
  /** Mean of each named loss term. */
  terms: Record<string, number>;
  /** Learning rate of the first group used for this step. */
  lr: number;
  /** Learning rate of every group used for this step. */
  lrs: number[];
  /** Global gradient L2 norm before clipping. */
  gradNorm: number;
  /** Samples in this step (all micro-batches). */
  samples: number;
  /** Wall time of the step in seconds. */
  seconds: number;
  /** samples / seconds. */
  samplesPerSecond: number;
  /** `tf.memory().numTensors` after the step. */
  numTensors: number;
  /** `tf.memory().numBytes` after the step. */
  numBytes: number;
}

/** Emitted after a checkpoint was written. */
export interface CheckpointEvent {
  type: 'checkpoint';
  step: number;
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
}

/** Emitted after a validation run. */
export interface ValidationEvent {
  type: 'validation';
  step: number;
  /** Whatever the validation function returned. */
  metrics: Record<string, number>;
}

/** Emitted once when the run reached `totalSteps`. */
export interface CompleteEvent {
  type: 'complete';
  step: number;
  /** Wall time of the whole run (this process) in seconds. */
  seconds: number;
}

/** Every event of {@link trainLoop}. */
export type TrainEvent = StartEvent | StepEvent | CheckpointEvent | ValidationEvent | CompleteEvent;

function checkPositiveInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${what} must be an integer > 0, found ${v}`);
}

/** Copies the values of named variables out (for checkpoints). */
export async function readVariables(params: NamedVariables): Promise<Map<string, TensorData>> {
  const out = new Map<string, TensorData>();
  for (const [name, v] of namedVariableList(params)) {
    out.set(name, { shape: [...v.shape], data: Float32Array.from(await v.data()) });
  }
  return out;
}

/**
 * Writes values into named variables; every variable must get a value of its exact shape.
 * Throws naming what is missing, left over or of the wrong shape.
 */
export function assignVariables(params: NamedVariables, values: ReadonlyMap<string, TensorData>, source = 'checkpoint'): void {
  const list = namedVariableList(params);
  const missing = list.filter(([n]) => !values.has(n)).map(([n]) => n);
  const known = new Set(list.map(([n]) => n));
  const extra = [...values.keys()].filter((n) => !known.has(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `${source}: weights do not match the model: ${missing.length} missing (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}), ` +
        `${extra.length} unexpected (${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''})`,
    );
  }
  for (const [name, v] of list) {
    const t = values.get(name) as TensorData;
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new Error(`${source}: "${name}" has shape [${t.shape.join(', ')}], the model expects [${v.shape.join(', ')}]`);
    }
  }
  for (const [name, v] of list) {
    const t = values.get(name) as TensorData;
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
  }
}

/**
 * Runs training and reports it as a cold Observable: nothing happens until subscription;
 * unsubscribing stops after the current step. Errors (bad options, a failing batch, a non-finite
 * loss, an unreadable checkpoint) arrive as the stream's error.
 *
 * @example
 * ```ts
 * trainLoop({ task, optimizer, scheduler, totalSteps: 100, seed: 0,
 *             checkpoint: { dir: 'runs/a', every: 10 } })
 *   .subscribe((e) => { if (e.type === 'step') console.log(e.step, e.loss, e.lr); });
 * ```
 */
export function trainLoop<B>(options: TrainLoopOptions<B>): Observable<TrainEvent> {
  return new Observable<TrainEvent>((subscriber) => {
    let cancelled = false;
    run(options, (e) => subscriber.next(e), () => cancelled)
      .then(() => subscriber.complete())
      .catch((error: unknown) => subscriber.error(explainBackendError(error)));
    return () => {
      cancelled = true;
    };
  });
}

async function run<B>(options: TrainLoopOptions<B>, emit: (e: TrainEvent) => void, cancelled: () => boolean): Promise<void> {
  const { task, optimizer, scheduler } = options;
  checkPositiveInt('totalSteps', options.totalSteps);
  const accumulation = options.accumulationSteps ?? 1;
  checkPositiveInt('accumulationSteps', accumulation);
  if (options.maxGradNorm !== undefined && !(options.maxGradNorm > 0)) {
    throw new RangeError(`maxGradNorm must be > 0, found ${options.maxGradNorm}`);
  }
  if (options.checkpoint) checkPositiveInt('checkpoint.every', options.checkpoint.every);
  if (options.validation) checkPositiveInt('validation.every', options.validation.every);
  const params = namedVariableList(task.parameters);
  const optimizerNames = new Set(optimizer.parameterNames());
  const notInOptimizer = params.filter(([n]) => !optimizerNames.has(n)).map(([n]) => n);
  if (notInOptimizer.length > 0 || optimizerNames.size !== params.length) {
    throw new Error(`the optimizer must hold exactly the task's parameters; not in the optimizer: ${notInOptimizer.slice(0, 5).join(', ') || '(none)'}`);
  }
  const byTfName = new Map(params.map(([n, v]) => [v.name, n]));
  const varList = params.map(([, v]) => v);

  let step = 0;
  const root = Rng.fromSeed(options.seed);
  let dataRng = root.fork('data');
  let stepRng = root.fork('step');
  if (options.resumeFrom) {
    const ckpt = await loadTrainingCheckpoint(options.resumeFrom);
    assignVariables(params, ckpt.weights, options.resumeFrom);
    optimizer.setState(ckpt.optimizer);
    if (scheduler) {
      if (!ckpt.scheduler) throw new Error(`${options.resumeFrom}: the checkpoint has no schedule state but a scheduler was given`);
      scheduler.setState(ckpt.scheduler);
    }
    for (const key of ['data', 'step']) {
      if (!ckpt.rngs[key]) throw new Error(`${options.resumeFrom}: the checkpoint has no "${key}" Rng state`);
    }
    dataRng = Rng.fromState(ckpt.rngs.data);
    stepRng = Rng.fromState(ckpt.rngs.step);
    step = ckpt.step;
  }
  const started = Date.now();
  emit({
    type: 'start',
    step,
    totalSteps: options.totalSteps,
    parameterCount: params.reduce((a, [, v]) => a + v.size, 0),
    resumedFrom: options.resumeFrom ?? null,
  });

  while (step < options.totalSteps && !cancelled()) {
    const t0 = performance.now();
    let lossSum = 0;
    const termSums: Record<string, number> = {};
    let samples = 0;
    let accumulated: Map<string, tf.Tensor> | null = null;
    for (let micro = 0; micro < accumulation; micro++) {
      const batch = await task.nextBatch(dataRng, step, micro);
      try {
        samples += task.batchSize(batch);
        const kept: Record<string, tf.Scalar> = {};
        const { value, grads } = tf.variableGrads(() => {
          const out = task.loss(batch, stepRng);
          for (const [k, t] of Object.entries(out.terms ?? {})) kept[k] = tf.keep(t);
          return out.total;
        }, varList);
        const lossValue = (await value.data())[0];
        value.dispose();
        if (!Number.isFinite(lossValue)) {
          tf.dispose(grads);
          tf.dispose(Object.values(kept));
          throw new RangeError(`step ${step + 1}: the loss is ${lossValue}`);
        }
        lossSum += lossValue;
        for (const [k, t] of Object.entries(kept)) {
          termSums[k] = (termSums[k] ?? 0) + (await t.data())[0];
          t.dispose();
        }
        const named = new Map<string, tf.Tensor>();
        for (const [tfName, g] of Object.entries(grads)) {
          const n = byTfName.get(tfName);
          if (n === undefined) throw new Error(`internal: gradient for unknown variable ${tfName}`);
          named.set(n, g);
        }
        if (accumulated === null) {
          accumulated = named;
        } else {
          for (const [n, g] of named) {
            const prev = accumulated.get(n);
            if (prev) {
              accumulated.set(n, tf.add(prev, g));
              prev.dispose();
              g.dispose();
            } else {
              accumulated.set(n, g);
            }
          }
        }
      } finally {
        task.disposeBatch?.(batch);
      }
    }
    let grads = accumulated ?? new Map<string, tf.Tensor>();
    if (accumulation > 1) {
      const averaged = new Map<string, tf.Tensor>();
      for (const [n, g] of grads) {
        averaged.set(n, tf.tidy(() => tf.div(g, tf.scalar(accumulation))));
        g.dispose();
      }
      grads = averaged;
    }
    let gradNorm: number;
    if (options.maxGradNorm !== undefined) {
      const clipped = clipGradNorm(grads, options.maxGradNorm);
      tf.dispose([...grads.values()]);
      grads = clipped.grads;
      gradNorm = clipped.totalNorm;
    } else {
      gradNorm = globalGradNorm(grads);
    }
    const lrs = optimizer.paramGroups.map((g) => g.lr);
    optimizer.step(grads);
    tf.dispose([...grads.values()]);
    scheduler?.step();
    step += 1;
    const seconds = (performance.now() - t0) / 1000;
    const mem = tf.memory();
    const terms: Record<string, number> = {};
    for (const [k, v] of Object.entries(termSums)) terms[k] = v / accumulation;
    emit({
      type: 'step',
      step,
      totalSteps: options.totalSteps,
      loss: lossSum / accumulation,
      terms,
      lr: lrs[0],
      lrs,
      gradNorm,
      samples,
      seconds,
      samplesPerSecond: samples / Math.max(seconds, 1e-9),
      numTensors: mem.numTensors,
      numBytes: mem.numBytes,
    });
    if (options.validation && step % options.validation.every === 0) {
      emit({ type: 'validation', step, metrics: await options.validation.run(step) });
    }
    const ck = options.checkpoint;
    if (ck && (step % ck.every === 0 || step === options.totalSteps)) {
      const file = path.join(ck.dir, checkpointFileName(step));
      const ckpt: TrainingCheckpoint = {
        step,
        weights: await readVariables(params),
        optimizer: await optimizer.getState(),
        scheduler: scheduler ? scheduler.getState() : null,
        rngs: { data: dataRng.getState(), step: stepRng.getState() } satisfies Record<string, RngState>,
        extra: options.extra ?? {},
      };
      const bytes = await saveTrainingCheckpoint(file, ckpt);
      emit({ type: 'checkpoint', step, path: file, bytes });
      if (ck.keepLast !== undefined) await pruneCheckpoints(ck.dir, ck.keepLast);
    }
    await yieldToEventLoop();
  }
  if (step >= options.totalSteps) emit({ type: 'complete', step, seconds: (Date.now() - started) / 1000 });
}

/**
 * One turn of the event loop between steps. A step is synchronous compute, and awaiting settled
 * promises only drains microtasks, so without this the subscribers' file writes (metrics lines),
 * timers and signal handlers would wait until the whole run ends.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function pruneCheckpoints(dir: string, keep: number): Promise<void> {
  checkPositiveInt('checkpoint.keepLast', keep);
  const names = (await fs.readdir(dir)).filter((n) => /^step-\d+\.safetensors$/.test(n)).sort();
  for (const n of names.slice(0, Math.max(0, names.length - keep))) await fs.rm(path.join(dir, n), { force: true });
}
