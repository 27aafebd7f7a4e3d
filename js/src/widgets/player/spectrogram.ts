/**
 * Spectrogram view of an audio lane (toggle with the lane's ≋ button or
 * Shift+S): the kernel's `spectrogram.get` of the visible item-time range at
 * about one column per CSS pixel, drawn with a viridis-like colour map.
 *
 * Images are kept in stream time (column k centred on `time0 + k·dt`) and
 * placed in item time through the lane's current clock at draw time, so a
 * previewed clock shifts them like the waveform. Requests are debounced
 * while zooming/scrolling; a reply that is not the latest request's is
 * dropped. An overview of the whole stream and the last few images are
 * cached; the newest is drawn on top.
 */

import { toItemTime, toStreamTime } from "../../runtime/clock.js";
import type { CommandClient } from "../../runtime/protocol.js";
import { el } from "../../runtime/text.js";
import type { StreamClock } from "./contracts.js";
import type { MutableTimeView } from "./timeview.js";

/** Highest frequency shown (Hz; the kernel caps it at the stream's Nyquist). Speech lives below. */
export const SPECTROGRAM_FMAX = 8000;
/** Wait after the last zoom/scroll before asking the kernel. */
export const SPECTROGRAM_DEBOUNCE_MS = 150;
/** Images kept besides the overview. */
export const SPECTROGRAM_CACHE = 4;
/** Columns of the whole-stream overview. */
export const OVERVIEW_COLUMNS = 1024;
const MAX_COLUMNS = 4096;
const MAX_ROWS = 1024;

// -- colour map ---------------------------------------------------------------------------

/** Viridis-like control points (0 → 1), luminance rising monotonically. */
export const COLORMAP_STOPS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** RGB of level `v` in [0, 1] (clamped), linear between the control points. */
export function colormap(v: number): [number, number, number] {
  const n = COLORMAP_STOPS.length - 1;
  const x = Math.min(Math.max(Number.isFinite(v) ? v : 0, 0), 1) * n;
  const i = Math.min(Math.floor(x), n - 1);
  const f = x - i;
  const a = COLORMAP_STOPS[i] as readonly [number, number, number];
  const b = COLORMAP_STOPS[i + 1] as readonly [number, number, number];
  return [0, 1, 2].map((k) => Math.round((a[k] as number) + ((b[k] as number) - (a[k] as number)) * f)) as [number, number, number];
}

/** 256 RGBA entries: the colour of uint8 level `u` is at `4u`. */
export function colormapTable(): Uint8ClampedArray {
  const t = new Uint8ClampedArray(256 * 4);
  for (let u = 0; u < 256; u++) {
    const [r, g, b] = colormap(u / 255);
    t.set([r, g, b, 255], 4 * u);
  }
  return t;
}

/** Relative luminance (0–255 scale, Rec. 709 weights) of an RGB colour. */
export function luminance([r, g, b]: readonly [number, number, number] | readonly number[]): number {
  return 0.2126 * (r as number) + 0.7152 * (g as number) + 0.0722 * (b as number);
}

// -- layout -------------------------------------------------------------------------------

/** One reply: levels row-major (rows, columns), row 0 the lowest band. */
export interface SpectrogramImage {
  columns: number;
  rows: number;
  /** Stream time of column 0's centre, and seconds between columns (stream time). */
  time0: number;
  dt: number;
  fmax: number;
  data: Uint8Array;
}

/** What to ask for: item seconds `[start, end)` in `columns` columns. */
export interface SpectrogramRequest {
  start: number;
  end: number;
  columns: number;
}

/**
 * The visible part of a stream lasting `duration` stream seconds, as an item
 * range under `clock`, with one column per CSS pixel; null when none is visible.
 */
export function visibleRequest(view: MutableTimeView, clock: StreamClock, duration: number): SpectrogramRequest | null {
  const a = Math.max(view.start, toItemTime(clock, 0));
  const b = Math.min(view.xToTime(view.width), toItemTime(clock, duration));
  if (!(b > a)) return null;
  const columns = Math.min(MAX_COLUMNS, Math.max(1, Math.round((b - a) / view.secondsPerPixel)));
  return { start: a, end: b, columns };
}

/** Stream seconds `[a, b)` an image covers. */
export function imageSpan(img: SpectrogramImage): [number, number] {
  return [img.time0 - img.dt / 2, img.time0 + (img.columns - 0.5) * img.dt];
}

