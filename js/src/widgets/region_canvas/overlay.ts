/**
 * Projected cuboids on a RegionCanvas: a read-only overlay.
 *
 * For the frame on screen the canvas asks Python `projections.get {frame}`
 * (`accord.widgets.cloud_viewer.projected_boxes`): the cuboids of the item's
 * point clouds on the sweep nearest to that frame (keyframes and tracks
 * interpolated there), projected into this camera, each with the ids of the
 * 2-D annotations linked to it (same entity, or a link). They are drawn as
 * thin dashed boxes with a "3D" tag; they cannot be selected or edited here.
 *
 * Linked hover through the in-page bus (topic `hover`, value `{id, entity}`):
 * a cuboid hovered in the 3-D viewer highlights its projection and its linked
 * 2-D boxes here; a 2-D box hovered here is announced as its cuboid, so the
 * viewer highlights the cuboid.
 */

import type { Bus } from "../../runtime/bus.js";
import type { ViewTransform } from "../../runtime/geometry.js";
import { safeColour } from "../../runtime/text.js";
import type { Shape } from "./types.js";

export interface ProjectedBox {
  annotation: string | null;
  label: string;
  track: string | null;
  entity: string | null;
  interpolated: boolean;
  box: { x: number; y: number; w: number; h: number };
  linked: string[];
}

export interface OverlayHost {
  request(type: string, payload: Record<string, unknown>): Promise<{ result: unknown }>;
  colourOf(label: string): string;
  /** The shape of one of the canvas's own records (for highlighting linked boxes). */
  shapeOf(id: string): Shape | null;
  /** Redraw the canvas. */
  changed(): void;
}

type HoverValue = { id?: unknown; entity?: unknown } | string | null;

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Parse the `projections.get` reply; malformed entries are dropped. */
export function parseProjections(result: unknown): ProjectedBox[] {
  const boxes = (result as { boxes?: unknown } | null)?.boxes;
  const out: ProjectedBox[] = [];
  for (const raw of Array.isArray(boxes) ? boxes : []) {
    const r = raw as Record<string, unknown>;
    const b = (r.box ?? {}) as Record<string, unknown>;
    const x = num(b.x);
    const y = num(b.y);
    const w = num(b.w);
    const h = num(b.h);
    if (x === null || y === null || w === null || h === null) continue;
    out.push({
      annotation: typeof r.annotation === "string" ? r.annotation : null,
      label: typeof r.label === "string" ? r.label : "",
      track: typeof r.track === "string" ? r.track : null,
      entity: typeof r.entity === "string" ? r.entity : null,
      interpolated: r.interpolated === true,
      box: { x, y, w, h },
      linked: Array.isArray(r.linked) ? r.linked.filter((v): v is string => typeof v === "string") : [],
    });
  }
  return out;
}

/** Which projected boxes a bus `hover` value names (by cuboid id, entity, or a linked 2-D id). */
export function matchHover(boxes: readonly ProjectedBox[], value: HoverValue): ProjectedBox[] {
  if (value === null || value === undefined) return [];
  const id = typeof value === "string" ? value : typeof value.id === "string" ? value.id : null;
  const entity = typeof value === "object" && typeof value.entity === "string" ? value.entity : null;
  return boxes.filter(
    (b) => (id !== null && (b.annotation === id || b.linked.includes(id))) || (entity !== null && b.entity === entity),
  );
}

