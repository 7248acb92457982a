/**
 * Models that `--model` can name. A model is created from a preset name or a JSON config file
 * `{"model": "<kind>", ...options}`; its parameter names are PyTorch's, so a checkpoint is
 * checked against it by name and shape.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Module } from '@swinmm/nn';
import { SwinUNETR, type SwinUNETROptions } from '@swinmm/decoder';
import { CliError } from './command.js';

/** A kind of model that can be built from a JSON config. */
export interface ModelKind {
  /** The `"model"` value of a JSON config. */
  kind: string;
  /** One line for `--help`. */
  description: string;
  /** Builds the model (weights as initialised; they are replaced by the load). */
  create(config: Record<string, unknown>): Promise<Module>;
}

/** A named configuration of a model kind. */
export interface ModelPreset {
  /** The `--model` value. */
  name: string;
  /** The config it stands for (including `model`). */
  config: { model: string } & Record<string, unknown>;
}

/** The model kinds and presets known to the CLI. */
export interface ModelRegistry {
  kinds: readonly ModelKind[];
  presets: readonly ModelPreset[];
}

type FieldType = 'int' | 'number' | 'boolean' | 'string' | 'int[]' | 'int|int[]';

function checkFields(config: Record<string, unknown>, fields: Record<string, FieldType>, required: readonly string[], kind: string): void {
  for (const r of required) if (!(r in config)) throw new CliError(`model "${kind}": the config needs "${r}"`);
  for (const [k, v] of Object.entries(config)) {
    const type = fields[k];
    if (!type) throw new CliError(`model "${kind}": unknown option "${k}" (expected one of: ${Object.keys(fields).join(', ')})`);
    const isInt = (x: unknown): boolean => Number.isInteger(x);
    const ok =
      type === 'int' ? isInt(v)
      : type === 'number' ? typeof v === 'number' && Number.isFinite(v)
      : type === 'boolean' ? typeof v === 'boolean'
      : type === 'string' ? typeof v === 'string'
      : type === 'int[]' ? Array.isArray(v) && v.every(isInt)
      : isInt(v) || (Array.isArray(v) && v.length === 3 && v.every(isInt));
    if (!ok) throw new CliError(`model "${kind}": option "${k}" must be ${type}, found ${JSON.stringify(v)}`);
  }
}

/** MONAI SwinUNETR (`@swinmm/decoder`), configured like MONAI's constructor. */
const swinunetr: ModelKind = {
  kind: 'swinunetr',
  description: 'MONAI SwinUNETR: imgSize, inChannels, outChannels, featureSize, depths, numHeads, normName, normalize, useV2, downsample',
  async create(config) {
    checkFields(
      config,
      {
        imgSize: 'int|int[]',
        inChannels: 'int',
        outChannels: 'int',
        featureSize: 'int',
        depths: 'int[]',
        numHeads: 'int[]',
        normName: 'string',
        normalize: 'boolean',
        useV2: 'boolean',
        downsample: 'string',
      },
      ['inChannels', 'outChannels'],
      'swinunetr',
    );
    try {
      return new SwinUNETR(config as unknown as SwinUNETROptions);
    } catch (error) {
      throw new CliError(`model "swinunetr": ${error instanceof Error ? error.message : String(error)}`);
    }
  },
};

/**
 * The models the CLI knows: MONAI's SwinUNETR with the fixture and published configurations.
 * (The two-view SwinMM model registers here when its package exports it.)
 */
export const MODELS: ModelRegistry = {
  kinds: [swinunetr],
  presets: [
    // The reference fixture's model (swinunetr-small, the .pt fixtures).
    { name: 'swinunetr-small', config: { model: 'swinunetr', imgSize: [64, 32, 64], inChannels: 1, outChannels: 3, featureSize: 12 } },
    // MONAI's BTCV Swin UNETR (14 classes, F 48), what model_swinvit.pt fine-tuning produces.
    { name: 'swinunetr-btcv', config: { model: 'swinunetr', imgSize: 96, inChannels: 1, outChannels: 14, featureSize: 48 } },
    // SwinMM's WORD fine-tuning backbone size (17 classes, F 48); the two-view model adds encoder5 and cross_atte6.
    { name: 'swinunetr-word', config: { model: 'swinunetr', imgSize: 64, inChannels: 1, outChannels: 17, featureSize: 48 } },
  ],
};

/** Resolves `--model NAME|FILE.json` to a module. */
export async function createModel(arg: string, registry: ModelRegistry = MODELS): Promise<{ model: Module; config: Record<string, unknown> }> {
  let config: Record<string, unknown>;
  if (arg.endsWith('.json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(arg, 'utf8'));
    } catch (error) {
      throw new CliError(`--model ${arg}: cannot read the JSON config (${error instanceof Error ? error.message : String(error)})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { model?: unknown }).model !== 'string') {
      throw new CliError(`--model ${arg}: expected a JSON object with a "model" string (one of: ${registry.kinds.map((k) => k.kind).join(', ') || 'none'}), found ${JSON.stringify(parsed)?.slice(0, 80)}`);
    }
    config = parsed as Record<string, unknown>;
  } else {
    const preset = registry.presets.find((p) => p.name === arg);
    if (!preset) {
      throw new CliError(
        `--model ${arg}: unknown model (presets: ${registry.presets.map((p) => p.name).join(', ') || 'none available in this build'}; or pass a JSON config file)`,
      );
    }
    config = preset.config;
  }
  const kind = registry.kinds.find((k) => k.kind === config.model);
  if (!kind) throw new CliError(`--model ${arg}: unknown model kind "${String(config.model)}" (expected one of: ${registry.kinds.map((k) => k.kind).join(', ') || 'none'})`);
  const { model: _kind, ...options } = config;
  return { model: await kind.create(options), config };
}
