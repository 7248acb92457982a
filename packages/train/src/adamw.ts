/**
 * AdamW exactly as PyTorch computes it (`torch.optim.AdamW`, single-tensor path, as in torch 1.13
 * that produced the fixtures), with parameter groups.
 *
 * Per parameter with a gradient g, at its step t (counted per parameter, like PyTorch):
 * ```
 * p ← p · (1 − lr·wd)                         (decoupled weight decay, before the moments)
 * m ← m·β1 + g·(1 − β1)
 * v ← v·β2 + (1 − β2)·g·g
 * denom = √v / √(1 − β2^t) + eps               (eps added AFTER the bias correction of v)
 * p ← p − (lr / (1 − β1^t)) · m / denom
 * ```
 * The scalar factors are computed in float64 and the tensor arithmetic in float32, in PyTorch's
 * order, so one step reproduces PyTorch to float32 rounding.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { namedVariableList, type NamedVariable, type NamedVariables, type ParamGroupSpec } from './params.js';

/** Defaults shared by every group of an {@link AdamW} optimizer. */
export interface AdamWOptions {
  /** Learning rate (PyTorch default 1e-3). */
  lr?: number;
  /** (β1, β2), default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Added to the denominator after bias correction, default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, default 0.01 (PyTorch's AdamW default). */
  weightDecay?: number;
}

/** A live parameter group; schedules change `lr`. */
export interface ParamGroup {
  /** Label used in logs and checkpoints. */
  readonly name: string;
  /** The group's parameters, in order. */
  readonly params: readonly NamedVariable[];
  /** Current learning rate (schedules write it). */
  lr: number;
  /** The learning rate the group was created with (PyTorch's `initial_lr`). */
  readonly initialLr: number;
  /** Decoupled weight decay. */
  weightDecay: number;
  /** (β1, β2). */
  betas: readonly [number, number];
  /** Denominator epsilon. */
  eps: number;
}

/** Hyper-parameters and per-parameter step counts of an {@link AdamW} (JSON). */
export interface AdamWStateMeta {
  /** One entry per group, in order. */
  groups: Array<{ name: string; lr: number; initialLr: number; weightDecay: number; betas: [number, number]; eps: number; params: string[] }>;
  /** Per-parameter step count (parameters never stepped are absent). */
  steps: Record<string, number>;
}

/** The complete state of an {@link AdamW}: JSON metadata plus the moment tensors as float32 arrays. */
export interface AdamWState {
  /** Hyper-parameters and step counts. */
  meta: AdamWStateMeta;
  /** `exp_avg` (first moment) per parameter name, C order, the variable's shape. */
  expAvg: Map<string, { shape: number[]; data: Float32Array }>;
  /** `exp_avg_sq` (second moment) per parameter name. */
  expAvgSq: Map<string, { shape: number[]; data: Float32Array }>;
}

interface Slot {
  step: number;
  m: tf.Variable;
  v: tf.Variable;
}

function checkHyper(where: string, lr: number, betas: readonly [number, number], eps: number, wd: number): void {
  if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`${where}: lr must be a finite number ≥ 0, found ${lr}`);
  if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => Number.isFinite(b) && b >= 0 && b < 1)) {
    throw new RangeError(`${where}: betas must be two numbers in [0, 1), found ${JSON.stringify(betas)}`);
  }
  if (!Number.isFinite(eps) || eps < 0) throw new RangeError(`${where}: eps must be a finite number ≥ 0, found ${eps}`);
  if (!Number.isFinite(wd) || wd < 0) throw new RangeError(`${where}: weightDecay must be a finite number ≥ 0, found ${wd}`);
}

/**
 * PyTorch's AdamW with parameter groups.
 *
 * @example
 * ```ts
 * const opt = new AdamW(paramGroupsWeightDecay(params, { weightDecay: 0.1 }), { lr: 5e-4 });
 * const { grads } = tf.variableGrads(() => loss(), vars); // keyed by tfjs variable name
 * opt.step(new Map([['rotation_head.weight', grads[v.name]]]));
 * ```
 */
export class AdamW {
  /** The parameter groups; `lr` is mutable for schedules. */
  readonly paramGroups: ParamGroup[];
  private readonly slots = new Map<string, Slot>();
  private readonly byName = new Map<string, { group: ParamGroup; variable: tf.Variable }>();

