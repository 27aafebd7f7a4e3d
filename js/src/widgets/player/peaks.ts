/**
 * Waveform peaks from the kernel (`peaks.get`), cached per stream, and the
 * min/max of any pixel column from them.
 *
 * The kernel picks the level for a zoom (the coarsest with at least one bin
 * per pixel) and sends the bins of a window. The page keeps an overview of the
 * whole stream (asked once, coarse) and the latest detailed window; a column
 * is drawn from the finest of the two that covers it.
 */

import type { CommandClient } from "../../runtime/protocol.js";

export interface PeakWindow {
  sampleRate: number;
  samplesPerBin: number;
  firstBin: number;
  /** [min0, max0, min1, max1, ...] */
  data: Float32Array;
}

export function parsePeaks(result: unknown, buffer: DataView | undefined): PeakWindow | null {
  if (!buffer || typeof result !== "object" || result === null) return null;
  const r = result as Record<string, unknown>;
  const sampleRate = Number(r.sample_rate);
  const samplesPerBin = Number(r.samples_per_bin);
  const firstBin = Number(r.first_bin);
  if (!(sampleRate > 0) || !(samplesPerBin > 0) || !(firstBin >= 0)) return null;
  const n = Math.floor(buffer.byteLength / 4);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = buffer.getFloat32(i * 4, true);
  return { sampleRate, samplesPerBin, firstBin, data };
}

/** Seconds covered by a window: [start, end). */
export function windowSpan(w: PeakWindow): [number, number] {
  const bins = w.data.length / 2;
  return [(w.firstBin * w.samplesPerBin) / w.sampleRate, ((w.firstBin + bins) * w.samplesPerBin) / w.sampleRate];
}

/**
 * Min and max over stream seconds [t0, t1) from `w`, or null when `w` does
 * not cover it. A column narrower than a bin reads the bin it falls in.
 */
export function columnPeak(w: PeakWindow, t0: number, t1: number): [number, number] | null {
  const bins = w.data.length / 2;
  const b0 = Math.floor((t0 * w.sampleRate) / w.samplesPerBin) - w.firstBin;
  let b1 = Math.ceil((t1 * w.sampleRate) / w.samplesPerBin) - w.firstBin;
  if (b1 <= b0) b1 = b0 + 1;
  if (b0 < 0 || b1 > bins) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let b = b0; b < b1; b++) {
    const mn = w.data[2 * b] as number;
    const mx = w.data[2 * b + 1] as number;
    if (mn < lo) lo = mn;
    if (mx > hi) hi = mx;
  }
  return [lo, hi];
}

/** Peaks of one stream: an overview plus the latest detailed window. */
export class PeakCache {
  overview: PeakWindow | null = null;
  detail: PeakWindow | null = null;
  private pending: { spp: number; start: number; end: number } | null = null;
  private inFlight = false;
  private closed = false;

  constructor(
    private readonly client: CommandClient,
    private readonly stream: string,
    private readonly duration: number,
    private readonly onData: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Ask for peaks of stream seconds [start, end) at `spp` stream seconds per pixel. */
  want(spp: number, start: number, end: number): void {
    if (this.detail && this.covers(this.detail, spp, start, end)) return;
    this.pending = { spp, start, end };
    void this.pump();
  }

  close(): void {
    this.closed = true;
  }

  private covers(w: PeakWindow, spp: number, start: number, end: number): boolean {
    const [a, b] = windowSpan(w);
    const binSeconds = w.samplesPerBin / w.sampleRate;
    // Right resolution: between a quarter and one bin per pixel (the kernel's choice ± one level).
    const fine = binSeconds <= spp * 1.0001 && binSeconds * 4 > spp * 0.9999;
    const atEnd = b >= this.duration - binSeconds;
    return fine && a <= Math.max(start, 0) + 1e-9 && (b >= end - 1e-9 || atEnd);
  }

  private async pump(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      if (!this.overview) {
        const reply = await this.client.request("peaks.get", {
          stream: this.stream,
          seconds_per_pixel: Math.max(this.duration, 1e-3) / 2048,
          start: 0,
          end: this.duration,
        });
        this.overview = parsePeaks(reply.result, reply.buffers[0]);
        if (!this.closed) this.onData();
      }
      while (this.pending && !this.closed) {
        const { spp, start, end } = this.pending;
        this.pending = null;
        const span = end - start;
        const reply = await this.client.request("peaks.get", {
          stream: this.stream,
          seconds_per_pixel: spp,
          start: Math.max(0, start - span),
          end: end + span,
        });
        this.detail = parsePeaks(reply.result, reply.buffers[0]);
        if (!this.closed) this.onData();
      }
    } catch (err) {
      this.pending = null;
      if (!this.closed) this.onError(err);
    } finally {
      this.inFlight = false;
    }
  }
}
