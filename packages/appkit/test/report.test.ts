import { inflateSync } from 'node:zlib';
import { encodePng, formatDuration, lossCurveSvg, overlaySlicePng, ProgressBar, renderProgress } from '../src/index.js';

function readChunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const out: { type: string; data: Uint8Array }[] = [];
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  while (o < png.length) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    out.push({ type, data: png.subarray(o + 8, o + 8 + len) });
    o += 12 + len;
  }
  return out;
}

describe('PNG', () => {
  it('encodes RGB pixels that decode back exactly', () => {
    const rgb = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng(3, 2, rgb);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks = readChunks(png);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    // Every PNG's IEND chunk ends with the same CRC-32 (of the bytes "IEND").
    expect(new DataView(png.buffer, png.byteOffset).getUint32(png.length - 4)).toBe(0xae426082);
    const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), chunks[0].data[8], chunks[0].data[9]]).toEqual([3, 2, 8, 2]);
    const raw = inflateSync(chunks[1].data);
    expect(raw.length).toBe(2 * (1 + 9));
    expect([...raw.subarray(1, 10)]).toEqual([...rgb.subarray(0, 9)]);
    expect([...raw.subarray(11, 20)]).toEqual([...rgb.subarray(9, 18)]);
    expect(() => encodePng(2, 2, new Uint8Array(5))).toThrow(/expected 12 bytes/);
  });

  it('overlays labels in colour on a grey slice, anterior up and patient right on the left', () => {
    const [nx, ny, nz] = [4, 4, 1];
    const image = { data: Float32Array.from({ length: 16 }, (_, i) => i), shape: [nx, ny, nz] };
    const labels = { data: new Uint8Array(16), shape: [nx, ny, nz] };
    labels.data[(0 * ny + 3) * nz] = 1; // x=0 (right), y=3 (anterior): drawn top right
    const png = overlaySlicePng(image, labels, { zoom: 1, alpha: 1 });
    const raw = inflateSync(readChunks(png)[1].data);
    const pixel = (row: number, col: number) => [...raw.subarray(row * 13 + 1 + col * 3, row * 13 + 4 + col * 3)];
    expect(pixel(0, 3)).toEqual([230, 25, 75]);
    const grey = pixel(3, 0); // x=3, y=0: a grey voxel
    expect(grey[0]).toBe(grey[1]);
    expect(() => overlaySlicePng(image, { data: new Uint8Array(8), shape: [2, 4, 1] })).toThrow(/label map is 2×4×1/);
  });
});

describe('progress and plots', () => {
  it('renders a bar with rate, ETA and values', () => {
    const line = renderProgress({ label: 'finetune', done: 5, total: 20, elapsed: 10, values: { loss: 0.81234, lr: 1e-4 } }, 10);
    expect(line).toContain('[##........]');
    expect(line).toContain('5/20');
    expect(line).toContain('25%');
    expect(line).toContain('2.0 s/it');
    expect(line).toContain('ETA 30s');
    expect(line).toContain('loss 0.8123');
    expect(line).toContain('lr 1.00e-4');
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(187)).toBe('3m07s');
  });

  it('prints lines on a non-TTY stream, always the last one', () => {
    const lines: string[] = [];
    const bar = new ProgressBar('x', 3, { write: (t: string) => lines.push(t) }, { intervalMs: 1e9 });
    bar.update(1, { loss: 1 });
    bar.update(2, { loss: 0.5 });
    bar.update(3, { loss: 0.25 });
    bar.finish();
    expect(lines.length).toBe(2);
    expect(lines[1]).toContain('3/3');
    expect(lines[1]).toContain('done in');
  });

  it('does not repeat the last line when finish() follows the final update', () => {
    const lines: string[] = [];
    let clock = 0;
    const bar = new ProgressBar('x', 2, { write: (t: string) => lines.push(t) }, { intervalMs: 0, now: () => (clock += 1000) });
    bar.update(1, { loss: 1 });
    bar.update(2, { loss: 0.5 });
    bar.finish();
    expect(lines.length).toBe(2);
    expect(lines[1]).toContain('2/2');
  });

  it('draws curves as SVG polylines with a legend', () => {
    const svg = lossCurveSvg(
      [
        { name: 'total', points: [[1, 2], [2, 1], [3, 0.5]] },
        { name: 'dice & ce', points: [[1, 1], [2, Number.NaN], [3, 0.2]] },
      ],
      { title: 'loss' },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('dice &amp; ce');
    expect(svg).not.toContain('NaN');
    expect(lossCurveSvg([])).toContain('no data yet');
  });
});
