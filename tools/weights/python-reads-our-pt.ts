// Writes a torch.save file with @swinmm/weights (the real mini checkpoint re-saved, plus an int64
// tensor) and has CPython read it with stand-in torch modules (torch itself is not needed): this
// shows the pickle is valid for Python's own unpickler and names exactly the globals and
// persistent ids torch.load resolves. With torch installed, pass --torch to also torch.load it.
//
// Usage: node tools/run-ts/run-ts.cjs tools/weights/python-reads-our-pt.ts <mini.pt> [--torch]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTorchCheckpoint, writeTorchCheckpoint, PyDict, TorchTensor } from '@swinmm/weights';

const [mini, flag] = process.argv.slice(2);
if (!mini) {
  console.error('usage: node tools/run-ts/run-ts.cjs tools/weights/python-reads-our-pt.ts <mini.pt> [--torch]');
  process.exit(2);
}
const root = parseTorchCheckpoint(new Uint8Array(readFileSync(mini)), { source: mini }).root as PyDict;
root.set('extra_int64', new TorchTensor('int64', [2, 2], BigInt64Array.from([1n, -2n, 3n, 2n ** 40n])));
const dir = mkdtempSync(join(tmpdir(), 'pt-writer-'));
const file = join(dir, 'resaved.pt');
writeFileSync(file, writeTorchCheckpoint(root));
const script = `
import hashlib, pickle, struct, sys, types, zipfile
torch = types.ModuleType('torch'); utils = types.ModuleType('torch._utils'); torch._utils = utils
sys.modules['torch'] = torch; sys.modules['torch._utils'] = utils
SIZES = {}
for name, size in [('FloatStorage', 4), ('LongStorage', 8)]:
    cls = type(name, (), {}); setattr(torch, name, cls); SIZES[cls] = size
z = zipfile.ZipFile(sys.argv[1])
def rebuild(storage, offset, size, stride, requires_grad, hooks):
    cls, raw = storage
    n = 1
    for s in size: n *= s
    return {'size': size, 'stride': stride, 'sha256': hashlib.sha256(raw[offset * SIZES[cls]:(offset + n) * SIZES[cls]]).hexdigest()}
utils._rebuild_tensor_v2 = rebuild
class U(pickle.Unpickler):
    def persistent_load(self, pid):
        assert pid[0] == 'storage' and pid[3] == 'cpu', pid
        return (pid[1], z.read('archive/data/' + pid[2]))
obj = U(z.open('archive/data.pkl')).load()
print('epoch', obj['epoch'], 'best_acc', obj['best_acc'], type(obj['state_dict']).__name__)
for k, v in obj['state_dict'].items(): print(k, v['size'], v['sha256'])
print('optimizer groups', [len(g['params']) for g in obj['optimizer']['param_groups']], 'states', len(obj['optimizer']['state']))
print('extra_int64', obj['extra_int64'])
`;
try {
  console.log(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }).trim());
  if (flag === '--torch') {
    console.log(
      execFileSync('python3', ['-c', "import sys, torch; c = torch.load(sys.argv[1]); print({k: tuple(v.shape) for k, v in c['state_dict'].items()})", file], {
        encoding: 'utf8',
      }).trim(),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
