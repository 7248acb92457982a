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
 * - Reporting: {@link appendJsonl}, {@link writeLossCurve}. The configuration schema, progress bar,
 *   SVG loss curves and PNG overlays live in `@swinmm/appkit`.
 *
 * @packageDocumentation
 */
export {
  FINETUNE_SCHEMA,
  FINETUNE_PRESETS,
  finetunePreset,
  resolveFinetuneConfig,
  loadFinetuneConfig,
  checkConfigFiles,
  type FinetuneConfig,
  type Triple,
} from './config.js';
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