  /**
   * @param params the parameters: one list (a single group) or several {@link ParamGroupSpec}s.
   * @param options defaults for every group (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01).
   */
  constructor(params: NamedVariables | readonly ParamGroupSpec[], options: AdamWOptions = {}) {
    const lr = options.lr ?? 1e-3;
    const betas = options.betas ?? [0.9, 0.999];
    const eps = options.eps ?? 1e-8;
    const wd = options.weightDecay ?? 0.01;
    checkHyper('AdamW', lr, betas, eps, wd);
    const specs: readonly ParamGroupSpec[] = isGroupList(params) ? params : [{ name: 'default', params: namedVariableList(params) }];
    this.paramGroups = specs.map((spec, i) => {
      const g: ParamGroup = {
        name: spec.name ?? `group${i}`,
        params: namedVariableList(spec.params),
        lr: spec.lr ?? lr,
        initialLr: spec.lr ?? lr,
        weightDecay: spec.weightDecay ?? wd,
        betas: [betas[0], betas[1]],
        eps,
      };
      checkHyper(`AdamW group "${g.name}"`, g.lr, g.betas, g.eps, g.weightDecay);
      return g;
    });
    for (const group of this.paramGroups) {
      for (const [name, variable] of group.params) {
        if (this.byName.has(name)) throw new Error(`AdamW: parameter "${name}" is in more than one group`);
        this.byName.set(name, { group, variable });
      }
    }
  }

  /** Number of parameters (tensors) the optimizer updates. */
  get size(): number {
    return this.byName.size;
  }

  /** Names of every parameter, group by group. */
  parameterNames(): string[] {
    return this.paramGroups.flatMap((g) => g.params.map(([n]) => n));
  }

