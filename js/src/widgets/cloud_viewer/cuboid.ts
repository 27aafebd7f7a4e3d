/**
 * Pure cuboid geometry for the viewer: corners and edges, handles, the
 * edits a handle drag makes, ray picking and point membership.
 *
 * LiDAR frame: x forward, y left, z up (metres). A cuboid is
 * `{center, size: [l, w, h], yaw}`: length along the heading (yaw about +z
 * from +x), width across it. Corners: bottom face then top face, in the
 * order of `accord.model.geometry.cuboid_corners`.
 */

import { wrapAngle, type CuboidGeom } from "./tracks.js";

export type Vec3 = [number, number, number];

/** Smallest size a handle drag may leave on any side (m). */
export const MIN_SIZE = 0.05;

/** The 12 edges as pairs of corner indices (same order as Python's CUBOID_EDGES). */
export const CUBOID_EDGES: readonly [number, number][] = [
  [0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7],
];

/** Heading and left unit vectors of `yaw`. */
export function axes(yaw: number): { head: [number, number]; left: [number, number] } {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return { head: [c, s], left: [-s, c] };
}

/** The 8 corners, bottom face first. */
export function corners(g: CuboidGeom): Vec3[] {
  const [cx, cy, cz] = g.center;
  const [l, w, h] = g.size;
  const c = Math.cos(g.yaw);
  const s = Math.sin(g.yaw);
  const xs = [1, 1, -1, -1, 1, 1, -1, -1];
  const ys = [1, -1, -1, 1, 1, -1, -1, 1];
  const zs = [-1, -1, -1, -1, 1, 1, 1, 1];
  return xs.map((x, i) => {
    const lx = (x * l) / 2;
    const ly = ((ys[i] as number) * w) / 2;
    return [cx + c * lx - s * ly, cy + s * lx + c * ly, cz + ((zs[i] as number) * h) / 2] as Vec3;
  });
}

/** Write the 12 edges as 24 vertices (72 floats) into `out` at `offset`. */
export function writeEdges(g: CuboidGeom, out: Float32Array, offset = 0): void {
  const k = corners(g);
  let o = offset;
  for (const [a, b] of CUBOID_EDGES) {
    for (const p of [k[a] as Vec3, k[b] as Vec3]) {
      out[o++] = p[0];
      out[o++] = p[1];
      out[o++] = p[2];
    }
  }
}

export type HandleName = "+l" | "-l" | "+w" | "-w" | "+h" | "-h" | "yaw";

export const HANDLE_NAMES: readonly HandleName[] = ["+l", "-l", "+w", "-w", "+h", "-h", "yaw"];

/** Distance of the rotation handle ahead of the front face (m). */
export function yawHandleOffset(g: CuboidGeom): number {
  return Math.max(0.8, 0.25 * g.size[0]);
}

/** Where each handle sits: face centres, and the rotation knob ahead of the front face. */
export function handlePositions(g: CuboidGeom): Record<HandleName, Vec3> {
  const [cx, cy, cz] = g.center;
  const [l, w, h] = g.size;
  const { head, left } = axes(g.yaw);
  const at = (u: number, v: number, z: number): Vec3 => [cx + head[0] * u + left[0] * v, cy + head[1] * u + left[1] * v, z];
  return {
    "+l": at(l / 2, 0, cz),
    "-l": at(-l / 2, 0, cz),
    "+w": at(0, w / 2, cz),
    "-w": at(0, -w / 2, cz),
    "+h": [cx, cy, cz + h / 2],
    "-h": [cx, cy, cz - h / 2],
    yaw: at(l / 2 + yawHandleOffset(g), 0, cz),
  };
}

/** `p` in the cuboid's horizontal frame: (along heading, to the left) from the centre. */
export function toLocal(g: CuboidGeom, x: number, y: number): [number, number] {
  const { head, left } = axes(g.yaw);
  const dx = x - g.center[0];
  const dy = y - g.center[1];
  return [dx * head[0] + dy * head[1], dx * left[0] + dy * left[1]];
}

function shiftLocal(g: CuboidGeom, du: number, dv: number): [number, number] {
  const { head, left } = axes(g.yaw);
  return [g.center[0] + head[0] * du + left[0] * dv, g.center[1] + head[1] * du + left[1] * dv];
}

/**
 * The cuboid after dragging a length/width handle to ground point (x, y):
 * the opposite face stays put; the size never drops below MIN_SIZE.
 */
export function resizeHorizontal(g: CuboidGeom, handle: "+l" | "-l" | "+w" | "-w", x: number, y: number): CuboidGeom {
  const [u, v] = toLocal(g, x, y);
  const alongLength = handle === "+l" || handle === "-l";
  const sign = handle[0] === "+" ? 1 : -1;
  const extent = alongLength ? g.size[0] : g.size[1];
  const fixed = (-sign * extent) / 2;
  const reach = alongLength ? u : v;
  const size = Math.max(MIN_SIZE, sign * (reach - fixed));
  const shift = fixed + (sign * size) / 2;
  const [nx, ny] = alongLength ? shiftLocal(g, shift, 0) : shiftLocal(g, 0, shift);
  return {
    center: [nx, ny, g.center[2]],
    size: alongLength ? [size, g.size[1], g.size[2]] : [g.size[0], size, g.size[2]],
    yaw: g.yaw,
  };
}

/** The cuboid after dragging the top (+h) or bottom (-h) handle to height `z`. */
export function resizeVertical(g: CuboidGeom, handle: "+h" | "-h", z: number): CuboidGeom {
  const sign = handle === "+h" ? 1 : -1;
  const fixed = g.center[2] - (sign * g.size[2]) / 2;
  const h = Math.max(MIN_SIZE, sign * (z - fixed));
  return { center: [g.center[0], g.center[1], fixed + (sign * h) / 2], size: [g.size[0], g.size[1], h], yaw: g.yaw };
}

