// MSD dataset.json manifests: structure, relative paths, and up-front validation that names files.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createVolume, loadManifest, openManifest, parseManifest, validateManifest, writeVolume, ManifestError } from '../src/index.js';
import { ITK_LABELS, ITK_T1, tempDir } from './helpers.js';

describe('parseManifest', () => {
  it('reads MSD/SwinMM lists, resolves paths against the manifest folder, and takes classes from labels', () => {
    const m = parseManifest(
      {
        name: 'WORD',
        labels: { '0': 'background', '1': 'liver', '2': 'spleen' },
        training: [{ image: 'imagesTr/a.nii.gz', label: 'labelsTr/a.nii.gz' }],
        validation: [{ image: './imagesVal/b.nii.gz', label: './labelsVal/b.nii.gz' }],
        test: ['imagesTs/c.nii.gz', { image: '/abs/d.nii.gz' }],
        unsupervised: [{ image: 'imagesTr/e.nii.gz' }],
      },
      '/data/word/dataset.json',
    );
    expect(m.root).toBe('/data/word');
    expect(m.training).toEqual([{ image: '/data/word/imagesTr/a.nii.gz', label: '/data/word/labelsTr/a.nii.gz' }]);
    expect(m.validation[0].image).toBe('/data/word/imagesVal/b.nii.gz');
    expect(m.test).toEqual([{ image: '/data/word/imagesTs/c.nii.gz' }, { image: '/abs/d.nii.gz' }]);
    expect(m.unsupervised).toEqual([{ image: '/data/word/imagesTr/e.nii.gz' }]);
    expect(m.classes).toEqual([0, 1, 2]);
    expect(m.name).toBe('WORD');
  });

  it('names the key that is wrong', () => {
    expect(() => parseManifest({ training: [{ label: 'x' }] }, '/d/dataset.json')).toThrow('/d/dataset.json: training[0].image should be a non-empty path, found undefined');
    expect(() => parseManifest({ training: 'x' }, '/d/dataset.json')).toThrow(/"training" should be a list/);
    expect(() => parseManifest({ validation: [3] }, '/d/dataset.json')).toThrow(/validation\[0\] should be an image path or an object/);
    expect(() => parseManifest({ training: [] }, '/d/dataset.json')).toThrow(/no volumes/);
    expect(() => parseManifest({ training: ['a'], labels: { one: 'x' } }, '/d/dataset.json')).toThrow(/"labels" keys should be integer class values, found "one"/);
    expect(() => parseManifest([], '/d/dataset.json')).toThrow(/should be a JSON object, found an array/);
  });

  it('reports unreadable and invalid JSON files', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await expect(loadManifest(join(dir, 'none.json'))).rejects.toThrow(/none\.json: cannot read the manifest/);
      writeFileSync(join(dir, 'bad.json'), '{ "training": [');
      await expect(loadManifest(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json: not valid JSON/);
    } finally {
      cleanup();
    }
  });
});

