import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLOCK_TICK, dropSharedClock, getSharedClock, toItemTime, toStreamTime } from "../src/runtime/clock.js";
import type { ClockState, StreamInfo } from "../src/widgets/player/contracts.js";

let n = 0;
const freshKey = (): string => JSON.stringify(["clock-test", `item-${n++}`]);

const video: StreamInfo = {
  name: "cam",
  modality: "video",
  duration: 10,
  clock: { offset: 0, rate: 1 },
  fps: [30000, 1001],
  frameCount: 299,
};
const audio: StreamInfo = { name: "mic", modality: "audio", duration: 12, clock: { offset: 0.5, rate: 1 } };

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "requestAnimationFrame", "cancelAnimationFrame", "performance", "Date"],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("getSharedClock", () => {
  it("returns one clock per key, kept on globalThis", () => {
    const key = freshKey();
    const a = getSharedClock(key, { streams: [video] });
    expect(getSharedClock(key)).toBe(a);
    expect(getSharedClock(freshKey())).not.toBe(a);
    const reg = (globalThis as Record<symbol, unknown>)[Symbol.for("accord.clock.registry.v1")] as Map<string, unknown>;
    expect(reg.get(key)).toBe(a);
    dropSharedClock(key);
    expect(getSharedClock(key)).not.toBe(a);
  });

  it("item duration is the max over streams in item time", () => {
    const clock = getSharedClock(freshKey(), { streams: [video, audio] });
    expect(clock.duration).toBeCloseTo(12.5);
    clock.setStreamClock("mic", { offset: -1, rate: 1 });
    expect(clock.duration).toBeCloseTo(11);
  });

  it("converts between stream and item time", () => {
    const c = { offset: 0.3617, rate: 1.00015 };
    expect(toItemTime(c, 10)).toBeCloseTo(0.3617 + 10.0015);
    expect(toStreamTime(c, toItemTime(c, 7.25))).toBeCloseTo(7.25, 12);
  });
});

describe("playback", () => {
  it("advances on animation frames at the playback rate and pauses where it is", () => {
    const clock = getSharedClock(freshKey(), { streams: [video] });
    const seen: [number, unknown][] = [];
    clock.subscribe((s, source) => seen.push([s.time, source]));
    clock.seek(1, "me");
    clock.play("me");
    expect(clock.state.playing).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(clock.state.time).toBeCloseTo(2, 1);
    expect(seen.filter(([, src]) => src === CLOCK_TICK).length).toBeGreaterThan(30);
    clock.setRate(2, "me");
    vi.advanceTimersByTime(1000);
    expect(clock.state.time).toBeCloseTo(4, 1);
    clock.pause("me");
    const t = clock.state.time;
    expect(t).toBeCloseTo(4, 1);
    const count = seen.length;
    vi.advanceTimersByTime(1000);
    expect(clock.state.time).toBe(t);
    expect(seen.length).toBe(count);
    expect(seen[seen.length - 1]?.[1]).toBe("me");
  });

  it("stops at the end and restarts from 0 on play", () => {
    const clock = getSharedClock(freshKey(), { streams: [video] });
    const sources: unknown[] = [];
    clock.subscribe((_s, src) => sources.push(src));
    clock.seek(9.5);
    clock.play();
    vi.advanceTimersByTime(2000);
    expect(clock.state.playing).toBe(false);
    expect(clock.state.time).toBe(10);
    expect(sources).toContain("end");
    clock.play();
    expect(clock.state.time).toBe(0);
  });

  it("loops a range", () => {
    const clock = getSharedClock(freshKey(), { streams: [video] });
    clock.setLoop([2, 3]);
    clock.seek(5);
    clock.play();
    expect(clock.state.time).toBe(2);
    const times: number[] = [];
    clock.subscribe((s) => times.push(s.time));
    vi.advanceTimersByTime(2500);
    expect(clock.state.playing).toBe(true);
    expect(Math.max(...times)).toBeLessThan(3);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(2);
    expect(times.filter((t) => t === 2).length).toBeGreaterThanOrEqual(2);
    expect(() => clock.setLoop([3, 2])).toThrow(/start < end/);
    clock.setLoop(null);
    expect(clock.state.loop).toBeNull();
    clock.pause();
  });

  it("clamps seeks to the item and rejects bad rates", () => {
    const clock = getSharedClock(freshKey(), { streams: [video] });
    clock.seek(-3);
    expect(clock.state.time).toBe(0);
    clock.seek(99);
    expect(clock.state.time).toBe(10);
    clock.seek(Number.NaN);
    expect(clock.state.time).toBe(0);
    expect(() => clock.setRate(0)).toThrow(/positive/);
  });

  it("follows an attached time source while playing and falls back to the wall clock", () => {
    const clock = getSharedClock(freshKey(), { streams: [video] });
    let master: number | null = 5;
    const detach = clock.attachTimeSource(() => master);
    clock.play();
    vi.advanceTimersByTime(50);
    expect(clock.state.time).toBe(5);
    master = 6;
    vi.advanceTimersByTime(50);
    expect(clock.state.time).toBe(6);
    master = null;
    vi.advanceTimersByTime(1000);
    expect(clock.state.time).toBeGreaterThan(6.8);
    // The last attached source drives; detaching it hands over to the previous one.
    const second = (): number => 2;
    const detachSecond = clock.attachTimeSource(second);
    expect(clock.isActiveTimeSource(second)).toBe(true);
    vi.advanceTimersByTime(50);
    expect(clock.state.time).toBe(2);
    detachSecond();
    expect(clock.isActiveTimeSource(second)).toBe(false);
    detach();
    clock.pause();
  });

  it("gives subscribers snapshots, not the live state", () => {
    const clock = getSharedClock(freshKey(), { streams: [video] });
    let got: ClockState | null = null;
    clock.subscribe((s) => {
      got = s;
    });
    clock.setLoop([1, 2]);
    clock.seek(1.5);
    clock.seek(1.7);
    expect(got).not.toBe(clock.state);
    expect((got as unknown as ClockState).time).toBe(1.7);
  });
});

describe("stream clocks", () => {
  it("previews a clock, announces it, and a new committed clock replaces the preview", () => {
    const key = freshKey();
    const clock = getSharedClock(key, { streams: [video, audio] });
    const announced: [string, number][] = [];
    const ticks: unknown[] = [];
    clock.onStreamClock((s, c) => announced.push([s, c.offset]));
    clock.subscribe((_s, src) => ticks.push(src));
    clock.setStreamClock("mic", { offset: 0.9, rate: 1.0001 }, "editor");
    expect(clock.streamClock("mic")).toEqual({ offset: 0.9, rate: 1.0001 });
    expect(announced).toEqual([["mic", 0.9]]);
    expect(ticks).toEqual(["editor"]);
    // Another view mounting with the same committed clock keeps the preview.
    getSharedClock(key, { streams: [audio] });
    expect(clock.streamClock("mic").offset).toBe(0.9);
    // The kernel commits a new clock: it wins.
    getSharedClock(key, { streams: [{ ...audio, clock: { offset: 0.7, rate: 1 } }] });
    expect(clock.streamClock("mic")).toEqual({ offset: 0.7, rate: 1 });
    expect(announced[announced.length - 1]).toEqual(["mic", 0.7]);
    expect(() => clock.setStreamClock("mic", { offset: 0, rate: 0 })).toThrow(/positive rate/);
    expect(clock.streamClock("unknown")).toEqual({ offset: 0, rate: 1 });
  });
});
