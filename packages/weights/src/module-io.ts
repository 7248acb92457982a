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
 * The PyTorch buffers a module recomputes (its `namedConstants()`, e.g. Swin's
 * `relative_position_index`), as PyTorch stores them (int64).
 */
export function moduleBuffers(module: Module): Map<string, SafetensorEntry> {
  const out = new Map<string, SafetensorEntry>();
  for (const [name, { shape, values }] of module.namedConstants()) {
    out.set(name, { dtype: 'I64', shape: [...shape], data: BigInt64Array.from(values, (v) => BigInt(v)) });
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
