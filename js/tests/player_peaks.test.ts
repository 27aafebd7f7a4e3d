import { describe, expect, it } from "vitest";
import { columnPeak, parsePeaks, windowSpan } from "../src/widgets/player/peaks.js";

function buffer(values: number[]): DataView {
  const dv = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return dv;
}

describe("peaks", () => {
  const w = parsePeaks(
    { sample_rate: 100, samples_per_bin: 10, first_bin: 5 },
    buffer([-0.1, 0.1, -0.5, 0.2, -0.2, 0.9, 0, 0]),
  );

  it("parses a window and its span", () => {
    expect(w).not.toBeNull();
    expect(w!.data.length).toBe(8);
    expect(windowSpan(w!)).toEqual([0.5, 0.9]);
    expect(parsePeaks({ sample_rate: 0 }, buffer([0, 0]))).toBeNull();
  });

  it("reduces the bins under a column, and refuses uncovered columns", () => {
    const [lo, hi] = columnPeak(w!, 0.5, 0.7)!;
    expect(lo).toBeCloseTo(-0.5);
    expect(hi).toBeCloseTo(0.2);
    expect(columnPeak(w!, 0.71, 0.72)![1]).toBeCloseTo(0.9);
    expect(columnPeak(w!, 0.4, 0.6)).toBeNull();
    expect(columnPeak(w!, 0.85, 0.95)).toBeNull();
  });
});
