/**
 * `Module`: the base class of every layer and model, with PyTorch's parameter names and the
 * layout conversion between PyTorch state dicts and our channels-last tensors.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/**
 * How a parameter is laid out in PyTorch compared with ours (SPEC.md §4.14).
 *
 * - `'same'`: identical (biases, norms, bias tables, embeddings).
 * - `'linear'`: PyTorch `[out, in]`, ours `[in, out]`.
 * - `'conv3d'`: PyTorch `[out, in, kd, kh, kw]`, ours `[kd, kh, kw, in, out]` (tfjs conv3d filter).
 * - `'convTranspose3d'`: PyTorch `[in, out, kd, kh, kw]`, ours `[kd, kh, kw, out, in]` (the tfjs
 *   `conv3dTranspose` filter; a pure permutation, no spatial flip).
 */
export type ParameterLayout = 'same' | 'linear' | 'conv3d' | 'convTranspose3d';

/** Our shape → PyTorch's shape, per layout: the permutation `torchToOurs` maps PyTorch axes to ours. */
const TORCH_TO_OURS: Record<ParameterLayout, number[] | null> = {
  same: null,
  linear: [1, 0],
  conv3d: [2, 3, 4, 1, 0],
  convTranspose3d: [2, 3, 4, 1, 0],
};

function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** The PyTorch shape of a parameter whose shape in our layout is `shape`. */
export function torchShapeOf(shape: readonly number[], layout: ParameterLayout): number[] {
  const perm = TORCH_TO_OURS[layout];
  if (!perm) return [...shape];
  // ours[i] = torch[perm[i]]  ⇒  torch[j] = ours[inv[j]]
  const inv = inversePermutation(perm);
  return inv.map((i) => shape[i]);
}

/** Converts a tensor in PyTorch layout to our layout (a new tensor). */
export function fromTorchLayout(t: tf.Tensor, layout: ParameterLayout): tf.Tensor {
  const perm = TORCH_TO_OURS[layout];
  return perm ? tf.transpose(t, perm) : tf.clone(t);
}

/** Converts a tensor in our layout to PyTorch layout (a new tensor). */
export function toTorchLayout(t: tf.Tensor, layout: ParameterLayout): tf.Tensor {
  const perm = TORCH_TO_OURS[layout];
  return perm ? tf.transpose(t, inversePermutation(perm)) : tf.clone(t);
}

/** A trainable tensor of a module, with how to convert it from and to PyTorch layout. */
export interface Parameter {
  /** The value, in our layout. */
  readonly variable: tf.Variable;
  /** How PyTorch lays it out. */
  readonly layout: ParameterLayout;
}

/** A shape that did not fit in {@link Module.loadStateDict}. */
export interface ShapeMismatch {
  /** The PyTorch parameter name. */
  name: string;
  /** The shape the module expects, in PyTorch layout. */
  expected: number[];
  /** The shape found in the state dict. */
  found: number[];
}

/** What {@link Module.loadStateDict} did. */
export interface LoadStateDictReport {
  /** Parameter names whose values were loaded. */
  loaded: string[];
  /** Parameter names of the module that the state dict lacks (left unchanged). */
  missing: string[];
  /** State-dict names that match nothing in the module. */
  unexpected: string[];
  /** Names present on both sides whose shapes differ (left unchanged). */
  shapeMismatch: ShapeMismatch[];
  /**
   * State-dict names that are constants here (PyTorch buffers such as
   * `relative_position_index`, which we recompute): neither loaded nor unexpected.
   */
  ignoredConstants: string[];
}

/**
 * The value of a PyTorch buffer that a module recomputes: integers PyTorch stores as int64
 * (e.g. `relative_position_index`), row-major in `shape`.
 */
export interface ConstantValue {
  /** The buffer's PyTorch shape. */
  shape: number[];
  /** Its values, row-major. */
  values: Int32Array;
}

/** Options for {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Throw (and load nothing) unless every parameter is loaded and nothing is unexpected or
   * mismatched (default true, as in PyTorch).
   */
  strict?: boolean;
}

