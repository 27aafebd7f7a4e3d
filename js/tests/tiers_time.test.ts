import { describe, expect, it } from "vitest";
import {
  formatRange,
  formatTime,
  streamTimeToX,
  toItem,
  toStream,
  visibleItemRange,
  xToStreamTime,
} from "../src/widgets/player/tiers/time.js";
import { FakeView, SECOND_AUDIO } from "./tiers_fakes.js";

describe("tiers time", () => {
  it("maps stream ↔ item seconds through offset and rate, both ways", () => {
    expect(toItem(SECOND_AUDIO, 0)).toBeCloseTo(0.3617, 12);
    expect(toItem(SECOND_AUDIO, 2)).toBeCloseTo(0.3617 + 2.0003, 12);
    for (const t of [0, 1.234, 9.99, 1234.5]) expect(toStream(SECOND_AUDIO, toItem(SECOND_AUDIO, t))).toBeCloseTo(t, 9);
  });

  it("places stream times on the view in item time, and back", () => {
    const view = new FakeView(1, 0.005, 800);
    // stream 2 s on second_audio is item 2.3620 s → (2.3620 - 1) / 0.005 px
    expect(streamTimeToX(view, SECOND_AUDIO, 2)).toBeCloseTo((0.3617 + 2.0003 - 1) / 0.005, 9);
    expect(xToStreamTime(view, SECOND_AUDIO, streamTimeToX(view, SECOND_AUDIO, 3.21))).toBeCloseTo(3.21, 9);
    // the identity clock is the item timeline itself
    expect(streamTimeToX(view, { offset: 0, rate: 1 }, 2)).toBeCloseTo(200, 9);
    expect(visibleItemRange(view)).toEqual([1, 5]);
  });

  it("writes item time as h:mm:ss.mmm", () => {
    expect(formatTime(0)).toBe("0:00:00.000");
    expect(formatTime(1.2345)).toBe("0:00:01.235"); // rounded to the millisecond (1234.5 → 1235)
    expect(formatTime(3661.0009)).toBe("1:01:01.001");
    expect(formatTime(59.9996)).toBe("0:01:00.000");
    expect(formatTime(-0.25)).toBe("-0:00:00.250");
    expect(formatTime(Number.NaN)).toBe("–");
    expect(formatRange(0.3617, 2.5)).toBe("0:00:00.362 – 0:00:02.500");
  });
});
