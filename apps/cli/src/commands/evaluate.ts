/**
 * `swinmm evaluate --pred <dir> --gt <dir>`: per-case and per-class Dice, HD95, ASD and NSD of
 * predicted label maps against the ground truth, as CSV and a Markdown table.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { evaluateFolders, reportToMarkdown } from '@swinmm/finetune';
import { CliError, type Command } from '../command.js';

function parseLabels(text: string): number[] {
  const labels = text.split(',').map((s) => Number(s.trim()));
  if (labels.length === 0 || labels.some((l) => !Number.isInteger(l) || l < 0)) {
    throw new CliError(`--labels ${text}: expected comma-separated class values such as 1,2,3`);
  }
  return labels;
}

/** Class names from an MSD `dataset.json` (`labels: { "1": "liver", … }`). */
async function classNamesFrom(file: string): Promise<Record<number, string>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`--names ${file}: cannot read it as JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const labels = (json as { labels?: unknown }).labels;
  if (typeof labels !== 'object' || labels === null) throw new CliError(`--names ${file}: expected a "labels" object mapping class values to names`);
  return Object.fromEntries(Object.entries(labels as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)]));
}

/** The evaluate command. */
export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'per-case and per-class Dice / HD95 / ASD / NSD of predicted label maps (CSV + Markdown)',
  usage: '--pred <dir> --gt <dir> [--out <dir>] [--labels 1,2,…] [--nsd-tolerance MM] [--names dataset.json]',
  description: [
    'Label maps are paired by file name (without .nii.gz/.nii/.nrrd/.mha…). Each prediction must be on',
    "its ground truth's grid (as `swinmm infer` writes them); distances are in mm from the ground",
    "truth's spacing. A class absent from a ground truth gives NaN and is skipped in the means.",
  ].join('\n'),
  options: {
    pred: { type: 'string', description: 'folder of predicted label maps', valueName: 'DIR' },
    gt: { type: 'string', description: 'folder of ground-truth label maps', valueName: 'DIR' },
    out: { type: 'string', short: 'o', description: 'write metrics.csv and metrics.md here', valueName: 'DIR' },
    labels: { type: 'string', description: 'classes to evaluate (default: every non-zero label found)', valueName: 'LIST' },
    'nsd-tolerance': { type: 'string', description: 'NSD tolerance in mm', valueName: 'MM', default: '1' },
    names: { type: 'string', description: 'class names from an MSD dataset.json', valueName: 'FILE' },
  },
  async run({ positionals, values }, io) {
    if (positionals.length > 0) throw new CliError(`unexpected argument(s): ${positionals.join(' ')}`);
    if (typeof values.pred !== 'string' || typeof values.gt !== 'string') throw new CliError('--pred <dir> and --gt <dir> are both required');
    const tolerance = Number(values['nsd-tolerance'] ?? '1');
    if (!(tolerance > 0)) throw new CliError(`--nsd-tolerance ${String(values['nsd-tolerance'])}: expected a number of mm > 0`);
    const report = await evaluateFolders(values.pred, values.gt, {
      outDir: typeof values.out === 'string' ? values.out : undefined,
      labels: typeof values.labels === 'string' ? parseLabels(values.labels) : undefined,
      nsdTolerance: tolerance,
      classNames: typeof values.names === 'string' ? await classNamesFrom(values.names) : undefined,
      onCase: (done, total, name) => io.err(`evaluated ${name} (${done}/${total})`),
    });
    io.out(reportToMarkdown(report));
    for (const f of report.files) io.out(`wrote ${f}`);
    return 0;
  },
};
