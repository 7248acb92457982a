/**
 * Loss curves as a self-contained SVG (no plotting library): one polyline per series, shared
 * step axis, linear or log value axis, a legend.
 *
 * @module
 */

/** One curve: `points` are `[step, value]`, non-finite values are skipped. */
export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

/** Options of {@link lossCurveSvg}. */
export interface LossCurveOptions {
  /** Title on top. */
  title?: string;
  /** Pixel size (default 720×400). */
  width?: number;
  height?: number;
  /** Log-scale value axis (default: on when every value is > 0 and they span more than 10×). */
  log?: boolean;
  /** Label of the horizontal axis (default `step`). */
  xLabel?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** Renders the curves as an SVG document (a string). */
export function lossCurveSvg(series: readonly Series[], options: LossCurveOptions = {}): string {
  const W = options.width ?? 720;
  const H = options.height ?? 400;
  const m = { left: 64, right: 16, top: options.title ? 32 : 12, bottom: 44 };
  const clean = series.map((s) => ({ name: s.name, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) }));
  const all = clean.flatMap((s) => s.points);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (options.title) parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  if (all.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data yet</text></svg>`);
    return parts.join('\n');
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const positive = ys.every((y) => y > 0);
  const yMinRaw = Math.min(...ys);
  const yMaxRaw = Math.max(...ys);
  const log = options.log ?? (positive && yMaxRaw / yMinRaw > 10);
  const tf = (y: number): number => (log ? Math.log10(y) : y);
  let y0 = tf(yMinRaw);
  let y1 = tf(yMaxRaw);
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const px = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * (W - m.left - m.right);
  const py = (y: number): number => H - m.bottom - ((tf(y) - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  // Axes and grid.
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#888"/>`);
  const yTicks = log ? niceTicks(y0, y1).map((e) => 10 ** e) : niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = py(t);
    if (y < m.top - 0.5 || y > H - m.bottom + 0.5) continue;
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    const x = px(t);
    parts.push(`<text x="${x.toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(options.xLabel ?? 'step')}${log ? ' (log value axis)' : ''}</text>`);
  clean.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.points.length === 0) return;
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    if (s.points.length === 1) {
      const [x, y] = s.points[0];
      parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`);
    } else {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts}"/>`);
    }
    const ly = m.top + 14 + i * 16;
    parts.push(`<line x1="${W - m.right - 150}" x2="${W - m.right - 130}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${W - m.right - 124}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