  /**
   * One optimisation step. `grads` maps parameter names to gradients of the parameter's shape;
   * parameters without a gradient are left alone and their step count does not advance (like a
   * PyTorch parameter whose `.grad` is None). The gradients are not disposed.
   */
  step(grads: ReadonlyMap<string, tf.Tensor>): void {
    for (const name of grads.keys()) {
      if (!this.byName.has(name)) throw new Error(`AdamW.step: gradient for unknown parameter "${name}"`);
    }
    for (const group of this.paramGroups) {
      const [beta1, beta2] = group.betas;
      for (const [name, p] of group.params) {
        const g = grads.get(name);
        if (!g) continue;
        if (!shapesEqual(g.shape, p.shape)) {
          throw new Error(`AdamW.step: gradient of "${name}" has shape [${g.shape.join(', ')}], expected [${p.shape.join(', ')}]`);
        }
        const slot = this.slotFor(name, p);
        slot.step += 1;
        const t = slot.step;
        // Scalars exactly as torch computes them in Python floats (float64), then rounded to
        // float32 when they meet a float32 tensor.
        const decay = 1 - group.lr * group.weightDecay;
        const biasCorrection1 = 1 - beta1 ** t;
        const biasCorrection2 = 1 - beta2 ** t;
        const stepSize = group.lr / biasCorrection1;
        const bc2Sqrt = Math.sqrt(biasCorrection2);
        tf.tidy(() => {
          const pd = tf.mul(p, tf.scalar(decay));
          const m = tf.add(tf.mul(slot.m, tf.scalar(beta1)), tf.mul(g, tf.scalar(1 - beta1)));
          const v = tf.add(tf.mul(slot.v, tf.scalar(beta2)), tf.mul(tf.mul(tf.scalar(1 - beta2), g), g));
          const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(bc2Sqrt)), tf.scalar(group.eps));
          // addcdiv as torch's CPU kernel evaluates it: self + (value · t1) / t2.
          const updated = tf.add(pd, tf.div(tf.mul(tf.scalar(-stepSize), m), denom));
          slot.m.assign(m);
          slot.v.assign(v);
          p.assign(updated);
        });
      }
    }
  }

  private slotFor(name: string, p: tf.Variable): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = { step: 0, m: ownedVariable(tf.zerosLike(p)), v: ownedVariable(tf.zerosLike(p)) };
      this.slots.set(name, slot);
    }
    return slot;
  }

  /** The step count of a parameter (0 before its first update). */
  stepCount(name: string): number {
    return this.slots.get(name)?.step ?? 0;
  }

  /** Reads the complete state back from the tensors (copies). */
  async getState(): Promise<AdamWState> {
    const expAvg = new Map<string, { shape: number[]; data: Float32Array }>();
    const expAvgSq = new Map<string, { shape: number[]; data: Float32Array }>();
    const steps: Record<string, number> = {};
    for (const [name, slot] of this.slots) {
      steps[name] = slot.step;
      expAvg.set(name, { shape: [...slot.m.shape], data: Float32Array.from(await slot.m.data()) });
      expAvgSq.set(name, { shape: [...slot.v.shape], data: Float32Array.from(await slot.v.data()) });
    }
    return {
      meta: {
        groups: this.paramGroups.map((g) => ({
          name: g.name,
          lr: g.lr,
          initialLr: g.initialLr,
          weightDecay: g.weightDecay,
          betas: [g.betas[0], g.betas[1]],
          eps: g.eps,
          params: g.params.map(([n]) => n),
        })),
        steps,
      },
      expAvg,
      expAvgSq,
    };
  }

  /**
   * Restores a state saved with {@link AdamW.getState}. The groups must list the same parameter
   * names in the same order; hyper-parameters (lr, weight decay, betas, eps) are taken from the
   * state. Throws naming the first mismatch.
   */
  setState(state: AdamWState): void {
    const { meta } = state;
    if (!meta || !Array.isArray(meta.groups) || meta.groups.length !== this.paramGroups.length) {
      throw new Error(`AdamW.setState: expected ${this.paramGroups.length} parameter groups, found ${meta?.groups?.length ?? 'none'}`);
    }
    meta.groups.forEach((saved, i) => {
      const group = this.paramGroups[i];
      const names = group.params.map(([n]) => n);
      if (saved.params.length !== names.length || saved.params.some((n, j) => n !== names[j])) {
        const j = saved.params.findIndex((n, k) => n !== names[k]);
        throw new Error(
          `AdamW.setState: group ${i} ("${group.name}") has ${names.length} parameters, the state ${saved.params.length}` +
            (j >= 0 ? `; first difference at position ${j}: "${saved.params[j]}" vs "${names[j]}"` : ''),
        );
      }
      checkHyper(`AdamW.setState group "${saved.name}"`, saved.lr, saved.betas, saved.eps, saved.weightDecay);
    });
    for (const name of Object.keys(meta.steps)) {
      const entry = this.byName.get(name);
      if (!entry) throw new Error(`AdamW.setState: state for unknown parameter "${name}"`);
      for (const [what, map] of [['exp_avg', state.expAvg], ['exp_avg_sq', state.expAvgSq]] as const) {
        const t = map.get(name);
        if (!t) throw new Error(`AdamW.setState: missing ${what} of "${name}"`);
        if (!shapesEqual(t.shape, entry.variable.shape) || t.data.length !== entry.variable.size) {
          throw new Error(`AdamW.setState: ${what} of "${name}" has shape [${t.shape.join(', ')}], expected [${entry.variable.shape.join(', ')}]`);
        }
      }
    }
    meta.groups.forEach((saved, i) => {
      const group = this.paramGroups[i];
      group.lr = saved.lr;
      group.weightDecay = saved.weightDecay;
      group.betas = [saved.betas[0], saved.betas[1]];
      group.eps = saved.eps;
      (group as { initialLr: number }).initialLr = saved.initialLr;
    });
    this.disposeSlots();
    for (const [name, step] of Object.entries(meta.steps)) {
      const entry = this.byName.get(name) as { variable: tf.Variable };
      const m = state.expAvg.get(name) as { data: Float32Array };
      const v = state.expAvgSq.get(name) as { data: Float32Array };
      const shape = entry.variable.shape;
      this.slots.set(name, {
        step,
        m: ownedVariable(tf.tensor(Float32Array.from(m.data), shape, 'float32')),
        v: ownedVariable(tf.tensor(Float32Array.from(v.data), shape, 'float32')),
      });
    }
  }

  private disposeSlots(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.slots.clear();
  }

  /** Frees the moment tensors (the parameters belong to the caller). */
  dispose(): void {
    this.disposeSlots();
  }
}

/** A non-trainable variable holding `t`'s data; `t` itself is released (the variable keeps the data). */
function ownedVariable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

function isGroupList(x: unknown): x is readonly ParamGroupSpec[] {
  return Array.isArray(x) && x.length > 0 && x.every((g) => typeof g === 'object' && g !== null && !Array.isArray(g) && 'params' in g);
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
