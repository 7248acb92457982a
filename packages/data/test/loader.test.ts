// The cached, reproducible loader: deterministic transforms once, random ones per epoch from a
// stream that depends only on (seed, epoch, volume), bounded concurrency and prefetch, progress.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, take, toArray } from 'rxjs';
import { Rng } from '@swinmm/runtime';
import { createVolume, VolumeLoader, withData, type LoaderProgress, type ManifestEntry, type Sample } from '../src/index.js';
import { ITK_LABELS, ITK_T1, tempDir } from './helpers.js';

const N = 7;
const entries: ManifestEntry[] = Array.from({ length: N }, (_, i) => ({ image: `/virtual/img${i}.nii.gz`, label: `/virtual/lab${i}.nii.gz` }));

/** A fake reader: volume i holds the value i everywhere (label: i % 3), shape 4×3×2; counts calls. */
function fakeLoad(counter: { calls: number; active: number; maxActive: number }, delayMs = 5) {
  return async (entry: ManifestEntry, i: number): Promise<Sample> => {
    counter.calls++;
    counter.active++;
    counter.maxActive = Math.max(counter.maxActive, counter.active);
    await new Promise((r) => setTimeout(r, delayMs));
    counter.active--;
    return {
      id: entry.image,
      image: createVolume({ data: new Float32Array(24).fill(i), shape: [4, 3, 2] }),
      label: createVolume({ data: new Uint8Array(24).fill(i % 3), shape: [4, 3, 2] }),
    };
  };
}

const addOne = (s: Sample): Sample => ({ ...s, image: withData(s.image, s.image.data.map((v) => v + 1)) });
/** Random: adds a uniform draw to every voxel, and makes two "crops" (copies) of each sample. */
const jitter = (s: Sample, rng: Rng): Sample => ({ ...s, image: withData(s.image, s.image.data.map((v) => v + rng.uniform())) });
const twoCrops = (s: Sample, rng: Rng): Sample[] => [0, 1].map(() => ({ ...s, image: withData(s.image, s.image.data.map((v) => v + rng.int(0, 100) * 1000)) }));

async function collect(loader: VolumeLoader<Sample, Rng>, epoch: number) {
  return lastValueFrom(loader.epoch(epoch).pipe(toArray()));
}

