/**
 * One Player view: wires the model (traits, custom messages), the shared
 * clock, the media tracks, the lanes, the clock editors and the tiers part.
 *
 * Data flow: the shared clock is the only playhead. Media elements, lanes,
 * the ruler and the tiers redraw from it; Python hears `time`/`playing` on
 * pause and seek only (debounced), never per frame.
 */

import { CLOCK_TICK, type PageClock, getSharedClock, toItemTime, toStreamTime } from "../../runtime/clock.js";
import { showError } from "../../runtime/errors.js";
import { CommandClient, type MessageModel } from "../../runtime/protocol.js";
import { el } from "../../runtime/text.js";
import { ClockEditor } from "./clockeditor.js";
import type { ClockState, StreamClock, TierContext, TiersPart } from "./contracts.js";
import { FrameTimes } from "./frames.js";
import { Lane, RULER_HEIGHT, drawRuler, fitCanvas } from "./lanes.js";
import { MediaTrack } from "./media.js";
import { PeakCache } from "./peaks.js";
import { SpectrogramLane } from "./spectrogram.js";
import { TIER_HEADER_WIDTH, mountTiers } from "./tiers/index.js";
import { type MutableTimeView, createTimeView } from "./timeview.js";
import { type PlayerStream, formatTime, parseClasses, parseStreams, parseTime } from "./types.js";

/** The parts of an anywidget model the view uses. */
export interface WidgetModel extends MessageModel {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(eventName: string, callback: (...args: any[]) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(eventName?: string | null, callback?: ((...args: any[]) => void) | null): void;
}

/** The root element with test hooks. */
export interface PlayerElement extends HTMLElement {
  accordPlayer?: { clock: PageClock; view: MutableTimeView; step(frames: number): void };
}

const RATES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];
const NOTIFY_DELAY_MS = 120;
const FALLBACK_STEP = 1 / 30;

function button(text: string, title: string, cls: string): HTMLButtonElement {
  const b = el("button", { className: cls, text, title, attrs: { type: "button", "aria-label": title } });
  Object.assign(b.style, { minWidth: "2em", padding: "1px 6px", cursor: "pointer" });
  return b;
}

export class PlayerView {
  private readonly client: CommandClient;
  private readonly clock: PageClock;
  private readonly view: MutableTimeView;
  private readonly me = {};
  private readonly fromPython = {};
  /** Source of clock previews from dragging a lane. */
  private readonly clockEdit = {};
  private streams: PlayerStream[] = [];
  private saved = new Map<string, StreamClock>();
  private tracks: MediaTrack[] = [];
  private lanes: Lane[] = [];
  private editors = new Map<string, ClockEditor>();
  private tiers: TiersPart | null = null;
  private cleanups: (() => void)[] = [];
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  private lastSent: { time: number; playing: boolean; rate: number } | null = null;
  private drawQueued = false;
  private destroyed = false;
  private framesPending = 0;
  /** Everything loaded once: elements were put where the clock is. */
  private readyOnce = false;
  /** Elements that had sound before "mute". */
  private mutedBefore: MediaTrack[] = [];

  // DOM
  private readonly videos: HTMLDivElement;
  private readonly audios: HTMLDivElement;
  private readonly playButton: HTMLButtonElement;
  private readonly timeLabel: HTMLSpanElement;
  private readonly frameLabel: HTMLSpanElement;
  private readonly jumpInput: HTMLInputElement;
  private readonly rateSelect: HTMLSelectElement;
  private readonly loopButton: HTMLButtonElement;
  private readonly muteButton: HTMLButtonElement;
  private readonly editorsHost: HTMLDivElement;
  private readonly lanesWrap: HTMLDivElement;
  private readonly ruler: HTMLCanvasElement;
  private readonly lanesHost: HTMLDivElement;
  private readonly tiersHost: HTMLDivElement;
  private readonly playhead: HTMLDivElement;

