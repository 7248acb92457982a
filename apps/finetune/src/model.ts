/**
 * The SwinMM segmenter from `@swinmm/decoder` as a {@link FinetuneModelKit}: construction from
 * the configuration, the fine-tuning loss, encoder initialisation from pre-training checkpoints
 * (ours or the official `.pt`) with a count of the backbone tensors loaded, and weight files with
 * the settings needed to run them again (`swinmm infer`).
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { SwinMMSegmenter, swinmmFinetuneLossParts } from '@swinmm/decoder';
import { readSafetensorsMetadata } from '@swinmm/nn';
import { Rng } from '@swinmm/runtime';
import { writeFileAtomic } from '@swinmm/runtime/files';
import { decodeTrainingCheckpoint, TRAINING_METADATA_KEY } from '@swinmm/train';
import { exportSafetensors, loadIntoModule, readWeightsFile } from '@swinmm/weights';
import type { FinetuneConfig } from './config.js';
import type { FinetuneModelKit, PretrainedReport } from './train.js';

/** The metadata key under which fine-tuned weight files carry their settings. */
export const FINETUNE_METADATA_KEY = 'swinmm.finetune';

/** Builds the segmenter for a configuration. */
export function createSegmenter(model: FinetuneConfig['model'], seed: number): SwinMMSegmenter {
  return new SwinMMSegmenter({
    imgSize: model.roi,
    inChannels: model.inChannels,
    outChannels: model.outChannels,
    featureSize: model.featureSize,
    dropoutPathRate: model.dropPathRate,
    rng: Rng.fromSeed(seed).fork('model-init'),
  });
}

const BACKBONE = 'swinViT.';

function isTrainingCheckpoint(bytes: Uint8Array): boolean {
  try {
    return TRAINING_METADATA_KEY in readSafetensorsMetadata(bytes);
  } catch {
    return false;
  }
}

/**
 * Initialises `model`'s encoder from a pre-training checkpoint: one of ours (a `@swinmm/train`
 * checkpoint of the SSL head, whose parameters carry the same `swinViT.*` names), or a PyTorch
 * file (SwinMM / Swin UNETR pre-training, DDP or not) through `@swinmm/weights`' key mappings.
 * Anything that matches by name and shape is loaded (as SwinMM's `strict=False`); the report
 * says how many backbone tensors that was.
 */
export async function loadPretrainedEncoder(model: SwinMMSegmenter, file: string): Promise<PretrainedReport> {
  const buf = await readFile(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const vars = model.namedVariables();
  const backboneTotal = [...vars.keys()].filter((n) => n.startsWith(BACKBONE)).length;
  if (isTrainingCheckpoint(bytes)) {
    const ckpt = decodeTrainingCheckpoint(bytes, file);
    let loaded = 0, backboneLoaded = 0, unused = 0;
    for (const [name, t] of ckpt.weights) {
      const v = vars.get(name);
      if (!v || v.shape.length !== t.shape.length || v.shape.some((s, i) => s !== t.shape[i])) {
        unused++;
        continue;
      }
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
      loaded++;
      if (name.startsWith(BACKBONE)) backboneLoaded++;
    }
    const summary = `${file}: loaded ${backboneLoaded} of ${backboneTotal} backbone tensors (swinViT.*) from a SwinMM-TS pre-training checkpoint (step ${ckpt.step}); ${loaded} tensors in all, ${unused} unused (pre-training heads)`;
    return { file, backboneLoaded, backboneTotal, loaded, unused, summary };
  }
  const weights = await readWeightsFile(file, { source: 'auto' });
  const report = loadIntoModule(model, weights.mapped, { strict: false, source: file });
  const summary = `${file}: loaded ${report.backboneLoaded} of ${report.backboneTotal} backbone tensors (swinViT.*) through the "${report.mapping}" key mapping; ${report.loaded.length} tensors in all, ${report.unexpected.length} unused, ${report.mismatched.length} mismatched`;
  return { file, backboneLoaded: report.backboneLoaded, backboneTotal: report.backboneTotal, loaded: report.loaded.length, unused: report.unexpected.length, summary };
}

/** The model kit of the real SwinMM segmenter. */
export const swinmmKit: FinetuneModelKit<SwinMMSegmenter> = {
  create: createSegmenter,
  loss(logitsA, logitsB, target) {
    const p = swinmmFinetuneLossParts(logitsA, logitsB, target);
    return { total: p.loss, terms: { diceCE_a: p.diceCE[0], diceCE_b: p.diceCE[1], kl_a: p.consistency[0], kl_b: p.consistency[1] } };
  },
  loadPretrained: loadPretrainedEncoder,
  async saveWeights(model, file, metadata) {
    await writeFileAtomic(file, exportSafetensors(model, { metadata }));
  },
};

/** Settings stored in a fine-tuned weight file. */
export interface FinetunedSettings {
  model: FinetuneConfig['model'];
  transforms: { pixdim: [number, number, number]; aMin: number; aMax: number };
}

/**
 * Loads fine-tuned weights for inference. The model settings come from the file's metadata
 * (written by fine-tuning) or from `settings` (e.g. for official PyTorch weights). A file for
 * another class count is refused with both numbers.
 */
export async function loadFinetuned(file: string, settings?: Partial<FinetunedSettings>): Promise<{ model: SwinMMSegmenter; settings: FinetunedSettings }> {
  const buf = await readFile(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let stored: Partial<FinetunedSettings> = {};
  try {
    const meta = readSafetensorsMetadata(bytes);
    if (meta[FINETUNE_METADATA_KEY]) stored = JSON.parse(meta[FINETUNE_METADATA_KEY]) as FinetunedSettings;
  } catch {
    // not safetensors: a PyTorch file; settings must come from the caller
  }
  const model = { ...stored.model, ...settings?.model } as FinetuneConfig['model'];
  const transforms = { ...stored.transforms, ...settings?.transforms } as FinetunedSettings['transforms'];
  if (!model.outChannels || !model.featureSize || !model.roi || !transforms.pixdim) {
    throw new Error(`${file}: the weights do not say how the model was configured (no "${FINETUNE_METADATA_KEY}" metadata); pass the fine-tuning config (--config)`);
  }
  model.inChannels ??= 1;
  model.dropPathRate ??= 0;
  const weights = await readWeightsFile(file, { source: 'auto' });
  const out = weights.mapped.tensors.get('out.conv.conv.weight');
  if (out && out.shape[0] !== model.outChannels) {
    throw new Error(`${file}: the weights are for ${out.shape[0]} classes (out.conv.conv.weight has shape [${out.shape.join(', ')}]) but the model is configured for ${model.outChannels} (model.outChannels)`);
  }
  const seg = createSegmenter(model, 0);
  try {
    loadIntoModule(seg, weights.mapped, { strict: true, source: file });
  } catch (e) {
    seg.dispose();
    throw e;
  }
  seg.eval();
  return { model: seg, settings: { model, transforms } };
}
