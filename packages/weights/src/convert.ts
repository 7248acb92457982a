/**
 * `convertCheckpoint`: a PyTorch checkpoint or a safetensors file → a safetensors file (or, the
 * other way, a `torch.save` file) with PyTorch names and layouts, through a source key mapping
 * and, when a model is given, a checked load that reports what matched.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeSafetensors, type Module } from '@swinmm/nn';
import { writeFileAtomic } from '@swinmm/runtime/files';
import { WeightsFormatError } from './errors.js';
import { loadIntoModule, safetensorsToStateDict, stateDictToSafetensors } from './module-io.js';
import { readOptimizerState, type TorchOptimizerState } from './optimizer.js';
import { PyDict, type PyValue } from './pickle.js';
import type { WeightsLoadReport } from './report.js';
import { KEY_MAPPINGS, type CheckpointSource, type MappedStateDict, type TorchStateDict } from './state-dict.js';
import { parseTorchCheckpoint } from './torch-checkpoint.js';
import { stateDictValue, writeTorchCheckpoint } from './torch-writer.js';

/** Options for {@link readWeightsFile} and {@link convertCheckpoint}. */
export interface ConvertOptions {
  /** The key mapping (default `auto`). */
  source?: CheckpointSource;
  /** A model to check the weights against (and load them into). */
  model?: Module;
  /** With a model: refuse unless everything matches (default false, reporting instead). */
  strict?: boolean;
  /** Extra globals to accept as inert objects (see `ReadTorchCheckpointOptions.opaqueGlobals`). */
  opaqueGlobals?: readonly string[];
  /**
   * For `.pt`/`.pth` outputs: the key to wrap the state dict under (e.g. `state_dict`, what
   * SwinMM's loaders read); default none (a bare state dict for `model.load_state_dict(torch.load(f))`).
   */
  wrapper?: string;
}

/** A weights file read and mapped. */
export interface WeightsFile {
  /** The mapped state dict. */
  mapped: MappedStateDict;
  /** The optimizer state when the file has an `optimizer` entry that reads as Adam/AdamW, else null. */
  optimizer: TorchOptimizerState | null;
  /** Why the optimizer entry could not be read, when there was one. */
  optimizerError?: string;
  /** Top-level non-tensor entries of a training checkpoint (epoch, best_acc, global_step …) that are numbers or strings. */
  info: Record<string, number | string>;
  /** `torch` or `safetensors`. */
  format: 'torch' | 'safetensors';
}

function isSafetensors(bytes: Uint8Array): boolean {
  // A u64 header length followed by '{'.
  return bytes.length >= 9 && bytes[8] === 0x7b && bytes[6] === 0 && bytes[7] === 0;
}

/**
 * Read a `.pt`/`.pth` (torch.save zip) or `.safetensors` file and apply a key mapping.
 *
 * @throws WeightsFormatError for malformed or unsafe files.
 */
export async function readWeightsFile(file: string, options: ConvertOptions = {}): Promise<WeightsFile> {
  const buf = await fs.readFile(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const mapping = KEY_MAPPINGS[options.source ?? 'auto'];
  if (!mapping) throw new WeightsFormatError(`unknown checkpoint source "${options.source}" (expected one of ${Object.keys(KEY_MAPPINGS).join(', ')})`);
  if (isSafetensors(bytes)) {
    const root = new PyDict();
    for (const [k, v] of safetensorsToStateDict(readSafetensors(bytes, { source: file }), file)) root.set(k, v);
    return { mapped: mapping(root, file), optimizer: null, info: {}, format: 'safetensors' };
  }
  const ckpt = parseTorchCheckpoint(bytes, { source: file, opaqueGlobals: options.opaqueGlobals });
  const mapped = mapping(ckpt.root, file);
  const info: Record<string, number | string> = {};
  let optimizer: TorchOptimizerState | null = null;
  let optimizerError: string | undefined;
  if (ckpt.root instanceof PyDict) {
    for (const [k, v] of ckpt.root) {
      if (typeof k === 'string' && (typeof v === 'number' || typeof v === 'string')) info[k] = v;
    }
    const opt: PyValue | undefined = ckpt.root.get('optimizer');
    if (opt !== undefined) {
      try {
        optimizer = readOptimizerState(opt, `${file}: optimizer`);
      } catch (error) {
        if (!(error instanceof WeightsFormatError)) throw error;
        optimizerError = error.message;
      }
    }
  }
  return { mapped, optimizer, optimizerError, info, format: 'torch' };
}

/** What {@link convertCheckpoint} did. */
export interface ConvertResult {
  /** The file as read and mapped. */
  input: WeightsFile;
  /** The load report when a model was given, else null. */
  report: WeightsLoadReport | null;
  /** Names written to the output, in order. */
  written: string[];
  /** Bytes written. */
  bytes: number;
}

/**
 * Convert a checkpoint (`.pt`/`.pth` or `.safetensors`) to safetensors, or to a `torch.save` file
 * when `output` ends with `.pt`/`.pth`; PyTorch names and layouts, dtypes kept as in the input.
 *
 * Without a model every mapped tensor is written. With a model the weights are loaded into it
 * (strictly if asked) and only what the model uses is written: its loaded parameters and the
 * buffers it recomputes; everything else is listed in the report.
 */
export async function convertCheckpoint(input: string, output: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const file = await readWeightsFile(input, options);
  let report: WeightsLoadReport | null = null;
  let tensors: TorchStateDict = file.mapped.tensors;
  if (options.model) {
    report = loadIntoModule(options.model, file.mapped, { strict: options.strict ?? false, source: input });
    const keep = new Set([...report.loaded, ...report.constants]);
    tensors = new Map([...tensors].filter(([k]) => keep.has(k)));
  }
  if (tensors.size === 0) throw new WeightsFormatError(`${input}: nothing to write (no tensor ${options.model ? 'matched the model' : 'in the file'})`);
  const bytes = /\.(pt|pth)$/.test(output)
    ? writeTorchCheckpoint(stateDictValue(tensors, options.wrapper))
    : writeSafetensors(stateDictToSafetensors(tensors), { metadata: { format: 'pt', source: path.basename(input), mapping: file.mapped.mapping } });
  await fs.mkdir(path.dirname(path.resolve(output)), { recursive: true });
  await writeFileAtomic(output, bytes);
  return { input: file, report, written: [...tensors.keys()], bytes: bytes.length };
}
