import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseTorchCheckpoint,
  readTorchCheckpoint,
  PyDict,
  PyTuple,
  PySet,
  TorchTensor,
  TorchCheckpointError,
  extractStateDict,
  readOptimizerState,
  weightDecayGroupOrder,
  nameOptimizerState,
  tensorToFloat32,
  typedArrayBytes,
  type PyValue,
} from '../src/index.js';
import { FIXTURES, fixtureBytes, sha256Hex } from './helpers.js';

interface MetaEntry {
  key: string;
  dtype: string;
  shape: number[];
  sha256: string;
}
const meta = JSON.parse(readFileSync(join(FIXTURES, 'checkpoint-meta.json'), 'utf8'));
const miniMeta = meta.files['swinunetr_small_ddp_mini.pt'];

describe('readTorchCheckpoint on the real torch 1.13 mini checkpoint', () => {
  const bytes = fixtureBytes('swinunetr_small_ddp_mini.pt');

  it('has the bytes meta.json describes', () => {
    expect(bytes.length).toBe(miniMeta.bytes);
    expect(sha256Hex(bytes)).toBe(miniMeta.sha256);
  });

  it('reads every state_dict entry with the dtype, shape and sha256 of meta.json', async () => {
    const ckpt = await readTorchCheckpoint(join(FIXTURES, 'swinunetr_small_ddp_mini.pt'));
    expect(ckpt.archiveFolder).toBe('swinunetr_small_ddp_mini'); // the file stem in torch 1.13
    expect(ckpt.formatVersion).toBe('3');
    const root = ckpt.root as PyDict;
    expect(root).toBeInstanceOf(PyDict);
    expect(root.get('epoch')).toBe(7);
    expect(root.get('best_acc')).toBe(0.5);
    const { tensors, wrapper } = extractStateDict(root);
    expect(wrapper).toBe('state_dict');
    const entries = miniMeta.state_dict_entries as MetaEntry[];
    expect([...tensors.keys()]).toEqual(entries.map((e) => e.key));
    for (const e of entries) {
      const t = tensors.get(e.key) as TorchTensor;
      expect(t.dtype).toBe(e.dtype);
      expect([...t.shape]).toEqual(e.shape);
      expect(sha256Hex(t.data)).toBe(e.sha256);
    }
    const index = tensors.get('module.swinViT.layers1.0.blocks.0.attn.relative_position_index') as TorchTensor;
    expect(index.data).toBeInstanceOf(BigInt64Array);
    // The first row of a 7x7x7 window's index: the offset (6,6,6) → 6·169 + 6·13 + 6 = 1098.
    expect(index.data[0]).toBe(1098n);
  });

  it('reads the AdamW optimizer state with its two parameter groups', () => {
    const ckpt = parseTorchCheckpoint(bytes);
    const opt = readOptimizerState((ckpt.root as PyDict).get('optimizer'));
    const expected = miniMeta.optimizer;
    expect(opt.state.size).toBe(expected.n_state_entries);
    expect(opt.paramGroups).toHaveLength(2);
    expected.param_groups.forEach((g: { weight_decay: number; lr: number; betas: number[]; eps: number; amsgrad: boolean }, i: number) => {
      const got = opt.paramGroups[i];
      expect(got.weightDecay).toBe(g.weight_decay);
      expect(got.lr).toBe(g.lr);
      expect(got.betas).toEqual(g.betas);
      expect(got.eps).toBe(g.eps);
      expect(got.amsgrad).toBe(g.amsgrad);
      expect(got.extra.maximize).toBe(false);
    });
    expect(opt.paramGroups[0].params).toEqual([0, 1, 2]);
    expect(opt.paramGroups[1].params).toEqual([3, 4]);
    for (const s of opt.state.values()) expect(s.step).toBe(1); // one real step was taken
    // Names come from timm's decay/no-decay split over the model's parameter order.
    const { tensors } = extractStateDict(ckpt.root);
    const params = [...tensors.entries()].filter(([k]) => !k.endsWith('relative_position_index')).map(([k, t]) => [k, t.shape] as const);
    const { order } = weightDecayGroupOrder(params);
    const named = nameOptimizerState(opt, order, new Map(params));
    expect([...named.keys()].sort()).toEqual(order.slice().sort());
    const bias = named.get('module.swinViT.patch_embed.proj.bias');
    expect(bias?.expAvg.shape).toEqual([12]);
    // After one Adam step from zero moments: exp_avg = (1-β1)·g and exp_avg_sq = (1-β2)·g².
    const m = tensorToFloat32(bias!.expAvg);
    const v = tensorToFloat32(bias!.expAvgSq);
    for (let i = 0; i < m.length; i++) {
      const g = m[i] / 0.1;
      expect(v[i]).toBeCloseTo(0.001 * g * g, 9);
    }
  });
});

