import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@swinmm/runtime';
import { AdamW, LinearWarmupCosineAnnealingLR, WarmupCosineSchedule, linearWarmupCosineClosedForm, warmupCosineMultiplier } from '../src/index.js';
import { loadAdamWFixture } from './helpers.js';

const { json } = loadAdamWFixture();
const warm = json.lr_schedules['WarmupCosineSchedule(warmup_steps=500, t_total=30000) [pre-training, stepped every iteration]'];
const lin = json.lr_schedules['LinearWarmupCosineAnnealingLR(warmup_epochs=50, max_epochs=1500), base lr 1e-4 [fine-tuning, stepped every epoch]'];

function optimizerWithLr(lr: number): AdamW {
  return new AdamW([{ name: 'g', params: [['w', tf.variable(tf.zeros([1]))]] }], { lr });
}

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('WarmupCosineSchedule', () => {
  it('matches SwinMM multipliers at the fixture steps to 1e-7', () => {
    const ref = warm.multiplier as Record<string, number>;
    for (const [s, v] of Object.entries(ref)) {
      expect(Math.abs(warmupCosineMultiplier(Number(s), 500, 30000) - v)).toBeLessThanOrEqual(1e-7);
    }
  });

  it('writes base·multiplier into the optimizer as it is stepped (starts at 0, PyTorch semantics)', () => {
    const opt = optimizerWithLr(5e-4);
    const sched = new WarmupCosineSchedule(opt, { warmupSteps: 500, tTotal: 30000 });
    const ref = warm['lr_at_base_5e-4'] as Record<string, number>;
    const seen: Record<string, number> = {};
    expect(sched.lastEpoch).toBe(0);
    for (let s = 0; s <= 29999; s++) {
      if (s > 0) sched.step();
      if (String(s) in ref) seen[String(s)] = opt.paramGroups[0].lr;
    }
    for (const [s, v] of Object.entries(ref)) expect(Math.abs(seen[s] - v)).toBeLessThanOrEqual(1e-7 * 5e-4);
    expect(opt.paramGroups[0].initialLr).toBe(5e-4);
  });

  it('restores its position from getState()', () => {
    const a = new WarmupCosineSchedule(optimizerWithLr(1), { warmupSteps: 10, tTotal: 100 });
    for (let i = 0; i < 37; i++) a.step();
    const opt = optimizerWithLr(1);
    const b = new WarmupCosineSchedule(opt, { warmupSteps: 10, tTotal: 100 });
    b.setState(a.getState());
    expect(b.lastEpoch).toBe(37);
    expect(opt.paramGroups[0].lr).toBe(a.getLastLr()[0]);
    a.step();
    b.step();
    expect(b.getLastLr()).toEqual(a.getLastLr());
  });

  it('rejects bad options', () => {
    expect(() => new WarmupCosineSchedule(optimizerWithLr(1), { warmupSteps: -1, tTotal: 10 })).toThrow(/warmupSteps/);
    expect(() => new WarmupCosineSchedule(optimizerWithLr(1), { warmupSteps: 1, tTotal: 0 })).toThrow(/tTotal/);
  });
});

describe('LinearWarmupCosineAnnealingLR', () => {
  it('matches the chainable lr SwinMM steps through, and the closed form, at the fixture epochs (rel 1e-7)', () => {
    const opt = optimizerWithLr(1e-4);
    const sched = new LinearWarmupCosineAnnealingLR(opt, { warmupEpochs: 50, maxEpochs: 1500 });
    const chain = lin.lr_chainable_as_SwinMM_steps_it as Record<string, number>;
    const closed = lin.lr_closed_form as Record<string, number>;
    const seen: Record<string, number> = {};
    for (let e = 0; e <= 1499; e++) {
      if (e > 0) sched.step();
      if (String(e) in chain) seen[String(e)] = opt.paramGroups[0].lr;
    }
    for (const [e, v] of Object.entries(chain)) {
      expect(Math.abs(seen[e] - v)).toBeLessThanOrEqual(1e-7 * Math.abs(v) + 1e-20);
      expect(Math.abs(linearWarmupCosineClosedForm(Number(e), 1e-4, { warmupEpochs: 50, maxEpochs: 1500 }) - closed[e])).toBeLessThanOrEqual(1e-7 * Math.abs(closed[e]) + 1e-20);
    }
  });

  it('rejects maxEpochs ≤ warmupEpochs', () => {
    expect(() => new LinearWarmupCosineAnnealingLR(optimizerWithLr(1), { warmupEpochs: 5, maxEpochs: 5 })).toThrow(/maxEpochs/);
  });
});