describe('validateManifest', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  beforeAll(async () => {
    const d = tmp.dir;
    for (const sub of ['imagesTr', 'labelsTr']) mkdirSync(join(d, sub));
    copyFileSync(ITK_T1, join(d, 'imagesTr/t1.nii.gz'));
    copyFileSync(ITK_LABELS, join(d, 'labelsTr/t1.nii.gz'));
    const grid = { shape: [4, 3, 2], spacing: [1, 1, 2], origin: [0, 0, 0] };
    const img = createVolume({ data: new Float32Array(24).fill(1), ...grid });
    await writeVolume(join(d, 'imagesTr/small.nii.gz'), img);
    // Same shape, origin moved by 5 mm: does not overlay its image.
    await writeVolume(join(d, 'labelsTr/shifted.nii.gz'), createVolume({ data: new Uint8Array(24), ...grid, origin: [0, 5, 0] }));
    const nine = new Uint8Array(24);
    nine[(2 * 3 + 1) * 2 + 1] = 9; // voxel (2, 1, 1)
    await writeVolume(join(d, 'labelsTr/nine.nii.gz'), createVolume({ data: nine, ...grid }));
    const half = new Float32Array(24);
    half[5] = 0.5;
    await writeVolume(join(d, 'labelsTr/float.nii.gz'), createVolume({ data: half, ...grid }));
    const gz = readFileSync(ITK_T1);
    writeFileSync(join(d, 'imagesTr/cut.nii.gz'), gz.subarray(0, 1000));
    writeFileSync(
      join(d, 'dataset.json'),
      JSON.stringify({
        labels: { '0': 'bg', '1': 'air', '2': 'a', '3': 'b', '4': 'c', '5': 'd', '6': 'e' },
        training: [
          { image: 'imagesTr/t1.nii.gz', label: 'labelsTr/t1.nii.gz' },
          { image: 'imagesTr/small.nii.gz', label: 'labelsTr/shifted.nii.gz' },
          { image: 'imagesTr/small.nii.gz', label: 'labelsTr/nine.nii.gz' },
          { image: 'imagesTr/missing.nii.gz', label: 'labelsTr/t1.nii.gz' },
        ],
        validation: [{ image: 'imagesTr/small.nii.gz', label: 'labelsTr/float.nii.gz' }],
        unsupervised: [{ image: 'imagesTr/cut.nii.gz' }, { image: 'imagesTr/t1.nii.gz' }],
      }),
    );
    writeFileSync(join(tmp.dir, 'good.json'), JSON.stringify({ labels: { '0': 'bg', '1': 'air', '2': 'a', '3': 'b', '4': 'c', '5': 'd', '6': 'e' }, training: [{ image: 'imagesTr/t1.nii.gz', label: 'labelsTr/t1.nii.gz' }], unsupervised: [{ image: resolve(__dirname, 'fixtures/dicom-series') }] }));
  });

  it('finds every problem, each with its file name', async () => {
    const m = await loadManifest(join(tmp.dir, 'dataset.json'));
    const seen: number[] = [];
    const problems = await validateManifest(m, { onProgress: (done) => seen.push(done) });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const summary = problems.map((p) => `${p.split}[${p.index}] ${p.kind} ${p.file.slice(tmp.dir.length + 1)}`);
    expect(summary).toEqual([
      'training[1] grid labelsTr/shifted.nii.gz',
      'training[2] labels labelsTr/nine.nii.gz',
      'training[3] missing imagesTr/missing.nii.gz',
      'validation[0] labels labelsTr/float.nii.gz',
      'unsupervised[0] unreadable imagesTr/cut.nii.gz',
    ]);
    expect(problems[0].message).toMatch(/small\.nii\.gz and label .*shifted\.nii\.gz are on different grids: origin \[0, 0, 0\] vs \[0, 5, 0\]/);
    expect(problems[1].message).toMatch(/nine\.nii\.gz: label 9 at voxel \(2, 1, 1\) is outside the declared classes \(one of \[0,1,2,3,4,5,6\]\)/);
    expect(problems[2].message).toMatch(/image file not found: .*missing\.nii\.gz/);
    expect(problems[3].message).toMatch(/float\.nii\.gz: a label map must hold integer class indices, found 0\.5/);
    expect(problems[4].message).toMatch(/cut\.nii\.gz: gzip data is truncated or corrupt/);
  });

  it('openManifest throws one error listing them all, and passes a sound manifest', async () => {
    const err = await openManifest(join(tmp.dir, 'dataset.json')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).problems).toHaveLength(5);
    expect((err as ManifestError).message).toMatch(/dataset\.json: 5 problem\(s\) found:\n {2}- training\[1\]: image/);
    const good = await openManifest(join(tmp.dir, 'good.json'));
    expect(good.training).toHaveLength(1);
    expect(good.unsupervised).toHaveLength(1); // a DICOM series folder
    // The ITK label map holds 0..6: with only 6 classes declared it is rejected.
    const problems = await validateManifest(good, { classes: 6 });
    expect(problems.map((p) => p.kind)).toEqual(['labels']);
  });

  it('checks grids from headers only when label values are not checked', async () => {
    const m = await loadManifest(join(tmp.dir, 'dataset.json'));
    const problems = await validateManifest(m, { splits: ['training'], checkLabelValues: false });
    expect(problems.map((p) => p.kind)).toEqual(['grid', 'missing']);
  });
});
