/**
 * EntityPanel's pure parts: parsing the kernel's entity snapshot, the
 * merge/split selection rules, the `reveal` payload and text formatting.
 * No DOM here (tested with vitest in node).
 */

import { clockText } from "../../runtime/time.js";

/** One member annotation of an entity, in this item. */
export interface Member {
  id: string;
  stream: string;
  modality: string;
  kind: string;
  label: string;
  annotator: string;
  /** Video/image frame index, or null. */
  frame: number | null;
  /** Point-cloud sweep index, or null. */
  sweep: number | null;
  /** The moment to show, item seconds (a frame's centre, a segment's start), or null. */
  time: number | null;
  start: number | null;
  end: number | null;
  /** Text of a text span (trimmed to 80 characters), or null. */
  excerpt: string | null;
  track: string | null;
}

/** One entity with its members in this item. */
export interface EntityRow {
  id: string;
  label: string | null;
  name: string;
  annotator: string;
  revision: number;
  modalities: string[];
  start: number | null;
  end: number | null;
  /** Members in other items (not listed). */
  elsewhere: number;
  members: Member[];
}

/** What `go to` publishes on the bus under `reveal` (item seconds). */
export interface Reveal {
  id: string;
  item: string;
  stream: string;
  kind: string;
  frame: number | null;
  time: number | null;
  sweep: number | null;
}

/** What hover/select publish on the bus. */
export interface BusRef {
  id: string | null;
  entity: string | null;
}

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : fallback;
}

function strOrNull(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function int(v: unknown): number | null {
  const n = num(v);
  return n !== null && Number.isInteger(n) ? n : null;
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A member from the kernel's JSON, or null when it has no id. */
export function parseMember(raw: unknown): Member | null {
  const o = obj(raw);
  const id = o ? strOrNull(o.id) : null;
  if (!o || !id) return null;
  return {
    id,
    stream: str(o.stream),
    modality: str(o.modality),
    kind: str(o.kind),
    label: str(o.label),
    annotator: str(o.annotator),
    frame: int(o.frame),
    sweep: int(o.sweep),
    time: num(o.time),
    start: num(o.start),
    end: num(o.end),
    excerpt: typeof o.excerpt === "string" ? o.excerpt : null,
    track: strOrNull(o.track),
  };
}

/** The snapshot `{entities: [...]}` (a query result or an `entities` push), tolerant of junk. */
export function parseSnapshot(raw: unknown): EntityRow[] {
  const list = obj(raw)?.entities;
  if (!Array.isArray(list)) return [];
  const out: EntityRow[] = [];
  for (const e of list) {
    const o = obj(e);
    const id = o ? strOrNull(o.id) : null;
    if (!o || !id) continue;
    const members = Array.isArray(o.members)
      ? o.members.map(parseMember).filter((m): m is Member => m !== null)
      : [];
    out.push({
      id,
      label: strOrNull(o.label),
      name: str(o.name),
      annotator: str(o.annotator),
      revision: int(o.revision) ?? 1,
      modalities: Array.isArray(o.modalities) ? o.modalities.filter((m): m is string => typeof m === "string") : [],
      start: num(o.start),
      end: num(o.end),
      elsewhere: int(o.elsewhere) ?? 0,
      members,
    });
  }
  return out;
}

/** A hover/select value from another widget: `{id, entity}` or a plain id string. */
export function refOf(v: unknown): BusRef {
  if (typeof v === "string") return { id: v, entity: null };
  const o = obj(v);
  return o ? { id: strOrNull(o.id), entity: strOrNull(o.entity) } : { id: null, entity: null };
}

/** Member id → its entity id. */
export function memberIndex(rows: readonly EntityRow[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const e of rows) for (const m of e.members) index.set(m.id, e.id);
  return index;
}

/** Entity ids ready to merge (in the order ticked), or null when fewer than two still exist. */
export function mergeIds(ticked: readonly string[], rows: readonly EntityRow[]): string[] | null {
  const exists = new Set(rows.map((e) => e.id));
  const ids = [...new Set(ticked)].filter((id) => exists.has(id));
  return ids.length >= 2 ? ids : null;
}

/** Why a split is not possible now, or null when it is. */
export function splitProblem(ticked: readonly string[], rows: readonly EntityRow[]): string | null {
  if (ticked.length === 0) return "tick the members to split off";
  const index = memberIndex(rows);
  const owners = new Set(ticked.map((id) => index.get(id)));
  if (owners.has(undefined)) return "a ticked member is no longer in an entity";
  if (owners.size > 1) return "tick members of one entity only";
  const owner = [...owners][0] as string;
  const entity = rows.find((e) => e.id === owner);
  const total = (entity?.members.length ?? 0) + (entity?.elsewhere ?? 0);
  if (new Set(ticked).size >= total) return "leave at least one member in the entity";
  return null;
}

/** The `entity.split` payload for the ticked members, or null (see splitProblem). */
export function splitPayload(
  ticked: readonly string[],
  rows: readonly EntityRow[],
): { id: string; members: string[] } | null {
  if (splitProblem(ticked, rows) !== null) return null;
  const owner = memberIndex(rows).get(ticked[0] as string) as string;
  return { id: owner, members: [...new Set(ticked)] };
}

/** The `reveal` payload for a member of `item`. */
export function revealOf(member: Member, item: string): Reveal {
  return {
    id: member.id,
    item,
    stream: member.stream,
    kind: member.kind,
    frame: member.frame,
    time: member.time,
    sweep: member.sweep,
  };
}

/** `m:ss.mmm` (or `h:mm:ss.mmm`) of item seconds; "—" for null. */
export function formatTime(t: number | null): string {
  return t === null ? "—" : (clockText(t) ?? "—");
}

/** An entity's time span: "0:01.000–0:02.500", one time, or "—". */
export function formatSpan(start: number | null, end: number | null): string {
  if (start === null) return "—";
  if (end === null || Math.abs(end - start) < 5e-4) return formatTime(start);
  return `${formatTime(start)}–${formatTime(end)}`;
}

/** Where a member is: "frame 12 · 0:00.417", "sweep 3 · 0:00.350", "“text” · 0:01.000", a time. */
export function whereOf(m: Member): string {
  const parts: string[] = [];
  if (m.frame !== null) parts.push(`frame ${m.frame}`);
  if (m.sweep !== null) parts.push(`sweep ${m.sweep}`);
  if (m.excerpt !== null) parts.push(`“${m.excerpt}”`);
  if (m.kind === "time_segment" || (m.frame === null && m.sweep === null)) {
    if (m.start !== null) parts.push(formatSpan(m.start, m.end));
  } else if (m.time !== null) {
    parts.push(formatTime(m.time));
  }
  return parts.length ? parts.join(" · ") : "—";
}

/** The title of an entity row: its name, else its label, else its id. */
export function entityTitle(e: EntityRow): string {
  return e.name || e.label || e.id;
}
