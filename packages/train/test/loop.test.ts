import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { firstValueFrom, lastValueFrom, tap, toArray, take } from 'rxjs';
import { initBackend, type Rng } from '@swinmm/runtime';
import {
  AdamW,
  WarmupCosineSchedule,
  findLatestCheckpoint,
  loadTrainingCheckpoint,
  paramGroupsWeightDecay,
  trainLoop,
  type NamedVariable,
  type StepEvent,
  type TrainEvent,
  type TrainTask,
} from '../src/index.js';

interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** A tiny regression model whose loss also draws from the step Rng (a random feature mask). */
function makeTask(options: { sameBatchTwice?: boolean; poison?: boolean; noMask?: boolean } = {}): { task: TrainTask<Batch>; params: NamedVariable[] } {
  const params: NamedVariable[] = [
    ['fc.weight', tf.tidy(() => tf.variable(tf.tensor2d([[0.1, -0.2, 0.3], [0.0, 0.5, -0.1], [0.2, 0.2, 0.2], [-0.3, 0.1, 0.0]])))],
    ['fc.bias', tf.tidy(() => tf.variable(tf.tensor1d([0.01, -0.02, 0.03])))],
  ];
  let last: { x: Float32Array; y: Float32Array } | null = null;
  const task: TrainTask<Batch> = {
    parameters: params,
    nextBatch(rng: Rng, _step: number, micro: number) {
      if (options.sameBatchTwice && micro === 1 && last) return { x: tf.tensor2d(last.x, [2, 4]), y: tf.tensor2d(last.y, [2, 3]) };
      const x = rng.normalArray(8);
      const y = rng.uniformArray(6, -1, 1);
      last = { x, y };
      return { x: tf.tensor2d(x, [2, 4]), y: tf.tensor2d(y, [2, 3]) };
    },
    loss(batch: Batch, rng: Rng) {
      const keep = tf.tensor1d([0, 1, 2, 3].map(() => (options.noMask || rng.bernoulli(0.75) ? 1 : 0)));
      const pred = tf.add(tf.matMul(tf.mul(batch.x, keep), params[0][1]), params[1][1]);
      const mse = tf.mean(tf.square(tf.sub(pred, batch.y))) as tf.Scalar;
      const l1 = tf.mul(0.01, tf.sum(tf.abs(params[0][1]))) as tf.Scalar;
      const total = options.poison ? (tf.div(mse, 0) as tf.Scalar) : (tf.add(mse, l1) as tf.Scalar);
      return { total, terms: { mse, l1 } };
    },
    batchSize: () => 2,
    disposeBatch: (b) => tf.dispose([b.x, b.y]),
  };
  return { task, params };
}

function makeOptim(params: NamedVariable[]): { optimizer: AdamW; scheduler: WarmupCosineSchedule } {
  const optimizer = new AdamW(paramGroupsWeightDecay(params, { weightDecay: 0.1 }), { lr: 0.05 });
  const scheduler = new WarmupCosineSchedule(optimizer, { warmupSteps: 2, tTotal: 6 });
  return { optimizer, scheduler };
}

