/**
 * Finding the state dict inside a checkpoint, and the key mappings of the checkpoint sources that
 * SwinMM / Swin UNETR users have (SPEC.md §7.7, fixture README §3.6). One mapping function per
 * source; each says what it renamed, so that nothing happens silently.
 *
 * @module
 */
import { TorchCheckpointError } from './errors.js';
import { PyDict, pyTypeName, type PyValue } from './pickle.js';
import { TorchTensor } from './tensor.js';

/** A state dict: PyTorch parameter name → tensor (PyTorch layout), in file order. */
export type TorchStateDict = Map<string, TorchTensor>;

/** The keys under which training scripts wrap their state dicts, tried in this order. */
export const STATE_DICT_WRAPPERS = ['state_dict', 'model', 'model_state_dict', 'net', 'network', 'module'] as const;

/** Where a state dict was found and what was skipped on the way. */
export interface ExtractedStateDict {
  /** The tensors, keyed as in the file. */
  tensors: TorchStateDict;
  /** The wrapper key the state dict was under (`state_dict`, `model`, …), or null at top level. */
  wrapper: string | null;
  /** Keys of the state dict whose values were not tensors (e.g. `_extra_state`); not loaded. */
  nonTensorKeys: string[];
}

/** A plain `Map` of tensors (e.g. from a safetensors file) as the dict a pickle would give. */
function asPyValue(input: PyValue | TorchStateDict): PyValue {
  if (!(input instanceof Map) || input instanceof PyDict) return input as PyValue;
  const d = new PyDict();
  for (const [k, v] of input) d.set(k, v);
  return d;
}

function isTensorDict(v: PyValue): v is PyDict {
  if (!(v instanceof PyDict) || v.size === 0) return false;
  for (const x of v.values()) if (x instanceof TorchTensor) return true;
  return false;
}

/**
 * The state dict of a checkpoint: the top-level object when it is a dict of tensors, else the
 * first of {@link STATE_DICT_WRAPPERS} that holds one.
 *
 * @param source names the file in error messages.
 * @throws TorchCheckpointError when no dict of tensors is found (the message lists the top-level keys).
 */
export function extractStateDict(
  input: PyValue | TorchStateDict,
  source = 'checkpoint',
  wrappers: readonly string[] = STATE_DICT_WRAPPERS,
): ExtractedStateDict {
  const root = asPyValue(input);
  let dict: PyDict | undefined;
  let wrapper: string | null = null;
  if (isTensorDict(root)) {
    dict = root;
  } else if (root instanceof PyDict) {
    for (const w of wrappers) {
      const v = root.get(w);
      if (v !== undefined && isTensorDict(v)) {
        dict = v;
        wrapper = w;
        break;
      }
    }
  }
  if (!dict) {
    const keys = root instanceof PyDict ? [...root.keys()].map((k) => (typeof k === 'string' ? JSON.stringify(k) : pyTypeName(k))).join(', ') : '';
    throw new TorchCheckpointError(
      `${source}: expected a state dict (a dict of tensors) at the top level or under one of ${wrappers.map((w) => `"${w}"`).join(', ')}; ` +
        (root instanceof PyDict ? `found a ${root.kind} with keys ${keys || '(none)'}` : `found ${pyTypeName(root)}`),
    );
  }
  const tensors: TorchStateDict = new Map();
  const nonTensorKeys: string[] = [];
  for (const [k, v] of dict) {
    if (typeof k !== 'string') throw new TorchCheckpointError(`${source}: state dict key of type ${pyTypeName(k)}; expected strings`);
    if (v instanceof TorchTensor) tensors.set(k, v);
    else nonTensorKeys.push(k);
  }
  return { tensors, wrapper, nonTensorKeys };
}

/** A rename made by a key mapping. */
export interface KeyRename {
  /** The key in the file. */
  from: string;
  /** The key after mapping. */
  to: string;
}

/** The result of a key mapping. */
export interface MappedStateDict {
  /** The tensors under their mapped (our = PyTorch module) names. */
  tensors: TorchStateDict;
  /** The mapping that produced it (a {@link CheckpointSource}). */
  mapping: CheckpointSource;
  /** The wrapper key the state dict came from, or null. */
  wrapper: string | null;
  /** Every key that was changed. */
  renamed: KeyRename[];
  /**
   * Keys (after mapping) of pre-training heads that a segmentation model never has
   * (`rotation_head`, `contrastive_head`, `conv.*` of SwinMM/Swin UNETR SSL); they still count
   * as unexpected when loading, but the report can say why.
   */
  pretrainingHeads: string[];
  /** State-dict keys whose values were not tensors. */
  nonTensorKeys: string[];
}

/** The checkpoint sources with a key mapping. */
export type CheckpointSource = 'plain' | 'ddp' | 'swinmm-pretrain' | 'swinunetr-ssl' | 'auto';

/** Regex of SwinMM / Swin UNETR SSL pre-training heads (after `module.` is stripped). */
const PRETRAINING_HEAD = /^(rotation_head|contrastive_head|conv)\./;

function renameAll(sd: TorchStateDict, f: (k: string) => string, renamed: KeyRename[], source: string): TorchStateDict {
  const out: TorchStateDict = new Map();
  for (const [k, v] of sd) {
    const to = f(k);
    if (out.has(to)) throw new TorchCheckpointError(`${source}: key mapping sends two keys to "${to}" (one of them "${k}")`);
    if (to !== k) renamed.push({ from: k, to });
    out.set(to, v);
  }
  return out;
}

