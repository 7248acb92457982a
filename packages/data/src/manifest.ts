/**
 * Dataset manifests in the Medical Segmentation Decathlon `dataset.json` form that MONAI's
 * `load_decathlon_datalist` and SwinMM read: `training` / `validation` / `test` lists of
 * `{ image, label }` (or bare image paths, as MSD's `test`), SwinMM's `unsupervised` list for
 * unlabelled volumes, and `labels` declaring the classes. Paths are relative to the manifest.
 * {@link validateManifest} finds every problem (missing file, image/label grids that disagree,
 * label values outside the declared classes) before any training starts.
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { compareGrids } from './geometry.js';
import { checkLabelValues, readLabel, readVolumeInfo } from './io.js';

/** The lists a manifest may hold. */
export const MANIFEST_SPLITS = ['training', 'validation', 'test', 'unsupervised'] as const;

/** One of {@link MANIFEST_SPLITS}. */
export type ManifestSplit = (typeof MANIFEST_SPLITS)[number];

/** One volume of a manifest, with absolute paths. */
export interface ManifestEntry {
  /** The image file. */
  image: string;
  /** Its label map, if it has one. */
  label?: string;
}

/** A parsed `dataset.json`. */
export interface DatasetManifest {
  /** The manifest file (absolute). */
  file: string;
  /** The folder paths are relative to (the manifest's folder). */
  root: string;
  /** `name`, if given. */
  name?: string;
  /** `description`, if given. */
  description?: string;
  /** `labels` as declared: class value → name. */
  labels?: Record<string, string>;
  /** The declared class values, ascending (from `labels`), if declared. */
  classes?: number[];
  /** `training` entries. */
  training: ManifestEntry[];
  /** `validation` entries. */
  validation: ManifestEntry[];
  /** `test` entries. */
  test: ManifestEntry[];
  /** SwinMM's `unsupervised` entries (unlabelled volumes). */
  unsupervised: ManifestEntry[];
}

/** One thing wrong with a manifest. */
export interface ManifestProblem {
  /** The list the entry is in. */
  split: ManifestSplit;
  /** Its position in that list. */
  index: number;
  /** The file concerned. */
  file: string;
  /** What kind of problem: a file that is not there, one that cannot be read, grids that differ, or bad label values. */
  kind: 'missing' | 'unreadable' | 'grid' | 'labels';
  /** A sentence for people, naming the file. */
  message: string;
}

/** Thrown by {@link parseManifest} on malformed JSON structure and by {@link openManifest} with every problem found. */
export class ManifestError extends Error {
  /** The problems, when the error comes from validation. */
  readonly problems: ManifestProblem[];
  constructor(message: string, problems: ManifestProblem[] = []) {
    super(message);
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

function parseEntry(file: string, root: string, split: ManifestSplit, index: number, item: unknown): ManifestEntry {
  const where = `${file}: ${split}[${index}]`;
  if (typeof item === 'string') return { image: resolve(root, item) };
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new ManifestError(`${where} should be an image path or an object {"image", "label"}, found ${JSON.stringify(item)}`);
  }
  const { image, label } = item as Record<string, unknown>;
  if (typeof image !== 'string' || image === '') throw new ManifestError(`${where}.image should be a non-empty path, found ${JSON.stringify(image)}`);
  if (label !== undefined && (typeof label !== 'string' || label === '')) {
    throw new ManifestError(`${where}.label should be a non-empty path, found ${JSON.stringify(label)}`);
  }
  const entry: ManifestEntry = { image: resolve(root, image) };
  if (typeof label === 'string') entry.label = resolve(root, label);
  return entry;
}

/**
 * Checks the structure of a `dataset.json` already parsed from JSON and resolves its paths
 * against the manifest's folder (absolute paths stay as they are, as in MONAI). Throws
 * {@link ManifestError} naming the key that is wrong.
 */
export function parseManifest(json: unknown, file: string): DatasetManifest {
  const path = resolve(file);
  const root = dirname(path);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ManifestError(`${path}: a dataset manifest should be a JSON object, found ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}`);
  }
  const obj = json as Record<string, unknown>;
  const manifest: DatasetManifest = { file: path, root, training: [], validation: [], test: [], unsupervised: [] };
  for (const split of MANIFEST_SPLITS) {
    const list = obj[split];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new ManifestError(`${path}: "${split}" should be a list, found ${JSON.stringify(list)}`);
    manifest[split] = list.map((item, i) => parseEntry(path, root, split, i, item));
  }
  if (MANIFEST_SPLITS.every((s) => manifest[s].length === 0)) {
    throw new ManifestError(`${path}: no volumes: expected at least one of ${MANIFEST_SPLITS.map((s) => `"${s}"`).join(', ')} to be a non-empty list`);
  }
  if (typeof obj.name === 'string') manifest.name = obj.name;
  if (typeof obj.description === 'string') manifest.description = obj.description;
  if (obj.labels !== undefined) {
    const labels = obj.labels;
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
      throw new ManifestError(`${path}: "labels" should be an object {"0": "background", …}, found ${JSON.stringify(labels)}`);
    }
    const classes: number[] = [];
    const names: Record<string, string> = {};
    for (const [key, name] of Object.entries(labels as Record<string, unknown>)) {
      const value = Number(key);
      if (key.trim() === '' || !Number.isInteger(value)) throw new ManifestError(`${path}: "labels" keys should be integer class values, found "${key}"`);
      names[key] = String(name);
      classes.push(value);
    }
    manifest.labels = names;
    manifest.classes = classes.sort((a, b) => a - b);
  }
  return manifest;
}

