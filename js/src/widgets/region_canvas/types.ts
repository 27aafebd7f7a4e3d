/**
 * The data RegionCanvas receives from Python, parsed once into plain typed
 * objects. Parsing is tolerant: a malformed value becomes `null` (not drawn)
 * instead of throwing, because the page must keep working on bad data and
 * Python is the one that validates.
 */

import { safeColour } from "../../runtime/text.js";

/** The geometry kinds this canvas draws and edits. */
export const KINDS = ["box", "rotated_box", "polygon", "keypoints"] as const;
export type Kind = (typeof KINDS)[number];

export const TOOLS = ["select", ...KINDS] as const;
export type Tool = (typeof TOOLS)[number];

export function isKind(value: unknown): value is Kind {
  return typeof value === "string" && (KINDS as readonly string[]).includes(value);
}

export function isTool(value: unknown): value is Tool {
  return typeof value === "string" && (TOOLS as readonly string[]).includes(value);
}

/** `box {x, y, w, h}`: top-left corner and size, image pixels. */
export interface BoxGeom {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** `rotated_box {cx, cy, w, h, angle}`: angle in radians, clockwise on screen. */
export interface RotatedBoxGeom {
  cx: number;
  cy: number;
  w: number;
  h: number;
  angle: number;
}

/** `polygon {points: [[x, y], ...]}`. */
export interface PolygonGeom {
  points: [number, number][];
}

/** `keypoints {points: [[x, y, v], ...]}`, COCO visibility v ∈ {0, 1, 2}. */
export interface KeypointsGeom {
  points: [number, number, number][];
}

/** A geometry with its kind, the unit the tools and the renderer work on. */
export type Shape =
  | { kind: "box"; geometry: BoxGeom }
  | { kind: "rotated_box"; geometry: RotatedBoxGeom }
  | { kind: "polygon"; geometry: PolygonGeom }
  | { kind: "keypoints"; geometry: KeypointsGeom };

/** One annotation record from the store, with its drawable shape. */
export interface AnnotationRecord {
  id: string;
  item: string | null;
  stream: string | null;
  label: string;
  kind: string;
  attributes: Record<string, unknown>;
  frame: number | null;
  annotator: string | null;
  revision: number | null;
  status: string | null;
  /** The parsed geometry; null for kinds this canvas does not draw (tags, segments) or bad values. */
  shape: Shape | null;
  /** The entity it belongs to, when it has one (published with hover/select on the bus). */
  entity?: string | null;
}

export type AttributeType = "bool" | "int" | "float" | "text" | "choice" | "multi_choice";

export interface AttributeSpec {
  name: string;
  type: AttributeType;
  choices: string[];
  default: unknown;
  minimum: number | null;
  maximum: number | null;
  required: boolean;
}

export interface ClassSpec {
  name: string;
  /** `#rrggbb`, grey when Python sent something else. */
  color: string;
  hotkey: string | null;
  /** Geometry kinds allowed on this modality. */
  geometries: string[];
  attributes: AttributeSpec[];
  /** Keypoint names, in order (keypoints geometry only). */
  keypoints: string[];
  guidelines: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** A drawable shape from `kind` and a geometry value, or null when it is not one. */
export function parseShape(kind: unknown, geometry: unknown): Shape | null {
  if (!isObj(geometry)) return null;
  switch (kind) {
    case "box": {
      const x = num(geometry.x);
      const y = num(geometry.y);
      const w = num(geometry.w);
      const h = num(geometry.h);
      if (x === null || y === null || w === null || h === null) return null;
      return { kind, geometry: { x, y, w, h } };
    }
    case "rotated_box": {
      const cx = num(geometry.cx);
      const cy = num(geometry.cy);
      const w = num(geometry.w);
      const h = num(geometry.h);
      const angle = num(geometry.angle);
      if (cx === null || cy === null || w === null || h === null || angle === null) return null;
      return { kind, geometry: { cx, cy, w, h, angle } };
    }
    case "polygon": {
      if (!Array.isArray(geometry.points)) return null;
      const points: [number, number][] = [];
      for (const p of geometry.points) {
        if (!Array.isArray(p)) return null;
        const x = num(p[0]);
        const y = num(p[1]);
        if (x === null || y === null) return null;
        points.push([x, y]);
      }
      return points.length >= 2 ? { kind, geometry: { points } } : null;
    }
    case "keypoints": {
      if (!Array.isArray(geometry.points)) return null;
      const points: [number, number, number][] = [];
      for (const p of geometry.points) {
        if (!Array.isArray(p)) return null;
        const x = num(p[0]);
        const y = num(p[1]);
        const v = num(p[2]);
        if (x === null || y === null || v === null) return null;
        points.push([x, y, v === 1 || v === 2 ? v : 0]);
      }
      return { kind, geometry: { points } };
    }
    default:
      return null;
  }
}

/** Parse a store record; null when it has no string id. */
export function parseRecord(raw: unknown): AnnotationRecord | null {
  if (!isObj(raw) || typeof raw.id !== "string" || raw.id === "") return null;
  const kind = typeof raw.kind === "string" ? raw.kind : "";
  const frame = num(raw.frame);
  return {
    id: raw.id,
    item: strOrNull(raw.item),
    stream: strOrNull(raw.stream),
    label: typeof raw.label === "string" ? raw.label : String(raw.label ?? ""),
    kind,
    attributes: isObj(raw.attributes) ? { ...raw.attributes } : {},
    frame: frame === null ? null : Math.trunc(frame),
    annotator: strOrNull(raw.annotator),
    revision: num(raw.revision),
    status: strOrNull(raw.status),
    shape: parseShape(kind, raw.geometry),
    ...(typeof raw.entity === "string" && raw.entity ? { entity: raw.entity } : {}),
  };
}

const ATTRIBUTE_TYPES: readonly AttributeType[] = ["bool", "int", "float", "text", "choice", "multi_choice"];

function parseAttribute(raw: unknown): AttributeSpec | null {
  if (!isObj(raw) || typeof raw.name !== "string" || raw.name === "") return null;
  const type = ATTRIBUTE_TYPES.includes(raw.type as AttributeType) ? (raw.type as AttributeType) : "text";
  return {
    name: raw.name,
    type,
    choices: Array.isArray(raw.choices) ? raw.choices.filter((c): c is string => typeof c === "string") : [],
    default: raw.default ?? null,
    minimum: num(raw.minimum),
    maximum: num(raw.maximum),
    required: raw.required === true,
  };
}

/** Parse the `classes` trait; entries without a name are dropped, duplicates keep the first. */
export function parseClasses(raw: unknown): ClassSpec[] {
  if (!Array.isArray(raw)) return [];
  const out: ClassSpec[] = [];
  const seen = new Set<string>();
  for (const c of raw) {
    if (!isObj(c) || typeof c.name !== "string" || c.name === "" || seen.has(c.name)) continue;
    seen.add(c.name);
    const hotkey = typeof c.hotkey === "string" && c.hotkey.length === 1 ? c.hotkey : null;
    out.push({
      name: c.name,
      color: safeColour(c.color),
      hotkey,
      geometries: Array.isArray(c.geometries) ? c.geometries.filter((g): g is string => typeof g === "string") : [],
      attributes: Array.isArray(c.attributes)
        ? c.attributes.map(parseAttribute).filter((a): a is AttributeSpec => a !== null)
        : [],
      keypoints: Array.isArray(c.keypoints) ? c.keypoints.filter((k): k is string => typeof k === "string") : [],
      guidelines: typeof c.guidelines === "string" ? c.guidelines : "",
    });
  }
  return out;
}

/**
 * `v` with floating-point noise of the screen → image mapping removed
 * (479.99999999999994 → 480): snapped to the nearest 1e-6 only when it is
 * within 1e-9 of it, so no real value moves (and none leaves the image).
 */
export function cleanNumber(v: number): number {
  const r = Math.round(v * 1e6) / 1e6;
  return Math.abs(r - v) < 1e-9 ? r : v;
}

/** The geometry value to send for `shape` (a fresh JSON-able object, coordinates cleaned; angles untouched). */
export function geometryValue(shape: Shape): Record<string, unknown> {
  const c = cleanNumber;
  switch (shape.kind) {
    case "box": {
      const g = shape.geometry;
      return { x: c(g.x), y: c(g.y), w: c(g.w), h: c(g.h) };
    }
    case "rotated_box": {
      const g = shape.geometry;
      return { cx: c(g.cx), cy: c(g.cy), w: c(g.w), h: c(g.h), angle: g.angle };
    }
    case "polygon":
      return { points: shape.geometry.points.map(([x, y]) => [c(x), c(y)]) };
    case "keypoints":
      return { points: shape.geometry.points.map(([x, y, v]) => [c(x), c(y), v]) };
  }
}
