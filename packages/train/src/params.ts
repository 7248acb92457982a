/**
 * Named parameters and the weight-decay split of SwinMM's pre-training (timm's
 * `param_groups_weight_decay`, SPEC.md §6.7).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs';

/** A trainable variable with its PyTorch state-dict name. */
export type NamedVariable = readonly [name: string, variable: tf.Variable];

/**
 * Anything that lists named trainable variables: a `Map`, an array of `[name, variable]` pairs, a
 * generator, or a plain object `{ name: variable }`.
 */
export type NamedVariables = Iterable<NamedVariable> | Readonly<Record<string, tf.Variable>>;

/** Turns any {@link NamedVariables} into an array of pairs, rejecting duplicate names. */
export function namedVariableList(params: NamedVariables): NamedVariable[] {
  const list: NamedVariable[] = isIterable(params)
    ? [...params].map(([n, v]) => [n, v] as const)
    : Object.entries(params).map(([n, v]) => [n, v] as const);
  const seen = new Set<string>();
  for (const [name, variable] of list) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`parameter names must be non-empty strings, found ${JSON.stringify(name)}`);
    }
    if (seen.has(name)) throw new Error(`parameter "${name}" appears twice`);
    if (!variable || typeof (variable as tf.Variable).assign !== 'function') {
      throw new TypeError(`parameter "${name}": expected a tf.Variable, found ${describe(variable)}`);
    }
    seen.add(name);
  }
  return list;
}

function isIterable(x: unknown): x is Iterable<NamedVariable> {
  return typeof x === 'object' && x !== null && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** Options of {@link paramGroupsWeightDecay}. */
export interface WeightDecaySplitOptions {
  /** Weight decay of the decayed group (SwinMM pre-training: 0.1). */
  weightDecay: number;
  /**
   * Names (exact) or name suffixes that must not be decayed although they have ≥ 2 dimensions.
   * Default `['relative_position_bias_table']`, what SwinMM's `no_weight_decay()` lists.
   */
  noDecaySuffixes?: readonly string[];
}

/** One parameter group before it is handed to an optimizer. */
export interface ParamGroupSpec {
  /** A label for logs and checkpoints (`'decay'`, `'no_decay'`, …). */
  name: string;
  /** The group's parameters. */
  params: NamedVariable[];
  /** Weight decay of this group; the optimizer default when absent. */
  weightDecay?: number;
  /** Learning rate of this group; the optimizer default when absent. */
  lr?: number;
}

/**
 * Splits parameters the way SwinMM's pre-training does (timm `param_groups_weight_decay`): no
 * weight decay for parameters with ≤ 1 dimension, names ending in `.bias`, and the names in
 * `noDecaySuffixes` (the relative-position bias tables); `weightDecay` for the rest. Returns
 * `[no_decay, decay]` in that order, each in the order the parameters were given, as timm does.
 *
 * @example
 * ```ts
 * const groups = paramGroupsWeightDecay(model.namedParameters(), { weightDecay: 0.1 });
 * const opt = new AdamW(groups, { lr: 5e-4 });
 * ```
 */
export function paramGroupsWeightDecay(params: NamedVariables, options: WeightDecaySplitOptions): [ParamGroupSpec, ParamGroupSpec] {
  const { weightDecay } = options;
  if (!Number.isFinite(weightDecay) || weightDecay < 0) {
    throw new RangeError(`weightDecay must be a finite number ≥ 0, found ${weightDecay}`);
  }
  const suffixes = options.noDecaySuffixes ?? ['relative_position_bias_table'];
  const noDecay: NamedVariable[] = [];
  const decay: NamedVariable[] = [];
  for (const p of namedVariableList(params)) {
    const [name, v] = p;
    if (v.rank <= 1 || name.endsWith('.bias') || suffixes.some((s) => name === s || name.endsWith(s))) noDecay.push(p);
    else decay.push(p);
  }
  return [
    { name: 'no_decay', params: noDecay, weightDecay: 0 },
    { name: 'decay', params: decay, weightDecay },
  ];
}
