/**
 * Pure gesture logic of the drawing and editing tools: pointer positions in
 * screen (CSS) pixels plus the view transform in, geometry values in image
 * pixels out. Nothing here touches the DOM, the canvas or the kernel, so every
 * rule (drag thresholds, polygon closing, keypoint visibility, clamping to
 * the image) is unit-tested at several zoom/pan states.
 */

import {
  HANDLES,
  boxFromDrag,
  clampPoint,
  distanceToSegment,
  handlePositions,
  pointInPolygon,
  polygonArea,
  polygonSelfIntersection,
  resizeBox,
  type Handle,
  type Point,
  type Rect,
  type Size,
  type ViewTransform,
} from "../../runtime/geometry.js";
import type { BoxGeom, KeypointsGeom, PolygonGeom, RotatedBoxGeom, Shape } from "./types.js";

/** A drag shorter than this on either axis (screen px) draws nothing: it was a click. */
export const MIN_DRAG_PX = 3;
/** Handles are grabbed within this many screen px (square). */
export const HANDLE_PX = 6;
/** A polygon click this close (screen px) to the first vertex closes it. */
export const CLOSE_PX = 8;
/** A polygon click this close (screen px) to the last vertex is ignored (double-click). */
export const DUPLICATE_PX = 3;
/** The rotation handle sits this many screen px beyond the top edge's middle. */
export const ROTATE_HANDLE_PX = 22;
/** Rotation per `[` / `]` press, and with Shift (`{` / `}`). */
export const ROTATE_STEP = Math.PI / 36;
export const ROTATE_STEP_FINE = Math.PI / 180;
/** Geometry may stick out of the image by this much (Python's tolerance). */
const BOUNDS_TOL = 1e-6;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

// -- boxes -------------------------------------------------------------------

export const rectOfBox = (b: BoxGeom): Rect => ({ x: b.x, y: b.y, width: b.w, height: b.h });
export const boxOfRect = (r: Rect): BoxGeom => ({ x: r.x, y: r.y, w: r.width, h: r.height });

/**
 * The box drawn by a drag from screen point `a` to `b`: normalised, clamped
 * to the image, in image pixels; null for a click (under MIN_DRAG_PX on an
 * axis) or a box left empty by clamping.
 */
export function boxFromScreenDrag(view: ViewTransform, a: Point, b: Point, bounds: Size): BoxGeom | null {
  if (Math.abs(b.x - a.x) < MIN_DRAG_PX || Math.abs(b.y - a.y) < MIN_DRAG_PX) return null;
  const r = boxFromDrag(view.screenToImage(a), view.screenToImage(b), bounds);
  return r.width > 0 && r.height > 0 ? boxOfRect(r) : null;
}

/** The rotated box (angle 0) drawn by a drag; null like boxFromScreenDrag. */
export function rotatedBoxFromScreenDrag(
  view: ViewTransform,
  a: Point,
  b: Point,
  bounds: Size,
): RotatedBoxGeom | null {
  const box = boxFromScreenDrag(view, a, b, bounds);
  return box ? { cx: box.x + box.w / 2, cy: box.y + box.h / 2, w: box.w, h: box.h, angle: 0 } : null;
}

// -- rotated boxes -----------------------------------------------------------

/** `angle` wrapped into (-π, π]. */
export function normalizeAngle(angle: number): number {
  let a = angle % (2 * Math.PI);
  if (a > Math.PI) a -= 2 * Math.PI;
  if (a <= -Math.PI) a += 2 * Math.PI;
  return a;
}

/** Image point of local coordinates (lx, ly) of rotated box `g` (local axes turn with the box). */
export function rotatedToImage(g: RotatedBoxGeom, lx: number, ly: number): Point {
  const c = Math.cos(g.angle);
  const s = Math.sin(g.angle);
  return { x: g.cx + lx * c - ly * s, y: g.cy + lx * s + ly * c };
}

