/**
 * A sample loader in the manner of MONAI's `CacheDataset` + `DataLoader`: each volume is read and
 * put through the deterministic transforms once (cached in memory, optionally on disk), then every
 * epoch a copy goes through the random transforms with a random stream that depends only on the
 * seed, the epoch and the volume — never on timing or concurrency — so runs are reproducible.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Observable, Subject } from 'rxjs';
import { DataFileError } from './file-check.js';
import { readLabel, readVolume, writeVolume, type LabelArray } from './io.js';
import type { ManifestEntry } from './manifest.js';
import type { Volume } from './volume.js';

/** What the loader yields by default: an image, its label map if any, and an id. */
export interface Sample {
  /** Identifies the volume (by default the image path). */
  id: string;
  /** The image, float32. */
  image: Volume<Float32Array>;
  /** The label map, if the entry has one. */
  label?: Volume<LabelArray>;
}

/**
 * The random-number interface the loader needs; `Rng` from `@swinmm/runtime` satisfies it (this
 * package does not depend on it, so that it stays free of tensor libraries).
 */
export interface LoaderRng<Self> {
  /** An independent child stream named `label`, the same for the same label. */
  fork(label: string): Self;
  /** A shuffled copy of `items`. */
  shuffle<T>(items: readonly T[]): T[];
}

/** A deterministic per-volume transform (applied once, cached). */
export type PrepareTransform<S> = (sample: S) => S | Promise<S>;

/**
 * A random transform applied every epoch: it returns one sample or several (e.g. random crops).
 * It must not modify its input in place (the loader hands it a copy when `copyCache` is on).
 */
export type RandomTransform<S, R> = (sample: S, rng: R) => S | S[];

/** How the deterministic results are cached. */
export interface LoaderCacheOptions {
  /** Keep prepared samples in memory (default true). */
  memory?: boolean;
  /**
   * Also keep them on disk in this folder (as .mha files with a JSON note), so that a second run
   * skips reading and preparing. Only `id`, `image` and `label` are stored.
   */
  dir?: string;
  /**
   * Names the deterministic transforms (e.g. `"ras-1.5x1.5x2-ct-175-250"`): part of the disk
   * cache key, so a changed pipeline never reuses stale files. Required with `dir`.
   */
  key?: string;
}

/** Options of {@link VolumeLoader}. */
export interface LoaderOptions<S extends Sample, R extends LoaderRng<R>> {
  /** The volumes, e.g. a manifest's `training` list. */
  entries: readonly ManifestEntry[];
  /** Root random stream; epochs and volumes fork from it. */
  rng: R;
  /** Deterministic transforms, in order (cached). */
  prepare?: PrepareTransform<S> | readonly PrepareTransform<S>[];
  /** Random transforms, in order, applied to each prepared sample every epoch. */
  random?: readonly RandomTransform<S, R>[];
  /** Reads one entry (default: {@link readVolume} and {@link readLabel}). */
  load?: (entry: ManifestEntry, index: number) => Promise<S>;
  /** Shuffle the order every epoch (default true). */
  shuffle?: boolean;
  /** Volumes read and prepared at the same time (default 2). */
  concurrency?: number;
  /** Volumes made ready ahead of the consumer (default 2 × concurrency; at least concurrency). */
  prefetch?: number;
  /** Caching of the deterministic results (default: in memory only). */
  cache?: LoaderCacheOptions;
  /** Give random transforms a deep copy of the cached sample (default true, as MONAI's `copy_cache`). */
  copyCache?: boolean;
}

/** One volume of an epoch, after the random transforms. */
export interface LoadedVolume<S> {
  /** The epoch. */
  epoch: number;
  /** Position in this epoch's order (0-based). */
  position: number;
  /** Index of the entry in `entries`. */
  index: number;
  /** The entry. */
  entry: ManifestEntry;
  /** What the random transforms made of it (one or more samples, e.g. crops). */
  samples: S[];
}

