import { describe, expect, it, vi } from "vitest";
import { createTimeView } from "../src/widgets/player/timeview.js";

describe("createTimeView", () => {
  it("fits the item by default and maps time to x and back", () => {
    const v = createTimeView({ duration: 10, width: 500 });
    expect(v.start).toBe(0);
    expect(v.secondsPerPixel).toBeCloseTo(0.02);
    expect(v.timeToX(5)).toBeCloseTo(250);
    expect(v.xToTime(v.timeToX(3.21))).toBeCloseTo(3.21, 12);
  });

  it("zooms about a time, keeping it under the same pixel, within limits", () => {
    const v = createTimeView({ duration: 10, width: 500 });
    const fn = vi.fn();
    v.subscribe(fn);
    const x = v.timeToX(4);
    v.zoom(4, 4);
    expect(v.secondsPerPixel).toBeCloseTo(0.005);
    expect(v.timeToX(4)).toBeCloseTo(x);
    expect(fn).toHaveBeenCalledTimes(1);
    v.zoom(1e9, 4);
    expect(v.secondsPerPixel).toBeCloseTo(1e-4);
    v.zoom(1e-9, 4);
    expect(v.secondsPerPixel).toBeCloseTo(0.02);
    expect(v.start).toBe(0);
  });

  it("never scrolls outside the item", () => {
    const v = createTimeView({ duration: 10, width: 100 });
    v.show(2, 3);
    expect(v.start).toBeCloseTo(2);
    expect(v.secondsPerPixel).toBeCloseTo(0.01);
    v.scrollTo(-5);
    expect(v.start).toBe(0);
    v.scrollTo(50);
    expect(v.start).toBeCloseTo(9);
    v.reveal(2.5);
    expect(v.start).toBeLessThanOrEqual(2.5);
    expect(v.start + v.width * v.secondsPerPixel).toBeGreaterThan(2.5);
  });

  it("stays fitted when the width or duration changes while fitted", () => {
    const v = createTimeView({ duration: 10, width: 100 });
    v.setWidth(200);
    expect(v.secondsPerPixel).toBeCloseTo(0.05);
    v.setDuration(20);
    expect(v.secondsPerPixel).toBeCloseTo(0.1);
    v.zoom(2, 0);
    v.setWidth(400);
    expect(v.secondsPerPixel).toBeCloseTo(0.05);
  });
});
