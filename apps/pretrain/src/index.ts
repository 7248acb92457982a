/**
 * `@swinmm/pretrain`: SwinMM's masked multi-view pre-training as an application: configuration
 * with presets and up-front validation, the data pipeline, the run with its files, and the
 * command line used by `swinmm pretrain` and `nx run pretrain:run`.
 *
 * - Configuration: {@link resolvePretrainConfig}, {@link loadPretrainConfig},
 *   {@link pretrainPreset} (`paper`, `tiny`), {@link PRETRAIN_SCHEMA}, {@link checkPretrainFiles}.
 * - Data: {@link loadPretrainData}, {@link pretrainSampler}, {@link preparePretrainVolume}.
 * - Running: {@link runPretraining} (an rxjs stream of training events), {@link buildModel},
 *   {@link saveModelWeights}.
 * - Command line: {@link pretrainMain}, {@link configFromArgs}, {@link pretrainHelp}.
 *
 * @packageDocumentation
 */
export {
  PRETRAIN_SCHEMA,
  PRETRAIN_LIST_KEYS,
  PRETRAIN_PRESETS,
  pretrainPreset,
  resolvePretrainConfig,
  loadPretrainConfig,
  checkPretrainFiles,
  type PretrainConfig,
  type Triple,
} from './config.js';
export { loadPretrainData, pretrainSampler, preparePretrainVolume, listPretrainImages, type PretrainData } from './data.js';
export { runPretraining, buildModel, saveModelWeights, type RunPretrainingOptions } from './run.js';
export { pretrainMain, configFromArgs, pretrainHelp } from './cli.js';
