// Load reports against the key lists of the two full-size reference checkpoints (meta.json holds
// every state-dict key with dtype and shape, and the results of real PyTorch load_state_dict
// calls). The tensors here are zero-filled stand-ins with those names, dtypes and shapes: the
// report logic only looks at names, shapes and dtypes. tools/weights/check-reference-checkpoints.ts
// runs the same comparison on the real files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PyDict,
  TorchTensor,
  TORCH_DTYPES,
  mapDdpKeys,
  mapPlainKeys,
  mapSwinmmPretrainKeys,
  mapSwinUnetrSslKeys,
  mapAutoKeys,
  planLoad,
  formatLoadReport,
  shapeSize,
  type TorchDtype,
} from '../src/index.js';
import { FIXTURES } from './helpers.js';

interface Entry {
  key: string;
  dtype: TorchDtype;
  shape: number[];
}
const meta = JSON.parse(readFileSync(join(FIXTURES, 'checkpoint-meta.json'), 'utf8'));

function checkpointRoot(entries: Entry[], wrapper = 'state_dict'): PyDict {
  const sd = new PyDict();
  sd.kind = 'OrderedDict';
  for (const e of entries) {
    const info = TORCH_DTYPES[e.dtype];
    const n = shapeSize(e.shape);
    sd.set(e.key, new TorchTensor(e.dtype, e.shape, info.make(new ArrayBuffer(n * info.itemSize), 0, n)));
  }
  const root = new PyDict();
  root.set('epoch', 7);
  root.set(wrapper, sd);
  return root;
}

const isIndex = (k: string) => k.endsWith('relative_position_index');

describe('swinunetr_small_ddp.pt key lists (meta.json)', () => {
  const entries = meta.files['swinunetr_small_ddp.pt'].state_dict_entries as Entry[];
  const expected = meta.expected["swinunetr_small_ddp.pt -> strip 'module.' -> strict MONAI SwinUNETR(img (64,32,64), f12, out 3)"];
  // The target: MONAI SwinUNETR's state_dict after renaming, with the index buffers as constants.
  const target = {
    shapes: new Map(entries.filter((e) => !isIndex(e.key)).map((e) => [e.key.slice('module.'.length), e.shape])),
    constants: entries.filter((e) => isIndex(e.key)).map((e) => e.key.slice('module.'.length)),
  };

  it('ddp mapping: 159/159 matched (151 parameters + 8 index buffers), nothing missing or unexpected', () => {
    const mapped = mapDdpKeys(checkpointRoot(entries));
    expect([...mapped.tensors.keys()]).toEqual(expected.keys_after_renaming);
    const r = planLoad(target, mapped);
    expect(r.matched).toBe(expected.matched);
    expect(r.loaded).toHaveLength(expected.of_which_float_params);
    expect(r.constants).toHaveLength(expected.of_which_int64_buffers);
    expect(r.missing).toEqual(expected.missing);
    expect(r.unexpected).toEqual(expected.unexpected);
    expect(r.backboneLoaded).toBe(r.loaded.filter((k) => k.startsWith('swinViT.')).length);
    expect(r.backboneLoaded).toBe(r.backboneTotal);
    expect(r.clean).toBe(true);
    expect(mapAutoKeys(checkpointRoot(entries)).mapping).toBe('ddp');
  });

  it("without stripping module. (SwinMM's --checkpoint path) nothing matches, and the report says so", () => {
    const trap = meta.expected["swinunetr_small_ddp.pt via --checkpoint path (no 'module.' strip), strict=False"];
    const r = planLoad(target, mapPlainKeys(checkpointRoot(entries)));
    expect(r.matched).toBe(trap.matched);
    expect(r.unexpected).toHaveLength(trap.n_unexpected);
    // PyTorch counts the 8 buffers as missing too; we recompute them, so they are not.
    expect([...r.missing, ...target.constants].sort()).toEqual([...trap.missing].sort());
    expect(formatLoadReport(r)).toContain('WARNING: no parameter was loaded');
  });
});

describe('ssl_small.pt into the SwinMM fine-tuning model (meta.json)', () => {
  const entries = meta.files['ssl_small.pt'].state_dict_entries as Entry[];
  const expected = meta.expected['ssl_small.pt -> WORD loader -> SwinMM fine-tune model (f12, out 5), strict=False'];
  const unexpected = new Set<string>(expected.unexpected);
  const renamed = entries.map((e) => ({ ...e, key: e.key.slice('module.'.length) }));
  // The fine-tune model's entries: every renamed key that matched, plus the 50 missing ones.
  const matchedEntries = renamed.filter((e) => !unexpected.has(e.key));
  const target = {
    shapes: new Map<string, number[]>([
      ...matchedEntries.filter((e) => !isIndex(e.key)).map((e) => [e.key, e.shape] as [string, number[]]),
      ...(expected.missing as string[]).map((k) => [k, [1]] as [string, number[]]),
    ]),
    constants: matchedEntries.filter((e) => isIndex(e.key)).map((e) => e.key),
  };

  it('126 matched (118 backbone parameters + 8 index buffers), 16 unexpected heads, 50 missing', () => {
    expect(target.shapes.size + target.constants.length).toBe(expected.model_entries);
    const mapped = mapSwinmmPretrainKeys(checkpointRoot(entries));
    expect([...mapped.tensors.keys()]).toEqual(expected.keys_after_renaming);
    const r = planLoad(target, mapped);
    expect(r.matched).toBe(expected.matched);
    expect(r.constants).toHaveLength(8);
    expect(r.loaded).toHaveLength(118);
    expect(r.loaded.every((k) => k.startsWith('swinViT.'))).toBe(true); // matched = every swinViT.* entry
    expect(r.backboneLoaded).toBe(118);
    expect(r.backboneConstants).toBe(8);
    expect(r.unexpected).toEqual(expected.unexpected);
    expect(r.pretrainingHeads).toEqual(expected.unexpected);
    expect(r.missing).toEqual(expected.missing);
    expect(r.clean).toBe(false);
    const text = formatLoadReport(r);
    expect(text).toContain('matched 126: 118 parameter(s) loaded + 8 recomputed buffer(s)');
    expect(text).toContain('(16 are pre-training heads, expected when fine-tuning)');
    expect(mapAutoKeys(checkpointRoot(entries)).mapping).toBe('swinmm-pretrain');
  });

  it('the original Swin UNETR SSL layouts (swin_vit.* or bare backbone keys) map to the same names', () => {
    const asSwinVit = entries.map((e) => ({ ...e, key: e.key.replace('module.swinViT.', 'module.swin_vit.') }));
    const viaRename = mapSwinmmPretrainKeys(checkpointRoot(asSwinVit));
    expect([...viaRename.tensors.keys()]).toEqual(expected.keys_after_renaming);
    const bare = entries.map((e) => ({ ...e, key: e.key.replace('module.swinViT.', 'module.') }));
    const viaBare = mapSwinUnetrSslKeys(checkpointRoot(bare));
    expect([...viaBare.tensors.keys()]).toEqual(expected.keys_after_renaming);
    expect(planLoad(target, viaBare).matched).toBe(126);
    expect(mapAutoKeys(checkpointRoot(bare)).mapping).toBe('swinunetr-ssl');
  });

  it('the state dict may sit under "model" or at the top level', () => {
    expect(mapSwinmmPretrainKeys(checkpointRoot(entries, 'model')).wrapper).toBe('model');
    const top = checkpointRoot(entries).get('state_dict') as PyDict;
    expect(mapSwinmmPretrainKeys(top).wrapper).toBeNull();
  });
});
