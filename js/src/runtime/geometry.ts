/**
 * Pure 2D helpers for the annotation canvases.
 *
 * Coordinates: image space is in image pixels, origin top-left, y down;
 * screen space is CSS pixels of the canvas. A ViewTransform maps one to the
 * other: `screen = image * scale + (tx, ty)`.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

/** An axis-aligned box; normalised boxes have width, height >= 0. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A box of `width` × `height` centred on (cx, cy), turned by `angle` radians (clockwise on screen, y down). */
export interface RotatedBox {
  cx: number;
  cy: number;
  width: number;
  height: number;
  angle: number;
}

export interface ZoomLimits {
  /** Smallest scale allowed (default 1e-3). */
  min?: number;
  /** Largest scale allowed (default 1e3). */
  max?: number;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Immutable zoom/pan state: `screen = image * scale + (tx, ty)`. */
export class ViewTransform {
  constructor(
    readonly scale: number = 1,
    readonly tx: number = 0,
    readonly ty: number = 0,
  ) {
    if (!Number.isFinite(scale) || scale <= 0) {
      throw new RangeError(`view scale: expected a finite number > 0, got ${scale}`);
    }
    if (!Number.isFinite(tx) || !Number.isFinite(ty)) {
      throw new RangeError(`view translation: expected finite numbers, got (${tx}, ${ty})`);
    }
  }

  static readonly identity = new ViewTransform();

  /** The transform that fits `image` inside `viewport` (minus `padding` each side), centred. */
  static fit(image: Size, viewport: Size, padding = 0): ViewTransform {
    const availW = Math.max(1, viewport.width - 2 * padding);
    const availH = Math.max(1, viewport.height - 2 * padding);
    const scale = Math.min(availW / Math.max(image.width, 1e-9), availH / Math.max(image.height, 1e-9));
    return new ViewTransform(
      scale,
      (viewport.width - image.width * scale) / 2,
      (viewport.height - image.height * scale) / 2,
    );
  }

  imageToScreen(p: Point): Point {
    return { x: p.x * this.scale + this.tx, y: p.y * this.scale + this.ty };
  }

  screenToImage(p: Point): Point {
    return { x: (p.x - this.tx) / this.scale, y: (p.y - this.ty) / this.scale };
  }

  /** An image-space box in screen space. */
  rectToScreen(r: Rect): Rect {
    const p = this.imageToScreen(r);
    return { x: p.x, y: p.y, width: r.width * this.scale, height: r.height * this.scale };
  }

  /**
   * Zoom by `factor` about the screen point `at`: the image point under `at`
   * stays under it. The resulting scale is clamped to `limits`.
   */
  zoomAt(at: Point, factor: number, limits: ZoomLimits = {}): ViewTransform {
    if (!Number.isFinite(factor) || factor <= 0) {
      throw new RangeError(`zoom factor: expected a finite number > 0, got ${factor}`);
    }
    const scale = clamp(this.scale * factor, limits.min ?? 1e-3, limits.max ?? 1e3);
    const anchor = this.screenToImage(at);
    return new ViewTransform(scale, at.x - anchor.x * scale, at.y - anchor.y * scale);
  }

