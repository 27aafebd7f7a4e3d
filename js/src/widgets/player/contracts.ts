/**
 * Contracts between the parts of the Player (written first so that the
 * media/transport part and the tiers part can be built side by side).
 *
 * Times: *item time* is the shared timeline (seconds); *stream time* is a
 * stream's own clock; `itemTime = offset + rate * streamTime`. Annotations
 * store stream time; views draw item time. All players/canvases of one item
 * in a page share one {@link SharedClock} (found through the in-page bus,
 * `runtime/bus.ts`, key = the widget's `bus_key` trait).
 */

import type { CommandClient } from "../../runtime/protocol.js";

/** Offset/drift of one stream: `itemTime = offset + rate * streamTime`. */
export interface StreamClock {
  offset: number;
  rate: number;
}

/** What the page knows about one stream of the item (from the Python widget). */
export interface StreamInfo {
  name: string;
  modality: "video" | "audio" | "text" | "image" | "pointcloud";
  /** Stream duration in stream seconds (null when unknown). */
  duration: number | null;
  clock: StreamClock;
  /** Video only: frame rate as [num, den] when constant, else null (VFR). */
  fps?: [number, number] | null;
  frameCount?: number | null;
}

export interface ClockState {
  /** Item seconds under the playhead. */
  time: number;
  playing: boolean;
  /** Playback rate (1 = real time). */
  rate: number;
  /** Loop range in item seconds, or null. */
  loop: [number, number] | null;
}

/**
 * The one playhead of an item in the page. Hot path: playing ticks never
 * reach the kernel; Python hears the time on pause/seek only.
 */
export interface SharedClock {
  readonly state: ClockState;
  /** Item duration in seconds (max over streams in item time). */
  readonly duration: number;
  seek(time: number, source?: unknown): void;
  play(source?: unknown): void;
  pause(source?: unknown): void;
  setRate(rate: number, source?: unknown): void;
  setLoop(range: [number, number] | null, source?: unknown): void;
  /** Called on every change and on every animation tick while playing. */
  subscribe(fn: (state: ClockState, source: unknown) => void): () => void;
  /** Current (possibly previewed, not yet saved) clock of a stream. */
  streamClock(stream: string): StreamClock;
  /** Preview or commit a stream clock; subscribers redraw segments at once. */
  setStreamClock(stream: string, clock: StreamClock, source?: unknown): void;
  onStreamClock(fn: (stream: string, clock: StreamClock) => void): () => void;
}

/** The visible window of the time axis shared by waveform and tier lanes. */
export interface TimeView {
  /** Item seconds at the left edge. */
  readonly start: number;
  /** Seconds per CSS pixel. */
  readonly secondsPerPixel: number;
  /** Width in CSS pixels of the lane area (without lane headers). */
  readonly width: number;
  timeToX(time: number): number;
  xToTime(x: number): number;
  /** Zoom about an item time, or scroll. Subscribers redraw. */
  zoom(factor: number, aroundTime: number): void;
  scrollTo(start: number): void;
  subscribe(fn: () => void): () => void;
}

/** A taxonomy class usable as a time segment on some stream. */
export interface SegmentClass {
  name: string;
  color: string;
  hotkey: string | null;
  /** Modalities on which this class may be a time_segment. */
  modalities: string[];
  attributes: Record<string, unknown>[];
}

/** One `time_segment` annotation as the page holds it (stream seconds). */
export interface SegmentRecord {
  id: string;
  stream: string;
  label: string;
  annotator: string;
  start: number;
  end: number;
  attributes: Record<string, unknown>;
  revision: number;
  track: string | null;
  entity: string | null;
  /**
   * Added by tiers: a transcript cue's text — the `text` attribute when set,
   * else (from `segments.query`) the transcript text the segment covers.
   */
  text?: string | null;
}

/** What the Player hands to the tiers part when it mounts it. */
export interface TierContext {
  client: CommandClient;
  clock: SharedClock;
  view: TimeView;
  item: string;
  annotator: string;
  streams: StreamInfo[];
  classes: SegmentClass[];
  /** Show others' segments (read-only) or only the annotator's own. */
  showOthers: boolean;
  /** The item's in-page bus key (optional): tiers select a segment on `reveal` (the entity panel's "go to"). */
  busKey?: string;
  /**
   * Added by tiers (optional): where the tiers report errors (refused
   * commands, invalid drags). Default: an error banner inside the tiers' host.
   */
  onError?: (err: unknown) => void;
}

/** The tiers part, mounted by the Player under its waveform lanes. */
export interface TiersPart {
  /** Session events pushed by the kernel (`{type: "event", events: [...]}`). */
  onEvents(events: { op: string; id: string; target: string; record: Record<string, unknown> | null }[]): void;
  /** Keyboard handling while the Player has focus; true when consumed. */
  onKey(event: KeyboardEvent): boolean;
  destroy(): void;
}

export type MountTiers = (host: HTMLElement, ctx: TierContext) => Promise<TiersPart>;
