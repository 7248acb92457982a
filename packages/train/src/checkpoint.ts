/**
 * Training checkpoints: everything needed to continue a run exactly — weights, AdamW moments and
 * step counts, the schedule position, the step counter and the random-generator states — in ONE
 * safetensors file (tensors by name, the rest as JSON under `__metadata__["swinmm.training"]`).
 * One file means the write is atomic: it goes to a temporary name in the same folder and is
 * renamed over the target, so a crash leaves either the old or the new checkpoint, never half.
 *
 * Tensor names: `model.<param>`, `optim.exp_avg.<param>`, `optim.exp_avg_sq.<param>`.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, writeSafetensors, type SafetensorEntry } from '@swinmm/nn';
import type { RngState } from '@swinmm/runtime';
import { writeFileAtomic } from '@swinmm/runtime/files';
import type { AdamWState, AdamWStateMeta } from './adamw.js';
import type { LrSchedulerState } from './schedules.js';

/** The metadata key that holds the JSON part of a training checkpoint. */
export const TRAINING_METADATA_KEY = 'swinmm.training';
/** Format version written into every checkpoint. */
export const TRAINING_CHECKPOINT_VERSION = 1;

/** A float32 tensor as plain data (C order). */
export interface TensorData {
  /** Shape (the tfjs variable's shape, channels-last layouts). */
  shape: number[];
  /** Values. */
  data: Float32Array;
}

/** Everything a training checkpoint holds. */
export interface TrainingCheckpoint {
  /** Optimizer steps completed. */
  step: number;
  /** Model parameters by PyTorch name. */
  weights: Map<string, TensorData>;
  /** Optimizer state (moments, per-parameter step counts, group hyper-parameters). */
  optimizer: AdamWState;
  /** Schedule state, if a schedule was used. */
  scheduler: LrSchedulerState | null;
  /** Named generator states (e.g. `data`, `step`). */
  rngs: Record<string, RngState>;
  /** Free-form JSON the caller wants kept (run configuration, …). */
  extra: Record<string, unknown>;
}

interface MetaJson {
  version: number;
  step: number;
  optimizer: AdamWStateMeta;
  scheduler: LrSchedulerState | null;
  rngs: Record<string, RngState>;
  extra: Record<string, unknown>;
}

/** Serialises a checkpoint to safetensors bytes. */
export function encodeTrainingCheckpoint(ckpt: TrainingCheckpoint): Uint8Array {
  const tensors = new Map<string, SafetensorEntry>();
  const put = (name: string, t: TensorData) => tensors.set(name, { dtype: 'F32', shape: [...t.shape], data: t.data });
  for (const [n, t] of ckpt.weights) put(`model.${n}`, t);
  for (const [n, t] of ckpt.optimizer.expAvg) put(`optim.exp_avg.${n}`, t);
  for (const [n, t] of ckpt.optimizer.expAvgSq) put(`optim.exp_avg_sq.${n}`, t);
  const meta: MetaJson = {
    version: TRAINING_CHECKPOINT_VERSION,
    step: ckpt.step,
    optimizer: ckpt.optimizer.meta,
    scheduler: ckpt.scheduler,
    rngs: ckpt.rngs,
    extra: ckpt.extra,
  };
  return writeSafetensors(tensors, { metadata: { [TRAINING_METADATA_KEY]: JSON.stringify(meta) } });
}

/** Parses bytes written by {@link encodeTrainingCheckpoint}; `source` names the file in errors. */
export function decodeTrainingCheckpoint(bytes: Uint8Array, source = 'checkpoint'): TrainingCheckpoint {
  const entries = readSafetensors(bytes, { source, copy: true });
  const metaText = readMetadata(bytes, source);
  let meta: MetaJson;
  try {
    meta = JSON.parse(metaText) as MetaJson;
  } catch (error) {
    throw new Error(`${source}: the "${TRAINING_METADATA_KEY}" metadata is not valid JSON (${(error as Error).message})`);
  }
  if (meta.version !== TRAINING_CHECKPOINT_VERSION) {
    throw new Error(`${source}: training checkpoint version ${meta.version}, this code reads version ${TRAINING_CHECKPOINT_VERSION}`);
  }
  if (!Number.isInteger(meta.step) || meta.step < 0) throw new Error(`${source}: expected an integer step ≥ 0, found ${meta.step}`);
  const weights = new Map<string, TensorData>();
  const expAvg = new Map<string, TensorData>();
  const expAvgSq = new Map<string, TensorData>();
  for (const [name, e] of entries) {
    if (e.dtype !== 'F32') throw new Error(`${source}: tensor "${name}" has dtype ${e.dtype}, expected F32`);
    const t = { shape: e.shape, data: e.data as Float32Array };
    if (name.startsWith('model.')) weights.set(name.slice(6), t);
    else if (name.startsWith('optim.exp_avg_sq.')) expAvgSq.set(name.slice(17), t);
    else if (name.startsWith('optim.exp_avg.')) expAvg.set(name.slice(14), t);
    else throw new Error(`${source}: unexpected tensor "${name}" (expected model.*, optim.exp_avg.* or optim.exp_avg_sq.*)`);
  }
  return {
    step: meta.step,
    weights,
    optimizer: { meta: meta.optimizer, expAvg, expAvgSq },
    scheduler: meta.scheduler,
    rngs: meta.rngs ?? {},
    extra: meta.extra ?? {},
  };
}

function readMetadata(bytes: Uint8Array, source: string): string {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as { __metadata__?: Record<string, string> };
  const text = header.__metadata__?.[TRAINING_METADATA_KEY];
  if (typeof text !== 'string') {
    throw new Error(`${source}: not a SwinMM-TS training checkpoint (no "${TRAINING_METADATA_KEY}" in the safetensors metadata)`);
  }
  return text;
}

/** Saves a training checkpoint atomically; returns the number of bytes written. */
export async function saveTrainingCheckpoint(file: string, ckpt: TrainingCheckpoint): Promise<number> {
  const bytes = encodeTrainingCheckpoint(ckpt);
  await writeFileAtomic(file, bytes);
  return bytes.byteLength;
}

/** Loads a training checkpoint; errors name the file. */
export async function loadTrainingCheckpoint(file: string): Promise<TrainingCheckpoint> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new Error(`cannot read training checkpoint ${file}: ${(error as Error).message}`);
  }
  return decodeTrainingCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

/** The file name of the checkpoint after `step` steps (`step-00000042.safetensors`). */
export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(8, '0')}.safetensors`;
}

/** The newest checkpoint (highest step) in `dir`, or null if there is none. */
export async function findLatestCheckpoint(dir: string): Promise<string | null> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return null;
  }
  const steps = names
    .map((n) => /^step-(\d+)\.safetensors$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), name: m[0] }))
    .sort((a, b) => b.step - a.step);
  return steps.length > 0 ? path.join(dir, steps[0].name) : null;
}
