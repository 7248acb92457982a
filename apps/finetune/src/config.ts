/**
 * The fine-tuning configuration: SwinMM's defaults (SPEC.md §7.5–§7.9), the presets `paper` and
 * `tiny`, and validation that runs before any training (schema, then the files and sizes the
 * configuration refers to).
 *
 * @module
 */
import { ConfigError, deepMerge, defineConfig, validateAgainst, type ObjectField, type Triple } from '@swinmm/appkit';

export type { Triple };

/** Every setting of a fine-tuning run. */
export interface FinetuneConfig {
  /** The preset the file started from (`paper` or `tiny`). */
  preset: 'paper' | 'tiny';
  /** Seed of every random choice (crops, flips, views, initial weights). */
  seed: number;
  /** TensorFlow.js backend (`auto` = the best available). */
  backend: 'auto' | 'cpu' | 'wasm' | 'webgpu' | 'tensorflow';
  data: {
    /** MSD-style `dataset.json` with `training`, `validation` and optionally `unsupervised` lists. */
    manifest: string;
    /** Fraction of the `training` volumes used with their labels (SwinMM's r ∈ {0.1 … 0.9, 1}). */
    labelFraction: number;
    /** Keep prepared (resampled, windowed) volumes on disk here, or null. */
    cacheDir: string | null;
  };
  model: {
    /** Input channels (1 for CT/MRI). */
    inChannels: number;
    /** Classes including background. */
    outChannels: number;
    /** SwinUNETR feature size F (48 in the paper; a multiple of 12). */
    featureSize: number;
    /** Training crop and inference window size (multiples of 32). */
    roi: Triple;
    /** Stochastic depth rate (SwinMM fine-tunes with 0). */
    dropPathRate: number;
  };
  transforms: {
    /** Target voxel size in mm (SwinMM: 1.5, 1.5, 2.0). */
    pixdim: Triple;
    /** Intensity window lower end (SwinMM: −175 HU). */
    aMin: number;
    /** Intensity window upper end (SwinMM: 250 HU). */
    aMax: number;
    /** Crops per volume per step (SwinMM: 4). */
    numSamples: number;
  };
  optim: {
    /** AdamW learning rate (SwinMM: 1e-4). */
    lr: number;
    /** AdamW weight decay (SwinMM: 1e-5), not applied to 1-D parameters and bias tables. */
    weightDecay: number;
    /** Linear warm-up epochs (SwinMM: 50). */
    warmupEpochs: number;
    /** Epochs (SwinMM: 1500). */
    maxEpochs: number;
    /** Clip gradients to this global norm, or null (SwinMM: no clipping). */
    maxGradNorm: number | null;
    /** Micro-batches per optimizer step. */
    accumulationSteps: number;
  };
  validation: {
    /** Validate every this many epochs (SwinMM: 100). */
    every: number;
    /** First epoch at which validation may run (SwinMM: 1000). */
    start: number;
    /** Sliding-window overlap (SwinMM: 0.5). */
    overlap: number;
    /** Windows per forward pass (SwinMM: 16). */
    swBatchSize: number;
    /** Window blending (SwinMM validation: constant). */
    mode: 'constant' | 'gaussian';
  };
  /**
   * Semi-supervised training as the paper intends: unlabeled volumes (the manifest's
   * `unsupervised` list and the training volumes left out by `labelFraction`) are trained on the
   * two-view ensemble's pseudo-labels plus the consistency term; labeled volumes keep their labels.
   */
  semiSupervised: boolean;
  init: {
    /** A pre-training checkpoint to initialise the encoder from (ours or the official `.pt`), or null. */
    pretrained: string | null;
  };
  output: {
    /** Run folder: checkpoints, `metrics.jsonl`, `loss.svg`, `best.safetensors`, `last.safetensors`. */
    dir: string;
    /** Write a resumable checkpoint every this many epochs (and after the last). */
    checkpointEvery: number;
    /** Keep this many resumable checkpoints. */
    keepLast: number;
  };
  /** A resumable checkpoint to continue from, or null. */
  resume: string | null;
}

const triple = (doc: string, opts: { integer?: boolean; multipleOf?: number } = {}) => ({ kind: 'triple' as const, gt: 0, doc, ...opts });