/** Raised by a strict {@link Module.loadStateDict}; `report` holds the details. */
export class StateDictError extends Error {
  constructor(
    message: string,
    /** What matched and what did not. */
    readonly report: LoadStateDictReport,
  ) {
    super(message);
    this.name = 'StateDictError';
  }
}

function describeReport(r: LoadStateDictReport): string {
  const lines: string[] = [];
  if (r.shapeMismatch.length) {
    lines.push(
      `shape mismatch for ${r.shapeMismatch.length} parameter(s):`,
      ...r.shapeMismatch.map((m) => `  ${m.name}: expected [${m.expected.join(', ')}] (PyTorch layout), found [${m.found.join(', ')}]`),
    );
  }
  if (r.missing.length) lines.push(`missing ${r.missing.length} parameter(s): ${r.missing.join(', ')}`);
  if (r.unexpected.length) lines.push(`unexpected ${r.unexpected.length} key(s): ${r.unexpected.join(', ')}`);
  return lines.join('\n');
}

/** PyTorch's `state_dict()` key joiner. */
function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/**
 * The base class of layers and models. A module owns named parameters ({@link Parameter}) and
 * named sub-modules; the dotted path of a parameter is its PyTorch `state_dict` name. Modules are
 * built in training mode, like PyTorch's.
 */
export abstract class Module {
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();
  private readonly ownConstants = new Map<string, ConstantValue>();
  private isTraining = true;

  /** Whether the module is in training mode (dropout and drop-path active). */
  get training(): boolean {
    return this.isTraining;
  }

  /**
   * Registers a parameter under `name` (no dot) from its initial value in OUR layout; takes
   * ownership of `value` (it becomes the variable's initial value and is disposed).
   */
  protected addParameter(name: string, value: tf.Tensor, layout: ParameterLayout = 'same'): tf.Variable {
    this.checkName(name);
    const variable = tf.variable(value, true, undefined, 'float32');
    value.dispose();
    this.ownParameters.set(name, { variable, layout });
    return variable;
  }

