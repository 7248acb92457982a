import {
  parseTorchCheckpoint,
  unpickle,
  standardGlobals,
  UnsafePickleError,
  PyObject,
  PyDict,
  TorchTensor,
} from '../src/index.js';
import { fixtureBytes, PickleBuilder, torchZip } from './helpers.js';

function refusal(run: () => unknown): UnsafePickleError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafePickleError);
    return error as UnsafePickleError;
  }
  throw new Error('expected an UnsafePickleError, but the pickle was accepted');
}

const checkpointOf = (pickle: Uint8Array) => () => parseTorchCheckpoint(torchZip(pickle, {}), { source: 'evil.pt' });

describe('the unpickler constructs only allow-listed globals', () => {
  // Files written by CPython's pickle module (fixtures/make_crafted.py); each would run a command
  // if loaded with Python's pickle.load / torch.load(weights_only=False).
  const cases: [file: string, global: string][] = [
    ['os_system.pkl', 'posix.system'],
    // Protocol 2 writes Python 2 module names (fix_imports): builtins → __builtin__, subprocess → commands.
    ['builtins_eval.pkl', '__builtin__.eval'],
    ['builtins_eval_py3_names.pkl', 'builtins.eval'],
    ['builtins_exec_proto4.pkl', 'builtins.exec'],
    ['subprocess_popen.pkl', 'commands.Popen'],
    ['getattr_chain.pkl', '__builtin__.getattr'],
    ['nested_in_state_dict.pkl', 'posix.system'],
    ['inst_os_system.pkl', 'os.system'],
    ['torch_load.pkl', 'torch.load'],
  ];
  for (const [file, global] of cases) {
    it(`${file}: refuses ${global} and names it`, () => {
      const err = refusal(checkpointOf(fixtureBytes(`crafted/${file}`)));
      expect(err.global).toBe(global);
      expect(err.message).toContain(`refusing to load global "${global}"`);
      expect(err.message).toContain('evil.pt');
    });
  }

  it('refuses a malicious data.pkl inside a torch.save-shaped zip', () => {
    const err = refusal(() => parseTorchCheckpoint(fixtureBytes('crafted/os_system_in_zip.pt')));
    expect(err.global).toBe('posix.system');
  });

  it('refuses at the GLOBAL opcode, before any argument is read', () => {
    // GLOBAL followed by garbage: the refusal must come first, at byte 2.
    const bytes = new PickleBuilder().proto().global('os', 'system').op(0xff, 0xff).bytes();
    const err = refusal(() => unpickle(bytes, { globals: standardGlobals(), source: 'p' }));
    expect(err.message).toContain('(byte 2)');
  });

  it('refuses globals that only look like allowed ones', () => {
    for (const [m, n] of [
      ['torch._utils', '_rebuild_tensor_v2.__globals__'],
      ['torch', 'FloatStorage.__new__'],
      ['collections', 'namedtuple'],
      ['builtins', 'getattr'],
      ['torch.serialization', 'load'],
      ['numpy', 'load'],
      ['numpy.core.multiarray', '_reconstruct'],
      ['__builtin__', 'eval'],
      ['nt', 'system'],
    ]) {
      const bytes = new PickleBuilder().proto().global(m, n).emptyTuple().reduce().stop().bytes();
      expect(refusal(checkpointOf(bytes)).global).toBe(`${m}.${n}`);
    }
  });

  it('cannot call a global that is allowed only as a value (a storage class)', () => {
    const bytes = new PickleBuilder().proto().global('torch', 'FloatStorage').emptyTuple().reduce().stop().bytes();
    expect(checkpointOf(bytes)).toThrow(/torch\.FloatStorage is allowed as a value but cannot be called/);
  });

  it('REDUCE needs a global, not data', () => {
    const bytes = new PickleBuilder().proto().str('os.system').emptyTuple().reduce().stop().bytes();
    expect(checkpointOf(bytes)).toThrow(/REDUCE expects an allowed global to call, found string/);
  });

  it('opaqueGlobals records a trusted plain-data class without running it', () => {
    // argparse.Namespace(lr=0.1) as protocol 2 pickles it: NEWOBJ on the class, then BUILD with __dict__.
    const p = new PickleBuilder().proto().emptyDict().str('args').global('argparse', 'Namespace').emptyTuple().op(0x81);
    p.emptyDict().str('lr').op(0x47, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a).op(0x73).op(0x62).op(0x73).stop();
    expect(refusal(checkpointOf(p.bytes())).global).toBe('argparse.Namespace');
    const root = parseTorchCheckpoint(torchZip(p.bytes(), {}), { opaqueGlobals: ['argparse.Namespace'] }).root as PyDict;
    const ns = root.get('args') as PyObject;
    expect(ns).toBeInstanceOf(PyObject);
    expect(ns.className).toBe('argparse.Namespace');
    expect((ns.state as PyDict).get('lr')).toBe(0.1);
  });

  it('accepts tensors built through the allowed rebuild functions', () => {
    const storage = new Float32Array([1, 2, 3, 4]);
    const p = new PickleBuilder().proto().tensor('FloatStorage', '0', 4, 0, [2, 2], [1, 2]).stop();
    const t = parseTorchCheckpoint(torchZip(p.bytes(), { '0': new Uint8Array(storage.buffer) })).root as TorchTensor;
    expect(Array.from(t.data as Float32Array)).toEqual([1, 3, 2, 4]);
  });
});
