/**
 * `@swinmm/finetune`: SwinMM fine-tuning, whole-volume multi-view inference and evaluation, as
 * used by `swinmm finetune | infer | evaluate` and the demo.
 *
 * - Configuration: {@link resolveFinetuneConfig}, {@link loadFinetuneConfig}, presets
 *   {@link finetunePreset} (`paper`, `tiny`), the schema {@link FINETUNE_SCHEMA}.
 * - Inference: {@link predictVolume} (preprocess → six-view sliding window + fusion → back onto
 *   the input's grid), {@link inferFiles}.
 * - Evaluation: {@link evaluateFolders}, {@link evaluateVolumes}, {@link reportToCsv},
 *   {@link reportToMarkdown}.
 * - Reporting: {@link ProgressBar}, {@link lossCurveSvg}, {@link encodePng},
 *   {@link overlaySlicePng}.
 *
 * @packageDocumentation
 */
export { ConfigError, validateAgainst, deepMerge, describeSchema, type Field, type ObjectField, type NumberField, type StringField, type BooleanField, type TripleField } from './schema.js';
export {
  FINETUNE_SCHEMA,
  FINETUNE_PRESETS,
  finetunePreset,
  resolveFinetuneConfig,
  loadFinetuneConfig,
  checkConfigFiles,
  parseOverrides,
  type FinetuneConfig,
  type Triple,
} from './config.js';
export { ProgressBar, renderProgress, formatDuration, formatValue, type ProgressState, type ProgressStream } from './progress.js';
export { lossCurveSvg, type Series, type LossCurveOptions } from './plot.js';
export { encodePng, overlaySlicePng, LABEL_COLORS, type SliceSource, type OverlayOptions } from './png.js';
export {
  evaluateVolumes,
  evaluateFolders,
  reportToCsv,
  reportToMarkdown,
  caseName,
  LABEL_EXTENSIONS,
  type EvaluateCasesOptions,
  type EvaluateFoldersOptions,
  type CaseClassRow,
  type EvaluationReport,
} from './evaluate.js';
export { predictVolume, preprocessForModel, inferFiles, listImages, type PredictOptions, type VolumePrediction, type InferredCase } from './predict.js';
export {
  runFinetune,
  labelFractionSplit,
  randomViewPair,
  EpochScheduler,
  appendJsonl,
  writeLossCurve,
  type SegmenterModel,
  type FinetuneModelKit,
  type FinetuneLossOutput,
  type PretrainedReport,
  type FinetuneEvent,
  type RunFinetuneOptions,
  type FinetuneResult,
} from './train.js';
export { swinmmKit, createSegmenter, loadPretrainedEncoder, loadFinetuned, FINETUNE_METADATA_KEY, type FinetunedSettings } from './model.js';
export { finetuneMain, finetuneUsage, type LineIo } from './run.js';
