/**
 * Models that `--model` can name. A model is created from a preset name or a JSON config file
 * `{"model": "<kind>", ...options}`; its parameter names are PyTorch's, so a checkpoint is
 * checked against it by name and shape.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Module } from '@swinmm/nn';
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

/**
 * The models the CLI knows. The SwinUNETR / SwinMM models register here as their packages land
 * (`@swinmm/decoder`); until then `--model` accepts models from an injected registry (tests) only.
 */
export const MODELS: ModelRegistry = { kinds: [], presets: [] };

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
