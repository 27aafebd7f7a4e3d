/**
 * Pure gesture maths: a pointer drag on a lane (CSS px) → stream seconds for
 * the command, through the inverse of the stream's clock; validation before
 * anything is sent; hit-testing segment edges and bodies; command payloads.
 */

import type { StreamClock, TimeView } from "../contracts.js";
import { toStream } from "./time.js";

/** What a drag does: draw a new segment, move one, or move one of its edges. */
export type DragKind = "draw" | "move" | "start" | "end";

/** Pixels either side of a segment's edge that grab the edge. */
export const EDGE_PX = 5;
/** A press that moves less than this is a click, not a drag. */
export const CLICK_SLOP_PX = 3;

export interface DragInput {
  kind: DragKind;
  clock: StreamClock;
  view: Pick<TimeView, "xToTime" | "secondsPerPixel">;
  /** Stream duration in stream seconds (null: unbounded above). */
  duration: number | null;
  /** The stream's first time in stream seconds (a video's first frame; default 0). */
  min?: number;
  /** Lane x where the pointer went down, and where it is now. */
  fromX: number;
  toX: number;
  /** The segment being moved or resized (stream seconds); unused for "draw". */
  segment?: { start: number; end: number };
}

/** Round away float noise (to the microsecond): never moves a time by more than 0.5 µs. */
export function cleanSeconds(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

/** The smallest segment a drag makes: one lane pixel, in stream seconds. */
export function minLength(view: Pick<TimeView, "secondsPerPixel">, clock: StreamClock): number {
  return view.secondsPerPixel / clock.rate;
}

/**
 * The segment (stream seconds) a drag gives, kept inside `[0, duration]`:
 * drawing spans the two pointer positions; moving keeps the length; an edge
 * follows the pointer but never passes the other edge (one pixel apart).
 */
export function dragTimes(d: DragInput): { start: number; end: number } {
  const at = (x: number): number => toStream(d.clock, d.view.xToTime(x));
  const hi = d.duration ?? Infinity;
  const lo = d.min ?? 0;
  const clamp = (t: number): number => Math.min(Math.max(t, lo), hi);
  const t0 = at(d.fromX);
  const t1 = at(d.toX);
  const minLen = minLength(d.view, d.clock);
  if (d.kind === "draw") {
    return { start: cleanSeconds(clamp(Math.min(t0, t1))), end: cleanSeconds(clamp(Math.max(t0, t1))) };
  }
  const seg = d.segment ?? { start: t0, end: t0 };
  const delta = t1 - t0;
  if (d.kind === "move") {
    const len = seg.end - seg.start;
    let start = seg.start + delta;
    if (start < lo) start = lo;
    if (start + len > hi) start = Math.max(lo, hi - len);
    return { start: cleanSeconds(start), end: cleanSeconds(Math.min(start + len, hi)) };
  }
  if (d.kind === "start") {
    const start = Math.min(clamp(seg.start + delta), seg.end - minLen);
    return { start: cleanSeconds(Math.max(start, lo)), end: seg.end };
  }
  const end = Math.max(clamp(seg.end + delta), seg.start + minLen);
  return { start: seg.start, end: cleanSeconds(Math.min(end, hi)) };
}

/** Why a segment may not be sent, or null when it may (stream seconds). */
export function segmentProblem(start: number, end: number, duration: number | null, min = 0): string | null {
  if (!Number.isFinite(start) || !Number.isFinite(end)) return "a segment needs finite start and end times";
  if (start < min - 1e-6) return `a segment must start at or after ${min} s of its stream (got ${start} s)`;
  if (duration !== null && end > duration + 1e-6) {
    return `a segment must end within the stream's ${duration} s (got ${end} s)`;
  }
  if (!(start < end)) return `a segment's start must come before its end (got ${start} s – ${end} s)`;
  return null;
}

/** A segment as laid out in a lane, for hit-testing. */
export interface Placed {
  id: string;
  x0: number;
  x1: number;
  editable: boolean;
}

export interface Hit {
  id: string;
  part: "start" | "end" | "body";
}

/**
 * What is under lane x: the topmost (last placed) segment containing it, and
 * which part — an edge within EDGE_PX (less on narrow segments) of an editable
 * segment, else its body. Read-only segments only ever report "body".
 */
export function hitTest(x: number, placed: readonly Placed[], edgePx: number = EDGE_PX): Hit | null {
  for (let i = placed.length - 1; i >= 0; i--) {
    const p = placed[i] as Placed;
    const w = p.x1 - p.x0;
    const edge = Math.min(edgePx, Math.max(1, w / 3));
    if (x < p.x0 - edge || x > p.x1 + edge) continue;
    if (p.editable) {
      if (Math.abs(x - p.x0) <= edge) return { id: p.id, part: "start" };
      if (Math.abs(x - p.x1) <= edge) return { id: p.id, part: "end" };
    }
    if (x >= p.x0 && x <= p.x1) return { id: p.id, part: "body" };
  }
  return null;
}

/** The `annotation.add` payload of a new segment. */
export function addPayload(
  item: string,
  stream: string,
  label: string,
  times: { start: number; end: number },
  attributes: Record<string, unknown> = {},
): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    item,
    stream,
    label,
    kind: "time_segment",
    geometry: { start: times.start, end: times.end },
  };
  if (Object.keys(attributes).length > 0) payload.attributes = attributes;
  return payload;
}

/**
 * Attributes for a segment drawn on a tier: on a speaker tier, the speaker
 * (when the class has a `speaker` attribute).
 */
export function tierAttributes(
  tier: { kind: string; name: string },
  classAttributes: readonly Record<string, unknown>[],
): Record<string, unknown> {
  if (tier.kind !== "speaker") return {};
  return classAttributes.some((a) => a.name === "speaker") ? { speaker: tier.name } : {};
}
