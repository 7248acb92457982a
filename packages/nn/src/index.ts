/**
 * `@swinmm/nn`: the neural-network kit of SwinMM-TS.
 *
 * - {@link Module}: named parameters and sub-modules with PyTorch's dotted names, state dicts in
 *   PyTorch layout ({@link Module.stateDict}, {@link Module.loadStateDict}), train/eval mode.
 * - Layers: {@link Linear}, {@link Conv3d}, {@link ConvTranspose3d}, {@link LayerNorm},
 *   {@link InstanceNorm3d}, {@link Dropout}, {@link DropPath}, {@link GELU}, {@link LeakyReLU}.
 * - Hot formulations behind one swappable entry each: {@link linear}, {@link conv3d},
 *   {@link convTranspose3dK2S2}, {@link windowAttention} ({@link registerOpImplementation}).
 * - {@link readSafetensors} / {@link writeSafetensors}: Hugging Face safetensors weight files.
 *
 * @packageDocumentation
 */
export {
  Module,
  ModuleList,
  StateDictError,
  torchShapeOf,
  fromTorchLayout,
  toTorchLayout,
  type Parameter,
  type ParameterLayout,
  type ShapeMismatch,
  type LoadStateDictReport,
  type LoadStateDictOptions,
  type ConstantValue,
} from './module.js';
export {
  Linear,
  Conv3d,
  ConvTranspose3d,
  LayerNorm,
  InstanceNorm3d,
  Dropout,
  DropPath,
  GELU,
  LeakyReLU,
  type InitOptions,
  type LinearOptions,
  type Conv3dLayerOptions,
} from './layers.js';
export { gelu, leakyRelu, layerNorm, instanceNorm3d, logSoftmax, dropout, dropPath } from './functional.js';
export { uniformInit, truncNormalInit, defaultInitBound, fastUniformArray, withoutInitialisation } from './init.js';
export { linear, type LinearImplementation } from './ops/linear.js';
export { conv3d, convTranspose3dK2S2, spaceToDepth2, depthToSpace2, type Conv3dOptions, type Conv3dImplementation } from './ops/conv.js';
export { jsWindowAttention } from './ops/attention-js.js';
export { gatherRows } from './ops/gather.js';
export { concatChannels } from './ops/concat.js';
export { windowAttention, tfjsWindowAttention, type WindowAttentionInputs, type WindowAttentionImplementation } from './ops/attention.js';
export { registerOpImplementation, implementationFor, type HotOpName } from './ops/registry.js';
export { gemm, gemmEngine, type GemmEngine } from './ops/gemm.js';
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
