/**
 * One RegionCanvas view: wires the model (traits and custom messages), the
 * page state, the tools, the renderer and the DOM together.
 *
 * Data flow: traits say what to show; `frame.get` + `annotations.query`
 * load it; `event` pushes patch it; gestures become commands; nothing is
 * stored here that Python does not hold, except previews of edits in flight.
 */

import { getBus, type Bus } from "../../runtime/bus.js";
import { CLOCK_TICK, getSharedClock, toStreamTime } from "../../runtime/clock.js";
import { showError, type ErrorBanner } from "../../runtime/errors.js";
import { ViewTransform, type Point, type Size } from "../../runtime/geometry.js";
import { hoverRef, LinkModeController, type LocalEnd } from "../../runtime/linkmode.js";
import { el as element } from "../../runtime/text.js";
import { ClientClosed, CommandClient, type MessageModel } from "../../runtime/protocol.js";
import { buildGroups, drawScene, type DrawGroup, type Highlight, type Scene } from "./draw.js";
import { EditQueue, type EditFields } from "./edits.js";
import { Interaction } from "./interaction.js";
import type { KeyAction } from "./keys.js";
import { FrameLoader, type LoadResult } from "./loader.js";
import { ProjectionOverlay } from "./overlay.js";
import { renderPanel } from "./panel.js";
import {
  applyEvents,
  EMPTY_STATE,
  isEditable,
  isVisible,
  parseAnnotators,
  sameAnnotators,
  type CanvasState,
  type Scope,
} from "./state.js";
import { injectStyle } from "./style.js";
import { Chrome, type Action } from "./toolbar.js";
import { ROTATE_STEP, ROTATE_STEP_FINE, pick, rotateBy, type Pickable } from "./tools.js";
import {
  geometryValue,
  isTool,
  parseClasses,
  type AnnotationRecord,
  type ClassSpec,
  type Kind,
  type Shape,
  type Tool,
} from "./types.js";

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

/** Render statistics for the benchmark hook. */
export interface CanvasStats {
  /** Duration of each canvas draw, ms. */
  frames: number[];
  /** Round trip of each edit command (page → Session → reply), ms. */
  commands: { type: string; ms: number; ok: boolean; at: number }[];
}

/** The root element with the benchmark hooks attached. */
export interface StatsElement extends HTMLElement {
  accordStats?: () => CanvasStats;
  accordResetStats?: () => void;
  /** Round trip of a no-op query to the kernel, ms (the transport baseline). */
  accordPing?: () => Promise<number>;
}

/** Zoom limits relative to the fitted scale, and in absolute scale. */
const MIN_ZOOM_OF_FIT = 0.2;
const MAX_ZOOM = 64;
const FIT_PADDING = 6;
const MAX_STATS = 20_000;
const DEFAULT_WIDTH = 640;
const DEFAULT_HEIGHT = 480;

const raf: (cb: () => void) => number =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16) as unknown as number;
const cancelRaf: (id: number) => void =
  typeof cancelAnimationFrame === "function" ? (id) => cancelAnimationFrame(id) : (id) => clearTimeout(id);

const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : fallback;
}

function strOrNull(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function intOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : null;
}

/** An error made in the page (not by Python), shown in the same banner. */
function pageError(name: string, message: string): Error {
  return Object.assign(new Error(message), { error: name });
}

export class RegionCanvasView {
  private readonly abort = new AbortController();
  private readonly client: CommandClient;
  private readonly ui: Chrome;
  private readonly ctx: CanvasRenderingContext2D | null;
  private readonly edits: EditQueue;
  private readonly loader: FrameLoader;
  private readonly cleanups: (() => void)[] = [];
  private readonly stats: CanvasStats = { frames: [], commands: [] };
  private readonly me = Symbol("region-canvas-view");
  private closed = false;

  // Traits, mirrored.
  private item = "";
  private stream = "";
  private modality = "image";
  private frameCount: number | null = null;
  private imageSize: Size = { width: 1, height: 1 };
  private classes: ClassSpec[] = [];
  private classMap = new Map<string, ClassSpec>();
  private label = "";
  private tool: Tool = "select";
  private showOthers = true;
  /** Only these annotators' records are shown (empty: everyone). */
  private annotators: string[] = [];
  private annotator = "";
  private heightPx = DEFAULT_HEIGHT;

  // Data on screen.
  private state: CanvasState = EMPTY_STATE;
  private scope: Scope = { item: "", stream: "", frame: null };
  private image: ImageBitmap | null = null;
  private shownFrame: number | null = null;
  private ready = false;
  private imageSizeKnown = false;

  // View.
  private view = ViewTransform.identity;
  private autoFit = true;
  private cssW = DEFAULT_WIDTH;
  private cssH = DEFAULT_HEIGHT;
  private dpr = 1;

  // Interaction.
  private selectedId: string | null = null;
  /** An id Python put in `selected` that is not shown yet (other frame, filtered, loading). */
  private pendingSelect: string | null = null;
  private hoverId: string | null = null;
  private busHoverId: string | null = null;
  private readonly input: Interaction;
  /** Projected cuboids (read-only overlay, overlay.ts). */
  private overlay: ProjectionOverlay | null = null;
  private hint = "";
  private banner: ErrorBanner | null = null;
  private pendingAdds = new Map<number, { highlight: Highlight; id: string | null; timer: ReturnType<typeof setTimeout> | null }>();
  private addToken = 0;
  /** A new annotation to select once its event brings the record. */
  private selectOnArrival: string | null = null;

