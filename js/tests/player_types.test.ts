import { describe, expect, it } from "vitest";
import { formatTime, parseClasses, parseStreams, parseTime } from "../src/widgets/player/types.js";

describe("parseStreams", () => {
  it("keeps well-formed streams and defaults the rest", () => {
    const s = parseStreams([
      { name: "video", modality: "video", duration: 10, clock: { offset: 0.5, rate: 1.0001 }, fps: [30000, 1001], frameCount: 300, url: "accord/media?path=%2Fa.mp4" },
      { name: "bad", modality: "smell" },
      null,
      { name: "a", modality: "audio", clock: { rate: -1 } },
    ]);
    expect(s.map((x) => x.name)).toEqual(["video", "a"]);
    expect(s[0]?.fps).toEqual([30000, 1001]);
    expect(s[0]?.clock).toEqual({ offset: 0.5, rate: 1.0001 });
    expect(s[1]?.clock).toEqual({ offset: 0, rate: 1 });
    expect(s[1]?.duration).toBeNull();
    expect(parseStreams("nope")).toEqual([]);
  });

  it("parses classes", () => {
    expect(parseClasses([{ name: "speech", color: "#2ca02c", modalities: ["audio", 3] }, { color: "x" }])).toEqual([
      { name: "speech", color: "#2ca02c", hotkey: null, modalities: ["audio"], attributes: [] },
    ]);
  });
});

describe("times", () => {
  it("formats and parses", () => {
    expect(formatTime(62.5)).toBe("1:02.500");
    expect(formatTime(3723.25)).toBe("1:02:03.250");
    expect(parseTime("1:02.5")).toBe(62.5);
    expect(parseTime("62.5")).toBe(62.5);
    expect(parseTime("1:00:02")).toBe(3602);
    expect(parseTime("abc")).toBeNull();
    expect(parseTime("-3")).toBeNull();
  });
});
