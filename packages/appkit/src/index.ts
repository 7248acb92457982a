/**
 * `@swinmm/appkit`: what the SwinMM apps (pre-training, fine-tuning, the demo, the `swinmm`
 * command) share, with no dependency on TensorFlow.js.
 *
 * - Configuration: a declarative schema ({@link ObjectField} and the other fields) checked by
 *   {@link validateAgainst} and listed by {@link describeSchema}; {@link defineConfig} turns presets,
 *   checks and path keys into `resolve` / `load` / `checkFiles`; {@link parseOverrides} and
 *   {@link parseConfigArgs} read `--key.sub value` command lines; every problem is a
 *   {@link ConfigError} naming its dotted key.
 * - Progress: {@link ProgressBar} (rate, ETA, current values; redrawn on a TTY, throttled lines
 *   elsewhere), {@link renderProgress}.
 * - Pictures without libraries: {@link lossCurveSvg} (loss curves as SVG), {@link encodePng} and
 *   {@link overlaySlicePng} (a volume slice with a label map in colour).
 *
 * @packageDocumentation
 */
export {
  ConfigError,
  validateAgainst,
  deepMerge,
  describeSchema,
  type Field,
  type ObjectField,
  type NumberField,
  type StringField,
  type BooleanField,
  type TripleField,
} from './schema.js';
export { defineConfig, parseOverrides, parseConfigArgs, type ConfigRecipe, type ConfigKind, type ConfigArgs, type Triple } from './config.js';
export { ProgressBar, renderProgress, formatDuration, formatValue, type ProgressState, type ProgressStream, type ProgressBarOptions } from './progress.js';
export { lossCurveSvg, type Series, type LossCurveOptions } from './plot.js';
export { encodePng, overlaySlicePng, LABEL_COLORS, type SliceSource, type OverlayOptions } from './png.js';
