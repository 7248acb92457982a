/**
 * `@swinmm/weights`: PyTorch checkpoint interop for SwinMM-TS.
 *
 * - {@link readTorchCheckpoint} / {@link parseTorchCheckpoint}: `torch.save` files (zip format) in
 *   pure TypeScript with a restricted unpickler that constructs only allow-listed globals
 *   (tensors, storages, OrderedDict …) and never executes anything.
 * - Key mappings per checkpoint source ({@link KEY_MAPPINGS}: `ddp`, `swinmm-pretrain`,
 *   `swinunetr-ssl`, `plain`, `auto`) and load reports ({@link planLoad}, {@link formatLoadReport}).
 * - Optimizer state ({@link readOptimizerState}, {@link nameOptimizerState}), and
 *   {@link adamWStateFromTorch} to continue a PyTorch run with `@swinmm/train`.
 * - Modules: {@link loadIntoModule} (checked load with a report), {@link exportSafetensors}
 *   (PyTorch names, layouts and buffers), {@link convertCheckpoint}, {@link writeTorchCheckpoint}.
 * - Our checkpoint container for resuming: {@link writeCheckpoint} / {@link readCheckpoint}
 *   (safetensors + JSON, atomic writes).
 *
 * @packageDocumentation
 */
export { WeightsFormatError, ZipFormatError, PickleFormatError, UnsafePickleError, TorchCheckpointError } from './errors.js';
export { ZipArchive, looksLikeZip, type ZipEntry, type ZipReadOptions } from './zip.js';
export { inflateRaw } from './inflate.js';
export { crc32 } from './crc32.js';
export {
  unpickle,
  standardGlobals,
  sequenceItems,
  pyTypeName,
  PyTuple,
  PyDict,
  PySet,
  PyGlobal,
  PyObject,
  NumpyDtype,
  type PyValue,
  type GlobalImplementation,
  type UnpickleOptions,
} from './pickle.js';
export {
  TorchTensor,
  TorchStorage,
  TORCH_DTYPES,
  TORCH_STORAGE_TYPES,
  tensorToFloat32,
  typedArrayBytes,
  shapeSize,
  type TorchDtype,
  type TorchTensorData,
  type TorchDtypeInfo,
} from './tensor.js';
export { writeTorchCheckpoint, stateDictValue, type WriteTorchCheckpointOptions } from './torch-writer.js';
export { readTorchCheckpoint, parseTorchCheckpoint, type TorchCheckpoint, type ReadTorchCheckpointOptions } from './torch-checkpoint.js';
export {
  extractStateDict,
  mapPlainKeys,
  mapDdpKeys,
  mapSwinmmPretrainKeys,
  mapSwinUnetrSslKeys,
  mapAutoKeys,
  KEY_MAPPINGS,
  STATE_DICT_WRAPPERS,
  type TorchStateDict,
  type ExtractedStateDict,
  type MappedStateDict,
  type KeyRename,
  type CheckpointSource,
} from './state-dict.js';
export { planLoad, formatLoadReport, type LoadTarget, type LoadMismatch, type WeightsLoadReport } from './report.js';
export {
  readOptimizerState,
  nameOptimizerState,
  weightDecayGroupOrder,
  type TorchOptimizerState,
  type TorchParamGroup,
  type TorchAdamState,
} from './optimizer.js';
export {
  loadIntoModule,
  moduleStateDict,
  moduleBuffers,
  checkBuffers,
  exportSafetensors,
  safetensorsToStateDict,
  stateDictToSafetensors,
  WeightsLoadError,
  type LoadIntoModuleOptions,
  type ExportOptions,
} from './module-io.js';
export {
  writeCheckpoint,
  readCheckpoint,
  checkpointPaths,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointContents,
} from './checkpoint.js';
export { readWeightsFile, convertCheckpoint, type ConvertOptions, type ConvertResult, type WeightsFile } from './convert.js';
export { adamWStateFromTorch, type AdamWStateLike, type AdamWGroupState, type AdamWImportOptions } from './optimizer-import.js';
