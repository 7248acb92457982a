import { casesToCsv, casesToMarkdown, evaluateSegmentation, summarizeCases } from '../src/index.js';

function labelMap(values: number[]): { data: Uint8Array; shape: number[] } {
  return { data: Uint8Array.from(values), shape: [1, 2, values.length / 2] };
}

describe('tables over cases', () => {
  // case a: class 1 perfect, class 2 absent from both (NaN); case b: class 1 half right, class 2 missed
  const a = evaluateSegmentation(labelMap([1, 1, 0, 0, 0, 0]), labelMap([1, 1, 0, 0, 0, 0]), { labels: [1, 2] });
  const b = evaluateSegmentation(labelMap([1, 0, 0, 0, 0, 0]), labelMap([1, 1, 0, 0, 2, 0]), { labels: [1, 2] });
  const cases = [{ name: 'a', evaluation: a }, { name: 'b,2', evaluation: b }];

  it('summarizes per class over cases, skipping NaN', () => {
    const s = summarizeCases(cases);
    expect(s.map((c) => c.label)).toEqual([1, 2]);
    expect(s[0].mean.dice).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(s[0].count.dice).toBe(2);
    expect(s[1].mean.dice).toBe(0);
    expect(s[1].count.dice).toBe(1);
    expect(s[1].mean.hd95).toBe(Infinity);
  });

  it('writes CSV with nan/inf and quoted names', () => {
    const lines = casesToCsv(cases).trim().split('\n');
    expect(lines[0]).toBe('case,label,dice,hd95,hd,asd,assd,nsd,nsd_tolerance,pred_voxels,gt_voxels');
    expect(lines).toHaveLength(5);
    expect(lines[2]).toBe('a,2,nan,nan,nan,nan,nan,nan,1,0,0');
    expect(lines[4].startsWith('"b,2",2,0,inf,inf,inf,inf,0,1,0,1')).toBe(true);
  });

  it('writes a Markdown table with class names and a mean row', () => {
    const md = casesToMarkdown(cases, { metrics: ['dice', 'hd95'], digits: 3, labelNames: { 1: 'liver' } });
    expect(md.split('\n')).toEqual([
      '| class | dice | hd95 |',
      '| --- | ---: | ---: |',
      // class 1 HD95: case a 0; case b max(p95([0]), p95([0, 1])) = 0.95 → mean 0.475
      '| liver | 0.833 | 0.475 |',
      '| 2 | 0.000 | ∞ |',
      '| **mean** | 0.417 | ∞ |',
      '',
    ]);
  });
});
