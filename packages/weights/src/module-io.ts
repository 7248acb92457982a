/**
 * Moving weights between checkpoints and `@swinmm/nn` modules: load a mapped PyTorch state dict
 * into a module with a full report, and export a module as a PyTorch-compatible state dict
 * (parameters in PyTorch layout plus the buffers PyTorch expects, e.g. `relative_position_index`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { writeSafetensors, type Module, type SafetensorEntry } from '@swinmm/nn';
import { WeightsFormatError } from './errors.js';
import { formatLoadReport, planLoad, type WeightsLoadReport } from './report.js';
import type { MappedStateDict, TorchStateDict } from './state-dict.js';
import { TORCH_DTYPES, TorchTensor, tensorToFloat32, type TorchDtype } from './tensor.js';

/** Raised by a strict load that does not match; `report` holds every detail. */
export class WeightsLoadError extends WeightsFormatError {
  constructor(
    message: string,
    /** What matched and what did not. */
    readonly report: WeightsLoadReport,
  ) {
    super(message);
    this.name = 'WeightsLoadError';
  }
}

/** Options for {@link loadIntoModule}. */
export interface LoadIntoModuleOptions {
  /** Refuse (and load nothing) unless every parameter matches and nothing is left over (default true). */
  strict?: boolean;
  /** Names the checkpoint in error messages. */
  source?: string;
}

/**
 * MONAI's `relative_position_index` buffer for a window `[wd, wh, ww]`: entry `(i, j)` is the
 * bias-table row of the offset between tokens i and j, `(Δd + wd−1)(2wh−1)(2ww−1) + (Δh + wh−1)(2ww−1) + (Δw + ww−1)`.
 */
export function relativePositionIndex(window: readonly [number, number, number]): BigInt64Array {
  const [wd, wh, ww] = window;
  const n = wd * wh * ww;
  const out = new BigInt64Array(n * n);
  const mh = 2 * wh - 1;
  const mw = 2 * ww - 1;
  for (let i = 0; i < n; i++) {
    const di = Math.floor(i / (wh * ww));
    const hi = Math.floor(i / ww) % wh;
    const wi = i % ww;
    for (let j = 0; j < n; j++) {
      const dj = Math.floor(j / (wh * ww));
      const hj = Math.floor(j / ww) % wh;
      const wj = j % ww;
      out[i * n + j] = BigInt((di - dj + wd - 1) * mh * mw + (hi - hj + wh - 1) * mw + (wi - wj + ww - 1));
    }
  }
  return out;
}

function isTriple(v: unknown): v is [number, number, number] {
  return Array.isArray(v) && v.length === 3 && v.every((x) => Number.isSafeInteger(x) && x > 0);
}

/**
 * The PyTorch buffers a module recomputes (its `constantNames()`), as PyTorch would store them.
 * Supported: `relative_position_index` of a module with a `windowSize` triple (Swin window
 * attention).
 *
 * @throws WeightsFormatError for a constant this package does not know how to produce.
 */
export function moduleBuffers(module: Module): Map<string, SafetensorEntry> {
  const modules = new Map(module.namedModules());
  const out = new Map<string, SafetensorEntry>();
  for (const name of module.constantNames()) {
    const dot = name.lastIndexOf('.');
    const owner = modules.get(dot < 0 ? '' : name.slice(0, dot));
    const leaf = name.slice(dot + 1);
    const windowSize = (owner as unknown as { windowSize?: unknown } | undefined)?.windowSize;
    if (leaf === 'relative_position_index' && isTriple(windowSize)) {
      const n = windowSize[0] * windowSize[1] * windowSize[2];
      out.set(name, { dtype: 'I64', shape: [n, n], data: relativePositionIndex(windowSize) });
    } else {
      throw new WeightsFormatError(`cannot produce PyTorch buffer "${name}": only relative_position_index of a module with a windowSize is known`);
    }
  }
  return out;
}

/**
 * Checks the recomputed buffers a checkpoint carries against what the module computes, and
 * returns the names that differ (a checkpoint trained with another window size would otherwise
 * load "fine" and give wrong outputs).
 */
export function checkBuffers(module: Module, tensors: TorchStateDict, names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const ours = moduleBuffers(module);
  const differ: string[] = [];
  for (const name of names) {
    const mine = ours.get(name);
    const theirs = tensors.get(name);
    if (!mine || !theirs) continue;
    const same =
      theirs.shape.length === mine.shape.length &&
      theirs.shape.every((s, i) => s === mine.shape[i]) &&
      theirs.data.length === mine.data.length &&
      (theirs.dtype === 'int64' || theirs.dtype === 'int32') &&
      theirs.data.every((v, i) => BigInt(v) === mine.data[i]);
    if (!same) differ.push(name);
  }
  return differ;
}