export class ProjectionOverlay {
  boxes: ProjectedBox[] = [];
  private frame: number | null | undefined = undefined;
  private token = 0;
  private highlighted: ProjectedBox[] = [];
  private readonly me = Symbol("region-canvas-overlay");
  private off: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly host: OverlayHost,
    private readonly root: HTMLElement,
  ) {}

  /** Follow `hover` on the canvas's bus (call again when the bus changes). */
  attach(bus: Bus<{ hover: unknown }> | null, canvas?: unknown): void {
    this.off?.();
    this.off = null;
    if (!bus) return;
    this.off = bus.subscribe("hover", (value, { source }) => {
      if (source === this.me) return;
      const hit = matchHover(this.boxes, value as HoverValue);
      // A 2-D box of this canvas hovered (published by the canvas `canvas`, or a plain id):
      // announce its cuboid so the 3-D viewer lights it up.
      const own = typeof value === "string" || (canvas !== undefined && source === canvas);
      const id = typeof value === "string" ? value : ((value as { id?: unknown } | null)?.id ?? null);
      if (own && hit.length > 0) {
        const b = hit[0] as ProjectedBox;
        if (b.annotation !== null && b.annotation !== id) bus.publish("hover", { id: b.annotation, entity: b.entity }, this.me);
      }
      this.highlighted = own ? [] : hit;
      this.host.changed();
    });
  }

  /** Load the projections for `frame` (no-op when already loaded). */
  load(frame: number | null, force = false): void {
    if (!force && frame === this.frame) return;
    this.frame = frame;
    const token = ++this.token;
    this.host
      .request("projections.get", { frame })
      .then((reply) => {
        if (this.closed || token !== this.token) return;
        this.boxes = parseProjections(reply.result);
        this.highlighted = [];
        this.root.dataset.projected = String(this.boxes.length);
        this.host.changed();
      })
      .catch(() => {
        // A canvas whose Python side has no projections query (or an item without a point cloud).
        if (token === this.token) this.root.dataset.projected = "0";
      });
  }

  /** Session events: cuboid (or link) changes move the projections. */
  onEvent(msg: unknown): void {
    const events = (msg as { events?: unknown } | null)?.events;
    if (!Array.isArray(events)) return;
    const relevant = events.some((e) => {
      const ev = e as { target?: unknown; record?: { kind?: unknown } | null; op?: unknown };
      return ev.target === "link" || ev.record?.kind === "cuboid" || ev.op === "delete";
    });
    if (relevant && this.frame !== undefined) this.load(this.frame, true);
  }

  /** Draw the projected boxes (and highlights) over the image, after the canvas's own scene. */
  draw(ctx: CanvasRenderingContext2D, view: ViewTransform, dpr: number): void {
    if (this.boxes.length === 0) return;
    ctx.save();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = "11px sans-serif";
    for (const b of this.boxes) {
      const lit = this.highlighted.includes(b);
      const r = view.rectToScreen({ x: b.box.x, y: b.box.y, width: b.box.w, height: b.box.h });
      ctx.strokeStyle = lit ? "#ffffff" : safeColour(this.host.colourOf(b.label));
      ctx.lineWidth = lit ? 3 : 1.5;
      ctx.setLineDash(b.interpolated ? [2, 4] : [6, 4]);
      ctx.strokeRect(r.x, r.y, r.width, r.height);
      ctx.setLineDash([]);
      ctx.fillStyle = "rgba(0,0,0,0.55)";
      const tag = `3D ${b.label}`;
      ctx.fillRect(r.x, r.y + r.height, ctx.measureText(tag).width + 6, 14);
      ctx.fillStyle = "#ffffff";
      ctx.fillText(tag, r.x + 3, r.y + r.height + 11);
      if (!lit) continue;
      for (const id of b.linked) {
        const shape = this.host.shapeOf(id);
        if (shape?.kind !== "box") continue;
        const g = shape.geometry;
        const s = view.rectToScreen({ x: g.x, y: g.y, width: g.w, height: g.h });
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = 3;
        ctx.strokeRect(s.x - 2, s.y - 2, s.width + 4, s.height + 4);
      }
    }
    ctx.restore();
    this.root.dataset.highlighted = this.highlighted.map((b) => b.annotation ?? `~${b.track ?? ""}`).join(",");
  }

  close(): void {
    this.closed = true;
    this.off?.();
    this.off = null;
  }
}
