/**
 * `swinmm evaluate`: per-case and per-class Dice, HD95, ASD and NSD of predicted label maps
 * against ground truth, written as CSV and as a Markdown table.
 *
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareGrids, readLabel, type LabelArray, type Volume } from '@swinmm/data';
import { evaluateSegmentation, type SegmentationEvaluation } from '@swinmm/metrics';
import { writeFileAtomic } from '@swinmm/runtime/files';

/** Extensions recognised as label maps. */
export const LABEL_EXTENSIONS = ['.nii.gz', '.nii', '.nrrd', '.nhdr', '.mha', '.mhd'] as const;

/** The case name of a file: its name without a recognised extension, else null. */
export function caseName(file: string): string | null {
  for (const ext of LABEL_EXTENSIONS) if (file.toLowerCase().endsWith(ext)) return file.slice(0, -ext.length);
  return null;
}

/** Options of {@link evaluateVolumes} and {@link evaluateFolders}. */
export interface EvaluateCasesOptions {
  /** Classes to evaluate (default: every non-zero label found in the ground truth or prediction). */
  labels?: readonly number[];
  /** Class names for the tables, by label value. */
  classNames?: Record<number, string>;
  /** NSD tolerance in mm (default 1). */
  nsdTolerance?: number;
  /** Percentile of the Hausdorff distance (default 95). */
  percentile?: number;
  /** Called after each case. */
  onCase?: (done: number, total: number, name: string) => void;
}

/** One row of the per-case table: one case, one class. */
export interface CaseClassRow {
  case: string;
  label: number;
  name: string;
  dice: number;
  hd95: number;
  asd: number;
  nsd: number;
  gtVoxels: number;
  predVoxels: number;
}

/** What {@link evaluateFolders} computed. */
export interface EvaluationReport {
  /** One row per case and class. */
  rows: CaseClassRow[];
  /** Per class: the mean over cases (NaN entries skipped). */
  perClass: { label: number; name: string; dice: number; hd95: number; asd: number; nsd: number; cases: number }[];
  /** Mean over classes of the per-class means. */
  mean: { dice: number; hd95: number; asd: number; nsd: number };
  /** The evaluated labels. */
  labels: number[];
  /** Case names in order. */
  cases: string[];
}

function nanMean(values: readonly number[]): number {
  const ok = values.filter((v) => !Number.isNaN(v));
  if (ok.length === 0) return Number.NaN;
  return ok.reduce((a, b) => a + b, 0) / ok.length;
}

/**
 * Evaluates prediction/ground-truth pairs that are already in memory. Each pair must share a grid
 * (shape, spacing, origin, direction); distances use the ground truth's spacing in mm.
 */
export function evaluateVolumes(
  pairs: readonly { name: string; pred: Volume<LabelArray>; gt: Volume<LabelArray> }[],
  options: EvaluateCasesOptions = {},
): EvaluationReport {
  if (pairs.length === 0) throw new RangeError('evaluate: no cases to evaluate');
  let labels = options.labels ? [...options.labels] : null;
  if (!labels) {
    const found = new Set<number>();
    for (const { gt, pred } of pairs) {
      for (const v of gt.data) if (v > 0) found.add(v);
      for (const v of pred.data) if (v > 0) found.add(v);
    }
    labels = [...found].sort((a, b) => a - b);
  }
  if (labels.length === 0) throw new RangeError('evaluate: no foreground label in any ground truth or prediction; pass labels explicitly');
  const rows: CaseClassRow[] = [];
  const nameOf = (l: number): string => options.classNames?.[l] ?? `class ${l}`;
  pairs.forEach(({ name, pred, gt }, i) => {
    const diff = compareGrids(pred, gt, 1e-3);
    if (diff) {
      throw new RangeError(`evaluate: prediction ${pred.source ?? name} and ground truth ${gt.source ?? name} are on different grids (${diff.message}); resample the prediction onto the ground truth's grid`);
    }
    const result: SegmentationEvaluation = evaluateSegmentation(pred, gt, {
      labels: labels as number[],
      spacing: gt.spacing,
      nsdTolerance: options.nsdTolerance ?? 1,
      percentile: options.percentile ?? 95,
    });
    for (const c of result.classes) {
      rows.push({ case: name, label: c.label, name: nameOf(c.label), dice: c.dice, hd95: c.hd95, asd: c.asd, nsd: c.nsd, gtVoxels: c.gtVoxels, predVoxels: c.predVoxels });
    }
    options.onCase?.(i + 1, pairs.length, name);
  });
  const perClass = labels.map((label) => {
    const r = rows.filter((row) => row.label === label);
    return {
      label,
      name: nameOf(label),
      dice: nanMean(r.map((x) => x.dice)),
      hd95: nanMean(r.map((x) => x.hd95)),
      asd: nanMean(r.map((x) => x.asd)),
      nsd: nanMean(r.map((x) => x.nsd)),
      cases: r.filter((x) => !Number.isNaN(x.dice)).length,
    };
  });
  return {
    rows,
    perClass,
    mean: {
      dice: nanMean(perClass.map((c) => c.dice)),
      hd95: nanMean(perClass.map((c) => c.hd95)),
      asd: nanMean(perClass.map((c) => c.asd)),
      nsd: nanMean(perClass.map((c) => c.nsd)),
    },
    labels,
    cases: pairs.map((p) => p.name),
  };
}

