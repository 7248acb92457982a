/**
 * Tensors and storages as read from PyTorch files: plain typed arrays in C order with a dtype and
 * a shape, no tensor library involved.
 *
 * @module
 */
import { safetensorToFloat32 } from '@swinmm/nn';

/** The PyTorch dtypes the reader understands. */
export type TorchDtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/**
 * The typed array that holds a dtype. `float16` and `bfloat16` are their raw 16-bit patterns in a
 * `Uint16Array` (JavaScript has no half float; see {@link tensorToFloat32}); `int64` is a
 * `BigInt64Array`; `bool` is a `Uint8Array` of 0/1.
 */
export type TorchTensorData = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** How a {@link TorchDtype} is stored. */
export interface TorchDtypeInfo {
  /** Bytes per element. */
  itemSize: number;
  /** Makes the typed array over `length` elements of `buffer` from `byteOffset`. */
  make: (buffer: ArrayBuffer, byteOffset: number, length: number) => TorchTensorData;
  /** The safetensors code of the dtype. */
  safetensors: 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
}

/** Item size, typed-array constructor and safetensors code of each {@link TorchDtype}. */
export const TORCH_DTYPES: Readonly<Record<TorchDtype, TorchDtypeInfo>> = {
  float64: { itemSize: 8, make: (b, o, n) => new Float64Array(b, o, n), safetensors: 'F64' },
  float32: { itemSize: 4, make: (b, o, n) => new Float32Array(b, o, n), safetensors: 'F32' },
  float16: { itemSize: 2, make: (b, o, n) => new Uint16Array(b, o, n), safetensors: 'F16' },
  bfloat16: { itemSize: 2, make: (b, o, n) => new Uint16Array(b, o, n), safetensors: 'BF16' },
  int64: { itemSize: 8, make: (b, o, n) => new BigInt64Array(b, o, n), safetensors: 'I64' },
  int32: { itemSize: 4, make: (b, o, n) => new Int32Array(b, o, n), safetensors: 'I32' },
  int16: { itemSize: 2, make: (b, o, n) => new Int16Array(b, o, n), safetensors: 'I16' },
  int8: { itemSize: 1, make: (b, o, n) => new Int8Array(b, o, n), safetensors: 'I8' },
  uint8: { itemSize: 1, make: (b, o, n) => new Uint8Array(b, o, n), safetensors: 'U8' },
  bool: { itemSize: 1, make: (b, o, n) => new Uint8Array(b, o, n), safetensors: 'BOOL' },
};

/** The PyTorch storage classes (as pickled: `torch.FloatStorage` …) and their dtypes. */
export const TORCH_STORAGE_TYPES: Readonly<Record<string, TorchDtype>> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/**
 * A storage of a PyTorch file: the raw bytes of one `data/<key>` entry, read as `dtype`.
 * Tensors are views into storages; several tensors may share one.
 */
export class TorchStorage {
  private typed?: TorchTensorData;

  constructor(
    /** The storage's key (the name of its `data/` entry). */
    readonly key: string,
    /** The element type. */
    readonly dtype: TorchDtype,
    /** Number of elements. */
    readonly numel: number,
    /** Its raw little-endian bytes (at least `numel × itemSize`). */
    readonly bytes: Uint8Array,
    /** The device it was saved from (`cpu`, `cuda:0` …); informational only. */
    readonly location: string,
  ) {}

  /** The elements as a typed array (a view of the file's bytes when aligned, else a copy). */
  data(): TorchTensorData {
    if (!this.typed) {
      const info = TORCH_DTYPES[this.dtype];
      const byteLength = this.numel * info.itemSize;
      if (this.bytes.byteOffset % info.itemSize === 0) {
        this.typed = info.make(this.bytes.buffer as ArrayBuffer, this.bytes.byteOffset, this.numel);
      } else {
        const copy = new Uint8Array(byteLength);
        copy.set(this.bytes.subarray(0, byteLength));
        this.typed = info.make(copy.buffer, 0, this.numel);
      }
    }
    return this.typed;
  }
}

/** A tensor read from a PyTorch file: C-order elements, dtype and shape. */
export class TorchTensor {
  constructor(
    /** The element type. */
    readonly dtype: TorchDtype,
    /** The shape; `[]` for a 0-d tensor. */
    readonly shape: readonly number[],
    /** The elements in C (row-major) order; exactly `prod(shape)` of them. */
    readonly data: TorchTensorData,
    /** `requires_grad` as saved. */
    readonly requiresGrad = false,
    /** True when the tensor was saved as an `nn.Parameter`. */
    readonly isParameter = false,
  ) {}

  /** Number of elements. */
  get numel(): number {
    return this.data.length;
  }
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/**
 * A tensor's values as float32 whatever its dtype: float16/bfloat16 decoded from their bit
 * patterns, float64 rounded, integers converted (exact up to 2^24). Returns the tensor's own
 * array when it already is float32. (The decoding is @swinmm/nn's, under the safetensors name of
 * the dtype.)
 */
export function tensorToFloat32(t: { dtype: TorchDtype; data: TorchTensorData }): Float32Array {
  return safetensorToFloat32({ dtype: TORCH_DTYPES[t.dtype].safetensors, shape: [t.data.length], data: t.data });
}

/** The raw little-endian bytes of a typed array (a view, no copy). */
export function typedArrayBytes(data: TorchTensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