const stripModule = (k: string): string => (k.startsWith('module.') ? k.slice('module.'.length) : k);

/**
 * `plain`: the state dict as stored (our own exports, `model.state_dict()` saved without DDP).
 */
export function mapPlainKeys(root: PyValue | TorchStateDict, source = 'checkpoint'): MappedStateDict {
  const { tensors, wrapper, nonTensorKeys } = extractStateDict(root, source);
  return { tensors, mapping: 'plain', wrapper, renamed: [], pretrainingHeads: [], nonTensorKeys };
}

/**
 * `ddp`: a model saved while wrapped in DistributedDataParallel (`module.` before every key), as
 * SwinMM's fine-tuning (`{epoch, best_acc, state_dict, optimizer, scheduler}`) and MONAI's
 * tutorials write. Strips `module.` (SwinMM's `--checkpoint` path does not, and silently loads
 * nothing: meta.json's "trap").
 */
export function mapDdpKeys(root: PyValue | TorchStateDict, source = 'checkpoint'): MappedStateDict {
  const { tensors, wrapper, nonTensorKeys } = extractStateDict(root, source);
  const renamed: KeyRename[] = [];
  const out = renameAll(tensors, stripModule, renamed, source);
  return { tensors: out, mapping: 'ddp', wrapper, renamed, pretrainingHeads: [], nonTensorKeys };
}

/**
 * `swinmm-pretrain`: a SwinMM pre-training checkpoint (`{global_step, state_dict, optimizer}` of
 * the DDP-wrapped SSLHead): strips `module.`, renames `swin_vit` → `swinViT` (what
 * `WORD/main.py --use_ssl_pretrained` does; a no-op for SwinMM's own files) and marks the
 * pre-training heads, which a fine-tuning model does not have.
 */
export function mapSwinmmPretrainKeys(root: PyValue | TorchStateDict, source = 'checkpoint'): MappedStateDict {
  const { tensors, wrapper, nonTensorKeys } = extractStateDict(root, source);
  const renamed: KeyRename[] = [];
  const out = renameAll(tensors, (k) => stripModule(k).replace('swin_vit', 'swinViT'), renamed, source);
  const pretrainingHeads = [...out.keys()].filter((k) => PRETRAINING_HEAD.test(k));
  return { tensors: out, mapping: 'swinmm-pretrain', wrapper, renamed, pretrainingHeads, nonTensorKeys };
}

/**
 * `swinunetr-ssl`: the original Swin UNETR self-supervised checkpoint (`model_swinvit.pt`), whose
 * backbone keys are either `swin_vit.*` or bare (`patch_embed.*`, `layers1.*`, what MONAI's
 * `SwinUNETR.load_from` reads): strips `module.`, renames `swin_vit` → `swinViT`, puts bare
 * backbone keys under `swinViT.` and marks the pre-training heads.
 */
export function mapSwinUnetrSslKeys(root: PyValue | TorchStateDict, source = 'checkpoint'): MappedStateDict {
  const { tensors, wrapper, nonTensorKeys } = extractStateDict(root, source);
  const renamed: KeyRename[] = [];
  const bareBackbone = /^(patch_embed|layers[1-4]|norm)\./;
  const out = renameAll(
    tensors,
    (k) => {
      const s = stripModule(k).replace('swin_vit', 'swinViT');
      return bareBackbone.test(s) ? `swinViT.${s}` : s;
    },
    renamed,
    source,
  );
  const pretrainingHeads = [...out.keys()].filter((k) => PRETRAINING_HEAD.test(k));
  return { tensors: out, mapping: 'swinunetr-ssl', wrapper, renamed, pretrainingHeads, nonTensorKeys };
}

/**
 * `auto`: picks a mapping from the keys: pre-training heads or `swin_vit` → `swinmm-pretrain`
 * (`swinunetr-ssl` when backbone keys are bare), a `module.` prefix → `ddp`, else `plain`.
 * The chosen mapping is reported in {@link MappedStateDict.mapping}.
 */
export function mapAutoKeys(root: PyValue | TorchStateDict, source = 'checkpoint'): MappedStateDict {
  const { tensors } = extractStateDict(root, source);
  const keys = [...tensors.keys()].map(stripModule);
  if (keys.some((k) => /^(patch_embed|layers[1-4])\./.test(k))) return mapSwinUnetrSslKeys(root, source);
  if (keys.some((k) => PRETRAINING_HEAD.test(k) || k.startsWith('swin_vit.'))) return mapSwinmmPretrainKeys(root, source);
  if ([...tensors.keys()].some((k) => k.startsWith('module.'))) return mapDdpKeys(root, source);
  return mapPlainKeys(root, source);
}

/** The mapping function of each {@link CheckpointSource}. */
export const KEY_MAPPINGS: Readonly<Record<CheckpointSource, (root: PyValue | TorchStateDict, source?: string) => MappedStateDict>> = {
  plain: mapPlainKeys,
  ddp: mapDdpKeys,
  'swinmm-pretrain': mapSwinmmPretrainKeys,
  'swinunetr-ssl': mapSwinUnetrSslKeys,
  auto: mapAutoKeys,
};
