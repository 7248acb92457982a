/**
 * The two learning-rate schedules SwinMM uses, with PyTorch's `LRScheduler` stepping semantics:
 * creating a schedule performs its first step (position 0) and writes the learning rates into the
 * optimizer's groups; every `step()` advances one position.
 *
 * - {@link WarmupCosineSchedule} (pre-training, stepped every iteration; `Pretrain/utils/lr_scheduler.py`):
 *   multiplier `s / warmup` for `s < warmup`, else `max(0, ½(1 + cos(π·2·cycles·(s − warmup)/(total − warmup))))`.
 * - {@link LinearWarmupCosineAnnealingLR} (fine-tuning, stepped every epoch): the recursive
 *   ("chainable") form that `scheduler.step()` applies, which is what SwinMM's optimizer sees.
 *
 * @module
 */

/** The part of an optimizer a schedule touches: its groups' learning rates. */
export interface SchedulableOptimizer {
  /** Groups with a mutable `lr` and the rate they started with. */
  paramGroups: Array<{ lr: number; readonly initialLr: number }>;
}

/** The JSON state of a schedule (checkpointed with the training state). */
export interface LrSchedulerState {
  /** Which schedule wrote it. */
  kind: string;
  /** Position: number of `step()` calls after construction. */
  lastEpoch: number;
  /** Base learning rate of each group. */
  baseLrs: number[];
  /** Learning rate of each group after the last step. */
  lastLrs: number[];
}

/** A learning-rate schedule bound to an optimizer. */
export interface LrScheduler {
  /** Current position (0 right after construction). */
  readonly lastEpoch: number;
  /** Advances one position and writes the new rates into the optimizer. */
  step(): void;
  /** The rates written by the last step, one per group. */
  getLastLr(): number[];
  /** Snapshot for checkpoints. */
  getState(): LrSchedulerState;
  /** Restores a snapshot (also writes its rates into the optimizer). */
  setState(state: LrSchedulerState): void;
}

/**
 * The multiplier of SwinMM's `WarmupCosineSchedule` at `step` (PyTorch's `LambdaLR` lambda).
 *
 * @example
 * ```ts
 * warmupCosineMultiplier(250, 500, 30000); // 0.5
 * ```
 */
export function warmupCosineMultiplier(step: number, warmupSteps: number, tTotal: number, cycles = 0.5): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  const progress = (step - warmupSteps) / Math.max(1, tTotal - warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
}

abstract class BaseScheduler implements LrScheduler {
  protected baseLrs: number[];
  protected lastLrs: number[] = [];
  private epoch = -1;

  protected constructor(
    protected readonly optimizer: SchedulableOptimizer,
    protected readonly kind: string,
  ) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups) || optimizer.paramGroups.length === 0) {
      throw new TypeError(`${kind}: expected an optimizer with at least one parameter group`);
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr);
  }

  /** Runs PyTorch's initial step; subclasses call it at the end of their constructor. */
  protected initialStep(): void {
    this.step();
  }

  get lastEpoch(): number {
    return this.epoch;
  }

  protected abstract computeLrs(epoch: number, currentLrs: number[]): number[];

  step(): void {
    this.epoch += 1;
    const lrs = this.computeLrs(
      this.epoch,
      this.optimizer.paramGroups.map((g) => g.lr),
    );
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLrs = lrs;
  }

  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  getState(): LrSchedulerState {
    return { kind: this.kind, lastEpoch: this.epoch, baseLrs: [...this.baseLrs], lastLrs: [...this.lastLrs] };
  }

  setState(state: LrSchedulerState): void {
    if (!state || state.kind !== this.kind) {
      throw new Error(`${this.kind}.setState: the state is for ${JSON.stringify(state?.kind)}`);
    }
    const n = this.optimizer.paramGroups.length;
    if (state.baseLrs.length !== n || state.lastLrs.length !== n) {
      throw new Error(`${this.kind}.setState: the optimizer has ${n} groups, the state ${state.baseLrs.length}`);
    }
    if (!Number.isInteger(state.lastEpoch) || state.lastEpoch < 0) {
      throw new Error(`${this.kind}.setState: lastEpoch must be an integer ≥ 0, found ${state.lastEpoch}`);
    }
    this.epoch = state.lastEpoch;
    this.baseLrs = [...state.baseLrs];
    this.lastLrs = [...state.lastLrs];
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = state.lastLrs[i];
    });
  }
}

/** Options of {@link WarmupCosineSchedule}. */
export interface WarmupCosineOptions {
  /** Linear warm-up length in steps (SwinMM: 500). */
  warmupSteps: number;
  /** Total number of steps (SwinMM: 30 000). */
  tTotal: number;
  /** Cosine cycles, default 0.5 (half a cosine, from 1 to 0). */
  cycles?: number;
}

/**
 * SwinMM's per-iteration schedule: lr = base · {@link warmupCosineMultiplier}(step). Starts at 0.
 *
 * @example
 * ```ts
 * const sched = new WarmupCosineSchedule(opt, { warmupSteps: 500, tTotal: 30000 });
 * // each iteration: opt.step(grads); sched.step();
 * ```
 */