/** The schema every configuration is checked against. */
export const FINETUNE_SCHEMA: ObjectField = {
  kind: 'object',
  doc: 'fine-tuning configuration',
  fields: {
    preset: { kind: 'string', values: ['paper', 'tiny'], doc: 'the preset the settings start from' },
    seed: { kind: 'number', integer: true, min: 0, doc: 'seed of every random choice' },
    backend: { kind: 'string', values: ['auto', 'cpu', 'wasm', 'webgpu', 'tensorflow'], doc: 'TensorFlow.js backend' },
    data: {
      kind: 'object',
      doc: 'the dataset',
      fields: {
        manifest: { kind: 'string', file: true, doc: 'MSD dataset.json (training, validation, unsupervised)' },
        labelFraction: { kind: 'number', gt: 0, max: 1, doc: 'fraction of training volumes used with labels' },
        cacheDir: { kind: 'string', nullable: true, doc: 'disk cache of prepared volumes' },
      },
    },
    model: {
      kind: 'object',
      doc: 'the SwinMM segmenter',
      fields: {
        inChannels: { kind: 'number', integer: true, min: 1, doc: 'input channels' },
        outChannels: { kind: 'number', integer: true, min: 2, doc: 'classes including background' },
        featureSize: { kind: 'number', integer: true, min: 12, doc: 'SwinUNETR feature size (multiple of 12)' },
        roi: triple('crop / window size along x, y, z', { integer: true, multipleOf: 32 }),
        dropPathRate: { kind: 'number', min: 0, max: 1, doc: 'stochastic depth rate' },
      },
    },
    transforms: {
      kind: 'object',
      doc: 'preprocessing (SPEC.md §7.5)',
      fields: {
        pixdim: triple('target voxel size in mm'),
        aMin: { kind: 'number', doc: 'intensity window lower end' },
        aMax: { kind: 'number', doc: 'intensity window upper end' },
        numSamples: { kind: 'number', integer: true, min: 1, doc: 'crops per volume per step' },
      },
    },
    optim: {
      kind: 'object',
      doc: 'optimisation (SPEC.md §7.7)',
      fields: {
        lr: { kind: 'number', gt: 0, doc: 'AdamW learning rate' },
        weightDecay: { kind: 'number', min: 0, doc: 'AdamW weight decay' },
        warmupEpochs: { kind: 'number', integer: true, min: 0, doc: 'linear warm-up epochs' },
        maxEpochs: { kind: 'number', integer: true, min: 1, doc: 'epochs' },
        maxGradNorm: { kind: 'number', gt: 0, nullable: true, doc: 'gradient clipping norm, or null' },
        accumulationSteps: { kind: 'number', integer: true, min: 1, doc: 'micro-batches per optimizer step' },
      },
    },
    validation: {
      kind: 'object',
      doc: 'validation during training (SPEC.md §7.9)',
      fields: {
        every: { kind: 'number', integer: true, min: 1, doc: 'validate every N epochs' },
        start: { kind: 'number', integer: true, min: 0, doc: 'first epoch that may validate' },
        overlap: { kind: 'number', min: 0, max: 0.99, doc: 'sliding-window overlap' },
        swBatchSize: { kind: 'number', integer: true, min: 1, doc: 'windows per forward pass' },
        mode: { kind: 'string', values: ['constant', 'gaussian'], doc: 'window blending' },
      },
    },
    semiSupervised: { kind: 'boolean', doc: 'train unlabeled volumes on two-view ensemble pseudo-labels' },
    init: {
      kind: 'object',
      doc: 'initialisation',
      fields: {
        pretrained: { kind: 'string', nullable: true, file: true, doc: 'pre-training checkpoint for the encoder, or null' },
      },
    },
    output: {
      kind: 'object',
      doc: 'outputs',
      fields: {
        dir: { kind: 'string', doc: 'run folder' },
        checkpointEvery: { kind: 'number', integer: true, min: 1, doc: 'resumable checkpoint every N epochs' },
        keepLast: { kind: 'number', integer: true, min: 1, doc: 'resumable checkpoints kept' },
      },
    },
    resume: { kind: 'string', nullable: true, file: true, doc: 'resumable checkpoint to continue from, or null' },
  },
};

