/**
 * `swinmm infer -i <image|folder> -o <dir> --weights <file>`: SwinMM's multi-view inference
 * (three double sliding windows, six softmax maps fused), label maps written on each input's own
 * grid and orientation.
 *
 * @module
 */
import { initBackend, type BackendPreference } from '@swinmm/runtime';
import { ProgressBar } from '@swinmm/appkit';
import { inferFiles, loadFinetuned, loadFinetuneConfig } from '@swinmm/finetune';
import type { ViewId } from '@swinmm/transforms/tensor';
import { CliError, type Command } from '../command.js';

function numberOption(name: string, value: unknown, ok: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!ok(n)) throw new CliError(`--${name} ${String(value)}: expected ${what}`);
  return n;
}

/** The infer command. */
export const inferCommand: Command = {
  name: 'infer',
  summary: 'segment images with fine-tuned SwinMM weights (multi-view sliding window, written on the input grid)',
  usage: '-i <image|folder> -o <dir> --weights <file> [--overlap 0.5] [--sw-batch 4] [--views 0,1,2] [--probabilities]',
  description: [
    'Each image is oriented to RAS, resampled to the training voxel size and windowed as in training;',
    'the three view pairs (0,1), (1,2), (2,0) each run a sliding window and their six softmax maps are',
    "fused; the probabilities are resampled back onto the input's own grid and the argmax written with",
    "the input's file name, format and affine. Weights written by `swinmm finetune` carry their",
    'settings; for other weights pass the fine-tuning config with --config.',
  ].join('\n'),
  options: {
    input: { type: 'string', short: 'i', description: 'an image file or a folder of images', valueName: 'PATH' },
    output: { type: 'string', short: 'o', description: 'output folder', valueName: 'DIR' },
    weights: { type: 'string', short: 'w', description: 'fine-tuned weights (.safetensors from swinmm finetune, or .pt with --config)', valueName: 'FILE' },
    config: { type: 'string', short: 'c', description: 'fine-tuning config giving the model settings (for weights without them)', valueName: 'FILE' },
    overlap: { type: 'string', description: 'sliding-window overlap', valueName: 'F', default: '0.5' },
    'sw-batch': { type: 'string', description: 'windows per forward pass', valueName: 'N', default: '4' },
    mode: { type: 'string', description: 'window blending: gaussian or constant', valueName: 'MODE', default: 'gaussian' },
    views: { type: 'string', description: 'view pairs to run (0,1,2 = all six maps)', valueName: 'LIST', default: '0,1,2' },
    probabilities: { type: 'boolean', description: 'also write <case>_prob_<c>.nii.gz per class' },
    backend: { type: 'string', description: 'TensorFlow.js backend (auto, cpu, wasm, webgpu, tensorflow)', valueName: 'NAME', default: 'auto' },
  },
  async run({ positionals, values }, io) {
    if (positionals.length > 0) throw new CliError(`unexpected argument(s): ${positionals.join(' ')}`);
    const { input, output, weights } = values;
    if (typeof input !== 'string' || typeof output !== 'string' || typeof weights !== 'string') {
      throw new CliError('-i <image|folder>, -o <dir> and --weights <file> are all required');
    }
    const overlap = numberOption('overlap', values.overlap, (n) => n >= 0 && n < 1, 'a number in [0, 1)') ?? 0.5;
    const swBatch = numberOption('sw-batch', values['sw-batch'], (n) => Number.isInteger(n) && n >= 1, 'an integer ≥ 1') ?? 4;
    const mode = String(values.mode ?? 'gaussian');
    if (mode !== 'gaussian' && mode !== 'constant') throw new CliError(`--mode ${mode}: expected gaussian or constant`);
    const views = String(values.views ?? '0,1,2').split(',').map(Number);
    if (views.length === 0 || views.some((v) => v !== 0 && v !== 1 && v !== 2)) throw new CliError(`--views ${String(values.views)}: expected a list of 0, 1, 2`);
    const backend = String(values.backend ?? 'auto');
    await initBackend(backend === 'auto' ? undefined : (backend as BackendPreference), { log: (l) => io.err(l) });
    const cfg = typeof values.config === 'string' ? await loadFinetuneConfig(values.config) : undefined;
    const { model, settings } = await loadFinetuned(weights, cfg ? { model: cfg.model, transforms: cfg.transforms } : undefined);
    try {
      let bar: ProgressBar | null = null;
      const done = await inferFiles(input, output, (xa, xb, v) => model.forwardViews(xa, xb, v), {
        pixdim: settings.transforms.pixdim,
        aMin: settings.transforms.aMin,
        aMax: settings.transforms.aMax,
        roi: settings.model.roi,
        outChannels: settings.model.outChannels,
        overlap,
        swBatchSize: swBatch,
        mode,
        views: views as ViewId[],
        probabilities: Boolean(values.probabilities),
        onCase: ({ index, total, file }) => {
          bar?.finish();
          bar = null;
          io.err(`[${index + 1}/${total}] ${file}`);
        },
        onProgress: ({ viewIndex, viewCount, windowsDone, windowsTotal }) => {
          bar ??= new ProgressBar('infer', viewCount * windowsTotal, process.stderr, { unit: 'window' });
          bar.update(viewIndex * windowsTotal + windowsDone);
        },
      });
      (bar as ProgressBar | null)?.finish();
      for (const d of done) io.out(`${d.input} → ${d.output} (${d.seconds.toFixed(1)} s)${d.probabilities.length ? ` + ${d.probabilities.length} probability maps` : ''}`);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
