/**
 * Canvas rendering. A frame is drawn from a Scene: the view transform, the
 * image, and the annotations pre-grouped by colour and style so that each
 * group is one path, one fill and one stroke (1,000 boxes cost a handful of
 * canvas calls). Groups are rebuilt only when the records change, not per
 * frame; the shape being dragged is skipped in its group and drawn on top
 * from its preview. Coordinates are mapped to screen by hand so line widths
 * and dashes stay constant at every zoom.
 */

import { HANDLES, handlePositions, type Point, type Size, type ViewTransform } from "../../runtime/geometry.js";
import { isVisible, isEditable } from "./state.js";
import { rectOfBox, rotatedBoxHandles, rotatedToImage } from "./tools.js";
import type { AnnotationRecord, Shape } from "./types.js";

/** Annotations of one colour and style, drawn as one path. */
export interface DrawGroup {
  color: string;
  /** Other annotators' records: dashed, not filled. */
  dashed: boolean;
  ids: string[];
  shapes: Shape[];
  hasKeypoints: boolean;
}

/** A shape drawn on its own (selected, hovered, being drawn, waiting for its reply). */
export interface Highlight {
  shape: Shape;
  color: string;
  /** Text of the tag drawn next to it ("" for none). */
  tag: string;
  dashed: boolean;
}

export type Draft =
  | { kind: "shape"; shape: Shape; color: string }
  | { kind: "polygon"; points: readonly Point[]; cursor: Point | null; color: string; closable: boolean }
  | {
      kind: "keypoints";
      points: readonly (readonly [number, number, number])[];
      cursor: Point | null;
      color: string;
      next: string | null;
    };

export interface Scene {
  /** Canvas size in CSS px and the device pixel ratio of its backing store. */
  width: number;
  height: number;
  dpr: number;
  view: ViewTransform;
  image: CanvasImageSource | null;
  imageSize: Size;
  groups: readonly DrawGroup[];
  /** Ids left out of their group (drawn from `overrides` or `selected` instead). */
  skip: ReadonlySet<string>;
  /** Records with a local preview waiting for the kernel (drawn like their group). */
  overrides: readonly Highlight[];
  /** Shapes sent with annotation.add, waiting for the reply. */
  pending: readonly Highlight[];
  hover: Highlight | null;
  selected: Highlight | null;
  draft: Draft | null;
  /** Other ends of links of the annotation hovered in any view (link mode, runtime/linkmode.ts). */
  linked?: readonly Highlight[];
}

const LINE = 1.5;
const LINE_HI = 2.5;
const FILL_ALPHA = 0.14;
const FILL_ALPHA_HI = 0.28;
const KEYPOINT_R = 3.5;
const HANDLE_HALF = 3.5;
const DASH = [6, 4];
const BACKGROUND = "#2f2f2f";
const TAG_FONT = "11px system-ui, sans-serif";

/**
 * Group the visible records by colour and style, others' first so one's own
 * annotations are drawn above them. Called when records, classes or the
 * show-others toggle change — not per frame.
 */
export function buildGroups(
  records: Iterable<AnnotationRecord>,
  colourOf: (label: string) => string,
  annotator: string,
  showOthers: boolean,
  annotators: readonly string[] = [],
): DrawGroup[] {
  const mine = new Map<string, DrawGroup>();
  const others = new Map<string, DrawGroup>();
  for (const rec of records) {
    if (!rec.shape || !isVisible(rec, annotator, showOthers, annotators)) continue;
    const own = isEditable(rec, annotator);
    const color = colourOf(rec.label);
    const table = own ? mine : others;
    let g = table.get(color);
    if (!g) {
      g = { color, dashed: !own, ids: [], shapes: [], hasKeypoints: false };
      table.set(color, g);
    }
    g.ids.push(rec.id);
    g.shapes.push(rec.shape);
    if (rec.shape.kind === "keypoints") g.hasKeypoints = true;
  }
  return [...others.values(), ...mine.values()];
}