/**
 * Whether `img` serves stream seconds `[s0, s1)` at `secondsPerColumn`
 * (stream seconds per CSS pixel): it covers the range (to a column) and its
 * columns are no coarser than 1.5 pixels.
 */
export function imageServes(img: SpectrogramImage, s0: number, s1: number, secondsPerColumn: number): boolean {
  const [a, b] = imageSpan(img);
  return a <= s0 + img.dt && b >= s1 - img.dt && img.dt <= secondsPerColumn * 1.5;
}

/** Where `img` lands on the lane: left edge and width in CSS px, under `clock`. */
export function imagePlacement(img: SpectrogramImage, view: MutableTimeView, clock: StreamClock): { x: number; width: number } {
  const [a, b] = imageSpan(img);
  const x = view.timeToX(toItemTime(clock, a));
  return { x, width: view.timeToX(toItemTime(clock, b)) - x };
}

/** Axis labels from the top of the lane: `fmax`, `fmax/2`, 0 (in kHz or Hz), at fractions of the height. */
export function frequencyLabels(fmax: number): { text: string; at: number }[] {
  const fmt = (f: number): string => (f >= 1000 ? `${Number((f / 1000).toFixed(1))} kHz` : `${Math.round(f)} Hz`);
  return [
    { text: fmt(fmax), at: 0 },
    { text: fmt(fmax / 2), at: 0.5 },
    { text: "0", at: 1 },
  ];
}

/** A reply as an image, or null when the header and the buffer disagree. */
export function parseSpectrogram(result: unknown, buffer: DataView | undefined): SpectrogramImage | null {
  if (typeof result !== "object" || result === null || !buffer) return null;
  const r = result as Record<string, unknown>;
  const columns = Number(r.columns);
  const rows = Number(r.rows);
  const time0 = Number(r.time0);
  const dt = Number(r.dt);
  const fmax = Number(r.fmax);
  if (r.dtype !== "uint8" || !(columns > 0) || !(rows > 0) || !(dt > 0) || !Number.isFinite(time0)) return null;
  if (buffer.byteLength !== columns * rows) return null;
  const data = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).slice();
  return { columns, rows, time0, dt, fmax, data };
}

/** RGBA pixels of `img` (top row = highest band) through `table`. */
export function imagePixels(img: SpectrogramImage, table: Uint8ClampedArray): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(img.columns * img.rows * 4);
  for (let r = 0; r < img.rows; r++) {
    const y = img.rows - 1 - r;
    for (let c = 0; c < img.columns; c++) {
      const u = img.data[r * img.columns + c] as number;
      out.set(table.subarray(4 * u, 4 * u + 4), 4 * (y * img.columns + c));
    }
  }
  return out;
}

// -- the lane part ------------------------------------------------------------------------

interface Cached {
  img: SpectrogramImage;
  canvas: HTMLCanvasElement;
}

/** The spectrogram part of one audio lane: header button, axis labels, requests, cache, drawing. */
export class SpectrogramLane {
  /** Showing the spectrogram (else the waveform). */
  on = false;
  readonly button: HTMLButtonElement;
  readonly axis: HTMLDivElement;
  private overview: Cached | null = null;
  private overviewAsked = false;
  private images: Cached[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  private latest: { view: MutableTimeView; clock: StreamClock } | null = null;
  private asked: string | null = null;
  private closed = false;
  private static table: Uint8ClampedArray | null = null;

  constructor(
    private readonly client: CommandClient,
    private readonly stream: string,
    private readonly duration: number,
    private readonly laneRoot: HTMLElement,
    header: HTMLElement,
    private readonly rows: number,
    private readonly onData: () => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.button = el("button", {
      className: "accord-player-spectrogram-button",
      text: "≋",
      title: `${stream}: waveform ↔ spectrogram (Shift+S: every audio lane)`,
      attrs: { type: "button", "data-stream": stream, "aria-pressed": "false" },
    });
    Object.assign(this.button.style, { border: "none", background: "none", cursor: "pointer", padding: "0 2px" });
    this.axis = el("div", { className: "accord-player-spectrogram-axis", attrs: { "aria-label": "frequency axis" } });
    Object.assign(this.axis.style, {
      display: "none",
      flexDirection: "column",
      justifyContent: "space-between",
      alignSelf: "stretch",
      fontSize: "9px",
      lineHeight: "10px",
      color: "#555",
      textAlign: "right",
      padding: "1px 0",
      fontVariantNumeric: "tabular-nums",
    });
    header.insertBefore(this.button, header.lastChild);
    header.append(this.axis);
    this.button.addEventListener("click", () => this.toggle());
    this.laneRoot.dataset.view = "waveform";
    this.setLabels(SPECTROGRAM_FMAX);
  }

  toggle(on = !this.on): void {
    this.on = on;
    this.button.setAttribute("aria-pressed", String(on));
    this.button.style.background = on ? "#dde8f3" : "none";
    this.axis.style.display = on ? "flex" : "none";
    this.laneRoot.dataset.view = on ? "spectrogram" : "waveform";
    this.asked = null;
    this.onData();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Called on every draw: ask for what the view shows when no cached image serves it. */
  want(view: MutableTimeView, clock: StreamClock): void {
    if (!this.on || this.closed) return;
    this.latest = { view, clock };
    if (!this.overviewAsked) {
      this.overviewAsked = true;
      void this.ask(
        { start: toItemTime(clock, 0), end: toItemTime(clock, this.duration), columns: Math.min(OVERVIEW_COLUMNS, MAX_COLUMNS) },
        clock,
        true,
      );
    }
    if (this.servedNow(view, clock)) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const l = this.latest;
      if (!l || this.closed || !this.on || this.servedNow(l.view, l.clock)) return;
      const req = visibleRequest(l.view, l.clock, this.duration);
      if (!req) return;
      const key = `${req.start.toFixed(6)}:${req.end.toFixed(6)}:${req.columns}:${l.clock.offset}:${l.clock.rate}`;
      if (key === this.asked) return;
      this.asked = key;
      void this.ask(req, l.clock, false);
    }, SPECTROGRAM_DEBOUNCE_MS);
  }

