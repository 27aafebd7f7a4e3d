/**
 * One `<video>`/`<audio>` element of a stream, following the shared clock.
 *
 * Where the bytes come from: accord's media route (`<base>/accord/media?path=`,
 * Range requests, so seeking works) when a HEAD request there succeeds; else
 * the kernel sends the file in slices (`media.bytes`) and the element plays a
 * Blob URL. Which frame is on screen comes from `requestVideoFrameCallback`'s
 * `mediaTime`, mapped to a frame index through the stream's real frame times.
 */

import { type PageClock, type TimeSource, toItemTime, toStreamTime } from "../../runtime/clock.js";
import type { CommandClient } from "../../runtime/protocol.js";
import type { ClockState } from "./contracts.js";
import type { FrameTimes } from "./frames.js";
import { follow, seekThreshold } from "./sync.js";
import type { PlayerStream } from "./types.js";

export interface TrackHost {
  client: CommandClient;
  clock: PageClock;
  /** Show an error for this stream (text banner); the rest keeps working. */
  report(err: unknown): void;
  /** The element's state changed (metadata, error, a new frame shown). */
  changed(track: MediaTrack): void;
}

const MEDIA_ERRORS: Record<number, string> = {
  1: "loading was aborted",
  2: "a network error stopped loading",
  3: "the file could not be decoded",
  4: "the format or codec is not supported by this browser",
};

/** The page's base URL (JupyterLab / Notebook page config), ending in "/". */
export function pageBaseUrl(doc: Document = document): string {
  const node = doc.getElementById("jupyter-config-data");
  if (node?.textContent) {
    try {
      const cfg = JSON.parse(node.textContent) as { baseUrl?: unknown };
      if (typeof cfg.baseUrl === "string") return cfg.baseUrl.endsWith("/") ? cfg.baseUrl : `${cfg.baseUrl}/`;
    } catch {
      // fall through
    }
  }
  const attr = doc.body?.dataset?.baseUrl;
  return attr ? (attr.endsWith("/") ? attr : `${attr}/`) : "/";
}

async function headOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: "HEAD", credentials: "same-origin", redirect: "error" });
    return res.ok;
  } catch {
    return false;
  }
}

/** Fetch the whole file from the kernel in slices and make a Blob URL of it. */
async function blobFromKernel(client: CommandClient, stream: PlayerStream): Promise<string> {
  const parts: ArrayBuffer[] = [];
  let offset = 0;
  let size = Infinity;
  let mime = stream.mime ?? "application/octet-stream";
  while (offset < size) {
    const reply = await client.request<{ size: number; mime: string }>(
      "media.bytes",
      { stream: stream.name, offset },
      [],
      { timeoutMs: 120_000 },
    );
    size = Number(reply.result.size);
    mime = reply.result.mime || mime;
    const buf = reply.buffers[0];
    if (!buf || buf.byteLength === 0) break;
    parts.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    offset += buf.byteLength;
  }
  return URL.createObjectURL(new Blob(parts, { type: mime }));
}

export type MediaSourceKind = "route" | "kernel";

export class MediaTrack {
  readonly element: HTMLVideoElement | HTMLAudioElement;
  frames: FrameTimes | null = null;
  /** Why it cannot play (null while fine). */
  failed: string | null = null;
  /** Metadata loaded, or failed: either way it no longer holds up readiness. */
  settled = false;
  /** Frame index on screen (video), from the presented frame's media time. */
  shownFrame: number | null = null;
  shownMediaTime: number | null = null;
  sourceKind: MediaSourceKind | null = null;
  private blobUrl: string | null = null;
  private seekStartedAt: number | null = null;
  private seekLatency = 0.05;
  private lastMasterTime: number | null = null;
  private detachSource: (() => void) | null = null;
  private destroyed = false;
  private readonly masterFn: TimeSource = () => this.masterTime();

  constructor(
    public stream: PlayerStream,
    private readonly host: TrackHost,
  ) {
    const video = stream.modality === "video";
    const el = document.createElement(video ? "video" : "audio");
    el.preload = "auto";
    el.crossOrigin = null;
    el.dataset.stream = stream.name;
    el.className = video ? "accord-player-video" : "accord-player-audio";
    if (el instanceof HTMLVideoElement) {
      el.playsInline = true;
      // A video's own sound: off (audio streams carry it) unless told otherwise.
      el.muted = true;
    }
    (el as HTMLMediaElement & { preservesPitch?: boolean }).preservesPitch = true;
    this.element = el;
    el.addEventListener("loadedmetadata", () => this.onMetadata());
    el.addEventListener("error", () => this.fail(this.describeMediaError()));
    el.addEventListener("seeking", () => {
      this.seekStartedAt = performance.now();
    });
    el.addEventListener("seeked", () => {
      if (this.seekStartedAt !== null && !this.element.paused) {
        const took = (performance.now() - this.seekStartedAt) / 1000;
        this.seekLatency = 0.7 * this.seekLatency + 0.3 * Math.min(took, 0.5);
      }
      this.seekStartedAt = null;
      if (!(el instanceof HTMLVideoElement) || !("requestVideoFrameCallback" in el)) this.noteFrame(el.currentTime);
    });
    if (el instanceof HTMLVideoElement && "requestVideoFrameCallback" in el) this.watchFrames(el);
  }

  get isVideo(): boolean {
    return this.stream.modality === "video";
  }

  get usable(): boolean {
    return !this.failed && !this.destroyed && !!this.element.src;
  }