  constructor(
    private readonly model: WidgetModel,
    private readonly root: PlayerElement,
  ) {
    this.client = new CommandClient(model);
    this.streams = parseStreams(model.get("stream_infos"));
    for (const s of this.streams) this.saved.set(s.name, { ...s.clock });
    this.clock = getSharedClock(String(model.get("bus_key") ?? ""), { streams: this.streams });
    this.view = createTimeView({ duration: this.clock.duration || 1, width: 600 });

    root.classList.add("accord-player");
    root.tabIndex = 0;
    Object.assign(root.style, {
      fontFamily: "var(--jp-ui-font-family, sans-serif)",
      fontSize: "12px",
      outline: "none",
      userSelect: "none",
    });
    root.dataset.ready = "0";
    root.dataset.playing = "0";

    this.videos = el("div", { className: "accord-player-videos" });
    Object.assign(this.videos.style, { display: "flex", gap: "4px", justifyContent: "center", background: "#111" });
    this.audios = el("div", { className: "accord-player-audios" });
    this.audios.style.display = "none";

    // Transport
    const start = button("⇤", "Go to start (Home)", "accord-player-start");
    const back = button("◀|", "Previous frame (←)", "accord-player-step-back");
    this.playButton = button("▶", "Play / pause (space)", "accord-player-play");
    const fwd = button("|▶", "Next frame (→)", "accord-player-step-forward");
    this.timeLabel = el("span", { className: "accord-player-time" });
    this.timeLabel.style.fontVariantNumeric = "tabular-nums";
    this.frameLabel = el("span", { className: "accord-player-frame" });
    this.jumpInput = el("input", {
      className: "accord-player-jump",
      title: "Jump to a time (m:ss.sss or seconds), or #frame",
      attrs: { type: "text", placeholder: "jump to…", "aria-label": "Jump to time" },
    });
    this.jumpInput.style.width = "7em";
    this.rateSelect = el("select", { className: "accord-player-rate", attrs: { "aria-label": "Playback rate" } });
    for (const r of RATES) this.rateSelect.append(el("option", { text: `${r}×`, attrs: { value: String(r) } }));
    this.loopButton = button("⟲", "Loop: the visible range, or clear the loop (shift-drag the ruler to set one)", "accord-player-loop");
    const zoomOut = button("−", "Zoom out (ctrl+wheel)", "accord-player-zoom-out");
    const zoomIn = button("+", "Zoom in (ctrl+wheel)", "accord-player-zoom-in");
    const fit = button("↔", "Show everything", "accord-player-zoom-fit");
    this.muteButton = button("♪", "Mute / unmute", "accord-player-mute");
    const bar = el("div", { className: "accord-player-transport" }, [
      start, back, this.playButton, fwd, this.timeLabel, this.frameLabel, this.jumpInput, this.rateSelect,
      this.loopButton, zoomOut, zoomIn, fit, this.muteButton,
    ]);
    Object.assign(bar.style, { display: "flex", flexWrap: "wrap", alignItems: "center", gap: "4px", padding: "4px 0" });

    this.editorsHost = el("div", { className: "accord-player-clock-editors" });

    // Lanes
    this.ruler = el("canvas", { className: "accord-player-ruler" });
    this.ruler.style.display = "block";
    this.ruler.style.cursor = "text";
    const rulerSpacer = el("div", { className: "accord-player-ruler-header" });
    Object.assign(rulerSpacer.style, { width: `${TIER_HEADER_WIDTH}px`, flex: `0 0 ${TIER_HEADER_WIDTH}px`, background: "#f4f4f4" });
    const rulerRow = el("div", { className: "accord-player-ruler-row" }, [rulerSpacer, this.ruler]);
    rulerRow.style.display = "flex";
    this.lanesHost = el("div", { className: "accord-player-lanes" });
    this.tiersHost = el("div", { className: "accord-player-tiers" });
    this.playhead = el("div", { className: "accord-player-playhead" });
    Object.assign(this.playhead.style, {
      position: "absolute",
      top: "0",
      bottom: "0",
      width: "2px",
      marginLeft: "-1px",
      background: "#d62728",
      pointerEvents: "none",
      zIndex: "5",
    });
    this.lanesWrap = el("div", { className: "accord-player-lanes-wrap" }, [rulerRow, this.lanesHost, this.tiersHost, this.playhead]);
    Object.assign(this.lanesWrap.style, { position: "relative", border: "1px solid #ddd", overflow: "hidden" });

    root.append(this.videos, this.audios, bar, this.editorsHost, this.lanesWrap);

    // Wiring
    const on = (target: EventTarget, type: string, fn: (e: Event) => void, opts?: AddEventListenerOptions): void => {
      target.addEventListener(type, fn, opts);
      this.cleanups.push(() => target.removeEventListener(type, fn, opts));
    };
    on(start, "click", () => this.clock.seek(0, this.me));
    on(back, "click", () => this.step(-1));
    on(fwd, "click", () => this.step(1));
    on(this.playButton, "click", () => this.togglePlay());
    on(this.jumpInput, "keydown", (e) => {
      const k = e as KeyboardEvent;
      k.stopPropagation();
      if (k.key === "Enter") this.jump(this.jumpInput.value);
    });
    on(this.rateSelect, "change", () => this.clock.setRate(Number(this.rateSelect.value), this.me));
    on(this.loopButton, "click", () => this.toggleLoop());
    on(zoomOut, "click", () => this.view.zoom(1 / 1.6, this.clock.state.time));
    on(zoomIn, "click", () => this.view.zoom(1.6, this.clock.state.time));
    on(fit, "click", () => this.view.show(0, this.clock.duration || 1));
    on(this.muteButton, "click", () => this.toggleMute());
    on(root, "keydown", (e) => this.onKey(e as KeyboardEvent));
    on(this.lanesWrap, "wheel", (e) => this.onWheel(e as WheelEvent), { passive: false });
    this.wireRuler(on);

    this.cleanups.push(this.clock.subscribe((state, source) => this.onClock(state, source)));
    this.cleanups.push(this.clock.onStreamClock((stream, c) => this.onStreamClock(stream, c)));
    this.cleanups.push(this.view.subscribe(() => this.queueDraw()));
    this.cleanups.push(
      this.client.onMessage("event", (msg) => {
        const events = (msg as { events?: unknown }).events;
        if (Array.isArray(events)) this.tiers?.onEvents(events as Parameters<TiersPart["onEvents"]>[0]);
      }),
    );
    this.cleanups.push(
      this.client.onMessage("seek", (msg) => {
        const t = Number((msg as { time?: unknown }).time);
        if (Number.isFinite(t)) this.clock.seek(t, this.fromPython);
      }),
    );
    const traits: [string, () => void][] = [
      ["stream_infos", () => this.onStreamInfos()],
      ["time", () => this.onPythonTime()],
      ["playing", () => this.onPythonPlaying()],
      ["rate", () => this.onPythonRate()],
      ["height", () => this.applyHeight()],
    ];
    for (const [name, fn] of traits) {
      model.on(`change:${name}`, fn);
      this.cleanups.push(() => model.off(`change:${name}`, fn));
    }
    if (typeof ResizeObserver === "function") {
      const ro = new ResizeObserver(() => this.resize());
      ro.observe(this.lanesWrap);
      this.cleanups.push(() => ro.disconnect());
    }
    root.accordPlayer = { clock: this.clock, view: this.view, step: (n) => this.step(n) };

    this.buildStreams();
    this.applyHeight();
    this.rateSelect.value = String(this.clock.state.rate);
    this.resize();
    // Start where Python says (or where the shared clock already is).
    const t = Number(model.get("time"));
    if (Number.isFinite(t) && t > 0 && Math.abs(t - this.clock.state.time) > 1e-9) this.clock.seek(t, this.fromPython);
    else this.onClock(this.clock.state, null);
    if (model.get("tiers") === true) void this.mountTiers();
  }

