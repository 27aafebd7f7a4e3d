import { describe, expect, it } from "vitest";
import { follow, seekThreshold } from "../src/widgets/player/sync.js";

const base = { baseRate: 1, seekThreshold: seekThreshold(1001 / 30000), seekLatency: 0.05 };

describe("follow", () => {
  it("re-seeks an element more than 3 frames off, leading by the seek latency", () => {
    const d = follow({ ...base, elementTime: 2.0, targetTime: 2.15 });
    expect(d.seek).toBeCloseTo(2.2);
    expect(d.playbackRate).toBe(1);
    expect(follow({ ...base, elementTime: 2.12, targetTime: 2.0 }).seek).not.toBeNull();
    expect(follow({ ...base, elementTime: 2.05, targetTime: 2.0 }).seek).toBeNull();
  });

  it("nudges the rate for small errors, towards the target, bounded", () => {
    const behind = follow({ ...base, elementTime: 2.0, targetTime: 2.01 });
    expect(behind.seek).toBeNull();
    expect(behind.playbackRate).toBeGreaterThan(1);
    const ahead = follow({ ...base, elementTime: 2.01, targetTime: 2.0 });
    expect(ahead.playbackRate).toBeLessThan(1);
    expect(follow({ ...base, elementTime: 2.0, targetTime: 2.09 }).playbackRate).toBeCloseTo(1.25);
    expect(follow({ ...base, elementTime: 2.0, targetTime: 2.001 }).playbackRate).toBe(1);
  });

  it("scales with the base rate (playback rate / stream clock rate)", () => {
    const d = follow({ ...base, baseRate: 2 / 1.00015, elementTime: 1, targetTime: 1 });
    expect(d.playbackRate).toBeCloseTo(2 / 1.00015, 12);
  });

  it("uses 3 frames (at least 100 ms) for video and 150 ms for audio", () => {
    expect(seekThreshold(1 / 25)).toBeCloseTo(0.12);
    expect(seekThreshold(1 / 60)).toBeCloseTo(0.1);
    expect(seekThreshold(null)).toBe(0.15);
  });
});
