/**
 * The life of a run configuration, the same for every app: a JSON file (or nothing) plus
 * command-line overrides, merged over a named preset, checked completely (schema, then the
 * relations between keys), relative paths made absolute against the file's folder, and the files
 * it names checked before any data is read. Each app describes its configuration once with
 * {@link defineConfig}; every problem is reported as a {@link ConfigError} naming its dotted key.
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, deepMerge } from './schema.js';

/** A size or spacing along x, y, z. */
export type Triple = [number, number, number];

/** What {@link defineConfig} needs to know about one kind of configuration. */
export interface ConfigRecipe<C> {
  /** The presets by name (never modified: each use gets a copy). */
  presets: Readonly<Record<string, C>>;
  /** The preset used when the configuration names none. */
  defaultPreset: string;
  /**
   * Every problem of a merged configuration whose keys may still have any type (typically
   * `validateAgainst(schema, merged)`), one sentence each starting with the dotted key.
   */
  validate(merged: C): string[];
  /**
   * Problems between keys (e.g. a window's upper end above its lower end); only called once
   * {@link ConfigRecipe.validate} found none, so every key has its declared type.
   */
  relations?(config: C): string[];
  /**
   * Dotted keys that hold paths (a string, null, or a list of strings): relative ones are made
   * absolute against the configuration file's folder (or the base folder given).
   */
  pathKeys: readonly string[];
  /** Dotted keys (among {@link ConfigRecipe.pathKeys}) that must name existing files. */
  fileKeys: readonly string[];
}

/** The operations {@link defineConfig} builds for one kind of configuration. */
export interface ConfigKind<C> {
  /**
   * Builds a configuration from a partial one: the preset it names (`preset`, else the default)
   * with the partial merged over it (objects merge, lists and values replace), validated
   * completely, relative paths resolved against `baseDir`. Throws a {@link ConfigError} (with
   * `source` as its origin) listing every problem.
   */
  resolve(partial: unknown, baseDir?: string, source?: string): C;
  /**
   * Reads a JSON file and resolves it with {@link ConfigKind.resolve}; relative paths in it are
   * relative to the file's folder and `overrides` (e.g. from {@link parseOverrides}) win over it.
   */
  load(file: string, overrides?: Record<string, unknown>): Promise<C>;
  /** Checks that every file the configuration names exists and is a file; throws a {@link ConfigError} listing each one that does not. */
  checkFiles(config: C, source?: string): Promise<void>;
}

// Dotted keys are the recipe's own constants, so a key that is not there is a programming error
// in the app, not bad input: it throws a plain Error.
function locate(config: unknown, key: string): { node: Record<string, unknown>; last: string } {
  const parts = key.split('.');
  let node = config as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (typeof next !== 'object' || next === null) throw new Error(`defineConfig: path key ${key} does not exist in the configuration (no object at ${p})`);
    node = next as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  if (!(last in node)) throw new Error(`defineConfig: path key ${key} does not exist in the configuration`);
  return { node, last };
}

/** The paths a key holds, with the name each is reported under (`key` or `key[i]` for a list). */
function pathsAt(config: unknown, key: string): [string, string][] {
  const { node, last } = locate(config, key);
  const v = node[last];
  if (v === null) return [];
  if (Array.isArray(v)) return v.map((p, i) => [`${key}[${i}]`, String(p)]);
  return [[key, String(v)]];
}

/**
 * Describes one kind of configuration (its presets, checks and path keys) and returns the
 * functions every app needs: {@link ConfigKind.resolve}, {@link ConfigKind.load} and
 * {@link ConfigKind.checkFiles}.
 */
export function defineConfig<C>(recipe: ConfigRecipe<C>): ConfigKind<C> {
  const names = Object.keys(recipe.presets);
  if (!names.includes(recipe.defaultPreset)) throw new Error(`defineConfig: the default preset ${JSON.stringify(recipe.defaultPreset)} is not one of ${names.join(', ')}`);

  const resolveConfig = (partial: unknown, baseDir = process.cwd(), source = 'config'): C => {
    if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
      throw new ConfigError(source, [`(root): expected an object, found ${JSON.stringify(partial)}`]);
    }
    const presetName = (partial as { preset?: unknown }).preset ?? recipe.defaultPreset;
    if (typeof presetName !== 'string' || !names.includes(presetName)) {
      throw new ConfigError(source, [`preset: expected one of ${names.map((n) => JSON.stringify(n)).join(', ')}, found ${JSON.stringify(presetName)}`]);
    }
    const merged = deepMerge(recipe.presets[presetName], partial);
    const problems = recipe.validate(merged);
    if (problems.length === 0 && recipe.relations) problems.push(...recipe.relations(merged));
    if (problems.length > 0) throw new ConfigError(source, problems);
    const abs = (p: unknown): unknown => (typeof p === 'string' && !isAbsolute(p) ? resolve(baseDir, p) : p);
    for (const key of recipe.pathKeys) {
      const { node, last } = locate(merged, key);
      const v = node[last];
      node[last] = Array.isArray(v) ? v.map(abs) : abs(v);
    }
    return merged;
  };

  return {
    resolve: resolveConfig,
    async load(file, overrides = {}) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new ConfigError(file, [`cannot read the configuration file: ${(err as Error).message}`]);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new ConfigError(file, [`not valid JSON: ${(err as Error).message}`]);
      }
      return resolveConfig(deepMerge(json, overrides), dirname(resolve(file)), file);
    },
    async checkFiles(config, source = 'config') {
      const problems: string[] = [];
      for (const key of recipe.fileKeys) {
        for (const [name, path] of pathsAt(config, key)) {
          try {
            const s = await stat(path);
            if (!s.isFile()) problems.push(`${name}: ${path} is not a file`);
          } catch {
            problems.push(`${name}: file not found: ${path}`);
          }
        }
      }
      if (problems.length > 0) throw new ConfigError(source, problems);
    },
  };
}

/**
 * Parses `--key.sub=value` / `--key.sub value` pairs into a nested override object (values are
 * JSON when they parse as JSON, else strings), e.g. `--optim.lr 3e-4 --model.roi [32,32,32]`.
 * Throws a {@link ConfigError} for an argument that is not `--key` or a key without a value.
 */
export function parseOverrides(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new ConfigError('command line', [`unexpected argument ${JSON.stringify(a)} (expected --key value)`]);
    let key = a.slice(2);
    let raw: string | undefined;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      raw = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else {
      raw = args[++i];
      if (raw === undefined) throw new ConfigError('command line', [`${key}: missing value after --${key}`]);
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) {
      if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** A command line split by {@link parseConfigArgs}. */
export interface ConfigArgs {
  /** The file given with `--config FILE` / `--config=FILE`, or null. */
  file: string | null;
  /** Every other `--key value` pair, as {@link parseOverrides} reads them (`--preset NAME` included). */
  overrides: Record<string, unknown>;
}

/**
 * Splits an app's arguments into the configuration file (`--config FILE` or `--config=FILE`) and
 * the overrides. Throws a {@link ConfigError} when `--config` has no file name.
 */
export function parseConfigArgs(args: readonly string[]): ConfigArgs {
  const rest: string[] = [];
  let file: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--config' || a.startsWith('--config=')) {
      const name = a === '--config' ? args[++i] : a.slice('--config='.length);
      if (name === undefined || name.length === 0 || (a === '--config' && name.startsWith('--'))) {
        throw new ConfigError('command line', ['--config: missing file name (expected --config <file.json>)']);
      }
      file = name;
    } else {
      rest.push(a);
    }
  }
  return { file, overrides: parseOverrides(rest) };
}