  // Caches rebuilt when records / classes / visibility change, not per frame.
  private cacheFor: unknown[] = [];
  private groups: DrawGroup[] = [];
  private editables: Pickable[] = [];
  private visibles: Pickable[] = [];
  private readonly skip = new Set<string>();
  private readonly overrides: Highlight[] = [];
  private rafId = 0;
  private bus: Bus<{ hover: unknown; select: unknown }> | null = null;
  /** Link mode across the item's widgets (runtime/linkmode.ts). */
  private link: LinkModeController | null = null;
  private busOff: (() => void)[] = [];
  private panelKey = "";

  constructor(
    private readonly model: WidgetModel,
    private readonly el: StatsElement,
  ) {
    injectStyle(el.ownerDocument);
    this.client = new CommandClient(model, { signal: this.abort.signal });
    this.edits = new EditQueue({
      revisionOf: (id) => {
        const rec = this.state.records.get(id);
        return rec ? rec.revision : undefined;
      },
      send: (id, revision, fields) => this.sendUpdate(id, revision, fields),
      changed: () => this.refresh(),
    });
    this.loader = new FrameLoader({
      request: (type, payload) => this.client.request(type, payload),
      wanted: () => this.wantedScope(),
      started: () => this.loadStarted(),
      commit: (r) => this.commitLoad(r),
      report: (err) => this.report(err),
      decode: decodeImage,
    });
    this.ui = new Chrome(el, {
      tool: (t) => {
        this.setTool(t);
        this.focusCanvas();
      },
      label: (name) => {
        this.chooseLabel(name);
        this.focusCanvas();
      },
      action: (a) => {
        this.runAction(a);
        if (a !== "help") this.focusCanvas();
      },
      frame: (n) => this.goToFrame(n),
      frameStep: (d) => this.goToFrame((this.traitFrame() ?? 0) + d),
    });
    const canvas = this.ui.canvas;
    let ctx: CanvasRenderingContext2D | null = null;
    try {
      ctx = canvas.getContext("2d");
    } catch {
      ctx = null; // jsdom without the canvas package
    }
    this.ctx = ctx;

    el.accordStats = () => ({ frames: [...this.stats.frames], commands: [...this.stats.commands] });
    el.accordPing = async () => {
      const t0 = now();
      await this.client.request("ping", {});
      return now() - t0;
    };
    el.accordResetStats = () => {
      this.stats.frames.length = 0;
      this.stats.commands.length = 0;
    };
    this.registerGlobalStats();

    this.readTraits();
    this.bindModel();
    this.input = new Interaction(canvas, {
      view: () => this.view,
      imageSize: () => this.imageSize,
      tool: () => this.tool,
      classes: () => this.classes,
      video: () => this.video,
      editables: () => {
        this.ensureCaches();
        return this.editables;
      },
      visibles: () => this.visibleList(),
      selected: () => this.selectedPickable(),
      select: (id) => this.select(id),
      setHover: (id) => this.setHover(id),
      setView: (v) => {
        this.view = v;
        this.autoFit = false;
      },
      zoomAt: (at, factor) => this.zoomAt(at, factor),
      canDraw: (kind) => this.canDraw(kind),
      keypointNames: () => this.classMap.get(this.label)?.keypoints ?? [],
      add: (shape) => void this.addShape(shape),
      edit: (id, shape) => this.edits.submit(id, { geometry: shape }),
      refuse: (name, message) => this.report(pageError(name, message)),
      hint: (text) => this.flashHint(text),
      perform: (action) => this.perform(action),
      changed: () => this.refresh(),
    });
    this.cleanups.push(() => this.input.dispose());
    this.observeSize();
    this.overlay = new ProjectionOverlay(
      {
        request: (type, payload) => this.client.request(type, payload),
        colourOf: (label) => this.classMap.get(label)?.color ?? "#808080",
        shapeOf: (id) => this.state.records.get(id)?.shape ?? null,
        changed: () => this.refresh(),
      },
      el,
    );
    this.subscribeBus();
    this.mountLinkMode();
    this.ui.setClasses(this.classes);
    this.ui.setShowOthers(this.showOthers);
    this.ui.lockOthers(this.model.get("hide_others") === true);
    this.ui.setFilter(this.annotators);
    this.syncToolbar();
    this.renderSide(true);
    this.refresh();
    this.reload();
  }

