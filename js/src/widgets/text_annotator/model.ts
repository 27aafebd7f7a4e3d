/**
 * The page's copy of what a TextAnnotator shows, as pure data and reducers:
 * span and tag records of one stream, the item's links, the segments
 * (cues or paragraphs) and the pieces the text is cut into for rendering.
 *
 * Python is the source of truth: this state is replaced by query replies and
 * patched by `event` pushes, nothing else.
 */

import { parseRecord, type AnnotationRecord } from "../region_canvas/types.js";
import { clockText } from "../../runtime/time.js";

/** A text_span or tag record, with its code-point range (null for tags). */
export interface TextRecord extends AnnotationRecord {
  start: number | null;
  end: number | null;
  entity: string | null;
}

export interface LinkRecord {
  id: string;
  source: string;
  target: string;
  type: string;
  annotator: string | null;
  revision: number | null;
  /** What the kernel says of each end (kind, label, stream), for ends shown in other views. */
  ends?: Record<string, LinkEndInfo>;
}

export interface LinkEndInfo {
  kind: string | null;
  label: string | null;
  stream: string | null;
}

export interface Segment {
  index: number;
  /** Code-point range. */
  start: number;
  end: number;
  t_start: number | null;
  t_end: number | null;
  item_start: number | null;
  item_end: number | null;
  speaker: string | null;
}

export interface LinkTypeSpec {
  name: string;
  sources: string[];
  targets: string[];
  symmetric: boolean;
  description: string;
  /** Python says it allows text_span → text_span. */
  spans: boolean;
}

export interface TextState {
  readonly records: ReadonlyMap<string, TextRecord>;
  readonly links: ReadonlyMap<string, LinkRecord>;
  readonly version: number;
}

export const EMPTY: TextState = { records: new Map(), links: new Map(), version: 0 };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const strOrNull = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** A record of `stream` this widget shows (text_span or tag), or null. */
export function parseTextRecord(raw: unknown, item: string, stream: string): TextRecord | null {
  const base = parseRecord(raw);
  if (!base || !isObj(raw)) return null;
  if ((base.item !== null && base.item !== item) || base.stream !== stream) return null;
  const entity = strOrNull(raw.entity);
  if (base.kind === "tag") return { ...base, start: null, end: null, entity };
  if (base.kind !== "text_span" || !isObj(raw.geometry)) return null;
  const start = num(raw.geometry.start);
  const end = num(raw.geometry.end);
  if (start === null || end === null || end <= start || start < 0) return null;
  return { ...base, start: Math.trunc(start), end: Math.trunc(end), entity };
}

export function parseLink(raw: unknown): LinkRecord | null {
  if (!isObj(raw) || typeof raw.id !== "string") return null;
  const { source, target, type } = raw;
  if (typeof source !== "string" || typeof target !== "string" || typeof type !== "string") return null;
  const end = (prefix: string): LinkEndInfo => ({
    kind: strOrNull(raw[`${prefix}_kind`]),
    label: strOrNull(raw[`${prefix}_label`]),
    stream: strOrNull(raw[`${prefix}_stream`]),
  });
  return {
    id: raw.id,
    source,
    target,
    type,
    annotator: strOrNull(raw.annotator),
    revision: num(raw.revision),
    ends: { [source]: end("source"), [target]: end("target") },
  };
}

/** How a link end shown in another view is named in the relations list (text). */
export function farEndText(id: string, info: LinkEndInfo | undefined): string {
  if (!info || (info.label === null && info.kind === null)) return `(${id}, another view)`;
  const what = [info.label, info.kind?.replace("_", " ")].filter((x) => x).join(" ");
  return info.stream ? `(${what} on ${info.stream})` : `(${what})`;
}

export function parseSegments(raw: unknown): Segment[] {
  if (!Array.isArray(raw)) return [];
  const out: Segment[] = [];
  for (const s of raw) {
    if (!isObj(s)) continue;
    const start = num(s.start);
    const end = num(s.end);
    if (start === null || end === null || end < start) continue;
    out.push({
      index: out.length,
      start,
      end,
      t_start: num(s.t_start),
      t_end: num(s.t_end),
      item_start: num(s.item_start),
      item_end: num(s.item_end),
      speaker: typeof s.speaker === "string" ? s.speaker : null,
    });
  }
  return out;
}

export function parseLinkTypes(raw: unknown): LinkTypeSpec[] {
  if (!Array.isArray(raw)) return [];
  const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const out: LinkTypeSpec[] = [];
  for (const t of raw) {
    if (!isObj(t) || typeof t.name !== "string" || t.name === "") continue;
    out.push({
      name: t.name,
      sources: strs(t.sources),
      targets: strs(t.targets),
      symmetric: t.symmetric === true,
      description: typeof t.description === "string" ? t.description : "",
      spans: t.spans === true,
    });
  }
  return out;
}