/** Add `shape`'s outline (screen coordinates) to the current path. */
export function tracePath(ctx: CanvasRenderingContext2D, shape: Shape, view: ViewTransform): void {
  const { scale: s, tx, ty } = view;
  switch (shape.kind) {
    case "box": {
      const g = shape.geometry;
      ctx.rect(g.x * s + tx, g.y * s + ty, g.w * s, g.h * s);
      return;
    }
    case "rotated_box": {
      const g = shape.geometry;
      const c = Math.cos(g.angle);
      const n = Math.sin(g.angle);
      const hw = g.w / 2;
      const hh = g.h / 2;
      const cx = g.cx * s + tx;
      const cy = g.cy * s + ty;
      ctx.moveTo(cx + (-hw * c + hh * n) * s, cy + (-hw * n - hh * c) * s);
      ctx.lineTo(cx + (hw * c + hh * n) * s, cy + (hw * n - hh * c) * s);
      ctx.lineTo(cx + (hw * c - hh * n) * s, cy + (hw * n + hh * c) * s);
      ctx.lineTo(cx + (-hw * c - hh * n) * s, cy + (-hw * n + hh * c) * s);
      ctx.closePath();
      return;
    }
    case "polygon": {
      const pts = shape.geometry.points;
      for (let i = 0; i < pts.length; i++) {
        const p = pts[i]!;
        if (i === 0) ctx.moveTo(p[0] * s + tx, p[1] * s + ty);
        else ctx.lineTo(p[0] * s + tx, p[1] * s + ty);
      }
      ctx.closePath();
      return;
    }
    case "keypoints": {
      for (const p of shape.geometry.points) {
        if (p[2] <= 0) continue;
        const x = p[0] * s + tx;
        const y = p[1] * s + ty;
        ctx.moveTo(x + KEYPOINT_R, y);
        ctx.arc(x, y, KEYPOINT_R, 0, Math.PI * 2);
      }
      return;
    }
  }
}

/** Add the visible (v = 2) keypoints of `shape` as solid dots to the current path. */
function traceSolidKeypoints(ctx: CanvasRenderingContext2D, shape: Shape, view: ViewTransform): void {
  if (shape.kind !== "keypoints") return;
  const { scale: s, tx, ty } = view;
  for (const p of shape.geometry.points) {
    if (p[2] !== 2) continue;
    const x = p[0] * s + tx;
    const y = p[1] * s + ty;
    ctx.moveTo(x + KEYPOINT_R, y);
    ctx.arc(x, y, KEYPOINT_R, 0, Math.PI * 2);
  }
}

function drawGroup(ctx: CanvasRenderingContext2D, g: DrawGroup, view: ViewTransform, skip: ReadonlySet<string>): void {
  const { ids, shapes } = g;
  const skipping = skip.size > 0;
  ctx.beginPath();
  for (let i = 0; i < shapes.length; i++) {
    if (skipping && skip.has(ids[i]!)) continue;
    tracePath(ctx, shapes[i]!, view);
  }
  ctx.strokeStyle = g.color;
  ctx.fillStyle = g.color;
  if (!g.dashed) {
    ctx.globalAlpha = FILL_ALPHA;
    ctx.fill("evenodd");
    ctx.globalAlpha = 1;
  }
  ctx.lineWidth = LINE;
  ctx.setLineDash(g.dashed ? DASH : []);
  ctx.stroke();
  if (g.hasKeypoints) {
    ctx.beginPath();
    for (let i = 0; i < shapes.length; i++) {
      if (skipping && skip.has(ids[i]!)) continue;
      traceSolidKeypoints(ctx, shapes[i]!, view);
    }
    ctx.fill();
  }
}

function drawSingle(
  ctx: CanvasRenderingContext2D,
  h: Highlight,
  view: ViewTransform,
  lineWidth: number,
  fillAlpha: number,
): void {
  ctx.beginPath();
  tracePath(ctx, h.shape, view);
  ctx.strokeStyle = h.color;
  ctx.fillStyle = h.color;
  if (fillAlpha > 0) {
    ctx.globalAlpha = fillAlpha;
    ctx.fill("evenodd");
    ctx.globalAlpha = 1;
  }
  ctx.setLineDash(h.dashed ? DASH : []);
  ctx.lineWidth = lineWidth + 2;
  ctx.strokeStyle = "rgba(255,255,255,0.55)";
  ctx.stroke();
  ctx.lineWidth = lineWidth;
  ctx.strokeStyle = h.color;
  ctx.stroke();
  if (h.shape.kind === "keypoints") {
    ctx.beginPath();
    traceSolidKeypoints(ctx, h.shape, view);
    ctx.fill();
  }
}

