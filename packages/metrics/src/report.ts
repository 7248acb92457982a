/**
 * Tables of per-case, per-class metrics: CSV for machines, Markdown for people, and the
 * per-class means over cases (NaN skipped, as MONAI's "mean" reduction).
 *
 * @module
 */
import { nanMean } from './reduce.js';
import type { ClassMetrics, SegmentationEvaluation } from './metrics.js';

/** The metrics a table can show. */
export type MetricName = 'dice' | 'hd95' | 'hd' | 'asd' | 'assd' | 'nsd';

/** Every metric, in table order. */
export const METRIC_NAMES: readonly MetricName[] = ['dice', 'hd95', 'hd', 'asd', 'assd', 'nsd'];

/** One evaluated case: its name (e.g. the file) and its evaluation. */
export interface CaseEvaluation {
  /** The case's name, printed in the tables. */
  name: string;
  /** What {@link evaluateSegmentation} returned for it. */
  evaluation: SegmentationEvaluation;
}

/** Per-class summary over cases. */
export interface ClassSummary {
  /** The class label. */
  label: number;
  /** Mean of each metric over the cases where it is not NaN (Infinity propagates). */
  mean: Record<MetricName, number>;
  /** How many cases contributed to each mean. */
  count: Record<MetricName, number>;
}

/** Per-class means over cases, classes in order of first appearance. */
export function summarizeCases(cases: readonly CaseEvaluation[]): ClassSummary[] {
  const byLabel = new Map<number, ClassMetrics[]>();
  for (const c of cases) {
    for (const m of c.evaluation.classes) {
      const list = byLabel.get(m.label) ?? [];
      list.push(m);
      byLabel.set(m.label, list);
    }
  }
  return [...byLabel.entries()].map(([label, list]) => {
    const mean = {} as Record<MetricName, number>;
    const count = {} as Record<MetricName, number>;
    for (const k of METRIC_NAMES) {
      const r = nanMean(list.map((m) => m[k]));
      mean[k] = r.mean;
      count[k] = r.count;
    }
    return { label, mean, count };
  });
}

/**
 * CSV with one row per case and class: `case,label,dice,hd95,hd,asd,assd,nsd,nsd_tolerance,
 * pred_voxels,gt_voxels`. Numbers are written in full precision; NaN and Infinity as `nan`,
 * `inf` (what pandas and NumPy read back).
 */
export function casesToCsv(cases: readonly CaseEvaluation[]): string {
  const header = ['case', 'label', ...METRIC_NAMES, 'nsd_tolerance', 'pred_voxels', 'gt_voxels'];
  const rows = [header.join(',')];
  for (const c of cases) {
    for (const m of c.evaluation.classes) {
      rows.push(
        [csvField(c.name), m.label, ...METRIC_NAMES.map((k) => csvNumber(m[k])), csvNumber(m.nsdTolerance), m.predVoxels, m.gtVoxels].join(','),
      );
    }
  }
  return rows.join('\n') + '\n';
}

/** Options of {@link casesToMarkdown}. */
export interface MarkdownOptions {
  /** Metrics to show; default all. */
  metrics?: readonly MetricName[];
  /** Digits after the decimal point; default 4. */
  digits?: number;
  /** Display names of the labels (e.g. organ names), by label. */
  labelNames?: Readonly<Record<number, string>>;
}

/**
 * A Markdown table with one row per class (mean over cases, NaN skipped) and a last row with the
 * mean over classes. Dice and NSD are shown as fractions; distances in mm (or voxels without a
 * spacing).
 */
export function casesToMarkdown(cases: readonly CaseEvaluation[], options: MarkdownOptions = {}): string {
  const metrics = options.metrics ?? METRIC_NAMES;
  const digits = options.digits ?? 4;
  const summary = summarizeCases(cases);
  const fmt = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '∞' : v.toFixed(digits));
  const lines = [
    `| class | ${metrics.join(' | ')} |`,
    `| --- | ${metrics.map(() => '---:').join(' | ')} |`,
    ...summary.map((s) => `| ${options.labelNames?.[s.label] ?? s.label} | ${metrics.map((k) => fmt(s.mean[k])).join(' | ')} |`),
    `| **mean** | ${metrics.map((k) => fmt(nanMean(summary.map((s) => s.mean[k])).mean)).join(' | ')} |`,
  ];
  return lines.join('\n') + '\n';
}

function csvNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return String(v);
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
