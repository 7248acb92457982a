/**
 * PyTorch optimizer state (`optimizer.state_dict()`), as SwinMM's checkpoints carry it: Adam/AdamW
 * moments per parameter and the parameter groups with their hyper-parameters, so that a PyTorch
 * run can be continued here.
 *
 * @module
 */
import { TorchCheckpointError } from './errors.js';
import { PyDict, PyTuple, pyTypeName, type PyValue } from './pickle.js';
import { TorchTensor } from './tensor.js';

/** One parameter group of a PyTorch optimizer. */
export interface TorchParamGroup {
  /** Indices of its parameters (PyTorch numbers parameters across groups, in group order). */
  params: number[];
  /** Learning rate. */
  lr: number;
  /** Weight decay. */
  weightDecay: number;
  /** Adam betas, when present. */
  betas?: [number, number];
  /** Adam epsilon, when present. */
  eps?: number;
  /** AMSGrad flag, when present. */
  amsgrad?: boolean;
  /** Every other setting of the group as stored (e.g. `maximize`, `foreach`, `initial_lr`). */
  extra: Record<string, PyValue>;
}

/** The per-parameter state of Adam/AdamW. */
export interface TorchAdamState {
  /** Steps taken (a 0-d float tensor in torch ≥ 1.12, a number before). */
  step: number;
  /** First moment, PyTorch layout. */
  expAvg: TorchTensor;
  /** Second moment, PyTorch layout. */
  expAvgSq: TorchTensor;
  /** AMSGrad's running maximum, when present. */
  maxExpAvgSq?: TorchTensor;
}

/** A PyTorch Adam/AdamW `state_dict()`. */
export interface TorchOptimizerState {
  /** Parameter index → moments. Parameters that never received a gradient have no entry. */
  state: Map<number, TorchAdamState>;
  /** The parameter groups in order. */
  paramGroups: TorchParamGroup[];
}

function num(v: PyValue | undefined, what: string, where: string): number {
  if (typeof v === 'number') return v;
  if (v instanceof TorchTensor && v.numel === 1 && v.shape.length <= 1) return Number(v.data[0]);
  throw new TorchCheckpointError(`${where}: expected ${what} to be a number, found ${v === undefined ? 'nothing' : pyTypeName(v)}`);
}

function tensor(v: PyValue | undefined, what: string, where: string): TorchTensor {
  if (v instanceof TorchTensor) return v;
  throw new TorchCheckpointError(`${where}: expected ${what} to be a tensor, found ${v === undefined ? 'nothing' : pyTypeName(v)}`);
}

const GROUP_KEYS = new Set(['params', 'lr', 'weight_decay', 'betas', 'eps', 'amsgrad']);

/**
 * Read an Adam/AdamW `optimizer.state_dict()` (e.g. `checkpoint.get('optimizer')`).
 *
 * @param where names the source in error messages.
 * @throws TorchCheckpointError naming the entry that does not have the expected form.
 */