/** Does link type `t` allow `src` → `dst` kinds (the taxonomy's rule, mirrored)? */
export function allowsKinds(t: LinkTypeSpec, src: string, dst: string): boolean {
  const ok = (ends: string[], k: string): boolean => ends.length === 0 || ends.includes(k);
  if (ok(t.sources, src) && ok(t.targets, dst)) return true;
  return t.symmetric && ok(t.sources, dst) && ok(t.targets, src);
}

/** State after a query reply `{annotations}` (and `{links}` when given). */
export function applyQuery(
  state: TextState,
  annotations: unknown,
  links: unknown,
  item: string,
  stream: string,
): TextState {
  const records = new Map<string, TextRecord>();
  const body = isObj(annotations) ? annotations : {};
  for (const raw of Array.isArray(body.annotations) ? body.annotations : []) {
    const rec = parseTextRecord(raw, item, stream);
    if (rec) records.set(rec.id, rec);
  }
  let linkMap = state.links as Map<string, LinkRecord>;
  if (links !== undefined) {
    linkMap = new Map();
    const lb = isObj(links) ? links : {};
    for (const raw of Array.isArray(lb.links) ? lb.links : []) {
      const l = parseLink(raw);
      if (l) linkMap.set(l.id, l);
    }
  }
  return { records, links: linkMap, version: state.version + 1 };
}

/** State after an `event` push: upserts/deletes annotations of this stream and links. */
export function applyEvents(state: TextState, msg: unknown, item: string, stream: string): TextState {
  const body = isObj(msg) ? msg : {};
  let records: Map<string, TextRecord> | null = null;
  let links: Map<string, LinkRecord> | null = null;
  for (const e of Array.isArray(body.events) ? body.events : []) {
    if (!isObj(e) || typeof e.id !== "string") continue;
    const target = e.target ?? "annotation";
    if (target === "annotation") {
      const has = (records ?? state.records).has(e.id);
      const rec = e.op === "delete" ? null : parseTextRecord(e.record, item, stream);
      if (rec && rec.id === e.id) (records ??= new Map(state.records)).set(rec.id, rec);
      else if (has) (records ??= new Map(state.records)).delete(e.id);
    } else if (target === "link") {
      const has = (links ?? state.links).has(e.id);
      const l = e.op === "delete" ? null : parseLink(e.record);
      if (l && l.id === e.id) (links ??= new Map(state.links)).set(l.id, l);
      else if (has) (links ??= new Map(state.links)).delete(e.id);
    }
  }
  if (!records && !links) return state;
  return { records: records ?? state.records, links: links ?? state.links, version: state.version + 1 };
}

/** A span placed for rendering: UTF-16 range, stacking level. */
export interface PlacedSpan {
  id: string;
  a: number;
  b: number;
  level: number;
  color: string;
  own: boolean;
}

/**
 * Stacking levels for overlapping spans: sorted by start (longer first), each
 * takes the lowest level free at its start. Spans on one level never overlap.
 */
export function assignLevels<T extends { a: number; b: number }>(spans: readonly T[]): (T & { level: number })[] {
  const sorted = [...spans].sort((x, y) => x.a - y.a || y.b - x.b);
  const ends: number[] = [];
  return sorted.map((s) => {
    let level = ends.findIndex((e) => e <= s.a);
    if (level < 0) level = ends.length;
    ends[level] = s.b;
    return { ...s, level };
  });
}

/** One run of text with the same spans over it. */
export interface Piece {
  /** UTF-16 range. */
  a: number;
  b: number;
  /** Ids of the spans covering it, innermost (shortest) first. */
  spans: string[];
}

/**
 * Cut `[from, to)` (UTF-16) at every span edge inside it. Spans are sorted
 * innermost-first in each piece, so a click picks the most specific one.
 */
export function pieces(from: number, to: number, spans: readonly PlacedSpan[]): Piece[] {
  const cuts = new Set<number>([from, to]);
  const inside = spans.filter((s) => s.a < to && s.b > from);
  for (const s of inside) {
    if (s.a > from && s.a < to) cuts.add(s.a);
    if (s.b > from && s.b < to) cuts.add(s.b);
  }
  const xs = [...cuts].sort((x, y) => x - y);
  const out: Piece[] = [];
  for (let i = 0; i + 1 < xs.length; i++) {
    const a = xs[i] as number;
    const b = xs[i + 1] as number;
    if (b <= a) continue;
    const covering = inside.filter((s) => s.a <= a && s.b >= b).sort((x, y) => x.b - x.a - (y.b - y.a));
    out.push({ a, b, spans: covering.map((s) => s.id) });
  }
  return out;
}

/** `m:ss.mmm` (or `h:mm:ss.mmm`) for a time in seconds; "" for null. */
export function formatTime(t: number | null): string {
  return t === null ? "" : (clockText(t) ?? "");
}
