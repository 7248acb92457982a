/**
 * One place to swap the implementation of a hot operation for one backend.
 *
 * Every model in SwinMM-TS spends its time in a handful of formulations (linear layers, 3-D
 * convolutions, window attention). Each goes through {@link implementationFor}, so a faster kernel
 * for one backend (a custom tfjs kernel, a different formulation) is registered once with
 * {@link registerOpImplementation} and every model gains.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** The hot operations whose implementation can be swapped per backend. */
export type HotOpName = 'linear' | 'conv3d' | 'windowAttention';

const overrides = new Map<string, unknown>();

/**
 * Registers `impl` for `op` on the tfjs backend named `backend` (e.g. `'wasm'`, `'webgpu'`);
 * `undefined` removes the override. The signature must be the op's own (see `linear`, `conv3d`,
 * `windowAttention`); the implementation must have gradients if it is used in training.
 */
export function registerOpImplementation(op: HotOpName, backend: string, impl: unknown): void {
  const key = `${op}@${backend}`;
  if (impl === undefined) overrides.delete(key);
  else overrides.set(key, impl);
}

/** The implementation of `op` for the current backend, or `fallback` when none is registered. */
export function implementationFor<F>(op: HotOpName, fallback: F): F {
  if (overrides.size === 0) return fallback;
  const impl = overrides.get(`${op}@${tf.getBackend()}`);
  return (impl as F | undefined) ?? fallback;
}
