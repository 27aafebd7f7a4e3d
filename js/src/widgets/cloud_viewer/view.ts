/**
 * One CloudViewer view: wires the model (traits and custom messages), the
 * three.js scene, the camera, the gestures and the DOM together.
 *
 * Data flow: the `points` trait (binary float32, `(N, 3)` envelope) fills
 * the point geometry; `intensity` / `colors` / `point_labels` / `color_by`
 * rewrite only its colour buffer. Cuboids come from `annotations.query` (all
 * sweeps of the stream) and `event` pushes; the cuboids of the shown sweep
 * are its keyframes plus the tracks interpolated there (tracks.ts). Edits
 * are Session commands; nothing is stored here that Python does not hold,
 * except previews of edits in flight.
 */

import {
  BufferAttribute,
  BufferGeometry,
  Color,
  Float32BufferAttribute,
  LineBasicMaterial,
  LineDashedMaterial,
  LineSegments,
  Plane,
  Points,
  PointsMaterial,
  Raycaster,
  Scene,
  Vector2,
  Vector3,
  WebGLRenderer,
  type Camera,
} from "three";
import { decodeMatrix, typedView, type ArrayEnvelope } from "../../runtime/binary.js";
import { getBus, type Bus } from "../../runtime/bus.js";
import { getSharedClock, toItemTime, toStreamTime, type PageClock } from "../../runtime/clock.js";
import { showError, type ErrorBanner } from "../../runtime/errors.js";
import { LinkModeController } from "../../runtime/linkmode.js";
import { ClientClosed, CommandClient, newUuid, type MessageModel } from "../../runtime/protocol.js";
import { renderPanel } from "../region_canvas/panel.js";
import { parseEvents } from "../region_canvas/state.js";
import { injectStyle } from "../region_canvas/style.js";
import { parseClasses, parseRecord, type AnnotationRecord, type ClassSpec } from "../region_canvas/types.js";
import { CameraRig, defaultCamera, orbitBy, panBy, VIEW_MODES, viewAxes, zoomBy, type CameraState, type ViewMode } from "./camera.js";
import { COLOR_BY, computeColors, groundHeight, robustRange, type ColorBy } from "./colors.js";
import {
  footprint,
  handlePositions,
  HANDLE_NAMES,
  heightFromPoints,
  moveBy,
  parseCuboid,
  rayHit,
  resizeHorizontal,
  resizeVertical,
  rotateBy,
  cuboidValue,
  writeEdges,
  yawTowards,
  type HandleName,
  type Vec3,
} from "./cuboid.js";
import { EditQueue } from "../../runtime/edits.js";
import { interpolatedOn, nearestSweep, type CuboidGeom } from "./tracks.js";
import { CloudUi, type Action, type Tool } from "./ui.js";

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

/** A stored cuboid of this stream. */
interface CuboidRecord {
  id: string;
  frame: number | null;
  track: string | null;
  label: string;
  annotator: string | null;
  revision: number | null;
  attributes: Record<string, unknown>;
  cuboid: CuboidGeom;
  raw: AnnotationRecord;
}

/** A cuboid shown on the current sweep. */
interface Shown {
  /** The record id, or `~<track>` for an interpolated cuboid. */
  key: string;
  record: CuboidRecord | null;
  /** For an interpolated cuboid: the keyframe before (label, attributes). */
  from: CuboidRecord | null;
  label: string;
  track: string | null;
  annotator: string | null;
  geometry: CuboidGeom;
  interpolated: boolean;
  editable: boolean;
}

interface Drag {
  kind: "orbit" | "pan" | "draw" | "move" | "handle";
  x0: number;
  y0: number;
  last: [number, number];
  key?: string;
  handle?: HandleName;
  start?: CuboidGeom;
  ground0?: Vec3;
  plane?: Plane;
  moved: boolean;
}

export interface CloudStats {
  /** Points buffers received (trait changes), and their bytes. */
  pointsUpdates: number;
  pointsBytes: number;
  /** Colour-buffer rewrites (restyling). */
  colorUpdates: number;
  renders: number;
  /** The last frame drawn: point count, sweep and when (epoch ms). */
  lastRender: { points: number; sweep: number | null; at: number } | null;
  /** When the last points value reached the page (epoch ms, before decoding). */
  lastReceived: number | null;
  /** Raw binary messages (benchmark reference): bytes and arrival (epoch ms). */
  raw: { bytes: number; at: number }[];
  commands: { type: string; ms: number; ok: boolean }[];
}

export interface CloudHook {
  project(p: number[]): [number, number] | null;
  ground(clientX: number, clientY: number, z?: number): [number, number, number] | null;
  cuboids(): { key: string; id: string | null; track: string | null; label: string; geometry: CuboidGeom; interpolated: boolean; editable: boolean }[];
  handles(key?: string): Record<string, [number, number]> | null;
  stats(): CloudStats;
  resetStats(): void;
  camera(): CameraState;
}

const DEFAULT_HEIGHT = 480;
const HANDLE_PICK_PX = 10;
const DRAG_THRESHOLD_PX = 3;
const SNAP = Math.PI / 12;
const ROTATE_STEP = (5 * Math.PI) / 180;
const ROTATE_FINE = Math.PI / 180;
const DEFAULT_CUBOID_HEIGHT = 1.5;

const raf: (cb: () => void) => number =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16) as unknown as number;
const cancelRaf: (id: number) => void =
  typeof cancelAnimationFrame === "function" ? (id) => cancelAnimationFrame(id) : (id) => clearTimeout(id);

const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());
const epochMs = (): number => (typeof performance !== "undefined" ? performance.timeOrigin + performance.now() : Date.now());
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const intOr = (v: unknown, fallback: number | null): number | null =>
  typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : fallback;

function pageError(name: string, message: string): Error {
  return Object.assign(new Error(message), { error: name });
}

function isEnvelope(v: unknown): v is ArrayEnvelope {
  return typeof v === "object" && v !== null && "buffer" in v && "shape" in v && "dtype" in v;
}

export class CloudViewerView {
  private readonly abort = new AbortController();
  private readonly client: CommandClient;
  private readonly ui: CloudUi;
  private readonly cleanups: (() => void)[] = [];
  private readonly me = Symbol("cloud-viewer-view");
  private readonly edits: EditQueue<CuboidGeom>;
  private closed = false;
  private banner: ErrorBanner | null = null;
  private readonly stats: CloudStats = {
    pointsUpdates: 0,
    pointsBytes: 0,
    colorUpdates: 0,
    renders: 0,
    lastRender: null,
    lastReceived: null,
    raw: [],
    commands: [],
  };

  // traits
  private item = "";
  private stream = "";
  private annotator = "";
  private sweep = 0;
  private sweepCount = 0;
  private sweepTimes: number[] = [];
  private classes: ClassSpec[] = [];
  private classMap = new Map<string, ClassSpec>();
  private label = "";
  private tool: Tool = "select";
  private colorBy: ColorBy = "height";
  private showOthers = true;
  private heightPx = DEFAULT_HEIGHT;

  // data
  private positions: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private count = 0;
  private pointsSweep: number | null = null;
  private intensity: Float32Array | null = null;
  private rgb: Uint8Array | null = null;
  private pointLabels: Int16Array | null = null;
  private groundZ = 0;
  private records = new Map<string, CuboidRecord>();
  private loaded = false;
  private shown: Shown[] = [];
  private shownFor: unknown[] = [];

