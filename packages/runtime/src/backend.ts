/**
 * Choosing and setting up the TensorFlow.js backend, once per process.
 *
 * Order for `'auto'`: tensorflow (libtensorflow through tfjs-node-gpu / tfjs-node) → webgpu
 * (Dawn in Node, the page's `navigator.gpu` in a browser) → wasm (with {@link installWasmFixes})
 * → cpu (the pure-JS reference kernels).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { installWasmFixes } from './wasm-fixes.js';

/** The backends SwinMM-TS knows how to set up. */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** A backend name, or `'auto'` for the first that works of tensorflow → webgpu → wasm → cpu. */
export type BackendPreference = BackendName | 'auto';

/** Every accepted preference, in `'auto'` order after `'auto'` itself. */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** The backend that {@link initBackend} chose. */
export interface BackendInfo {
  /** Our name for it. */
  name: BackendName;
  /** The name tfjs registered it under (`tf.getBackend()`). */
  tfBackend: string;
  /** A human description of the device: CPU model, GPU adapter, SIMD support … */
  device: string;
  /** Why each earlier backend was passed over (only for `'auto'`). */
  skipped: { name: BackendName; reason: string }[];
}

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /** Receives the one-line summary; defaults to `console.info`. Pass `() => {}` to silence it. */
  log?: (line: string) => void;
  /**
   * With the `cpu` backend, also load the `wasm` backend (without making it current) so that the
   * JavaScript convolution kernels of `@swinmm/nn` multiply their matrices with XNNPACK, ~30×
   * faster than pure JavaScript. Default true; ignored for other backends. The environment
   * variable `SWINMM_GEMM=js` has the same effect as `false`.
   */
  wasmMatmul?: boolean;
}

/** Thrown when an explicitly requested backend cannot be set up; the message says what is missing. */
export class BackendUnavailableError extends Error {
  constructor(
    /** The backend that was requested. */
    readonly backend: BackendName,
    message: string,
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

let chosen: BackendInfo | undefined;
let chosenByAuto = false;

const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);

/** A module import that bundlers and the type-checker leave alone (the packages are optional). */
function importOptional(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier) as Promise<Record<string, unknown>>;
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0];
}

async function cpuDescription(): Promise<string> {
  if (!isNode) return 'JavaScript (pure-JS kernels)';
  const os = await import('node:os');
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} cores; pure-JS kernels, one thread)`;
}

async function setUpTensorflow(): Promise<string> {
  const attempts: string[] = [];
  for (const [pkg, label] of [
    ['@tensorflow/tfjs-node-gpu', 'GPU build'],
    ['@tensorflow/tfjs-node', 'CPU build'],
  ] as const) {
    try {
      await importOptional(pkg);
      if (await tf.setBackend('tensorflow')) return `libtensorflow (${pkg}, ${label})`;
      attempts.push(`${pkg} loaded but the 'tensorflow' backend did not initialise`);
    } catch (error) {
      attempts.push(`${pkg}: ${describeError(error)}`);
    }
  }
  throw new BackendUnavailableError(
    'tensorflow',
    "backend 'tensorflow' is unavailable: it needs @tensorflow/tfjs-node-gpu@4.22.0 (libtensorflow 2.9.1 " +
      'built for CUDA 11.2 and cuDNN 8.1, NVIDIA GPUs on Linux) or @tensorflow/tfjs-node@4.22.0 (libtensorflow 2.9.1, CPU), ' +
      'installed with their install script allowed so that libtensorflow is downloaded. ' +
      `Tried: ${attempts.join('; ')}. Use 'webgpu', 'wasm' or 'cpu' instead.`,
  );
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}
interface NavigatorLike {
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
}

async function setUpWebgpu(): Promise<string> {
  const g = globalThis as unknown as { navigator?: NavigatorLike };
  if (!g.navigator?.gpu) {
    if (!isNode) {
      throw new BackendUnavailableError('webgpu', "backend 'webgpu' is unavailable: this browser has no navigator.gpu (WebGPU is not enabled).");
    }
    let dawn: Record<string, unknown>;
    try {
      dawn = await importOptional('webgpu');
    } catch (error) {
      throw new BackendUnavailableError(
        'webgpu',
        `backend 'webgpu' is unavailable: the optional package 'webgpu' (Dawn for Node, 0.6.2) could not be loaded (${describeError(error)}). Install it with \`npm install webgpu@0.6.2\`.`,
      );
    }
    const create = (dawn.create ?? (dawn.default as Record<string, unknown> | undefined)?.create) as
      | ((flags: string[]) => NavigatorLike['gpu'])
      | undefined;
    const globals = (dawn.globals ?? (dawn.default as Record<string, unknown> | undefined)?.globals) as object | undefined;
    if (!create) throw new BackendUnavailableError('webgpu', "backend 'webgpu' is unavailable: the 'webgpu' package exports no create()");
    if (globals) Object.assign(globalThis, globals);
    const gpu = create([]);
    if (g.navigator) {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    } else {
      g.navigator = { gpu };
    }
  }
  const adapter = await g.navigator!.gpu!.requestAdapter();
  if (!adapter) {
    throw new BackendUnavailableError(
      'webgpu',
      "backend 'webgpu' is unavailable: navigator.gpu.requestAdapter() found no adapter. In Node, Dawn needs a Vulkan driver " +
        'for a real GPU (software Vulkan such as Mesa llvmpipe is rejected); in a browser, WebGPU must be enabled.',
    );
  }
  try {
    await importOptional('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    throw new BackendUnavailableError(
      'webgpu',
      `backend 'webgpu' is unavailable: @tensorflow/tfjs-backend-webgpu@4.22.0 could not be loaded (${describeError(error)}).`,
    );
  }
  if (!(await tf.setBackend('webgpu'))) {
    throw new BackendUnavailableError('webgpu', "backend 'webgpu' is unavailable: tf.setBackend('webgpu') returned false.");
  }
  const info = adapter.info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p) => p && p.length > 0);
  return `WebGPU adapter ${parts.length ? parts.join(' ') : '(no adapter info)'}`;
}

