// `npm run demo`: the whole SwinMM pipeline on the bundled MRI, on the CPU.
import { runDemo } from './demo.js';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
runDemo({ log }).then(
  (r) => {
    const p = (label: string, file: string) => process.stdout.write(`  ${label.padEnd(22)} ${file}\n`);
    process.stdout.write(`\nSwinMM demo done in ${r.seconds.total.toFixed(0)} s (pre-training ${r.seconds.pretrain.toFixed(0)} s, fine-tuning ${r.seconds.finetune.toFixed(0)} s, inference ${r.seconds.infer.toFixed(0)} s, evaluation ${r.seconds.evaluate.toFixed(0)} s)\n`);
    process.stdout.write(`encoder initialised from pre-training: ${r.backboneLoaded} of ${r.backboneTotal} backbone tensors\n`);
    process.stdout.write(`mean tissue Dice (classes 1-6, trained and evaluated on the same volume): ${r.report.mean.dice.toFixed(4)}\n\n`);
    p('prediction (NIfTI)', r.prediction);
    p('metrics table', r.metricsMarkdown);
    p('metrics CSV', r.metricsCsv);
    p('pre-training loss', r.pretrainLossCurve);
    p('fine-tuning loss', r.finetuneLossCurve);
    p('overlay (prediction)', r.overlayPng);
    p('overlay (ground truth)', r.groundTruthPng);
    p('fine-tuned weights', r.finetuneWeights);
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
