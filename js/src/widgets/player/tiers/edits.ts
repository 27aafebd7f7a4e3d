/**
 * Sending edits of existing segments, one at a time per segment (as
 * RegionCanvas's EditQueue): every `annotation.update` carries the revision
 * the page last saw; a later edit of the same segment waits (merged) until
 * the reply and the event with the new revision arrived. While an edit is
 * unsettled its times are kept as a preview so the segment does not jump back
 * between mouse-up and the event; a refused edit drops the preview.
 */

export interface SegmentEdit {
  start?: number;
  end?: number;
  label?: string;
  attributes?: Record<string, unknown>;
}

export interface EditSink {
  /** The segment's current revision; undefined when it is gone. */
  revisionOf(id: string): number | undefined;
  /** Send one update; true on an ok reply, false on a refusal (already reported). */
  send(id: string, revision: number, edit: SegmentEdit): Promise<boolean>;
  /** Previews changed: redraw. */
  changed(): void;
}

interface Entry {
  id: string;
  inflight: boolean;
  awaitingEvent: boolean;
  sentRevision: number | null;
  queued: SegmentEdit | null;
  preview: { start: number; end: number } | null;
  timer: ReturnType<typeof setTimeout> | null;
}

export const EVENT_WAIT_MS = 1500;

export class SegmentEdits {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly sink: EditSink,
    private readonly eventWaitMs = EVENT_WAIT_MS,
  ) {}

  /** Times to draw instead of the stored ones while an edit is unsettled. */
  preview(id: string): { start: number; end: number } | null {
    return this.entries.get(id)?.preview ?? null;
  }

  busy(id: string): boolean {
    return this.entries.has(id);
  }

  /** Apply `edit` to segment `id` (times need both start and end). */
  submit(id: string, edit: SegmentEdit): void {
    if (this.closed) return;
    let e = this.entries.get(id);
    if (!e) {
      e = { id, inflight: false, awaitingEvent: false, sentRevision: null, queued: null, preview: null, timer: null };
      this.entries.set(id, e);
    }
    if (edit.start !== undefined && edit.end !== undefined) e.preview = { start: edit.start, end: edit.end };
    if (e.inflight || e.awaitingEvent) {
      e.queued = { ...(e.queued ?? {}), ...edit };
      this.sink.changed();
      return;
    }
    void this.dispatch(e, edit);
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

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.entries.clear();
  }

  private async dispatch(e: Entry, edit: SegmentEdit): Promise<void> {
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
      ok = await this.sink.send(e.id, revision, edit);
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

  private settle(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    e.awaitingEvent = false;
    if (this.entries.get(e.id) !== e) return;
    const next = e.queued;
    if (next) {
      e.queued = null;
      void this.dispatch(e, next);
      return;
    }
    this.entries.delete(e.id);
    this.sink.changed();
  }

  private drop(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    if (this.entries.get(e.id) === e) this.entries.delete(e.id);
    this.sink.changed();
  }
}

/** The `annotation.update` payload of an edit. */
export function updatePayload(id: string, revision: number, edit: SegmentEdit): Record<string, unknown> {
  const payload: Record<string, unknown> = { id, revision };
  if (edit.start !== undefined && edit.end !== undefined) payload.geometry = { start: edit.start, end: edit.end };
  if (edit.label !== undefined) payload.label = edit.label;
  if (edit.attributes !== undefined) payload.attributes = edit.attributes;
  return payload;
}
