/**
 * The command line of `swinmm pretrain` / `nx run pretrain:run`: `--config <file>` or
 * `--preset paper|tiny`, plus `--key.sub value` overrides; `--help` lists every key.
 *
 * @module
 */
import { ConfigError, describeSchema, parseConfigArgs } from '@swinmm/appkit';
import { lastValueFrom } from 'rxjs';
import { PRETRAIN_LIST_KEYS, PRETRAIN_SCHEMA, loadPretrainConfig, resolvePretrainConfig, type PretrainConfig } from './config.js';
import { runPretraining } from './run.js';

/** The help text. */
export function pretrainHelp(): string {
  return [
    'usage: swinmm pretrain (--config <file.json> | --preset paper|tiny) [--key.sub value …]',
    '',
    'SwinMM masked multi-view pre-training of the Swin-ViT encoder (rotation, contrastive,',
    'reconstruction and mutual losses). Writes config.json, metrics.jsonl, loss.svg, checkpoints/',
    'and ssl_head.safetensors to output.dir. Resume with --resume <checkpoint>.',
    '',
    'configuration keys:',
    ...describeSchema(PRETRAIN_SCHEMA).map((l) => `  ${l}`),
    ...Object.entries(PRETRAIN_LIST_KEYS).map(([k, d]) => `  ${k}  ${d}`),
  ].join('\n');
}

/** Parses the arguments into a validated configuration (throws {@link ConfigError} naming keys). */
export async function configFromArgs(args: readonly string[], cwd = process.cwd()): Promise<PretrainConfig> {
  const { file, overrides } = parseConfigArgs(args);
  if (file === null && overrides.preset === undefined) throw new ConfigError('command line', ['--config <file> or --preset paper|tiny is required']);
  return file !== null ? loadPretrainConfig(file, overrides) : resolvePretrainConfig(overrides, cwd, 'command line');
}

/** Runs the command; returns the process exit code. */
export async function pretrainMain(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(pretrainHelp() + '\n');
    return 0;
  }
  let config: PretrainConfig;
  try {
    config = await configFromArgs(args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  try {
    await lastValueFrom(runPretraining(config, { log: (l) => process.stderr.write(l + '\n') }), { defaultValue: null });
    process.stderr.write(`run folder: ${config.output.dir}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err)}\n`);
    return err instanceof ConfigError ? 2 : 1;
  }
}
