/**
 * Frame identity from a video stream's real frame times (never currentTime × fps).
 *
 * `times` are the presentation times of every frame in stream seconds (from
 * PyAV's probe, sent by the kernel as float64); `end` is where the last frame
 * stops. Frame n covers `[times[n], times[n+1])`.
 */

export class FrameTimes {
  constructor(
    readonly times: Float64Array,
    readonly end: number,
  ) {}

  get count(): number {
    return this.times.length;
  }

  /** The frame shown at stream time `t` (clamped to the first/last frame). */
  indexAt(t: number): number {
    const ts = this.times;
    if (ts.length === 0) return -1;
    // Tolerance: a media time a hair before a frame start belongs to that frame.
    const x = t + 1e-6;
    let lo = 0;
    let hi = ts.length - 1;
    if (x < (ts[0] as number)) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((ts[mid] as number) <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Start of frame n. */
  startOf(n: number): number {
    return this.times[this.clamp(n)] as number;
  }

  /** End of frame n (start of the next, or the stream end). */
  endOf(n: number): number {
    const i = this.clamp(n);
    return i + 1 < this.times.length ? (this.times[i + 1] as number) : Math.max(this.end, this.times[i] as number);
  }

  /** The middle of frame n: where a seek lands exactly on it. */
  centreOf(n: number): number {
    const i = this.clamp(n);
    const end = this.endOf(i);
    const start = this.times[i] as number;
    // A last frame without a known end: half a typical frame after its start.
    if (end <= start) return start + this.typicalDuration() / 2;
    return (start + end) / 2;
  }

  /** Median frame duration (seconds). */
  typicalDuration(): number {
    const ts = this.times;
    if (ts.length < 2) return 1 / 30;
    const step = Math.max(1, Math.floor(ts.length / 64));
    const d: number[] = [];
    for (let i = step; i < ts.length; i += step) d.push(((ts[i] as number) - (ts[i - step] as number)) / step);
    d.sort((a, b) => a - b);
    return d[d.length >> 1] ?? 1 / 30;
  }

  clamp(n: number): number {
    return Math.min(Math.max(Math.round(n), 0), this.times.length - 1);
  }
}

/** Frame times of a constant-rate stream (for tests and streams without probed times). */
export function constantFrameTimes(count: number, fps: [number, number], start = 0): FrameTimes {
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) times[i] = start + (i * fps[1]) / fps[0];
  return new FrameTimes(times, start + (count * fps[1]) / fps[0]);
}
