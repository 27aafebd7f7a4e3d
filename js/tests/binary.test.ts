import { describe, expect, it } from "vitest";
import {
  BinaryFormatError,
  decodeArray,
  decodeMatrix,
  float32View,
  float64View,
  int32View,
  parseDType,
  uint8View,
} from "../src/runtime/binary.js";

/** Bytes of `values` as float32, placed `offset` bytes into a larger buffer. */
function float32At(values: number[], offset: number): DataView {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  const backing = new Uint8Array(offset + bytes.byteLength + 3).fill(0xee);
  backing.set(bytes, offset);
  return new DataView(backing.buffer, offset, bytes.byteLength);
}

describe("typed views", () => {
  it("shares memory when the offset is aligned", () => {
    const dv = float32At([1.5, -2, 3.25], 8);
    const view = float32View(dv);
    expect([...view]).toEqual([1.5, -2, 3.25]);
    expect(view.buffer).toBe(dv.buffer);
    expect(view.byteOffset).toBe(8);
  });

  it("copies when the offset is not aligned", () => {
    for (const offset of [1, 2, 3, 5]) {
      const dv = float32At([0.5, 42, -7.75], offset);
      const view = float32View(dv);
      expect([...view]).toEqual([0.5, 42, -7.75]);
      expect(view.buffer).not.toBe(dv.buffer);
      expect(view.byteOffset).toBe(0);
    }
  });

  it("respects the view's length, not the whole buffer", () => {
    const backing = new Int32Array([10, 20, 30, 40, 50]);
    const dv = new DataView(backing.buffer, 4, 8);
    expect([...int32View(dv)]).toEqual([20, 30]);
  });

  it("reads float64 at an unaligned-for-8 but aligned-for-4 offset by copying", () => {
    const bytes = new Uint8Array(new Float64Array([Math.PI, -1e300]).buffer);
    const backing = new Uint8Array(4 + bytes.byteLength);
    backing.set(bytes, 4);
    const view = float64View(new DataView(backing.buffer, 4));
    expect([...view]).toEqual([Math.PI, -1e300]);
  });

  it("accepts ArrayBuffers and typed arrays", () => {
    expect([...uint8View(new Uint8Array([1, 2, 3]).buffer)]).toEqual([1, 2, 3]);
    expect([...uint8View(new Uint16Array([0x0201]))]).toEqual([1, 2]);
  });

  it("refuses a byte length that is not a whole number of elements", () => {
    expect(() => float32View(new ArrayBuffer(6))).toThrow(BinaryFormatError);
    expect(() => float32View(new ArrayBuffer(6))).toThrow("buffer of 6 bytes is not a whole number of 4-byte elements");
  });
});

describe("envelopes", () => {
  it("decodes an (N, 3) float32 envelope", () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const m = decodeMatrix({ dtype: "float32", shape: [2, 3], buffer: new DataView(data.buffer) }, { columns: 3 });
    expect(m.rows).toBe(2);
    expect(m.columns).toBe(3);
    expect(m.shape).toEqual([2, 3]);
    expect(m.dtype).toBe("float32");
    expect(m.data).toBeInstanceOf(Float32Array);
    expect([...m.data]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("accepts numpy dtype codes and 1-d shapes", () => {
    const m = decodeMatrix({ dtype: "<i4", shape: [3], buffer: new Int32Array([7, 8, 9]).buffer });
    expect(m.dtype).toBe("int32");
    expect(m.rows).toBe(3);
    expect(m.columns).toBe(1);
    expect(parseDType("|u1")).toBe("uint8");
  });

  it("decodes an empty (0, 3) array", () => {
    const m = decodeMatrix({ dtype: "float32", shape: [0, 3], buffer: new ArrayBuffer(0) });
    expect(m.rows).toBe(0);
    expect(m.data.length).toBe(0);
  });

  it("refuses shapes that do not match the bytes", () => {
    const buffer = new Float32Array(6).buffer;
    expect(() => decodeArray({ dtype: "float32", shape: [2, 4], buffer })).toThrow(
      "shape [2, 4] of float32 needs 32 bytes, got 24",
    );
    expect(() => decodeArray({ dtype: "float64", shape: [2, 3], buffer })).toThrow(BinaryFormatError);
  });

  it("refuses malformed shapes", () => {
    const buffer = new ArrayBuffer(8);
    for (const shape of [[-2], [1.5], [Number.NaN], ["2"]] as unknown as number[][]) {
      expect(() => decodeArray({ dtype: "uint8", shape, buffer })).toThrow(/non-negative integers/);
    }
    expect(() => decodeArray({ dtype: "uint8", shape: "8" as unknown as number[], buffer })).toThrow(
      /non-negative integers/,
    );
  });

  it("refuses the wrong column count, rank or dtype", () => {
    const buffer = new Float32Array(12).buffer;
    expect(() => decodeMatrix({ dtype: "float32", shape: [3, 4], buffer }, { columns: 3 })).toThrow(
      "shape: expected (N, 3), got [3, 4]",
    );
    expect(() => decodeMatrix({ dtype: "float32", shape: [2, 2, 3], buffer })).toThrow(/\(N, C\)/);
    expect(() => decodeMatrix({ dtype: "float32", shape: [4, 3], buffer }, { dtype: "float64" })).toThrow(
      "dtype: expected float64, got float32",
    );
  });

  it("refuses unknown and big-endian dtypes", () => {
    expect(() => parseDType(">f4")).toThrow(BinaryFormatError);
    expect(() => parseDType("complex64")).toThrow(/expected one of/);
    expect(() => parseDType("toString")).toThrow(BinaryFormatError);
  });
});