  // -- streams, tracks, lanes ----------------------------------------------------------
  private buildStreams(): void {
    for (const t of this.tracks) t.destroy();
    for (const l of this.lanes) l.peaks?.close();
    for (const l of this.lanes) l.spectrogram?.close();
    this.tracks = [];
    this.lanes = [];
    this.videos.replaceChildren();
    this.audios.replaceChildren();
    this.lanesHost.replaceChildren();
    const host = {
      client: this.client,
      clock: this.clock,
      report: (err: unknown) => this.report(err),
      changed: () => this.onTrackChange(),
    };
    const hasAudio = this.streams.some((s) => s.modality === "audio");
    for (const s of this.streams) {
      if (s.modality === "text" && s.duration !== null) {
        // A timed text stream (transcript): a lane for its extent and clock, no element.
        const lane = new Lane(s, TIER_HEADER_WIDTH);
        this.lanes.push(lane);
        this.lanesHost.append(lane.root);
        this.wireLane(lane);
        continue;
      }
      if (s.modality !== "video" && s.modality !== "audio") continue;
      const track = new MediaTrack(s, host);
      this.tracks.push(track);
      const lane = new Lane(s, TIER_HEADER_WIDTH);
      this.lanes.push(lane);
      this.lanesHost.append(lane.root);
      this.wireLane(lane);
      if (s.modality === "video") {
        const box = el("div", { className: "accord-player-video-box", attrs: { "data-stream": s.name } });
        Object.assign(box.style, { position: "relative", display: "flex", flexDirection: "column", alignItems: "center" });
        const label = el("span", { text: s.name, className: "accord-player-video-label" });
        Object.assign(label.style, { position: "absolute", left: "4px", top: "2px", color: "#fff", fontSize: "11px", textShadow: "0 0 2px #000" });
        track.element.style.display = "block";
        box.append(track.element, label);
        this.videos.append(box);
        if (!hasAudio && this.tracks.filter((t) => t.isVideo).length === 1) track.setMuted(false);
        this.loadFrames(track, lane);
      } else {
        this.audios.append(track.element);
        if (s.duration) {
          lane.peaks = new PeakCache(this.client, s.name, s.duration, () => this.queueDraw(), (err) => this.report(err));
          const rows = Math.round(lane.height * (globalThis.devicePixelRatio || 1));
          lane.spectrogram = new SpectrogramLane(this.client, s.name, s.duration, lane.root, lane.header, rows, () => this.queueDraw(), (err) => this.report(err));
        }
      }
    }
    this.videos.style.display = this.tracks.some((t) => t.isVideo) ? "flex" : "none";
    for (const t of this.tracks) void t.load();
    this.pickMaster();
    this.queueDraw();
  }

