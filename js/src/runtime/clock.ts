/**
 * The shared playhead of one item in the page (the `SharedClock` contract of
 * `widgets/player/contracts.ts`).
 *
 * Like the bus, the registry lives on `globalThis` under a `Symbol.for` key so
 * that every widget bundle (Player, RegionCanvas, 3-D viewer) of one item gets
 * the same instance:
 *
 *   const clock = getSharedClock(model.get("bus_key"), { streams });
 *   const off = clock.subscribe((state, source) => { if (source !== me) draw(state.time); });
 *   clock.seek(12.5, me);
 *
 * While playing, the time advances on `requestAnimationFrame` from the wall
 * clock (`performance.now()`), or from a time source a player attaches (its
 * main media element), so followers chase one master and never drift apart.
 * Times are item seconds; `itemTime = offset + rate * streamTime`.
 */

import type { ClockState, SharedClock, StreamClock, StreamInfo } from "../widgets/player/contracts.js";

export type { ClockState, SharedClock, StreamClock, StreamInfo };

/** The `source` passed to subscribers on animation ticks while playing. */
export const CLOCK_TICK: unique symbol = Symbol.for("accord.clock.tick");

/** Item time of a stream time. */
export function toItemTime(clock: StreamClock, streamTime: number): number {
  return clock.offset + clock.rate * streamTime;
}

/** Stream time of an item time. */
export function toStreamTime(clock: StreamClock, itemTime: number): number {
  return (itemTime - clock.offset) / clock.rate;
}

/** What a page knows up front; later calls merge their streams in. */
export interface ClockInit {
  streams?: StreamInfo[];
  /** Item duration in seconds when no stream gives one. */
  duration?: number;
}

/**
 * A master time while playing: item seconds, or null when it cannot tell
 * (media not ready), in which case the wall clock is used.
 */
export type TimeSource = () => number | null;

/** The SharedClock plus the parts only players need. */
export interface PageClock extends SharedClock {
  /** Add or update streams (their committed clocks and durations). */
  setStreams(streams: StreamInfo[]): void;
  /** Streams known to the clock, in registration order. */
  readonly streams: readonly StreamInfo[];
  /** Let a media element drive the time while playing; returns a detach function. */
  attachTimeSource(source: TimeSource): () => void;
  /** True when `source` is the one driving the clock (the last attached). */
  isActiveTimeSource(source: TimeSource): boolean;
  /** Stop ticking (when the last view goes away); state is kept. */
  stopTicking(): void;
}

const REGISTRY = Symbol.for("accord.clock.registry.v1");

type Registry = Map<string, PageClock>;

function registry(): Registry {
  const g = globalThis as { [REGISTRY]?: Registry };
  let reg = g[REGISTRY];
  if (!reg) {
    reg = new Map();
    g[REGISTRY] = reg;
  }
  return reg;
}

type FrameRequest = (cb: (now: number) => void) => number;
type FrameCancel = (handle: number) => void;

function now(): number {
  return globalThis.performance ? globalThis.performance.now() : Date.now();
}

// Looked up per call so that test fakes installed later are used.
function requestFrame(cb: (now: number) => void): number {
  const raf = (globalThis as { requestAnimationFrame?: FrameRequest }).requestAnimationFrame;
  if (raf) return raf(cb);
  return setTimeout(() => cb(now()), 16) as unknown as number;
}

function cancelFrame(handle: number): void {
  const caf = (globalThis as { cancelAnimationFrame?: FrameCancel }).cancelAnimationFrame;
  if (caf) caf(handle);
  else clearTimeout(handle as unknown as ReturnType<typeof setTimeout>);
}

function validClock(c: StreamClock): boolean {
  return Number.isFinite(c.offset) && Number.isFinite(c.rate) && c.rate > 0;
}

