// End-to-end parity of the weights path: the real torch.save checkpoint swinunetr_small_ddp.pt
// (DDP-prefixed, with optimizer state) is read, mapped (strip "module."), loaded STRICTLY into our
// SwinUNETR with the swinunetr-small config, and run on the fixture input; the logits must equal
// PyTorch's (fixture io.safetensors "logits") within 1e-4. With ssl_small.pt it also loads the
// SwinMM pre-training checkpoint into a MONAI SwinUNETR (64³, F 12, 5 classes) and checks the
// counts of meta.json (126 matched, 33 missing, 16 unexpected).
//
// Usage: node tools/run-ts/run-ts.cjs tools/weights/swinunetr-parity.ts <swinunetr_small_ddp.pt> <swinunetr-small/io.safetensors> [ssl_small.pt] [--backend cpu|wasm]
//   Prints JSON; exit code 1 when a check fails.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@swinmm/runtime';
import { readSafetensors } from '@swinmm/nn';
import { SwinUNETR } from '@swinmm/decoder';
import { readTorchCheckpoint, mapDdpKeys, mapSwinmmPretrainKeys, loadIntoModule, formatLoadReport } from '@swinmm/weights';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const b = args.indexOf('--backend');
  const backend = b >= 0 ? args.splice(b, 2)[1] : 'cpu';
  const [ckptPath, ioPath, sslPath] = args;
  if (!ckptPath || !ioPath) {
    console.error('usage: node tools/run-ts/run-ts.cjs tools/weights/swinunetr-parity.ts <swinunetr_small_ddp.pt> <io.safetensors> [ssl_small.pt] [--backend cpu|wasm]');
    process.exit(2);
  }
  await initBackend(backend as 'cpu' | 'wasm', { log: () => {} });
  const t0 = performance.now();
  const ckpt = await readTorchCheckpoint(ckptPath);
  const model = new SwinUNETR({ imgSize: [64, 32, 64], inChannels: 1, outChannels: 3, featureSize: 12 });
  model.eval();
  const report = loadIntoModule(model, mapDdpKeys(ckpt.root, ckptPath), { strict: true, source: ckptPath });
  const loadMs = performance.now() - t0;
  const io = readSafetensors(new Uint8Array(readFileSync(ioPath)), { source: ioPath });
  const input = io.get('input')!;
  const ref = io.get('logits')!;
  const t1 = performance.now();
  const maxDiff = tf.tidy(() => {
    const x = tf.tensor(input.data as Float32Array, input.shape).transpose([0, 2, 3, 4, 1]) as tf.Tensor5D;
    const y = model.forward(x).transpose([0, 4, 1, 2, 3]);
    return tf.max(tf.abs(tf.sub(y, tf.tensor(ref.data as Float32Array, ref.shape)))).dataSync()[0];
  });
  const forwardMs = performance.now() - t1;
  let ok = maxDiff <= 1e-4;
  let ssl: Record<string, unknown> | undefined;
  if (sslPath) {
    const target = new SwinUNETR({ imgSize: 64, inChannels: 1, outChannels: 5, featureSize: 12 });
    const r = loadIntoModule(target, mapSwinmmPretrainKeys((await readTorchCheckpoint(sslPath)).root, sslPath), { strict: false });
    const sslOk = r.matched === 126 && r.missing.length === 33 && r.unexpected.length === 16 && r.pretrainingHeads.length === 16 && r.constantMismatch.length === 0;
    ok &&= sslOk;
    ssl = { ok: sslOk, expected: 'matched 126, missing 33, unexpected 16 (meta.json)', report: formatLoadReport(r, 0).split('\n') };
    target.dispose();
  }
  console.log(
    JSON.stringify(
      {
        ok,
        backend,
        report: formatLoadReport(report).split('\n'),
        constantMismatch: report.constantMismatch,
        logitsMaxAbsDiff: maxDiff,
        tolerance: 1e-4,
        readAndLoadMs: Math.round(loadMs),
        forwardMs: Math.round(forwardMs),
        ssl,
      },
      null,
      1,
    ),
  );
  model.dispose();
  process.exitCode = ok ? 0 : 1;
}
void main();
