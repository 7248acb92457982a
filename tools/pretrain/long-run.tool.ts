/**
 * A longer `tiny` pre-training run on the bundled MRI, to see the loss go down.
 * Env: STEPS (default 60), BACKEND (cpu | wasm, default cpu), OUT (default runs/pretrain-tiny-long).
 * Prints one line per step and a summary (mean of the first and last 10 losses).
 */
import * as path from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { initBackend } from '@swinmm/runtime';
import type { StepEvent } from '@swinmm/train';
import { resolvePretrainConfig, runPretraining } from '@swinmm/pretrain';

const ROOT = path.resolve(__dirname, '../..');

it('tiny pre-training, longer run', async () => {
  const steps = Number(process.env.STEPS ?? 60);
  const backend = (process.env.BACKEND ?? 'cpu') as 'cpu' | 'wasm';
  await initBackend(backend, { log: (l) => console.log(l) });
  const config = resolvePretrainConfig(
    { preset: 'tiny', backend, optim: { steps, warmupSteps: Math.max(1, Math.round(steps / 10)) }, output: { dir: process.env.OUT ?? 'runs/pretrain-tiny-long', checkpointEvery: Math.max(1, Math.floor(steps / 3)) } },
    ROOT,
  );
  const losses: StepEvent[] = [];
  await lastValueFrom(
    runPretraining(config, { keepBackend: true, progress: process.stderr }).pipe(
      tap((e) => {
        if (e.type === 'step') {
          losses.push(e);
          process.stdout.write(`${JSON.stringify({ step: e.step, loss: e.loss, ...e.terms, lr: e.lr, s: e.seconds })}\n`);
        }
      }),
    ),
    { defaultValue: null },
  );
  const mean = (xs: StepEvent[]) => xs.reduce((a, e) => a + e.loss, 0) / xs.length;
  const k = Math.min(10, Math.floor(losses.length / 2));
  const summary = { backend, steps, firstMean: mean(losses.slice(0, k)), lastMean: mean(losses.slice(-k)), secondsPerStep: losses.slice(1).reduce((a, e) => a + e.seconds, 0) / Math.max(1, losses.length - 1), dir: config.output.dir };
  process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);
  expect(losses.length).toBe(steps);
});
