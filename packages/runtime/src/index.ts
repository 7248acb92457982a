/**
 * `@swinmm/runtime`: what every SwinMM-TS package stands on.
 *
 * - {@link initBackend}: choose and set up the TensorFlow.js backend (tensorflow, webgpu, wasm, cpu);
 * - {@link Rng}: seeded, splittable random numbers;
 * - {@link detrandUniform} and friends: the deterministic generator of the reference fixtures;
 * - {@link roll}: tensor helpers that tfjs lacks.
 *
 * @packageDocumentation
 */
export {
  initBackend,
  currentBackend,
  resolveBackendPreference,
  BackendUnavailableError,
  BackendOutOfMemoryError,
  explainBackendError,
  BACKEND_PREFERENCES,
  type BackendName,
  type BackendPreference,
  type BackendInfo,
  type InitBackendOptions,
} from './backend.js';
export { installWasmFixes, WASM_CPU_KERNELS, WASM_HIGH_RANK_BINARY_KERNELS } from './wasm-fixes.js';
// Rng and the fixture generator, also available without tfjs as `@swinmm/runtime/random`.
export * from './random/index.js';
export { roll, assertFinite } from './tensor-ops.js';
