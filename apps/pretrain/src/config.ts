/**
 * The pre-training configuration: SwinMM's defaults (SPEC.md §6.1, §6.7), the presets `paper` and
 * `tiny`, and validation that runs before any training — the schema (unknown keys, types, ranges),
 * the relations between keys, and the data files the configuration names.
 *
 * @module
 */
import { ConfigError, defineConfig, validateAgainst, type ObjectField, type Triple } from '@swinmm/appkit';

export type { Triple };

/** Every setting of a pre-training run. */
export interface PretrainConfig {
  /** The preset the settings started from. */
  preset: 'paper' | 'tiny';
  /** Seed of every random choice (crops, rotations, masks, views, initial weights). */
  seed: number;
  /** TensorFlow.js backend (`auto` = the best available). */
  backend: 'auto' | 'cpu' | 'wasm' | 'webgpu' | 'tensorflow';
  data: {
    /** MSD-style `dataset.json`; its `training` images (and `unsupervised`, if any) are used, labels ignored. Or null with `images`. */
    manifest: string | null;
    /** Image files used directly (in addition to the manifest's). */
    images: string[];
    /** Intensity window lower end (SwinMM: −1000 HU). */
    aMin: number;
    /** Intensity window upper end (SwinMM: 1000 HU). */
    aMax: number;
  };
  model: {
    /** Input channels (1). */
    inChannels: number;
    /** Swin-ViT feature size F (SwinMM: 48). The heads read 16·F channels. */
    featureSize: number;
    /** Attention heads per stage (SwinMM: 3, 6, 12, 24); F·2^i must be divisible by heads[i]. */
    numHeads: number[];
    /** Blocks per stage (SwinMM: 2, 2, 2, 2). */
    depths: number[];
    /** Stochastic depth rate (SwinMM: 0). */
    dropPathRate: number;
  };
  /** Crop size (SwinMM: 64³). The last Swin stage must keep ≥ 2 tokens: roi/32 must multiply to ≥ 2. */
  roi: Triple;
  /** Volumes per step (SwinMM: 2 per GPU). */
  batchSize: number;
  /** Crops per volume (SwinMM `sw_batch_size`: 2); batchSize·samplesPerVolume ≥ 2 for the contrastive loss. */
  samplesPerVolume: number;
  mask: {
    /** Masked cube edge in voxels (SwinMM: 16); must divide the roi. */
    cube: number;
    /** SwinMM `mask_ratio` (0.5). */
    ratio: number;
  };
  loss: {
    /** Normalise reconstruction targets per volume (SwinMM: on). */
    normPixLoss: boolean;
    /** NT-Xent temperature (0.5). */
    temperature: number;
  };
  optim: {
    /** AdamW learning rate (SwinMM: 5e-4). */
    lr: number;
    /** Weight decay of ≥ 2-D weights except bias tables (0.1). */
    weightDecay: number;
    /** Warm-up steps of the WarmupCosine schedule (500). */
    warmupSteps: number;
    /** Total steps (30 000). */
    steps: number;
    /** Gradient clipping norm or null (SwinMM's AMP path never clips). */
    maxGradNorm: number | null;
    /** Micro-batches per optimizer step (1). */
    accumulationSteps: number;
  };
  output: {
    /** Run folder: checkpoints, `metrics.jsonl`, `loss.svg`, `config.json`. */
    dir: string;
    /** Resumable checkpoint every N steps (SwinMM: 1000) and after the last. */
    checkpointEvery: number;
    /** Checkpoints kept. */
    keepLast: number;
  };
  /** A resumable checkpoint to continue from, or null. */
  resume: string | null;
}

const int = (min: number, doc: string) => ({ kind: 'number' as const, integer: true, min, doc });

/**
 * The schema every configuration is checked against (with the shared validator of
 * `@swinmm/appkit`). Three keys hold lists, which that validator cannot describe:
 * `data.images` (file paths), `model.numHeads` and `model.depths` (4 positive integers each);
 * they are listed in {@link PRETRAIN_LIST_KEYS} and checked separately.
 */
