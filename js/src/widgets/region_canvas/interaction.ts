/**
 * Pointer and keyboard input on the canvas: turns DOM events into gestures
 * (pan, draw, edit), drafts (polygon, keypoints) and shortcut actions, using
 * the pure rules in tools.ts and keys.ts. It owns only transient input state;
 * everything it produces goes to the host (the view) as one call: add a
 * shape, edit a shape, select, pan, zoom. During a drag nothing leaves the
 * page; the command is made on pointer-up.
 */

import type { Point, Size, ViewTransform } from "../../runtime/geometry.js";
import type { Draft } from "./draw.js";
import { keyAction, type KeyAction } from "./keys.js";
import {
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
  rotatedBoxFromScreenDrag,
  shapeProblem,
  shapesEqual,
  toggleKeypointVisibility,
  type Grab,
  type KeypointDraft,
  type Pickable,
} from "./tools.js";
import type { ClassSpec, Kind, Shape, Tool } from "./types.js";

/** What the input layer needs from the view. */
export interface InteractionHost {
  view(): ViewTransform;
  imageSize(): Size;
  tool(): Tool;
  classes(): readonly ClassSpec[];
  video(): boolean;
  /** Records this view may edit / all drawn records, in drawing order. */
  editables(): readonly Pickable[];
  visibles(): readonly Pickable[];
  /** The selection when it is editable (with its current shape). */
  selected(): Pickable | null;
  select(id: string | null): void;
  setHover(id: string | null): void;
  setView(view: ViewTransform): void;
  zoomAt(at: Point, factor: number): void;
  /** A drawing tool may start (a class that allows `kind` is chosen); reports why not. */
  canDraw(kind: Kind): boolean;
  /** Keypoint names of the current class. */
  keypointNames(): readonly string[];
  add(shape: Shape): void;
  edit(id: string, shape: Shape): void;
  /** A page-side refusal (shown in the error banner). */
  refuse(name: string, message: string): void;
  /** A short message in the status line. */
  hint(text: string): void;
  /** Shortcut actions that are not about drafts (undo, labels, zoom, frames, rotate, delete, help...). */
  perform(action: KeyAction): void;
  /** Something changed: refresh hooks/status and redraw. */
  changed(): void;
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

/** Movement (screen px) under which a press on a shape is a click, not a drag. */
export const CLICK_SLOP_PX = 2;
/** Shift while rotating snaps to this step. */
const SNAP_ANGLE = Math.PI / 12;

export class Interaction {
  private gesture: Gesture | null = null;
  private polygon: Point[] | null = null;
  private keypoints: KeypointDraft | null = null;
  /** The pointer in screen px, null when outside the canvas. */
  cursor: Point | null = null;
  private spaceDown = false;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly host: InteractionHost,
  ) {
    this.bind();
  }

  dispose(): void {
    for (const off of this.cleanups.splice(0)) off();
  }

  /** A polygon or keypoint draft is open. */
  get drafting(): boolean {
    return this.polygon !== null || this.keypoints !== null;
  }

  /** True while the pointer holds a gesture (no hover updates, no reloads of the preview). */
  get busy(): boolean {
    return this.gesture !== null;
  }

  /** The id being edited by the current drag, if any. */
  get editingId(): string | null {
    return this.gesture?.type === "edit" ? this.gesture.id : null;
  }

  /** The drag preview of record `id`, if it is being dragged. */
  previewOf(id: string): Shape | null {
    const g = this.gesture;
    return g?.type === "edit" && g.id === id ? g.preview : null;
  }

  /** Drop open drafts and an unfinished drawing drag (tool, class or frame changed). */
  cancelDrafts(): void {
    this.polygon = null;
    this.keypoints = null;
    if (this.gesture?.type === "draw") this.gesture = null;
  }

  /** Drop the keypoint draft only (its class changed). */
  cancelKeypoints(): void {
    this.keypoints = null;
  }

  /** What is being drawn, for the renderer. */
  draft(color: string): Draft | null {
    const g = this.gesture;
    const view = this.host.view();
    if (g?.type === "draw") {
      const bounds = this.host.imageSize();
      let shape: Shape | null = null;
      if (g.kind === "box") {
        const geometry = boxFromScreenDrag(view, g.start, g.now, bounds);
        if (geometry) shape = { kind: "box", geometry };
      } else {
        const geometry = rotatedBoxFromScreenDrag(view, g.start, g.now, bounds);
        if (geometry) shape = { kind: "rotated_box", geometry };
      }
      return shape ? { kind: "shape", shape, color } : null;
    }
    if (this.polygon) {
      return { kind: "polygon", points: this.polygon, cursor: this.cursor, color, closable: this.polygon.length >= 3 };
    }
    if (this.keypoints) {
      return {
        kind: "keypoints",
        points: this.keypoints.points,
        cursor: this.cursor,
        color,
        next: nextKeypointName(this.keypoints),
      };
    }
    return null;
  }

