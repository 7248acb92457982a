// Checks @swinmm/weights against the full-size reference checkpoints, which are too large for the
// repository: every state-dict entry (dtype, shape, sha256), the AdamW optimizer summary, and the
// key-mapping / load-report results that real PyTorch load_state_dict calls gave (meta.json).
//
// Usage: node tools/run-ts/run-ts.cjs tools/weights/check-reference-checkpoints.ts <checkpoint dir> [weights.safetensors]
//   <checkpoint dir> holds meta.json, swinunetr_small_ddp.pt, ssl_small.pt (and the mini file),
//   e.g. the project's fixtures/checkpoint folder; the optional weights.safetensors is the
//   swinunetr-small fixture's, which must equal the checkpoint's 151 float parameters bit for bit.
//   Prints one JSON report; exit code 1 on any failure.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '@swinmm/nn';
import {
  parseTorchCheckpoint,
  extractStateDict,
  mapDdpKeys,
  mapPlainKeys,
  mapSwinmmPretrainKeys,
  planLoad,
  formatLoadReport,
  readOptimizerState,
  weightDecayGroupOrder,
  nameOptimizerState,
  PyDict,
  type TorchTensor,
} from '@swinmm/weights';

interface Entry {
  key: string;
  dtype: string;
  shape: number[];
  sha256: string;
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tools/run-ts/run-ts.cjs tools/weights/check-reference-checkpoints.ts <checkpoint dir>');
  process.exit(2);
}
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const failures: string[] = [];
const check = (ok: boolean, what: string): void => {
  if (!ok) failures.push(what);
};
const sha = (b: ArrayBufferView): string => createHash('sha256').update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).digest('hex');
const isIndex = (k: string): boolean => k.endsWith('relative_position_index');
const results: Record<string, unknown> = {};