/** Local coordinates of image point `p` in rotated box `g`. */
export function imageToRotated(g: RotatedBoxGeom, p: Point): Point {
  const c = Math.cos(g.angle);
  const s = Math.sin(g.angle);
  const dx = p.x - g.cx;
  const dy = p.y - g.cy;
  return { x: dx * c + dy * s, y: -dx * s + dy * c };
}

/** Half extents of the axis-aligned bounds of rotated box `g`. */
function rotatedHalfExtent(g: RotatedBoxGeom): { ex: number; ey: number } {
  const c = Math.abs(Math.cos(g.angle));
  const s = Math.abs(Math.sin(g.angle));
  return { ex: (g.w * c + g.h * s) / 2, ey: (g.w * s + g.h * c) / 2 };
}

/**
 * `g` moved (never resized or turned) so that all its corners are inside the
 * image, or null when it cannot fit at this angle.
 */
export function fitRotatedBox(g: RotatedBoxGeom, bounds: Size): RotatedBoxGeom | null {
  const { ex, ey } = rotatedHalfExtent(g);
  if (2 * ex > bounds.width + BOUNDS_TOL || 2 * ey > bounds.height + BOUNDS_TOL) return null;
  return {
    ...g,
    cx: clamp(g.cx, ex, Math.max(ex, bounds.width - ex)),
    cy: clamp(g.cy, ey, Math.max(ey, bounds.height - ey)),
  };
}

/**
 * `g` turned so its rotation handle (above the top edge's middle) points at
 * image point `p`; `snap` (radians) rounds the angle. Moved to stay inside the
 * image; unchanged when it cannot fit at the new angle.
 */
export function rotateToward(g: RotatedBoxGeom, p: Point, bounds: Size, snap = 0): RotatedBoxGeom {
  const dx = p.x - g.cx;
  const dy = p.y - g.cy;
  if (dx === 0 && dy === 0) return g;
  let angle = Math.atan2(dx, -dy);
  if (snap > 0) angle = Math.round(angle / snap) * snap;
  return fitRotatedBox({ ...g, angle: normalizeAngle(angle) }, bounds) ?? g;
}

/** `g` turned by `delta` radians (clockwise on screen), kept inside the image; unchanged when it cannot fit. */
export function rotateBy(g: RotatedBoxGeom, delta: number, bounds: Size): RotatedBoxGeom {
  return fitRotatedBox({ ...g, angle: normalizeAngle(g.angle + delta) }, bounds) ?? g;
}

const LOCAL_SIGNS: Record<Handle, [number, number]> = {
  nw: [-1, -1],
  n: [0, -1],
  ne: [1, -1],
  e: [1, 0],
  se: [1, 1],
  s: [0, 1],
  sw: [-1, 1],
  w: [-1, 0],
};

/** Screen positions of the 8 resize handles and the rotation handle of `g`. */
export function rotatedBoxHandles(
  g: RotatedBoxGeom,
  view: ViewTransform,
): { handles: Record<Handle, Point>; rotate: Point; topMiddle: Point } {
  const handles = {} as Record<Handle, Point>;
  for (const h of HANDLES) {
    const [sx, sy] = LOCAL_SIGNS[h];
    handles[h] = view.imageToScreen(rotatedToImage(g, (sx * g.w) / 2, (sy * g.h) / 2));
  }
  const topMiddle = handles.n;
  const rotate = {
    x: topMiddle.x + Math.sin(g.angle) * ROTATE_HANDLE_PX,
    y: topMiddle.y - Math.cos(g.angle) * ROTATE_HANDLE_PX,
  };
  return { handles, rotate, topMiddle };
}

/**
 * `g` after dragging resize handle `handle` to image point `p`, in the box's
 * own (turned) axes: the opposite side stays put. Null when the result does
 * not fit in the image or is empty.
 */
