/**
 * `swinmm finetune --config <file> [key=value …]`: SwinMM fine-tuning (SPEC.md §7) as
 * `@swinmm/finetune` runs it, with a progress bar, JSONL metrics and a loss curve.
 *
 * @module
 */
import { finetuneMain, finetuneUsage } from '@swinmm/finetune';
import { CliError, type Command } from '../command.js';

/** The finetune command. */
export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'fine-tune the SwinMM two-view segmenter (presets paper, tiny)',
  usage: '--config <file.json> [key=value …]  |  --preset tiny data.manifest=<dataset.json> [key=value …]',
  description: [
    'Overrides are dotted keys of the configuration, e.g. optim.lr=3e-4 model.roi=[32,32,32].',
    'Everything is checked before training starts. Keys:',
    ...finetuneUsage().split('\n').slice(4),
  ].join('\n'),
  options: {
    config: { type: 'string', short: 'c', description: 'configuration file (JSON)', valueName: 'FILE' },
    preset: { type: 'string', description: 'start from this preset (paper, tiny) when there is no file', valueName: 'NAME' },
  },
  async run({ positionals, values }, io) {
    const args: string[] = [];
    if (typeof values.config === 'string') args.push('--config', values.config);
    if (typeof values.preset === 'string') args.push('--preset', values.preset);
    for (const p of positionals) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new CliError(`expected key=value overrides, found "${p}"`);
      args.push(`--${p}`);
    }
    if (args.length === 0) throw new CliError('expected --config <file> or --preset <name> with data.manifest=<dataset.json>');
    const { code } = await finetuneMain(args, io);
    return code;
  },
};