  private loadFrames(track: MediaTrack, lane: Lane): void {
    this.framesPending++;
    this.client
      .request<{ end: number }>("frames.times", { stream: track.stream.name })
      .then((reply) => {
        const buf = reply.buffers[0];
        if (!buf) throw new Error(`frames.times: no buffer for stream ${track.stream.name}`);
        const times = new Float64Array(buf.byteLength / 8);
        for (let i = 0; i < times.length; i++) times[i] = buf.getFloat64(i * 8, true);
        const frames = new FrameTimes(times, Number(reply.result.end));
        track.frames = frames;
        lane.frames = frames;
        if (track.shownMediaTime !== null) track.shownFrame = frames.indexAt(track.shownMediaTime);
      })
      .catch((err: unknown) => this.report(err))
      .finally(() => {
        this.framesPending--;
        this.onTrackChange();
        this.queueDraw();
      });
  }

  /** The main video: the first one that can play (its frame is `data-frame`). */
  private mainVideo(): MediaTrack | null {
    return this.tracks.find((t) => t.isVideo && !t.failed) ?? null;
  }

  /** The time source: the main video, else the first playable audio. */
  private pickMaster(): void {
    const master = this.mainVideo() ?? this.tracks.find((t) => !t.failed) ?? null;
    master?.becomeMaster();
  }