  /** Resolve the URL and start loading. */
  async load(): Promise<void> {
    const s = this.stream;
    if (s.error) {
      this.fail(s.error);
      return;
    }
    if (!s.url) {
      this.fail(`stream ${s.name}: the kernel offered no media file`);
      return;
    }
    const url = pageBaseUrl() + s.url;
    try {
      if (await headOk(url)) {
        this.sourceKind = "route";
        this.element.src = url;
      } else {
        this.sourceKind = "kernel";
        this.blobUrl = await blobFromKernel(this.host.client, s);
        if (this.destroyed) {
          URL.revokeObjectURL(this.blobUrl);
          return;
        }
        this.element.src = this.blobUrl;
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.element.load();
  }

  /** Make this element the clock's time source while playing. */
  becomeMaster(): void {
    this.detachSource?.();
    this.detachSource = this.host.clock.attachTimeSource(this.masterFn);
  }

  /** Follow the clock: called on every clock change and tick. */
  sync(state: ClockState, seekNow: boolean): void {
    if (!this.usable || !this.settled) return;
    const el = this.element;
    const clock = this.host.clock.streamClock(this.stream.name);
    const target = toStreamTime(clock, state.time);
    const duration = Number.isFinite(el.duration) ? el.duration : (this.stream.duration ?? Infinity);
    const inRange = target >= 0 && target < duration;
    const clamped = Math.min(Math.max(target, 0), Math.max(duration - 1e-3, 0));
    if (!state.playing || !inRange) {
      if (!el.paused) el.pause();
      if (seekNow || !state.playing) {
        if (Math.abs(el.currentTime - clamped) > 1e-6 && !(el.seeking && !seekNow)) el.currentTime = clamped;
      }
      return;
    }
    const baseRate = state.rate / clock.rate;
    if (seekNow || el.paused) {
      if (Math.abs(el.currentTime - target) > 1e-6) el.currentTime = target;
      el.playbackRate = baseRate;
      if (el.paused) void el.play().catch((err: unknown) => this.playRefused(err));
      return;
    }
    if (el.seeking) return;
    // The master is the clock: nothing to correct but its rate.
    if (this.host.clock.isActiveTimeSource(this.masterFn)) {
      if (Math.abs(el.playbackRate - baseRate) > 1e-9) el.playbackRate = baseRate;
      return;
    }
    const frameDuration = this.frames ? this.frames.typicalDuration() : null;
    const d = follow({
      elementTime: el.currentTime,
      targetTime: target,
      baseRate,
      seekThreshold: seekThreshold(frameDuration),
      seekLatency: this.seekLatency,
    });
    if (d.seek !== null) el.currentTime = d.seek;
    if (Math.abs(el.playbackRate - d.playbackRate) > 1e-6) el.playbackRate = d.playbackRate;
  }

  /** Item time from this element while it plays in range; null to let the clock use the wall clock. */
  private masterTime(): number | null {
    if (!this.usable || !this.settled) return null;
    const el = this.element;
    const clock = this.host.clock.streamClock(this.stream.name);
    const state = this.host.clock.state;
    const target = toStreamTime(clock, state.time);
    const duration = Number.isFinite(el.duration) ? el.duration : Infinity;
    if (el.ended || target < 0 || target >= duration - 0.01) {
      this.lastMasterTime = null;
      return null;
    }
    // Starting, seeking or buffering: hold the clock where the element is.
    if (el.paused || el.seeking || el.readyState < 3) return this.lastMasterTime ?? state.time;
    const t = toItemTime(clock, el.currentTime);
    this.lastMasterTime = t;
    return t;
  }

  setMuted(muted: boolean): void {
    this.element.muted = muted;
  }

  destroy(): void {
    this.destroyed = true;
    this.detachSource?.();
    this.detachSource = null;
    const el = this.element;
    el.pause();
    el.removeAttribute("src");
    el.load();
    el.remove();
    if (this.blobUrl) URL.revokeObjectURL(this.blobUrl);
    this.blobUrl = null;
  }

  private onMetadata(): void {
    const el = this.element;
    if (el instanceof HTMLVideoElement && el.videoWidth === 0) {
      this.fail(`video stream ${this.stream.name}: the browser cannot decode its video track (codec not supported)`);
      return;
    }
    this.settled = true;
    this.host.changed(this);
  }

  private watchFrames(el: HTMLVideoElement): void {
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      if (this.destroyed) return;
      this.noteFrame(meta.mediaTime);
      el.requestVideoFrameCallback(onFrame);
    };
    el.requestVideoFrameCallback(onFrame);
  }

  private noteFrame(mediaTime: number): void {
    this.shownMediaTime = mediaTime;
    this.shownFrame = this.frames ? this.frames.indexAt(mediaTime) : null;
    this.host.changed(this);
  }

  private playRefused(err: unknown): void {
    // Autoplay policy or a pause() racing play(): not an error of the media.
    const name = err instanceof Error ? err.name : "";
    if (name === "AbortError") return;
    if (name === "NotAllowedError") {
      this.host.report(new Error(`stream ${this.stream.name}: the browser refused to start playback (${String(err)})`));
      return;
    }
    this.host.report(err);
  }

  private describeMediaError(): string {
    const e = this.element.error;
    const why = e ? (MEDIA_ERRORS[e.code] ?? `error ${e.code}`) : "unknown error";
    const detail = e?.message ? ` (${e.message})` : "";
    return `${this.stream.modality} stream ${this.stream.name} cannot play: ${why}${detail}`;
  }

  private fail(err: unknown): void {
    if (this.failed || this.destroyed) return;
    this.failed = err instanceof Error ? err.message : String(err);
    this.settled = true;
    this.detachSource?.();
    this.detachSource = null;
    this.element.pause();
    this.host.report(err instanceof Error ? err : Object.assign(new Error(this.failed), { error: "MediaError" }));
    this.host.changed(this);
  }
}
