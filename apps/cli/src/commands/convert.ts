/**
 * `swinmm convert <in.pt|in.safetensors> <out.safetensors|out.pt>`: read a PyTorch checkpoint
 * safely, map its keys for its source, optionally check it against a model, print the load
 * report and write safetensors (or a torch.save file) with PyTorch names and layouts.
 *
 * @module
 */
import { initBackend } from '@swinmm/runtime';
import { KEY_MAPPINGS, convertCheckpoint, formatLoadReport, type CheckpointSource } from '@swinmm/weights';
import { CliError, type Command } from '../command.js';
import { MODELS, createModel, type ModelRegistry } from '../models.js';

/** The convert command, with the model registry it resolves `--model` in. */
export function makeConvertCommand(registry: ModelRegistry = MODELS): Command {
  return {
    name: 'convert',
    summary: 'convert a PyTorch checkpoint (.pt) or safetensors file to safetensors (or back to .pt), with a load report',
    usage: '<in.pt|in.safetensors> <out.safetensors|out.pt> [--source auto|ddp|swinmm-pretrain|swinunetr-ssl|plain] [--model NAME|config.json] [--strict]',
    description: [
      'The checkpoint is read without Python and without running any code from it (only tensors and',
      'plain containers are accepted). Keys are mapped for their source: "ddp" strips the "module."',
      'prefix of DistributedDataParallel; "swinmm-pretrain" also renames swin_vit -> swinViT and marks',
      'the pre-training heads; "auto" picks from the keys. With --model the weights are checked',
      'against the model (names, shapes, recomputed buffers) and only what it uses is written.',
      'An output ending in .pt/.pth is written in the torch.save zip format (torch.load reads it).',
    ].join('\n'),
    options: {
      source: { type: 'string', description: `key mapping (${Object.keys(KEY_MAPPINGS).join(', ')})`, valueName: 'MAPPING', default: 'auto' },
      model: {
        type: 'string',
        description: `check against this model: a preset (${registry.presets.map((p) => p.name).join(', ') || 'none'}) or a JSON config {"model": "${registry.kinds.map((k) => k.kind).join('|') || 'kind'}", …}`,
        valueName: 'NAME|FILE',
      },
      strict: { type: 'boolean', description: 'with --model: fail unless every parameter matches and nothing is left over' },
      'allow-global': { type: 'string', description: 'comma-separated extra globals to accept as inert data (e.g. argparse.Namespace)', valueName: 'LIST' },
      wrap: { type: 'string', description: 'for .pt output: store the state dict under this key (e.g. state_dict, as SwinMM loaders expect)', valueName: 'KEY' },
      quiet: { type: 'boolean', short: 'q', description: 'print only errors' },
    },
    async run({ positionals, values }, io) {
      if (positionals.length !== 2) {
        throw new CliError(`expected <in> and <out> paths, found ${positionals.length} argument(s)${positionals.length ? `: ${positionals.join(' ')}` : ''}`);
      }
      const [input, output] = positionals;
      if (!/\.(safetensors|pt|pth)$/.test(output)) throw new CliError(`the output must end with .safetensors, .pt or .pth, found "${output}"`);
      if (values.wrap !== undefined && output.endsWith('.safetensors')) throw new CliError('--wrap applies to .pt/.pth outputs only');
      const source = String(values.source ?? 'auto');
      if (!(source in KEY_MAPPINGS)) throw new CliError(`--source ${source}: expected one of ${Object.keys(KEY_MAPPINGS).join(', ')}`);
      if (values.strict && !values.model) throw new CliError('--strict needs --model (strictness is about matching a model)');
      // Loading is tensor copies only: the portable cpu backend is enough.
      if (values.model) await initBackend('cpu', { log: () => {} });
      const model = values.model ? await createModel(String(values.model), registry) : undefined;
      try {
        const result = await convertCheckpoint(input, output, {
          source: source as CheckpointSource,
          model: model?.model,
          strict: Boolean(values.strict),
          wrapper: typeof values.wrap === 'string' ? values.wrap : undefined,
          opaqueGlobals: typeof values['allow-global'] === 'string' ? values['allow-global'].split(',').filter(Boolean) : undefined,
        });
        if (!values.quiet) {
          const f = result.input;
          io.out(`read ${input} (${f.format}${Object.keys(f.info).length ? `; ${Object.entries(f.info).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''})`);
          io.out(`key mapping: ${f.mapped.mapping}; ${f.mapped.tensors.size} tensor(s); ${f.mapped.renamed.length} renamed${f.mapped.wrapper ? `; state dict under "${f.mapped.wrapper}"` : ''}`);
          if (f.optimizer) {
            const groups = f.optimizer.paramGroups.map((g) => `${g.params.length} params lr ${g.lr} wd ${g.weightDecay}`).join('; ');
            io.out(`optimizer: state for ${f.optimizer.state.size} parameter(s), ${f.optimizer.paramGroups.length} group(s) [${groups}] (not written to the output)`);
          } else if (f.optimizerError) {
            io.out(`optimizer: present but not Adam-like (${f.optimizerError})`);
          }
          if (result.report) io.out(formatLoadReport(result.report));
          io.out(`wrote ${output}: ${result.written.length} tensor(s), ${result.bytes} bytes`);
        }
        return 0;
      } finally {
        model?.model.dispose();
      }
    },
  };
}

/** `swinmm convert` with the built-in models. */
export const convertCommand: Command = makeConvertCommand();
