/**
 * Time on the tiers: stream seconds (what annotations store) ↔ item seconds
 * (the shared timeline) ↔ lane pixels (the shared TimeView), and how times
 * are written for people (item time, h:mm:ss.mmm).
 */

import type { StreamClock, TimeView } from "../contracts.js";
import { clockText } from "../../../runtime/time.js";

/** Item seconds of a stream time: `offset + rate * t`. */
export function toItem(clock: StreamClock, streamTime: number): number {
  return clock.offset + clock.rate * streamTime;
}

/** Stream seconds of an item time (the inverse clock). */
export function toStream(clock: StreamClock, itemTime: number): number {
  return (itemTime - clock.offset) / clock.rate;
}

/** The x (lane px) of a stream time on `view`, through the stream's clock. */
export function streamTimeToX(view: Pick<TimeView, "timeToX">, clock: StreamClock, streamTime: number): number {
  return view.timeToX(toItem(clock, streamTime));
}

/** The stream time under lane x `x` on `view`, through the inverse clock. */
export function xToStreamTime(view: Pick<TimeView, "xToTime">, clock: StreamClock, x: number): number {
  return toStream(clock, view.xToTime(x));
}

/** The visible window of `view` in item seconds `[start, end]`. */
export function visibleItemRange(view: Pick<TimeView, "start" | "secondsPerPixel" | "width">): [number, number] {
  return [view.start, view.start + view.secondsPerPixel * view.width];
}

/** Stream seconds per lane pixel for a stream (a pixel of item time through the clock). */
export function streamSecondsPerPixel(view: Pick<TimeView, "secondsPerPixel">, clock: StreamClock): number {
  return view.secondsPerPixel / clock.rate;
}

/**
 * Seconds as `h:mm:ss.mmm` (negative times get a leading "-"). Rounded to the
 * millisecond; non-finite values give "–".
 */
export function formatTime(seconds: number): string {
  return clockText(seconds, { hours: "always" }) ?? "–";
}

/** `start – end` in item time, for tooltips and labels. */
export function formatRange(itemStart: number, itemEnd: number): string {
  return `${formatTime(itemStart)} – ${formatTime(itemEnd)}`;
}
