/**
 * Loading what a view shows: the frame image (`frame.get`) and its records
 * (`annotations.query`), fetched together and committed together so that
 * annotations never appear over the wrong frame.
 *
 * One load is in flight at a time. Asking again while one runs (holding →,
 * or Python changing `frame` several times) only remembers that another load
 * is wanted; when the current one lands, it is shown and the latest wanted
 * frame is loaded next. Events that arrive while a query's records wait for
 * their image are applied to those records too, so none is lost.
 */

import type { Reply } from "../../runtime/protocol.js";
import { EMPTY_STATE, applyEvents, applyQuery, type CanvasState, type Scope } from "./state.js";

/** What one load produced; a part is null when its request failed. */
export interface LoadResult {
  frame: number | null;
  scope: Scope;
  state: CanvasState | null;
  image: { bitmap: ImageBitmap | null; width: number; height: number } | null;
}

export interface LoaderHost {
  request(type: string, payload: Record<string, unknown>): Promise<Reply>;
  /** The frame to show now (the `frame` trait) and the item/stream around it. */
  wanted(): Scope;
  /** A load started (the view is not ready until it commits). */
  started(frame: number | null): void;
  commit(result: LoadResult): void;
  report(err: unknown): void;
  /** Decode an encoded image buffer (null where the browser cannot). */
  decode(buffer: DataView | undefined, mime: string): Promise<ImageBitmap | null>;
}

interface Incoming {
  scope: Scope;
  state: CanvasState;
}

export class FrameLoader {
  private wantGen = 0;
  private doneGen = 0;
  private loadingGen = 0;
  private loadingScope: Scope | null = null;
  private incoming: Incoming | null = null;
  private closed = false;

  constructor(private readonly host: LoaderHost) {}

  /** True while a load is in flight. */
  get loading(): boolean {
    return this.loadingScope !== null;
  }

  /** Load again for the current traits. */
  reload(): void {
    if (this.closed) return;
    this.wantGen++;
    void this.pump();
  }

  /**
   * Load `scope` unless it is already shown (`shown`, when the last load
   * fully succeeded) or already the load in flight.
   */
  reloadIfNeeded(scope: Scope, shown: Scope | null): void {
    const same = (a: Scope | null): boolean =>
      a !== null && a.frame === scope.frame && a.item === scope.item && a.stream === scope.stream;
    if (this.loading ? same(this.loadingScope) && this.loadingGen === this.wantGen : same(shown)) return;
    this.reload();
  }

  /** Apply an event push to records that wait for their image. */
  patchIncoming(msg: unknown): void {
    if (this.incoming) {
      this.incoming = { ...this.incoming, state: applyEvents(this.incoming.state, msg, this.incoming.scope) };
    }
  }

  close(): void {
    this.closed = true;
    this.incoming = null;
  }

  private async pump(): Promise<void> {
    if (this.loading) return;
    try {
      while (!this.closed && this.doneGen !== this.wantGen) {
        const gen = this.wantGen;
        this.loadingGen = gen;
        const scope = this.host.wanted();
        this.loadingScope = scope;
        await this.loadOnce(scope);
        this.doneGen = gen;
      }
    } finally {
      this.loadingScope = null;
    }
  }

  private async loadOnce(scope: Scope): Promise<void> {
    const { frame } = scope;
    this.host.started(frame);
    this.incoming = null;
    const records = this.host.request("annotations.query", { frame }).then(
      (reply) => {
        this.incoming = { scope, state: applyQuery(EMPTY_STATE, reply.result, scope) };
        return true;
      },
      (err: unknown) => {
        this.host.report(err);
        return false;
      },
    );
    const image = this.host.request("frame.get", { frame }).then(
      async (reply) => {
        const body = (reply.result ?? {}) as Record<string, unknown>;
        try {
          const mime = typeof body.mime === "string" ? body.mime : "image/png";
          const bitmap = await this.host.decode(reply.buffers[0], mime);
          const w = Number(body.width);
          const h = Number(body.height);
          // Python's size wins; else the decoded one; 0 when neither is known (keep the old size).
          return {
            bitmap,
            width: w > 0 ? w : (bitmap?.width ?? 0),
            height: h > 0 ? h : (bitmap?.height ?? 0),
          };
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          this.host.report(
            Object.assign(new Error(`the frame image could not be decoded (${why})`), { error: "ImageDecodeError" }),
          );
          return null;
        }
      },
      (err: unknown) => {
        this.host.report(err);
        return null;
      },
    );
    const [recordsOk, img] = await Promise.all([records, image]);
    // Events may have patched it while we waited (TS cannot see that: re-read it).
    const incoming = this.incoming as Incoming | null;
    this.incoming = null;
    if (this.closed) {
      img?.bitmap?.close?.();
      return;
    }
    this.host.commit({ frame, scope, state: recordsOk && incoming ? incoming.state : null, image: img });
  }
}