describe('VolumeLoader', () => {
  it('shuffles per epoch reproducibly, and not without shuffle', () => {
    const counter = { calls: 0, active: 0, maxActive: 0 };
    const a = new VolumeLoader({ entries, rng: Rng.fromSeed(3), load: fakeLoad(counter) });
    const b = new VolumeLoader({ entries, rng: Rng.fromSeed(3), load: fakeLoad(counter) });
    expect(a.order(0)).toEqual(b.order(0));
    expect([...a.order(0)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(a.order(0)).not.toEqual(a.order(1));
    expect(new VolumeLoader({ entries, rng: Rng.fromSeed(3), shuffle: false }).order(5)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('prepares each volume once, applies random transforms every epoch, and is independent of concurrency', async () => {
    const c1 = { calls: 0, active: 0, maxActive: 0 };
    const c3 = { calls: 0, active: 0, maxActive: 0 };
    let prepares = 0;
    const prepare = (s: Sample): Sample => {
      prepares++;
      return addOne(s);
    };
    const make = (counter: typeof c1, concurrency: number) =>
      new VolumeLoader<Sample, Rng>({ entries, rng: Rng.fromSeed(11), load: fakeLoad(counter), prepare, random: [jitter, twoCrops], concurrency });
    const one = make(c1, 1);
    const three = make(c3, 3);
    const e0 = await collect(one, 0);
    const e1 = await collect(one, 1);
    expect(c1.calls).toBe(N);
    expect(prepares).toBe(N);
    expect(one.cacheStats()).toEqual({ memory: N, disk: 0, prepared: N });
    expect(e0.map((v) => v.index)).toEqual(one.order(0));
    expect(e0.map((v) => v.position)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const v of e0) {
      expect(v.samples).toHaveLength(2);
      // value = i + 1 (prepare) + u (jitter, < 1) + 1000·k (crop)
      const x = v.samples[0].image.data[0];
      expect(Math.floor(x % 1000)).toBe(v.index + 1);
      expect(v.samples[0].label?.data[0]).toBe(v.index % 3);
    }
    // Other epochs draw other numbers.
    const byIndex = (items: typeof e0) => new Map(items.map((v) => [v.index, v.samples.map((s) => Array.from(s.image.data))]));
    expect(byIndex(e1).get(0)).not.toEqual(byIndex(e0).get(0));
    // Same seed with 3 loads at a time: identical samples in identical order.
    const t0 = await collect(three, 0);
    expect(t0.map((v) => v.index)).toEqual(e0.map((v) => v.index));
    expect(byIndex(t0)).toEqual(byIndex(e0));
    expect(c1.maxActive).toBe(1);
    expect(c3.maxActive).toBeGreaterThan(1);
    expect(c3.maxActive).toBeLessThanOrEqual(3);
  });

  it('stops loading when the subscriber unsubscribes early', async () => {
    const counter = { calls: 0, active: 0, maxActive: 0 };
    const loader = new VolumeLoader<Sample, Rng>({ entries, rng: Rng.fromSeed(5), load: fakeLoad(counter, 20), concurrency: 1, prefetch: 1 });
    const first = await lastValueFrom(loader.epoch(0).pipe(take(2), toArray()));
    expect(first.map((v) => v.index)).toEqual(loader.order(0).slice(0, 2));
    await new Promise((r) => setTimeout(r, 100));
    // Two emitted, at most one more started ahead before the unsubscription was seen.
    expect(counter.calls).toBeLessThanOrEqual(3);
  });

  it('hands random transforms a copy, so in-place edits never reach the cache', async () => {
    const counter = { calls: 0, active: 0, maxActive: 0 };
    const vandal = (s: Sample): Sample => {
      s.image.data.fill(-1);
      return s;
    };
    const loader = new VolumeLoader<Sample, Rng>({ entries, rng: Rng.fromSeed(1), load: fakeLoad(counter), random: [vandal] });
    await collect(loader, 0);
    expect((await loader.prepared(4)).image.data[0]).toBe(4);
  });

  it('keeps at most `prefetch` volumes ahead of a slow consumer and reports progress', async () => {
    const counter = { calls: 0, active: 0, maxActive: 0 };
    const loader = new VolumeLoader<Sample, Rng>({ entries, rng: Rng.fromSeed(2), load: fakeLoad(counter, 1), concurrency: 1, prefetch: 2 });
    const events: LoaderProgress[] = [];
    const sub = loader.progress$.subscribe((e) => events.push(e));
    let consumed = 0;
    for await (const item of loader.iterate(0)) {
      consumed++;
      await new Promise((r) => setTimeout(r, 20));
      // Loads started = consumed + at most `prefetch` ahead.
      expect(counter.calls).toBeLessThanOrEqual(consumed + 2);
      expect(item.samples).toHaveLength(1);
    }
    sub.unsubscribe();
    expect(consumed).toBe(N);
    expect(events.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.every((e) => e.epoch === 0 && e.total === N && e.source === 'prepared')).toBe(true);
    expect(() => new VolumeLoader({ entries, rng: Rng.fromSeed(2), concurrency: 3, prefetch: 2 })).toThrow(/prefetch should be an integer ≥ concurrency \(3\), got 2/);
  });

  it('caches prepared volumes on disk, keyed by the transforms and the source files', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const real: ManifestEntry[] = [{ image: ITK_T1, label: ITK_LABELS }];
      let prepares = 0;
      const crop = (s: Sample): Sample => {
        prepares++;
        // Keep x 0..9 only: a small deterministic step, so the cached files are small.
        const [, sy, sz] = s.image.shape;
        const cut = <T extends Float32Array | Uint8Array>(d: T) => d.slice(0, 10 * sy * sz) as T;
        const image = createVolume({ data: cut(s.image.data), shape: [10, sy, sz], affine: s.image.affine, source: s.image.source });
        const label = s.label && createVolume({ data: cut(s.label.data as Uint8Array), shape: [10, sy, sz], affine: s.label.affine });
        return { ...s, image, label };
      };
      const make = (key: string) => new VolumeLoader<Sample, Rng>({ entries: real, rng: Rng.fromSeed(0), prepare: crop, cache: { dir, key } });
      const first = make('crop10');
      const a = await first.prepared(0);
      expect(first.cacheStats().prepared).toBe(1);
      expect(readdirSync(dir).sort().map((f) => f.replace(/^[0-9a-f]+/, '#'))).toEqual(['#.image.mha', '#.json', '#.label.mha']);
      const second = make('crop10');
      const events: LoaderProgress[] = [];
      second.progress$.subscribe((e) => events.push(e));
      await second.prepareAll();
      const b = await second.prepared(0);
      expect(second.cacheStats()).toEqual({ memory: 1, disk: 1, prepared: 0 });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ epoch: -1, done: 1, total: 1, source: 'disk' });
      expect(prepares).toBe(1);
      expect(b.image.data).toEqual(a.image.data);
      expect(b.label?.data).toEqual(a.label?.data);
      expect(b.label?.data).toBeInstanceOf(Uint8Array);
      expect(b.image.affine).toEqual(a.image.affine);
      expect(b.id).toBe(ITK_T1);
      await make('other-pipeline').prepared(0);
      expect(prepares).toBe(2);
      expect(() => new VolumeLoader({ entries: real, rng: Rng.fromSeed(0), cache: { dir } })).toThrow(/cache\.dir needs cache\.key/);
    } finally {
      cleanup();
    }
  });

  it('reports a file that fails to load through the Observable, with its name', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const bad = [{ image: join(dir, 'gone.nii.gz') }];
      const loader = new VolumeLoader<Sample, Rng>({ entries: bad, rng: Rng.fromSeed(0) });
      await expect(collect(loader, 0)).rejects.toThrow(/gone\.nii\.gz: cannot open it \(ENOENT/);
      const failing = new VolumeLoader<Sample, Rng>({
        entries,
        rng: Rng.fromSeed(0),
        load: fakeLoad({ calls: 0, active: 0, maxActive: 0 }),
        prepare: () => {
          throw new Error('no foreground');
        },
      });
      await expect(failing.prepared(2)).rejects.toThrow('VolumeLoader: prepare transform 0 failed on /virtual/img2.nii.gz: no foreground');
    } finally {
      cleanup();
    }
  });
});