  /** The status-line hint for an open draft ("" when none). */
  draftHint(): string {
    if (this.polygon) {
      return `polygon: ${this.polygon.length} vertices — click the first vertex, double-click or Enter to close; Backspace undoes a vertex; Esc cancels`;
    }
    if (this.keypoints) {
      const next = nextKeypointName(this.keypoints);
      const total = this.keypoints.names.length;
      const placed = this.keypoints.points.length;
      return next
        ? `keypoints: click “${next}” (${placed + 1}/${total}); Shift+click: occluded; Enter: finish; Esc cancels`
        : `keypoints: ${placed} placed; Enter finishes`;
    }
    return "";
  }

  // -- drafts ---------------------------------------------------------------------------

  private finishPolygon(): void {
    const points = this.polygon;
    if (!points) return;
    const closed = closePolygon(points);
    if (!closed.ok) {
      this.host.hint(`cannot close: ${closed.reason}`);
      return;
    }
    this.polygon = null;
    this.host.add({ kind: "polygon", geometry: closed.geometry });
  }

  private finishKeypoints(): void {
    const draft = this.keypoints;
    if (!draft) return;
    this.keypoints = null;
    const geometry = finishKeypoints(draft);
    if (geometry) this.host.add({ kind: "keypoints", geometry });
  }

  // -- DOM events -----------------------------------------------------------------------

