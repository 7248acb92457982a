/**
 * The `finetune` entry point shared by `npx nx run finetune:run -- --config <file>` and
 * `swinmm finetune`: read and check the configuration, train with a progress bar, print where
 * everything went.
 *
 * @module
 */
import { ConfigError, describeSchema, parseConfigArgs } from '@swinmm/appkit';
import { FINETUNE_SCHEMA, loadFinetuneConfig, resolveFinetuneConfig, type FinetuneConfig } from './config.js';
import { runFinetune, type FinetuneResult } from './train.js';
import { swinmmKit } from './model.js';

/** Where the entry point writes lines. */
export interface LineIo {
  out(line: string): void;
  err(line: string): void;
}

/** Usage text of the fine-tuning entry point. */
export function finetuneUsage(): string {
  return [
    'usage: finetune --config <file.json> [--<key> <value> ...]',
    '       finetune --preset tiny|paper --data.manifest <dataset.json> [--<key> <value> ...]',
    '',
    'Keys (dotted, as in the JSON file; command-line values win):',
    ...describeSchema(FINETUNE_SCHEMA).map((l) => `  ${l}`),
  ].join('\n');
}

/**
 * Parses `argv` (`--config FILE`, `--preset NAME`, any `--key value` override), runs fine-tuning
 * and returns the exit code (0 done, 1 failed, 2 bad configuration).
 */
export async function finetuneMain(argv: readonly string[], io: LineIo, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): Promise<{ code: number; result?: FinetuneResult }> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(finetuneUsage());
    return { code: 0 };
  }
  let config: FinetuneConfig;
  let source = 'command line';
  try {
    const { file, overrides } = parseConfigArgs(argv);
    if (file !== null) source = file;
    config = file !== null ? await loadFinetuneConfig(file, overrides) : resolveFinetuneConfig(overrides, process.cwd(), 'command line');
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      io.err("Run with --help for the keys.");
      return { code: 2 };
    }
    throw error;
  }
  io.err(`finetune: preset ${config.preset}, F ${config.model.featureSize}, ROI ${config.model.roi.join('×')}, ${config.optim.maxEpochs} epochs → ${config.output.dir}`);
  try {
    const result = await runFinetune(config, {
      kit: swinmmKit,
      source,
      progress: stream,
      onEvent: (e) => {
        if (e.type === 'data') io.err(`data: ${e.labeled} labeled, ${e.unlabeled} unlabeled, ${e.validation} validation volume(s); ${e.stepsPerEpoch} step(s) per epoch, ${e.totalSteps} in all`);
        else if (e.type === 'pretrained') io.err(`init: ${e.report.summary}`);
        else if (e.type === 'best') io.err(`\nvalidation: new best Dice ${e.dice.toFixed(4)} at epoch ${e.epoch} → ${e.path}`);
      },
    });
    io.out(`finetune: done in ${result.seconds.toFixed(0)} s; mean loss first epoch ${result.firstEpochLoss.toFixed(4)}, last epoch ${result.lastEpochLoss.toFixed(4)}`);
    if (result.best) io.out(`  best weights: ${result.best.path} (Dice ${result.best.dice.toFixed(4)}, epoch ${result.best.epoch})`);
    io.out(`  last weights: ${result.last}`);
    io.out(`  metrics:      ${result.metrics}`);
    io.out(`  loss curve:   ${result.lossCurve}`);
    return { code: 0, result };
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return { code: 2 };
    }
    throw error;
  }
}