export function resizeRotatedBox(g: RotatedBoxGeom, handle: Handle, p: Point, bounds: Size): RotatedBoxGeom | null {
  const local = imageToRotated(g, p);
  const r = resizeBox({ x: -g.w / 2, y: -g.h / 2, width: g.w, height: g.h }, handle, local);
  if (r.width <= 0 || r.height <= 0) return null;
  const centre = rotatedToImage(g, r.x + r.width / 2, r.y + r.height / 2);
  const out: RotatedBoxGeom = { cx: centre.x, cy: centre.y, w: r.width, h: r.height, angle: g.angle };
  return rotatedInside(out, bounds) ? out : null;
}

function rotatedInside(g: RotatedBoxGeom, bounds: Size): boolean {
  const { ex, ey } = rotatedHalfExtent(g);
  return (
    g.cx - ex >= -BOUNDS_TOL &&
    g.cy - ey >= -BOUNDS_TOL &&
    g.cx + ex <= bounds.width + BOUNDS_TOL &&
    g.cy + ey <= bounds.height + BOUNDS_TOL
  );
}

// -- polygons ----------------------------------------------------------------

export type PolygonStep =
  /** A vertex was added: the draft's new points. */
  | { type: "add"; points: Point[] }
  /** The click closes the polygon (it was on the first vertex). */
  | { type: "close" }
  /** The click repeats the last vertex (a double-click): nothing to do. */
  | { type: "ignore" };

/**
 * What a click at screen point `p` does to a polygon draft with image-space
 * vertices `points`: close it when on the first vertex (≥ 3 vertices),
 * ignore it when on the last vertex, else add a vertex clamped to the image.
 */
export function polygonClick(points: readonly Point[], p: Point, view: ViewTransform, bounds: Size): PolygonStep {
  const first = points[0];
  const last = points[points.length - 1];
  if (first && points.length >= 3) {
    const s = view.imageToScreen(first);
    if (Math.hypot(s.x - p.x, s.y - p.y) <= CLOSE_PX) return { type: "close" };
  }
  if (last) {
    const s = view.imageToScreen(last);
    if (Math.hypot(s.x - p.x, s.y - p.y) <= DUPLICATE_PX) return { type: "ignore" };
  }
  return { type: "add", points: [...points, clampPoint(view.screenToImage(p), bounds)] };
}

/** The polygon a draft closes into, or why it cannot close (the same rules Python applies). */
export function closePolygon(
  points: readonly Point[],
): { ok: true; geometry: PolygonGeom } | { ok: false; reason: string } {
  if (points.length < 3) return { ok: false, reason: "a polygon needs at least 3 vertices" };
  const crossing = polygonSelfIntersection(points);
  if (crossing) {
    const [i, j] = crossing;
    return {
      ok: false,
      reason: `edges ${i + 1}–${i + 2} and ${j + 1}–${((j + 1) % points.length) + 1} cross; a polygon must be simple`,
    };
  }
  if (!(polygonArea(points) > 0)) return { ok: false, reason: "the vertices enclose no area (all on one line)" };
  return { ok: true, geometry: { points: points.map((q) => [q.x, q.y] as [number, number]) } };
}

/** Drop the last vertex of a draft (Backspace). */
export function removeLastVertex(points: readonly Point[]): Point[] {
  return points.slice(0, -1);
}

// -- keypoints ---------------------------------------------------------------

/** Keypoints placed so far, one per name of the class (or any number when it names none). */
export interface KeypointDraft {
  names: readonly string[];
  points: [number, number, number][];
}

export function newKeypointDraft(names: readonly string[]): KeypointDraft {
  return { names: [...names], points: [] };
}

/**
 * Place the next keypoint at image point `p` (clamped): visible (v = 2), or
 * labelled but occluded (v = 1) when `occluded`. `done` is true once every
 * named keypoint is placed.
 */