  private onTrackChange(): void {
    if (this.destroyed) return;
    const settled = this.tracks.every((t) => t.settled) && this.framesPending === 0;
    const main = this.mainVideo();
    if (settled && !this.readyOnce) {
      this.readyOnce = true;
      this.pickMaster();
      // Put every element where the clock is, now that they can seek.
      for (const t of this.tracks) t.sync(this.clock.state, true);
    }
    const shown = main?.shownFrame ?? null;
    if (shown !== null) this.root.dataset.frame = String(shown);
    else delete this.root.dataset.frame;
    this.frameLabel.textContent = shown !== null ? `frame ${shown}` : "";
    for (const t of this.tracks) {
      if (t.isVideo && t.shownFrame !== null) t.element.dataset.frame = String(t.shownFrame);
    }
    this.root.dataset.ready = settled && (main === null || shown !== null) ? "1" : "0";
  }
  private onStreamInfos(): void {
    const next = parseStreams(this.model.get("stream_infos"));
    const sameSet =
      next.length === this.streams.length &&
      next.every((s, i) => s.name === this.streams[i]?.name && s.url === this.streams[i]?.url && s.error === this.streams[i]?.error);
    this.streams = next;
    this.saved = new Map(next.map((s) => [s.name, { ...s.clock }]));
    this.clock.setStreams(next);
    if (!sameSet) {
      this.readyOnce = false;
      this.buildStreams();
    } else {
      for (const t of this.tracks) t.stream = next.find((s) => s.name === t.stream.name) ?? t.stream;
    }
    for (const [name, ed] of this.editors) ed.load(this.clock.streamClock(name));
    this.view.setDuration(this.clock.duration || 1);
    this.queueDraw();
  }

  private onStreamClock(stream: string, c: StreamClock): void {
    const ed = this.editors.get(stream);
    if (ed) ed.load(c);
    this.view.setDuration(Math.max(this.clock.duration, 1e-3));
    this.queueDraw();
  }

  // -- clock ------------------------------------------------------------------------------
  private onClock(state: ClockState, source: unknown): void {
    if (this.destroyed) return;
    const tick = source === CLOCK_TICK;
    for (const t of this.tracks) t.sync(state, !tick);
    this.root.dataset.time = state.time.toFixed(6);
    this.root.dataset.playing = state.playing ? "1" : "0";
    this.playButton.textContent = state.playing ? "⏸" : "▶";
    this.timeLabel.textContent = `${formatTime(state.time)} / ${formatTime(this.clock.duration)}`;
    this.loopButton.style.background = state.loop ? "#ffd9a0" : "";
    if (String(state.rate) !== this.rateSelect.value) this.rateSelect.value = String(state.rate);
    if (state.playing && tick) this.view.reveal(state.time);
    this.placePlayhead();
    if (!tick) this.queueDraw();
    // Python hears play/pause/seek/rate, not ticks, loop wraps or clock previews.
    const quiet = tick || source === "loop" || source === "stream-clock" || source === this.fromPython;
    if (!quiet && source !== this.clockEdit && !(source instanceof ClockEditor)) this.scheduleNotify();
  }