export class WarmupCosineSchedule extends BaseScheduler {
  private readonly warmupSteps: number;
  private readonly tTotal: number;
  private readonly cycles: number;

  constructor(optimizer: SchedulableOptimizer, options: WarmupCosineOptions) {
    super(optimizer, 'WarmupCosineSchedule');
    const { warmupSteps, tTotal } = options;
    const cycles = options.cycles ?? 0.5;
    if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new RangeError(`WarmupCosineSchedule: warmupSteps must be an integer ≥ 0, found ${warmupSteps}`);
    if (!Number.isInteger(tTotal) || tTotal <= 0) throw new RangeError(`WarmupCosineSchedule: tTotal must be an integer > 0, found ${tTotal}`);
    if (!Number.isFinite(cycles) || cycles <= 0) throw new RangeError(`WarmupCosineSchedule: cycles must be > 0, found ${cycles}`);
    this.warmupSteps = warmupSteps;
    this.tTotal = tTotal;
    this.cycles = cycles;
    this.initialStep();
  }

  protected computeLrs(epoch: number): number[] {
    const f = warmupCosineMultiplier(epoch, this.warmupSteps, this.tTotal, this.cycles);
    return this.baseLrs.map((b) => b * f);
  }
}

/** Options of {@link LinearWarmupCosineAnnealingLR}. */
export interface LinearWarmupCosineOptions {
  /** Warm-up length in epochs (SwinMM fine-tuning: 50). */
  warmupEpochs: number;
  /** Total epochs (SwinMM fine-tuning: 1500). */
  maxEpochs: number;
  /** Learning rate at epoch 0, default 0. */
  warmupStartLr?: number;
  /** Final learning rate, default 0. */
  etaMin?: number;
}

/**
 * Linear warm-up then cosine annealing, stepped once per epoch, computed recursively from the
 * group's current rate the way `scheduler.step()` does (pl_bolts' chainable `get_lr`, which SwinMM
 * copies). It equals {@link linearWarmupCosineClosedForm} up to float rounding.
 */
export class LinearWarmupCosineAnnealingLR extends BaseScheduler {
  private readonly warmupEpochs: number;
  private readonly maxEpochs: number;
  private readonly warmupStartLr: number;
  private readonly etaMin: number;

  constructor(optimizer: SchedulableOptimizer, options: LinearWarmupCosineOptions) {
    super(optimizer, 'LinearWarmupCosineAnnealingLR');
    const { warmupEpochs, maxEpochs } = options;
    if (!Number.isInteger(warmupEpochs) || warmupEpochs < 0) throw new RangeError(`LinearWarmupCosineAnnealingLR: warmupEpochs must be an integer ≥ 0, found ${warmupEpochs}`);
    if (!Number.isInteger(maxEpochs) || maxEpochs <= warmupEpochs) {
      throw new RangeError(`LinearWarmupCosineAnnealingLR: maxEpochs must be an integer > warmupEpochs (${warmupEpochs}), found ${maxEpochs}`);
    }
    this.warmupEpochs = warmupEpochs;
    this.maxEpochs = maxEpochs;
    this.warmupStartLr = options.warmupStartLr ?? 0;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected computeLrs(epoch: number, current: number[]): number[] {
    const { warmupEpochs: w, maxEpochs: m, warmupStartLr: s0, etaMin } = this;
    if (epoch === 0) return this.baseLrs.map(() => s0);
    if (epoch < w) return current.map((lr, i) => lr + (this.baseLrs[i] - s0) / (w - 1));
    if (epoch === w) return [...this.baseLrs];
    const period = 2 * (m - w);
    if (pyMod(epoch - 1 - m, period) === 0) {
      return current.map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / (m - w)))) / 2);
    }
    return current.map(
      (lr) => ((1 + Math.cos((Math.PI * (epoch - w)) / (m - w))) / (1 + Math.cos((Math.PI * (epoch - w - 1)) / (m - w)))) * (lr - etaMin) + etaMin,
    );
  }
}

/** Python's `%` (the result has the sign of the divisor). */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/**
 * The closed form of {@link LinearWarmupCosineAnnealingLR} at `epoch`:
 * `s0 + epoch·(base − s0)/(warmup − 1)` during warm-up, then
 * `etaMin + ½(base − etaMin)(1 + cos(π(epoch − warmup)/(max − warmup)))`.
 */
export function linearWarmupCosineClosedForm(epoch: number, baseLr: number, options: LinearWarmupCosineOptions): number {
  const { warmupEpochs: w, maxEpochs: m } = options;
  const s0 = options.warmupStartLr ?? 0;
  const etaMin = options.etaMin ?? 0;
  if (epoch < w) return s0 + (epoch * (baseLr - s0)) / Math.max(1, w - 1);
  return etaMin + 0.5 * (baseLr - etaMin) * (1 + Math.cos((Math.PI * (epoch - w)) / (m - w)));
}