export function placeKeypoint(
  draft: KeypointDraft,
  p: Point,
  bounds: Size,
  occluded = false,
): { draft: KeypointDraft; done: boolean } {
  const named = draft.names.length > 0;
  if (named && draft.points.length >= draft.names.length) return { draft, done: true };
  const q = clampPoint(p, bounds);
  const points: [number, number, number][] = [...draft.points, [q.x, q.y, occluded ? 1 : 2]];
  return { draft: { names: draft.names, points }, done: named && points.length >= draft.names.length };
}

/** The name of the next keypoint to place, or null in free mode / when all are placed. */
export function nextKeypointName(draft: KeypointDraft): string | null {
  return draft.names[draft.points.length] ?? null;
}

/**
 * The keypoints geometry of a draft: every name not placed gets `[0, 0, 0]`
 * (COCO: not labelled). Null when no point is placed.
 */
export function finishKeypoints(draft: KeypointDraft): KeypointsGeom | null {
  if (draft.points.length === 0) return null;
  const points = draft.points.map((p) => [p[0], p[1], p[2]] as [number, number, number]);
  while (points.length < draft.names.length) points.push([0, 0, 0]);
  return { points };
}

/** Keypoint `index` switched between visible (2) and occluded (1); unlabelled (0) ones stay. */
export function toggleKeypointVisibility(g: KeypointsGeom, index: number): KeypointsGeom {
  return {
    points: g.points.map((p, i) =>
      i === index && p[2] !== 0 ? ([p[0], p[1], p[2] === 2 ? 1 : 2] as [number, number, number]) : p,
    ),
  };
}

// -- any shape ---------------------------------------------------------------

/** Axis-aligned bounds of the drawn part of `shape` (keypoints: labelled points only); null when empty. */
export function shapeExtent(shape: Shape): Rect | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const add = (x: number, y: number): void => {
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  };
  switch (shape.kind) {
    case "box": {
      const g = shape.geometry;
      add(g.x, g.y);
      add(g.x + g.w, g.y + g.h);
      break;
    }
    case "rotated_box": {
      const g = shape.geometry;
      const { ex, ey } = rotatedHalfExtent(g);
      add(g.cx - ex, g.cy - ey);
      add(g.cx + ex, g.cy + ey);
      break;
    }
    case "polygon":
      for (const [x, y] of shape.geometry.points) add(x, y);
      break;
    case "keypoints":
      for (const [x, y, v] of shape.geometry.points) if (v > 0) add(x, y);
      break;
  }
  if (x0 > x1) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * `shape` translated by (dx, dy) image px, the step shortened so the shape
 * stays whole inside the image. Unlabelled keypoints (v = 0) do not move.
 */
export function moveShape(shape: Shape, dx: number, dy: number, bounds: Size): Shape {
  const ext = shapeExtent(shape);
  if (ext) {
    const loX = -ext.x;
    const hiX = bounds.width - (ext.x + ext.width);
    const loY = -ext.y;
    const hiY = bounds.height - (ext.y + ext.height);
    dx = loX > hiX ? 0 : clamp(dx, loX, hiX);
    dy = loY > hiY ? 0 : clamp(dy, loY, hiY);
  }
  switch (shape.kind) {
    case "box": {
      const g = shape.geometry;
      return { kind: "box", geometry: { x: g.x + dx, y: g.y + dy, w: g.w, h: g.h } };
    }
    case "rotated_box": {
      const g = shape.geometry;
      return { kind: "rotated_box", geometry: { ...g, cx: g.cx + dx, cy: g.cy + dy } };
    }
    case "polygon":
      return { kind: "polygon", geometry: { points: shape.geometry.points.map(([x, y]) => [x + dx, y + dy]) } };
    case "keypoints":
      return {
        kind: "keypoints",
        geometry: {
          points: shape.geometry.points.map(([x, y, v]) => (v > 0 ? [x + dx, y + dy, v] : [x, y, v])),
        },
      };
  }
}

