/**
 * Corrections for kernels of `@tensorflow/tfjs-backend-wasm` 4.22.0 that return silently wrong
 * results or are missing (measured, see the workspace's STACK notes):
 *
 * - `Conv3DBackpropInputV2` (every conv3d input gradient and conv3dTranspose) is wrong;
 * - `Conv3DBackpropFilterV2` is wrong for strides other than 1;
 * - binary elementwise kernels are wrong when an operand has rank ≥ 7;
 * - `UnsortedSegmentSum` (the gradient of gather) and `Einsum` are not registered.
 *
 * Each fix re-registers the kernel for `wasm` so that, when the faulty case applies, it copies the
 * inputs to the pure-JS `cpu` backend, runs the reference kernel there and copies the result back.
 * The cases that the wasm kernels get right keep their fast path.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** What a tfjs kernel function receives. */
type KernelArgs = Parameters<tf.KernelFunc>[0];
type KernelResult = ReturnType<tf.KernelFunc>;

/** The subset of the wasm backend's class that the fallback uses. */
interface WasmBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** The subset of the cpu backend's class that the fallback uses. */
interface CpuBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** Binary elementwise kernels whose wasm versions broadcast wrongly at rank ≥ 7. */
export const WASM_HIGH_RANK_BINARY_KERNELS = [
  'Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference', 'Pow',
  'FloorDiv', 'Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'Prelu',
] as const;

/** Kernels that are always computed by the cpu fallback on wasm. */
export const WASM_CPU_KERNELS = ['Conv3DBackpropInputV2', 'UnsortedSegmentSum', 'Einsum'] as const;

/** Runs `kernelName` from the cpu backend on copies of wasm-resident inputs. */
function runOnCpu(kernelName: string, args: KernelArgs): KernelResult {
  const wasm = args.backend as unknown as WasmBackendLike;
  const cpu = tf.findBackend('cpu') as unknown as CpuBackendLike | null;
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (!cpu || !cpuKernel) {
    throw new Error(`wasm fallback for ${kernelName}: the cpu backend or its kernel is not registered`);
  }
  const temporaries: tf.TensorInfo[] = [];
  const toCpu = (info: tf.TensorInfo): tf.TensorInfo => {
    const copy = cpu.makeTensorInfo(info.shape, info.dtype, wasm.readSync(info.dataId));
    temporaries.push(copy);
    return copy;
  };
  // Most kernels take a map of named inputs; a few (Einsum) take an array.
  const cpuInputs = Array.isArray(args.inputs)
    ? (args.inputs as tf.TensorInfo[]).map(toCpu)
    : Object.fromEntries(Object.entries(args.inputs).filter(([, info]) => info).map(([name, info]) => [name, toCpu(info as tf.TensorInfo)]));
  try {
    const result = cpuKernel.kernelFunc({
      inputs: cpuInputs as tf.NamedTensorInfoMap,
      attrs: args.attrs,
      backend: cpu as unknown as tf.KernelBackend,
    });
    const outputs = Array.isArray(result) ? result : [result];
    temporaries.push(...outputs);
    const copied = outputs.map((o) => wasm.makeOutput(o.shape, o.dtype, undefined, cpu.readSync(o.dataId)));
    return Array.isArray(result) ? copied : copied[0];
  } finally {
    for (const t of temporaries) cpu.disposeData(t.dataId, true);
  }
}

function replaceWasmKernel(kernelName: string, choose: (args: KernelArgs) => 'cpu' | 'wasm'): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (original && (original as { swinmmPatched?: boolean }).swinmmPatched) return;
  if (original) tf.unregisterKernel(kernelName, 'wasm');
  const config: tf.KernelConfig & { swinmmPatched: boolean } = {
    kernelName,
    backendName: 'wasm',
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
    swinmmPatched: true,
    kernelFunc: (args: KernelArgs) => {
      if (!original || choose(args) === 'cpu') return runOnCpu(kernelName, args);
      return original.kernelFunc(args);
    },
  };
  tf.registerKernel(config);
}

function maxInputRank(args: KernelArgs): number {
  return Math.max(0, ...Object.values(args.inputs).map((t) => (t ? t.shape.length : 0)));
}

/**
 * Installs the fixes for the wasm backend. Idempotent; {@link initBackend} calls it whenever it
 * selects wasm, so users only need it when they call `tf.setBackend('wasm')` themselves.
 */
export function installWasmFixes(): void {
  for (const name of WASM_CPU_KERNELS) replaceWasmKernel(name, () => 'cpu');
  replaceWasmKernel('Conv3DBackpropFilterV2', (args) => {
    const strides = (args.attrs?.strides ?? [1, 1, 1, 1, 1]) as number | number[];
    const list = Array.isArray(strides) ? strides : [strides];
    return list.every((s) => s === 1) ? 'wasm' : 'cpu';
  });
  for (const name of WASM_HIGH_RANK_BINARY_KERNELS) {
    if (tf.getKernel(name, 'wasm')) replaceWasmKernel(name, (args) => (maxInputRank(args) >= 7 ? 'cpu' : 'wasm'));
  }
}