/** The screen point a shape's tag is drawn at (its top-left-most point). */
function tagAnchor(shape: Shape, view: ViewTransform): Point {
  let x = Infinity;
  let y = Infinity;
  const take = (p: Point): void => {
    if (p.y < y || (p.y === y && p.x < x)) {
      x = p.x;
      y = p.y;
    }
  };
  switch (shape.kind) {
    case "box":
      take(view.imageToScreen(shape.geometry));
      break;
    case "rotated_box": {
      const g = shape.geometry;
      for (const [sx, sy] of [
        [-1, -1],
        [1, -1],
        [1, 1],
        [-1, 1],
      ] as const) {
        take(view.imageToScreen(rotatedToImage(g, (sx * g.w) / 2, (sy * g.h) / 2)));
      }
      break;
    }
    case "polygon":
      for (const [px, py] of shape.geometry.points) take(view.imageToScreen({ x: px, y: py }));
      break;
    case "keypoints":
      for (const [px, py, v] of shape.geometry.points) if (v > 0) take(view.imageToScreen({ x: px, y: py }));
      break;
  }
  return Number.isFinite(x) ? { x, y } : { x: 0, y: 0 };
}

/** A small filled tag with `text` (data, drawn as canvas text — never parsed). */
function drawTag(ctx: CanvasRenderingContext2D, text: string, at: Point, color: string, width: number): void {
  if (!text) return;
  const shown = text.length > 48 ? `${text.slice(0, 47)}…` : text;
  ctx.font = TAG_FONT;
  const w = ctx.measureText(shown).width + 8;
  const h = 15;
  const x = Math.max(0, Math.min(at.x, width - w));
  const y = at.y - h - 2 >= 0 ? at.y - h - 2 : at.y + 2;
  ctx.setLineDash([]);
  ctx.globalAlpha = 0.9;
  ctx.fillStyle = color;
  ctx.fillRect(x, y, w, h);
  ctx.globalAlpha = 1;
  ctx.fillStyle = readableOn(color);
  ctx.textBaseline = "middle";
  ctx.fillText(shown, x + 4, y + h / 2 + 0.5);
}

/** Black or white, whichever reads better on `#rrggbb`. */
export function readableOn(color: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return "#fff";
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => parseInt(h!, 16));
  return 0.299 * r! + 0.587 * g! + 0.114 * b! > 150 ? "#000" : "#fff";
}

function square(ctx: CanvasRenderingContext2D, p: Point): void {
  ctx.rect(p.x - HANDLE_HALF, p.y - HANDLE_HALF, HANDLE_HALF * 2, HANDLE_HALF * 2);
}

/** Resize / vertex / rotation handles of the selected shape. */
function drawHandles(ctx: CanvasRenderingContext2D, shape: Shape, color: string, view: ViewTransform): void {
  ctx.setLineDash([]);
  ctx.lineWidth = 1.25;
  ctx.beginPath();
  switch (shape.kind) {
    case "box": {
      const pos = handlePositions(view.rectToScreen(rectOfBox(shape.geometry)));
      for (const h of HANDLES) square(ctx, pos[h]);
      break;
    }
    case "rotated_box": {
      const { handles, rotate, topMiddle } = rotatedBoxHandles(shape.geometry, view);
      for (const h of HANDLES) square(ctx, handles[h]);
      ctx.moveTo(topMiddle.x, topMiddle.y);
      ctx.lineTo(rotate.x, rotate.y);
      ctx.moveTo(rotate.x + HANDLE_HALF + 1, rotate.y);
      ctx.arc(rotate.x, rotate.y, HANDLE_HALF + 1, 0, Math.PI * 2);
      break;
    }
    case "polygon":
      for (const [x, y] of shape.geometry.points) square(ctx, view.imageToScreen({ x, y }));
      break;
    case "keypoints":
      for (const [x, y, v] of shape.geometry.points) if (v > 0) square(ctx, view.imageToScreen({ x, y }));
      break;
  }
  ctx.fillStyle = "#fff";
  ctx.fill();
  ctx.strokeStyle = color;
  ctx.stroke();
}