export const PRETRAIN_SCHEMA: ObjectField = {
  kind: 'object',
  doc: 'pre-training configuration',
  fields: {
    preset: { kind: 'string', values: ['paper', 'tiny'], doc: 'the preset the settings start from' },
    seed: int(0, 'seed of every random choice'),
    backend: { kind: 'string', values: ['auto', 'cpu', 'wasm', 'webgpu', 'tensorflow'], doc: 'TensorFlow.js backend' },
    data: {
      kind: 'object',
      doc: 'the images',
      fields: {
        manifest: { kind: 'string', nullable: true, file: true, doc: 'MSD dataset.json (training + unsupervised images), or null' },
        aMin: { kind: 'number', doc: 'intensity window lower end (→ 0)' },
        aMax: { kind: 'number', doc: 'intensity window upper end (→ 1)' },
      },
    },
    model: {
      kind: 'object',
      doc: 'the SSL head',
      fields: {
        inChannels: int(1, 'input channels'),
        featureSize: int(1, 'Swin-ViT feature size F'),
        dropPathRate: { kind: 'number', min: 0, max: 1, doc: 'stochastic depth rate' },
      },
    },
    roi: { kind: 'triple', integer: true, gt: 0, multipleOf: 32, doc: 'crop size along x, y, z (multiples of 32)' },
    batchSize: int(1, 'volumes per step'),
    samplesPerVolume: int(1, 'crops per volume'),
    mask: {
      kind: 'object',
      doc: 'cube masking (SPEC.md §6.3)',
      fields: {
        cube: int(1, 'masked cube edge in voxels'),
        ratio: { kind: 'number', gt: 0, max: 1, doc: 'SwinMM mask_ratio' },
      },
    },
    loss: {
      kind: 'object',
      doc: 'losses (SPEC.md §6.5)',
      fields: {
        normPixLoss: { kind: 'boolean', doc: 'normalise reconstruction targets per volume' },
        temperature: { kind: 'number', gt: 0, doc: 'NT-Xent temperature' },
      },
    },
    optim: {
      kind: 'object',
      doc: 'optimisation (SPEC.md §6.7)',
      fields: {
        lr: { kind: 'number', gt: 0, doc: 'AdamW learning rate' },
        weightDecay: { kind: 'number', min: 0, doc: 'AdamW weight decay' },
        warmupSteps: int(0, 'linear warm-up steps'),
        steps: int(1, 'total optimizer steps'),
        maxGradNorm: { kind: 'number', gt: 0, nullable: true, doc: 'gradient clipping norm, or null' },
        accumulationSteps: int(1, 'micro-batches per optimizer step'),
      },
    },
    output: {
      kind: 'object',
      doc: 'outputs',
      fields: {
        dir: { kind: 'string', doc: 'run folder' },
        checkpointEvery: int(1, 'resumable checkpoint every N steps'),
        keepLast: int(1, 'resumable checkpoints kept'),
      },
    },
    resume: { kind: 'string', nullable: true, file: true, doc: 'resumable checkpoint to continue from, or null' },
  },
};

/** The list-valued keys checked outside {@link PRETRAIN_SCHEMA}, with their documentation. */
export const PRETRAIN_LIST_KEYS: Record<string, string> = {
  'data.images': 'image files used directly (list of paths)',
  'model.numHeads': 'attention heads per stage (4 positive integers)',
  'model.depths': 'Swin blocks per stage (4 positive integers)',
};

/** SwinMM's published pre-training recipe (`Pretrain/run.sh`, per GPU). */
const PAPER: PretrainConfig = {
  preset: 'paper',
  seed: 0,
  backend: 'auto',
  data: { manifest: 'dataset.json', images: [], aMin: -1000, aMax: 1000 },
  model: { inChannels: 1, featureSize: 48, numHeads: [3, 6, 12, 24], depths: [2, 2, 2, 2], dropPathRate: 0 },
  roi: [64, 64, 64],
  batchSize: 2,
  samplesPerVolume: 2,
  mask: { cube: 16, ratio: 0.5 },
  loss: { normPixLoss: true, temperature: 0.5 },
  optim: { lr: 5e-4, weightDecay: 0.1, warmupSteps: 500, steps: 30000, maxGradNorm: null, accumulationSteps: 1 },
  output: { dir: 'runs/pretrain', checkpointEvery: 1000, keepLast: 2 },
  resume: null,
};

/**
 * Minutes on a CPU on the bundled ITK T1 MRI (data/itk, 128×128×62, uint8 values): the SwinMM
 * step unchanged (16³ cubes, 4 passes, all three losses) on a narrow network (F 4, heads
 * 1/2/4/8), one volume × 2 crops of 64×32×32 (the smallest crop whose last Swin stage still has
 * the 2 tokens the heads read, with y = z for the rotations), and the MRI's own intensity range.
 */
const TINY: PretrainConfig = {
  ...structuredClone(PAPER),
  preset: 'tiny',
  data: { manifest: null, images: ['data/itk/KmeansTest_T1UCharRaw.nii.gz'], aMin: 0, aMax: 255 },
  model: { inChannels: 1, featureSize: 4, numHeads: [1, 2, 4, 8], depths: [2, 2, 2, 2], dropPathRate: 0 },
  roi: [64, 32, 32],
  batchSize: 1,
  samplesPerVolume: 2,
  optim: { lr: 1e-3, weightDecay: 0.1, warmupSteps: 5, steps: 40, maxGradNorm: null, accumulationSteps: 1 },
  output: { dir: 'runs/pretrain-tiny', checkpointEvery: 20, keepLast: 1 },
};

/** Names of the presets. */
export const PRETRAIN_PRESETS = ['paper', 'tiny'] as const;

