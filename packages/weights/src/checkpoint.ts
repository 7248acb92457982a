/**
 * Our own checkpoint container for resuming work: a file pair `<base>.safetensors` (every tensor,
 * by name) + `<base>.json` (free-form JSON metadata plus the size and sha256 of the tensor file).
 * Generic on purpose: a trainer stores weights, optimizer moments, schedule position, step and
 * Rng states by choosing tensor names and metadata keys.
 *
 * Writes are atomic per file (temporary name in the same folder, then rename). The tensor file is
 * written first and the JSON last, and the JSON records the tensor file's sha256, so a crash
 * between the two renames is detected by {@link readCheckpoint} instead of pairing new metadata
 * with old tensors.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeSafetensors, type SafetensorEntry } from '@swinmm/nn';
import { writeFileAtomic } from '@swinmm/runtime/files';
import { WeightsFormatError } from './errors.js';

/** What a checkpoint holds. */
export interface CheckpointContents {
  /** Tensors by name (any safetensors dtype). */
  tensors: Map<string, SafetensorEntry>;
  /**
   * Free-form JSON (step, schedule position, Rng states, configuration…): plain objects, arrays,
   * strings, finite numbers, booleans and null, checked when written.
   */
  metadata: Record<string, unknown>;
}

/** The format tag written into every checkpoint's JSON. */
export const CHECKPOINT_FORMAT = 'swinmm-checkpoint';
/** The container version. */
export const CHECKPOINT_VERSION = 1;

interface CheckpointJson {
  format: string;
  version: number;
  tensorFile: string;
  tensorBytes: number;
  tensorSha256: string;
  metadata: Record<string, unknown>;
}

/** Throws unless `value` survives JSON unchanged; `at` is its path for the message. */
function assertJson(value: unknown, at: string, where: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new WeightsFormatError(`${where}: metadata ${at} is ${value}, which JSON cannot store`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertJson(v, `${at}[${i}]`, where));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) assertJson(v, `${at}.${k}`, where);
    return;
  }
  const kind = typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
  throw new WeightsFormatError(`${where}: metadata ${at} is a ${kind}; expected plain JSON (object, array, string, finite number, boolean, null)`);
}

/** The two paths of a checkpoint whose base path is `base` (a trailing `.json`/`.safetensors` is dropped). */
export function checkpointPaths(base: string): { tensors: string; json: string } {
  const stem = base.replace(/\.(json|safetensors)$/, '');
  return { tensors: `${stem}.safetensors`, json: `${stem}.json` };
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Write a checkpoint as `<base>.safetensors` + `<base>.json` (folders are created).
 *
 * @returns the two paths written.
 */
export async function writeCheckpoint(base: string, contents: CheckpointContents): Promise<{ tensors: string; json: string }> {
  const paths = checkpointPaths(base);
  assertJson(contents.metadata, 'metadata', paths.json);
  const bytes = writeSafetensors(contents.tensors, { metadata: { format: 'pt', [CHECKPOINT_FORMAT]: String(CHECKPOINT_VERSION) } });
  await fs.mkdir(path.dirname(paths.tensors), { recursive: true });
  await writeFileAtomic(paths.tensors, bytes);
  const json: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    tensorFile: path.basename(paths.tensors),
    tensorBytes: bytes.length,
    tensorSha256: sha256(bytes),
    metadata: contents.metadata,
  };
  await writeFileAtomic(paths.json, `${JSON.stringify(json, null, 1)}\n`);
  return paths;
}

/**
 * Read a checkpoint written by {@link writeCheckpoint}. Tensors are copies (independent of the
 * file buffer).
 *
 * @throws WeightsFormatError when the JSON is not a checkpoint of this format, or the tensor file's
 *   size or sha256 differs from what the JSON recorded (a torn or mixed pair).
 */
export async function readCheckpoint(base: string): Promise<CheckpointContents> {
  const paths = checkpointPaths(base);
  const text = await fs.readFile(paths.json, 'utf8');
  let json: Partial<CheckpointJson>;
  try {
    json = JSON.parse(text) as Partial<CheckpointJson>;
  } catch (error) {
    throw new WeightsFormatError(`${paths.json}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (json.format !== CHECKPOINT_FORMAT) throw new WeightsFormatError(`${paths.json}: expected format "${CHECKPOINT_FORMAT}", found ${JSON.stringify(json.format)}`);
  if (json.version !== CHECKPOINT_VERSION) throw new WeightsFormatError(`${paths.json}: expected version ${CHECKPOINT_VERSION}, found ${JSON.stringify(json.version)}`);
  if (typeof json.metadata !== 'object' || json.metadata === null || Array.isArray(json.metadata)) {
    throw new WeightsFormatError(`${paths.json}: expected "metadata" to be an object`);
  }
  const file = await fs.readFile(paths.tensors);
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length !== json.tensorBytes || sha256(bytes) !== json.tensorSha256) {
    throw new WeightsFormatError(
      `${paths.tensors}: expected ${json.tensorBytes} bytes with sha256 ${json.tensorSha256} (as ${path.basename(paths.json)} records), ` +
        `found ${bytes.length} bytes with sha256 ${sha256(bytes)}: the pair is torn or mixed`,
    );
  }
  const tensors = readSafetensors(bytes, { source: paths.tensors, copy: true });
  return { tensors, metadata: json.metadata };
}
