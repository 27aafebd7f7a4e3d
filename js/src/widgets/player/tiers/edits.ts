/**
 * Sending edits of existing segments, one at a time per segment (as
 * RegionCanvas's EditQueue): every `annotation.update` carries the revision
 * the page last saw; a later edit of the same segment waits (merged) until
 * the reply and the event with the new revision arrived. While an edit is
 * unsettled its times are kept as a preview so the segment does not jump back
 * between mouse-up and the event; a refused edit drops the preview. The
 * queueing itself is the runtime's EditQueue.
 */

import { EVENT_WAIT_MS, EditQueue, type EditFields } from "../../../runtime/edits.js";

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

type Times = { start: number; end: number };


/** The runtime's {@link EditQueue} for segment times, speaking in {@link SegmentEdit}s. */
export class SegmentEdits {
  private readonly queue: EditQueue<Times>;

  constructor(sink: EditSink, eventWaitMs = EVENT_WAIT_MS) {
    this.queue = new EditQueue<Times>(
      {
        revisionOf: (id) => sink.revisionOf(id),
        // revisionOf never answers null here, so a sent revision is a number
        send: (id, revision, fields) => sink.send(id, revision as number, segmentEdit(fields)),
        changed: () => sink.changed(),
      },
      eventWaitMs,
    );
  }

  /** Times to draw instead of the stored ones while an edit is unsettled. */
  preview(id: string): Times | null {
    return this.queue.preview(id);
  }

  busy(id: string): boolean {
    return this.queue.busy(id);
  }

  /** Apply `edit` to segment `id` (times need both start and end). */
  submit(id: string, edit: SegmentEdit): void {
    const fields: EditFields<Times> = {};
    if (edit.start !== undefined && edit.end !== undefined) fields.geometry = { start: edit.start, end: edit.end };
    if (edit.label !== undefined) fields.label = edit.label;
    if (edit.attributes !== undefined) fields.attributes = edit.attributes;
    this.queue.submit(id, fields);
  }

  /** Call after events changed records: settles edits whose new revision arrived. */
  recordsChanged(): void {
    this.queue.recordsChanged();
  }

  close(): void {
    this.queue.close();
  }
}

function segmentEdit(fields: EditFields<Times>): SegmentEdit {
  const edit: SegmentEdit = {};
  if (fields.geometry) Object.assign(edit, fields.geometry);
  if (fields.label !== undefined) edit.label = fields.label;
  if (fields.attributes !== undefined) edit.attributes = fields.attributes;
  return edit;
}

/** The `annotation.update` payload of an edit. */
export function updatePayload(id: string, revision: number, edit: SegmentEdit): Record<string, unknown> {
  const payload: Record<string, unknown> = { id, revision };
  if (edit.start !== undefined && edit.end !== undefined) payload.geometry = { start: edit.start, end: edit.end };
  if (edit.label !== undefined) payload.label = edit.label;
  if (edit.attributes !== undefined) payload.attributes = edit.attributes;
  return payload;
}
