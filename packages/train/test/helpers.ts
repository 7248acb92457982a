import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, type SafetensorEntry } from '@swinmm/nn';

export const FIXTURES = path.join(__dirname, 'fixtures');

export interface AdamWFixture {
  adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number; groups: Record<string, number>; no_decay_2d_names: string[] };
  updated: Record<string, { shape: number[]; weight_decay: number; sha256_after: string; after_first8: number[]; before_first8: number[] }>;
  params: Record<string, { shape: number[]; sha256: string; init: { seed: number; base: number; scale: number } }>;
  tensor_sha256: Record<string, string>;
  lr_schedules: Record<string, Record<string, Record<string, number> | string>>;
  param_shapes: Record<string, number[]>;
}

export function loadAdamWFixture(): { json: AdamWFixture; tensors: Map<string, SafetensorEntry> } {
  const json = JSON.parse(readFileSync(path.join(FIXTURES, 'adamw-step.json'), 'utf8')) as AdamWFixture;
  const bytes = readFileSync(path.join(FIXTURES, 'adamw-step.safetensors'));
  return { json, tensors: readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { copy: true }) };
}
