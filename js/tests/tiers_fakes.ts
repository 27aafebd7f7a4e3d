/** Fakes of the Player's contract (clock, time view) for the tiers' tests. */

import type { ClockState, SharedClock, StreamClock, TimeView } from "../src/widgets/player/contracts.js";

/** A linear time view: x = (t - start) / secondsPerPixel. */
export class FakeView implements TimeView {
  private fns = new Set<() => void>();
  constructor(
    public start = 0,
    public secondsPerPixel = 0.01,
    public width = 1000,
  ) {}
  timeToX(time: number): number {
    return (time - this.start) / this.secondsPerPixel;
  }
  xToTime(x: number): number {
    return this.start + x * this.secondsPerPixel;
  }
  zoom(factor: number, aroundTime: number): void {
    const x = this.timeToX(aroundTime);
    this.secondsPerPixel /= factor;
    this.start = aroundTime - x * this.secondsPerPixel;
    this.emit();
  }
  scrollTo(start: number): void {
    this.start = start;
    this.emit();
  }
  subscribe(fn: () => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  emit(): void {
    for (const f of [...this.fns]) f();
  }
  get listeners(): number {
    return this.fns.size;
  }
}

/** A clock that only records what it is told. */
export class FakeClock implements SharedClock {
  state: ClockState = { time: 0, playing: false, rate: 1, loop: null };
  duration = 10;
  readonly clocks = new Map<string, StreamClock>();
  private subs = new Set<(s: ClockState, src: unknown) => void>();
  private clockSubs = new Set<(stream: string, c: StreamClock) => void>();
  seek(time: number, source?: unknown): void {
    this.state = { ...this.state, time };
    for (const f of [...this.subs]) f(this.state, source);
  }
  play(): void {
    this.state = { ...this.state, playing: true };
  }
  pause(): void {
    this.state = { ...this.state, playing: false };
  }
  setRate(rate: number): void {
    this.state = { ...this.state, rate };
  }
  setLoop(range: [number, number] | null, source?: unknown): void {
    this.state = { ...this.state, loop: range };
    for (const f of [...this.subs]) f(this.state, source);
  }
  subscribe(fn: (s: ClockState, src: unknown) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  streamClock(stream: string): StreamClock {
    return this.clocks.get(stream) ?? { offset: 0, rate: 1 };
  }
  setStreamClock(stream: string, clock: StreamClock): void {
    this.clocks.set(stream, clock);
    for (const f of [...this.clockSubs]) f(stream, clock);
  }
  onStreamClock(fn: (stream: string, c: StreamClock) => void): () => void {
    this.clockSubs.add(fn);
    return () => this.clockSubs.delete(fn);
  }
  get listeners(): number {
    return this.subs.size + this.clockSubs.size;
  }
}

/** The sample scene's second recorder clock. */
export const SECOND_AUDIO: StreamClock = { offset: 0.3617, rate: 1.00015 };