  // three.js
  private renderer: WebGLRenderer | null = null;
  private readonly scene = new Scene();
  private readonly rig = new CameraRig();
  private cam: CameraState = defaultCamera();
  private camera: Camera = this.rig.perspective;
  private readonly pointsGeometry = new BufferGeometry();
  private readonly pointsMaterial = new PointsMaterial({ size: 2, sizeAttenuation: false, vertexColors: true });
  private readonly pointsObject: Points;
  private colorBuffer = new Uint8Array(0);
  private readonly boxGroups = new Map<string, LineSegments>();
  private readonly frustumLines: LineSegments;
  private readonly draftLines: LineSegments;
  private readonly handlesObject: Points;
  private readonly raycaster = new Raycaster();
  private cssW = 640;
  private cssH = DEFAULT_HEIGHT;
  private rafId = 0;
  private colorsDirty = true;

  // interaction
  private selectedKey: string | null = null;
  /** Track of the selection: kept selected across sweeps. */
  private selectedTrack: string | null = null;
  private hoverKey: string | null = null;
  private drag: Drag | null = null;
  private preview: { key: string; geometry: CuboidGeom } | null = null;
  private draft: CuboidGeom | null = null;
  /** Keyframes being added for interpolated cuboids: track → geometry, until the record arrives. */
  private pendingKeyframes = new Map<string, CuboidGeom>();
  private selectOnArrival: string | null = null;
  private hint = "";

  private clock: PageClock | null = null;
  private bus: Bus<{ hover: unknown; select: string | null }> | null = null;

  constructor(
    private readonly model: WidgetModel,
    private readonly el: HTMLElement,
  ) {
    injectStyle(el.ownerDocument);
    this.client = new CommandClient(model, { signal: this.abort.signal });
    this.edits = new EditQueue<CuboidGeom>({
      revisionOf: (id) => {
        const r = this.records.get(id);
        return r ? r.revision : undefined;
      },
      send: (id, revision, fields) => this.sendUpdate(id, revision, fields),
      changed: () => {
        this.shownFor = []; // previews of edits in flight changed
        this.changed();
      },
    });
    this.ui = new CloudUi(el, {
      tool: (t) => this.setTool(t),
      view: (v) => this.setView(v, true),
      colorBy: (c) => this.setColorBy(c, true),
      label: (n) => this.chooseLabel(n),
      action: (a) => this.runAction(a),
      sweep: (n) => this.goToSweep(n),
    });
    this.ui.lockOthers(this.model.get("hide_others") === true);
    this.pointsGeometry.setAttribute("position", new BufferAttribute(new Float32Array(0), 3));
    this.pointsObject = new Points(this.pointsGeometry, this.pointsMaterial);
    this.pointsObject.frustumCulled = false;
    this.scene.add(this.pointsObject);
    this.scene.background = new Color(0x1e1e1e);
    this.frustumLines = new LineSegments(new BufferGeometry(), new LineBasicMaterial({ color: 0xffcc00 }));
    this.frustumLines.frustumCulled = false;
    this.scene.add(this.frustumLines);
    this.draftLines = new LineSegments(new BufferGeometry(), new LineBasicMaterial({ color: 0xffffff }));
    this.draftLines.frustumCulled = false;
    this.scene.add(this.draftLines);
    this.handlesObject = new Points(
      new BufferGeometry(),
      new PointsMaterial({ size: 9, sizeAttenuation: false, color: 0xffffff, depthTest: false }),
    );
    this.handlesObject.frustumCulled = false;
    this.handlesObject.renderOrder = 10;
    this.scene.add(this.handlesObject);
    try {
      this.renderer = new WebGLRenderer({ canvas: this.ui.canvas, antialias: false, preserveDrawingBuffer: true });
    } catch (err) {
      this.renderer = null; // no WebGL (jsdom, or a browser without it)
      this.report(pageError("WebGLUnavailable", `the 3-D view needs WebGL: ${String((err as Error)?.message ?? err)}`));
    }
    this.readTraits();
    this.bindModel();
    this.bindInput();
    this.observeSize();
    this.installHook();
    this.subscribeClock();
    this.subscribeBus();
    this.mountLinkMode();
    this.ui.setClasses(this.classes);
    this.loadPoints();
    this.loadFrustums();
    this.renderSide(true);
    void this.reload();
    this.changed();
  }