function createClock(init: ClockInit): PageClock {
  const state: ClockState = { time: 0, playing: false, rate: 1, loop: null };
  const streams = new Map<string, StreamInfo>();
  const clocks = new Map<string, StreamClock>();
  const subscribers = new Set<(state: ClockState, source: unknown) => void>();
  const clockSubscribers = new Set<(stream: string, clock: StreamClock) => void>();
  const sources: TimeSource[] = [];
  const fallbackDuration = init.duration ?? 0;
  // While playing: time = anchorTime + (wall - anchorWall) * rate.
  let anchorTime = 0;
  let anchorWall = 0;
  let frame: number | null = null;

  function notify(source: unknown): void {
    const snapshot = { ...state, loop: state.loop ? ([...state.loop] as [number, number]) : null };
    for (const fn of [...subscribers]) {
      try {
        fn(snapshot, source);
      } catch (err) {
        console.error("accord: a clock subscriber failed", err);
      }
    }
  }

  function duration(): number {
    let d = fallbackDuration;
    for (const info of streams.values()) {
      if (info.duration == null || !Number.isFinite(info.duration)) continue;
      const c = clocks.get(info.name) ?? info.clock;
      d = Math.max(d, toItemTime(c, info.duration));
    }
    return d;
  }

  function clamp(t: number): number {
    const d = duration();
    if (!Number.isFinite(t) || t < 0) return 0;
    return d > 0 ? Math.min(t, d) : t;
  }

  function anchor(t: number): void {
    anchorTime = t;
    anchorWall = now();
  }

  function stopFrames(): void {
    if (frame !== null) cancelFrame(frame);
    frame = null;
  }

  function tick(): void {
    frame = null;
    if (!state.playing) return;
    let t: number | null = null;
    const master = sources[sources.length - 1];
    if (master) {
      try {
        t = master();
      } catch {
        t = null;
      }
    }
    if (t === null || !Number.isFinite(t)) t = anchorTime + ((now() - anchorWall) / 1000) * state.rate;
    else anchor(t);
    const d = duration();
    if (state.loop && t >= state.loop[1]) {
      t = state.loop[0];
      anchor(t);
      state.time = t;
      notify("loop");
    } else if (!state.loop && d > 0 && t >= d) {
      state.time = d;
      state.playing = false;
      notify("end");
      return;
    } else {
      state.time = t;
      notify(CLOCK_TICK);
    }
    frame = requestFrame(tick);
  }

  function mergeStreams(list: StreamInfo[] | undefined): void {
    const changed: string[] = [];
    for (const info of list ?? []) {
      const known = streams.get(info.name);
      streams.set(info.name, info);
      if (!validClock(info.clock)) continue;
      // A new committed clock from the kernel replaces any preview; the same
      // committed clock again (another view mounting) leaves a preview alone.
      if (known && known.clock.offset === info.clock.offset && known.clock.rate === info.clock.rate) continue;
      const before = clocks.get(info.name);
      clocks.set(info.name, { ...info.clock });
      if (before && (before.offset !== info.clock.offset || before.rate !== info.clock.rate)) changed.push(info.name);
    }
    for (const name of changed) {
      const c = clocks.get(name) as StreamClock;
      for (const fn of [...clockSubscribers]) {
        try {
          fn(name, { ...c });
        } catch (err) {
          console.error("accord: a stream-clock subscriber failed", err);
        }
      }
    }
    if (changed.length) notify("stream-clock");
  }

  mergeStreams(init.streams);

  const clock: PageClock = {
    state,
    get duration() {
      return duration();
    },
    get streams() {
      return [...streams.values()];
    },
    seek(time, source) {
      let t = clamp(time);
      if (state.loop && state.playing && (t < state.loop[0] || t > state.loop[1])) t = state.loop[0];
      state.time = t;
      anchor(t);
      notify(source);
    },
    play(source) {
      if (state.playing) return;
      const d = duration();
      if (state.loop && (state.time < state.loop[0] || state.time >= state.loop[1])) state.time = state.loop[0];
      else if (!state.loop && d > 0 && state.time >= d) state.time = 0;
      state.playing = true;
      anchor(state.time);
      notify(source);
      if (frame === null) frame = requestFrame(tick);
    },
    pause(source) {
      if (!state.playing) return;
      state.time = clamp(anchorTime + ((now() - anchorWall) / 1000) * state.rate);
      if (state.loop && state.time > state.loop[1]) state.time = state.loop[1];
      state.playing = false;
      stopFrames();
      notify(source);
    },
    setRate(rate, source) {
      if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`clock rate: expected a positive number, got ${rate}`);
      if (state.playing) anchor(anchorTime + ((now() - anchorWall) / 1000) * state.rate);
      state.rate = rate;
      notify(source);
    },
    setLoop(range, source) {
      if (range) {
        const [a, b] = range;
        if (!Number.isFinite(a) || !Number.isFinite(b) || b <= a) {
          throw new RangeError(`clock loop: expected [start, end] with start < end, got [${a}, ${b}]`);
        }
        state.loop = [a, b];
        if (state.playing && (state.time < a || state.time >= b)) {
          state.time = a;
          anchor(a);
        }
      } else {
        state.loop = null;
      }
      notify(source);
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => {
        subscribers.delete(fn);
      };
    },
    streamClock(stream) {
      const c = clocks.get(stream) ?? streams.get(stream)?.clock ?? { offset: 0, rate: 1 };
      return { ...c };
    },
    setStreamClock(stream, c, source) {
      if (!validClock(c)) {
        throw new RangeError(`clock of ${stream}: expected a finite offset and a positive rate, got ${JSON.stringify(c)}`);
      }
      clocks.set(stream, { offset: c.offset, rate: c.rate });
      for (const fn of [...clockSubscribers]) {
        try {
          fn(stream, { ...c });
        } catch (err) {
          console.error("accord: a stream-clock subscriber failed", err);
        }
      }
      // Media positions depend on stream clocks: let followers re-seek.
      notify(source ?? "stream-clock");
    },
    onStreamClock(fn) {
      clockSubscribers.add(fn);
      return () => {
        clockSubscribers.delete(fn);
      };
    },
    setStreams(list) {
      mergeStreams(list);
    },
    attachTimeSource(source) {
      sources.push(source);
      return () => {
        const i = sources.lastIndexOf(source);
        if (i >= 0) sources.splice(i, 1);
      };
    },
    isActiveTimeSource(source) {
      return sources[sources.length - 1] === source;
    },
    stopTicking() {
      if (state.playing) clock.pause("stop");
      stopFrames();
    },
  };
  return clock;
}

/**
 * The page-wide clock for `busKey` (the widget's `bus_key` trait), created on
 * first use. Later calls merge `init.streams` in (a changed committed clock
 * replaces a preview and is announced to `onStreamClock` subscribers).
 */
export function getSharedClock(busKey: string, init: ClockInit = {}): PageClock {
  const reg = registry();
  let clock = reg.get(busKey);
  if (!clock) {
    clock = createClock(init);
    reg.set(busKey, clock);
  } else if (init.streams) {
    clock.setStreams(init.streams);
  }
  return clock;
}

/** Forget the clock for `busKey` (holders keep the old instance). */
export function dropSharedClock(busKey: string): void {
  const clock = registry().get(busKey);
  clock?.stopTicking();
  registry().delete(busKey);
}
