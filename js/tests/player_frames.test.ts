import { describe, expect, it } from "vitest";
import { FrameTimes, constantFrameTimes } from "../src/widgets/player/frames.js";

describe("FrameTimes", () => {
  const ft = constantFrameTimes(300, [30000, 1001]);

  it("finds the frame under a stream time from the real times", () => {
    expect(ft.indexAt(0)).toBe(0);
    expect(ft.indexAt(-1)).toBe(0);
    expect(ft.indexAt(0.0333)).toBe(0);
    expect(ft.indexAt(1001 / 30000)).toBe(1);
    expect(ft.indexAt((299 * 1001) / 30000 + 0.01)).toBe(299);
    expect(ft.indexAt(99)).toBe(299);
    for (const n of [0, 1, 59, 60, 150, 298, 299]) expect(ft.indexAt(ft.centreOf(n))).toBe(n);
  });

  it("centres are half way between frame starts", () => {
    expect(ft.centreOf(10)).toBeCloseTo((10.5 * 1001) / 30000, 12);
    expect(ft.centreOf(299)).toBeCloseTo((299.5 * 1001) / 30000, 12);
    expect(ft.centreOf(500)).toBe(ft.centreOf(299));
  });

  it("handles variable frame rates", () => {
    const vfr = new FrameTimes(new Float64Array([0, 0.04, 0.05, 0.2]), 0.25);
    expect(vfr.indexAt(0.045)).toBe(1);
    expect(vfr.indexAt(0.1)).toBe(2);
    expect(vfr.centreOf(2)).toBeCloseTo(0.125);
    expect(vfr.centreOf(3)).toBeCloseTo(0.225);
    const noEnd = new FrameTimes(new Float64Array([0, 0.1, 0.2]), 0.2);
    expect(noEnd.centreOf(2)).toBeCloseTo(0.25);
  });
});