  private bind(): void {
    const listen = <K extends keyof HTMLElementEventMap>(
      type: K,
      fn: (e: HTMLElementEventMap[K]) => void,
      options?: AddEventListenerOptions,
    ): void => {
      this.canvas.addEventListener(type, fn, options);
      this.cleanups.push(() => this.canvas.removeEventListener(type, fn, options));
    };
    listen("pointerdown", (e) => this.onPointerDown(e));
    listen("pointermove", (e) => this.onPointerMove(e));
    listen("pointerup", (e) => this.onPointerUp(e));
    listen("pointercancel", (e) => this.onPointerCancel(e));
    listen("pointerleave", () => {
      if (this.gesture) return;
      this.cursor = null;
      this.host.setHover(null);
      this.host.changed();
    });
    listen("dblclick", (e) => {
      if (this.host.tool() === "polygon" && this.polygon) {
        e.preventDefault();
        this.finishPolygon();
        this.host.changed();
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
      if (this.drafting) e.preventDefault();
    });
  }

  private screenPoint(e: { clientX: number; clientY: number }): Point {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private capture(e: PointerEvent): void {
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // no capture (e.g. synthetic events): the gesture still works inside the canvas
    }
  }

  private release(pointerId: number): void {
    try {
      if (this.canvas.hasPointerCapture?.(pointerId)) this.canvas.releasePointerCapture(pointerId);
    } catch {
      // already released
    }
  }

  private focus(): void {
    try {
      this.canvas.focus({ preventScroll: true });
    } catch {
      // detached
    }
  }

  private startEdit(e: PointerEvent, p: Point, item: Pickable, grab: Grab): void {
    this.gesture = {
      type: "edit",
      pointerId: e.pointerId,
      id: item.id,
      grab,
      startScreen: p,
      startImage: this.host.view().screenToImage(p),
      original: item.shape,
      preview: item.shape,
      moved: false,
    };
    this.capture(e);
  }

  private startPan(e: PointerEvent, p: Point): void {
    this.gesture = { type: "pan", pointerId: e.pointerId, start: p, startView: this.host.view() };
    this.capture(e);
    this.canvas.style.cursor = "grabbing";
  }

  /** In a drawing tool, a press on the selected shape's handle edits it instead of drawing. */
  private tryHandle(e: PointerEvent, p: Point): boolean {
    const sel = this.host.selected();
    if (!sel) return false;
    const grab = hitHandle(sel.shape, p, this.host.view());
    if (!grab) return false;
    this.startEdit(e, p, sel, grab);
    return true;
  }

  private onPointerDown(e: PointerEvent): void {
    if (this.gesture) return;
    this.focus();
    const p = this.screenPoint(e);
    this.cursor = p;
    if (e.button === 1 || (e.button === 0 && this.spaceDown)) {
      e.preventDefault();
      this.startPan(e, p);
      return;
    }
    if (e.button !== 0) return;
    e.preventDefault();
    const host = this.host;
    const view = host.view();
    const bounds = host.imageSize();
    const tool = host.tool();
    switch (tool) {
      case "select": {
        const hit = pick(host.editables(), p, view, host.selected());
        if (!hit) {
          host.select(null);
          this.startPan(e, p);
          break;
        }
        host.select(hit.id);
        const item = host.selected();
        if (!item) break;
        if (e.shiftKey && item.shape.kind === "keypoints" && hit.grab.type === "vertex") {
          const geometry = toggleKeypointVisibility(item.shape.geometry, hit.grab.index);
          host.edit(item.id, { kind: "keypoints", geometry });
          break;
        }
        this.startEdit(e, p, item, hit.grab);
        break;
      }
      case "box":
      case "rotated_box":
        if (this.tryHandle(e, p) || !host.canDraw(tool)) break;
        this.gesture = { type: "draw", pointerId: e.pointerId, kind: tool, start: p, now: p };
        this.capture(e);
        break;
      case "polygon": {
        if (!this.polygon && (this.tryHandle(e, p) || !host.canDraw("polygon"))) break;
        const step = polygonClick(this.polygon ?? [], p, view, bounds);
        if (step.type === "add") this.polygon = step.points;
        else if (step.type === "close") this.finishPolygon();
        break;
      }
      case "keypoints": {
        if (!this.keypoints) {
          if (this.tryHandle(e, p) || !host.canDraw("keypoints")) break;
          this.keypoints = newKeypointDraft(host.keypointNames());
        }
        const placed = placeKeypoint(this.keypoints, view.screenToImage(p), bounds, e.shiftKey);
        this.keypoints = placed.draft;
        if (placed.done) this.finishKeypoints();
        break;
      }
    }
    host.changed();
  }

  private onPointerMove(e: PointerEvent): void {
    const p = this.screenPoint(e);
    this.cursor = p;
    const g = this.gesture;
    const host = this.host;
    if (g && e.pointerId === g.pointerId) {
      if (g.type === "pan") {
        host.setView(g.startView.panBy(p.x - g.start.x, p.y - g.start.y));
      } else if (g.type === "draw") {
        g.now = p;
      } else {
        if (!g.moved && Math.hypot(p.x - g.startScreen.x, p.y - g.startScreen.y) >= CLICK_SLOP_PX) g.moved = true;
        if (g.moved) {
          g.preview = dragShape(
            g.original,
            g.grab,
            g.startImage,
            host.view().screenToImage(p),
            host.imageSize(),
            g.preview,
            e.shiftKey ? SNAP_ANGLE : 0,
          );
        }
      }
    } else if (!g) {
      host.setHover(pick(host.visibles(), p, host.view(), null)?.id ?? null);
      this.updateCursor(p);
    }
    host.changed();
  }

  private onPointerUp(e: PointerEvent): void {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    this.gesture = null;
    this.release(e.pointerId);
    const p = this.screenPoint(e);
    this.cursor = p;
    const host = this.host;
    if (g.type === "draw") {
      const view = host.view();
      const bounds = host.imageSize();
      let shape: Shape | null = null;
      if (g.kind === "box") {
        const geometry = boxFromScreenDrag(view, g.start, p, bounds);
        if (geometry) shape = { kind: "box", geometry };
      } else {
        const geometry = rotatedBoxFromScreenDrag(view, g.start, p, bounds);
        if (geometry) shape = { kind: "rotated_box", geometry };
      }
      // A click, not a drag: select what is under it (or deselect).
      if (shape) host.add(shape);
      else host.select(pick(host.editables(), p, view, null)?.id ?? null);
    } else if (g.type === "edit" && g.moved && !shapesEqual(g.original, g.preview)) {
      const problem = shapeProblem(g.preview, host.imageSize());
      if (problem) host.refuse("InvalidGeometry", problem);
      else host.edit(g.id, g.preview);
    }
    this.updateCursor(p);
    host.changed();
  }

  private onPointerCancel(e: PointerEvent): void {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    this.gesture = null;
    this.release(e.pointerId);
    this.host.changed();
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.canvas.clientHeight || 400 : 1;
    const dy = e.deltaY * unit;
    if (dy === 0) return;
    const factor = Math.exp(-Math.max(-300, Math.min(300, dy)) * 0.0015);
    this.host.zoomAt(this.screenPoint(e), factor);
  }

  /** The CSS cursor for where the pointer is. */
  private updateCursor(p: Point | null): void {
    const style = this.canvas.style;
    if (this.spaceDown) {
      style.cursor = "grab";
      return;
    }
    const host = this.host;
    const tool = host.tool();
    if (p) {
      const sel = host.selected();
      const grab = sel ? hitHandle(sel.shape, p, host.view()) : null;
      if (grab) {
        style.cursor = cursorFor(grab, sel?.shape.kind === "rotated_box" ? sel.shape.geometry.angle : 0);
        return;
      }
      if (tool === "select") {
        style.cursor = pick(host.editables(), p, host.view(), null) ? "move" : "default";
        return;
      }
    }
    style.cursor = tool === "select" ? "default" : "crosshair";
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
    const sel = this.host.selected();
    const action = keyAction(e, this.host.classes(), {
      drafting: this.drafting,
      hasSelection: sel !== null,
      selectionRotatable: sel?.shape.kind === "rotated_box",
      video: this.host.video(),
    });
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    switch (action.type) {
      case "finish-draft":
        if (this.polygon) this.finishPolygon();
        else this.finishKeypoints();
        break;
      case "remove-vertex":
        if (this.polygon) {
          this.polygon = removeLastVertex(this.polygon);
          if (this.polygon.length === 0) this.polygon = null;
        } else if (this.keypoints) {
          const points = this.keypoints.points.slice(0, -1);
          this.keypoints = points.length ? { ...this.keypoints, points } : null;
        }
        break;
      case "cancel":
        if (this.drafting) this.cancelDrafts();
        else this.host.select(null);
        break;
      default:
        this.host.perform(action);
    }
    this.host.changed();
  }
}
