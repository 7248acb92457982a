/**
 * `@swinmm/nn`: the neural-network kit of SwinMM-TS.
 *
 * - {@link readSafetensors} / {@link writeSafetensors}: Hugging Face safetensors weight files.
 *
 * @packageDocumentation
 */
export {
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
  safetensorToFloat32,
  safetensorsDtypeSize,
  SafetensorsError,
  type SafetensorsDtype,
  type SafetensorData,
  type SafetensorEntry,
  type ReadSafetensorsOptions,
  type WriteSafetensorsOptions,
} from './safetensors.js';
