import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detrandKey, detrandParameter, detrandUint32, detrandUniform, detrandWeightRule, fnv1a32 } from '../src/index.js';

interface Vector {
  name: string;
  shape: number[];
  seed: number;
  base: number;
  scale: number;
  fnv1a32: number;
  key: number;
  z_first4_uint32: number[];
  values_first4_float32: number[];
  values_first4_hex_bits: string[];
  sha256_full_tensor: string;
}

const vectors: Vector[] = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'detrand_vectors.json'), 'utf8')).vectors;

describe('detrand (the fixtures generator)', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('reproduces the test vector for %s', (_name, v) => {
    expect(fnv1a32(v.name)).toBe(v.fnv1a32);
    expect(detrandKey(v.name, v.seed)).toBe(v.key);
    expect([0, 1, 2, 3].map((i) => detrandUint32(v.name, v.seed, i))).toEqual(v.z_first4_uint32);
    const values = detrandUniform(v.name, v.shape, v.seed, v.base, v.scale);
    expect(Array.from(values.slice(0, 4))).toEqual(v.values_first4_float32);
    const bits = new Uint32Array(values.buffer, 0, 4);
    expect(Array.from(bits, (b) => `0x${b.toString(16).padStart(8, '0')}`)).toEqual(v.values_first4_hex_bits);
    const sha = createHash('sha256').update(Buffer.from(values.buffer)).digest('hex');
    expect(sha).toBe(v.sha256_full_tensor);
  });

  it('derives base and scale with the weight rule, in order', () => {
    expect(detrandWeightRule('a.attn.relative_position_bias_table', [2197, 3])).toEqual({ base: 0, scale: 0.5 });
    expect(detrandWeightRule('a.norm1.weight', [12])).toEqual({ base: 1, scale: 0.1 });
    expect(detrandWeightRule('a.qkv.bias', [36])).toEqual({ base: 0, scale: 0.05 });
    expect(detrandWeightRule('swinViT.patch_embed.proj.weight', [12, 1, 2, 2, 2]).scale).toBeCloseTo(0.6123724356957945, 15);
    const conv = vectors.find((v) => v.name === 'swinViT.patch_embed.proj.weight')!;
    const values = detrandParameter(conv.name, conv.shape, conv.seed);
    expect(Array.from(values.slice(0, 4))).toEqual(conv.values_first4_float32);
  });
});
