/**
 * `@swinmm/train`: training machinery shared by pre-training and fine-tuning.
 *
 * - {@link AdamW}: PyTorch-exact AdamW with parameter groups; {@link paramGroupsWeightDecay}
 *   makes SwinMM's decay / no-decay split; {@link clipGradNorm} is `clip_grad_norm_`.
 * - {@link WarmupCosineSchedule} (per step) and {@link LinearWarmupCosineAnnealingLR} (per epoch,
 *   chainable form) with PyTorch's stepping semantics.
 * - {@link trainLoop}: the loop as an rxjs stream of {@link TrainEvent}s, with gradient
 *   accumulation, atomic checkpoints of everything and exact resume.
 *
 * @packageDocumentation
 */
export { namedVariableList, paramGroupsWeightDecay, type NamedVariable, type NamedVariables, type ParamGroupSpec, type WeightDecaySplitOptions } from './params.js';
export { AdamW, type AdamWOptions, type AdamWState, type AdamWStateMeta, type ParamGroup } from './adamw.js';
export { clipGradNorm, globalGradNorm, type ClipResult } from './clip.js';
export {
  WarmupCosineSchedule,
  LinearWarmupCosineAnnealingLR,
  warmupCosineMultiplier,
  linearWarmupCosineClosedForm,
  type LrScheduler,
  type LrSchedulerState,
  type SchedulableOptimizer,
  type WarmupCosineOptions,
  type LinearWarmupCosineOptions,
} from './schedules.js';
export {
  encodeTrainingCheckpoint,
  decodeTrainingCheckpoint,
  saveTrainingCheckpoint,
  loadTrainingCheckpoint,
  checkpointFileName,
  findLatestCheckpoint,
  TRAINING_METADATA_KEY,
  TRAINING_CHECKPOINT_VERSION,
  type TensorData,
  type TrainingCheckpoint,
} from './checkpoint.js';
export {
  trainLoop,
  readVariables,
  assignVariables,
  type TrainTask,
  type LossOutput,
  type TrainLoopOptions,
  type CheckpointOptions,
  type TrainEvent,
  type StartEvent,
  type StepEvent,
  type CheckpointEvent,
  type ValidationEvent,
  type CompleteEvent,
} from './loop.js';