/** Progress of the loader, one event per volume made ready. */
export interface LoaderProgress {
  /** The epoch, or -1 while warming the cache with {@link VolumeLoader.prepareAll}. */
  epoch: number;
  /** Volumes ready so far in this epoch (or warm-up). */
  done: number;
  /** Volumes in the epoch. */
  total: number;
  /** Entry index of the volume just made ready. */
  index: number;
  /** Where its prepared sample came from. */
  source: 'memory' | 'disk' | 'prepared';
  /** Milliseconds it took to make it ready. */
  ms: number;
}

/** A small counting semaphore for bounded concurrency. */
class Semaphore {
  private waiting: (() => void)[] = [];
  private active = 0;
  constructor(private readonly limit: number) {}
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await job();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

function cloneVolume<V extends Volume>(v: V): V {
  return {
    ...v,
    data: v.data.slice(),
    shape: [...v.shape],
    spacing: [...v.spacing],
    origin: [...v.origin],
    direction: v.direction.map((r) => r.slice()),
    affine: v.affine.map((r) => r.slice()),
  };
}

/** A deep copy of a sample: its volumes are copied, other fields are copied one level deep. */
function cloneSample<S extends Sample>(s: S): S {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v && typeof v === 'object' && 'data' in v && ArrayBuffer.isView((v as Volume).data)) out[k] = cloneVolume(v as Volume);
    else if (ArrayBuffer.isView(v)) out[k] = (v as Float32Array).slice();
    else if (Array.isArray(v)) out[k] = v.slice();
    else out[k] = v;
  }
  return out as S;
}

async function defaultLoad(entry: ManifestEntry): Promise<Sample> {
  const image = await readVolume(entry.image);
  const sample: Sample = { id: entry.image, image };
  if (entry.label !== undefined) sample.label = await readLabel(entry.label);
  return sample;
}

/**
 * Loads the volumes of a dataset for training or evaluation. See the module notes; in short:
 * `epoch(n)` is an Observable of the volumes of epoch `n` (in a shuffled order that depends only
 * on the seed and `n`), `iterate(n)` the same as a pull-based async iterator (the consumer sets
 * the pace), `progress$` reports each volume made ready.
 */
export class VolumeLoader<S extends Sample = Sample, R extends LoaderRng<R> = LoaderRng<never>> {
  /** Number of volumes. */
  readonly size: number;
  private readonly options: LoaderOptions<S, R>;
  private readonly memory = new Map<number, Promise<S>>();
  private readonly semaphore: Semaphore;
  private readonly concurrency: number;
  private readonly prefetch: number;
  private readonly progress = new Subject<LoaderProgress>();
  /** One event per volume made ready (epochs and warm-up). */
  readonly progress$: Observable<LoaderProgress> = this.progress.asObservable();
  private stats = { memory: 0, disk: 0, prepared: 0 };

