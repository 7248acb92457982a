import {
  parseTorchCheckpoint,
  writeTorchCheckpoint,
  stateDictValue,
  extractStateDict,
  readOptimizerState,
  ZipArchive,
  PyDict,
  PyTuple,
  TorchTensor,
  WeightsFormatError,
  type PyValue,
} from '../src/index.js';
import { fixtureBytes, sha256Hex } from './helpers.js';

describe('writeTorchCheckpoint', () => {
  it('re-saving the real checkpoint (state dict + optimizer) reads back bit-identical', () => {
    const original = parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root as PyDict;
    const bytes = writeTorchCheckpoint(original);
    const again = parseTorchCheckpoint(bytes).root as PyDict;
    expect(again.get('epoch')).toBe(7);
    expect(again.get('best_acc')).toBe(0.5);
    const a = extractStateDict(original).tensors;
    const b = extractStateDict(again).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) {
      const u = b.get(k)!;
      expect(u.dtype).toBe(t.dtype);
      expect(u.shape).toEqual(t.shape);
      expect(sha256Hex(u.data)).toBe(sha256Hex(t.data));
    }
    const oa = readOptimizerState(original.get('optimizer'));
    const ob = readOptimizerState(again.get('optimizer'));
    expect(ob.paramGroups).toEqual(oa.paramGroups);
    for (const [i, s] of oa.state) expect(sha256Hex(ob.state.get(i)!.expAvgSq.data)).toBe(sha256Hex(s.expAvgSq.data));
  });

  it('lays the zip out like PyTorch: archive/ folder, 64-byte aligned storages', () => {
    const t = new TorchTensor('float32', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
    const bytes = writeTorchCheckpoint(stateDictValue(new Map([['w', t]]), 'state_dict', { epoch: 3 }));
    const zip = new ZipArchive(bytes);
    expect(zip.names()).toEqual(['archive/data.pkl', 'archive/byteorder', 'archive/data/0', 'archive/version']);
    expect(zip.read('archive/data/0').byteOffset % 64).toBe(0);
    const root = parseTorchCheckpoint(bytes).root as PyDict;
    expect(root.get('epoch')).toBe(3);
    expect(Array.from(((root.get('state_dict') as PyDict).get('w') as TorchTensor).data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('writes Python values faithfully (ints, big ints, floats, tuples, nested dicts)', () => {
    const d = new PyDict();
    const values: PyValue[] = [0, 255, 256, 65536, -1, -2147483648, 2 ** 40, -(2 ** 40), 2n ** 80n, -(2n ** 80n), 0.1, -2.5, 'τ', null, true, false];
    d.set('values', values);
    d.set('tuple', new PyTuple([1, new PyTuple([])]));
    const back = parseTorchCheckpoint(writeTorchCheckpoint(d)).root as PyDict;
    expect(back.get('values')).toEqual(values);
    expect((back.get('tuple') as PyTuple).items[0]).toBe(1);
    expect(() => writeTorchCheckpoint(new Uint8Array(2))).toThrow(WeightsFormatError);
  });
});