/** The yaw pointing from the centre to ground point (x, y); `snap` radians when > 0. */
export function yawTowards(g: CuboidGeom, x: number, y: number, snap = 0): CuboidGeom {
  let yaw = Math.atan2(y - g.center[1], x - g.center[0]);
  if (snap > 0) yaw = Math.round(yaw / snap) * snap;
  return { center: [...g.center], size: [...g.size], yaw: wrapAngle(yaw) };
}

/** `g` turned by `delta` radians. */
export function rotateBy(g: CuboidGeom, delta: number): CuboidGeom {
  return { center: [...g.center], size: [...g.size], yaw: wrapAngle(g.yaw + delta) };
}

/** `g` moved by (dx, dy) on the ground. */
export function moveBy(g: CuboidGeom, dx: number, dy: number): CuboidGeom {
  return { center: [g.center[0] + dx, g.center[1] + dy, g.center[2]], size: [...g.size], yaw: g.yaw };
}

/** The axis-aligned footprint spanned by two ground corners (yaw 0); null when too small. */
export function footprint(a: [number, number], b: [number, number]): { cx: number; cy: number; l: number; w: number } | null {
  const l = Math.abs(b[0] - a[0]);
  const w = Math.abs(b[1] - a[1]);
  if (l < MIN_SIZE || w < MIN_SIZE) return null;
  return { cx: (a[0] + b[0]) / 2, cy: (a[1] + b[1]) / 2, l, w };
}

/**
 * The vertical extent for a new cuboid on footprint `f`: from the points
 * inside it (lowest to highest, at least MIN_SIZE tall) when there are
 * `minPoints` or more, else `fallbackHeight` standing on `groundZ`.
 */
export function heightFromPoints(
  f: { cx: number; cy: number; l: number; w: number },
  positions: Float32Array,
  count: number,
  groundZ: number,
  fallbackHeight: number,
  minPoints = 5,
): { cz: number; h: number } {
  const x0 = f.cx - f.l / 2;
  const x1 = f.cx + f.l / 2;
  const y0 = f.cy - f.w / 2;
  const y1 = f.cy + f.w / 2;
  let lo = Infinity;
  let hi = -Infinity;
  let n = 0;
  for (let i = 0; i < count; i++) {
    const x = positions[3 * i] as number;
    const y = positions[3 * i + 1] as number;
    if (x < x0 || x > x1 || y < y0 || y > y1) continue;
    const z = positions[3 * i + 2] as number;
    if (z < lo) lo = z;
    if (z > hi) hi = z;
    n++;
  }
  if (n >= minPoints) {
    const h = Math.max(MIN_SIZE, hi - lo);
    return { cz: lo + h / 2, h };
  }
  return { cz: groundZ + fallbackHeight / 2, h: fallbackHeight };
}

/** True when (x, y, z) lies inside `g` (faces included). */
export function contains(g: CuboidGeom, x: number, y: number, z: number): boolean {
  const [u, v] = toLocal(g, x, y);
  return Math.abs(u) <= g.size[0] / 2 && Math.abs(v) <= g.size[1] / 2 && Math.abs(z - g.center[2]) <= g.size[2] / 2;
}

/** Distance along the ray `origin + t * dir` to where it enters `g`, or null when it misses. */
export function rayHit(g: CuboidGeom, origin: Vec3, dir: Vec3): number | null {
  const [ou, ov] = toLocal(g, origin[0], origin[1]);
  const { head, left } = axes(g.yaw);
  const du = dir[0] * head[0] + dir[1] * head[1];
  const dv = dir[0] * left[0] + dir[1] * left[1];
  const o = [ou, ov, origin[2] - g.center[2]];
  const d = [du, dv, dir[2]];
  let t0 = -Infinity;
  let t1 = Infinity;
  for (let i = 0; i < 3; i++) {
    const half = (g.size[i] as number) / 2;
    const oi = o[i] as number;
    const di = d[i] as number;
    if (Math.abs(di) < 1e-12) {
      if (oi < -half || oi > half) return null;
      continue;
    }
    let a = (-half - oi) / di;
    let b = (half - oi) / di;
    if (a > b) [a, b] = [b, a];
    t0 = Math.max(t0, a);
    t1 = Math.min(t1, b);
    if (t0 > t1) return null;
  }
  if (t1 < 0) return null;
  return Math.max(t0, 0);
}

/** A geometry value for Python: plain arrays, float noise removed (1e-9). */
export function cuboidValue(g: CuboidGeom): { center: number[]; size: number[]; yaw: number } {
  const c = (v: number): number => {
    const r = Math.round(v * 1e6) / 1e6;
    return Math.abs(r - v) < 1e-9 ? r : v;
  };
  return { center: g.center.map(c), size: g.size.map(c), yaw: g.yaw };
}

/** Parse a cuboid geometry value from Python; null when malformed. */
export function parseCuboid(raw: unknown): CuboidGeom | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const vec = (v: unknown): [number, number, number] | null =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && Number.isFinite(x))
      ? [v[0] as number, v[1] as number, v[2] as number]
      : null;
  const center = vec(r.center);
  const size = vec(r.size);
  const yaw = typeof r.yaw === "number" && Number.isFinite(r.yaw) ? r.yaw : null;
  if (!center || !size || yaw === null || size.some((s) => s <= 0)) return null;
  return { center, size, yaw };
}