export function readOptimizerState(value: PyValue | undefined, where = 'optimizer state'): TorchOptimizerState {
  if (!(value instanceof PyDict)) throw new TorchCheckpointError(`${where}: expected a dict with "state" and "param_groups", found ${value === undefined ? 'nothing' : pyTypeName(value)}`);
  const rawState = value.get('state');
  const rawGroups = value.get('param_groups');
  if (!(rawState instanceof PyDict)) throw new TorchCheckpointError(`${where}: expected "state" to be a dict, found ${rawState === undefined ? 'nothing' : pyTypeName(rawState)}`);
  if (!Array.isArray(rawGroups)) throw new TorchCheckpointError(`${where}: expected "param_groups" to be a list, found ${rawGroups === undefined ? 'nothing' : pyTypeName(rawGroups)}`);
  const paramGroups: TorchParamGroup[] = rawGroups.map((g, gi) => {
    const at = `${where}: param_groups[${gi}]`;
    if (!(g instanceof PyDict)) throw new TorchCheckpointError(`${at}: expected a dict, found ${pyTypeName(g)}`);
    const params = g.get('params');
    if (!Array.isArray(params) || !params.every((p) => typeof p === 'number' && Number.isSafeInteger(p))) {
      throw new TorchCheckpointError(`${at}: expected "params" to be a list of integer indices`);
    }
    const extra: Record<string, PyValue> = {};
    for (const [k, v] of g) if (typeof k === 'string' && !GROUP_KEYS.has(k)) extra[k] = v;
    const betas = g.get('betas');
    const group: TorchParamGroup = {
      params: params as number[],
      lr: num(g.get('lr'), '"lr"', at),
      weightDecay: g.has('weight_decay') ? num(g.get('weight_decay'), '"weight_decay"', at) : 0,
      extra,
    };
    if (betas !== undefined) {
      const items = betas instanceof PyTuple ? betas.items : betas;
      if (!Array.isArray(items) || items.length !== 2) throw new TorchCheckpointError(`${at}: expected "betas" to be a pair`);
      group.betas = [num(items[0], 'beta1', at), num(items[1], 'beta2', at)];
    }
    if (g.has('eps')) group.eps = num(g.get('eps'), '"eps"', at);
    if (g.has('amsgrad')) group.amsgrad = g.get('amsgrad') === true;
    return group;
  });
  const state = new Map<number, TorchAdamState>();
  for (const [k, v] of rawState) {
    const at = `${where}: state[${String(k)}]`;
    if (typeof k !== 'number') throw new TorchCheckpointError(`${at}: expected an integer parameter index, found ${pyTypeName(k)}`);
    if (!(v instanceof PyDict)) throw new TorchCheckpointError(`${at}: expected a dict, found ${pyTypeName(v)}`);
    const entry: TorchAdamState = {
      step: num(v.get('step'), '"step"', at),
      expAvg: tensor(v.get('exp_avg'), '"exp_avg"', at),
      expAvgSq: tensor(v.get('exp_avg_sq'), '"exp_avg_sq"', at),
    };
    if (v.has('max_exp_avg_sq')) entry.maxExpAvgSq = tensor(v.get('max_exp_avg_sq'), '"max_exp_avg_sq"', at);
    state.set(k, entry);
  }
  const indices = paramGroups.flatMap((g) => g.params);
  const known = new Set(indices);
  if (known.size !== indices.length) throw new TorchCheckpointError(`${where}: a parameter index appears in more than one group`);
  for (const k of state.keys()) {
    if (!known.has(k)) throw new TorchCheckpointError(`${where}: state[${k}] belongs to no parameter group`);
  }
  return { state, paramGroups };
}

/**
 * The order in which timm's `param_groups_weight_decay` (used by SwinMM) hands parameters to the
 * optimizer: a no-decay group (1-d tensors, `.bias`, and names in `noDecayNames`, e.g. the
 * relative-position bias tables) then a decay group, each in model order. PyTorch numbers the
 * parameters in that order, so element `i` is the name of optimizer index `i`.
 *
 * @param named the model's parameters in `named_parameters()` order with PyTorch shapes.
 */
export function weightDecayGroupOrder(
  named: Iterable<readonly [string, readonly number[]]>,
  isNoDecay: (name: string, shape: readonly number[]) => boolean = (name, shape) =>
    shape.length <= 1 || name.endsWith('.bias') || name.endsWith('relative_position_bias_table'),
): { noDecay: string[]; decay: string[]; order: string[] } {
  const noDecay: string[] = [];
  const decay: string[] = [];
  for (const [name, shape] of named) (isNoDecay(name, shape) ? noDecay : decay).push(name);
  return { noDecay, decay, order: [...noDecay, ...decay] };
}

/**
 * Attach parameter names to the optimizer state: `indexToName[i]` is the name of optimizer
 * parameter `i` (see {@link weightDecayGroupOrder}). Checks that every moment has the shape of
 * its parameter when `shapes` is given.
 *
 * @throws TorchCheckpointError when the counts or shapes disagree.
 */
export function nameOptimizerState(
  opt: TorchOptimizerState,
  indexToName: readonly string[],
  shapes?: ReadonlyMap<string, readonly number[]>,
): Map<string, TorchAdamState> {
  const total = opt.paramGroups.reduce((n, g) => n + g.params.length, 0);
  if (total !== indexToName.length) {
    throw new TorchCheckpointError(`optimizer state: the parameter groups hold ${total} parameters, but ${indexToName.length} names were given`);
  }
  const out = new Map<string, TorchAdamState>();
  for (const [i, s] of opt.state) {
    const name = indexToName[i];
    if (name === undefined) throw new TorchCheckpointError(`optimizer state: index ${i} has no name (only ${indexToName.length} given)`);
    const shape = shapes?.get(name);
    if (shape) {
      for (const [what, t] of [['exp_avg', s.expAvg], ['exp_avg_sq', s.expAvgSq]] as const) {
        if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
          throw new TorchCheckpointError(`optimizer state: ${what} of "${name}" (index ${i}) has shape [${t.shape.join(', ')}], the parameter [${shape.join(', ')}]`);
        }
      }
    }
    out.set(name, s);
  }
  return out;
}
