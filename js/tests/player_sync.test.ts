import { describe, expect, it } from "vitest";
import { follow, seekThreshold } from "../src/widgets/player/sync.js";

const base = { baseRate: 1, seekThreshold: seekThreshold(1001 / 30000), seekLatency: 0.05 };

describe("follow", () => {
  it("re-seeks an element more than half a frame off, leading by the seek latency", () => {
    const d = follow({ ...base, elementTime: 2.0, targetTime: 2.03 });
    expect(d.seek).toBeCloseTo(2.08);
    expect(d.playbackRate).toBe(1);
    expect(follow({ ...base, elementTime: 2.02, targetTime: 2.0 }).seek).not.toBeNull();
  });

  it("nudges the rate for small errors, towards the target, bounded", () => {
    const behind = follow({ ...base, elementTime: 2.0, targetTime: 2.01 });
    expect(behind.seek).toBeNull();
    expect(behind.playbackRate).toBeGreaterThan(1);
    const ahead = follow({ ...base, elementTime: 2.01, targetTime: 2.0 });
    expect(ahead.playbackRate).toBeLessThan(1);
    expect(follow({ ...base, elementTime: 2.0, targetTime: 2.016 }).playbackRate).toBeLessThanOrEqual(1.08);
    expect(follow({ ...base, elementTime: 2.0, targetTime: 2.001 }).playbackRate).toBe(1);
  });

  it("scales with the base rate (playback rate / stream clock rate)", () => {
    const d = follow({ ...base, baseRate: 2 / 1.00015, elementTime: 1, targetTime: 1 });
    expect(d.playbackRate).toBeCloseTo(2 / 1.00015, 12);
  });

  it("uses half a frame for video and 40 ms for audio", () => {
    expect(seekThreshold(1 / 25)).toBeCloseTo(0.02);
    expect(seekThreshold(null)).toBe(0.04);
  });
});