  /** Move the view by (dx, dy) screen pixels. */
  panBy(dx: number, dy: number): ViewTransform {
    return new ViewTransform(this.scale, this.tx + dx, this.ty + dy);
  }
}

/** The box spanned by a drag from `a` to `b`, in any direction. */
export function normalizeBox(a: Point, b: Point): Rect {
  return {
    x: Math.min(a.x, b.x),
    y: Math.min(a.y, b.y),
    width: Math.abs(b.x - a.x),
    height: Math.abs(b.y - a.y),
  };
}

/** `p` moved inside [0, width] × [0, height]. */
export function clampPoint(p: Point, bounds: Size): Point {
  return { x: clamp(p.x, 0, bounds.width), y: clamp(p.y, 0, bounds.height) };
}

/** The part of normalised box `r` inside [0, width] × [0, height] (zero-sized when outside). */
export function clampBox(r: Rect, bounds: Size): Rect {
  const x0 = clamp(r.x, 0, bounds.width);
  const y0 = clamp(r.y, 0, bounds.height);
  const x1 = clamp(r.x + r.width, 0, bounds.width);
  const y1 = clamp(r.y + r.height, 0, bounds.height);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** The box of a drag from `start` to `end`, normalised and clamped to `bounds` when given. */
export function boxFromDrag(start: Point, end: Point, bounds?: Size): Rect {
  const box = normalizeBox(start, end);
  return bounds ? clampBox(box, bounds) : box;
}

/** `box` moved by (dx, dy), kept whole inside `bounds` when given. */
export function moveBox(box: Rect, dx: number, dy: number, bounds?: Size): Rect {
  let x = box.x + dx;
  let y = box.y + dy;
  if (bounds) {
    x = clamp(x, 0, Math.max(0, bounds.width - box.width));
    y = clamp(y, 0, Math.max(0, bounds.height - box.height));
  }
  return { x, y, width: box.width, height: box.height };
}

export type Handle = "nw" | "n" | "ne" | "e" | "se" | "s" | "sw" | "w";

/** Corners first: they win ties with edge handles. */
export const HANDLES: readonly Handle[] = ["nw", "ne", "se", "sw", "n", "e", "s", "w"];

/** Where each resize handle of `box` sits. */
export function handlePositions(box: Rect): Record<Handle, Point> {
  const { x, y, width: w, height: h } = box;
  const mx = x + w / 2;
  const my = y + h / 2;
  return {
    nw: { x, y },
    n: { x: mx, y },
    ne: { x: x + w, y },
    e: { x: x + w, y: my },
    se: { x: x + w, y: y + h },
    s: { x: mx, y: y + h },
    sw: { x, y: y + h },
    w: { x, y: my },
  };
}

/**
 * The box after dragging `handle` to image point `to`; flips are normalised
 * (dragging "e" past the left edge gives a box to the left).
 */
export function resizeBox(box: Rect, handle: Handle, to: Point, bounds?: Size): Rect {
  let x0 = box.x;
  let y0 = box.y;
  let x1 = box.x + box.width;
  let y1 = box.y + box.height;
  const p = bounds ? clampPoint(to, bounds) : to;
  if (handle.includes("w")) x0 = p.x;
  if (handle.includes("e")) x1 = p.x;
  if (handle.includes("n")) y0 = p.y;
  if (handle.includes("s")) y1 = p.y;
  return normalizeBox({ x: x0, y: y0 }, { x: x1, y: y1 });
}

export type BoxHit = { kind: "handle"; handle: Handle } | { kind: "body" };

/**
 * What of image-space `box` is under `screenPoint`: a resize handle (within
 * `tolerancePx` screen pixels, square), else the body, else null. The
 * tolerance is in screen pixels so handles keep their size at every zoom.
 * When handles overlap (a tiny box), the nearest wins, corners on ties.
 */
export function hitTestBox(
  box: Rect,
  screenPoint: Point,
  view: ViewTransform,
  tolerancePx = 6,
): BoxHit | null {
  const positions = handlePositions(view.rectToScreen(box));
  let best: Handle | null = null;
  let bestDistance = Infinity;
  for (const handle of HANDLES) {
    const h = positions[handle];
    const d = Math.max(Math.abs(screenPoint.x - h.x), Math.abs(screenPoint.y - h.y));
    if (d <= tolerancePx && d < bestDistance) {
      best = handle;
      bestDistance = d;
    }
  }
  if (best) return { kind: "handle", handle: best };
  const p = view.screenToImage(screenPoint);
  if (p.x >= box.x && p.x <= box.x + box.width && p.y >= box.y && p.y <= box.y + box.height) {
    return { kind: "body" };
  }
  return null;
}

/**
 * Hit-test a stack of boxes drawn in order (last on top). The selected box's
 * handles win; then the topmost box with a handle or body under the point.
 */
export function hitTestBoxes(
  boxes: readonly Rect[],
  screenPoint: Point,
  view: ViewTransform,
  tolerancePx = 6,
  selected?: number,
): { index: number; hit: BoxHit } | null {
  if (selected !== undefined) {
    const box = boxes[selected];
    const hit = box ? hitTestBox(box, screenPoint, view, tolerancePx) : null;
    if (hit?.kind === "handle") return { index: selected, hit };
  }
  for (let index = boxes.length - 1; index >= 0; index--) {
    const box = boxes[index];
    const hit = box ? hitTestBox(box, screenPoint, view, tolerancePx) : null;
    if (hit) return { index, hit };
  }
  return null;
}

/** Even-odd test of `p` against a closed polygon (points on the boundary may go either way). */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  const n = polygon.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = polygon[i];
    const b = polygon[j];
    if (!a || !b) continue;
    if (a.y > p.y !== b.y > p.y) {
      const xCross = a.x + ((p.y - a.y) / (b.y - a.y)) * (b.x - a.x);
      if (p.x < xCross) inside = !inside;
    }
  }
  return inside;
}

