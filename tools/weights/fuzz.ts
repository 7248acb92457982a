// A longer fuzz run than the test suite's 400 cases: byte mutations of the repository's
// checkpoint fixtures (CRC checks off, so the mutations reach the pickle and tensor code), each
// required to give a result or a WeightsFormatError. Prints counts; exit code 1 on any other error.
// Usage (from the repository root): node tools/run-ts/run-ts.cjs tools/weights/fuzz.ts [seed] [cases]
import { readFileSync } from 'node:fs';
import { Rng } from '@swinmm/runtime';
import { parseTorchCheckpoint, WeightsFormatError, extractStateDict, readOptimizerState, PyDict } from '@swinmm/weights';
const srcs = ['packages/weights/test/fixtures/swinunetr_small_ddp_mini.pt', 'packages/weights/test/fixtures/crafted/dtype_zoo.pt', 'packages/weights/test/fixtures/crafted/dtype_zoo_deflated.pt'].map((f) => new Uint8Array(readFileSync(f)));
const rng = Rng.fromSeed(Number(process.argv[2] ?? 1));
let ok = 0, bad = 0, crash = 0;
const t0 = Date.now();
for (let c = 0; c < Number(process.argv[3] ?? 3000); c++) {
  const src = srcs[c % 3];
  const bytes = src.slice();
  const hot = () => (rng.uniform() < 0.6 ? rng.int(0, Math.min(bytes.length, 2600)) : rng.int(Math.max(0, bytes.length - 1600), bytes.length));
  for (let k = rng.int(1, 6); k > 0; k--) bytes[hot()] = rng.int(0, 256);
  try {
    const ck = parseTorchCheckpoint(bytes, { verifyCrc: false });
    try { extractStateDict(ck.root); if (ck.root instanceof PyDict && ck.root.get('optimizer')) readOptimizerState(ck.root.get('optimizer')); } catch (e) { if (!(e instanceof WeightsFormatError)) throw e; }
    ok++;
  } catch (e) {
    if (e instanceof WeightsFormatError) bad++;
    else { crash++; console.log('CRASH case', c, String(e).slice(0, 300)); }
  }
}
console.log({ ok, bad, crash, ms: Date.now() - t0 });
process.exitCode = crash ? 1 : 0;