  // -- lifecycle --------------------------------------------------------------------

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.link?.destroy();
    this.edits.close();
    for (const off of this.cleanups.splice(0)) off();
    if (this.rafId) cancelRaf(this.rafId);
    this.pointsGeometry.dispose();
    for (const g of this.boxGroups.values()) g.geometry.dispose();
    this.renderer?.dispose();
    const g = globalThis as { accordCloud?: Record<string, CloudHook> };
    const id = this.modelId();
    if (g.accordCloud) delete g.accordCloud[id];
    this.ui.detach();
  }

  private hookId: string | null = null;

  /** The widget model's id, or (anywidget may hide it) a random id of this view. */
  private modelId(): string {
    if (this.hookId === null) {
      const id = (this.model as { model_id?: unknown }).model_id;
      this.hookId = typeof id === "string" && id ? id : newUuid();
    }
    return this.hookId;
  }

  // -- traits -----------------------------------------------------------------------

  private readTraits(): void {
    const m = this.model;
    this.item = str(m.get("item"));
    this.stream = str(m.get("stream"));
    this.annotator = str(m.get("annotator"));
    this.sweep = intOr(m.get("sweep"), 0) ?? 0;
    this.sweepCount = intOr(m.get("sweep_count"), 0) ?? 0;
    const times = m.get("sweep_times");
    this.sweepTimes = Array.isArray(times) ? times.filter((t): t is number => typeof t === "number") : [];
    this.classes = parseClasses(m.get("classes"));
    this.classMap = new Map(this.classes.map((c) => [c.name, c]));
    this.label = str(m.get("label"), this.classes[0]?.name ?? "");
    this.tool = m.get("tool") === "cuboid" ? "cuboid" : "select";
    const cb = m.get("color_by");
    this.colorBy = COLOR_BY.includes(cb as ColorBy) ? (cb as ColorBy) : "height";
    this.showOthers = m.get("show_others") !== false;
    const size = m.get("point_size");
    this.pointsMaterial.size = typeof size === "number" && size > 0 ? size : 2;
    this.heightPx = Math.max(120, intOr(m.get("height"), DEFAULT_HEIGHT) ?? DEFAULT_HEIGHT);
    this.ui.canvas.style.height = `${this.heightPx}px`;
    const view = m.get("view");
    this.cam = { ...this.cam, mode: VIEW_MODES.includes(view as ViewMode) ? (view as ViewMode) : "orbit" };
    const sel = m.get("selected");
    this.selectedKey = typeof sel === "string" && sel ? sel : null;
  }

  private bindModel(): void {
    const on = (name: string, fn: () => void): void => {
      const handler = (): void => {
        if (!this.closed) fn();
      };
      this.model.on(`change:${name}`, handler);
      this.cleanups.push(() => this.model.off(`change:${name}`, handler));
    };
    on("points", () => this.loadPoints());
    on("points_list", () => this.loadPoints());
    on("points_sweep", () => {
      // Arrives with `points` (one hold_sync): only the label of what is shown changes.
      this.pointsSweep = intOr(this.model.get("points_sweep"), null);
      this.changed();
    });
    on("intensity", () => this.loadPerPoint());
    on("colors", () => this.loadPerPoint());
    on("point_labels", () => this.loadPerPoint());
    on("color_by", () => this.setColorBy(this.model.get("color_by") as ColorBy, false));
    on("point_size", () => {
      const size = this.model.get("point_size");
      this.pointsMaterial.size = typeof size === "number" && size > 0 ? size : 2;
      this.changed();
    });
    on("sweep", () => {
      this.sweep = intOr(this.model.get("sweep"), 0) ?? 0;
      this.sweepChanged();
    });
    on("sweep_count", () => {
      this.sweepCount = intOr(this.model.get("sweep_count"), 0) ?? 0;
      this.changed();
    });
    on("classes", () => {
      this.classes = parseClasses(this.model.get("classes"));
      this.classMap = new Map(this.classes.map((c) => [c.name, c]));
      this.ui.setClasses(this.classes);
      this.colorsDirty = true;
      this.renderSide(true);
      this.changed();
    });
    on("label", () => {
      this.label = str(this.model.get("label"));
      this.changed();
    });
    on("tool", () => {
      this.tool = this.model.get("tool") === "cuboid" ? "cuboid" : "select";
      this.changed();
    });
    on("view", () => {
      const v = this.model.get("view");
      if (VIEW_MODES.includes(v as ViewMode)) this.setView(v as ViewMode, false);
    });
    on("show_others", () => {
      this.showOthers = this.model.get("show_others") !== false;
      this.changed();
    });
    on("selected", () => {
      const sel = this.model.get("selected");
      const id = typeof sel === "string" && sel ? sel : null;
      if (id !== this.selectedKey) this.select(id, false);
    });
    on("frustums", () => this.loadFrustums());
    on("height", () => {
      this.heightPx = Math.max(120, intOr(this.model.get("height"), DEFAULT_HEIGHT) ?? DEFAULT_HEIGHT);
      this.ui.canvas.style.height = `${this.heightPx}px`;
      this.resize();
    });
    this.cleanups.push(this.client.onMessage("event", (msg) => this.onEvent(msg)));
    this.cleanups.push(this.client.onMessage("error", (msg) => this.report(pageErrorFrom(msg))));
    this.cleanups.push(
      this.client.onMessage("bench.raw", (_msg, buffers) => {
        const bytes = buffers.reduce((n, b) => n + b.byteLength, 0);
        this.stats.raw.push({ bytes, at: epochMs() });
      }),
    );
  }

  private setTrait(name: string, value: unknown): void {
    this.model.set(name, value);
    this.model.save_changes();
  }

  // -- points -----------------------------------------------------------------------

  /** Read the `points` trait (binary envelope), or the JSON-list baseline `points_list`. */
  private loadPoints(): void {
    this.stats.lastReceived = epochMs();
    let positions: Float32Array<ArrayBufferLike> | null = null;
    try {
      const list = this.model.get("points_list");
      const env = this.model.get("points");
      if (Array.isArray(list) && list.length > 0) {
        positions = new Float32Array(list.length * 3);
        let o = 0;
        for (const row of list as unknown[]) {
          const r = row as number[];
          positions[o++] = r[0] as number;
          positions[o++] = r[1] as number;
          positions[o++] = r[2] as number;
        }
        this.stats.pointsBytes += positions.byteLength;
      } else if (isEnvelope(env)) {
        const m = decodeMatrix(env, { columns: 3, dtype: "float32" });
        positions = m.data as Float32Array;
        this.stats.pointsBytes += positions.byteLength;
      } else {
        positions = new Float32Array(0);
      }
    } catch (err) {
      this.report(err);
      return;
    }
    this.stats.pointsUpdates++;
    this.positions = positions;
    this.count = positions.length / 3;
    this.pointsSweep = intOr(this.model.get("points_sweep"), null);
    this.groundZ = groundHeight(positions, this.count);
    this.pointsGeometry.setAttribute("position", new BufferAttribute(positions, 3));
    this.colorBuffer = new Uint8Array(this.count * 3);
    this.pointsGeometry.setAttribute("color", new BufferAttribute(this.colorBuffer, 3, true));
    this.pointsGeometry.setDrawRange(0, this.count);
    if (!this.fitted && this.count > 0) this.fit();
    this.readPerPoint();
    this.colorsDirty = true;
    this.changed();
  }

  private readPerPoint(): void {
    const read = <T>(name: string, make: (env: ArrayEnvelope) => T): T | null => {
      const env = this.model.get(name);
      if (!isEnvelope(env)) return null;
      try {
        return make(env);
      } catch (err) {
        this.report(err);
        return null;
      }
    };
    this.intensity = read("intensity", (e) => typedView(e.buffer, Float32Array));
    this.rgb = read("colors", (e) => typedView(e.buffer, Uint8Array));
    this.pointLabels = read("point_labels", (e) => typedView(e.buffer, Int16Array));
  }

  private loadPerPoint(): void {
    this.readPerPoint();
    this.colorsDirty = true;
    this.changed();
  }

  private setColorBy(c: ColorBy, write: boolean): void {
    if (!COLOR_BY.includes(c)) return;
    if (c !== this.colorBy) {
      this.colorBy = c;
      this.colorsDirty = true;
    }
    if (write && this.model.get("color_by") !== c) this.setTrait("color_by", c);
    this.changed();
  }

  private recolor(): void {
    if (!this.colorsDirty) return;
    this.colorsDirty = false;
    const shown = this.colorBy === "label" ? this.shownCuboids() : [];
    computeColors(
      this.colorBy,
      {
        positions: this.positions,
        count: this.count,
        intensity: this.intensity,
        rgb: this.rgb,
        labels: this.pointLabels,
        classColors: this.classes.map((c) => c.color),
        cuboids: shown.map((s) => ({ geometry: s.geometry, color: this.colourOf(s.label) })),
      },
      this.colorBuffer,
    );
    const attr = this.pointsGeometry.getAttribute("color");
    if (attr) attr.needsUpdate = true;
    this.stats.colorUpdates++;
  }

  private loadFrustums(): void {
    const raw = this.model.get("frustums");
    const verts: number[] = [];
    for (const f of Array.isArray(raw) ? raw : []) {
      const apex = (f as { apex?: unknown }).apex;
      const corners = (f as { corners?: unknown }).corners;
      if (!Array.isArray(apex) || !Array.isArray(corners) || corners.length !== 4) continue;
      const c = corners as number[][];
      for (let i = 0; i < 4; i++) verts.push(...(apex as number[]), ...(c[i] as number[]));
      for (let i = 0; i < 4; i++) verts.push(...(c[i] as number[]), ...(c[(i + 1) % 4] as number[]));
    }
    this.frustumLines.geometry.dispose();
    const g = new BufferGeometry();
    g.setAttribute("position", new Float32BufferAttribute(verts, 3));
    this.frustumLines.geometry = g;
    this.changed();
  }

  // -- cuboid records ------------------------------------------------------------------

  private async reload(): Promise<void> {
    try {
      const reply = await this.client.request<{ annotations?: unknown[] }>("annotations.query", {});
      this.records = new Map();
      for (const raw of reply.result?.annotations ?? []) this.upsert(raw);
      this.loaded = true;
      this.edits.clear();
      this.afterRecordsChanged();
    } catch (err) {
      this.report(err);
    }
  }

  private upsert(raw: unknown): void {
    const rec = parseRecord(raw);
    if (!rec || rec.kind !== "cuboid") return;
    if (rec.item !== null && rec.item !== this.item) return;
    if (rec.stream !== null && rec.stream !== this.stream) return;
    const cuboid = parseCuboid((raw as { geometry?: unknown }).geometry);
    if (!cuboid) return;
    const track = (raw as { track?: unknown }).track;
    this.records.set(rec.id, {
      id: rec.id,
      frame: rec.frame,
      track: typeof track === "string" && track ? track : null,
      label: rec.label,
      annotator: rec.annotator,
      revision: rec.revision,
      attributes: rec.attributes,
      cuboid,
      raw: rec,
    });
  }

  private onEvent(msg: unknown): void {
    let touched = false;
    for (const e of parseEvents(msg)) {
      if (e.op === "delete") touched = this.records.delete(e.id) || touched;
      else {
        const had = this.records.delete(e.id);
        this.upsert(e.record);
        touched = touched || had || this.records.has(e.id);
      }
    }
    if (!touched) return;
    this.edits.recordsChanged();
    for (const [track] of this.pendingKeyframes) {
      for (const r of this.records.values()) if (r.track === track && r.frame === this.sweep) this.pendingKeyframes.delete(track);
    }
    if (this.selectOnArrival && this.records.has(this.selectOnArrival)) {
      const id = this.selectOnArrival;
      this.selectOnArrival = null;
      this.select(id);
    }
    this.afterRecordsChanged();
  }

  private afterRecordsChanged(): void {
    this.shownFor = [];
    if (this.selectedKey && !this.shownCuboids().some((s) => s.key === this.selectedKey)) this.reselectByTrack();
    if (this.colorBy === "label") this.colorsDirty = true;
    this.renderSide(false);
    this.changed();
  }

  /** The cuboids on the shown sweep: keyframes there, then interpolated tracks (cached). */
  private shownCuboids(): Shown[] {
    const key = [this.records, this.records.size, this.sweep, this.showOthers, this.preview, this.pendingKeyframes.size, this.edits];
    if (this.shownFor.length && key.every((v, i) => v === this.shownFor[i])) return this.shown;
    const out: Shown[] = [];
    const onSweep: CuboidRecord[] = [];
    for (const r of this.records.values()) if (r.frame === this.sweep || (r.frame === null && this.sweepCount <= 1)) onSweep.push(r);
    for (const r of onSweep) {
      const editable = r.annotator === null || r.annotator === "" || r.annotator === this.annotator;
      if (!editable && !this.showOthers) continue;
      out.push({
        key: r.id,
        record: r,
        from: null,
        label: r.label,
        track: r.track,
        annotator: r.annotator,
        geometry: this.edits.preview(r.id) ?? r.cuboid,
        interpolated: false,
        editable,
      });
    }
    const times = this.sweepTimes.length === this.sweepCount ? this.sweepTimes : null;
    for (const it of interpolatedOn([...this.records.values()], this.sweep, times)) {
      const editable = it.from.annotator === null || it.from.annotator === this.annotator;
      if (!editable && !this.showOthers) continue;
      const pending = this.pendingKeyframes.get(it.track);
      out.push({
        key: `~${it.track}`,
        record: null,
        from: it.from,
        label: it.from.label,
        track: it.track,
        annotator: it.from.annotator,
        geometry: pending ?? it.cuboid,
        interpolated: true,
        editable,
      });
    }
    if (this.preview) {
      const p = this.preview;
      for (const s of out) if (s.key === p.key) s.geometry = p.geometry;
    }
    this.shown = out;
    this.shownFor = key;
    return out;
  }

  private shownByKey(key: string | null): Shown | null {
    if (key === null) return null;
    return this.shownCuboids().find((s) => s.key === key) ?? null;
  }

  private colourOf(label: string): string {
    return this.classMap.get(label)?.color ?? "#808080";
  }

  // -- commands ------------------------------------------------------------------------

  private report(err: unknown): void {
    if (this.closed || err instanceof ClientClosed) return;
    this.banner?.dismiss();
    this.banner = showError(this.ui.alerts, err);
  }

  private async command(type: string, payload: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    const t0 = now();
    try {
      const reply = await this.client.request<Record<string, unknown>>(type, payload);
      this.stats.commands.push({ type, ms: now() - t0, ok: true });
      return reply.result ?? {};
    } catch (err) {
      this.stats.commands.push({ type, ms: now() - t0, ok: false });
      this.report(err);
      return null;
    }
  }

  private async sendUpdate(
    id: string,
    revision: number | null,
    fields: { geometry?: CuboidGeom; label?: string; attributes?: Record<string, unknown> },
  ): Promise<boolean> {
    const payload: Record<string, unknown> = { id, revision };
    if (fields.geometry) payload.geometry = cuboidValue(fields.geometry);
    if (fields.label !== undefined) payload.label = fields.label;
    if (fields.attributes !== undefined) payload.attributes = fields.attributes;
    return (await this.command("annotation.update", payload)) !== null;
  }

  /** Store `geometry` for the shown cuboid `s`: an update, or a new keyframe for an interpolated one. */
  private commit(s: Shown, geometry: CuboidGeom): void {
    if (!s.editable) return;
    if (s.record) {
      this.edits.submit(s.record.id, { geometry });
      return;
    }
    if (s.track === null || !s.from) return;
    void this.addKeyframe(s.track, s.from, geometry);
  }

  private async addKeyframe(
    track: string,
    from: CuboidRecord,
    geometry: CuboidGeom,
    fields: { label?: string; attributes?: Record<string, unknown> } = {},
  ): Promise<void> {
    this.pendingKeyframes.set(track, geometry);
    this.shownFor = [];
    this.changed();
    const result = await this.command("annotation.add", {
      item: this.item,
      stream: this.stream,
      label: fields.label ?? from.label,
      kind: "cuboid",
      geometry: cuboidValue(geometry),
      frame: this.sweep,
      track,
      attributes: fields.attributes ?? (fields.label !== undefined && fields.label !== from.label ? {} : from.attributes),
    });
    const ids = Array.isArray(result?.ids) ? (result.ids as unknown[]) : [];
    const id = typeof ids[0] === "string" ? ids[0] : null;
    if (id && this.records.has(id)) this.select(id);
    else if (id) this.selectOnArrival = id;
    this.pendingKeyframes.delete(track);
    this.shownFor = [];
    this.changed();
  }

  private async addCuboid(geometry: CuboidGeom): Promise<void> {
    const spec = this.classMap.get(this.label) ?? this.classes[0];
    if (!spec) {
      this.report(pageError("NoClassChosen", "no class of this taxonomy allows cuboids on point clouds"));
      return;
    }
    const attributes: Record<string, unknown> = {};
    const result = await this.command("annotation.add", {
      item: this.item,
      stream: this.stream,
      label: spec.name,
      kind: "cuboid",
      geometry: cuboidValue(geometry),
      frame: this.sweepCount > 0 ? this.sweep : null,
      track: `t_${newUuid().replace(/-/g, "").slice(0, 12)}`,
      attributes,
    });
    const ids = Array.isArray(result?.ids) ? (result.ids as unknown[]) : [];
    const id = typeof ids[0] === "string" ? ids[0] : null;
    if (id && this.records.has(id)) this.select(id);
    else if (id) this.selectOnArrival = id;
  }

  private deleteSelected(): void {
    const s = this.shownByKey(this.selectedKey);
    if (!s || !s.editable || !s.record) {
      if (s?.interpolated) this.flash("an interpolated cuboid is not stored: delete a keyframe of its track");
      return;
    }
    const rec = s.record;
    this.select(null);
    void this.command("annotation.delete", { id: rec.id, revision: rec.revision });
  }

  private keyframeHere(): void {
    const s = this.shownByKey(this.selectedKey);
    if (s?.interpolated && s.editable) {
      this.commit(s, s.geometry);
      return;
    }
    if (s?.record) {
      this.flash("this sweep already holds a keyframe of the track");
      return;
    }
    // The selected track has no cuboid here (before its first / after its last keyframe): copy the nearest.
    if (this.selectedTrack === null) {
      this.flash("select a cuboid first");
      return;
    }
    let best: CuboidRecord | null = null;
    for (const r of this.records.values()) {
      if (r.track !== this.selectedTrack || r.frame === null) continue;
      if (!best || Math.abs(r.frame - this.sweep) < Math.abs((best.frame as number) - this.sweep)) best = r;
    }
    if (best) void this.addKeyframe(best.track as string, best, best.cuboid);
  }

  // -- selection --------------------------------------------------------------------------

  private select(key: string | null, write = true): void {
    if (key === this.selectedKey) return;
    this.selectedKey = key;
    const s = this.shownByKey(key);
    if (key !== null) this.selectedTrack = s?.track ?? this.records.get(key)?.track ?? null;
    else this.selectedTrack = null;
    const id = s?.record?.id ?? (key !== null && !key.startsWith("~") ? key : null);
    if (write && this.model.get("selected") !== id) this.setTrait("selected", id);
    this.bus?.publish("select", id, this.me);
    this.renderSide(true);
    this.changed();
  }

  /** After a sweep change: keep the selected track selected (its keyframe or interpolation here). */
  private reselectByTrack(): void {
    const track = this.selectedTrack;
    const s = track === null ? null : this.shownCuboids().find((x) => x.track === track);
    const key = s?.key ?? null;
    this.selectedKey = key;
    const id = s?.record?.id ?? null;
    if (this.model.get("selected") !== id) this.setTrait("selected", id);
    this.renderSide(true);
  }

  private setHover(key: string | null): void {
    if (key === this.hoverKey) return;
    this.hoverKey = key;
    const s = this.shownByKey(key);
    const rec = s?.record ?? null;
    this.bus?.publish("hover", rec ? { id: rec.id, entity: (rec.raw as { entity?: unknown }).entity ?? null } : null, this.me);
    this.changed();
  }

  // -- sweeps, clock, bus ---------------------------------------------------------------

  private goToSweep(n: number): void {
    if (this.sweepCount <= 0) return;
    const s = Math.min(this.sweepCount - 1, Math.max(0, Math.trunc(n)));
    if (s === this.sweep) return;
    this.sweep = s;
    this.setTrait("sweep", s);
    this.sweepChanged();
    const t = this.sweepTimes[s];
    if (this.clock && t !== undefined && this.model.get("follow_clock") !== false) {
      this.clock.seek(toItemTime(this.clock.streamClock(this.stream), t), this.me);
    }
  }

  private sweepChanged(): void {
    this.drag = null;
    this.preview = null;
    this.draft = null;
    this.shownFor = [];
    if (this.selectedKey !== null) this.reselectByTrack();
    if (this.colorBy === "label") this.colorsDirty = true;
    this.changed();
  }

  private subscribeClock(): void {
    const key = str(this.model.get("bus_key"));
    if (!key) return;
    const sc = this.model.get("stream_clock") as { offset?: unknown; rate?: unknown } | null;
    const offset = typeof sc?.offset === "number" ? sc.offset : 0;
    const rate = typeof sc?.rate === "number" && sc.rate > 0 ? sc.rate : 1;
    const last = this.sweepTimes[this.sweepTimes.length - 1];
    this.clock = getSharedClock(key, {
      streams: [{ name: this.stream, modality: "pointcloud", duration: last ?? null, clock: { offset, rate } }],
    });
    const off = this.clock.subscribe((state, source) => {
      if (source === this.me || this.closed || this.model.get("follow_clock") === false || !this.clock) return;
      if (this.sweepTimes.length === 0) return;
      const t = toStreamTime(this.clock.streamClock(this.stream), state.time);
      const s = nearestSweep(this.sweepTimes, t);
      if (s !== this.sweep) {
        this.sweep = s;
        this.setTrait("sweep", s);
        this.sweepChanged();
      }
    });
    this.cleanups.push(off);
  }

  private subscribeBus(): void {
    const key = str(this.model.get("bus_key"));
    if (!key) return;
    this.bus = getBus(key);
    this.cleanups.push(
      getBus<{ reveal: unknown }>(key).subscribe("reveal", (value, { source }) => this.onReveal(value, source)),
      this.bus.subscribe("hover", (value, { source }) => {
        if (source === this.me) return;
        const id = typeof value === "string" ? value : typeof value === "object" && value ? (value as { id?: unknown }).id : null;
        const entity = typeof value === "object" && value ? (value as { entity?: unknown }).entity : null;
        let key: string | null = null;
        for (const s of this.shownCuboids()) {
          if (!s.record) continue;
          if (s.record.id === id || (entity && (s.record.raw as { entity?: unknown }).entity === entity)) key = s.key;
        }
        this.busHover = key;
        this.changed();
      }),
    );
  }

  private busHover: string | null = null;
  /** Link mode across the item's widgets (runtime/linkmode.ts). */
  private link: LinkModeController | null = null;

  /** Link mode: L / "⇢ Link" from the selected cuboid; a click on a cuboid picks it while the mode is on. */
  private mountLinkMode(): void {
    const link = new LinkModeController({
      client: this.client,
      busKey: str(this.model.get("bus_key")),
      root: this.el,
      host: this.ui.alerts,
      describe: (id) => {
        const rec = this.records.get(id);
        return rec ? { id, kind: "cuboid", stream: this.stream, label: rec.label } : null;
      },
      selected: () => this.shownByKey(this.selectedKey)?.record?.id ?? null,
      report: (err) => this.report(err),
      changed: () => this.changed(),
    });
    this.link = link;
    const canvas = this.ui.canvas;
    const onPick = (e: PointerEvent): void => {
      if (!link.active || e.button !== 0) return;
      const id = this.pickCuboid(e.clientX, e.clientY)?.record?.id;
      if (id && link.pick(id)) {
        e.preventDefault();
        e.stopImmediatePropagation();
      }
    };
    canvas.addEventListener("pointerdown", onPick, true);
    this.cleanups.push(() => canvas.removeEventListener("pointerdown", onPick, true));
    const button = this.el.ownerDocument.createElement("button");
    button.type = "button";
    button.className = "accord-rc-btn";
    button.textContent = "⇢ Link";
    button.title = "Link the selected cuboid to an annotation in any view of this item (L)";
    button.dataset.action = "link";
    button.addEventListener("click", () => link.start());
    this.el.querySelector('[data-action="help"]')?.before(button);
  }

  /** The entity panel's "go to" (`reveal`): same stream → that sweep, the cuboid selected. */
  private onReveal(value: unknown, source: unknown): void {
    if (source === this.me || typeof value !== "object" || value === null) return;
    const r = value as { id?: unknown; stream?: unknown; sweep?: unknown };
    if (typeof r.id !== "string" || r.stream !== this.stream) return;
    if (typeof r.sweep === "number" && this.sweepCount > 0) {
      const s = Math.min(this.sweepCount - 1, Math.max(0, Math.trunc(r.sweep)));
      if (s !== this.sweep) {
        this.sweep = s;
        this.setTrait("sweep", s);
        this.sweepChanged();
      }
    }
    this.select(r.id);
  }

  // -- tools, views, labels ----------------------------------------------------------------

  private fitted = false;

  /** Aim the camera at the bulk of the points (2nd–98th percentiles in x and y). */
  private fit(): void {
    const p = this.positions;
    const [x0, x1] = robustRange((i) => p[3 * i] as number, this.count);
    const [y0, y1] = robustRange((i) => p[3 * i + 1] as number, this.count);
    const extent = Math.max(4, x1 - x0, y1 - y0);
    this.cam = {
      ...this.cam,
      target: [(x0 + x1) / 2, (y0 + y1) / 2, this.groundZ],
      halfHeight: 0.55 * extent,
      distance: 0.9 * extent,
    };
    this.fitted = true;
    this.changed();
  }

  private setTool(t: Tool): void {
    if (t !== this.tool) {
      this.tool = t;
      this.setTrait("tool", t);
    }
    this.focus();
    this.changed();
  }

  private setView(v: ViewMode, write: boolean): void {
    const target = this.cam.target;
    this.cam = { ...defaultCamera(v), target, halfHeight: this.cam.halfHeight, distance: this.cam.distance };
    if (write && this.model.get("view") !== v) this.setTrait("view", v);
    this.focus();
    this.changed();
  }

  private chooseLabel(name: string): void {
    if (!this.classMap.has(name)) return;
    if (name !== this.label) {
      this.label = name;
      this.setTrait("label", name);
    }
    const s = this.shownByKey(this.selectedKey);
    if (s?.record && s.editable && s.record.label !== name) this.edits.submit(s.record.id, { label: name });
    else if (s?.interpolated && s.editable && s.from && s.track && s.label !== name) {
      void this.addKeyframe(s.track, s.from, s.geometry, { label: name });
    }
    this.focus();
    this.changed();
  }

  private runAction(a: Action): void {
    switch (a) {
      case "undo":
      case "redo":
        void this.command(a, {});
        break;
      case "keyframe":
        this.keyframeHere();
        break;
      case "toggle-others":
        this.showOthers = !this.showOthers;
        this.setTrait("show_others", this.showOthers);
        break;
      case "help":
        this.ui.toggleHelp();
        break;
      case "fit":
        this.fit();
        break;
      case "prev":
        this.goToSweep(this.sweep - 1);
        break;
      case "next":
        this.goToSweep(this.sweep + 1);
        break;
    }
    if (a !== "help") this.focus();
    this.changed();
  }

  private focus(): void {
    try {
      this.ui.canvas.focus({ preventScroll: true });
    } catch {
      // detached
    }
  }

  private flash(text: string): void {
    this.hint = text;
    setTimeout(() => {
      if (this.hint === text) {
        this.hint = "";
        this.changed();
      }
    }, 3000);
    this.changed();
  }

  // -- geometry of the screen ------------------------------------------------------------------

  private currentCamera(): Camera {
    this.camera = this.rig.apply(this.cam, this.cssW, this.cssH);
    return this.camera;
  }

  /** Client (viewport) pixels of a LiDAR-frame point; null when behind the camera. */
  project(p: Vec3): [number, number] | null {
    const cam = this.currentCamera();
    const v = new Vector3(p[0], p[1], p[2]).project(cam);
    if (v.z > 1 || v.z < -1) return null;
    const r = this.ui.canvas.getBoundingClientRect();
    return [r.left + ((v.x + 1) / 2) * r.width, r.top + ((1 - v.y) / 2) * r.height];
  }

  private rayAt(clientX: number, clientY: number): { origin: Vec3; dir: Vec3; ray: Raycaster } {
    const r = this.ui.canvas.getBoundingClientRect();
    const ndc = new Vector2(((clientX - r.left) / Math.max(1, r.width)) * 2 - 1, 1 - ((clientY - r.top) / Math.max(1, r.height)) * 2);
    this.raycaster.setFromCamera(ndc, this.currentCamera());
    const { origin, direction } = this.raycaster.ray;
    return { origin: [origin.x, origin.y, origin.z], dir: [direction.x, direction.y, direction.z], ray: this.raycaster };
  }

  private onPlane(clientX: number, clientY: number, plane: Plane): Vec3 | null {
    const { ray } = this.rayAt(clientX, clientY);
    const out = new Vector3();
    return ray.ray.intersectPlane(plane, out) ? [out.x, out.y, out.z] : null;
  }

  private groundAt(clientX: number, clientY: number, z = this.groundZ): Vec3 | null {
    return this.onPlane(clientX, clientY, new Plane(new Vector3(0, 0, 1), -z));
  }

  /** A vertical plane through `c` facing the camera (for height handles); null looking straight down. */
  private verticalPlane(c: Vec3): Plane | null {
    const { back } = viewAxes(this.cam);
    const n = new Vector3(back.x, back.y, 0);
    if (n.length() < 1e-3) return null;
    n.normalize();
    return new Plane().setFromNormalAndCoplanarPoint(n, new Vector3(c[0], c[1], c[2]));
  }

  private pickCuboid(clientX: number, clientY: number): Shown | null {
    const { origin, dir } = this.rayAt(clientX, clientY);
    let best: Shown | null = null;
    let bestT = Infinity;
    for (const s of this.shownCuboids()) {
      const t = rayHit(s.geometry, origin, dir);
      if (t !== null && t < bestT) {
        bestT = t;
        best = s;
      }
    }
    return best;
  }

  private pickHandle(clientX: number, clientY: number): HandleName | null {
    const s = this.shownByKey(this.selectedKey);
    if (!s || !s.editable) return null;
    const pos = handlePositions(s.geometry);
    let best: HandleName | null = null;
    let bestD = HANDLE_PICK_PX;
    for (const name of this.visibleHandles()) {
      const p = this.project(pos[name]);
      if (!p) continue;
      const d = Math.hypot(p[0] - clientX, p[1] - clientY);
      if (d <= bestD) {
        bestD = d;
        best = name;
      }
    }
    return best;
  }

  /** Handles that can be dragged in this view (height handles need a side-on view). */
  private visibleHandles(): HandleName[] {
    return HANDLE_NAMES.filter((h) => !(h === "+h" || h === "-h") || this.cam.mode !== "top");
  }

  // -- input ---------------------------------------------------------------------------------

  private bindInput(): void {
    const c = this.ui.canvas;
    const listen = <K extends keyof HTMLElementEventMap>(
      target: HTMLElement | Window,
      type: K,
      fn: (e: HTMLElementEventMap[K]) => void,
      opts?: AddEventListenerOptions,
    ): void => {
      target.addEventListener(type, fn as EventListener, opts);
      this.cleanups.push(() => target.removeEventListener(type, fn as EventListener, opts));
    };
    listen(c, "contextmenu", (e) => e.preventDefault());
    listen(c, "pointerdown", (e) => this.onDown(e));
    listen(c, "pointermove", (e) => this.onMove(e));
    listen(c, "pointerup", (e) => this.onUp(e));
    listen(c, "pointercancel", () => {
      this.drag = null;
      this.preview = null;
      this.draft = null;
      this.changed();
    });
    listen(c, "wheel", (e) => this.onWheel(e), { passive: false });
    listen(c, "keydown", (e) => this.onKey(e));
  }

  private onDown(e: PointerEvent): void {
    this.focus();
    try {
      this.ui.canvas.setPointerCapture(e.pointerId);
    } catch {
      // synthetic events
    }
    const base = { x0: e.clientX, y0: e.clientY, last: [e.clientX, e.clientY] as [number, number], moved: false };
    if (e.button === 2 || e.button === 1 || e.shiftKey) {
      this.drag = { kind: "pan", ...base };
      return;
    }
    if (this.tool === "cuboid") {
      const g = this.groundAt(e.clientX, e.clientY);
      if (g) {
        this.drag = { kind: "draw", ...base, ground0: g };
        return;
      }
    }
    const handle = this.pickHandle(e.clientX, e.clientY);
    const sel = this.shownByKey(this.selectedKey);
    if (handle && sel) {
      const c = sel.geometry.center;
      const plane =
        handle === "+h" || handle === "-h" ? this.verticalPlane(c) : new Plane(new Vector3(0, 0, 1), -c[2]);
      if (plane) {
        this.drag = { kind: "handle", ...base, key: sel.key, handle, start: sel.geometry, plane };
        return;
      }
    }
    const hit = this.pickCuboid(e.clientX, e.clientY);
    if (hit) {
      this.select(hit.key);
      if (hit.editable) {
        const plane = new Plane(new Vector3(0, 0, 1), -hit.geometry.center[2]);
        const g0 = this.onPlane(e.clientX, e.clientY, plane);
        if (g0) {
          this.drag = { kind: "move", ...base, key: hit.key, start: hit.geometry, plane, ground0: g0 };
          return;
        }
      }
      this.drag = { kind: this.cam.mode === "orbit" ? "orbit" : "pan", ...base };
      return;
    }
    this.drag = { kind: this.cam.mode === "orbit" ? "orbit" : "pan", ...base, key: "deselect" };
  }

  private onMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d) {
      const hit = this.pickCuboid(e.clientX, e.clientY);
      this.setHover(hit?.key ?? null);
      return;
    }
    const dx = e.clientX - d.last[0];
    const dy = e.clientY - d.last[1];
    if (Math.hypot(e.clientX - d.x0, e.clientY - d.y0) > DRAG_THRESHOLD_PX) d.moved = true;
    d.last = [e.clientX, e.clientY];
    switch (d.kind) {
      case "orbit":
        this.cam = orbitBy(this.cam, dx, dy);
        break;
      case "pan":
        this.cam = panBy(this.cam, dx, dy, this.cssH);
        break;
      case "draw": {
        const g = this.groundAt(e.clientX, e.clientY);
        const g0 = d.ground0 as Vec3;
        if (g) {
          const f = footprint([g0[0], g0[1]], [g[0], g[1]]);
          this.draft = f ? { center: [f.cx, f.cy, this.groundZ], size: [f.l, f.w, 0.01], yaw: 0 } : null;
        }
        break;
      }
      case "move": {
        const p = d.plane ? this.onPlane(e.clientX, e.clientY, d.plane) : null;
        const g0 = d.ground0 as Vec3;
        if (p && d.start && d.key) this.preview = { key: d.key, geometry: moveBy(d.start, p[0] - g0[0], p[1] - g0[1]) };
        break;
      }
      case "handle": {
        const p = d.plane ? this.onPlane(e.clientX, e.clientY, d.plane) : null;
        if (!p || !d.start || !d.key || !d.handle) break;
        let geometry: CuboidGeom;
        if (d.handle === "yaw") geometry = yawTowards(d.start, p[0], p[1], e.shiftKey ? SNAP : 0);
        else if (d.handle === "+h" || d.handle === "-h") geometry = resizeVertical(d.start, d.handle, p[2]);
        else geometry = resizeHorizontal(d.start, d.handle, p[0], p[1]);
        this.preview = { key: d.key, geometry };
        break;
      }
    }
    this.shownFor = [];
    this.changed();
  }

  private onUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (d.kind === "draw") {
      const g = this.groundAt(e.clientX, e.clientY);
      const g0 = d.ground0 as Vec3;
      this.draft = null;
      const f = g ? footprint([g0[0], g0[1]], [g[0], g[1]]) : null;
      if (f && d.moved) {
        const { cz, h } = heightFromPoints(f, this.positions, this.count, this.groundZ, DEFAULT_CUBOID_HEIGHT);
        void this.addCuboid({ center: [f.cx, f.cy, cz], size: [f.l, f.w, h], yaw: 0 });
      } else {
        const hit = this.pickCuboid(e.clientX, e.clientY);
        this.select(hit?.key ?? null);
      }
    } else if ((d.kind === "move" || d.kind === "handle") && this.preview && d.moved) {
      const s = this.shownByKey(this.preview.key);
      const geometry = this.preview.geometry;
      this.preview = null;
      this.shownFor = [];
      if (s) this.commit(s, geometry);
    } else if (d.key === "deselect" && !d.moved) {
      this.select(null);
    }
    this.preview = null;
    this.shownFor = [];
    this.changed();
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    this.cam = zoomBy(this.cam, Math.exp(e.deltaY * 0.001));
    this.changed();
  }

  private onKey(e: KeyboardEvent): void {
    const key = e.key;
    const ctrl = e.ctrlKey || e.metaKey;
    let used = true;
    if (ctrl && (key === "z" || key === "Z")) void this.command(e.shiftKey ? "redo" : "undo", {});
    else if (ctrl && (key === "y" || key === "Y")) void this.command("redo", {});
    else if (!ctrl && this.classes.some((c) => c.hotkey === key)) {
      const c = this.classes.find((x) => x.hotkey === key);
      if (c) this.chooseLabel(c.name);
    } else if (key === "Delete" || key === "Backspace") this.deleteSelected();
    else if (key === "Escape") {
      this.drag = null;
      this.draft = null;
      this.preview = null;
      this.select(null);
    } else if (key === "ArrowLeft") this.goToSweep(this.sweep - 1);
    else if (key === "ArrowRight") this.goToSweep(this.sweep + 1);
    else if (key === "[" || key === "]" || key === "{" || key === "}") {
      const s = this.shownByKey(this.selectedKey);
      const step = (e.shiftKey || key === "{" || key === "}" ? ROTATE_FINE : ROTATE_STEP) * (key === "[" || key === "{" ? 1 : -1);
      if (s?.editable) this.commit(s, rotateBy(s.geometry, step));
    } else if (key === "k" || key === "K") this.keyframeHere();
    else if (key >= "1" && key <= "4") this.setView(VIEW_MODES[Number(key) - 1] as ViewMode, true);
    else if (key === "0") this.fit();
    else used = false;
    if (used) {
      e.preventDefault();
      e.stopPropagation();
      this.changed();
    }
  }

  // -- rendering --------------------------------------------------------------------------------

  private observeSize(): void {
    this.resize();
    if (typeof ResizeObserver === "function") {
      const ro = new ResizeObserver(() => this.resize());
      ro.observe(this.ui.stage);
      this.cleanups.push(() => ro.disconnect());
    }
  }

  private resize(): void {
    const w = this.ui.stage.clientWidth || 640;
    const h = this.heightPx;
    this.cssW = w;
    this.cssH = h;
    const dpr = this.el.ownerDocument.defaultView?.devicePixelRatio || 1;
    if (this.renderer) {
      this.renderer.setPixelRatio(dpr);
      this.renderer.setSize(w, h, false);
    }
    this.ui.canvas.style.height = `${h}px`;
    this.changed();
  }

  /** Something changed: update hooks and the toolbar now, draw on the next frame. */
  private changed(): void {
    if (this.closed) return;
    this.refreshHooks();
    if (this.rafId) return;
    this.rafId = raf(() => {
      this.rafId = 0;
      this.draw();
    });
  }

  private refreshHooks(): void {
    const d = this.el.dataset;
    const set = (k: string, v: string): void => {
      if (d[k] !== v) d[k] = v;
    };
    set("ready", String(this.loaded && this.renderer !== null && this.stats.lastRender !== null));
    set("sweep", this.pointsSweep === null ? "" : String(this.pointsSweep));
    set("shownSweep", String(this.sweep));
    set("cuboids", String(this.loaded ? this.shownCuboids().length : 0));
    set("selected", this.selectedKey ?? "");
    set("hovered", this.hoverKey ?? this.busHover ?? "");
    set("view", this.cam.mode);
    set("colorBy", this.colorBy);
    set("tool", this.tool);
    this.ui.setState({
      tool: this.tool,
      view: this.cam.mode,
      colorBy: this.colorBy,
      label: this.label,
      sweep: this.sweep,
      count: this.sweepCount,
      showOthers: this.showOthers,
    });
    const n = this.shownCuboids().length;
    const sel = this.shownByKey(this.selectedKey);
    const dims = sel
      ? ` · ${sel.label} l ${sel.geometry.size[0].toFixed(2)} w ${sel.geometry.size[1].toFixed(2)} h ${sel.geometry.size[2].toFixed(2)} m, yaw ${((sel.geometry.yaw * 180) / Math.PI).toFixed(1)}°${sel.interpolated ? " (interpolated)" : ""}`
      : "";
    this.ui.setStatus(`${this.count.toLocaleString()} points · ${n} cuboid${n === 1 ? "" : "s"}${dims}`, this.hint);
  }

  private syncBoxes(): void {
    const shown = this.shownCuboids();
    const keep = new Set<string>();
    const hover = this.hoverKey ?? this.busHover;
    for (const s of shown) {
      keep.add(s.key);
      let obj = this.boxGroups.get(s.key);
      const selected = s.key === this.selectedKey;
      const wantDashed = s.interpolated || !s.editable;
      if (!obj || (obj.material instanceof LineDashedMaterial) !== wantDashed) {
        if (obj) {
          this.scene.remove(obj);
          obj.geometry.dispose();
        }
        const geom = new BufferGeometry();
        geom.setAttribute("position", new BufferAttribute(new Float32Array(72), 3));
        const mat = wantDashed ? new LineDashedMaterial({ dashSize: 0.3, gapSize: 0.2 }) : new LineBasicMaterial();
        obj = new LineSegments(geom, mat);
        obj.frustumCulled = false;
        this.boxGroups.set(s.key, obj);
        this.scene.add(obj);
      }
      const attr = obj.geometry.getAttribute("position") as BufferAttribute;
      writeEdges(s.geometry, attr.array as Float32Array);
      attr.needsUpdate = true;
      if (wantDashed) obj.computeLineDistances();
      const mat = obj.material as LineBasicMaterial;
      const lit = s.record !== null && (this.link?.lit.includes(s.record.id) ?? false); // a hovered link's other end
      mat.color.set(selected || s.key === hover || lit ? 0xffffff : this.colourOf(s.label));
    }
    for (const [key, obj] of this.boxGroups) {
      if (keep.has(key)) continue;
      this.scene.remove(obj);
      obj.geometry.dispose();
      this.boxGroups.delete(key);
    }
    // handles of the selected editable cuboid
    const sel = this.shownByKey(this.selectedKey);
    const hpos: number[] = [];
    if (sel && sel.editable && this.tool === "select") {
      const pos = handlePositions(sel.geometry);
      for (const h of this.visibleHandles()) hpos.push(...pos[h]);
    }
    this.handlesObject.geometry.dispose();
    const hg = new BufferGeometry();
    hg.setAttribute("position", new Float32BufferAttribute(hpos, 3));
    this.handlesObject.geometry = hg;
    // the footprint being drawn
    const dverts = new Float32Array(this.draft ? 72 : 0);
    if (this.draft) writeEdges(this.draft, dverts);
    this.draftLines.geometry.dispose();
    const dg = new BufferGeometry();
    dg.setAttribute("position", new BufferAttribute(dverts, 3));
    this.draftLines.geometry = dg;
  }

  private syncTags(): void {
    const shown = this.shownCuboids().slice(0, 200);
    const box = this.ui.labels;
    const r = this.ui.canvas.getBoundingClientRect();
    const nodes: HTMLElement[] = [];
    for (const s of shown) {
      const top: Vec3 = [s.geometry.center[0], s.geometry.center[1], s.geometry.center[2] + s.geometry.size[2] / 2];
      const p = this.project(top);
      if (!p) continue;
      const tag = this.el.ownerDocument.createElement("span");
      tag.className = `accord-cv-tag${s.interpolated ? " accord-cv-interp" : ""}`;
      const who = s.editable ? "" : ` · ${s.annotator ?? ""}`;
      tag.textContent = `${s.label}${who}${s.interpolated ? " (interp.)" : ""}`;
      tag.style.left = `${p[0] - r.left}px`;
      tag.style.top = `${p[1] - r.top}px`;
      tag.style.borderLeftColor = this.colourOf(s.label);
      tag.dataset.key = s.key;
      nodes.push(tag);
    }
    box.replaceChildren(...nodes);
  }

  private draw(): void {
    if (this.closed || !this.renderer) return;
    this.recolor();
    this.syncBoxes();
    const cam = this.currentCamera();
    this.renderer.render(this.scene, cam);
    this.syncTags();
    this.stats.renders++;
    this.stats.lastRender = { points: this.count, sweep: this.pointsSweep, at: epochMs() };
    this.el.dataset.points = String(this.count);
    this.refreshHooks();
  }

  // -- side panel ---------------------------------------------------------------------------

  private panelKey = "";

  private renderSide(force: boolean): void {
    const s = this.shownByKey(this.selectedKey);
    const rec = s?.record ?? null;
    const key = s ? `${s.key}@${rec?.revision ?? "i"}@${s.label}@${JSON.stringify(rec?.attributes ?? {})}` : `none@${this.label}`;
    if (!force && key === this.panelKey) return;
    this.panelKey = key;
    const record = rec?.raw ?? (s?.from ? { ...s.from.raw, id: `(interpolated, track ${s.track ?? ""})`, revision: null } : null);
    renderPanel(
      this.ui.side,
      { record, editable: !!s?.editable, classes: this.classes, label: this.label },
      {
        attribute: (name, value) => {
          const cur = this.shownByKey(this.selectedKey);
          if (!cur?.editable) return;
          if (cur.record) {
            this.edits.submit(cur.record.id, { attributes: { ...cur.record.attributes, [name]: value } });
          } else if (cur.from && cur.track) {
            // Changing an interpolated cuboid stores it as a keyframe with the new value.
            void this.addKeyframe(cur.track, cur.from, cur.geometry, { attributes: { ...cur.from.attributes, [name]: value } });
          }
        },
        relabel: (name) => this.chooseLabel(name),
        delete: () => this.deleteSelected(),
      },
    );
    if (s?.interpolated) {
      const note = this.el.ownerDocument.createElement("div");
      note.className = "accord-rc-muted";
      note.textContent =
        "Interpolated between keyframes: move, resize, turn, relabel or change an attribute (or press K) to store a keyframe here.";
      this.ui.side.append(note);
    }
  }

  // -- test hook ------------------------------------------------------------------------------

  private installHook(): void {
    const id = this.modelId();
    this.el.dataset.modelId = id;
    const g = globalThis as { accordCloud?: Record<string, CloudHook> };
    g.accordCloud ??= {};
    g.accordCloud[id] = {
      project: (p) => this.project([p[0] ?? 0, p[1] ?? 0, p[2] ?? 0]),
      ground: (x, y, z) => this.groundAt(x, y, z ?? this.groundZ),
      cuboids: () =>
        this.shownCuboids().map((s) => ({
          key: s.key,
          id: s.record?.id ?? null,
          track: s.track,
          label: s.label,
          geometry: s.geometry,
          interpolated: s.interpolated,
          editable: s.editable,
        })),
      handles: (key) => {
        const s = this.shownByKey(key ?? this.selectedKey);
        if (!s) return null;
        const pos = handlePositions(s.geometry);
        const out: Record<string, [number, number]> = {};
        for (const h of HANDLE_NAMES) {
          const p = this.project(pos[h]);
          if (p) out[h] = p;
        }
        const c = this.project(s.geometry.center);
        if (c) out.center = c;
        return out;
      },
      stats: () => JSON.parse(JSON.stringify(this.stats)) as CloudStats,
      resetStats: () => {
        this.stats.pointsUpdates = 0;
        this.stats.pointsBytes = 0;
        this.stats.colorUpdates = 0;
        this.stats.renders = 0;
        this.stats.raw = [];
        this.stats.commands = [];
      },
      camera: () => ({ ...this.cam }),
    };
  }
}

function pageErrorFrom(msg: unknown): Error {
  const e = (msg as { error?: Record<string, unknown> } | null)?.error ?? {};
  const err = new Error(typeof e.message === "string" ? e.message : "the kernel reported an error");
  return Object.assign(err, {
    error: typeof e.error === "string" ? e.error : "Error",
    where: typeof e.where === "string" ? e.where : null,
  });
}