  /** Tell Python the time on pause/seek (one message after things settle). */
  private scheduleNotify(): void {
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      const s = this.clock.state;
      const next = { time: s.time, playing: s.playing, rate: s.rate };
      const last = this.lastSent;
      if (last && last.time === next.time && last.playing === next.playing && last.rate === next.rate) return;
      this.lastSent = next;
      this.model.set("time", s.time);
      this.model.set("playing", s.playing);
      this.model.set("rate", s.rate);
      this.model.save_changes();
    }, NOTIFY_DELAY_MS);
  }

  private onPythonTime(): void {
    const t = Number(this.model.get("time"));
    if (!Number.isFinite(t)) return;
    this.lastSent = { time: t, playing: this.clock.state.playing, rate: this.clock.state.rate };
    if (Math.abs(t - this.clock.state.time) > 1e-9) this.clock.seek(t, this.fromPython);
  }

  private onPythonPlaying(): void {
    const p = this.model.get("playing") === true;
    if (p && !this.clock.state.playing) this.clock.play(this.fromPython);
    else if (!p && this.clock.state.playing) this.clock.pause(this.fromPython);
  }

  private onPythonRate(): void {
    const r = Number(this.model.get("rate"));
    if (r > 0 && r !== this.clock.state.rate) this.clock.setRate(r, this.fromPython);
  }

  private togglePlay(): void {
    if (this.clock.state.playing) this.clock.pause(this.me);
    else this.clock.play(this.me);
  }

  /** Step `n` frames of the main video (exact: seek to the frame's centre in stream time). */
  step(n: number): void {
    const main = this.mainVideo();
    if (this.clock.state.playing) this.clock.pause(this.me);
    if (!main?.frames) {
      this.clock.seek(this.clock.state.time + n * FALLBACK_STEP, this.me);
      return;
    }
    const c = this.clock.streamClock(main.stream.name);
    const current = main.frames.indexAt(toStreamTime(c, this.clock.state.time));
    const target = main.frames.clamp(current + n);
    this.clock.seek(toItemTime(c, main.frames.centreOf(target)), this.me);
  }

  private jump(text: string): void {
    const trimmed = text.trim();
    const main = this.mainVideo();
    if (trimmed.startsWith("#") && main?.frames) {
      const n = Number(trimmed.slice(1));
      if (Number.isInteger(n)) {
        const c = this.clock.streamClock(main.stream.name);
        this.clock.seek(toItemTime(c, main.frames.centreOf(n)), this.me);
        return;
      }
    }
    const t = parseTime(trimmed);
    if (t === null) {
      this.report(Object.assign(new Error(`"${trimmed}" is not a time (m:ss.sss, seconds, or #frame)`), { error: "ValueError", where: "jump to" }));
      return;
    }
    this.clock.seek(t, this.me);
  }

  private toggleLoop(): void {
    if (this.clock.state.loop) {
      this.clock.setLoop(null, this.me);
      return;
    }
    const a = this.view.start;
    const b = Math.min(this.view.xToTime(this.view.width), this.clock.duration || Infinity);
    if (b > a) this.clock.setLoop([a, b], this.me);
  }

  private toggleMute(): void {
    const anyOn = this.tracks.some((t) => !t.element.muted);
    if (anyOn) {
      this.mutedBefore = this.tracks.filter((t) => !t.element.muted);
      for (const t of this.tracks) t.setMuted(true);
      this.muteButton.textContent = "♪̸";
    } else {
      for (const t of this.mutedBefore.length ? this.mutedBefore : this.tracks.filter((t) => !t.isVideo)) t.setMuted(false);
      this.muteButton.textContent = "♪";
    }
  }

  // -- input --------------------------------------------------------------------------------
  private onKey(e: KeyboardEvent): void {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement) return;
    if (this.tiers?.onKey(e)) {
      e.stopPropagation();
      return;
    }
    let done = true;
    switch (e.key) {
      case " ":
        this.togglePlay();
        break;
      case "ArrowLeft":
        if (e.shiftKey) this.clock.seek(this.clock.state.time - 1, this.me);
        else this.step(-1);
        break;
      case "ArrowRight":
        if (e.shiftKey) this.clock.seek(this.clock.state.time + 1, this.me);
        else this.step(1);
        break;
      case "Home":
        this.clock.seek(0, this.me);
        break;
      case "End":
        this.clock.seek(this.clock.duration, this.me);
        break;
      case "+":
      case "=":
        this.view.zoom(1.6, this.clock.state.time);
        break;
      case "-":
        this.view.zoom(1 / 1.6, this.clock.state.time);
        break;
      case "S": {
        // every audio lane: all to the spectrogram, or all back to the waveform
        const specs = this.lanes.flatMap((l) => (l.spectrogram ? [l.spectrogram] : []));
        const on = specs.some((sp) => !sp.on);
        for (const sp of specs) sp.toggle(on);
        break;
      }
      default:
        done = false;
    }
    if (done) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  private laneX(e: MouseEvent): number {
    const r = this.lanesWrap.getBoundingClientRect();
    return e.clientX - r.left - TIER_HEADER_WIDTH;
  }

  private onWheel(e: WheelEvent): void {
    const x = this.laneX(e);
    if (x < 0) return;
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      this.view.zoom(Math.exp(-e.deltaY * 0.002), this.view.xToTime(x));
    } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      e.preventDefault();
      const dx = e.shiftKey ? e.deltaY || e.deltaX : e.deltaX;
      this.view.scrollTo(this.view.start + dx * this.view.secondsPerPixel);
    }
  }

  private wireRuler(on: (t: EventTarget, type: string, fn: (e: Event) => void) => void): void {
    let mode: "seek" | "loop" | null = null;
    let anchor = 0;
    on(this.ruler, "pointerdown", (ev) => {
      const e = ev as PointerEvent;
      this.root.focus({ preventScroll: true });
      const t = this.view.xToTime(this.laneX(e));
      this.ruler.setPointerCapture?.(e.pointerId);
      if (e.shiftKey) {
        mode = "loop";
        anchor = t;
      } else {
        mode = "seek";
        this.clock.seek(t, this.me);
      }
      e.preventDefault();
    });
    on(this.ruler, "pointermove", (ev) => {
      const e = ev as PointerEvent;
      if (!mode) return;
      const t = this.view.xToTime(this.laneX(e));
      if (mode === "seek") this.clock.seek(t, this.me);
      else if (Math.abs(t - anchor) > this.view.secondsPerPixel * 3) this.clock.setLoop([Math.min(t, anchor), Math.max(t, anchor)], this.me);
    });
    const end = (): void => {
      mode = null;
    };
    on(this.ruler, "pointerup", end);
    on(this.ruler, "pointercancel", end);
  }

  private wireLane(lane: Lane): void {
    const name = lane.stream.name;
    lane.clockButton.addEventListener("click", () => this.toggleEditor(name));
    let drag: { x: number; offset: number; editing: boolean } | null = null;
    lane.canvas.addEventListener("pointerdown", (e) => {
      this.root.focus({ preventScroll: true });
      const editing = this.editors.has(name);
      drag = { x: e.clientX, offset: this.clock.streamClock(name).offset, editing };
      lane.canvas.setPointerCapture?.(e.pointerId);
      if (!editing) this.clock.seek(this.view.xToTime(this.laneX(e)), this.me);
      e.preventDefault();
    });
    lane.canvas.addEventListener("pointermove", (e) => {
      if (!drag) return;
      if (drag.editing) {
        const c = this.clock.streamClock(name);
        const offset = drag.offset + (e.clientX - drag.x) * this.view.secondsPerPixel;
        this.clock.setStreamClock(name, { offset: Math.round(offset * 1e4) / 1e4, rate: c.rate }, this.clockEdit);
      } else this.clock.seek(this.view.xToTime(this.laneX(e)), this.me);
    });
    const end = (): void => {
      drag = null;
    };
    lane.canvas.addEventListener("pointerup", end);
    lane.canvas.addEventListener("pointercancel", end);
    lane.canvas.style.cursor = "pointer";
  }

  private toggleEditor(stream: string): void {
    const open = this.editors.get(stream);
    if (open) {
      open.root.remove();
      this.editors.delete(stream);
      this.laneCursor(stream, false);
      return;
    }
    const ed = new ClockEditor(
      stream,
      {
        clock: this.clock,
        saved: (s) => this.saved.get(s) ?? { offset: 0, rate: 1 },
        save: (s, c) => this.saveClock(s, c),
        report: (err) => this.report(err),
      },
      () => this.toggleEditor(stream),
    );
    this.editors.set(stream, ed);
    this.editorsHost.append(ed.root);
    this.laneCursor(stream, true);
  }

  private laneCursor(stream: string, editing: boolean): void {
    const lane = this.lanes.find((l) => l.stream.name === stream);
    if (lane) {
      lane.canvas.style.cursor = editing ? "ew-resize" : "pointer";
      lane.canvas.title = editing ? "Drag to shift this stream's offset (preview; Save to keep)" : "";
    }
  }

  private async saveClock(stream: string, c: StreamClock): Promise<void> {
    await this.client.request("stream.clock", {
      item: String(this.model.get("item")),
      stream,
      offset: c.offset,
      rate: c.rate,
    });
    // The kernel pushes the new stream_infos; until then the preview is what was saved.
    this.saved.set(stream, { ...c });
  }

  // -- tiers ----------------------------------------------------------------------------------
  private async mountTiers(): Promise<void> {
    const ctx: TierContext = {
      client: this.client,
      clock: this.clock,
      view: this.view,
      item: String(this.model.get("item") ?? ""),
      annotator: String(this.model.get("annotator") ?? ""),
      streams: this.streams,
      classes: parseClasses(this.model.get("classes")),
      showOthers: this.model.get("show_others") !== false,
      busKey: String(this.model.get("bus_key") ?? ""),
      onError: (err: unknown) => this.report(err),
    };
    try {
      const part = await mountTiers(this.tiersHost, ctx);
      if (this.destroyed) part.destroy();
      else this.tiers = part;
    } catch (err) {
      this.report(err);
    }
  }

  // -- drawing --------------------------------------------------------------------------------
  private applyHeight(): void {
    const h = Number(this.model.get("height"));
    const px = h > 40 ? h : 360;
    for (const t of this.tracks) if (t.isVideo) (t.element as HTMLVideoElement).style.height = `${px}px`;
    for (const t of this.tracks) if (t.isVideo) (t.element as HTMLVideoElement).style.maxWidth = "100%";
  }

  private resize(): void {
    const w = Math.max(100, this.lanesWrap.clientWidth - TIER_HEADER_WIDTH);
    this.view.setWidth(w);
    this.queueDraw();
  }

  private placePlayhead(): void {
    const x = this.view.timeToX(this.clock.state.time);
    const visible = x >= 0 && x <= this.view.width;
    this.playhead.style.display = visible ? "block" : "none";
    this.playhead.style.left = `${TIER_HEADER_WIDTH + x}px`;
  }

  private queueDraw(): void {
    if (this.drawQueued || this.destroyed) return;
    this.drawQueued = true;
    const raf = globalThis.requestAnimationFrame ?? ((cb: FrameRequestCallback) => setTimeout(() => cb(0), 16));
    raf(() => {
      this.drawQueued = false;
      if (!this.destroyed) this.draw();
    });
  }

  private draw(): void {
    const v = this.view;
    drawRuler(this.ruler, v, this.clock.state.loop, this.clock.duration);
    for (const lane of this.lanes) {
      const c = this.clock.streamClock(lane.stream.name);
      const saved = this.saved.get(lane.stream.name);
      const preview = !!saved && (saved.offset !== c.offset || saved.rate !== c.rate);
      if (lane.peaks) {
        const s0 = toStreamTime(c, v.start);
        const s1 = toStreamTime(c, v.xToTime(v.width));
        lane.peaks.want(v.secondsPerPixel / c.rate, Math.max(0, s0), Math.max(0, s1));
      }
      lane.spectrogram?.want(v, c);
      lane.draw(v, c, preview);
    }
    this.placePlayhead();
    if (this.ruler.width === 0) fitCanvas(this.ruler, v.width, RULER_HEIGHT);
  }

  report(err: unknown): void {
    if (this.destroyed) return;
    console.warn("accord player:", err);
    showError(this.root, err);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    for (const off of this.cleanups.splice(0)) off();
    this.tiers?.destroy();
    this.tiers = null;
    for (const t of this.tracks) t.destroy();
    for (const l of this.lanes) l.peaks?.close();
    for (const l of this.lanes) l.spectrogram?.close();
    this.client.close();
    delete this.root.accordPlayer;
  }
}