describe('dtypes, strides and Python values (crafted with CPython pickle, see fixtures/README.md)', () => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'crafted/dtype_zoo.expected.json'), 'utf8')).tensors as Record<
    string,
    { shape: number[]; values: (number | string)[] }
  >;
  const dtypeOf: Record<string, string> = {
    FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', LongStorage: 'int64',
    IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
  };
  const storageOf = JSON.parse(readFileSync(join(FIXTURES, 'crafted/dtype_zoo.expected.json'), 'utf8')).tensors as Record<string, { dtype: string }>;

  for (const file of ['dtype_zoo.pt', 'dtype_zoo_deflated.pt']) {
    it(`${file}: every tensor equals its numpy view`, () => {
      const ckpt = parseTorchCheckpoint(fixtureBytes(`crafted/${file}`));
      expect(ckpt.archiveFolder).toBe(file === 'dtype_zoo.pt' ? 'dtype_zoo' : 'archive');
      const sd = (ckpt.root as PyDict).get('state_dict') as PyDict;
      expect(sd.kind).toBe('OrderedDict');
      // state_dict()._metadata arrives through BUILD as instance attributes.
      const attrs = sd.attributes as PyDict;
      expect(((attrs.get('_metadata') as PyDict).get('') as PyDict).get('version')).toBe(1);
      expect([...sd.keys()]).toEqual(Object.keys(expected));
      for (const [name, exp] of Object.entries(expected)) {
        const t = sd.get(name) as TorchTensor;
        expect(t.dtype).toBe(dtypeOf[storageOf[name].dtype]);
        expect([...t.shape]).toEqual(exp.shape);
        const got = Array.from(t.data as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? x.toString() : x));
        if (t.dtype === 'float32') {
          expect(got).toEqual(exp.values.map((x) => Math.fround(x as number)));
        } else {
          expect(got).toEqual(exp.values);
        }
      }
      expect((sd.get('f32_parameter') as TorchTensor).isParameter).toBe(true);
      expect((sd.get('f32_parameter') as TorchTensor).requiresGrad).toBe(true);
      expect(tensorToFloat32(sd.get('bf16') as TorchTensor)).toEqual(Float32Array.from([1, -2, 0.5]));
      expect(Array.from(tensorToFloat32(sd.get('f16') as TorchTensor))).toEqual([1, -2, 0.5, 65504, Math.fround(5.960464477539063e-8)]);
    });
  }

  it('keeps Python numbers, strings, bytes, tuples, sets and numpy scalars', () => {
    const root = parseTorchCheckpoint(fixtureBytes('crafted/dtype_zoo.pt')).root as PyDict;
    expect(root.get('numbers')).toEqual([0, -1, 255, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 53 - 1, 2n ** 70n, -(2n ** 70n), 1.5, Infinity]);
    const nested = root.get('nested') as PyDict;
    const tuple = nested.get('tuple') as PyTuple;
    expect(tuple.items[0]).toBe(1);
    expect((tuple.items[1] as PyTuple).items).toEqual([2, 'x']);
    expect(nested.get('list')).toEqual([null, true, false]);
    expect(nested.get('text')).toBe('héllo ✓');
    expect(nested.get('bytes')).toEqual(Uint8Array.from([0, 255, 97, 98]));
    const intKeys = root.get('int_keys') as PyDict;
    expect(intKeys.get(0)).toBe('a');
    expect(intKeys.get(7)).toBe('b');
    expect((root.get('set') as PySet).items).toEqual([3]);
    expect(root.get('np_float64')).toBe(0.125);
    expect(root.get('np_int64')).toBe(-9);
  });

  it('copy: true detaches tensors from the file bytes', () => {
    const bytes = fixtureBytes('crafted/dtype_zoo.pt');
    const shared = (parseTorchCheckpoint(bytes).root as PyDict).get('state_dict') as PyDict;
    const copied = (parseTorchCheckpoint(bytes, { copy: true }).root as PyDict).get('state_dict') as PyDict;
    const a = shared.get('f32_contiguous') as TorchTensor;
    const b = copied.get('f32_contiguous') as TorchTensor;
    expect(typedArrayBytes(a.data).buffer).toBe(bytes.buffer);
    expect(typedArrayBytes(b.data).buffer).not.toBe(bytes.buffer);
    expect(Array.from(b.data as Float32Array)).toEqual(Array.from(a.data as Float32Array));
  });
});

describe('formats that are refused with instructions', () => {
  it('legacy pre-1.6 torch.save says how to re-save', () => {
    expect(() => parseTorchCheckpoint(fixtureBytes('crafted/legacy_format.pt'), { source: 'old.pt' })).toThrow(
      /old\.pt: this is the legacy \(pre-1\.6\) torch\.save format.*Re-save it with PyTorch ≥ 1\.6.*torch\.save\(torch\.load/,
    );
  });

  it('a file that is not a zip names the bytes it found', () => {
    expect(() => parseTorchCheckpoint(new TextEncoder().encode('hello world'), { source: 'x.pt' })).toThrow(
      /x\.pt: expected a torch\.save zip archive \(starting with "PK\\x03\\x04"\), found bytes 68 65 6c 6c/,
    );
    expect(() => parseTorchCheckpoint(new Uint8Array(0))).toThrow(TorchCheckpointError);
  });

  it('extractStateDict lists the keys when there is no state dict', () => {
    const root = (parseTorchCheckpoint(fixtureBytes('crafted/dtype_zoo.pt')).root as PyDict).get('nested') as PyValue;
    expect(() => extractStateDict(root, 'f.pt')).toThrow(/f\.pt: expected a state dict .* found a dict with keys "tuple", "list", "text", "bytes"/);
  });
});