  /** Draw the cached images on `ctx` (lane `height` CSS px) under `clock`. */
  draw(ctx: CanvasRenderingContext2D, view: MutableTimeView, clock: StreamClock, height: number): void {
    ctx.imageSmoothingEnabled = false;
    for (const c of [this.overview, ...this.images]) {
      if (!c) continue;
      const { x, width } = imagePlacement(c.img, view, clock);
      if (x > view.width || x + width < 0) continue;
      ctx.drawImage(c.canvas, x, 0, width, height);
    }
    this.laneRoot.dataset.spectrogramReady = this.servedNow(view, clock) ? "1" : "0";
  }

  private servedNow(view: MutableTimeView, clock: StreamClock): boolean {
    const s0 = Math.max(0, toStreamTime(clock, view.start));
    const s1 = Math.min(this.duration, toStreamTime(clock, view.xToTime(view.width)));
    if (!(s1 > s0)) return true;
    const spc = view.secondsPerPixel / clock.rate;
    return [this.overview, ...this.images].some((c) => c !== null && imageServes(c.img, s0, s1, spc));
  }

  private async ask(req: SpectrogramRequest, clock: StreamClock, overview: boolean): Promise<void> {
    const gen = overview ? this.generation : ++this.generation;
    try {
      const reply = await this.client.request("spectrogram.get", {
        stream: this.stream,
        start: req.start,
        end: req.end,
        columns: req.columns,
        rows: Math.min(MAX_ROWS, this.rows),
        fmax: SPECTROGRAM_FMAX,
        clock: { offset: clock.offset, rate: clock.rate },
        dtype: "uint8",
      });
      if (this.closed) return;
      if (!overview && gen !== this.generation) return; // stale: a newer request is out
      const img = parseSpectrogram(reply.result, reply.buffers[0]);
      if (!img) return;
      const cached = { img, canvas: this.render(img) };
      if (overview) this.overview = cached;
      else {
        this.images.push(cached);
        if (this.images.length > SPECTROGRAM_CACHE) this.images.shift();
      }
      this.setLabels(img.fmax);
      this.onData();
    } catch (err) {
      if (overview) this.overviewAsked = false;
      this.asked = null;
      if (!this.closed) this.onError(err);
    }
  }

  private render(img: SpectrogramImage): HTMLCanvasElement {
    SpectrogramLane.table ??= colormapTable();
    const canvas = document.createElement("canvas");
    canvas.width = img.columns;
    canvas.height = img.rows;
    const ctx = canvas.getContext("2d");
    if (ctx) ctx.putImageData(new ImageData(imagePixels(img, SpectrogramLane.table), img.columns, img.rows), 0, 0);
    return canvas;
  }

  private setLabels(fmax: number): void {
    this.axis.replaceChildren(...frequencyLabels(fmax).map((l) => el("span", { className: "accord-player-spectrogram-label", text: l.text })));
  }
}
