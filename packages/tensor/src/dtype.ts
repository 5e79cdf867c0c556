/**
 * Element types. `float32` is the default (like PyTorch); `float64` is the precise path used by
 * gradcheck and the loss; `int32` holds indices and labels.
 */
export type DType = 'float32' | 'float64' | 'int32';

export type TypedArray = Float32Array | Float64Array | Int32Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/** A new zero-filled array of `length` elements of `dtype`. */
export function allocate(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int32':
      return new Int32Array(length);
    default:
      throw new Error(`unknown dtype '${String(dtype)}' (expected one of ${DTYPES.join(', ')})`);
  }
}

/** The dtype of a typed array, or undefined for any other array kind. */
export function dtypeOfArray(array: ArrayLike<number>): DType | undefined {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Int32Array) return 'int32';
  return undefined;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function assertDType(dtype: unknown, where: string): asserts dtype is DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new Error(`${where}: unknown dtype '${String(dtype)}' (expected one of ${DTYPES.join(', ')})`);
  }
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}