async function setUpWasm(): Promise<string> {
  let wasmModule: Record<string, unknown>;
  try {
    wasmModule = await importOptional('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    throw new BackendUnavailableError(
      'wasm',
      `backend 'wasm' is unavailable: @tensorflow/tfjs-backend-wasm@4.22.0 could not be loaded (${describeError(error)}).`,
    );
  }
  // In Node the package's CommonJS build finds its .wasm files next to itself; in a browser the
  // page must call setWasmPaths() (exported by the package) before initBackend.
  void wasmModule;
  if (!(await tf.setBackend('wasm'))) {
    throw new BackendUnavailableError('wasm', "backend 'wasm' is unavailable: tf.setBackend('wasm') returned false (WebAssembly files not found?).");
  }
  installWasmFixes();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return `WebAssembly (${simd ? 'SIMD' : 'no SIMD'}, one thread)`;
}

/**
 * Loads the wasm backend next to the current one without switching to it (tfjs keeps every
 * initialised backend in its registry). Returns false when the package or its .wasm files are
 * missing: the caller then simply runs without it.
 */
async function loadWasmAlongside(): Promise<boolean> {
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  if (registry.wasm) return true;
  const current = tf.getBackend();
  try {
    await importOptional('@tensorflow/tfjs-backend-wasm');
    const ok = await tf.setBackend('wasm');
    return ok;
  } catch {
    return false;
  } finally {
    if (current && tf.getBackend() !== current) await tf.setBackend(current);
  }
}

async function setUpCpu(wasmMatmul: boolean): Promise<string> {
  const withWasm = wasmMatmul && !(isNode && process.env.SWINMM_GEMM === 'js') && (await loadWasmAlongside());
  if (!(await tf.setBackend('cpu'))) {
    throw new BackendUnavailableError('cpu', "backend 'cpu' is unavailable: tf.setBackend('cpu') returned false.");
  }
  // The cpu backend prints a long hint about tfjs-node on first use; our summary line replaces it.
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  backend.firstUse = false;
  const description = await cpuDescription();
  return withWasm ? `${description}; matrix products of the JS convolutions on wasm XNNPACK` : description;
}

const SET_UP: Record<BackendName, (options: InitBackendOptions) => Promise<string>> = {
  tensorflow: setUpTensorflow,
  webgpu: setUpWebgpu,
  wasm: setUpWasm,
  cpu: (options) => setUpCpu(options.wasmMatmul ?? true),
};