  /** Registers a sub-module under `name` (no dot) and returns it. */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.children.set(name, module);
    return module;
  }

  /**
   * Declares a PyTorch buffer that this module recomputes (e.g. `relative_position_index`) with
   * its value: loading a state dict that has it reports it under `ignoredConstants`, not
   * `unexpected`, and exporters write the value where PyTorch expects the buffer.
   */
  protected addConstant(name: string, value: ConstantValue): void {
    this.checkName(name);
    const size = value.shape.reduce((a, b) => a * b, 1);
    if (value.values.length !== size) {
      throw new RangeError(`constant "${name}": shape [${value.shape.join(', ')}] needs ${size} values, found ${value.values.length}`);
    }
    this.ownConstants.set(name, value);
  }

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`invalid member name "${name}": names must be non-empty and have no dot`);
    if (this.ownParameters.has(name) || this.children.has(name) || this.ownConstants.has(name)) {
      throw new Error(`member "${name}" is already registered on ${this.constructor.name}`);
    }
  }

  /** The direct sub-modules, by name. */
  namedChildren(): [string, Module][] {
    return [...this.children.entries()];
  }

  /** Every module in the tree (this one first, named `''`), depth first, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /** Every parameter of the tree with its PyTorch name, in registration order (PyTorch's order when built like PyTorch). */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, p] of this.ownParameters) out.push([join(prefix, name), p]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(join(prefix, name)));
    return out;
  }

  /** The trainable variables of the tree, in {@link namedParameters} order. */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, p]) => p.variable);
  }

  /** The trainable variables by PyTorch name. */
  namedVariables(): Map<string, tf.Variable> {
    return new Map(this.namedParameters().map(([n, p]) => [n, p.variable]));
  }

  /** The number of scalar parameters (counted from the variables' shapes). */
  parameterCount(): number {
    let n = 0;
    for (const [, p] of this.namedParameters()) n += p.variable.size;
    return n;
  }

  /** The dotted names of every declared constant (PyTorch buffers we recompute). */
  constantNames(prefix = ''): string[] {
    return [...this.namedConstants(prefix).keys()];
  }

  /** Every declared constant of the tree with its value, by dotted name. */
  namedConstants(prefix = ''): Map<string, ConstantValue> {
    const out = new Map<string, ConstantValue>();
    for (const [c, value] of this.ownConstants) out.set(join(prefix, c), value);
    for (const [name, child] of this.children) for (const [n, v] of child.namedConstants(join(prefix, name))) out.set(n, v);
    return out;
  }

  /** The PyTorch shapes of every parameter, by name (what a state dict must provide). */
  torchShapes(): Map<string, number[]> {
    return new Map(this.namedParameters().map(([n, p]) => [n, torchShapeOf(p.variable.shape, p.layout)]));
  }

  /**
   * The parameters as new tensors in PyTorch layout, by PyTorch name (the caller disposes them).
   * Constants (buffers) are not included.
   */
  stateDict(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, p] of this.namedParameters()) out.set(name, toTorchLayout(p.variable, p.layout));
    return out;
  }

  /**
   * Loads parameters from tensors in PyTorch layout keyed by PyTorch names (as read from a
   * PyTorch checkpoint or a safetensors file), converting layouts. The caller keeps ownership of
   * `tensors`. With `strict` (the default) nothing is loaded unless everything matches, and the
   * error lists every missing, unexpected and mismatched name with both shapes.
   */
  loadStateDict(
    tensors: Map<string, tf.Tensor> | Record<string, tf.Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictReport {
    const strict = options.strict ?? true;
    const given = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
    const params = new Map(this.namedParameters());
    const constants = new Set(this.constantNames());
    const report: LoadStateDictReport = { loaded: [], missing: [], unexpected: [], shapeMismatch: [], ignoredConstants: [] };
    const toLoad: [Parameter, tf.Tensor][] = [];
    for (const [name, p] of params) {
      const t = given.get(name);
      if (!t) {
        report.missing.push(name);
        continue;
      }
      const expected = torchShapeOf(p.variable.shape, p.layout);
      if (expected.length !== t.shape.length || expected.some((s, i) => s !== t.shape[i])) {
        report.shapeMismatch.push({ name, expected, found: [...t.shape] });
        continue;
      }
      toLoad.push([p, t]);
      report.loaded.push(name);
    }
    for (const name of given.keys()) {
      if (params.has(name)) continue;
      if (constants.has(name)) report.ignoredConstants.push(name);
      else report.unexpected.push(name);
    }
    if (strict && (report.missing.length || report.unexpected.length || report.shapeMismatch.length)) {
      throw new StateDictError(`loadStateDict (strict): the state dict does not match ${this.constructor.name}\n${describeReport(report)}`, report);
    }
    for (const [p, t] of toLoad) {
      tf.tidy(() => p.variable.assign(fromTorchLayout(tf.cast(t, 'float32'), p.layout)));
    }
    return report;
  }

  /** Sets training mode on the whole tree (dropout and drop-path active when true). Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.isTraining = mode;
    return this;
  }

  /** Sets evaluation mode on the whole tree. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Disposes every variable of the tree and any tensors a subclass holds ({@link disposeOwned}). */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const [, p] of m.ownParameters) p.variable.dispose();
      m.disposeOwned();
    }
  }

  /** Override to dispose constant tensors a module holds (e.g. cached index tensors). */
  protected disposeOwned(): void {
    // Nothing by default.
  }
}

/** A list of modules named `0`, `1`, … like PyTorch's `nn.ModuleList`. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }

  /** Appends a module (named by its index). */
  push(module: M): void {
    this.addModule(String(this.items.length), module);
    this.items.push(module);
  }

  /** The module at `index`. */
  at(index: number): M {
    const m = this.items[index];
    if (!m) throw new RangeError(`ModuleList index ${index} is out of range (length ${this.items.length})`);
    return m;
  }

  /** The number of modules. */
  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