for (const [name, info] of Object.entries<{ bytes: number; sha256: string; state_dict_entries: Entry[]; optimizer: Record<string, unknown> }>(meta.files)) {
  const file = join(dir, name);
  const buf = readFileSync(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  check(bytes.length === info.bytes, `${name}: ${bytes.length} bytes, meta.json says ${info.bytes}`);
  check(sha(bytes) === info.sha256, `${name}: sha256 differs from meta.json`);
  const t0 = performance.now();
  const ckpt = parseTorchCheckpoint(bytes, { source: file });
  const parseMs = performance.now() - t0;
  const { tensors } = extractStateDict(ckpt.root, file);
  const keys = [...tensors.keys()];
  check(JSON.stringify(keys) === JSON.stringify(info.state_dict_entries.map((e) => e.key)), `${name}: state-dict keys/order differ from meta.json`);
  let entriesOk = 0;
  for (const e of info.state_dict_entries) {
    const t = tensors.get(e.key) as TorchTensor | undefined;
    const ok = !!t && t.dtype === e.dtype && JSON.stringify(t.shape) === JSON.stringify(e.shape) && sha(t.data) === e.sha256;
    check(ok, `${name}: entry ${e.key} differs (dtype/shape/sha256)`);
    if (ok) entriesOk++;
  }
  const summary = (info.optimizer.summary ?? info.optimizer) as { n_state_entries: number; state_keys_per_param: string[]; param_groups: Record<string, unknown>[] };
  const opt = readOptimizerState((ckpt.root as PyDict).get('optimizer'), `${file}: optimizer`);
  check(opt.state.size === summary.n_state_entries, `${name}: optimizer has ${opt.state.size} state entries, meta.json ${summary.n_state_entries}`);
  summary.param_groups.forEach((g, i) => {
    const got = opt.paramGroups[i];
    const count = Number(/^(\d+) indices/.exec(String(g.params))?.[1]);
    check(!!got && got.lr === g.lr && got.weightDecay === g.weight_decay && got.eps === g.eps && JSON.stringify(got.betas) === JSON.stringify(g.betas), `${name}: param group ${i} hyper-parameters differ`);
    check(!!got && got.params.length === count, `${name}: param group ${i} has ${got?.params.length} params, meta.json ${count}`);
  });
  // Name the moments (timm's no-decay/decay order) and check every moment has its parameter's shape.
  const params = info.state_dict_entries.filter((e) => !isIndex(e.key)).map((e) => [e.key, e.shape] as const);
  const { order, noDecay } = weightDecayGroupOrder(params);
  check(noDecay.length === opt.paramGroups[0]?.params.length, `${name}: the no-decay rule gives ${noDecay.length} params, group 0 has ${opt.paramGroups[0]?.params.length}`);
  let namedOk = true;
  try {
    nameOptimizerState(opt, order, new Map(params.map(([k, s]) => [k, s])));
  } catch (error) {
    namedOk = false;
    failures.push(`${name}: ${(error as Error).message}`);
  }
  const steps = [...new Set([...opt.state.values()].map((s) => s.step))];
  results[name] = {
    bytes: bytes.length,
    parseMs: Math.round(parseMs),
    archiveFolder: ckpt.archiveFolder,
    entries: `${entriesOk}/${info.state_dict_entries.length} match dtype, shape and sha256`,
    optimizer: { states: opt.state.size, groups: opt.paramGroups.map((g) => g.params.length), steps, momentsNamedByShape: namedOk },
    info: Object.fromEntries([...(ckpt.root as PyDict)].filter(([, v]) => typeof v === 'number')),
  };
}

// Loader results of meta.json "expected".
{
  const ddpEntries = meta.files['swinunetr_small_ddp.pt'].state_dict_entries as Entry[];
  const root = parseTorchCheckpoint(new Uint8Array(readFileSync(join(dir, 'swinunetr_small_ddp.pt'))), { source: 'swinunetr_small_ddp.pt' }).root;
  const target = {
    shapes: new Map(ddpEntries.filter((e) => !isIndex(e.key)).map((e) => [e.key.slice(7), e.shape])),
    constants: ddpEntries.filter((e) => isIndex(e.key)).map((e) => e.key.slice(7)),
  };
  const exp = meta.expected["swinunetr_small_ddp.pt -> strip 'module.' -> strict MONAI SwinUNETR(img (64,32,64), f12, out 3)"];
  const r = planLoad(target, mapDdpKeys(root));
  check(r.matched === exp.matched && r.loaded.length === exp.of_which_float_params && r.constants.length === exp.of_which_int64_buffers && r.clean, 'ddp: report differs from meta.json');
  const trap = planLoad(target, mapPlainKeys(root));
  check(trap.matched === 0 && trap.unexpected.length === 159, 'ddp without stripping: expected 0 matched, 159 unexpected');
  const weightsFile = process.argv[3];
  if (weightsFile) {
    const ref = readSafetensors(new Uint8Array(readFileSync(weightsFile)), { source: weightsFile });
    const mapped = mapDdpKeys(root).tensors;
    let same = 0;
    for (const [k, e] of ref) {
      const t = mapped.get(k);
      const ok = !!t && t.dtype === 'float32' && JSON.stringify(t.shape) === JSON.stringify(e.shape) && sha(t.data) === sha(e.data);
      check(ok, `weights.safetensors: ${k} differs from the checkpoint's tensor`);
      if (ok) same++;
    }
    results['weights.safetensors vs swinunetr_small_ddp.pt'] = `${same}/${ref.size} parameters bit-identical`;
  }
  results['swinunetr_small_ddp.pt -> ddp mapping'] = { matched: r.matched, loaded: r.loaded.length, buffers: r.constants.length, missing: r.missing.length, unexpected: r.unexpected.length, backbone: `${r.backboneLoaded}/${r.backboneTotal}` };

  const sslEntries = meta.files['ssl_small.pt'].state_dict_entries as Entry[];
  const sslRoot = parseTorchCheckpoint(new Uint8Array(readFileSync(join(dir, 'ssl_small.pt'))), { source: 'ssl_small.pt' }).root;
  const e = meta.expected['ssl_small.pt -> WORD loader -> SwinMM fine-tune model (f12, out 5), strict=False'];
  const unexpected = new Set<string>(e.unexpected);
  const matched = sslEntries.map((x) => ({ ...x, key: x.key.slice(7) })).filter((x) => !unexpected.has(x.key));
  const sslTarget = {
    shapes: new Map<string, number[]>([...matched.filter((x) => !isIndex(x.key)).map((x) => [x.key, x.shape] as [string, number[]]), ...(e.missing as string[]).map((k) => [k, [1]] as [string, number[]])]),
    constants: matched.filter((x) => isIndex(x.key)).map((x) => x.key),
  };
  const mapped = mapSwinmmPretrainKeys(sslRoot);
  check(JSON.stringify([...mapped.tensors.keys()]) === JSON.stringify(e.keys_after_renaming), 'ssl: keys after renaming differ');
  const s = planLoad(sslTarget, mapped);
  check(s.matched === e.matched && s.constants.length === 8, `ssl: matched ${s.matched} (${s.constants.length} buffers), expected ${e.matched} incl. 8 buffers`);
  check(JSON.stringify(s.unexpected) === JSON.stringify(e.unexpected), 'ssl: unexpected list differs');
  check(JSON.stringify(s.missing) === JSON.stringify(e.missing), 'ssl: missing list differs');
  results['ssl_small.pt -> swinmm-pretrain mapping -> fine-tune model'] = { report: formatLoadReport(s, 3).split('\n') };
}

console.log(JSON.stringify({ ok: failures.length === 0, failures, results }, null, 1));
process.exitCode = failures.length === 0 ? 0 : 1;
