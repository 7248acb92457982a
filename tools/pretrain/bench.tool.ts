/**
 * Pre-training speed of the `tiny` preset (SSLHead F 4, 64³ crops, 2 crops per step, the full
 * SwinMM step with 4 passes and backward) on the backends given in BACKENDS (default "cpu,wasm").
 * STEPS steps per backend (default 3); the first step (warm-up, kernel set-up) is excluded.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import { initBackend } from '@swinmm/runtime';
import type { StepEvent } from '@swinmm/train';
import { resolvePretrainConfig, runPretraining } from '@swinmm/pretrain';

const ROOT = path.resolve(__dirname, '../..');

it('tiny pre-training steps per second', async () => {
  const steps = Number(process.env.STEPS ?? 3);
  const results: Record<string, unknown>[] = [];
  for (const backend of (process.env.BACKENDS ?? 'cpu,wasm').split(',') as ('cpu' | 'wasm')[]) {
    await initBackend(backend, { log: () => {} });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'swinmm-bench-'));
    const config = resolvePretrainConfig({ preset: 'tiny', backend, optim: { steps, warmupSteps: 1 }, output: { dir, checkpointEvery: 1000 } }, ROOT);
    const cpu0 = process.cpuUsage();
    const events = await lastValueFrom(runPretraining(config, { keepBackend: true, progress: null }).pipe(toArray()));
    const cpu = process.cpuUsage(cpu0);
    const timed = events.filter((e): e is StepEvent => e.type === 'step').slice(1);
    const wall = timed.reduce((a, e) => a + e.seconds, 0);
    results.push({ backend, stepsTimed: timed.length, secondsPerStep: wall / timed.length, stepsPerSecond: timed.length / wall, samplesPerSecond: timed.reduce((a, e) => a + e.samples, 0) / wall, processCpuSecondsAllSteps: (cpu.user + cpu.system) / 1e6, loadAverage: os.loadavg()[0] });
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`BENCH ${JSON.stringify(results)}\n`);
  expect(results.length).toBeGreaterThan(0);
});
