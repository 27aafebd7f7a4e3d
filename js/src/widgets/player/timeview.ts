/**
 * The visible window of the time axis shared by the waveform and tier lanes
 * (the `TimeView` contract): item seconds at the left edge and seconds per
 * CSS pixel, clamped to the item and to sensible zoom limits.
 */

import type { TimeView } from "./contracts.js";

export interface TimeViewOptions {
  /** Item duration in seconds (the view never scrolls past it). */
  duration: number;
  /** Lane width in CSS pixels. */
  width: number;
  /** Initial window start (item seconds). */
  start?: number;
  /** Initial zoom; default: the whole item fits the width. */
  secondsPerPixel?: number;
  /** Most zoomed in, in seconds per pixel (default 1e-4 s: 0.1 ms per pixel). */
  minSecondsPerPixel?: number;
}

/** A TimeView that players resize and re-bound as streams load. */
export interface MutableTimeView extends TimeView {
  readonly duration: number;
  setWidth(width: number): void;
  setDuration(duration: number): void;
  /** Zoom so that `[start, end]` fills the width. */
  show(start: number, end: number): void;
  /** Scroll (no zoom) so that `time` is visible, keeping a margin. */
  reveal(time: number): void;
}

export function createTimeView(options: TimeViewOptions): MutableTimeView {
  let duration = Math.max(options.duration, 0);
  let width = Math.max(1, options.width);
  const minSpp = options.minSecondsPerPixel ?? 1e-4;
  const fitSpp = (): number => Math.max(minSpp, (duration || 1) / width);
  let spp = options.secondsPerPixel ?? fitSpp();
  let start = options.start ?? 0;
  const subscribers = new Set<() => void>();

  function clampAll(): void {
    spp = Math.min(Math.max(spp, minSpp), fitSpp());
    const maxStart = Math.max(0, duration - spp * width);
    start = Math.min(Math.max(start, 0), maxStart);
    if (!Number.isFinite(start)) start = 0;
  }

  function changed(): void {
    for (const fn of [...subscribers]) {
      try {
        fn();
      } catch (err) {
        console.error("accord: a time-view subscriber failed", err);
      }
    }
  }

  clampAll();

  const view: MutableTimeView = {
    get start() {
      return start;
    },
    get secondsPerPixel() {
      return spp;
    },
    get width() {
      return width;
    },
    get duration() {
      return duration;
    },
    timeToX(time) {
      return (time - start) / spp;
    },
    xToTime(x) {
      return start + x * spp;
    },
    zoom(factor, aroundTime) {
      if (!(factor > 0) || !Number.isFinite(factor)) return;
      const x = (aroundTime - start) / spp;
      spp = spp / factor;
      clampAll();
      start = aroundTime - x * spp;
      clampAll();
      changed();
    },
    scrollTo(s) {
      start = s;
      clampAll();
      changed();
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => {
        subscribers.delete(fn);
      };
    },
    setWidth(w) {
      if (!(w > 0) || w === width) return;
      const fitted = spp >= fitSpp() * 0.999;
      width = w;
      if (fitted) spp = fitSpp();
      clampAll();
      changed();
    },
    setDuration(d) {
      if (!(d >= 0) || d === duration) return;
      const fitted = spp >= fitSpp() * 0.999;
      duration = d;
      if (fitted) spp = fitSpp();
      clampAll();
      changed();
    },
    show(a, b) {
      if (!(b > a)) return;
      spp = (b - a) / width;
      start = a;
      clampAll();
      changed();
    },
    reveal(time) {
      const end = start + spp * width;
      const margin = spp * width * 0.05;
      if (time >= start + margin && time <= end - margin) return;
      start = time - spp * width * 0.1;
      clampAll();
      changed();
    },
  };
  return view;
}
