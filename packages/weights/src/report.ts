/**
 * Load reports: which checkpoint tensors fit which model parameters, computed before anything is
 * loaded, so that a partial load is always visible (SwinMM's `strict=False` loads are silent).
 *
 * @module
 */
import type { MappedStateDict, TorchStateDict } from './state-dict.js';
import type { TorchDtype } from './tensor.js';

/** What a model expects: PyTorch shapes of its parameters and names of the buffers it recomputes. */
export interface LoadTarget {
  /** Parameter name → PyTorch-layout shape (`Module.torchShapes()`). */
  shapes: ReadonlyMap<string, readonly number[]>;
  /**
   * Names of PyTorch buffers the model recomputes instead of loading (`Module.constantNames()`,
   * e.g. `relative_position_index`): matched, but reported apart from loaded parameters.
   */
  constants?: readonly string[];
}

/** A name present on both sides whose shape or dtype does not fit. */
export interface LoadMismatch {
  /** The parameter name. */
  name: string;
  /** The shape the model expects (PyTorch layout). */
  expected: number[];
  /** The shape in the checkpoint. */
  found: number[];
  /** The checkpoint dtype. */
  dtype: TorchDtype;
  /** Why it does not fit. */
  reason: 'shape' | 'dtype';
}

/** Everything a load did or would do. */
export interface WeightsLoadReport {
  /** The key mapping used. */
  mapping: string;
  /** Parameters that receive a checkpoint tensor. */
  loaded: string[];
  /** Model parameters the checkpoint lacks (left as they are). */
  missing: string[];
  /** Checkpoint keys that match no parameter or constant of the model. */
  unexpected: string[];
  /** Names on both sides that do not fit (shape or non-float dtype). */
  mismatched: LoadMismatch[];
  /**
   * Checkpoint keys that are buffers the model recomputes (e.g. the int64
   * `relative_position_index` of every Swin block): matched, not loaded.
   */
  constants: string[];
  /** `loaded + constants`: what PyTorch's `load_state_dict` would call matched keys. */
  matched: number;
  /** Loaded parameters under `swinViT.` (the backbone). */
  backboneLoaded: number;
  /** All parameters under `swinViT.` in the model. */
  backboneTotal: number;
  /** Constants under `swinViT.` that the checkpoint carried. */
  backboneConstants: number;
  /** Unexpected keys that are known pre-training heads (a subset of `unexpected`). */
  pretrainingHeads: string[];
  /** How many keys the mapping renamed. */
  renamed: number;
  /** The wrapper key the state dict was under, or null. */
  wrapper: string | null;
  /**
   * Recomputed buffers whose values in the checkpoint differ from the model's (e.g. another
   * window size); filled by `loadIntoModule`, empty otherwise.
   */
  constantMismatch: string[];
  /** True when nothing is missing, unexpected or mismatched (a strict load would succeed). */
  clean: boolean;
}

const FLOAT_DTYPES: ReadonlySet<TorchDtype> = new Set(['float32', 'float16', 'bfloat16', 'float64']);
const BACKBONE = 'swinViT.';

/**
 * Match a mapped state dict against a model, without loading anything.
 *
 * Parameters are float32 in our models: a checkpoint tensor of another float dtype is converted
 * when loaded; an integer or bool tensor under a parameter's name is a mismatch.
 */
export function planLoad(target: LoadTarget, mapped: MappedStateDict | { tensors: TorchStateDict; mapping?: string }): WeightsLoadReport {
  const sd = mapped.tensors;
  const constants = new Set(target.constants ?? []);
  const loaded: string[] = [];
  const missing: string[] = [];
  const mismatched: LoadMismatch[] = [];
  for (const [name, shape] of target.shapes) {
    const t = sd.get(name);
    if (!t) {
      missing.push(name);
      continue;
    }
    const sameShape = shape.length === t.shape.length && shape.every((s, i) => s === t.shape[i]);
    if (!sameShape || !FLOAT_DTYPES.has(t.dtype)) {
      mismatched.push({ name, expected: [...shape], found: [...t.shape], dtype: t.dtype, reason: sameShape ? 'dtype' : 'shape' });
      continue;
    }
    loaded.push(name);
  }
  const unexpected: string[] = [];
  const matchedConstants: string[] = [];
  for (const name of sd.keys()) {
    if (target.shapes.has(name)) continue;
    if (constants.has(name)) matchedConstants.push(name);
    else unexpected.push(name);
  }
  const heads = new Set('pretrainingHeads' in mapped ? mapped.pretrainingHeads : []);
  let backboneTotal = 0;
  for (const name of target.shapes.keys()) if (name.startsWith(BACKBONE)) backboneTotal++;
  return {
    mapping: mapped.mapping ?? 'plain',
    loaded,
    missing,
    unexpected,
    mismatched,
    constants: matchedConstants,
    matched: loaded.length + matchedConstants.length,
    backboneLoaded: loaded.filter((n) => n.startsWith(BACKBONE)).length,
    backboneTotal,
    backboneConstants: matchedConstants.filter((n) => n.startsWith(BACKBONE)).length,
    pretrainingHeads: unexpected.filter((n) => heads.has(n)),
    renamed: 'renamed' in mapped ? mapped.renamed.length : 0,
    wrapper: 'wrapper' in mapped ? mapped.wrapper : null,
    constantMismatch: [],
    clean: missing.length === 0 && unexpected.length === 0 && mismatched.length === 0,
  };
}

function list(names: readonly string[], max: number): string {
  const shown = names.slice(0, max).map((n) => `    ${n}`);
  if (names.length > max) shown.push(`    … and ${names.length - max} more`);
  return shown.join('\n');
}

/**
 * The report as text for people (the CLI prints it).
 *
 * @param maxNames how many names to list per category (default 20).
 */
export function formatLoadReport(r: WeightsLoadReport, maxNames = 20): string {
  const lines = [
    `key mapping: ${r.mapping}${r.wrapper ? ` (state dict under "${r.wrapper}")` : ''}; ${r.renamed} key(s) renamed`,
    `matched ${r.matched}: ${r.loaded.length} parameter(s) loaded + ${r.constants.length} recomputed buffer(s) (relative_position_index …)`,
    `backbone (swinViT.*): ${r.backboneLoaded}/${r.backboneTotal} parameter(s) loaded, ${r.backboneConstants} buffer(s) matched`,
    `missing ${r.missing.length}, unexpected ${r.unexpected.length}, mismatched ${r.mismatched.length}`,
  ];
  if (r.missing.length) lines.push(`  missing (model parameters not in the checkpoint, left as initialised):`, list(r.missing, maxNames));
  if (r.unexpected.length) {
    const note = r.pretrainingHeads.length ? ` (${r.pretrainingHeads.length} are pre-training heads, expected when fine-tuning)` : '';
    lines.push(`  unexpected (checkpoint keys the model does not have)${note}:`, list(r.unexpected, maxNames));
  }
  if (r.mismatched.length) {
    lines.push(
      '  mismatched:',
      list(
        r.mismatched.map((m) => `${m.name}: expected [${m.expected.join(', ')}] float, found [${m.found.join(', ')}] ${m.dtype}`),
        maxNames,
      ),
    );
  }
  if (r.constantMismatch.length) {
    lines.push('  recomputed buffers that differ from the model (another window size?):', list(r.constantMismatch, maxNames));
  }
  if (r.loaded.length === 0) lines.push('WARNING: no parameter was loaded (wrong --source key mapping or wrong model?)');
  return lines.join('\n');
}
