/**
 * Terminal progress: a one-line bar with the fraction done, the rate, the ETA and the current
 * losses, redrawn in place on a TTY and printed every few seconds otherwise (logs, CI).
 *
 * @module
 */

/** Formats seconds as `1h02m`, `3m07s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** Formats a loss value compactly (4 significant digits). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return v.toPrecision(4);
}

/** One rendered state of a bar. */
export interface ProgressState {
  /** What is being done (e.g. `finetune`, `infer Cor1`). */
  label: string;
  /** Units done. */
  done: number;
  /** Units in all. */
  total: number;
  /** Seconds since the start of this bar. */
  elapsed: number;
  /** Units done when the bar started (a resumed run), excluded from the rate. */
  startedAt?: number;
  /** Named values shown after the bar (losses, lr, Dice). */
  values?: Record<string, number>;
  /** Unit name for the rate (default `it`). */
  unit?: string;
}

/**
 * Renders a bar as text: `label  [#####.....]  12/40  30%  0.42 it/s  ETA 1m06s  loss 0.8123 …`.
 * The ETA comes from the mean rate of this run.
 */
export function renderProgress(state: ProgressState, width = 24): string {
  const total = Math.max(1, state.total);
  const frac = Math.min(1, Math.max(0, state.done / total));
  const filled = Math.floor(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const doneHere = state.done - (state.startedAt ?? 0);
  const rate = state.elapsed > 0 ? doneHere / state.elapsed : 0;
  const eta = rate > 0 ? (state.total - state.done) / rate : Number.NaN;
  const rateText = rate >= 1 || rate === 0 ? `${rate.toFixed(2)} ${state.unit ?? 'it'}/s` : `${(1 / rate).toFixed(1)} s/${state.unit ?? 'it'}`;
  const values = Object.entries(state.values ?? {})
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join('  ');
  const tail = state.done >= state.total ? `done in ${formatDuration(state.elapsed)}` : `ETA ${formatDuration(eta)}`;
  return `${state.label}  [${bar}]  ${state.done}/${state.total}  ${Math.round(frac * 100)}%  ${rateText}  ${tail}${values ? '  ' + values : ''}`;
}

/** Where a {@link ProgressBar} writes: a stream with an optional TTY flag. */
export interface ProgressStream {
  /** Writes text as given (the bar adds its own line ends and control characters). */
  write(text: string): unknown;
  /** True for a terminal: the bar then redraws one line in place. */
  isTTY?: boolean;
}

/** Options of a {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** On a non-TTY stream, print at most one line per this many milliseconds (default 5000). */
  intervalMs?: number;
  /** Unit name for the rate (default `it`). */
  unit?: string;
  /** Units already done when the bar starts (a resumed run), excluded from the rate. */
  startedAt?: number;
  /** Clock for the elapsed time (tests); default `Date.now`. */
  now?: () => number;
}

/**
 * A live progress bar. On a TTY it redraws one line; elsewhere it prints a line at most every
 * `intervalMs` (and always the last one), so logs stay readable.
 */
export class ProgressBar {
  private readonly t0 = Date.now();
  private lastPrint = 0;
  private lastLine = '';
  private lastState = '';
  private values: Record<string, number> = {};
  private done = 0;

  /**
   * @param label What is being done, shown first.
   * @param total Units in all.
   * @param stream Where the bar is drawn (default stderr).
   * @param options Throttling, unit, resumed start and clock.
   */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
    private readonly options: ProgressBarOptions = {},
  ) {
    this.done = options.startedAt ?? 0;
  }

  /** Sets the units done and the values shown, and redraws. */
  update(done: number, values: Record<string, number> = this.values): void {
    this.done = done;
    this.values = values;
    this.draw(false);
  }

  /** Draws the final state and ends the line. */
  finish(values: Record<string, number> = this.values): void {
    this.values = values;
    this.draw(true);
  }

  /** The current line (without control characters). */
  text(): string {
    const now = this.options.now ? this.options.now() : Date.now();
    return renderProgress({
      label: this.label,
      done: this.done,
      total: this.total,
      elapsed: (now - this.t0) / 1000,
      startedAt: this.options.startedAt,
      values: this.values,
      unit: this.options.unit,
    });
  }

  private draw(final: boolean): void {
    const line = this.text();
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
      this.lastLine = line;
      return;
    }
    const now = Date.now();
    // The state without the clock: a final line that only differs in elapsed time is not repeated.
    const state = `${this.done}/${JSON.stringify(this.values)}`;
    if (final && state === this.lastState) return;
    if (final || now - this.lastPrint >= (this.options.intervalMs ?? 5000)) {
      if (line !== this.lastLine) this.stream.write(line + '\n');
      this.lastPrint = now;
      this.lastLine = line;
      this.lastState = state;
    }
  }
}