/** Reads and parses a `dataset.json` (see {@link parseManifest}). */
export async function loadManifest(file: string): Promise<DatasetManifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ManifestError(`${resolve(file)}: cannot read the manifest (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${resolve(file)}: not valid JSON (${(err as Error).message})`);
  }
  return parseManifest(json, file);
}

/** Options of {@link validateManifest}. */
export interface ValidateManifestOptions {
  /** Which lists to check (default: all). */
  splits?: readonly ManifestSplit[];
  /** Allowed label values: a count n (0 … n−1) or a list. Default: the manifest's `labels`, if any. */
  classes?: number | readonly number[];
  /** Read every label map to check its values (default true; the only check that reads voxels). */
  checkLabelValues?: boolean;
  /** Largest difference in mm (and in direction cosines) for two grids to count as the same (default 1e-3). */
  tolerance?: number;
  /** Entries checked at the same time (default 2). */
  concurrency?: number;
  /** Called after each entry with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

async function exists(path: string): Promise<boolean> {
  try {
    // A folder is a DICOM series.
    const s = await stat(path);
    return s.isFile() || s.isDirectory();
  } catch {
    return false;
  }
}

async function checkEntry(split: ManifestSplit, index: number, entry: ManifestEntry, options: ValidateManifestOptions, classes: number | readonly number[] | undefined): Promise<ManifestProblem[]> {
  const problems: ManifestProblem[] = [];
  const problem = (file: string, kind: ManifestProblem['kind'], message: string): void => {
    problems.push({ split, index, file, kind, message: `${split}[${index}]: ${message}` });
  };
  const imageThere = await exists(entry.image);
  if (!imageThere) problem(entry.image, 'missing', `image file not found: ${entry.image}`);
  const labelThere = entry.label !== undefined && (await exists(entry.label));
  if (entry.label !== undefined && !labelThere) problem(entry.label, 'missing', `label file not found: ${entry.label}`);
  if (!imageThere) return problems;
  let info;
  try {
    info = await readVolumeInfo(entry.image);
  } catch (err) {
    problem(entry.image, 'unreadable', (err as Error).message);
    return problems;
  }
  if (!labelThere || entry.label === undefined) return problems;
  const labelPath = entry.label;
  if (options.checkLabelValues === false) {
    try {
      const labelInfo = await readVolumeInfo(labelPath);
      const diff = compareGrids(info, labelInfo, options.tolerance ?? 1e-3);
      if (diff) problem(labelPath, 'grid', `image ${entry.image} and label ${labelPath} are on different grids: ${diff.message}`);
    } catch (err) {
      problem(labelPath, 'unreadable', (err as Error).message);
    }
    return problems;
  }
  let label;
  try {
    label = await readLabel(labelPath);
  } catch (err) {
    const message = (err as Error).message;
    problem(labelPath, /integer class indices/.test(message) ? 'labels' : 'unreadable', message);
    return problems;
  }
  const diff = compareGrids(info, label, options.tolerance ?? 1e-3);
  if (diff) problem(labelPath, 'grid', `image ${entry.image} and label ${labelPath} are on different grids: ${diff.message}`);
  if (classes !== undefined) {
    try {
      checkLabelValues(label.data, label.shape, classes, labelPath);
    } catch (err) {
      problem(labelPath, 'labels', (err as Error).message);
    }
  }
  return problems;
}

/**
 * Checks every entry of a manifest and returns all problems found (an empty list when it is
 * sound): files that are missing or unreadable (with the reason, e.g. a truncated gzip stream),
 * image/label pairs whose grids (shape, spacing, origin, direction) disagree, label maps holding
 * non-integer values or values outside the declared classes.
 */
export async function validateManifest(manifest: DatasetManifest, options: ValidateManifestOptions = {}): Promise<ManifestProblem[]> {
  const splits = options.splits ?? MANIFEST_SPLITS;
  const classes = options.classes ?? manifest.classes;
  const jobs: { split: ManifestSplit; index: number; entry: ManifestEntry }[] = [];
  for (const split of splits) manifest[split].forEach((entry, index) => jobs.push({ split, index, entry }));
  const results: ManifestProblem[][] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 2));
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const k = next++;
      const { split, index, entry } = jobs[k];
      results[k] = await checkEntry(split, index, entry, options, classes);
      done++;
      options.onProgress?.(done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return results.flat();
}

/**
 * Loads a manifest and validates it (see {@link validateManifest}); throws one
 * {@link ManifestError} that lists every problem with its file name, so that a bad dataset is
 * reported before any training.
 */
export async function openManifest(file: string, options: ValidateManifestOptions = {}): Promise<DatasetManifest> {
  const manifest = await loadManifest(file);
  const problems = await validateManifest(manifest, options);
  if (problems.length > 0) {
    throw new ManifestError(
      `${manifest.file}: ${problems.length} problem(s) found:\n` + problems.map((p) => `  - ${p.message}`).join('\n'),
      problems,
    );
  }
  return manifest;
}
