import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, type SafetensorEntry } from '@swinmm/nn';

export const FIXTURE_DIR = path.join(__dirname, 'fixtures', 'ssl-head-small');

export interface TensorInfo {
  dtype: string;
  shape: number[];
  sha256: string;
  stats: { min: number; max: number; mean: number; std: number; abs_sum: number };
  full_stats?: { full_shape: number[]; min: number; max: number; mean: number; std: number; abs_sum: number };
}

export interface SslFixture {
  config: { feature_size: number; dim: number; in_channels: number; batch: number; roi: number[] };
  input_sha256: string;
  weight_sha256: Record<string, { shape: number[]; sha256: string }>;
  tensors: Record<string, TensorInfo>;
  results: {
    forward: { rot: number[][]; rec_samples: { flat_index: number[]; values: number[] } };
    choices: { rot1: number[]; rot2: number[]; keep1: number[]; keep2: number[]; p1: number; p2: number };
    losses: Record<string, number>;
    grad_l2_norm_every_param: Record<string, number>;
    grad_l2_norm_all_params: number;
    adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  };
}

let cache: { json: SslFixture; tensors: Map<string, SafetensorEntry> } | null = null;

export function loadSslFixture(): { json: SslFixture; tensors: Map<string, SafetensorEntry> } {
  if (!cache) {
    const json = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'io.json'), 'utf8')) as SslFixture;
    const bytes = readFileSync(path.join(FIXTURE_DIR, 'io.safetensors'));
    cache = { json, tensors: readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { copy: true }) };
  }
  return cache;
}

export function f32(tensors: Map<string, SafetensorEntry>, name: string): Float32Array {
  const t = tensors.get(name);
  if (!t) throw new Error(`fixture tensor ${name} is missing`);
  return t.data as Float32Array;
}

export function relErr(got: number, ref: number): number {
  return Math.abs(got - ref) / Math.abs(ref);
}
