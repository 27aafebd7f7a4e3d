/**
 * The clock editor of one stream: offset (seconds) and drift (ppm) with live
 * preview through the shared clock, Save (a `stream.clock` command: versioned,
 * undoable) and Reset (back to the saved clock).
 *
 * `rate = 1 + drift_ppm · 1e-6` (as `Clock.from_drift` in Python);
 * `itemTime = offset + rate · streamTime`.
 */

import type { PageClock } from "../../runtime/clock.js";
import { el } from "../../runtime/text.js";
import type { StreamClock } from "./contracts.js";

export function rateFromPpm(ppm: number): number {
  return 1 + ppm * 1e-6;
}

export function ppmFromRate(rate: number): number {
  return (rate - 1) * 1e6;
}

export interface ClockEditorHost {
  clock: PageClock;
  /** The saved (kernel) clock of the stream. */
  saved(stream: string): StreamClock;
  save(stream: string, clock: StreamClock): Promise<void>;
  report(err: unknown): void;
}

export class ClockEditor {
  readonly root: HTMLDivElement;
  private readonly offsetInput: HTMLInputElement;
  private readonly ppmInput: HTMLInputElement;
  private readonly status: HTMLSpanElement;
  private readonly saveButton: HTMLButtonElement;
  private busy = false;

  constructor(
    readonly stream: string,
    private readonly host: ClockEditorHost,
    onClose: () => void,
  ) {
    const me = this;
    this.offsetInput = el("input", {
      className: "accord-player-clock-offset",
      attrs: { type: "number", step: "0.001", "aria-label": `offset of ${stream} (s)`, "data-stream": stream },
    });
    this.ppmInput = el("input", {
      className: "accord-player-clock-drift",
      attrs: { type: "number", step: "1", "aria-label": `drift of ${stream} (ppm)`, "data-stream": stream },
    });
    for (const input of [this.offsetInput, this.ppmInput]) {
      input.style.width = "7em";
      input.addEventListener("input", () => me.preview());
      input.addEventListener("keydown", (e) => e.stopPropagation());
    }
    this.saveButton = el("button", { className: "accord-player-clock-save", text: "Save", attrs: { type: "button" } });
    const reset = el("button", { className: "accord-player-clock-reset", text: "Reset", attrs: { type: "button" } });
    const close = el("button", { className: "accord-player-clock-close", text: "×", title: "Close", attrs: { type: "button" } });
    this.status = el("span", { className: "accord-player-clock-status" });
    this.status.style.color = "#a60";
    this.saveButton.addEventListener("click", () => void this.save());
    reset.addEventListener("click", () => this.reset());
    close.addEventListener("click", onClose);
    this.root = el("div", { className: "accord-player-clock-editor", attrs: { "data-stream": stream } }, [
      el("strong", { text: `${stream} clock` }),
      el("label", {}, [" offset ", this.offsetInput, " s"]),
      el("label", {}, [" drift ", this.ppmInput, " ppm"]),
      " ",
      this.saveButton,
      reset,
      close,
      " ",
      this.status,
    ]);
    Object.assign(this.root.style, {
      display: "flex",
      flexWrap: "wrap",
      alignItems: "center",
      gap: "4px",
      padding: "3px 6px",
      background: "#fff8ec",
      borderTop: "1px solid #f0d9b5",
      fontSize: "12px",
    });
    this.load(host.clock.streamClock(stream));
  }

  /** Show `clock` in the inputs (after a drag, a save, a reset or a kernel change). */
  load(clock: StreamClock): void {
    if (document.activeElement !== this.offsetInput) this.offsetInput.value = clock.offset.toFixed(4);
    if (document.activeElement !== this.ppmInput) this.ppmInput.value = ppmFromRate(clock.rate).toFixed(1);
    this.refreshStatus();
  }

  /** The clock the inputs describe (null while one is not a number). */
  value(): StreamClock | null {
    const offset = Number(this.offsetInput.value);
    const ppm = Number(this.ppmInput.value);
    if (this.offsetInput.value.trim() === "" || !Number.isFinite(offset) || !Number.isFinite(ppm)) return null;
    const rate = rateFromPpm(ppm);
    return rate > 0 ? { offset, rate } : null;
  }

  private preview(): void {
    const c = this.value();
    if (!c) return;
    this.host.clock.setStreamClock(this.stream, c, this);
    this.refreshStatus();
  }

  private refreshStatus(): void {
    const cur = this.host.clock.streamClock(this.stream);
    const saved = this.host.saved(this.stream);
    const dirty = Math.abs(cur.offset - saved.offset) > 1e-9 || Math.abs(cur.rate - saved.rate) > 1e-12;
    this.status.textContent = this.busy ? "saving…" : dirty ? "unsaved preview" : "";
    this.root.dataset.dirty = dirty ? "1" : "0";
    this.saveButton.disabled = this.busy || !dirty;
  }

  reset(): void {
    const saved = this.host.saved(this.stream);
    this.host.clock.setStreamClock(this.stream, saved, this);
    this.offsetInput.value = saved.offset.toFixed(4);
    this.ppmInput.value = ppmFromRate(saved.rate).toFixed(1);
    this.refreshStatus();
  }

  async save(): Promise<void> {
    const c = this.host.clock.streamClock(this.stream);
    this.busy = true;
    this.refreshStatus();
    try {
      await this.host.save(this.stream, c);
    } catch (err) {
      this.host.report(err);
    } finally {
      this.busy = false;
      this.refreshStatus();
    }
  }
}
