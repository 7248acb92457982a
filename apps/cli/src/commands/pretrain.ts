/**
 * `swinmm pretrain (--config <file> | --preset tiny|paper)`: SwinMM masked multi-view
 * pre-training (the `@swinmm/pretrain` app): progress bar, metrics.jsonl, loss.svg, resumable
 * checkpoints and the final `ssl_head.safetensors` in the run folder.
 *
 * @module
 */
import { lastValueFrom } from 'rxjs';
import { ConfigError } from '@swinmm/appkit';
import { configFromArgs, runPretraining } from '@swinmm/pretrain';
import { CliError, type Command } from '../command.js';

/** The pretrain command. */
export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'SwinMM masked multi-view pre-training of the Swin-ViT encoder (presets paper, tiny)',
  usage: '(--config <file.json> | --preset paper|tiny) [--steps N] [--out DIR] [--resume FILE] [--backend NAME] [--seed N]',
  description: [
    'Settings come from the preset (or the file, which names its own preset) with these options on top;',
    'every key is validated before any data is read (see apps/pretrain/README.md for the keys).',
    'Writes config.json, metrics.jsonl, loss.svg, checkpoints/ and ssl_head.safetensors to the run folder.',
  ].join('\n'),
  options: {
    config: { type: 'string', short: 'c', description: 'a JSON configuration file', valueName: 'FILE' },
    preset: { type: 'string', description: 'start from this preset when no file is given', valueName: 'paper|tiny' },
    steps: { type: 'string', description: 'optimizer steps (optim.steps)', valueName: 'N' },
    out: { type: 'string', short: 'o', description: 'run folder (output.dir)', valueName: 'DIR' },
    resume: { type: 'string', description: 'a checkpoint to continue from', valueName: 'FILE' },
    backend: { type: 'string', description: 'auto, cpu, wasm, webgpu or tensorflow', valueName: 'NAME' },
    seed: { type: 'string', description: 'seed of every random choice', valueName: 'N' },
  },
  async run({ positionals, values }, io) {
    if (positionals.length > 0) throw new CliError(`unexpected argument(s): ${positionals.join(' ')}`);
    const args: string[] = [];
    if (typeof values.config === 'string') args.push('--config', values.config);
    if (typeof values.preset === 'string') args.push('--preset', values.preset);
    const keys: Record<string, string> = { steps: 'optim.steps', out: 'output.dir', resume: 'resume', backend: 'backend', seed: 'seed' };
    for (const [option, key] of Object.entries(keys)) {
      const v = values[option];
      if (typeof v === 'string') args.push(`--${key}`, option === 'steps' || option === 'seed' ? v : JSON.stringify(v));
    }
    let config;
    try {
      config = await configFromArgs(args);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message);
      throw error;
    }
    await lastValueFrom(runPretraining(config, { log: (line) => io.err(line) }), { defaultValue: null });
    io.out(`run folder: ${config.output.dir}`);
    return 0;
  },
};
