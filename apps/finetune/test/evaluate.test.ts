import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVolume, writeVolume, type Volume } from '@swinmm/data';
import { evaluateFolders, evaluateVolumes, reportToCsv, reportToMarkdown } from '../src/index.js';

function cube(shape: [number, number, number], lo: [number, number, number], size: number, label: number, spacing: [number, number, number] = [1, 1, 1]): Volume<Uint8Array> {
  const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
  for (let x = lo[0]; x < lo[0] + size; x++)
    for (let y = lo[1]; y < lo[1] + size; y++) for (let z = lo[2]; z < lo[2] + size; z++) data[(x * shape[1] + y) * shape[2] + z] = label;
  return createVolume({ data, shape, spacing });
}

function add(a: Volume<Uint8Array>, b: Volume<Uint8Array>): Volume<Uint8Array> {
  const data = a.data.map((v, i) => v || b.data[i]);
  return { ...a, data };
}

describe('evaluate', () => {
  const shape: [number, number, number] = [12, 12, 12];
  const gt = add(cube(shape, [2, 2, 2], 4, 1), cube(shape, [7, 7, 7], 3, 2));
  // Class 1 shifted by one voxel along x: |P∩G| = 3·4·4 = 48 of 64 + 64 → Dice 0.75; class 2 exact.
  const pred = add(cube(shape, [3, 2, 2], 4, 1), cube(shape, [7, 7, 7], 3, 2));

  it('computes per-class metrics and means over classes', () => {
    const r = evaluateVolumes([{ name: 'a', pred, gt }], { classNames: { 1: 'liver', 2: 'spleen' } });
    expect(r.labels).toEqual([1, 2]);
    expect(r.perClass[0].dice).toBeCloseTo(0.75, 12);
    expect(r.perClass[1].dice).toBe(1);
    expect(r.perClass[1].hd95).toBe(0);
    expect(r.perClass[1].asd).toBe(0);
    expect(r.perClass[1].nsd).toBe(1);
    // The shifted cube's surfaces are at most one voxel apart.
    expect(r.perClass[0].hd95).toBe(1);
    expect(r.mean.dice).toBeCloseTo(0.875, 12);
    const csv = reportToCsv(r).trim().split('\n');
    expect(csv[0]).toBe('case,label,name,dice,hd95_mm,asd_mm,nsd,gt_voxels,pred_voxels');
    expect(csv[1]).toMatch(/^a,1,liver,0\.750000,1\.000000,/);
    expect(csv[1].endsWith(',64,64')).toBe(true);
    const md = reportToMarkdown(r);
    expect(md).toContain('| 1 liver | 0.7500 | 1.00 |');
    expect(md).toContain('| **mean** | **0.8750** |');
  });

  it('uses the spacing in mm and reports an absent class as NaN', () => {
    const s: [number, number, number] = [2, 2, 2];
    const g = cube(shape, [2, 2, 2], 4, 1, s);
    const p = cube(shape, [3, 2, 2], 4, 1, s);
    const r = evaluateVolumes([{ name: 'a', pred: p, gt: g }], { labels: [1, 2] });
    expect(r.perClass[0].hd95).toBe(2);
    expect(Number.isNaN(r.perClass[1].dice)).toBe(true);
    expect(r.perClass[1].cases).toBe(0);
  });

  it('refuses a prediction on another grid', () => {
    const other = cube([12, 12, 11], [3, 2, 2], 4, 1);
    expect(() => evaluateVolumes([{ name: 'a', pred: other, gt }])).toThrow(/different grids \(shape 12×12×11 vs 12×12×12\)/);
  });

  it('pairs folders by case name and writes CSV and Markdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ft-eval-'));
    const [pd, gd, out] = [join(dir, 'pred'), join(dir, 'gt'), join(dir, 'out')];
    await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(pd), fs.mkdir(gd)]));
    await writeVolume(join(gd, 'case1.nii.gz'), gt);
    await writeVolume(join(pd, 'case1.nii.gz'), pred);
    await writeVolume(join(gd, 'case2.nii.gz'), gt);
    await writeVolume(join(pd, 'case2.nii.gz'), gt);
    const r = await evaluateFolders(pd, gd, { outDir: out });
    expect(r.cases).toEqual(['case1', 'case2']);
    expect(r.perClass[0].dice).toBeCloseTo(0.875, 6);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(readFileSync(join(out, 'metrics.md'), 'utf8')).toContain('## Dice per case');
    await writeVolume(join(gd, 'case3.nii.gz'), gt);
    await expect(evaluateFolders(pd, gd)).rejects.toThrow(/1 ground-truth case\(s\) have no prediction .*: case3/);
    await expect(evaluateFolders(join(dir, 'nope'), gd)).rejects.toThrow(/cannot read the prediction folder/);
  });
});
