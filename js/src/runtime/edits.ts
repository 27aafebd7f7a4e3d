/**
 * Sending edits of existing annotations, one at a time per annotation.
 * Shared by every widget that edits records (`G` is the geometry type).
 *
 * Every `annotation.update` carries the revision the page last saw, and
 * Python refuses a stale one. Pressing `]` five times, or relabelling right
 * after a move, would otherwise send a second update before the first one's
 * event brought the new revision. So per id: one update in flight; later
 * edits wait (merged) until the reply *and* the record's new revision have
 * arrived, then go with that revision.
 *
 * While an edit is unsettled, its geometry is kept as a preview so the shape
 * does not jump back between mouse-up and the event. A refused edit drops
 * its preview (the shape returns to what Python holds).
 */

/** The fields of one update besides id and revision. */
export interface EditFields<G = unknown> {
  geometry?: G;
  label?: string;
  attributes?: Record<string, unknown>;
}

export interface EditSink<G = unknown> {
  /** The record's current revision; undefined when it is gone. */
  revisionOf(id: string): number | null | undefined;
  /** Send one update; resolve true on an ok reply, false on a refusal (already reported). */
  send(id: string, revision: number | null, fields: EditFields<G>): Promise<boolean>;
  /** Previews changed: redraw. */
  changed(): void;
}

interface Entry<G> {
  id: string;
  inflight: boolean;
  awaitingEvent: boolean;
  sentRevision: number | null;
  queued: EditFields<G> | null;
  preview: G | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/** How long to wait for the event after an ok reply before moving on anyway (ms). */
export const EVENT_WAIT_MS = 1500;

export class EditQueue<G = unknown> {
  private readonly entries = new Map<string, Entry<G>>();
  private closed = false;

  constructor(
    private readonly sink: EditSink<G>,
    private readonly eventWaitMs = EVENT_WAIT_MS,
  ) {}

  /** Call `fn` for every shape to draw instead of the stored geometry. */
  forEachPreview(fn: (id: string, shape: G) => void): void {
    for (const e of this.entries.values()) if (e.preview) fn(e.id, e.preview);
  }

  preview(id: string): G | null {
    return this.entries.get(id)?.preview ?? null;
  }

  /** True when an edit of `id` is in flight or waiting. */
  busy(id: string): boolean {
    return this.entries.has(id);
  }

  /** Ask for `fields` to be applied to `id` (sent now, or after the edit in flight). */
  submit(id: string, fields: EditFields<G>): void {
    if (this.closed) return;
    let e = this.entries.get(id);
    if (!e) {
      e = { id, inflight: false, awaitingEvent: false, sentRevision: null, queued: null, preview: null, timer: null };
      this.entries.set(id, e);
    }
    if (fields.geometry) e.preview = fields.geometry;
    if (e.inflight || e.awaitingEvent) {
      e.queued = { ...(e.queued ?? {}), ...fields };
      this.sink.changed();
      return;
    }
    void this.dispatch(e, fields);
  }

  /** Call after events changed records: settles edits whose new revision arrived. */
  recordsChanged(): void {
    for (const e of [...this.entries.values()]) {
      const rev = this.sink.revisionOf(e.id);
      if (rev === undefined && !e.inflight) {
        this.drop(e);
        continue;
      }
      if (e.awaitingEvent && rev !== e.sentRevision) this.settle(e);
    }
  }

  /** Forget everything (view closed or data reloaded). */
  clear(): void {
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.entries.clear();
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  private async dispatch(e: Entry<G>, fields: EditFields<G>): Promise<void> {
    const revision = this.sink.revisionOf(e.id);
    if (revision === undefined) {
      this.drop(e);
      return;
    }
    e.inflight = true;
    e.sentRevision = revision;
    this.sink.changed();
    let ok = false;
    try {
      ok = await this.sink.send(e.id, revision, fields);
    } catch {
      ok = false;
    }
    e.inflight = false;
    if (this.closed || this.entries.get(e.id) !== e) return;
    if (!ok) {
      this.drop(e);
      return;
    }
    if (this.sink.revisionOf(e.id) !== revision) {
      this.settle(e);
      return;
    }
    e.awaitingEvent = true;
    e.timer = setTimeout(() => this.settle(e), this.eventWaitMs);
  }

  private settle(e: Entry<G>): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    e.awaitingEvent = false;
    if (this.entries.get(e.id) !== e) return;
    const next = e.queued;
    if (next) {
      e.queued = null;
      if (next.geometry) e.preview = next.geometry;
      void this.dispatch(e, next);
      return;
    }
    this.entries.delete(e.id);
    this.sink.changed();
  }

  private drop(e: Entry<G>): void {
    if (e.timer) clearTimeout(e.timer);
    if (this.entries.get(e.id) === e) this.entries.delete(e.id);
    this.sink.changed();
  }
}