let tmp: string;
beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'swinmm-train-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('trainLoop', () => {
  it('6 steps in one run equal 3 steps + resume + 3 steps, bit for bit (weights, moments, schedule, Rngs)', async () => {
    const one = makeTask();
    const o1 = makeOptim(one.params);
    const dirA = path.join(tmp, 'a');
    const events = await lastValueFrom(
      trainLoop({ task: one.task, ...o1, totalSteps: 6, seed: 11, checkpoint: { dir: dirA, every: 3 }, maxGradNorm: 10 }).pipe(toArray()),
    );
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([3, 6]);

    const first = makeTask();
    const o2 = makeOptim(first.params);
    const dirB = path.join(tmp, 'b');
    await lastValueFrom(trainLoop({ task: first.task, ...o2, totalSteps: 3, seed: 11, checkpoint: { dir: dirB, every: 3 }, maxGradNorm: 10 }));
    const resumeFrom = await findLatestCheckpoint(dirB);
    expect(resumeFrom).toBe(path.join(dirB, 'step-00000003.safetensors'));

    const second = makeTask(); // fresh weights: everything must come from the checkpoint
    const o3 = makeOptim(second.params);
    const resumed = await lastValueFrom(
      trainLoop({ task: second.task, ...o3, totalSteps: 6, seed: 999, checkpoint: { dir: dirB, every: 3 }, resumeFrom: resumeFrom as string, maxGradNorm: 10 }).pipe(toArray()),
    );
    expect(resumed[0]).toMatchObject({ type: 'start', step: 3, resumedFrom: resumeFrom });
    const stepsA = events.filter((e): e is StepEvent => e.type === 'step');
    const stepsB = resumed.filter((e): e is StepEvent => e.type === 'step');
    expect(stepsB.map((e) => e.step)).toEqual([4, 5, 6]);
    expect(stepsB.map((e) => [e.loss, e.lr, e.terms.mse])).toEqual(stepsA.slice(3).map((e) => [e.loss, e.lr, e.terms.mse]));
    for (let i = 0; i < 2; i++) expect(Array.from(second.params[i][1].dataSync())).toEqual(Array.from(one.params[i][1].dataSync()));

    const a = await loadTrainingCheckpoint(path.join(dirA, 'step-00000006.safetensors'));
    const b = await loadTrainingCheckpoint(path.join(dirB, 'step-00000006.safetensors'));
    expect(b.step).toBe(6);
    for (const [n, t] of a.weights) expect(Array.from(b.weights.get(n)?.data ?? [])).toEqual(Array.from(t.data));
    for (const [n, t] of a.optimizer.expAvg) expect(Array.from(b.optimizer.expAvg.get(n)?.data ?? [])).toEqual(Array.from(t.data));
    for (const [n, t] of a.optimizer.expAvgSq) expect(Array.from(b.optimizer.expAvgSq.get(n)?.data ?? [])).toEqual(Array.from(t.data));
    expect(b.optimizer.meta).toEqual(a.optimizer.meta);
    expect(b.scheduler).toEqual(a.scheduler);
    expect(b.rngs).toEqual(a.rngs);
    // lr 0 on the first step (PyTorch order: optimizer.step then scheduler.step, warm-up from 0).
    expect(stepsA[0].lr).toBe(0);
    expect(stepsA[1].lr).toBeCloseTo(0.025, 12);
    for (const o of [o1, o2, o3]) o.optimizer.dispose();
    for (const t of [one, first, second]) tf.dispose(t.params.map(([, v]) => v));
  });

  it('emits start, step, validation, checkpoint and complete events, and does not leak tensors', async () => {
    const { task, params } = makeTask();
    const { optimizer, scheduler } = makeOptim(params);
    const dir = path.join(tmp, 'events');
    const before = tf.memory().numTensors;
    const events: TrainEvent[] = await lastValueFrom(
      trainLoop({
        task,
        optimizer,
        scheduler,
        totalSteps: 4,
        seed: 1,
        checkpoint: { dir, every: 2, keepLast: 1 },
        validation: { every: 2, run: async (step) => ({ score: step * 10 }) },
      }).pipe(toArray()),
    );
    expect(events.map((e) => e.type)).toEqual(['start', 'step', 'step', 'validation', 'checkpoint', 'step', 'step', 'validation', 'checkpoint', 'complete']);
    const steps = events.filter((e): e is StepEvent => e.type === 'step');
    for (const s of steps) {
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(s.loss).toBeCloseTo(s.terms.mse + s.terms.l1, 5);
      expect(s.samples).toBe(2);
      expect(s.samplesPerSecond).toBeGreaterThan(0);
      expect(s.gradNorm).toBeGreaterThan(0);
      expect(s.numBytes).toBeGreaterThan(0);
    }
    // The first step creates the optimizer moments (2 per parameter); afterwards the count is flat.
    expect(steps[0].numTensors).toBe(before + 2 * params.length);
    expect(new Set(steps.slice(1).map((s) => s.numTensors)).size).toBe(1);
    expect(events[3]).toEqual({ type: 'validation', step: 2, metrics: { score: 20 } });
    expect(readdirSync(dir)).toEqual(['step-00000004.safetensors']); // keepLast 1 pruned step 2
    optimizer.dispose();
    tf.dispose(params.map(([, v]) => v));
  });

  it('averages accumulated gradients: two copies of each batch give exactly the steps of the batches alone', async () => {
    const single = makeTask({ noMask: true });
    const o1 = makeOptim(single.params);
    const evA = await lastValueFrom(trainLoop({ task: single.task, ...o1, totalSteps: 3, seed: 5 }).pipe(toArray()));
    const doubled = makeTask({ noMask: true, sameBatchTwice: true });
    const o2 = makeOptim(doubled.params);
    const evB = await lastValueFrom(trainLoop({ task: doubled.task, ...o2, totalSteps: 3, seed: 5, accumulationSteps: 2 }).pipe(toArray()));
    const stepsA = evA.filter((e): e is StepEvent => e.type === 'step');
    const stepsB = evB.filter((e): e is StepEvent => e.type === 'step');
    expect(stepsB.map((e) => e.samples)).toEqual([4, 4, 4]);
    // (g + g) / 2 === g and (l + l) / 2 === l in floating point, so the runs agree bit for bit.
    expect(stepsB.map((e) => e.loss)).toEqual(stepsA.map((e) => e.loss));
    for (let i = 0; i < 2; i++) expect(Array.from(doubled.params[i][1].dataSync())).toEqual(Array.from(single.params[i][1].dataSync()));
    for (const o of [o1, o2]) o.optimizer.dispose();
    for (const t of [single, doubled]) tf.dispose(t.params.map(([, v]) => v));
  });

  it('stops with an error naming the step when the loss is not finite, and on bad options', async () => {
    const { task, params } = makeTask({ poison: true });
    const { optimizer } = makeOptim(params);
    await expect(lastValueFrom(trainLoop({ task, optimizer, totalSteps: 3, seed: 0 }))).rejects.toThrow(/step 1: the loss is Infinity/);
    await expect(lastValueFrom(trainLoop({ task, optimizer, totalSteps: 0, seed: 0 }))).rejects.toThrow(/totalSteps must be an integer > 0/);
    await expect(lastValueFrom(trainLoop({ task, optimizer, totalSteps: 1, seed: 0, resumeFrom: path.join(tmp, 'nope.safetensors') }))).rejects.toThrow(/nope\.safetensors/);
    optimizer.dispose();
    tf.dispose(params.map(([, v]) => v));
  });

  it('lets the event loop turn between steps (timers and I/O of subscribers run during the run)', async () => {
    const { task, params } = makeTask();
    const { optimizer } = makeOptim(params);
    let stepsDone = 0;
    let stepsWhenTimerFired = -1;
    setTimeout(() => (stepsWhenTimerFired = stepsDone), 0);
    await lastValueFrom(
      trainLoop({ task, optimizer, totalSteps: 4, seed: 0 }).pipe(
        tap((e) => {
          if (e.type === 'step') stepsDone = e.step;
        }),
      ),
    );
    expect(stepsDone).toBe(4);
    expect(stepsWhenTimerFired).toBe(1);
    optimizer.dispose();
    tf.dispose(params.map(([, v]) => v));
  });

  it('stops after the current step when unsubscribed', async () => {
    const { task, params } = makeTask();
    const { optimizer } = makeOptim(params);
    const dir = path.join(tmp, 'stop');
    const e = await firstValueFrom(trainLoop({ task, optimizer, totalSteps: 50, seed: 0, checkpoint: { dir, every: 1 } }).pipe(take(2)));
    expect(e.type).toBe('start');
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(path.join(dir, 'step-00000050.safetensors'))).toBe(false);
    optimizer.dispose();
    tf.dispose(params.map(([, v]) => v));
  });
});
