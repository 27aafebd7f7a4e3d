/**
 * The time ruler and one lane per stream (waveform for audio, extent and frame
 * ticks for video), drawn on canvases at item time through the stream clock.
 *
 * Lane layout: [header | lane area]; the header holds the stream name and the
 * clock editor button, the lane area is `view.width` CSS pixels wide and
 * `view.timeToX` maps item seconds into it.
 */

import { toItemTime, toStreamTime } from "../../runtime/clock.js";
import { el } from "../../runtime/text.js";
import type { StreamClock } from "./contracts.js";
import type { FrameTimes } from "./frames.js";
import { type PeakCache, columnPeak } from "./peaks.js";
import type { SpectrogramLane } from "./spectrogram.js";
import type { MutableTimeView } from "./timeview.js";
import { type PlayerStream, formatTime } from "./types.js";

export const RULER_HEIGHT = 22;
export const AUDIO_LANE_HEIGHT = 56;
export const VIDEO_LANE_HEIGHT = 18;

/** Size a canvas's backing store to its CSS size × devicePixelRatio; returns the 2D context. */
export function fitCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | null {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx?.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** A "nice" tick step (1, 2, 5 × 10^k seconds) giving ticks at least `minPx` apart. */
export function tickStep(secondsPerPixel: number, minPx = 70): number {
  const raw = secondsPerPixel * minPx;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function drawRuler(
  canvas: HTMLCanvasElement,
  view: MutableTimeView,
  loop: [number, number] | null,
  duration: number,
): void {
  const ctx = fitCanvas(canvas, view.width, RULER_HEIGHT);
  if (!ctx) return;
  ctx.clearRect(0, 0, view.width, RULER_HEIGHT);
  ctx.fillStyle = "#f4f4f4";
  ctx.fillRect(0, 0, view.width, RULER_HEIGHT);
  const endX = view.timeToX(duration);
  if (endX < view.width) {
    ctx.fillStyle = "#ddd";
    ctx.fillRect(endX, 0, view.width - endX, RULER_HEIGHT);
  }
  if (loop) {
    const a = view.timeToX(loop[0]);
    const b = view.timeToX(loop[1]);
    ctx.fillStyle = "rgba(255, 160, 0, 0.35)";
    ctx.fillRect(a, 0, b - a, RULER_HEIGHT);
  }
  const step = tickStep(view.secondsPerPixel);
  const t0 = Math.floor(view.start / step) * step;
  const t1 = view.xToTime(view.width);
  ctx.strokeStyle = "#888";
  ctx.fillStyle = "#333";
  ctx.font = "10px sans-serif";
  ctx.textBaseline = "top";
  ctx.beginPath();
  for (let t = t0; t <= t1 + step; t += step) {
    const x = Math.round(view.timeToX(t)) + 0.5;
    ctx.moveTo(x, RULER_HEIGHT - 8);
    ctx.lineTo(x, RULER_HEIGHT);
    const minor = view.timeToX(t + step / 2);
    ctx.moveTo(Math.round(minor) + 0.5, RULER_HEIGHT - 4);
    ctx.lineTo(Math.round(minor) + 0.5, RULER_HEIGHT);
    if (t >= 0) ctx.fillText(formatTime(t).replace(/\.?0+$/, ""), x + 3, 2);
  }
  ctx.stroke();
}

/** The DOM of one stream lane. */
export class Lane {
  readonly root: HTMLDivElement;
  readonly header: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  readonly clockButton: HTMLButtonElement;
  readonly height: number;
  peaks: PeakCache | null = null;
  frames: FrameTimes | null = null;
  /** Audio lanes: the spectrogram view (spectrogram.ts), drawn instead of the waveform when on. */
  spectrogram: SpectrogramLane | null = null;

  constructor(
    readonly stream: PlayerStream,
    headerWidth: number,
  ) {
    this.height = stream.modality === "audio" ? AUDIO_LANE_HEIGHT : VIDEO_LANE_HEIGHT;
    this.root = el("div", { className: "accord-player-lane", attrs: { "data-stream": stream.name } });
    Object.assign(this.root.style, { display: "flex", alignItems: "stretch", borderTop: "1px solid #e4e4e4" });
    this.clockButton = el("button", {
      className: "accord-player-clock-button",
      text: "Δt",
      title: `Clock of ${stream.name}: offset and drift`,
      attrs: { type: "button", "data-stream": stream.name },
    });
    Object.assign(this.clockButton.style, { border: "none", background: "none", cursor: "pointer", padding: "0 2px" });
    const name = el("span", { className: "accord-player-lane-name", text: stream.name, title: `${stream.modality} stream ${stream.name}` });
    Object.assign(name.style, { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", flex: "1" });
    this.header = el("div", { className: "accord-player-lane-header" }, [name, this.clockButton]);
    Object.assign(this.header.style, {
      width: `${headerWidth}px`,
      flex: `0 0 ${headerWidth}px`,
      boxSizing: "border-box",
      display: "flex",
      alignItems: "center",
      gap: "2px",
      padding: "0 4px",
      fontSize: "11px",
      background: "#fafafa",
    });
    this.canvas = el("canvas", { className: "accord-player-lane-canvas" });
    this.canvas.style.display = "block";
    this.root.append(this.header, this.canvas);
  }

  /** Item-time extent of the stream under `clock`. */
  extent(clock: StreamClock): [number, number] {
    const start = this.stream.modality === "video" ? this.stream.start : 0;
    const end = this.stream.duration ?? start;
    return [toItemTime(clock, start), toItemTime(clock, end)];
  }

  draw(view: MutableTimeView, clock: StreamClock, preview: boolean): void {
    const [a, b] = this.extent(clock);
    this.root.dataset.itemStart = a.toFixed(6);
    this.root.dataset.itemEnd = b.toFixed(6);
    this.root.dataset.offset = String(clock.offset);
    this.root.dataset.rate = String(clock.rate);
    const ctx = fitCanvas(this.canvas, view.width, this.height);
    if (!ctx) return;
    const w = view.width;
    const h = this.height;
    ctx.clearRect(0, 0, w, h);
    const xa = view.timeToX(a);
    const xb = view.timeToX(b);
    ctx.fillStyle = preview ? "#fff4e0" : "#eef3f8";
    ctx.fillRect(Math.max(xa, 0), 0, Math.min(xb, w) - Math.max(xa, 0), h);
    if (this.stream.modality === "audio" && this.spectrogram?.on) this.spectrogram.draw(ctx, view, clock, h);
    else if (this.stream.modality === "audio") this.drawWave(ctx, view, clock, xa, xb);
    else if (this.stream.modality === "video") this.drawFrames(ctx, view, clock);
  }

  private drawWave(ctx: CanvasRenderingContext2D, view: MutableTimeView, clock: StreamClock, xa: number, xb: number): void {
    const p = this.peaks;
    if (!p) return;
    const h = this.height;
    const mid = h / 2;
    ctx.fillStyle = "#3b6ea8";
    const x0 = Math.max(0, Math.floor(xa));
    const x1 = Math.min(view.width, Math.ceil(xb));
    for (let x = x0; x < x1; x++) {
      const s0 = toStreamTime(clock, view.xToTime(x));
      const s1 = toStreamTime(clock, view.xToTime(x + 1));
      const peak = (p.detail && columnPeak(p.detail, s0, s1)) || (p.overview && columnPeak(p.overview, s0, s1));
      if (!peak) continue;
      const top = mid - Math.max(peak[1], 0) * mid;
      const bottom = mid - Math.min(peak[0], 0) * mid;
      ctx.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
  }

  private drawFrames(ctx: CanvasRenderingContext2D, view: MutableTimeView, clock: StreamClock): void {
    const f = this.frames;
    if (!f || f.count === 0) return;
    const pxPerFrame = (f.typicalDuration() * clock.rate) / view.secondsPerPixel;
    if (pxPerFrame < 4) return;
    ctx.strokeStyle = "#9ab";
    ctx.beginPath();
    const first = f.indexAt(toStreamTime(clock, view.start));
    for (let n = first; n < f.count; n++) {
      const x = view.timeToX(toItemTime(clock, f.startOf(n)));
      if (x > view.width) break;
      ctx.moveTo(Math.round(x) + 0.5, this.height * 0.4);
      ctx.lineTo(Math.round(x) + 0.5, this.height);
    }
    ctx.stroke();
  }
}