/** Reads and checks a preference from an argument or the `SWINMM_BACKEND` environment variable. */
export function resolveBackendPreference(preference?: string): BackendPreference {
  const fromEnv = isNode ? process.env.SWINMM_BACKEND : undefined;
  const raw = (preference ?? fromEnv ?? 'auto').trim().toLowerCase();
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(raw)) {
    const source = preference !== undefined ? 'argument' : 'SWINMM_BACKEND';
    throw new RangeError(`unknown backend '${raw}' (from the ${source}): expected one of ${BACKEND_PREFERENCES.join(', ')}`);
  }
  return raw as BackendPreference;
}

/**
 * Chooses and initialises the TensorFlow.js backend: `preference` if given, else the
 * `SWINMM_BACKEND` environment variable, else `'auto'`. Logs one line with the choice.
 *
 * Calling it again with the preference already in force returns the same result without work;
 * a different preference switches backend.
 *
 * @throws {@link BackendUnavailableError} when an explicitly named backend cannot be set up.
 *
 * @example
 * ```ts
 * import { initBackend } from '@swinmm/runtime';
 * const { name, device } = await initBackend();       // e.g. 'wasm', 'WebAssembly (SIMD, one thread)'
 * await initBackend('cpu');                           // the reference kernels, as the tests use
 * ```
 */
export async function initBackend(preference?: BackendPreference, options: InitBackendOptions = {}): Promise<BackendInfo> {
  const wanted = resolveBackendPreference(preference);
  const log = options.log ?? ((line: string) => console.info(line));
  const sameAsBefore = chosen && (wanted === chosen.name || (wanted === 'auto' && chosenByAuto));
  if (chosen && sameAsBefore && tf.getBackend() === chosen.tfBackend) return chosen;
  const candidates = wanted === 'auto' ? AUTO_ORDER : [wanted];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of candidates) {
    try {
      const device = await SET_UP[name](options);
      chosen = { name, tfBackend: tf.getBackend(), device, skipped };
      chosenByAuto = wanted === 'auto';
      const why = skipped.length ? ` (skipped ${skipped.map((s) => s.name).join(', ')})` : '';
      log(`[swinmm] backend ${name}${wanted === 'auto' ? ' (auto)' : ''}: ${device}${why}`);
      return chosen;
    } catch (error) {
      if (wanted !== 'auto') throw error;
      skipped.push({ name, reason: describeError(error) });
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** The backend chosen by the last successful {@link initBackend}, if any. */
export function currentBackend(): BackendInfo | undefined {
  return chosen;
}

/** Thrown (by {@link explainBackendError}) when the wasm backend's heap is exhausted. */
export class BackendOutOfMemoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendOutOfMemoryError';
  }
}

// How a full wasm heap shows up: aborts from inside WebAssembly, failed growth, and (measured with
// the F 48 SwinUNETR at 96³ before its blocks freed their intermediates) a RangeError "offset is
// out of bounds" from the backend copying a new tensor into a heap that is already at 4 GB.
const WASM_MEMORY_FAILURE = /memory access out of bounds|Aborted\(|out of memory|Cannot enlarge memory|Array buffer allocation failed|offset is out of bounds/i;

/**
 * Turns the wasm backend's cryptic failures when its heap runs out (an `Aborted()` or `memory
 * access out of bounds` from inside WebAssembly; the heap stops at 4 GB) into a
 * {@link BackendOutOfMemoryError} that says what to do; any other error is returned unchanged.
 * Long-running loops (training, inference) pass their errors through it.
 */
export function explainBackendError(error: unknown): unknown {
  if (tf.getBackend() !== 'wasm' || error instanceof BackendOutOfMemoryError) return error;
  const text = error instanceof Error ? error.message : String(error);
  if (!WASM_MEMORY_FAILURE.test(text)) return error;
  return new BackendOutOfMemoryError(
    `the wasm backend ran out of memory (its WebAssembly heap stops at 4 GB; found: ${text.split('\n')[0]}). ` +
      "Use the 'cpu' backend (no heap limit; @swinmm/nn still multiplies matrices on wasm), a smaller ROI or batch, " +
      "or a GPU backend ('webgpu', 'tensorflow'). The wasm module cannot be used again in this process.",
    { cause: error },
  );
}