/** Distance from `p` to the segment `a`–`b` (to `a` when the segment is a point). */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSq = dx * dx + dy * dy;
  const t = lengthSq === 0 ? 0 : clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSq, 0, 1);
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/**
 * Corners of a rotated box: the unrotated top-left, top-right, bottom-right,
 * bottom-left, each turned by `angle` about the centre.
 */
export function rotatedBoxCorners(box: RotatedBox): [Point, Point, Point, Point] {
  const { cx, cy, width, height, angle } = box;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const hw = width / 2;
  const hh = height / 2;
  const corner = (lx: number, ly: number): Point => ({
    x: cx + lx * cos - ly * sin,
    y: cy + lx * sin + ly * cos,
  });
  return [corner(-hw, -hh), corner(hw, -hh), corner(hw, hh), corner(-hw, hh)];
}

/** Unsigned area of a simple polygon (shoelace, centred first so far-away coordinates keep precision). */
export function polygonArea(points: readonly Point[]): number {
  const n = points.length;
  if (n < 3) return 0;
  let mx = 0;
  let my = 0;
  for (const p of points) {
    mx += p.x;
    my += p.y;
  }
  mx /= n;
  my /= n;
  let twice = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = points[j];
    const b = points[i];
    if (!a || !b) continue;
    twice += (a.x - mx) * (b.y - my) - (b.x - mx) * (a.y - my);
  }
  return Math.abs(twice) / 2;
}

/** Sign of the turn o → u → q: 1 counter-clockwise (y up), -1 clockwise, 0 collinear. */
function orientation(o: Point, u: Point, q: Point): number {
  return Math.sign((u.x - o.x) * (q.y - o.y) - (u.y - o.y) * (q.x - o.x));
}

/** True when segments a–b and c–d properly cross (touching at an end or collinear overlap does not count). */
export function segmentsCross(a: Point, b: Point, c: Point, d: Point): boolean {
  return orientation(a, b, c) * orientation(a, b, d) < 0 && orientation(c, d, a) * orientation(c, d, b) < 0;
}

/**
 * The first pair of non-adjacent edges `[i, j]` (edge k joins vertex k and
 * k + 1, wrapping) of the closed polygon that cross, or null. Same rule as
 * Python's `accord.model.geometry.self_intersection`.
 */
export function polygonSelfIntersection(points: readonly Point[]): [number, number] | null {
  const n = points.length;
  if (n < 4) return null;
  for (let i = 0; i < n; i++) {
    const a = points[i];
    const b = points[(i + 1) % n];
    if (!a || !b) continue;
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // adjacent through the wrap
      const c = points[j];
      const d = points[(j + 1) % n];
      if (c && d && segmentsCross(a, b, c, d)) return [i, j];
    }
  }
  return null;
}
