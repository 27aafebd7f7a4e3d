/**
 * The page's copy of the item's segments and the tiers they make.
 *
 * The Session is the source of truth: the store is filled by the
 * `segments.query` reply and patched by kernel events (create/update/delete
 * by id). Tiers follow the rule of `accord.widgets.tiers` (Python), mirrored
 * here: one tier per (stream, key) where the key is the segment's speaker
 * (attribute `speaker`, non-empty) else its class; speaker tiers by name, then
 * class tiers in taxonomy order; streams in the Player's order; a timed stream
 * that may hold segments but has none gets one empty tier of its first class.
 */

import type { SegmentClass, SegmentRecord, StreamInfo } from "../contracts.js";

export const SPEAKER_ATTRIBUTE = "speaker";
export const TEXT_ATTRIBUTE = "text";

export type TierKind = "speaker" | "class";

/** One lane. */
export interface Tier {
  /** `stream/kind:name`, as Python's `Tier.key`. */
  key: string;
  stream: string;
  kind: TierKind;
  name: string;
  /** Class of a segment drawn on this tier. */
  label: string;
  /** Segments sorted by start (stream seconds), then id. */
  segments: SegmentRecord[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * A SegmentRecord from a `segments.query` row (`start`/`end`) or from an event's
 * annotation record (`kind: "time_segment"`, `geometry: {start, end}`); null
 * for anything else (other kinds, malformed rows).
 */
export function parseSegment(raw: unknown, item?: string): SegmentRecord | null {
  if (!isObj(raw)) return null;
  if (raw.kind !== undefined && raw.kind !== "time_segment") return null;
  if (item !== undefined && typeof raw.item === "string" && raw.item !== item) return null;
  const g = isObj(raw.geometry) ? raw.geometry : raw;
  const start = num(g.start);
  const end = num(g.end);
  const id = strOrNull(raw.id);
  const stream = strOrNull(raw.stream);
  const label = strOrNull(raw.label);
  if (id === null || stream === null || label === null || start === null || end === null) return null;
  const attributes = isObj(raw.attributes) ? { ...raw.attributes } : {};
  const rec: SegmentRecord = {
    id,
    stream,
    label,
    annotator: strOrNull(raw.annotator) ?? "",
    start,
    end,
    attributes,
    revision: num(raw.revision) ?? 0,
    track: strOrNull(raw.track),
    entity: strOrNull(raw.entity),
  };
  const text = typeof attributes[TEXT_ATTRIBUTE] === "string" ? (attributes[TEXT_ATTRIBUTE] as string) : strOrNull(raw.text);
  if (text !== null) rec.text = text;
  return rec;
}

/** One change pushed by the kernel (the `events` of an `event` message). */
export interface SegmentEvent {
  op: string;
  id: string;
  target?: string;
  record: Record<string, unknown> | null;
}

/** The segments the page holds, by id. Mutable; `version` counts changes. */
export class SegmentStore {
  readonly byId = new Map<string, SegmentRecord>();
  version = 0;

  constructor(readonly item: string) {}

  /** Replace everything with a query reply's rows. */
  load(rows: unknown): void {
    this.byId.clear();
    for (const raw of Array.isArray(rows) ? rows : []) {
      const rec = parseSegment(raw, this.item);
      if (rec) this.byId.set(rec.id, rec);
    }
    this.version++;
  }

  /**
   * Apply kernel events: create/update upsert time segments of this item (an
   * update to another kind or item removes the copy), delete removes.
   * Returns true when anything changed.
   */
  apply(events: readonly SegmentEvent[]): boolean {
    let changed = false;
    for (const e of events) {
      if (e.target !== undefined && e.target !== null && e.target !== "annotation") continue;
      if (e.op === "delete") {
        changed = this.byId.delete(e.id) || changed;
        continue;
      }
      if (e.op !== "create" && e.op !== "update") continue;
      const rec = parseSegment(e.record, this.item);
      if (!rec || rec.id !== e.id) {
        changed = this.byId.delete(e.id) || changed;
        continue;
      }
      const old = this.byId.get(rec.id);
      // Covered transcript text is computed by Python on queries only: keep it across edits.
      if (rec.text === undefined && old?.text !== undefined && old.text !== null) rec.text = old.text;
      this.byId.set(rec.id, rec);
      changed = true;
    }
    if (changed) this.version++;
    return changed;
  }
}

/** The tier `[stream, kind, name]` of a segment (see the module doc). */
export function tierKeyOf(rec: Pick<SegmentRecord, "stream" | "label" | "attributes">): [string, TierKind, string] {
  const sp = rec.attributes[SPEAKER_ATTRIBUTE];
  if (typeof sp === "string" && sp.trim() !== "") return [rec.stream, "speaker", sp.trim()];
  return [rec.stream, "class", rec.label];
}

export function tierKeyString(stream: string, kind: TierKind, name: string): string {
  return `${stream}/${kind}:${name}`;
}

/** True when the page may edit `rec` (its own, or one without an annotator). */
export function isOwn(rec: Pick<SegmentRecord, "annotator">, annotator: string): boolean {
  return rec.annotator === "" || rec.annotator === annotator;
}

/** Classes allowed as time segments on a stream of `modality`, in taxonomy order. */
export function classesFor(classes: readonly SegmentClass[], modality: string): SegmentClass[] {
  return classes.filter((c) => c.modalities.includes(modality));
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Group segments into tiers in display order (mirrors Python's `tiers_of`). */
export function groupTiers(
  segments: Iterable<SegmentRecord>,
  streams: readonly StreamInfo[],
  classes: readonly SegmentClass[],
): Tier[] {
  const streamRank = new Map(streams.map((s, i) => [s.name, i]));
  const classRank = new Map(classes.map((c, i) => [c.name, i]));
  const groups = new Map<string, { stream: string; kind: TierKind; name: string; segs: SegmentRecord[] }>();
  for (const rec of segments) {
    if (!streamRank.has(rec.stream)) continue; // a stream the Player does not show
    const [stream, kind, name] = tierKeyOf(rec);
    const key = tierKeyString(stream, kind, name);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { stream, kind, name, segs: [] }));
    g.segs.push(rec);
  }
  const tiers: Tier[] = [];
  for (const [key, g] of groups) {
    g.segs.sort((a, b) => a.start - b.start || cmpStr(a.id, b.id));
    let label = g.name;
    if (g.kind === "speaker") {
      const counts = new Map<string, number>();
      for (const s of g.segs) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
      label = [...counts.keys()].sort(
        (a, b) =>
          (counts.get(b) ?? 0) - (counts.get(a) ?? 0) ||
          (classRank.get(a) ?? classRank.size) - (classRank.get(b) ?? classRank.size) ||
          cmpStr(a, b),
      )[0] as string;
    }
    tiers.push({ key, stream: g.stream, kind: g.kind, name: g.name, label, segments: g.segs });
  }
  const present = new Set(tiers.map((t) => t.stream));
  for (const st of streams) {
    if (present.has(st.name) || st.duration === null) continue;
    const first = classesFor(classes, st.modality)[0];
    if (!first) continue;
    tiers.push({
      key: tierKeyString(st.name, "class", first.name),
      stream: st.name,
      kind: "class",
      name: first.name,
      label: first.name,
      segments: [],
    });
  }
  const BIG = 1 << 30;
  const rank = (t: Tier): [number, number, string] =>
    t.kind === "speaker" ? [0, 0, t.name] : [1, classRank.get(t.name) ?? BIG, t.name];
  return tiers.sort((a, b) => {
    const s = (streamRank.get(a.stream) ?? BIG) - (streamRank.get(b.stream) ?? BIG);
    if (s !== 0) return s;
    const [ka, ca, na] = rank(a);
    const [kb, cb, nb] = rank(b);
    return ka - kb || ca - cb || cmpStr(na, nb);
  });
}

/**
 * The segments of one tier that overlap a time window, found by binary search
 * (segments sorted by start, with the running maximum of their ends), so a
 * lane with 10k segments costs O(log n + visible) per redraw.
 */
export class TierIndex {
  private readonly maxEnd: Float64Array;

  constructor(readonly segments: readonly SegmentRecord[]) {
    this.maxEnd = new Float64Array(segments.length);
    let m = -Infinity;
    segments.forEach((s, i) => {
      m = Math.max(m, s.end);
      this.maxEnd[i] = m;
    });
  }

  /** Segments with `end > from` and `start < to` (stream seconds), in start order. */
  overlapping(from: number, to: number): SegmentRecord[] {
    const segs = this.segments;
    // first index whose running max end exceeds `from`: nothing before it can overlap
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.maxEnd[mid] as number) > from) hi = mid;
      else lo = mid + 1;
    }
    const out: SegmentRecord[] = [];
    for (let i = lo; i < segs.length; i++) {
      const s = segs[i] as SegmentRecord;
      if (s.start >= to) break;
      if (s.end > from) out.push(s);
    }
    return out;
  }

  /** The next (dir 1) or previous (dir -1) segment after/before `id` (or around `time`). */
  neighbour(id: string | null, time: number, dir: 1 | -1): SegmentRecord | null {
    const segs = this.segments;
    if (segs.length === 0) return null;
    const at = id === null ? -1 : segs.findIndex((s) => s.id === id);
    if (at >= 0) return segs[at + dir] ?? null;
    if (dir === 1) return segs.find((s) => s.start > time + 1e-9) ?? null;
    for (let i = segs.length - 1; i >= 0; i--) if ((segs[i] as SegmentRecord).start < time - 1e-9) return segs[i] as SegmentRecord;
    return null;
  }
}

/**
 * Thin out what a lane draws when more segments are visible than it has
 * pixels: keep a segment unless it starts in the same pixel column as the last
 * kept one and ends inside it. `xs` are the [x0, x1] of `segs` (start order).
 */
export function thinForPixels<T>(items: readonly T[], xs: readonly [number, number][], keep?: (item: T) => boolean): T[] {
  const out: T[] = [];
  let lastCol = -Infinity;
  let lastEnd = -Infinity;
  items.forEach((item, i) => {
    const [x0, x1] = xs[i] as [number, number];
    const col = Math.floor(x0);
    if (keep?.(item) || col !== lastCol || x1 > lastEnd + 1) {
      out.push(item);
      lastCol = col;
      lastEnd = Math.max(lastEnd, x1);
    }
  });
  return out;
}
