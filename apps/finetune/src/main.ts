// Entry point of `npx nx run finetune:run -- --config <file>` (run from the sources by
// tools/run-ts/run-ts.cjs, no build needed).
import { finetuneMain } from './run.js';

finetuneMain(process.argv.slice(2), { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }).then(
  ({ code }) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`finetune: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