/** A preset by name (a copy). */
export function pretrainPreset(name: 'paper' | 'tiny'): PretrainConfig {
  if (name === 'paper') return structuredClone(PAPER);
  if (name === 'tiny') return structuredClone(TINY);
  throw new ConfigError('preset', [`preset: expected "paper" or "tiny", found ${JSON.stringify(name)}`]);
}

function describe(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** Checks the list-valued keys ({@link PRETRAIN_LIST_KEYS}). */
function listProblems(c: PretrainConfig): string[] {
  const p: string[] = [];
  if (!Array.isArray(c.data.images) || c.data.images.some((s) => typeof s !== 'string' || s.length === 0)) {
    p.push(`data.images: expected a list of file paths, found ${describe(c.data.images)}`);
  }
  for (const key of ['numHeads', 'depths'] as const) {
    const v = c.model[key];
    if (!Array.isArray(v) || v.length !== 4 || v.some((x) => !Number.isInteger(x) || x < 1)) p.push(`model.${key}: expected 4 positive integers, found ${describe(v)}`);
  }
  return p;
}

/** Checks the relations between keys (run once every key has a valid type). */
function relationProblems(c: PretrainConfig): string[] {
  const p: string[] = [];
  if (c.data.manifest === null && c.data.images.length === 0) p.push('data: give data.manifest or at least one file in data.images');
  if (!(c.data.aMax > c.data.aMin)) p.push(`data.aMax: expected a number > data.aMin (${c.data.aMin}), found ${c.data.aMax}`);
  c.model.numHeads.forEach((h, i) => {
    const width = c.model.featureSize * 2 ** i;
    if (width % h !== 0) p.push(`model.numHeads: stage ${i + 1} width ${width} (featureSize·2^${i}) is not divisible by ${h} heads`);
  });
  const tokens = c.roi.reduce((a, r) => a * (r / 32), 1);
  if (tokens < 2) p.push(`roi: the last Swin stage of a [${c.roi.join(', ')}] crop has ${tokens} token(s); the rotation and contrastive heads need 2 (e.g. 64×64×64)`);
  if (c.roi[1] !== c.roi[2]) p.push(`roi: y and z must be equal (rotations in the (y, z) plane swap them), found [${c.roi.join(', ')}]`);
  if (c.roi.some((r) => r % c.mask.cube !== 0)) p.push(`mask.cube: ${c.mask.cube} must divide every roi size [${c.roi.join(', ')}]`);
  if (c.batchSize * c.samplesPerVolume < 2) p.push(`samplesPerVolume: batchSize·samplesPerVolume must be ≥ 2 for the contrastive loss, found ${c.batchSize}·${c.samplesPerVolume}`);
  if (c.optim.warmupSteps >= c.optim.steps) p.push(`optim.warmupSteps: expected fewer than optim.steps (${c.optim.steps}), found ${c.optim.warmupSteps}`);
  return p;
}

// The list-valued keys are taken out before the shared validator runs (it would call them
// unknown) and checked by listProblems.
const LISTS: Record<string, string[]> = { data: ['images'], model: ['numHeads', 'depths'] };

function withoutLists(c: PretrainConfig): unknown {
  const copy = structuredClone(c) as unknown as Record<string, Record<string, unknown>>;
  for (const [group, keys] of Object.entries(LISTS)) {
    if (typeof copy[group] === 'object' && copy[group] !== null) for (const k of keys) delete copy[group][k];
  }
  return copy;
}

const PRETRAIN_CONFIG = defineConfig<PretrainConfig>({
  presets: { paper: PAPER, tiny: TINY },
  defaultPreset: 'paper',
  // Lists replace (deepMerge does not merge arrays), so `data.images` in a file replaces the preset's.
  validate: (merged) => [...validateAgainst(PRETRAIN_SCHEMA, withoutLists(merged)), ...listProblems(merged)],
  relations: relationProblems,
  pathKeys: ['data.manifest', 'data.images', 'resume', 'output.dir'],
  fileKeys: ['data.manifest', 'data.images', 'resume'],
});

/**
 * Builds a configuration from a partial one: the preset it names (default `paper`) with the
 * partial merged over it, validated completely. Relative paths are resolved against `baseDir`.
 * Throws a {@link ConfigError} listing every problem, each naming its key.
 */
export function resolvePretrainConfig(partial: unknown, baseDir = process.cwd(), source = 'config'): PretrainConfig {
  return PRETRAIN_CONFIG.resolve(partial, baseDir, source);
}

/**
 * Reads a JSON configuration file and resolves it; relative paths in it are relative to the file's
 * folder. `overrides` (e.g. from the command line) win over the file.
 */
export function loadPretrainConfig(file: string, overrides: Record<string, unknown> = {}): Promise<PretrainConfig> {
  return PRETRAIN_CONFIG.load(file, overrides);
}

/** Checks that every file the configuration names exists (before any volume is read). */
export function checkPretrainFiles(config: PretrainConfig, source = 'config'): Promise<void> {
  return PRETRAIN_CONFIG.checkFiles(config, source);
}