  // -- lifecycle ------------------------------------------------------------------

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.loader.close();
    this.overlay?.close();
    this.link?.destroy();
    this.edits.close();
    for (const p of this.pendingAdds.values()) if (p.timer) clearTimeout(p.timer);
    this.pendingAdds.clear();
    for (const off of this.cleanups.splice(0)) off();
    for (const off of this.busOff.splice(0)) off();
    if (this.rafId) cancelRaf(this.rafId);
    if (this.hintTimer) clearTimeout(this.hintTimer);
    this.image?.close?.();
    this.image = null;
    delete this.el.accordStats;
    delete this.el.accordResetStats;
    delete this.el.accordPing;
    for (const key of ["ready", "count", "selected", "zoom", "panX", "panY", "frame"]) delete this.el.dataset[key];
    this.ui.detach();
    const g = globalThis as { __accord_canvas_stats?: Record<string, CanvasStats> };
    const id = this.modelId();
    if (id && g.__accord_canvas_stats?.[id] === this.stats) delete g.__accord_canvas_stats[id];
  }

  /** Give the keyboard back to the canvas after a toolbar click (shortcuts need its focus). */
  private focusCanvas(): void {
    try {
      this.ui.canvas.focus({ preventScroll: true });
    } catch {
      // not focusable (detached)
    }
  }

  private modelId(): string | null {
    const id = (this.model as { model_id?: unknown }).model_id;
    return typeof id === "string" ? id : null;
  }

  private registerGlobalStats(): void {
    const id = this.modelId();
    if (!id) return;
    const g = globalThis as { __accord_canvas_stats?: Record<string, CanvasStats> };
    g.__accord_canvas_stats ??= {};
    g.__accord_canvas_stats[id] = this.stats;
  }

  // -- traits ---------------------------------------------------------------------

  private readTraits(): void {
    const m = this.model;
    this.item = str(m.get("item"));
    this.stream = str(m.get("stream"));
    this.modality = str(m.get("modality"), "image");
    this.frameCount = intOrNull(m.get("frame_count"));
    const size = m.get("image_size");
    if (Array.isArray(size) && Number(size[0]) > 0 && Number(size[1]) > 0) {
      this.imageSize = { width: Number(size[0]), height: Number(size[1]) };
      this.imageSizeKnown = true;
    }
    this.setClassesFrom(m.get("classes"));
    this.label = str(m.get("label"));
    const tool = m.get("tool");
    this.tool = isTool(tool) ? tool : "select";
    this.showOthers = m.get("show_others") !== false;
    this.annotators = parseAnnotators(m.get("annotators"));
    this.pendingSelect = strOrNull(m.get("selected"));
    this.annotator = str(m.get("annotator"));
    const h = intOrNull(m.get("height"));
    this.heightPx = h !== null && h > 50 ? h : DEFAULT_HEIGHT;
    this.cssH = this.heightPx;
    this.ui.canvas.style.height = `${this.heightPx}px`;
  }

  private setClassesFrom(raw: unknown): void {
    this.classes = parseClasses(raw);
    this.classMap = new Map(this.classes.map((c) => [c.name, c]));
  }

  private traitFrame(): number | null {
    return intOrNull(this.model.get("frame"));
  }

  private get video(): boolean {
    return this.modality === "video" || this.traitFrame() !== null;
  }

  private bindModel(): void {
    const on = (name: string, fn: () => void): void => {
      const handler = (): void => {
        if (!this.closed) fn();
      };
      this.model.on(`change:${name}`, handler);
      this.cleanups.push(() => this.model.off(`change:${name}`, handler));
    };
    on("frame", () => this.reloadIfNeeded());
    on("item", () => {
      this.item = str(this.model.get("item"));
      this.reload();
    });
    on("stream", () => {
      this.stream = str(this.model.get("stream"));
      this.reload();
    });
    on("modality", () => {
      this.modality = str(this.model.get("modality"), "image");
      this.refresh();
    });
    on("frame_count", () => {
      this.frameCount = intOrNull(this.model.get("frame_count"));
      this.refresh();
    });
    on("image_size", () => {
      const size = this.model.get("image_size");
      if (Array.isArray(size) && Number(size[0]) > 0 && Number(size[1]) > 0) {
        this.setImageSize({ width: Number(size[0]), height: Number(size[1]) });
      }
    });
    on("classes", () => {
      this.setClassesFrom(this.model.get("classes"));
      this.ui.setClasses(this.classes);
      this.input.cancelDrafts();
      this.syncToolbar();
      this.renderSide(true);
      this.refresh();
    });
    on("label", () => {
      const label = str(this.model.get("label"));
      if (label !== this.label) {
        this.label = label;
        if (this.input.drafting) this.input.cancelKeypoints();
      }
      this.syncToolbar();
      this.renderSide(false);
      this.refresh();
    });
    on("tool", () => {
      const tool = this.model.get("tool");
      if (isTool(tool) && tool !== this.tool) {
        this.tool = tool;
        this.input.cancelDrafts();
      }
      this.syncToolbar();
      this.refresh();
    });
    on("show_others", () => {
      this.showOthers = this.model.get("show_others") !== false;
      this.ui.setShowOthers(this.showOthers);
      this.visibilityChanged();
    });
    on("annotators", () => {
      const next = parseAnnotators(this.model.get("annotators"));
      if (sameAnnotators(next, this.annotators)) return;
      this.setAnnotators(next);
    });
    on("selected", () => this.followSelectedTrait());
    on("annotator", () => {
      this.annotator = str(this.model.get("annotator"));
      this.renderSide(true);
      this.refresh();
    });
    on("bus_key", () => this.subscribeBus());
    on("height", () => {
      const h = intOrNull(this.model.get("height"));
      this.heightPx = h !== null && h > 50 ? h : DEFAULT_HEIGHT;
      this.ui.canvas.style.height = `${this.heightPx}px`;
      this.resize();
    });

    this.cleanups.push(this.client.onMessage("event", (msg) => this.onEvent(msg)));
  }

  private setTrait(name: string, value: unknown): void {
    this.model.set(name, value);
    this.model.save_changes();
  }

  // -- loading --------------------------------------------------------------------

  private wantedScope(): Scope {
    return { item: this.item, stream: this.stream, frame: this.traitFrame() };
  }

  private reload(): void {
    this.loader.reload();
  }

  private reloadIfNeeded(): void {
    this.loader.reloadIfNeeded(this.wantedScope(), this.ready ? this.scope : null);
  }

  private loadStarted(): void {
    this.ready = false;
    this.refreshHooks();
  }

  /** Show what a load brought: records and image together. */
  private commitLoad(r: LoadResult): void {
    const frameChanged = r.frame !== this.shownFrame;
    if (r.state) {
      this.state = { ...r.state, version: this.state.version + 1 };
      this.scope = r.scope;
      this.edits.clear();
    }
    if (r.image) {
      this.image?.close?.();
      this.image = r.image.bitmap;
      if (r.image.width > 0 && r.image.height > 0) this.setImageSize({ width: r.image.width, height: r.image.height });
    }
    if (r.state || r.image) this.shownFrame = r.frame;
    if (r.state) this.overlay?.load(r.frame);
    if (frameChanged) {
      this.input.cancelDrafts();
      // Shapes still waiting for their reply belong to the old frame.
      for (const token of [...this.pendingAdds.keys()]) this.dropPendingAdd(token);
      this.selectOnArrival = null;
    }
    this.dropHiddenSelection();
    this.resolvePendingSelect();
    this.ready = r.state !== null && r.image !== null;
    this.renderSide(true);
    this.refresh();
  }

  private setImageSize(size: Size): void {
    const changed = size.width !== this.imageSize.width || size.height !== this.imageSize.height;
    this.imageSize = size;
    if (changed || !this.imageSizeKnown || this.autoFit) {
      this.imageSizeKnown = true;
      this.fit();
    }
  }

  // -- events and replies -----------------------------------------------------------

  private onEvent(msg: unknown): void {
    this.loader.patchIncoming(msg);
    this.overlay?.onEvent(msg);
    const next = applyEvents(this.state, msg, this.scope);
    if (next === this.state) return;
    this.state = next;
    this.edits.recordsChanged();
    for (const [token, p] of this.pendingAdds) {
      if (p.id !== null && this.state.records.has(p.id)) this.dropPendingAdd(token);
    }
    if (this.selectOnArrival !== null && this.state.records.has(this.selectOnArrival)) {
      const id = this.selectOnArrival;
      this.selectOnArrival = null;
      this.select(id);
    }
    this.dropHiddenSelection();
    this.resolvePendingSelect();
    if (this.hoverId && !this.state.records.has(this.hoverId)) this.hoverId = null;
    this.renderSide(false);
    this.refresh();
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof ClientClosed) return;
    this.banner?.dismiss();
    this.banner = showError(this.ui.alerts, err);
  }

  private async command(type: string, payload: Record<string, unknown>): Promise<unknown> {
    const t0 = now();
    const log = this.stats.commands;
    if (log.length >= MAX_STATS) log.splice(0, log.length - MAX_STATS + 1);
    try {
      const reply = await this.client.request(type, payload);
      log.push({ type, ms: now() - t0, ok: true, at: performance.timeOrigin + t0 });
      return reply.result ?? {};
    } catch (err) {
      log.push({ type, ms: now() - t0, ok: false, at: performance.timeOrigin + t0 });
      this.report(err);
      return null;
    }
  }

  private async sendUpdate(id: string, revision: number | null, fields: EditFields): Promise<boolean> {
    const payload: Record<string, unknown> = { id, revision };
    if (fields.geometry) payload.geometry = geometryValue(fields.geometry);
    if (fields.label !== undefined) payload.label = fields.label;
    if (fields.attributes !== undefined) payload.attributes = fields.attributes;
    return (await this.command("annotation.update", payload)) !== null;
  }

  private async addShape(shape: Shape): Promise<void> {
    const spec = this.classMap.get(this.label);
    const token = ++this.addToken;
    this.pendingAdds.set(token, {
      highlight: { shape, color: spec?.color ?? "#808080", tag: this.label, dashed: true },
      id: null,
      timer: null,
    });
    this.refresh();
    const result = (await this.command("annotation.add", {
      item: this.item,
      stream: this.stream,
      label: this.label,
      kind: shape.kind,
      geometry: geometryValue(shape),
      frame: this.scope.frame,
    })) as { ids?: unknown } | null;
    const pending = this.pendingAdds.get(token);
    if (!pending) return;
    const ids = Array.isArray(result?.ids) ? result.ids : [];
    const id = typeof ids[0] === "string" ? ids[0] : null;
    if (result === null || id === null || this.state.records.has(id)) {
      this.dropPendingAdd(token);
    } else {
      // The reply came before its event: keep the shape up until the record arrives.
      pending.id = id;
      pending.timer = setTimeout(() => this.dropPendingAdd(token), 1500);
    }
    // A new rotated box is selected so it can be turned at once (its handle, [ / ]). Other
    // shapes are not: picking the class for the next shape must not relabel the last one.
    if (id !== null && shape.kind === "rotated_box") {
      if (this.state.records.has(id)) this.select(id);
      else this.selectOnArrival = id;
    }
    this.refresh();
  }

  private dropPendingAdd(token: number): void {
    const p = this.pendingAdds.get(token);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    this.pendingAdds.delete(token);
    this.refresh();
  }

  private deleteSelected(): void {
    const rec = this.selectedRecord();
    if (!rec || !isEditable(rec, this.annotator)) return;
    this.select(null);
    void this.command("annotation.delete", { id: rec.id, revision: rec.revision });
  }

  // -- selection, hover, bus -------------------------------------------------------

  private selectedRecord(): AnnotationRecord | null {
    return this.selectedId === null ? null : (this.state.records.get(this.selectedId) ?? null);
  }

  /** The selection, when this view may edit it, with the shape it shows now. */
  private selectedPickable(): Pickable | null {
    const rec = this.selectedRecord();
    if (!rec || !isEditable(rec, this.annotator) || !this.isShown(rec)) return null;
    const shape = this.shapeOf(rec.id);
    return shape ? { id: rec.id, shape } : null;
  }

  private isShown(rec: AnnotationRecord): boolean {
    return isVisible(rec, this.annotator, this.showOthers, this.annotators);
  }

  /**
   * Select `id` (null: nothing). `publish` tells the other views on the bus;
   * `write` puts it in the `selected` trait — false only when the change
   * comes from that trait, so Python's value is never echoed back.
   */
  private select(id: string | null, publish = true, write = true): void {
    if (write) this.pendingSelect = null;
    if (id === this.selectedId) return;
    this.selectedId = id;
    if (publish) this.bus?.publish("select", this.busRef(id), this.me);
    if (write && strOrNull(this.model.get("selected")) !== id) this.setTrait("selected", id);
    this.renderSide(true);
    this.refresh();
  }

  /**
   * Python changed `selected` (or it is this view's own write coming back):
   * select it when it is shown; otherwise keep it pending until it shows up
   * (after a frame load, an event or a filter change) and show nothing selected.
   */
  private followSelectedTrait(): void {
    const want = strOrNull(this.model.get("selected"));
    if (want === this.selectedId) {
      this.pendingSelect = null;
      return;
    }
    this.pendingSelect = want;
    this.select(null, true, false);
    this.resolvePendingSelect();
  }

  /**
   * Deselect when the selected record is gone or hidden (deleted, another
   * frame, filtered out). The trait is cleared too — unless it already holds
   * a newer value from Python whose change event has not run yet (traits set
   * together arrive together), which must not be overwritten.
   */
  private dropHiddenSelection(): void {
    if (this.selectedId === null) return;
    const sel = this.selectedRecord();
    if (sel && this.isShown(sel)) return;
    const traitHoldsIt = strOrNull(this.model.get("selected")) === this.selectedId;
    this.select(null, true, traitHoldsIt);
  }

  /** Select the pending id from Python once its record is shown. */
  private resolvePendingSelect(): void {
    const id = this.pendingSelect;
    if (id === null) return;
    const rec = this.state.records.get(id);
    if (!rec || !this.isShown(rec)) return;
    this.pendingSelect = null;
    this.select(id, true, false);
  }

  /** Show only `annotators`' records (empty: everyone). */
  private setAnnotators(annotators: string[]): void {
    this.annotators = annotators;
    this.ui.setFilter(annotators);
    this.visibilityChanged();
  }

  /** After the toggle or the filter changed: drop a selection that is now hidden. */
  private visibilityChanged(): void {
    this.dropHiddenSelection();
    this.resolvePendingSelect();
    if (this.hoverId) {
      const hover = this.state.records.get(this.hoverId);
      if (!hover || !this.isShown(hover)) this.hoverId = null;
    }
    this.refresh();
  }

  private setHover(id: string | null): void {
    if (id === this.hoverId) return;
    this.hoverId = id;
    this.bus?.publish("hover", this.busRef(id), this.me);
    this.refresh();
  }

  /** What hover/select publish: `{id, entity}` (the other views also accept a plain id). */
  private busRef(id: string | null): { id: string | null; entity: string | null } {
    return { id, entity: id === null ? null : (this.state.records.get(id)?.entity ?? null) };
  }

  /** Link mode: L / "⇢ Link" from the selection; a click on a shape picks it while the mode is on. */
  private mountLinkMode(): void {
    this.link = new LinkModeController({
      client: this.client,
      busKey: str(this.model.get("bus_key")),
      root: this.el,
      host: this.ui.alerts,
      describe: (id): LocalEnd | null => {
        const rec = this.state.records.get(id);
        return rec && rec.shape && this.isShown(rec) ? { id, kind: rec.kind, stream: this.stream, label: rec.label } : null;
      },
      selected: () => this.selectedId,
      report: (err) => this.report(err),
      changed: () => this.refresh(),
    });
    const canvas = this.ui.canvas;
    const onPick = (e: PointerEvent): void => {
      if (!this.link?.active || e.button !== 0) return;
      const r = canvas.getBoundingClientRect();
      const hit = pick(this.visibleList(), { x: e.clientX - r.left, y: e.clientY - r.top }, this.view, null);
      if (hit && this.link.pick(hit.id)) {
        e.preventDefault();
        e.stopImmediatePropagation();
      }
    };
    canvas.addEventListener("pointerdown", onPick, true);
    this.cleanups.push(() => canvas.removeEventListener("pointerdown", onPick, true));
    const button = element("button", {
      className: "accord-rc-btn",
      text: "⇢ Link",
      title: "Link the selected annotation to one in any view of this item (L)",
      attrs: { type: "button", "data-action": "link" },
    });
    button.addEventListener("click", () => {
      this.link?.start();
      this.focusCanvas();
    });
    this.el.querySelector('[data-action="help"]')?.before(button);
  }

  private subscribeBus(): void {
    for (const off of this.busOff.splice(0)) off();
    const key = str(this.model.get("bus_key"));
    this.bus = key ? getBus<{ hover: unknown; select: unknown }>(key) : null;
    this.overlay?.attach(this.bus as unknown as Parameters<ProjectionOverlay["attach"]>[0], this.me);
    if (!this.bus) return;
    if (this.video) {
      // Follow the item's shared playhead (a Player): show the frame under it on
      // pause and seek (not per tick while playing: each frame is a PNG from the kernel).
      const clock = getSharedClock(key);
      this.busOff.push(
        clock.subscribe((state, source) => {
          if (source === CLOCK_TICK || source === "loop" || state.playing) return;
          const stream = str(this.model.get("stream"));
          this.followPlayhead(toStreamTime(clock.streamClock(stream), state.time));
        }),
      );
    }
    this.busOff.push(
      getBus<{ reveal: unknown }>(key).subscribe("reveal", (v, { source }) => this.onReveal(v, source)),
      this.bus.subscribe("hover", (value, { source }) => {
        if (source === this.me) return;
        this.busHoverId = hoverRef(value).id;
        this.refresh();
      }),
      this.bus.subscribe("select", (value, { source }) => {
        if (source === this.me) return;
        const id = hoverRef(value).id;
        const rec = typeof id === "string" ? this.state.records.get(id) : undefined;
        if (id === null) this.select(null, false);
        else if (rec && this.isShown(rec) && isEditable(rec, this.annotator)) this.select(rec.id, false);
        else {
          this.busHoverId = typeof id === "string" ? id : null;
          this.refresh();
        }
      }),
    );
  }

  /** The entity panel's "go to" (`reveal`): same stream → that frame, the annotation selected. */
  private onReveal(value: unknown, source: unknown): void {
    if (source === this.me || typeof value !== "object" || value === null) return;
    const r = value as { id?: unknown; stream?: unknown; frame?: unknown };
    if (typeof r.id !== "string" || r.stream !== this.stream) return;
    this.followGen++; // a playhead follow in flight must not move off the revealed frame
    if (typeof r.frame === "number" && this.video) this.goToFrame(r.frame);
    if (strOrNull(this.model.get("selected")) !== r.id) this.setTrait("selected", r.id);
    this.followSelectedTrait(); // selects it now, or once its frame has loaded
  }

  /** Show the frame at stream time `t` (asks the kernel which frame that is). */
  private followPlayhead(t: number): void {
    const gen = ++this.followGen;
    this.client
      .request<{ frame: number }>("frame.at", { time: t })
      .then((reply) => {
        const n = reply.result.frame;
        if (gen !== this.followGen || typeof n !== "number" || n === intOrNull(this.model.get("frame"))) return;
        this.setTrait("frame", n); // change:frame loads it
      })
      .catch((err: unknown) => {
        if (!(err instanceof ClientClosed)) this.report(err);
      });
  }
  private followGen = 0;

  // -- labels, tools, actions ------------------------------------------------------

  private allows(name: string, kind: Kind): boolean {
    const c = this.classMap.get(name);
    return !!c && (c.geometries.length === 0 || c.geometries.includes(kind));
  }

  private toolAvailable(tool: Tool): boolean {
    if (tool === "select" || this.classes.length === 0) return true;
    return this.classes.some((c) => c.geometries.length === 0 || c.geometries.includes(tool));
  }

  private syncToolbar(): void {
    this.ui.setTool(this.tool, (t) => this.toolAvailable(t));
    const kind = this.tool === "select" ? null : this.tool;
    this.ui.setLabel(this.label, (name) => (kind === null ? true : this.allows(name, kind)));
    if (this.ui.helpVisible) this.ui.setHelp(true, this.video, this.classes);
  }

  private setTool(tool: Tool): void {
    if (tool !== this.tool) {
      this.tool = tool;
      this.input.cancelDrafts();
      this.setTrait("tool", tool);
    }
    // Picking a drawing tool with a class that cannot draw it: switch to the first class that can.
    if (tool !== "select" && this.label && !this.allows(this.label, tool)) {
      const first = this.classes.find((c) => this.allows(c.name, tool));
      if (first) this.chooseLabel(first.name, false);
    }
    this.syncToolbar();
    this.refresh();
  }

  /** Set the class for new shapes; relabel the selected annotation (if editable). */
  private chooseLabel(name: string, relabel = true): void {
    if (!this.classMap.has(name)) return;
    if (name !== this.label) {
      this.label = name;
      if (this.input.drafting) this.input.cancelKeypoints();
      this.setTrait("label", name);
    }
    const sel = this.selectedRecord();
    if (relabel && sel && isEditable(sel, this.annotator) && sel.label !== name) {
      this.edits.submit(sel.id, { label: name });
    }
    this.syncToolbar();
    this.renderSide(false);
    this.refresh();
  }

  private runAction(action: Action): void {
    switch (action) {
      case "undo":
      case "redo":
        void this.command(action, {});
        break;
      case "fit":
        this.fit();
        break;
      case "help":
        this.ui.setHelp(!this.ui.helpVisible, this.video, this.classes);
        break;
      case "toggle-others":
        this.showOthers = !this.showOthers;
        this.ui.setShowOthers(this.showOthers);
        this.setTrait("show_others", this.showOthers);
        this.visibilityChanged();
        break;
      case "all-annotators":
        if (this.annotators.length === 0) break;
        this.setAnnotators([]);
        this.setTrait("annotators", []);
        break;
    }
  }

  private goToFrame(n: number): void {
    if (!this.video) return;
    let f = Math.max(0, Math.trunc(n));
    if (this.frameCount !== null) f = Math.min(f, Math.max(0, this.frameCount - 1));
    if (f === this.traitFrame()) {
      this.ui.setFrame(f, this.frameCount);
      return;
    }
    this.setTrait("frame", f);
    // The model fires change:frame for local sets too; this covers models that do not.
    this.reloadIfNeeded();
  }

  // -- view transform ---------------------------------------------------------------

  private fitTransform(): ViewTransform {
    return ViewTransform.fit(this.imageSize, { width: this.cssW, height: this.cssH }, FIT_PADDING);
  }

  private fit(): void {
    this.view = this.fitTransform();
    this.autoFit = true;
    this.refresh();
  }

  private zoomAt(at: Point, factor: number): void {
    const fitScale = this.fitTransform().scale;
    this.view = this.view.zoomAt(at, factor, { min: Math.min(fitScale * MIN_ZOOM_OF_FIT, 1), max: MAX_ZOOM });
    this.autoFit = false;
    this.refresh();
  }

  private observeSize(): void {
    this.resize();
    if (typeof ResizeObserver === "function") {
      const ro = new ResizeObserver(() => this.resize());
      ro.observe(this.ui.stage);
      this.cleanups.push(() => ro.disconnect());
    }
    const win = this.el.ownerDocument.defaultView;
    if (win) {
      const onResize = (): void => this.resize();
      win.addEventListener("resize", onResize);
      this.cleanups.push(() => win.removeEventListener("resize", onResize));
    }
  }

  private resize(): void {
    const win = this.el.ownerDocument.defaultView;
    const w = this.ui.stage.clientWidth || DEFAULT_WIDTH;
    const h = this.heightPx;
    const dpr = win?.devicePixelRatio || 1;
    if (w === this.cssW && h === this.cssH && dpr === this.dpr && this.ui.canvas.width > 0) return;
    const oldW = this.cssW;
    const oldH = this.cssH;
    this.cssW = w;
    this.cssH = h;
    this.dpr = dpr;
    const canvas = this.ui.canvas;
    canvas.width = Math.max(1, Math.round(w * dpr));
    canvas.height = Math.max(1, Math.round(h * dpr));
    if (this.autoFit) this.view = this.fitTransform();
    // Keep the image point at the centre where it was.
    else this.view = this.view.panBy((w - oldW) / 2, (h - oldH) / 2);
    this.refresh();
  }

  // -- drawing ------------------------------------------------------------------------

  /** Update hooks and status now; draw on the next animation frame. */
  private refresh(): void {
    if (this.closed) return;
    this.refreshHooks();
    this.refreshStatus();
    this.scheduleDraw();
  }

  private scheduleDraw(): void {
    if (this.rafId || this.closed) return;
    this.rafId = raf(() => {
      this.rafId = 0;
      this.drawNow();
    });
  }

  private refreshHooks(): void {
    const d = this.el.dataset;
    const set = (key: string, value: string): void => {
      if (d[key] !== value) d[key] = value;
    };
    set("ready", String(this.ready));
    set("count", String(this.visibleList().length));
    set("selected", this.selectedId ?? "");
    set("zoom", String(this.view.scale));
    set("panX", String(this.view.tx));
    set("panY", String(this.view.ty));
    set("frame", this.shownFrame === null ? "" : String(this.shownFrame));
  }

  private refreshStatus(): void {
    const visible = this.visibleList().length;
    let hidden = 0;
    if (!this.showOthers || this.annotators.length > 0) {
      for (const rec of this.state.records.values()) if (rec.shape && !this.isShown(rec)) hidden++;
    }
    const imagePoint = this.input.cursor ? this.view.screenToImage(this.input.cursor) : null;
    this.ui.setFrame(this.video ? (this.traitFrame() ?? this.shownFrame ?? 0) : null, this.frameCount);
    this.ui.setStatus({ zoom: this.view.scale, cursor: imagePoint, count: visible, hidden, hint: this.currentHint() });
  }

  private currentHint(): string {
    if (this.hint) return this.hint;
    const draft = this.input.draftHint();
    if (draft) return draft;
    const hover = this.hoverId ? this.state.records.get(this.hoverId) : undefined;
    if (hover) return hover.annotator && !isEditable(hover, this.annotator) ? `${hover.label} · ${hover.annotator}` : hover.label;
    return "";
  }

  /** Rebuild the groups and pick lists when records, classes or visibility changed. */
  private ensureCaches(): void {
    const key = [this.state, this.classes, this.showOthers, this.annotator, this.annotators];
    if (key.every((v, i) => v === this.cacheFor[i])) return;
    this.cacheFor = key;
    const colourOf = (label: string): string => this.classMap.get(label)?.color ?? "#808080";
    this.groups = buildGroups(this.state.records.values(), colourOf, this.annotator, this.showOthers, this.annotators);
    this.editables = [];
    this.visibles = [];
    for (const rec of this.state.records.values()) {
      if (!rec.shape || !this.isShown(rec)) continue;
      const p = { id: rec.id, shape: rec.shape };
      this.visibles.push(p);
      if (isEditable(rec, this.annotator)) this.editables.push(p);
    }
  }

  private visibleList(): Pickable[] {
    this.ensureCaches();
    return this.visibles;
  }

  /** The shape to show for record `id`: drag preview, edit in flight, or stored. */
  private shapeOf(id: string): Shape | null {
    return this.input.previewOf(id) ?? this.edits.preview(id) ?? this.state.records.get(id)?.shape ?? null;
  }

  private highlightOf(id: string | null): Highlight | null {
    if (id === null) return null;
    const rec = this.state.records.get(id);
    if (!rec || !this.isShown(rec)) return null;
    const shape = this.shapeOf(id);
    if (!shape) return null;
    const own = isEditable(rec, this.annotator);
    return {
      shape,
      color: this.classMap.get(rec.label)?.color ?? "#808080",
      tag: own ? rec.label : `${rec.label} · ${rec.annotator ?? ""}`,
      dashed: !own,
    };
  }

  private drawNow(): void {
    const ctx = this.ctx;
    if (!ctx || this.closed) return;
    const dpr = this.el.ownerDocument.defaultView?.devicePixelRatio || 1;
    if (dpr !== this.dpr) this.resize();
    this.ensureCaches();

    this.skip.clear();
    this.overrides.length = 0;
    const editing = this.input.editingId;
    if (editing) this.skip.add(editing);
    if (this.selectedId) this.skip.add(this.selectedId);
    this.edits.forEachPreview((id) => {
      this.skip.add(id);
      if (id !== this.selectedId) {
        const h = this.highlightOf(id);
        if (h) this.overrides.push(h);
      }
    });
    const pending: Highlight[] = [];
    for (const p of this.pendingAdds.values()) if (p.id === null || !this.state.records.has(p.id)) pending.push(p.highlight);

    const scene: Scene = {
      width: this.cssW,
      height: this.cssH,
      dpr: this.dpr,
      view: this.view,
      image: this.image,
      imageSize: this.imageSize,
      groups: this.groups,
      skip: this.skip,
      overrides: this.overrides,
      pending,
      hover: this.highlightOf(this.hoverId ?? this.busHoverId),
      selected: this.highlightOf(this.selectedId),
      draft: this.input.draft(this.classMap.get(this.label)?.color ?? "#ffffff"),
      linked: (this.link?.lit ?? []).map((id) => this.highlightOf(id)).filter((h): h is Highlight => h !== null),
    };
    const t0 = now();
    drawScene(ctx, scene);
    this.overlay?.draw(ctx, this.view, this.dpr);
    const frames = this.stats.frames;
    if (frames.length >= MAX_STATS) frames.splice(0, frames.length - MAX_STATS + 1);
    frames.push(now() - t0);
  }

  // -- side panel -------------------------------------------------------------------

  /** Rebuild the side panel when the selection (or its record) changed; `force` always. */
  private renderSide(force: boolean): void {
    const rec = this.selectedRecord();
    const key = rec ? `${rec.id}@${rec.revision}@${rec.label}@${JSON.stringify(rec.attributes)}` : `none@${this.label}`;
    if (!force && key === this.panelKey) return;
    this.panelKey = key;
    renderPanel(
      this.ui.side,
      { record: rec, editable: rec ? isEditable(rec, this.annotator) : false, classes: this.classes, label: this.label },
      {
        attribute: (name, value) => {
          const r = this.selectedRecord();
          if (!r || !isEditable(r, this.annotator)) return;
          const attributes = { ...r.attributes, [name]: value };
          this.edits.submit(r.id, { attributes });
        },
        relabel: (name) => this.chooseLabel(name),
        delete: () => this.deleteSelected(),
      },
    );
  }

  // -- drawing tools ------------------------------------------------------------------

  /** A drawing tool may start: a class is chosen and allows the kind; else say why. */
  private canDraw(kind: Kind): boolean {
    if (!this.label || !this.classMap.has(this.label)) {
      const first = this.classes.find((c) => this.allows(c.name, kind));
      if (!first) {
        this.report(pageError("NoClassChosen", `no class of this stream allows ${kind}`));
        return false;
      }
      this.chooseLabel(first.name, false);
    }
    if (!this.allows(this.label, kind)) {
      const allowed = this.classMap.get(this.label)?.geometries.join(", ") || "none";
      this.report(pageError("GeometryNotAllowed", `class "${this.label}" does not allow ${kind} here (allowed: ${allowed})`));
      return false;
    }
    return true;
  }

  private hintTimer: ReturnType<typeof setTimeout> | null = null;

  private flashHint(text: string): void {
    this.hint = text;
    if (this.hintTimer) clearTimeout(this.hintTimer);
    this.hintTimer = setTimeout(() => {
      this.hint = "";
      this.hintTimer = null;
      this.refresh();
    }, 3000);
    this.refresh();
  }

  // -- shortcuts ------------------------------------------------------------------------

  /** Run a shortcut the input layer passed on (draft keys stay there). */
  private perform(a: KeyAction): void {
    switch (a.type) {
      case "undo":
      case "redo":
        void this.command(a.type, {});
        break;
      case "label":
        this.chooseLabel(a.name);
        break;
      case "zoom":
        this.zoomAt({ x: this.cssW / 2, y: this.cssH / 2 }, a.factor);
        break;
      case "fit":
        this.fit();
        break;
      case "frame":
        this.goToFrame((this.traitFrame() ?? 0) + a.delta);
        break;
      case "rotate": {
        const sel = this.selectedPickable();
        if (sel?.shape.kind !== "rotated_box") break;
        const step = (a.fine ? ROTATE_STEP_FINE : ROTATE_STEP) * a.direction;
        const geometry = rotateBy(sel.shape.geometry, step, this.imageSize);
        if (geometry !== sel.shape.geometry) this.edits.submit(sel.id, { geometry: { kind: "rotated_box", geometry } });
        else this.flashHint("the box cannot turn further without leaving the image");
        break;
      }
      case "delete":
        this.deleteSelected();
        break;
      case "help":
        this.ui.setHelp(!this.ui.helpVisible, this.video, this.classes);
        break;
    }
    this.refresh();
  }
}

/** Decode an encoded image buffer; null where the browser API is missing (tests). */
export async function decodeImage(buffer: DataView | undefined, mime: string): Promise<ImageBitmap | null> {
  if (!buffer || typeof createImageBitmap !== "function" || typeof Blob !== "function") return null;
  const bytes = new Uint8Array(buffer.byteLength);
  bytes.set(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  return createImageBitmap(new Blob([bytes], { type: mime || "image/png" }));
}