/**
 * Load a mapped state dict (PyTorch names and layouts) into a module.
 *
 * Everything is matched first ({@link planLoad}); a strict load that does not match throws a
 * {@link WeightsLoadError} listing every missing, unexpected and mismatched key and changes
 * nothing. Recomputed buffers in the checkpoint are compared with the module's
 * (`constantMismatch` in the report); with `strict` a difference is an error too.
 */
export function loadIntoModule(module: Module, mapped: MappedStateDict | { tensors: TorchStateDict; mapping?: string }, options: LoadIntoModuleOptions = {}): WeightsLoadReport {
  const strict = options.strict ?? true;
  const report = planLoad({ shapes: module.torchShapes(), constants: module.constantNames() }, mapped);
  report.constantMismatch = checkBuffers(module, mapped.tensors, report.constants);
  const where = options.source ? `${options.source}: ` : '';
  if (strict && (!report.clean || report.constantMismatch.length > 0)) {
    throw new WeightsLoadError(`${where}strict load into ${module.constructor.name} failed\n${formatLoadReport(report)}`, report);
  }
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const name of report.loaded) {
      const t = mapped.tensors.get(name) as TorchTensor;
      // A copy: tensorToFloat32 may return a view of the checkpoint's bytes.
      tensors.set(name, tf.tensor(Float32Array.from(tensorToFloat32(t)), [...t.shape], 'float32'));
    }
    const done = module.loadStateDict(tensors, { strict: false });
    if (done.loaded.length !== report.loaded.length) {
      throw new WeightsFormatError(`${where}internal mismatch: planned ${report.loaded.length} parameters, the module loaded ${done.loaded.length}`);
    }
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return report;
}

/** Options for {@link moduleStateDict} / {@link exportSafetensors}. */
export interface ExportOptions {
  /** Include the recomputed buffers PyTorch's `state_dict()` has (default true, so strict `load_state_dict` works in PyTorch). */
  buffers?: boolean;
}

/**
 * A module's state dict as PyTorch has it: parameters in PyTorch layout (float32) and, unless
 * `buffers: false`, the buffers PyTorch stores (after the parameters: `load_state_dict` matches
 * by name, not by order).
 */
export function moduleStateDict(module: Module, options: ExportOptions = {}): Map<string, SafetensorEntry> {
  const out = new Map<string, SafetensorEntry>();
  const sd = module.stateDict();
  try {
    for (const [name, t] of sd) out.set(name, { dtype: 'F32', shape: [...t.shape], data: t.dataSync() as Float32Array });
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  if (options.buffers ?? true) for (const [name, e] of moduleBuffers(module)) out.set(name, e);
  return out;
}

/**
 * Export a module's weights as safetensors bytes with PyTorch names and layouts (loadable with
 * `safetensors.torch.load_file` + `model.load_state_dict` in PyTorch).
 */
export function exportSafetensors(module: Module, options: ExportOptions & { metadata?: Record<string, string> } = {}): Uint8Array {
  return writeSafetensors(moduleStateDict(module, options), { metadata: { format: 'pt', ...options.metadata } });
}

const SAFETENSORS_TO_TORCH: Record<string, TorchDtype> = Object.fromEntries(
  Object.entries(TORCH_DTYPES).map(([k, v]) => [v.safetensors, k as TorchDtype]),
);

/** safetensors entries (e.g. from `readSafetensors`) as a {@link TorchStateDict}. */
export function safetensorsToStateDict(entries: Map<string, SafetensorEntry>, source = 'safetensors'): TorchStateDict {
  const out: TorchStateDict = new Map();
  for (const [name, e] of entries) {
    const dtype = SAFETENSORS_TO_TORCH[e.dtype];
    if (!dtype) throw new WeightsFormatError(`${source}: tensor "${name}" has dtype ${e.dtype}, which has no PyTorch counterpart here (unsigned > 8 bits)`);
    out.set(name, new TorchTensor(dtype, [...e.shape], e.data as TorchTensor['data']));
  }
  return out;
}

/** A {@link TorchStateDict} as safetensors entries (dtypes kept). */
export function stateDictToSafetensors(sd: TorchStateDict): Map<string, SafetensorEntry> {
  const out = new Map<string, SafetensorEntry>();
  for (const [name, t] of sd) out.set(name, { dtype: TORCH_DTYPES[t.dtype].safetensors, shape: [...t.shape], data: t.data });
  return out;
}
