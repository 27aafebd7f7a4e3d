/**
 * What the Python Player sends (traits), parsed defensively: a malformed
 * value becomes a safe default, never an exception in render.
 */

import type { SegmentClass, StreamClock, StreamInfo } from "./contracts.js";
import { clockText } from "../../runtime/time.js";

/** A stream as the Player's `stream_infos` trait describes it. */
export interface PlayerStream extends StreamInfo {
  /** First frame's stream time (video), else 0. */
  start: number;
  width: number | null;
  height: number | null;
  /** Absolute file path the media route serves (null: not playable here). */
  path: string | null;
  /** Server-relative URL on accord's media route (prefix the page's base URL). */
  url: string | null;
  mime: string | null;
  size: number | null;
  /** Why the kernel could not offer this stream's media, if it could not. */
  error: string | null;
}

const MODALITIES = new Set(["video", "audio", "text", "image", "pointcloud"]);

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function clockOf(v: unknown): StreamClock {
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  const offset = num(o.offset) ?? 0;
  const rate = num(o.rate);
  return { offset, rate: rate !== null && rate > 0 ? rate : 1 };
}

export function parseStreams(value: unknown): PlayerStream[] {
  if (!Array.isArray(value)) return [];
  const out: PlayerStream[] = [];
  for (const raw of value) {
    if (typeof raw !== "object" || raw === null) continue;
    const o = raw as Record<string, unknown>;
    const name = str(o.name);
    const modality = str(o.modality);
    if (!name || !modality || !MODALITIES.has(modality)) continue;
    const fps = Array.isArray(o.fps) && o.fps.length === 2 && num(o.fps[0]) && num(o.fps[1])
      ? ([o.fps[0], o.fps[1]] as [number, number])
      : null;
    out.push({
      name,
      modality: modality as StreamInfo["modality"],
      duration: num(o.duration),
      clock: clockOf(o.clock),
      fps,
      frameCount: num(o.frameCount),
      start: num(o.start) ?? 0,
      width: num(o.width),
      height: num(o.height),
      path: str(o.path),
      url: str(o.url),
      mime: str(o.mime),
      size: num(o.size),
      error: str(o.error),
    });
  }
  return out;
}

export function parseClasses(value: unknown): SegmentClass[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((c): c is Record<string, unknown> => typeof c === "object" && c !== null && typeof c.name === "string")
    .map((c) => ({
      name: c.name as string,
      color: str(c.color) ?? "#808080",
      hotkey: str(c.hotkey),
      modalities: Array.isArray(c.modalities) ? c.modalities.filter((m): m is string => typeof m === "string") : [],
      attributes: Array.isArray(c.attributes) ? (c.attributes as Record<string, unknown>[]) : [],
    }));
}

/** `m:ss.mmm` (or `h:mm:ss.mmm`) for item seconds. */
export function formatTime(t: number): string {
  return clockText(t) ?? "–";
}

/** Parse `1:02.5`, `62.5`, `1:00:02` into seconds (null when not a time). */
export function parseTime(text: string): number | null {
  const parts = text.trim().split(":");
  if (parts.length === 0 || parts.length > 3) return null;
  let t = 0;
  for (const p of parts) {
    if (!/^\d+(\.\d*)?$|^\.\d+$/.test(p.trim())) return null;
    t = t * 60 + Number(p);
  }
  return Number.isFinite(t) ? t : null;
}