/** What part of a shape a pointer grabbed. */
export type Grab =
  | { type: "move" }
  | { type: "handle"; handle: Handle }
  | { type: "vertex"; index: number }
  | { type: "rotate" };

const near = (a: Point, b: Point, tol: number): number => {
  const d = Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y));
  return d <= tol ? d : Infinity;
};

/** The handle of `shape` (drawn as selected) under screen point `p`, nearest first; null when none. */
export function hitHandle(shape: Shape, p: Point, view: ViewTransform, tol = HANDLE_PX): Grab | null {
  let best: Grab | null = null;
  let bestD = Infinity;
  const consider = (grab: Grab, at: Point): void => {
    const d = near(at, p, tol);
    if (d < bestD) {
      best = grab;
      bestD = d;
    }
  };
  switch (shape.kind) {
    case "box": {
      const positions = handlePositions(view.rectToScreen(rectOfBox(shape.geometry)));
      for (const h of HANDLES) consider({ type: "handle", handle: h }, positions[h]);
      break;
    }
    case "rotated_box": {
      const { handles, rotate } = rotatedBoxHandles(shape.geometry, view);
      consider({ type: "rotate" }, rotate);
      for (const h of HANDLES) consider({ type: "handle", handle: h }, handles[h]);
      break;
    }
    case "polygon":
      shape.geometry.points.forEach(([x, y], index) =>
        consider({ type: "vertex", index }, view.imageToScreen({ x, y })),
      );
      break;
    case "keypoints":
      shape.geometry.points.forEach(([x, y, v], index) => {
        if (v > 0) consider({ type: "vertex", index }, view.imageToScreen({ x, y }));
      });
      break;
  }
  return best;
}

/** True when screen point `p` is on the body of `shape` (inside it, or within `tol` px of its outline). */
export function hitBody(shape: Shape, p: Point, view: ViewTransform, tol = HANDLE_PX / 2): boolean {
  const q = view.screenToImage(p);
  const t = tol / view.scale;
  switch (shape.kind) {
    case "box": {
      const g = shape.geometry;
      return q.x >= g.x - t && q.x <= g.x + g.w + t && q.y >= g.y - t && q.y <= g.y + g.h + t;
    }
    case "rotated_box": {
      const g = shape.geometry;
      const l = imageToRotated(g, q);
      return Math.abs(l.x) <= g.w / 2 + t && Math.abs(l.y) <= g.h / 2 + t;
    }
    case "polygon": {
      const pts = shape.geometry.points.map(([x, y]) => ({ x, y }));
      if (pts.length >= 3 && pointInPolygon(q, pts)) return true;
      for (let i = 0; i < pts.length; i++) {
        const a = pts[i];
        const b = pts[(i + 1) % pts.length];
        if (a && b && distanceToSegment(q, a, b) <= t) return true;
      }
      return false;
    }
    case "keypoints": {
      const ext = shapeExtent(shape);
      if (!ext) return false;
      const pad = Math.max(t, HANDLE_PX / view.scale);
      return (
        q.x >= ext.x - pad && q.x <= ext.x + ext.width + pad && q.y >= ext.y - pad && q.y <= ext.y + ext.height + pad
      );
    }
  }
}

/** A shape that may be picked: its id and whether this view may edit it. */
export interface Pickable {
  id: string;
  shape: Shape;
}

/**
 * What a press at screen point `p` grabs among `items` (drawn in order, last
 * on top): the selected item's handles first, then the topmost body (a move).
 */
export function pick(
  items: readonly Pickable[],
  p: Point,
  view: ViewTransform,
  selected: Pickable | null,
): { id: string; grab: Grab } | null {
  if (selected) {
    const grab = hitHandle(selected.shape, p, view);
    if (grab) return { id: selected.id, grab };
  }
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item && hitBody(item.shape, p, view)) return { id: item.id, grab: { type: "move" } };
  }
  return null;
}