function drawDraft(ctx: CanvasRenderingContext2D, d: Draft, view: ViewTransform): void {
  ctx.setLineDash([5, 3]);
  ctx.lineWidth = LINE_HI;
  ctx.strokeStyle = d.color;
  ctx.fillStyle = d.color;
  if (d.kind === "shape") {
    ctx.beginPath();
    tracePath(ctx, d.shape, view);
    ctx.globalAlpha = FILL_ALPHA;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.stroke();
    return;
  }
  if (d.kind === "polygon") {
    ctx.beginPath();
    d.points.forEach((p, i) => {
      const s = view.imageToScreen(p);
      if (i === 0) ctx.moveTo(s.x, s.y);
      else ctx.lineTo(s.x, s.y);
    });
    if (d.cursor && d.points.length > 0) ctx.lineTo(d.cursor.x, d.cursor.y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    for (const p of d.points) square(ctx, view.imageToScreen(p));
    ctx.fillStyle = "#fff";
    ctx.fill();
    ctx.lineWidth = 1.25;
    ctx.stroke();
    const first = d.points[0];
    if (first && d.closable) {
      const s = view.imageToScreen(first);
      ctx.beginPath();
      ctx.arc(s.x, s.y, 7, 0, Math.PI * 2);
      ctx.stroke();
    }
    return;
  }
  ctx.setLineDash([]);
  ctx.beginPath();
  for (const [x, y, v] of d.points) {
    if (v <= 0) continue;
    const s = view.imageToScreen({ x, y });
    ctx.moveTo(s.x + KEYPOINT_R + 1, s.y);
    ctx.arc(s.x, s.y, KEYPOINT_R + 1, 0, Math.PI * 2);
  }
  ctx.fill();
  ctx.lineWidth = 1.25;
  ctx.strokeStyle = "#fff";
  ctx.stroke();
  if (d.cursor && d.next) drawTag(ctx, d.next, { x: d.cursor.x + 10, y: d.cursor.y + 20 }, d.color, Infinity);
}

/** Draw a whole frame. */
export function drawScene(ctx: CanvasRenderingContext2D, scene: Scene): void {
  const { view, dpr, width, height } = scene;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);

  const iw = scene.imageSize.width * view.scale;
  const ih = scene.imageSize.height * view.scale;
  if (scene.image) {
    ctx.imageSmoothingEnabled = view.scale * dpr < 2;
    ctx.drawImage(scene.image, view.tx, view.ty, iw, ih);
  } else {
    ctx.fillStyle = "#555";
    ctx.fillRect(view.tx, view.ty, iw, ih);
  }

  ctx.lineJoin = "round";
  for (const g of scene.groups) drawGroup(ctx, g, view, scene.skip);
  for (const o of scene.overrides) drawSingle(ctx, o, view, LINE, o.dashed ? 0 : FILL_ALPHA);
  for (const p of scene.pending) drawSingle(ctx, { ...p, dashed: true }, view, LINE, FILL_ALPHA);

  for (const l of scene.linked ?? []) {
    drawSingle(ctx, l, view, LINE_HI, FILL_ALPHA_HI);
    drawTag(ctx, `⇢ ${l.tag}`, tagAnchor(l.shape, view), l.color, width);
  }
  if (scene.hover && scene.hover !== scene.selected) {
    drawSingle(ctx, scene.hover, view, LINE_HI, FILL_ALPHA_HI);
    drawTag(ctx, scene.hover.tag, tagAnchor(scene.hover.shape, view), scene.hover.color, width);
  }
  if (scene.selected) {
    drawSingle(ctx, scene.selected, view, LINE_HI, FILL_ALPHA_HI);
    // Handles mean "editable": a read-only selection (someone else's, dashed) has none.
    if (!scene.selected.dashed) drawHandles(ctx, scene.selected.shape, scene.selected.color, view);
    drawTag(ctx, scene.selected.tag, tagAnchor(scene.selected.shape, view), scene.selected.color, width);
  }
  if (scene.draft) drawDraft(ctx, scene.draft, view);
}