/** SwinMM's published fine-tuning recipe (WORD, 17 classes, CT). */
const PAPER: FinetuneConfig = {
  preset: 'paper',
  seed: 0,
  backend: 'auto',
  data: { manifest: 'dataset.json', labelFraction: 1, cacheDir: null },
  model: { inChannels: 1, outChannels: 17, featureSize: 48, roi: [64, 64, 64], dropPathRate: 0 },
  transforms: { pixdim: [1.5, 1.5, 2.0], aMin: -175, aMax: 250, numSamples: 4 },
  optim: { lr: 1e-4, weightDecay: 1e-5, warmupEpochs: 50, maxEpochs: 1500, maxGradNorm: null, accumulationSteps: 1 },
  validation: { every: 100, start: 1000, overlap: 0.5, swBatchSize: 16, mode: 'constant' },
  semiSupervised: false,
  init: { pretrained: null },
  output: { dir: 'runs/finetune', checkpointEvery: 10, keepLast: 2 },
  resume: null,
};

/**
 * The smallest SwinMM that works, for a CPU and the bundled ITK T1 (128×128×62 at 2×2×3 mm, 7
 * k-means tissue classes): F 12 and a 64³ ROI (the smallest SwinUNETR allows: at 32³ the
 * bottleneck is one voxel, which instance norm cannot normalise), on a 4.05×2.9×4.05 mm grid that
 * makes the RAS-oriented volume exactly 64³ (one window per view pair), one crop per step, a uint8
 * MRI window.
 */
const TINY: FinetuneConfig = deepMerge(PAPER, {
  preset: 'tiny',
  // The CPU configuration: the cpu backend with @swinmm/nn's kernels trains it at ~36 s a step on
  // 2 cores, while the wasm backend (first in 'auto' without a GPU) cannot hold a step in its 4 GB heap.
  backend: 'cpu',
  model: { outChannels: 7, featureSize: 12, roi: [64, 64, 64] },
  transforms: { pixdim: [4.05, 2.9, 4.05], aMin: 0, aMax: 255, numSamples: 1 },
  optim: { lr: 1e-3, warmupEpochs: 1, maxEpochs: 4 },
  validation: { every: 4, start: 0, overlap: 0.5, swBatchSize: 1, mode: 'constant' },
  output: { dir: 'runs/finetune-tiny', checkpointEvery: 2, keepLast: 1 },
});

/** The presets by name (copies; change them freely). */
export function finetunePreset(name: 'paper' | 'tiny'): FinetuneConfig {
  if (name === 'paper') return structuredClone(PAPER);
  if (name === 'tiny') return structuredClone(TINY);
  throw new ConfigError('preset', [`preset: expected "paper" or "tiny", found ${JSON.stringify(name)}`]);
}

/** Names of the presets. */
export const FINETUNE_PRESETS = ['paper', 'tiny'] as const;

const FINETUNE_CONFIG = defineConfig<FinetuneConfig>({
  presets: { paper: PAPER, tiny: TINY },
  defaultPreset: 'paper',
  validate: (merged) => validateAgainst(FINETUNE_SCHEMA, merged),
  relations: (c) => {
    const problems: string[] = [];
    if (c.transforms.aMax <= c.transforms.aMin) problems.push(`transforms.aMax: expected a number > transforms.aMin (${c.transforms.aMin}), found ${c.transforms.aMax}`);
    if (c.model.featureSize % 12 !== 0) problems.push(`model.featureSize: expected a multiple of 12 (the Swin heads divide it), found ${c.model.featureSize}`);
    return problems;
  },
  pathKeys: ['data.manifest', 'data.cacheDir', 'init.pretrained', 'resume', 'output.dir'],
  fileKeys: ['data.manifest', 'init.pretrained', 'resume'],
});

/**
 * Builds a configuration from a partial one: the preset named by `partial.preset` (default
 * `paper`) with `partial` merged over it, then checked against {@link FINETUNE_SCHEMA}. Relative
 * file paths are resolved against `baseDir`. Throws a {@link ConfigError} listing every problem.
 */
export function resolveFinetuneConfig(partial: unknown, baseDir = process.cwd(), source = 'config'): FinetuneConfig {
  return FINETUNE_CONFIG.resolve(partial, baseDir, source);
}

/**
 * Reads a JSON configuration file and resolves it ({@link resolveFinetuneConfig}); relative paths
 * in it are relative to the file's folder. `overrides` (e.g. from the command line) win over the file.
 */
export function loadFinetuneConfig(file: string, overrides: Record<string, unknown> = {}): Promise<FinetuneConfig> {
  return FINETUNE_CONFIG.load(file, overrides);
}

/** Checks that the files a configuration names exist (before any volume is read). */
export function checkConfigFiles(config: FinetuneConfig, source = 'config'): Promise<void> {
  return FINETUNE_CONFIG.checkFiles(config, source);
}