/**
 * The shape after dragging `grab` of `original` from image point `start` to
 * `now`, clamped to the image. `previous` (the last preview) is kept when the
 * new one would be empty or could not fit. `snapAngle` rounds rotations.
 */
export function dragShape(
  original: Shape,
  grab: Grab,
  start: Point,
  now: Point,
  bounds: Size,
  previous: Shape = original,
  snapAngle = 0,
): Shape {
  if (grab.type === "move") return moveShape(original, now.x - start.x, now.y - start.y, bounds);
  switch (original.kind) {
    case "box": {
      if (grab.type !== "handle") return previous;
      const r = resizeBox(rectOfBox(original.geometry), grab.handle, now, bounds);
      return r.width > 0 && r.height > 0 ? { kind: "box", geometry: boxOfRect(r) } : previous;
    }
    case "rotated_box": {
      if (grab.type === "rotate") {
        return { kind: "rotated_box", geometry: rotateToward(original.geometry, now, bounds, snapAngle) };
      }
      if (grab.type !== "handle") return previous;
      const g = resizeRotatedBox(original.geometry, grab.handle, now, bounds);
      return g ? { kind: "rotated_box", geometry: g } : previous;
    }
    case "polygon": {
      if (grab.type !== "vertex") return previous;
      const q = clampPoint(now, bounds);
      const points = original.geometry.points.map((pt, i) => (i === grab.index ? [q.x, q.y] : pt) as [number, number]);
      return { kind: "polygon", geometry: { points } };
    }
    case "keypoints": {
      if (grab.type !== "vertex") return previous;
      const q = clampPoint(now, bounds);
      const points = original.geometry.points.map(
        (pt, i) => (i === grab.index ? [q.x, q.y, pt[2]] : pt) as [number, number, number],
      );
      return { kind: "keypoints", geometry: { points } };
    }
  }
}

/**
 * Why `shape` would be refused by Python (empty, degenerate, outside the
 * image), or null when it is fine to send.
 */
export function shapeProblem(shape: Shape, bounds: Size): string | null {
  const ext = shapeExtent(shape);
  switch (shape.kind) {
    case "box":
    case "rotated_box":
      if (!(shape.geometry.w > 0 && shape.geometry.h > 0)) return "the box is empty";
      break;
    case "polygon": {
      const closed = closePolygon(shape.geometry.points.map(([x, y]) => ({ x, y })));
      if (!closed.ok) return closed.reason;
      break;
    }
    case "keypoints":
      if (shape.geometry.points.length === 0) return "no keypoint is placed";
      break;
  }
  if (
    ext &&
    (ext.x < -BOUNDS_TOL ||
      ext.y < -BOUNDS_TOL ||
      ext.x + ext.width > bounds.width + BOUNDS_TOL ||
      ext.y + ext.height > bounds.height + BOUNDS_TOL)
  ) {
    return `the shape leaves the ${bounds.width}×${bounds.height} image`;
  }
  return null;
}

/** True when two shapes are the same kind with identical numbers. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.kind !== b.kind) return false;
  return JSON.stringify(a.geometry) === JSON.stringify(b.geometry);
}

/** The CSS cursor for a grab (or for hovering one). */
export function cursorFor(grab: Grab | null, angle = 0): string {
  if (!grab) return "default";
  if (grab.type === "move") return "move";
  if (grab.type === "rotate") return "grab";
  if (grab.type === "vertex") return "pointer";
  const base: Record<Handle, number> = { n: 0, ne: 45, e: 90, se: 135, s: 180, sw: 225, w: 270, nw: 315 };
  const deg = (((base[grab.handle] + (angle * 180) / Math.PI) % 180) + 180) % 180;
  const names = ["ns-resize", "nesw-resize", "ew-resize", "nwse-resize"];
  return names[Math.round(deg / 45) % 4] ?? "move";
}