  constructor(options: LoaderOptions<S, R>) {
    if (!options || !Array.isArray(options.entries)) throw new TypeError('VolumeLoader: options.entries should be a list of {image, label}');
    if (!options.rng || typeof options.rng.fork !== 'function') throw new TypeError('VolumeLoader: options.rng should be an Rng (fork, shuffle)');
    const concurrency = options.concurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`VolumeLoader: concurrency should be an integer ≥ 1, got ${concurrency}`);
    const prefetch = options.prefetch ?? 2 * concurrency;
    if (!Number.isInteger(prefetch) || prefetch < concurrency) {
      throw new RangeError(`VolumeLoader: prefetch should be an integer ≥ concurrency (${concurrency}), got ${prefetch}`);
    }
    if (options.cache?.dir !== undefined && !options.cache.key) {
      throw new TypeError('VolumeLoader: cache.dir needs cache.key, a name for the deterministic transforms (so stale files are never reused)');
    }
    this.options = options;
    this.size = options.entries.length;
    this.concurrency = concurrency;
    this.prefetch = prefetch;
    this.semaphore = new Semaphore(concurrency);
  }

  /** How many prepared samples came from memory, from disk, or were prepared afresh so far. */
  cacheStats(): { memory: number; disk: number; prepared: number } {
    return { ...this.stats };
  }

  /** Forgets the in-memory cache (the disk cache stays). */
  clearMemoryCache(): void {
    this.memory.clear();
  }

  /** The order of the entry indices in epoch `epoch` (a permutation, or 0 … n−1 without shuffling). */
  order(epoch: number): number[] {
    const identity = Array.from({ length: this.size }, (_, i) => i);
    if (this.options.shuffle === false) return identity;
    return this.options.rng.fork(`epoch ${epoch}`).fork('shuffle').shuffle(identity);
  }

  /** The random stream of volume `index` in epoch `epoch`. */
  rngFor(epoch: number, index: number): R {
    return this.options.rng.fork(`epoch ${epoch}`).fork(`volume ${index}`);
  }

  /** The deterministic (prepared, cached) sample of entry `index`. Do not modify it. */
  prepared(index: number): Promise<S> {
    return this.preparedWithSource(index).then((r) => r.sample);
  }

  private async preparedWithSource(index: number): Promise<{ sample: S; source: LoaderProgress['source'] }> {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`VolumeLoader: index ${index} outside 0..${this.size - 1}`);
    const useMemory = this.options.cache?.memory !== false;
    const cached = useMemory ? this.memory.get(index) : undefined;
    if (cached) {
      this.stats.memory++;
      return { sample: await cached, source: 'memory' };
    }
    let source: LoaderProgress['source'] = 'prepared';
    const job = this.semaphore.run(async () => {
      const fromDisk = await this.readDiskCache(index);
      if (fromDisk) {
        source = 'disk';
        return fromDisk;
      }
      const sample = await this.prepareAfresh(index);
      await this.writeDiskCache(index, sample);
      return sample;
    });
    if (useMemory) {
      this.memory.set(index, job);
      // A failure is not cached: the next request tries again.
      job.catch(() => this.memory.delete(index));
    }
    const sample = await job;
    this.stats[source]++;
    return { sample, source };
  }

  private async prepareAfresh(index: number): Promise<S> {
    const entry = this.options.entries[index];
    const load = this.options.load ?? (defaultLoad as unknown as (e: ManifestEntry, i: number) => Promise<S>);
    let sample = await load(entry, index);
    const steps = this.options.prepare === undefined ? [] : Array.isArray(this.options.prepare) ? this.options.prepare : [this.options.prepare];
    for (let k = 0; k < steps.length; k++) {
      try {
        sample = await (steps[k] as PrepareTransform<S>)(sample);
      } catch (err) {
        if (err instanceof DataFileError) throw err;
        throw new Error(`VolumeLoader: prepare transform ${k} failed on ${entry.image}: ${(err as Error).message}`, { cause: err });
      }
    }
    return sample;
  }

  private diskPaths(index: number): Promise<{ base: string } | undefined> {
    const cache = this.options.cache;
    if (!cache?.dir) return Promise.resolve(undefined);
    const entry = this.options.entries[index];
    const files = [entry.image, entry.label].filter((f): f is string => f !== undefined);
    return Promise.all(files.map((f) => stat(f).then((s) => [f, s.size, s.mtimeMs]))).then((facts) => {
      // The source files' size and time are part of the key: an edited input is prepared again.
      const hash = createHash('sha256').update(JSON.stringify({ key: cache.key, facts })).digest('hex').slice(0, 24);
      return { base: join(cache.dir as string, hash) };
    });
  }

  private async readDiskCache(index: number): Promise<S | undefined> {
    const paths = await this.diskPaths(index);
    if (!paths) return undefined;
    let note: { id: string; label: boolean };
    try {
      note = JSON.parse(await readFile(`${paths.base}.json`, 'utf8'));
    } catch {
      return undefined;
    }
    const sample = { id: note.id, image: await readVolume(`${paths.base}.image.mha`, { allowNonFinite: true }) } as S;
    if (note.label) sample.label = await readLabel(`${paths.base}.label.mha`);
    return sample;
  }

  private async writeDiskCache(index: number, sample: S): Promise<void> {
    const paths = await this.diskPaths(index);
    if (!paths) return;
    await mkdir(this.options.cache?.dir as string, { recursive: true });
    await writeVolume(`${paths.base}.image.mha`, sample.image);
    if (sample.label) await writeVolume(`${paths.base}.label.mha`, sample.label);
    // The note is written last (atomically): its presence means the volumes are complete.
    const tmp = `${paths.base}.json.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ id: sample.id, label: sample.label !== undefined, entry: this.options.entries[index] }));
    await rename(tmp, `${paths.base}.json`);
  }

  private async produce(epoch: number, position: number, index: number, done: () => number): Promise<LoadedVolume<S>> {
    const t0 = performance.now();
    const { sample, source } = await this.preparedWithSource(index);
    let samples: S[] = [this.options.copyCache === false ? sample : cloneSample(sample)];
    const random = this.options.random ?? [];
    if (random.length > 0) {
      const rng = this.rngFor(epoch, index);
      for (let k = 0; k < random.length; k++) {
        const next: S[] = [];
        for (const s of samples) {
          const out = random[k](s, rng);
          if (Array.isArray(out)) next.push(...out);
          else next.push(out);
        }
        samples = next;
      }
    }
    this.progress.next({ epoch, done: done(), total: this.size, index, source, ms: performance.now() - t0 });
    return { epoch, position, index, entry: this.options.entries[index], samples };
  }

  /**
   * The volumes of epoch `epoch`, in its order, as a pull-based async iterator: at most
   * `prefetch` volumes are made ready ahead of the consumer, at most `concurrency` at a time.
   */
  iterate(epoch: number): AsyncGenerator<LoadedVolume<S>, void, undefined> {
    return this.run(epoch, () => false);
  }

  /** {@link VolumeLoader.iterate} that also stops starting work as soon as `stopped()` says so. */
  private async *run(epoch: number, stopped: () => boolean): AsyncGenerator<LoadedVolume<S>, void, undefined> {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`VolumeLoader: epoch should be an integer ≥ 0, got ${epoch}`);
    const order = this.order(epoch);
    const ahead: Promise<LoadedVolume<S>>[] = [];
    let next = 0;
    let finished = 0;
    const fill = (): void => {
      while (next < order.length && ahead.length < this.prefetch && !stopped()) {
        const position = next++;
        const p = this.produce(epoch, position, order[position], () => ++finished);
        // Errors surface when the consumer reaches this volume; until then keep Node quiet about them.
        p.catch(() => undefined);
        ahead.push(p);
      }
    };
    fill();
    while (ahead.length > 0) {
      const item = await (ahead.shift() as Promise<LoadedVolume<S>>);
      if (stopped()) return;
      fill();
      yield item;
    }
  }

  /**
   * The volumes of epoch `epoch` as an Observable, in the epoch's order. It emits as volumes
   * become ready (bounded by `prefetch`); a consumer that needs to set the pace itself (e.g. a
   * training step per volume) should use {@link VolumeLoader.iterate}.
   */
  epoch(epoch: number): Observable<LoadedVolume<S>> {
    return new Observable<LoadedVolume<S>>((subscriber) => {
      let stopped = false;
      // The flag reaches the generator directly: an unsubscribed epoch starts no further reads.
      const it = this.run(epoch, () => stopped);
      (async () => {
        try {
          for await (const item of it) {
            if (stopped) break;
            subscriber.next(item);
          }
          subscriber.complete();
        } catch (err) {
          subscriber.error(err);
        }
      })();
      return () => {
        stopped = true;
      };
    });
  }

  /** Prepares (and caches) every volume now, `concurrency` at a time, reporting progress with epoch −1. */
  async prepareAll(): Promise<void> {
    let done = 0;
    const jobs = Array.from({ length: this.size }, async (_, index) => {
      const t0 = performance.now();
      const { source } = await this.preparedWithSource(index);
      this.progress.next({ epoch: -1, done: ++done, total: this.size, index, source, ms: performance.now() - t0 });
    });
    await Promise.all(jobs);
  }

  /** The concurrency and prefetch in use. */
  limits(): { concurrency: number; prefetch: number } {
    return { concurrency: this.concurrency, prefetch: this.prefetch };
  }
}
