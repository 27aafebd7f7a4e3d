/**
 * The page's copy of the annotations it shows, as pure reducers.
 *
 * The Session is the source of truth: this state is only ever replaced by a
 * query reply or patched by `event` pushes, both scoped to the item, stream
 * and frame on screen. Records keep their arrival order, which is also the
 * drawing order (last on top).
 */

import { parseRecord, type AnnotationRecord } from "./types.js";

/** What the view shows; records outside it are ignored. */
export interface Scope {
  item: string;
  stream: string;
  /** Video frame index, or null for an image (then any record of the stream is shown). */
  frame: number | null;
}

export interface CanvasState {
  readonly records: ReadonlyMap<string, AnnotationRecord>;
  /** Bumped on every change: caches keyed by it know when to rebuild. */
  readonly version: number;
  /** The store sequence number of the last query reply or event, when Python sent one. */
  readonly seq: number | null;
}

export const EMPTY_STATE: CanvasState = { records: new Map(), version: 0, seq: null };

/** One annotation change pushed by Python: `{op, id, target?, record}` (record null on delete). */
export interface EventChange {
  op: "create" | "update" | "delete";
  id: string;
  record: unknown;
}

/** True when `record` belongs to what `scope` shows. */
export function inScope(record: AnnotationRecord, scope: Scope): boolean {
  if (record.item !== null && record.item !== scope.item) return false;
  if (record.stream !== null && record.stream !== scope.stream) return false;
  if (scope.frame === null) return true;
  return record.frame === scope.frame;
}

/** True when this view may edit `record`: its own, or one without an annotator. */
export function isEditable(record: AnnotationRecord, annotator: string): boolean {
  return record.annotator === null || record.annotator === "" || record.annotator === annotator;
}

/**
 * True when `record`'s annotator passes the `annotators` filter: everyone
 * when the list is empty, else only records made by one of them (records
 * without an annotator are by none of them).
 */
export function passesFilter(record: AnnotationRecord, annotators: readonly string[]): boolean {
  return annotators.length === 0 || (record.annotator !== null && annotators.includes(record.annotator));
}

/**
 * True when `record` is drawn: it has a shape, passes the `annotators`
 * filter, and is this view's own or `showOthers` is on.
 */
export function isVisible(
  record: AnnotationRecord,
  annotator: string,
  showOthers: boolean,
  annotators: readonly string[] = [],
): boolean {
  return record.shape !== null && passesFilter(record, annotators) && (showOthers || isEditable(record, annotator));
}

/** The `annotators` trait as a list of distinct names (anything else dropped). */
export function parseAnnotators(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return [...new Set(raw.filter((a): a is string => typeof a === "string"))];
}

/** True when two annotator lists hold the same names in the same order. */
export function sameAnnotators(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const seqOf = (value: unknown, fallback: number | null): number | null =>
  typeof value === "number" && Number.isFinite(value) ? value : fallback;

/** The state after a query reply `{annotations, seq}`: replaces every record. */
export function applyQuery(state: CanvasState, result: unknown, scope: Scope): CanvasState {
  const body = typeof result === "object" && result !== null ? (result as Record<string, unknown>) : {};
  const records = new Map<string, AnnotationRecord>();
  for (const raw of Array.isArray(body.annotations) ? body.annotations : []) {
    const rec = parseRecord(raw);
    if (rec && inScope(rec, scope)) records.set(rec.id, rec);
  }
  return { records, version: state.version + 1, seq: seqOf(body.seq, null) };
}

/** Read the `events` list of an event push, dropping malformed entries. */
export function parseEvents(msg: unknown): EventChange[] {
  const body = typeof msg === "object" && msg !== null ? (msg as Record<string, unknown>) : {};
  const out: EventChange[] = [];
  for (const e of Array.isArray(body.events) ? body.events : []) {
    if (typeof e !== "object" || e === null) continue;
    const { op, id, record, target } = e as Record<string, unknown>;
    if (op !== "create" && op !== "update" && op !== "delete") continue;
    // Pushes also carry links (and other targets) of the item: only annotations are drawn here.
    if (target !== undefined && target !== null && target !== "annotation") continue;
    const recId = typeof id === "string" ? id : parseRecord(record)?.id;
    if (!recId) continue;
    out.push({ op, id: recId, record: record ?? null });
  }
  return out;
}

/**
 * The state after an event push: upserts by id (an update keeps the record's
 * drawing position), deletes by id. A create/update whose record is outside
 * `scope` (another stream or frame) removes any copy held here — the record
 * moved away — and is otherwise ignored. Returns `state` itself when nothing
 * changed.
 */
export function applyEvents(state: CanvasState, msg: unknown, scope: Scope): CanvasState {
  const events = parseEvents(msg);
  const seq = seqOf((msg as { seq?: unknown } | null)?.seq, state.seq);
  let records: Map<string, AnnotationRecord> | null = null;
  const writable = (): Map<string, AnnotationRecord> => (records ??= new Map(state.records));
  for (const e of events) {
    if (e.op === "delete") {
      if ((records ?? state.records).has(e.id)) writable().delete(e.id);
      continue;
    }
    const rec = parseRecord(e.record);
    if (!rec || rec.id !== e.id) continue;
    if (inScope(rec, scope)) writable().set(rec.id, rec);
    else if ((records ?? state.records).has(rec.id)) writable().delete(rec.id);
  }
  if (records === null) return seq === state.seq ? state : { ...state, seq };
  return { records, version: state.version + 1, seq };
}

/** Records in drawing order (first drawn first). */
export function recordList(state: CanvasState): AnnotationRecord[] {
  return [...state.records.values()];
}

/** Number of records drawn with the given visibility settings. */
export function visibleCount(
  state: CanvasState,
  annotator: string,
  showOthers: boolean,
  annotators: readonly string[] = [],
): number {
  let n = 0;
  for (const rec of state.records.values()) if (isVisible(rec, annotator, showOthers, annotators)) n++;
  return n;
}
