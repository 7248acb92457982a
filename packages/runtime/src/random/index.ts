/**
 * `@swinmm/runtime/random`: the seeded random numbers of `@swinmm/runtime` without TensorFlow.js.
 *
 * The same {@link Rng} and fixture generator ({@link detrandUniform} …) as the package root, for
 * code that only needs random numbers (data loading, volume transforms): importing this entry
 * point loads no tfjs module.
 *
 * @example
 * ```ts
 * import { Rng } from '@swinmm/runtime/random';
 * const rng = Rng.fromSeed(7);
 * const crop = rng.fork('crop').int(0, 64);
 * ```
 *
 * @packageDocumentation
 */
export { Rng, type RngState } from '../rng.js';
export {
  detrandUniform,
  detrandParameter,
  detrandWeightRule,
  detrandUint32,
  detrandKey,
  fnv1a32,
  mulberry32Mix,
  type DetrandRule,
} from '../detrand.js';
