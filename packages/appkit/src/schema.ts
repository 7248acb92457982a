/**
 * A small declarative schema for run configurations: every key has a type, a default and a
 * range, so that a configuration is checked completely — unknown keys, wrong types, values out of
 * range — before anything expensive starts, and every problem names its dotted key.
 *
 * @module
 */

/** A number (or an integer) in an optional range. */
export interface NumberField {
  kind: 'number';
  /** Require an integer. */
  integer?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  gt?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Allow `null` (meaning "off"). */
  nullable?: boolean;
  /** One sentence for people. */
  doc: string;
}

/** A string, optionally one of a list. */
export interface StringField {
  kind: 'string';
  /** The allowed values, if restricted. */
  values?: readonly string[];
  /** Allow `null`. */
  nullable?: boolean;
  /** The value names a file that must exist (checked by the caller, relative to the config's folder). */
  file?: boolean;
  /** One sentence for people. */
  doc: string;
}

/** A boolean. */
export interface BooleanField {
  kind: 'boolean';
  /** One sentence for people. */
  doc: string;
}

/** Three numbers (a size or a spacing along x, y, z). */
export interface TripleField {
  kind: 'triple';
  /** Require integers. */
  integer?: boolean;
  /** Exclusive lower bound of each element. */
  gt?: number;
  /** Each element must be a multiple of this (e.g. 32 for a Swin ROI). */
  multipleOf?: number;
  /** One sentence for people. */
  doc: string;
}

/** A nested group of keys. */
export interface ObjectField {
  kind: 'object';
  /** The keys of the group and their fields. */
  fields: Record<string, Field>;
  /** One sentence for people. */
  doc: string;
}

/** Any field. */
export type Field = NumberField | StringField | BooleanField | TripleField | ObjectField;

/** A configuration that failed validation; `problems` holds one sentence per bad key. */
export class ConfigError extends Error {
  constructor(
    /** Where the configuration came from (a file name or "config"). */
    readonly source: string,
    /** One sentence per problem, each starting with the dotted key. */
    readonly problems: string[],
  ) {
    super(`${source}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array ${JSON.stringify(v)}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function checkNumber(f: { integer?: boolean; min?: number; gt?: number; max?: number }, v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'a finite number';
  if (f.integer && !Number.isInteger(v)) return 'an integer';
  if (f.min !== undefined && v < f.min) return `a number ≥ ${f.min}`;
  if (f.gt !== undefined && !(v > f.gt)) return `a number > ${f.gt}`;
  if (f.max !== undefined && v > f.max) return `a number ≤ ${f.max}`;
  return null;
}

function expectation(f: Field): string {
  switch (f.kind) {
    case 'number': {
      const parts = [f.integer ? 'an integer' : 'a number'];
      if (f.min !== undefined) parts.push(`≥ ${f.min}`);
      if (f.gt !== undefined) parts.push(`> ${f.gt}`);
      if (f.max !== undefined) parts.push(`≤ ${f.max}`);
      return parts.join(' ') + (f.nullable ? ' or null' : '');
    }
    case 'string':
      return (f.values ? `one of ${f.values.map((s) => JSON.stringify(s)).join(', ')}` : f.file ? 'a file path' : 'a string') + (f.nullable ? ' or null' : '');
    case 'boolean':
      return 'true or false';
    case 'triple':
      return `three ${f.integer ? 'integers' : 'numbers'}${f.gt !== undefined ? ` > ${f.gt}` : ''}${f.multipleOf ? `, multiples of ${f.multipleOf}` : ''}`;
    case 'object':
      return 'an object';
  }
}

/**
 * Checks `value` against `schema` and returns every problem found (empty when valid). `value` is
 * a complete configuration (defaults already merged in), so a missing key is a problem too.
 */
export function validateAgainst(schema: ObjectField, value: unknown, prefix = ''): string[] {
  const problems: string[] = [];
  const at = (k: string): string => (prefix ? `${prefix}.${k}` : k);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [`${prefix || '(root)'}: expected an object, found ${describe(value)}`];
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in schema.fields)) {
      problems.push(`${at(key)}: unknown key (known keys here: ${Object.keys(schema.fields).join(', ')})`);
    }
  }
  for (const [key, field] of Object.entries(schema.fields)) {
    const v = obj[key];
    const name = at(key);
    if (v === undefined) {
      problems.push(`${name}: missing (expected ${expectation(field)}: ${field.doc})`);
      continue;
    }
    let bad = false;
    switch (field.kind) {
      case 'number':
        if (!(v === null && field.nullable)) bad = checkNumber(field, v) !== null;
        break;
      case 'string':
        if (!(v === null && field.nullable)) bad = typeof v !== 'string' || (field.values !== undefined && !field.values.includes(v)) || v.length === 0;
        break;
      case 'boolean':
        bad = typeof v !== 'boolean';
        break;
      case 'triple':
        bad =
          !Array.isArray(v) ||
          v.length !== 3 ||
          v.some((x) => checkNumber({ integer: field.integer, gt: field.gt }, x) !== null || (field.multipleOf !== undefined && (x as number) % field.multipleOf !== 0));
        break;
      case 'object':
        problems.push(...validateAgainst(field, v, name));
        continue;
    }
    if (bad) problems.push(`${name}: expected ${expectation(field)}, found ${describe(v)}`);
  }
  return problems;
}

/** A plain-object deep merge: `over` wins; arrays and scalars replace; nested objects merge. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (over === undefined) return structuredClone(base);
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) {
    return structuredClone(over) as T;
  }
  const out: Record<string, unknown> = structuredClone(base) as Record<string, unknown>;
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    out[k] = k in out ? deepMerge(out[k], v) : structuredClone(v);
  }
  return out as T;
}

/** The keys of a schema with their expected types and documentation, one line each (for `--help`). */
export function describeSchema(schema: ObjectField, prefix = ''): string[] {
  const lines: string[] = [];
  for (const [key, field] of Object.entries(schema.fields)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (field.kind === 'object') lines.push(...describeSchema(field, name));
    else lines.push(`${name}  (${expectation(field)})  ${field.doc}`);
  }
  return lines;
}
