import { describe, expect, it } from "vitest";
import { ViewTransform } from "../src/runtime/geometry.js";
import { buildGroups, drawScene, readableOn, type Scene } from "../src/widgets/region_canvas/draw.js";
import { parseRecord, type AnnotationRecord, type Shape } from "../src/widgets/region_canvas/types.js";

/** A 2D context that records calls (jsdom has no canvas). */
function recordingContext(): { ctx: CanvasRenderingContext2D; calls: Map<string, number>; texts: string[] } {
  const calls = new Map<string, number>();
  const texts: string[] = [];
  const props: Record<string, unknown> = {};
  const ctx = new Proxy(props, {
    get(target, key: string) {
      if (key in target) return target[key];
      if (key === "measureText") return (t: string) => ({ width: t.length * 6 });
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        if (key === "fillText") texts.push(String(args[0]));
      };
    },
    set(target, key: string, value) {
      target[key] = value;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
  return { ctx, calls, texts };
}

const COLOURS: Record<string, string> = { car: "#ff0000", bus: "#00ff00", ped: "#0000ff" };

function records(n: number): AnnotationRecord[] {
  const labels = ["car", "bus", "ped"];
  return Array.from({ length: n }, (_, i) =>
    parseRecord({
      id: `a${i}`,
      item: "i",
      stream: "s",
      label: labels[i % 3],
      kind: "box",
      geometry: { x: (i * 7) % 600, y: (i * 13) % 440, w: 20, h: 15 },
      frame: null,
      annotator: i % 10 === 0 ? "bob" : "ana",
      revision: 1,
    })!,
  );
}

function scene(groups: Scene["groups"], extra: Partial<Scene> = {}): Scene {
  return {
    width: 800,
    height: 600,
    dpr: 2,
    view: new ViewTransform(1.2, 10, 5),
    image: null,
    imageSize: { width: 640, height: 480 },
    groups,
    skip: new Set(),
    overrides: [],
    pending: [],
    hover: null,
    selected: null,
    draft: null,
    ...extra,
  };
}

describe("draw", () => {
  it("groups records by colour, others dashed and first, hidden when others are off", () => {
    const recs = records(30);
    const groups = buildGroups(recs, (l) => COLOURS[l] ?? "#808080", "ana", true);
    expect(groups.filter((g) => g.dashed).length).toBeGreaterThan(0);
    const firstMine = groups.findIndex((g) => !g.dashed);
    expect(groups.slice(firstMine).every((g) => !g.dashed)).toBe(true);
    expect(groups.reduce((n, g) => n + g.ids.length, 0)).toBe(30);
    const mineOnly = buildGroups(recs, (l) => COLOURS[l] ?? "#808080", "ana", false);
    expect(mineOnly.every((g) => !g.dashed)).toBe(true);
    expect(mineOnly.reduce((n, g) => n + g.ids.length, 0)).toBe(27);
  });

  it("draws 1,000 boxes with one stroke per colour group (batched paths)", () => {
    const groups = buildGroups(records(1000), (l) => COLOURS[l] ?? "#808080", "ana", true);
    expect(groups).toHaveLength(6); // 3 colours × (mine, others)
    const { ctx, calls } = recordingContext();
    drawScene(ctx, scene(groups));
    expect(calls.get("rect")).toBe(1000);
    expect(calls.get("stroke")).toBe(6);
    expect(calls.get("beginPath")).toBe(6);
  });

  it("skips the dragged record in its group and draws the selection with handles and a text tag", () => {
    const recs = records(10);
    const groups = buildGroups(recs, (l) => COLOURS[l] ?? "#808080", "ana", true);
    const { ctx, calls, texts } = recordingContext();
    const shape = recs[1]!.shape!;
    drawScene(
      ctx,
      scene(groups, {
        skip: new Set(["a1"]),
        selected: { shape, color: "#00ff00", tag: "<img src=x onerror=alert(1)>", dashed: false },
      }),
    );
    // 9 boxes in groups + 1 selected + 8 handle squares
    expect(calls.get("rect")).toBe(9 + 1 + 8);
    expect(texts).toEqual(["<img src=x onerror=alert(1)>"]);
  });

  it("draws every kind and every draft without throwing", () => {
    const shapes: Shape[] = [
      { kind: "rotated_box", geometry: { cx: 50, cy: 50, w: 30, h: 10, angle: 0.4 } },
      { kind: "polygon", geometry: { points: [[0, 0], [10, 0], [5, 8]] } },
      { kind: "keypoints", geometry: { points: [[5, 5, 2], [6, 6, 1], [0, 0, 0]] } },
    ];
    const { ctx, calls } = recordingContext();
    for (const shape of shapes) {
      const h = { shape, color: "#123456", tag: "t", dashed: false };
      drawScene(ctx, scene([], { selected: h, hover: { ...h, dashed: true }, pending: [h], overrides: [h] }));
    }
    drawScene(ctx, scene([], { draft: { kind: "polygon", points: [{ x: 1, y: 1 }, { x: 5, y: 1 }, { x: 5, y: 5 }], cursor: { x: 9, y: 9 }, color: "#fff000", closable: true } }));
    drawScene(ctx, scene([], { draft: { kind: "keypoints", points: [[1, 1, 2]], cursor: { x: 3, y: 3 }, color: "#fff000", next: "nose" } }));
    drawScene(ctx, scene([], { draft: { kind: "shape", shape: shapes[0]!, color: "#fff000" } }));
    expect(calls.get("arc")).toBeGreaterThan(0);
    expect(calls.get("setTransform")).toBe(6);
  });

  it("picks readable tag text", () => {
    expect(readableOn("#ffff00")).toBe("#000");
    expect(readableOn("#000080")).toBe("#fff");
    expect(readableOn("nope")).toBe("#fff");
  });
});
