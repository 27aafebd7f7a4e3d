/**
 * Typed arrays over the binary buffers Python sends.
 *
 * anywidget hands buffers over as DataViews (byteOffset 0 in practice, but not
 * promised). A typed array needs its byteOffset aligned to its element size,
 * so views are made in place when aligned and copied otherwise. Data is read in
 * the platform's byte order, little-endian on every browser accord supports,
 * matching numpy's default.
 */

/** Anything holding bytes: an ArrayBuffer, a DataView or a typed array. */
export type BinarySource = ArrayBuffer | ArrayBufferView;

export type DType =
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "float32"
  | "float64";

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** A buffer or shape that does not match what was expected. */
export class BinaryFormatError extends Error {
  override readonly name = "BinaryFormatError";
}

interface TypedArrayCtor<T extends TypedArray> {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

const CTORS: { [K in DType]: TypedArrayCtor<TypedArray> } = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** numpy `dtype.str` spellings accepted besides the names (little-endian or byte-sized only). */
const NUMPY_CODES = new Map<string, DType>([
  ["|i1", "int8"],
  ["|u1", "uint8"],
  ["<i1", "int8"],
  ["<u1", "uint8"],
  ["<i2", "int16"],
  ["<u2", "uint16"],
  ["<i4", "int32"],
  ["<u4", "uint32"],
  ["<f4", "float32"],
  ["<f8", "float64"],
]);

/** The canonical dtype name for `name` (e.g. "<f4" → "float32"), or throw. */
export function parseDType(name: unknown): DType {
  if (typeof name === "string") {
    if (Object.hasOwn(CTORS, name)) return name as DType;
    const code = NUMPY_CODES.get(name);
    if (code) return code;
  }
  throw new BinaryFormatError(
    `dtype: expected one of ${Object.keys(CTORS).join(", ")} (little-endian), got ${JSON.stringify(name)}`,
  );
}

function bytesOf(src: BinarySource): { buffer: ArrayBufferLike; byteOffset: number; byteLength: number } {
  if (src instanceof ArrayBuffer) return { buffer: src, byteOffset: 0, byteLength: src.byteLength };
  if (ArrayBuffer.isView(src)) {
    return { buffer: src.buffer, byteOffset: src.byteOffset, byteLength: src.byteLength };
  }
  throw new BinaryFormatError(`expected an ArrayBuffer, DataView or typed array, got ${typeof src}`);
}

/**
 * A typed array of `dtype` over all the bytes of `src`.
 * Shares memory when the offset is aligned, copies when not.
 */
export function typedView<T extends TypedArray>(src: BinarySource, ctor: TypedArrayCtor<T>): T {
  const { buffer, byteOffset, byteLength } = bytesOf(src);
  const size = ctor.BYTES_PER_ELEMENT;
  if (byteLength % size !== 0) {
    throw new BinaryFormatError(
      `buffer of ${byteLength} bytes is not a whole number of ${size}-byte elements`,
    );
  }
  const length = byteLength / size;
  if (byteOffset % size === 0) return new ctor(buffer, byteOffset, length);
  // Unaligned: copy the bytes into a fresh buffer, which is aligned.
  const out = new ctor(length);
  new Uint8Array(out.buffer).set(new Uint8Array(buffer, byteOffset, byteLength));
  return out;
}

export const uint8View = (src: BinarySource): Uint8Array => typedView(src, Uint8Array);
export const int32View = (src: BinarySource): Int32Array => typedView(src, Int32Array);
export const float32View = (src: BinarySource): Float32Array => typedView(src, Float32Array);
export const float64View = (src: BinarySource): Float64Array => typedView(src, Float64Array);

/** An n-d array as Python sends it: dtype name, shape and the raw bytes. */
export interface ArrayEnvelope {
  dtype: string;
  shape: readonly number[];
  buffer: BinarySource;
}

export interface DecodedArray<T extends TypedArray = TypedArray> {
  dtype: DType;
  data: T;
  shape: number[];
}

export interface DecodedMatrix<T extends TypedArray = TypedArray> extends DecodedArray<T> {
  /** Number of rows (N). */
  rows: number;
  /** Number of columns (C); 1 for a 1-d array. */
  columns: number;
}

function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new BinaryFormatError(`shape: expected a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new BinaryFormatError(
        `shape: expected a list of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
  }
  return [...(shape as number[])];
}

/** Decode an envelope into a typed array, checking the shape against the byte count. */
export function decodeArray(envelope: ArrayEnvelope): DecodedArray {
  const dtype = parseDType(envelope.dtype);
  const shape = checkShape(envelope.shape);
  const data = typedView(envelope.buffer, CTORS[dtype]);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new BinaryFormatError(
      `shape [${shape.join(", ")}] of ${dtype} needs ${count * CTORS[dtype].BYTES_PER_ELEMENT} bytes, ` +
        `got ${data.byteLength}`,
    );
  }
  return { dtype, data, shape };
}

/**
 * Decode an `(N, C)` (or `(N,)`, read as C = 1) envelope, optionally
 * requiring a column count and dtype, e.g. `decodeMatrix(env, {columns: 3, dtype: "float32"})`.
 */
export function decodeMatrix(
  envelope: ArrayEnvelope,
  expect: { columns?: number; dtype?: DType } = {},
): DecodedMatrix {
  const decoded = decodeArray(envelope);
  const { shape } = decoded;
  if (shape.length !== 1 && shape.length !== 2) {
    throw new BinaryFormatError(`shape: expected (N, C) or (N,), got [${shape.join(", ")}]`);
  }
  const rows = shape[0] ?? 0;
  const columns = shape.length === 2 ? (shape[1] ?? 0) : 1;
  if (expect.columns !== undefined && columns !== expect.columns) {
    throw new BinaryFormatError(`shape: expected (N, ${expect.columns}), got [${shape.join(", ")}]`);
  }
  if (expect.dtype !== undefined && decoded.dtype !== expect.dtype) {
    throw new BinaryFormatError(`dtype: expected ${expect.dtype}, got ${decoded.dtype}`);
  }
  return { ...decoded, rows, columns };
}
