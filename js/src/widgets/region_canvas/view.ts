/**
 * One RegionCanvas view: wires the model (traits and custom messages), the
 * page state, the tools, the renderer and the DOM together.
 *
 * Data flow: traits say what to show; `frame.get` + `annotations.query`
 * load it; `event` pushes patch it; gestures become commands; nothing is
 * stored here that Python does not hold, except previews of edits in flight.
 */

import { getBus, type Bus } from "../../runtime/bus.js";
import { showError, type ErrorBanner } from "../../runtime/errors.js";
import { ViewTransform, type Point, type Size } from "../../runtime/geometry.js";
import { ClientClosed, CommandClient, type MessageModel } from "../../runtime/protocol.js";
import { buildGroups, drawScene, type Draft, type DrawGroup, type Highlight, type Scene } from "./draw.js";
import { EditQueue, type EditFields } from "./edits.js";
import { keyAction, type KeyAction } from "./keys.js";
import { renderPanel } from "./panel.js";
import { applyEvents, applyQuery, EMPTY_STATE, isEditable, isVisible, type CanvasState, type Scope } from "./state.js";
import { injectStyle } from "./style.js";
import { Chrome, type Action } from "./toolbar.js";
import {
  ROTATE_STEP,
  ROTATE_STEP_FINE,
  boxFromScreenDrag,
  closePolygon,
  cursorFor,
  dragShape,
  finishKeypoints,
  hitHandle,
  newKeypointDraft,
  nextKeypointName,
  pick,
  placeKeypoint,
  polygonClick,
  removeLastVertex,
  rotateBy,
  rotatedBoxFromScreenDrag,
  shapeProblem,
  shapesEqual,
  toggleKeypointVisibility,
  type Grab,
  type KeypointDraft,
  type Pickable,
} from "./tools.js";
import {
  geometryValue,
  isTool,
  parseClasses,
  type AnnotationRecord,
  type BoxGeom,
  type ClassSpec,
  type Kind,
  type RotatedBoxGeom,
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
  frames: number[];
}

/** The root element with the benchmark hooks attached. */
export interface StatsElement extends HTMLElement {
  accordStats?: () => CanvasStats;
  accordResetStats?: () => void;
}

type Gesture =
  | { type: "pan"; pointerId: number; start: Point; startView: ViewTransform }
  | { type: "draw"; pointerId: number; kind: "box" | "rotated_box"; start: Point; now: Point }
  | {
      type: "edit";
      pointerId: number;
      id: string;
      grab: Grab;
      startScreen: Point;
      startImage: Point;
      original: Shape;
      preview: Shape;
      moved: boolean;
    };

/** Records of a frame being loaded. */
interface Incoming {
  scope: Scope;
  state: CanvasState;
}

/** Movement (screen px) under which a press on a shape is a click, not a drag. */
const CLICK_SLOP_PX = 2;
/** Zoom limits relative to the fitted scale, and in absolute scale. */
const MIN_ZOOM_OF_FIT = 0.2;
const MAX_ZOOM = 64;
const FIT_PADDING = 6;
const MAX_STATS = 20_000;
const DEFAULT_WIDTH = 640;
const DEFAULT_HEIGHT = 480;
const SNAP_ANGLE = Math.PI / 12;

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

function intOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : null;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
  private readonly cleanups: (() => void)[] = [];
  private readonly stats: CanvasStats = { frames: [] };
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
  private annotator = "";
  private heightPx = DEFAULT_HEIGHT;

  // Data on screen.
  private state: CanvasState = EMPTY_STATE;
  private scope: Scope = { item: "", stream: "", frame: null };
  /** Records of a frame being loaded, patched by events until its image arrives. */
  private incoming: Incoming | null = null;
  private image: ImageBitmap | null = null;
  private shownFrame: number | null = null;
  private ready = false;
  private wantGen = 0;
  private doneGen = 0;
  private loading = false;
  private imageSizeKnown = false;
  private loadingFrame: number | null = null;
  private loadingGen = 0;

  // View.
  private view = ViewTransform.identity;
  private autoFit = true;
  private cssW = DEFAULT_WIDTH;
  private cssH = DEFAULT_HEIGHT;
  private dpr = 1;

  // Interaction.
  private selectedId: string | null = null;
  private hoverId: string | null = null;
  private busHoverId: string | null = null;
  private gesture: Gesture | null = null;
  private polygonDraft: Point[] | null = null;
  private keypointDraft: KeypointDraft | null = null;
  private cursor: Point | null = null;
  private spaceDown = false;
  private hint = "";
  private banner: ErrorBanner | null = null;
  private pendingAdds = new Map<number, { highlight: Highlight; id: string | null; timer: ReturnType<typeof setTimeout> | null }>();
  private addToken = 0;

  // Caches rebuilt when records / classes / visibility change, not per frame.
  private cacheFor: unknown[] = [];
  private groups: DrawGroup[] = [];
  private editables: Pickable[] = [];
  private visibles: Pickable[] = [];
  private readonly skip = new Set<string>();
  private readonly overrides: Highlight[] = [];
  private rafId = 0;
  private bus: Bus<{ hover: string | null; select: string | null }> | null = null;
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
    this.ui = new Chrome({
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
    el.replaceChildren(this.ui.root);
    const canvas = this.ui.canvas;
    let ctx: CanvasRenderingContext2D | null = null;
    try {
      ctx = canvas.getContext("2d");
    } catch {
      ctx = null; // jsdom without the canvas package
    }
    this.ctx = ctx;

    el.accordStats = () => ({ frames: [...this.stats.frames] });
    el.accordResetStats = () => {
      this.stats.frames.length = 0;
    };
    this.registerGlobalStats();

    this.readTraits();
    this.bindModel();
    this.bindCanvas(canvas);
    this.observeSize();
    this.subscribeBus();
    this.ui.setClasses(this.classes);
    this.ui.setShowOthers(this.showOthers);
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
      this.cancelDrafts();
      this.syncToolbar();
      this.renderSide(true);
      this.refresh();
    });
    on("label", () => {
      const label = str(this.model.get("label"));
      if (label !== this.label) {
        this.label = label;
        if (this.keypointDraft) this.cancelDrafts();
      }
      this.syncToolbar();
      this.renderSide(false);
      this.refresh();
    });
    on("tool", () => {
      const tool = this.model.get("tool");
      if (isTool(tool) && tool !== this.tool) {
        this.tool = tool;
        this.cancelDrafts();
      }
      this.syncToolbar();
      this.refresh();
    });
    on("show_others", () => {
      this.showOthers = this.model.get("show_others") !== false;
      this.ui.setShowOthers(this.showOthers);
      const sel = this.selectedRecord();
      if (sel && !this.isShown(sel)) this.select(null);
      this.refresh();
    });
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

  /** Load image and records again for the current traits. */
  private reload(): void {
    this.wantGen++;
    void this.pump();
  }

  private reloadIfNeeded(): void {
    const f = this.traitFrame();
    if (this.loading ? f === this.loadingFrame && this.loadingGen === this.wantGen : f === this.shownFrame && this.ready) {
      return;
    }
    this.reload();
  }

  /** Load one frame at a time; when the wanted one changed meanwhile, load again. */
  private async pump(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    try {
      while (!this.closed && this.doneGen !== this.wantGen) {
        const gen = this.wantGen;
        this.loadingGen = gen;
        await this.loadOnce(this.traitFrame());
        this.doneGen = gen;
      }
    } finally {
      this.loading = false;
    }
  }

  private async loadOnce(frame: number | null): Promise<void> {
    this.loadingFrame = frame;
    this.ready = false;
    this.refreshHooks();
    const scope: Scope = { item: this.item, stream: this.stream, frame };
    this.incoming = null;
    const records = this.client.request("annotations.query", { frame }).then(
      (reply) => {
        this.incoming = { scope, state: applyQuery(EMPTY_STATE, reply.result, scope) };
        return true;
      },
      (err: unknown) => {
        this.report(err);
        return false;
      },
    );
    const image = this.client.request("frame.get", { frame }).then(
      async (reply) => {
        const body = (reply.result ?? {}) as Record<string, unknown>;
        try {
          const bitmap = await decodeImage(reply.buffers[0], str(body.mime, "image/png"));
          return { ok: true as const, bitmap, body };
        } catch (err) {
          this.report(pageError("ImageDecodeError", `the frame image could not be decoded (${describe(err)})`));
          return { ok: false as const, bitmap: null, body };
        }
      },
      (err: unknown) => {
        this.report(err);
        return { ok: false as const, bitmap: null, body: {} as Record<string, unknown> };
      },
    );
    const [recordsOk, img] = await Promise.all([records, image]);
    if (this.closed) {
      img.bitmap?.close?.();
      return;
    }
    const frameChanged = frame !== this.shownFrame;
    // Events may have patched it while we waited (TS cannot see that: re-read it).
    const incoming = this.incoming as Incoming | null;
    if (recordsOk && incoming) {
      this.state = { ...incoming.state, version: this.state.version + 1 };
      this.scope = incoming.scope;
      this.edits.clear();
    }
    this.incoming = null;
    if (img.ok) {
      const w = Number(img.body.width);
      const h = Number(img.body.height);
      const size =
        w > 0 && h > 0
          ? { width: w, height: h }
          : img.bitmap
            ? { width: img.bitmap.width, height: img.bitmap.height }
            : this.imageSize;
      this.image?.close?.();
      this.image = img.bitmap;
      this.setImageSize(size);
    }
    if (recordsOk || img.ok) this.shownFrame = frame;
    if (frameChanged) this.cancelDrafts();
    const sel = this.selectedRecord();
    if (this.selectedId && (!sel || !this.isShown(sel))) this.select(null);
    this.ready = recordsOk && img.ok;
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
    if (this.incoming) this.incoming = { ...this.incoming, state: applyEvents(this.incoming.state, msg, this.incoming.scope) };
    const next = applyEvents(this.state, msg, this.scope);
    if (next === this.state) return;
    this.state = next;
    this.edits.recordsChanged();
    for (const [token, p] of this.pendingAdds) {
      if (p.id !== null && this.state.records.has(p.id)) this.dropPendingAdd(token);
    }
    const sel = this.selectedRecord();
    if (this.selectedId && (!sel || !this.isShown(sel))) this.select(null);
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
    try {
      const reply = await this.client.request(type, payload);
      return reply.result ?? {};
    } catch (err) {
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
    if (id !== null && this.selectedId === null) this.select(id);
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

  private isShown(rec: AnnotationRecord): boolean {
    return isVisible(rec, this.annotator, this.showOthers);
  }

  private select(id: string | null, publish = true): void {
    if (id === this.selectedId) return;
    this.selectedId = id;
    if (publish) this.bus?.publish("select", id, this.me);
    this.renderSide(true);
    this.refresh();
  }

  private setHover(id: string | null): void {
    if (id === this.hoverId) return;
    this.hoverId = id;
    this.bus?.publish("hover", id, this.me);
    this.refresh();
  }

  private subscribeBus(): void {
    for (const off of this.busOff.splice(0)) off();
    const key = str(this.model.get("bus_key"));
    this.bus = key ? getBus<{ hover: string | null; select: string | null }>(key) : null;
    if (!this.bus) return;
    this.busOff.push(
      this.bus.subscribe("hover", (id, { source }) => {
        if (source === this.me) return;
        this.busHoverId = typeof id === "string" ? id : null;
        this.refresh();
      }),
      this.bus.subscribe("select", (id, { source }) => {
        if (source === this.me) return;
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
      this.cancelDrafts();
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
      if (this.keypointDraft) this.cancelDrafts();
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
        {
          const sel = this.selectedRecord();
          if (sel && !this.isShown(sel)) this.select(null);
        }
        this.refresh();
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
    set("tool", this.tool);
    set("label", this.label);
  }

  private refreshStatus(): void {
    const visible = this.visibleList().length;
    let hidden = 0;
    if (!this.showOthers) {
      for (const rec of this.state.records.values()) if (rec.shape && !isEditable(rec, this.annotator)) hidden++;
    }
    const imagePoint = this.cursor ? this.view.screenToImage(this.cursor) : null;
    this.ui.setFrame(this.video ? (this.traitFrame() ?? this.shownFrame ?? 0) : null, this.frameCount);
    this.ui.setStatus({ zoom: this.view.scale, cursor: imagePoint, count: visible, hidden, hint: this.currentHint() });
  }

  private currentHint(): string {
    if (this.hint) return this.hint;
    if (this.polygonDraft) {
      return `polygon: ${this.polygonDraft.length} vertices — click the first vertex, double-click or Enter to close; Backspace undoes a vertex; Esc cancels`;
    }
    if (this.keypointDraft) {
      const next = nextKeypointName(this.keypointDraft);
      const total = this.keypointDraft.names.length;
      const placed = this.keypointDraft.points.length;
      return next
        ? `keypoints: click “${next}” (${placed + 1}/${total}); Shift+click: occluded; Enter: finish`
        : `keypoints: ${placed} placed; Enter finishes`;
    }
    const hover = this.hoverId ? this.state.records.get(this.hoverId) : undefined;
    if (hover) return hover.annotator && !isEditable(hover, this.annotator) ? `${hover.label} · ${hover.annotator}` : hover.label;
    return "";
  }

  /** Rebuild the groups and pick lists when records, classes or visibility changed. */
  private ensureCaches(): void {
    const key = [this.state, this.classes, this.showOthers, this.annotator];
    if (key.every((v, i) => v === this.cacheFor[i])) return;
    this.cacheFor = key;
    const colourOf = (label: string): string => this.classMap.get(label)?.color ?? "#808080";
    this.groups = buildGroups(this.state.records.values(), colourOf, this.annotator, this.showOthers);
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
    const g = this.gesture;
    if (g?.type === "edit" && g.id === id) return g.preview;
    return this.edits.preview(id) ?? this.state.records.get(id)?.shape ?? null;
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

  private draft(): Draft | null {
    const color = this.classMap.get(this.label)?.color ?? "#ffffff";
    const g = this.gesture;
    if (g?.type === "draw") {
      const shape: Shape | null =
        g.kind === "box"
          ? boxShape(boxFromScreenDrag(this.view, g.start, g.now, this.imageSize))
          : rotatedShape(rotatedBoxFromScreenDrag(this.view, g.start, g.now, this.imageSize));
      return shape ? { kind: "shape", shape, color } : null;
    }
    if (this.polygonDraft) {
      return {
        kind: "polygon",
        points: this.polygonDraft,
        cursor: this.cursor,
        color,
        closable: this.polygonDraft.length >= 3,
      };
    }
    if (this.keypointDraft) {
      return {
        kind: "keypoints",
        points: this.keypointDraft.points,
        cursor: this.cursor,
        color,
        next: nextKeypointName(this.keypointDraft),
      };
    }
    return null;
  }

  private drawNow(): void {
    const ctx = this.ctx;
    if (!ctx || this.closed) return;
    const dpr = this.el.ownerDocument.defaultView?.devicePixelRatio || 1;
    if (dpr !== this.dpr) this.resize();
    this.ensureCaches();

    this.skip.clear();
    this.overrides.length = 0;
    const g = this.gesture;
    if (g?.type === "edit") this.skip.add(g.id);
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
      draft: this.draft(),
    };
    const t0 = now();
    drawScene(ctx, scene);
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

  // -- drafts ---------------------------------------------------------------------------

  private cancelDrafts(): void {
    this.polygonDraft = null;
    this.keypointDraft = null;
    if (this.gesture?.type === "draw") this.gesture = null;
  }

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

  private finishPolygon(): void {
    const points = this.polygonDraft;
    if (!points) return;
    const closed = closePolygon(points);
    if (!closed.ok) {
      this.flashHint(`cannot close: ${closed.reason}`);
      return;
    }
    this.polygonDraft = null;
    void this.addShape({ kind: "polygon", geometry: closed.geometry });
  }

  private finishKeypointDraft(): void {
    const draft = this.keypointDraft;
    if (!draft) return;
    const geometry = finishKeypoints(draft);
    this.keypointDraft = null;
    if (geometry) void this.addShape({ kind: "keypoints", geometry });
    this.refresh();
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

  // -- pointer --------------------------------------------------------------------------

  private bindCanvas(canvas: HTMLCanvasElement): void {
    const listen = <K extends keyof HTMLElementEventMap>(
      type: K,
      fn: (e: HTMLElementEventMap[K]) => void,
      options?: AddEventListenerOptions,
    ): void => {
      const handler = (e: HTMLElementEventMap[K]): void => {
        if (!this.closed) fn(e);
      };
      canvas.addEventListener(type, handler, options);
      this.cleanups.push(() => canvas.removeEventListener(type, handler, options));
    };
    listen("pointerdown", (e) => this.onPointerDown(e));
    listen("pointermove", (e) => this.onPointerMove(e));
    listen("pointerup", (e) => this.onPointerUp(e));
    listen("pointercancel", (e) => this.onPointerCancel(e));
    listen("pointerleave", () => {
      if (this.gesture) return;
      this.cursor = null;
      this.setHover(null);
      this.refresh();
    });
    listen("dblclick", (e) => {
      if (this.tool === "polygon" && this.polygonDraft) {
        e.preventDefault();
        this.finishPolygon();
      }
    });
    listen("wheel", (e) => this.onWheel(e), { passive: false });
    listen("keydown", (e) => this.onKeyDown(e));
    listen("keyup", (e) => {
      if (e.key === " ") {
        this.spaceDown = false;
        this.updateCursor(null);
        e.stopPropagation();
      }
    });
    listen("blur", () => {
      this.spaceDown = false;
    });
    listen("contextmenu", (e) => {
      if (this.polygonDraft || this.keypointDraft) e.preventDefault();
    });
  }

  private screenPoint(e: { clientX: number; clientY: number }): Point {
    const r = this.ui.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private capture(e: PointerEvent): void {
    try {
      this.ui.canvas.setPointerCapture(e.pointerId);
    } catch {
      // no capture (e.g. synthetic events): the gesture still works inside the canvas
    }
  }

  private release(pointerId: number): void {
    try {
      if (this.ui.canvas.hasPointerCapture?.(pointerId)) this.ui.canvas.releasePointerCapture(pointerId);
    } catch {
      // already released
    }
  }

  private selectedPickable(): Pickable | null {
    const rec = this.selectedRecord();
    if (!rec || !isEditable(rec, this.annotator) || !this.isShown(rec)) return null;
    const shape = this.shapeOf(rec.id);
    return shape ? { id: rec.id, shape } : null;
  }

  private startEdit(e: PointerEvent, p: Point, id: string, grab: Grab): void {
    const shape = this.shapeOf(id);
    if (!shape) return;
    this.gesture = {
      type: "edit",
      pointerId: e.pointerId,
      id,
      grab,
      startScreen: p,
      startImage: this.view.screenToImage(p),
      original: shape,
      preview: shape,
      moved: false,
    };
    this.capture(e);
  }

  private startPan(e: PointerEvent, p: Point): void {
    this.gesture = { type: "pan", pointerId: e.pointerId, start: p, startView: this.view };
    this.capture(e);
    this.ui.canvas.style.cursor = "grabbing";
  }

  /** In a drawing tool, a press on the selected shape's handle edits it instead of drawing. */
  private tryHandle(e: PointerEvent, p: Point): boolean {
    const sel = this.selectedPickable();
    if (!sel) return false;
    const grab = hitHandle(sel.shape, p, this.view);
    if (!grab) return false;
    this.startEdit(e, p, sel.id, grab);
    return true;
  }

  private onPointerDown(e: PointerEvent): void {
    if (this.gesture) return;
    this.focusCanvas();
    const p = this.screenPoint(e);
    this.cursor = p;
    if (e.button === 1 || (e.button === 0 && this.spaceDown)) {
      e.preventDefault();
      this.startPan(e, p);
      return;
    }
    if (e.button !== 0) return;
    e.preventDefault();
    const bounds = this.imageSize;
    switch (this.tool) {
      case "select": {
        this.ensureCaches();
        const hit = pick(this.editables, p, this.view, this.selectedPickable());
        if (!hit) {
          this.select(null);
          this.startPan(e, p);
          return;
        }
        this.select(hit.id);
        const shape = this.shapeOf(hit.id);
        if (e.shiftKey && shape?.kind === "keypoints" && hit.grab.type === "vertex") {
          this.edits.submit(hit.id, {
            geometry: { kind: "keypoints", geometry: toggleKeypointVisibility(shape.geometry, hit.grab.index) },
          });
          this.refresh();
          return;
        }
        this.startEdit(e, p, hit.id, hit.grab);
        break;
      }
      case "box":
      case "rotated_box": {
        if (this.tryHandle(e, p)) break;
        if (!this.canDraw(this.tool)) return;
        this.gesture = { type: "draw", pointerId: e.pointerId, kind: this.tool, start: p, now: p };
        this.capture(e);
        break;
      }
      case "polygon": {
        if (!this.polygonDraft && this.tryHandle(e, p)) break;
        if (!this.polygonDraft && !this.canDraw("polygon")) return;
        const step = polygonClick(this.polygonDraft ?? [], p, this.view, bounds);
        if (step.type === "add") this.polygonDraft = step.points;
        else if (step.type === "close") this.finishPolygon();
        break;
      }
      case "keypoints": {
        if (!this.keypointDraft && this.tryHandle(e, p)) break;
        if (!this.keypointDraft) {
          if (!this.canDraw("keypoints")) return;
          this.keypointDraft = newKeypointDraft(this.classMap.get(this.label)?.keypoints ?? []);
        }
        const placed = placeKeypoint(this.keypointDraft, this.view.screenToImage(p), bounds, e.shiftKey);
        this.keypointDraft = placed.draft;
        if (placed.done) this.finishKeypointDraft();
        break;
      }
    }
    this.refresh();
  }

  private onPointerMove(e: PointerEvent): void {
    const p = this.screenPoint(e);
    this.cursor = p;
    const g = this.gesture;
    if (g && e.pointerId === g.pointerId) {
      if (g.type === "pan") {
        this.view = g.startView.panBy(p.x - g.start.x, p.y - g.start.y);
        this.autoFit = false;
      } else if (g.type === "draw") {
        g.now = p;
      } else {
        if (!g.moved && Math.hypot(p.x - g.startScreen.x, p.y - g.startScreen.y) >= CLICK_SLOP_PX) g.moved = true;
        if (g.moved) {
          g.preview = dragShape(
            g.original,
            g.grab,
            g.startImage,
            this.view.screenToImage(p),
            this.imageSize,
            g.preview,
            e.shiftKey ? SNAP_ANGLE : 0,
          );
        }
      }
      this.refresh();
      return;
    }
    if (!g) {
      this.ensureCaches();
      const hover = pick(this.visibles, p, this.view, null);
      this.setHover(hover?.id ?? null);
      this.updateCursor(p);
    }
    this.refresh();
  }

  private updateCursor(p: Point | null): void {
    const canvas = this.ui.canvas;
    if (this.spaceDown) {
      canvas.style.cursor = "grab";
      return;
    }
    if (p) {
      const sel = this.selectedPickable();
      const grab = sel ? hitHandle(sel.shape, p, this.view) : null;
      if (grab) {
        canvas.style.cursor = cursorFor(grab, sel?.shape.kind === "rotated_box" ? sel.shape.geometry.angle : 0);
        return;
      }
      if (this.tool === "select") {
        this.ensureCaches();
        canvas.style.cursor = pick(this.editables, p, this.view, null) ? "move" : "default";
        return;
      }
    }
    canvas.style.cursor = this.tool === "select" ? "default" : "crosshair";
  }

  private onPointerUp(e: PointerEvent): void {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    this.gesture = null;
    this.release(e.pointerId);
    const p = this.screenPoint(e);
    this.cursor = p;
    if (g.type === "draw") {
      const shape =
        g.kind === "box"
          ? boxShape(boxFromScreenDrag(this.view, g.start, p, this.imageSize))
          : rotatedShape(rotatedBoxFromScreenDrag(this.view, g.start, p, this.imageSize));
      if (shape) void this.addShape(shape);
      else {
        // A click, not a drag: select what is under it (or deselect).
        this.ensureCaches();
        this.select(pick(this.editables, p, this.view, null)?.id ?? null);
      }
    } else if (g.type === "edit" && g.moved && !shapesEqual(g.original, g.preview)) {
      const problem = shapeProblem(g.preview, this.imageSize);
      if (problem) this.report(pageError("InvalidGeometry", problem));
      else this.edits.submit(g.id, { geometry: g.preview });
    }
    this.updateCursor(p);
    this.refresh();
  }

  private onPointerCancel(e: PointerEvent): void {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    this.gesture = null;
    this.release(e.pointerId);
    this.refresh();
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.cssH : 1;
    const dy = e.deltaY * unit;
    if (dy === 0) return;
    const factor = Math.exp(-Math.max(-300, Math.min(300, dy)) * 0.0015);
    this.zoomAt(this.screenPoint(e), factor);
  }

  // -- keyboard ---------------------------------------------------------------------------

  private onKeyDown(e: KeyboardEvent): void {
    if (e.key === " ") {
      e.preventDefault();
      e.stopPropagation();
      if (!this.spaceDown) {
        this.spaceDown = true;
        this.updateCursor(null);
      }
      return;
    }
    const sel = this.selectedPickable();
    const action = keyAction(e, this.classes, {
      drafting: this.polygonDraft !== null || this.keypointDraft !== null,
      hasSelection: sel !== null,
      selectionRotatable: sel?.shape.kind === "rotated_box",
      video: this.video,
    });
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    this.perform(action);
  }

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
      case "finish-draft":
        if (this.polygonDraft) this.finishPolygon();
        else this.finishKeypointDraft();
        break;
      case "remove-vertex":
        if (this.polygonDraft) {
          this.polygonDraft = removeLastVertex(this.polygonDraft);
          if (this.polygonDraft.length === 0) this.polygonDraft = null;
        } else if (this.keypointDraft) {
          const points = this.keypointDraft.points.slice(0, -1);
          this.keypointDraft = points.length ? { ...this.keypointDraft, points } : null;
        }
        break;
      case "cancel":
        if (this.polygonDraft || this.keypointDraft) this.cancelDrafts();
        else this.select(null);
        break;
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

function boxShape(g: BoxGeom | null): Shape | null {
  return g ? { kind: "box", geometry: g } : null;
}

function rotatedShape(g: RotatedBoxGeom | null): Shape | null {
  return g ? { kind: "rotated_box", geometry: g } : null;
}

/** Decode an encoded image buffer; null where the browser API is missing (tests). */
export async function decodeImage(buffer: DataView | undefined, mime: string): Promise<ImageBitmap | null> {
  if (!buffer || typeof createImageBitmap !== "function" || typeof Blob !== "function") return null;
  const bytes = new Uint8Array(buffer.byteLength);
  bytes.set(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  return createImageBitmap(new Blob([bytes], { type: mime || "image/png" }));
}