function num(v: number, digits = 4): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(digits);
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The per-case, per-class table as CSV (`case,label,name,dice,hd95,asd,nsd,gt_voxels,pred_voxels`). */
export function reportToCsv(report: EvaluationReport): string {
  const lines = ['case,label,name,dice,hd95_mm,asd_mm,nsd,gt_voxels,pred_voxels'];
  for (const r of report.rows) {
    lines.push([csvField(r.case), r.label, csvField(r.name), num(r.dice, 6), num(r.hd95, 6), num(r.asd, 6), num(r.nsd, 6), r.gtVoxels, r.predVoxels].join(','));
  }
  return lines.join('\n') + '\n';
}

/** The per-class means (and, for a few cases, per-case Dice) as a Markdown document. */
export function reportToMarkdown(report: EvaluationReport, title = 'Segmentation metrics'): string {
  const out: string[] = [`# ${title}`, '', `${report.cases.length} case(s); distances in mm; NaN = class absent from the ground truth.`, ''];
  out.push('| class | Dice | HD95 (mm) | ASD (mm) | NSD | cases |', '|---|---:|---:|---:|---:|---:|');
  for (const c of report.perClass) out.push(`| ${c.label} ${c.name} | ${num(c.dice)} | ${num(c.hd95, 2)} | ${num(c.asd, 2)} | ${num(c.nsd)} | ${c.cases} |`);
  out.push(`| **mean** | **${num(report.mean.dice)}** | **${num(report.mean.hd95, 2)}** | **${num(report.mean.asd, 2)}** | **${num(report.mean.nsd)}** | |`, '');
  if (report.cases.length <= 50) {
    out.push('## Dice per case', '', `| case | ${report.labels.join(' | ')} |`, `|---|${report.labels.map(() => '---:').join('|')}|`);
    for (const name of report.cases) {
      const cells = report.labels.map((l) => num(report.rows.find((r) => r.case === name && r.label === l)?.dice ?? Number.NaN));
      out.push(`| ${name} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** Options of {@link evaluateFolders}. */
export interface EvaluateFoldersOptions extends EvaluateCasesOptions {
  /** Write `metrics.csv` and `metrics.md` here (default: print only). */
  outDir?: string;
}

/**
 * Pairs the label maps of `predDir` and `gtDir` by case name (file name without extension), reads
 * them, checks that each pair shares a grid and evaluates them. A ground truth without a
 * prediction is an error naming it (a missing case would otherwise inflate the means).
 */
export async function evaluateFolders(predDir: string, gtDir: string, options: EvaluateFoldersOptions = {}): Promise<EvaluationReport & { files: string[] }> {
  const list = async (dir: string, what: string): Promise<Map<string, string>> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw new Error(`evaluate: cannot read the ${what} folder ${dir}: ${(err as Error).message}`);
    }
    const out = new Map<string, string>();
    for (const n of names.sort()) {
      const c = caseName(n);
      if (c !== null) out.set(c, join(dir, n));
    }
    if (out.size === 0) throw new Error(`evaluate: no label maps (${LABEL_EXTENSIONS.join(', ')}) in the ${what} folder ${dir}`);
    return out;
  };
  const preds = await list(predDir, 'prediction');
  const gts = await list(gtDir, 'ground-truth');
  const missing = [...gts.keys()].filter((c) => !preds.has(c));
  if (missing.length > 0) {
    throw new Error(`evaluate: ${missing.length} ground-truth case(s) have no prediction in ${predDir}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`);
  }
  const pairs: { name: string; pred: Volume<LabelArray>; gt: Volume<LabelArray> }[] = [];
  for (const [name, gtFile] of gts) {
    pairs.push({ name, pred: await readLabel(preds.get(name) as string), gt: await readLabel(gtFile) });
  }
  const report = evaluateVolumes(pairs, options);
  const files: string[] = [];
  if (options.outDir) {
    const csv = join(options.outDir, 'metrics.csv');
    const md = join(options.outDir, 'metrics.md');
    await writeFileAtomic(csv, reportToCsv(report));
    await writeFileAtomic(md, reportToMarkdown(report));
    files.push(csv, md);
  }
  return { ...report, files };
}
