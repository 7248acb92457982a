/**
 * Continuing a PyTorch run: a PyTorch AdamW `state_dict()` turned into the plain optimizer state
 * of `@swinmm/train`'s `AdamW` (`setState`), with the moments converted to our parameter layouts.
 * The result is structurally that type; this package does not depend on the trainer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { fromTorchLayout, torchShapeOf, type Module } from '@swinmm/nn';
import { TorchCheckpointError } from './errors.js';
import type { TorchOptimizerState } from './optimizer.js';
import { tensorToFloat32 } from './tensor.js';

/** One parameter group in the trainer's format. */
export interface AdamWGroupState {
  /** Group name (`no_decay` / `decay` for the weight-decay split). */
  name: string;
  /** Current learning rate. */
  lr: number;
  /** The schedule's base learning rate (PyTorch's `initial_lr`, else `lr`). */
  initialLr: number;
  /** Weight decay. */
  weightDecay: number;
  /** Adam betas. */
  betas: [number, number];
  /** Adam epsilon. */
  eps: number;
  /** Parameter names in group order. */
  params: string[];
}

/** The trainer's AdamW state (`AdamW.setState` of `@swinmm/train`), moments in our layouts. */
export interface AdamWStateLike {
  /** Groups and per-parameter step counts. */
  meta: { groups: AdamWGroupState[]; steps: Record<string, number> };
  /** First moments by parameter name, our layout, C order. */
  expAvg: Map<string, { shape: number[]; data: Float32Array }>;
  /** Second moments by parameter name. */
  expAvgSq: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Options for {@link adamWStateFromTorch}. */
export interface AdamWImportOptions {
  /** Group names in order (default: `no_decay` for groups with weight decay 0, else `decay`). */
  groupNames?: readonly string[];
}

/**
 * Convert a PyTorch AdamW state for `module`.
 *
 * @param indexToName the parameter name of each optimizer index (see `weightDecayGroupOrder`),
 *   in the module's (mapped) names.
 * @throws TorchCheckpointError when a name is not a parameter of the module or a moment's shape
 *   is not the parameter's PyTorch shape.
 */
export function adamWStateFromTorch(
  opt: TorchOptimizerState,
  module: Module,
  indexToName: readonly string[],
  options: AdamWImportOptions = {},
): AdamWStateLike {
  const params = new Map(module.namedParameters());
  const nameOf = (i: number): string => {
    const name = indexToName[i];
    if (name === undefined) throw new TorchCheckpointError(`optimizer state: index ${i} has no name (${indexToName.length} names given)`);
    if (!params.has(name)) throw new TorchCheckpointError(`optimizer state: "${name}" (index ${i}) is not a parameter of ${module.constructor.name}`);
    return name;
  };
  const groups: AdamWGroupState[] = opt.paramGroups.map((g, i) => {
    const initial = g.extra.initial_lr;
    return {
      name: options.groupNames?.[i] ?? (g.weightDecay === 0 ? 'no_decay' : 'decay'),
      lr: g.lr,
      initialLr: typeof initial === 'number' ? initial : g.lr,
      weightDecay: g.weightDecay,
      betas: g.betas ?? [0.9, 0.999],
      eps: g.eps ?? 1e-8,
      params: g.params.map(nameOf),
    };
  });
  const steps: Record<string, number> = {};
  const expAvg = new Map<string, { shape: number[]; data: Float32Array }>();
  const expAvgSq = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [i, s] of opt.state) {
    const name = nameOf(i);
    const p = params.get(name)!;
    const ours = [...p.variable.shape];
    const torchShape = torchShapeOf(ours, p.layout);
    steps[name] = s.step;
    for (const [what, t, out] of [['exp_avg', s.expAvg, expAvg], ['exp_avg_sq', s.expAvgSq, expAvgSq]] as const) {
      if (t.shape.length !== torchShape.length || t.shape.some((d, k) => d !== torchShape[k])) {
        throw new TorchCheckpointError(`optimizer state: ${what} of "${name}" has shape [${t.shape.join(', ')}], the parameter [${torchShape.join(', ')}] (PyTorch layout)`);
      }
      const data = tf.tidy(() => fromTorchLayout(tf.tensor(Float32Array.from(tensorToFloat32(t)), torchShape, 'float32'), p.layout).dataSync() as Float32Array);
      out.set(name, { shape: ours, data });
    }
  }
  return { meta: { groups, steps }, expAvg, expAvgSq };
}
