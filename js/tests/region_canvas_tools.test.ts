import { describe, expect, it } from "vitest";
import { ViewTransform, rotatedBoxCorners, type Point } from "../src/runtime/geometry.js";
import {
  CLOSE_PX,
  boxFromScreenDrag,
  closePolygon,
  cursorFor,
  dragShape,
  finishKeypoints,
  fitRotatedBox,
  hitBody,
  hitHandle,
  moveShape,
  newKeypointDraft,
  nextKeypointName,
  normalizeAngle,
  pick,
  placeKeypoint,
  polygonClick,
  removeLastVertex,
  resizeRotatedBox,
  rotateBy,
  rotateToward,
  rotatedBoxFromScreenDrag,
  rotatedBoxHandles,
  shapeExtent,
  shapeProblem,
  shapesEqual,
  toggleKeypointVisibility,
} from "../src/widgets/region_canvas/tools.js";
import type { KeypointsGeom, PolygonGeom, RotatedBoxGeom, Shape } from "../src/widgets/region_canvas/types.js";

const IMAGE = { width: 640, height: 480 };

const VIEWS: [string, ViewTransform][] = [
  ["identity", new ViewTransform()],
  ["zoom 2, pan (-30, 10)", new ViewTransform(2, -30, 10)],
  ["zoom 0.5, pan (40, 25)", new ViewTransform(0.5, 40, 25)],
  ["zoom 3.7, pan (-812.5, -301.25)", new ViewTransform(3.7, -812.5, -301.25)],
];

const closeTo = (a: Point, b: Point, digits = 9): void => {
  expect(a.x).toBeCloseTo(b.x, digits);
  expect(a.y).toBeCloseTo(b.y, digits);
};

describe("box tool: drag → image-pixel box", () => {
  it("maps a drag at zoom 2 and pan (-30, 10) exactly", () => {
    const view = new ViewTransform(2, -30, 10);
    // screen (50, 30) → image ((50+30)/2, (30-10)/2) = (40, 10); (250, 130) → (140, 60)
    expect(boxFromScreenDrag(view, { x: 50, y: 30 }, { x: 250, y: 130 }, IMAGE)).toEqual({ x: 40, y: 10, w: 100, h: 50 });
    // the same drag backwards gives the same box
    expect(boxFromScreenDrag(view, { x: 250, y: 130 }, { x: 50, y: 30 }, IMAGE)).toEqual({ x: 40, y: 10, w: 100, h: 50 });
  });

  it.each(VIEWS)("round-trips screen corners at %s", (_name, view) => {
    const a = { x: 33, y: 47 };
    const b = { x: 291, y: 203 };
    const box = boxFromScreenDrag(view, a, b, { width: 1e6, height: 1e6 });
    const ia = view.screenToImage(a);
    const ib = view.screenToImage(b);
    if (ia.x < 0 || ia.y < 0) return; // clamped views are covered below
    expect(box).not.toBeNull();
    closeTo(view.imageToScreen({ x: box!.x, y: box!.y }), a);
    closeTo(view.imageToScreen({ x: box!.x + box!.w, y: box!.y + box!.h }), b);
    expect(box!.w).toBeCloseTo(ib.x - ia.x, 9);
  });

  it("clamps to the image and ignores clicks", () => {
    const view = new ViewTransform(2, -30, 10);
    // starts left/above the image (image x = -5, y = -5) and ends past it
    const box = boxFromScreenDrag(view, { x: -40, y: 0 }, { x: 2000, y: 2000 }, IMAGE);
    expect(box).toEqual({ x: 0, y: 0, w: 640, h: 480 });
    expect(boxFromScreenDrag(view, { x: 100, y: 100 }, { x: 102, y: 300 }, IMAGE)).toBeNull();
    expect(boxFromScreenDrag(view, { x: 100, y: 100 }, { x: 300, y: 101 }, IMAGE)).toBeNull();
    // entirely outside the image: nothing left after clamping
    expect(boxFromScreenDrag(view, { x: -200, y: 50 }, { x: -100, y: 150 }, IMAGE)).toBeNull();
  });

  it("makes a rotated box at angle 0 from the same drag", () => {
    const view = new ViewTransform(2, -30, 10);
    expect(rotatedBoxFromScreenDrag(view, { x: 50, y: 30 }, { x: 250, y: 130 }, IMAGE)).toEqual({
      cx: 90,
      cy: 35,
      w: 100,
      h: 50,
      angle: 0,
    });
  });
});

describe("rotated boxes", () => {
  const g: RotatedBoxGeom = { cx: 100, cy: 100, w: 40, h: 20, angle: 0 };

  it("turns toward the pointer: handle above the box is angle 0, right of it is +90° (clockwise)", () => {
    expect(rotateToward(g, { x: 100, y: 0 }, IMAGE).angle).toBeCloseTo(0, 12);
    expect(rotateToward(g, { x: 200, y: 100 }, IMAGE).angle).toBeCloseTo(Math.PI / 2, 12);
    expect(rotateToward(g, { x: 0, y: 100 }, IMAGE).angle).toBeCloseTo(-Math.PI / 2, 12);
    expect(Math.abs(rotateToward(g, { x: 100, y: 300 }, IMAGE).angle)).toBeCloseTo(Math.PI, 12);
    // snapping to 15°
    expect(rotateToward(g, { x: 130, y: 0 }, IMAGE, Math.PI / 12).angle).toBeCloseTo(Math.PI / 12, 12);
  });

  it("puts the rotation handle where rotateToward points at every zoom", () => {
    for (const [, view] of VIEWS) {
      const turned = { ...g, angle: 0.7 };
      const { rotate } = rotatedBoxHandles(turned, view);
      expect(rotateToward(turned, view.screenToImage(rotate), IMAGE).angle).toBeCloseTo(0.7, 9);
    }
  });

  it("rotateBy steps and keeps the box inside the image", () => {
    expect(rotateBy(g, Math.PI / 36, IMAGE).angle).toBeCloseTo(Math.PI / 36, 12);
    // a long box near the top edge: turning it 90° needs it to move down
    const edge: RotatedBoxGeom = { cx: 100, cy: 5, w: 100, h: 10, angle: 0 };
    const turned = rotateBy(edge, Math.PI / 2, IMAGE);
    expect(turned.angle).toBeCloseTo(Math.PI / 2, 12);
    for (const c of rotatedBoxCorners({ ...turned, width: turned.w, height: turned.h })) {
      expect(c.y).toBeGreaterThanOrEqual(-1e-9);
      expect(c.x).toBeGreaterThanOrEqual(-1e-9);
    }
    // too long to stand upright in a 60 px tall image: unchanged
    const small = { width: 640, height: 60 };
    expect(rotateBy(edge, Math.PI / 2, small)).toBe(edge);
    expect(fitRotatedBox({ ...edge, angle: Math.PI / 2 }, small)).toBeNull();
  });

  it("normalises angles into (-π, π]", () => {
    expect(normalizeAngle(3 * Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(normalizeAngle(-Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(normalizeAngle(Math.PI / 2 + 4 * Math.PI)).toBeCloseTo(Math.PI / 2, 9);
  });

  it("resizes along its own axes, keeping the opposite side", () => {
    const turned: RotatedBoxGeom = { cx: 200, cy: 200, w: 40, h: 20, angle: Math.PI / 2 };
    // At +90°, the local +x axis points down on screen: "e" is the bottom middle at (200, 220).
    const out = resizeRotatedBox(turned, "e", { x: 200, y: 240 }, IMAGE)!;
    expect(out.w).toBeCloseTo(60, 9);
    expect(out.h).toBeCloseTo(20, 9);
    expect(out.cy).toBeCloseTo(210, 9); // the "w" side at y = 180 stayed
    expect(out.cx).toBeCloseTo(200, 9);
    expect(resizeRotatedBox(turned, "e", { x: 200, y: 900 }, IMAGE)).toBeNull(); // would leave the image
  });
});

describe("polygon tool", () => {
  const view = new ViewTransform(2, -30, 10);
  const screen = (x: number, y: number): Point => view.imageToScreen({ x, y });

  it("adds vertices in image pixels, clamped to the image", () => {
    let points: Point[] = [];
    for (const [x, y] of [
      [10, 10],
      [100, 10],
      [700, 500],
    ]) {
      const step = polygonClick(points, screen(x!, y!), view, IMAGE);
      expect(step.type).toBe("add");
      if (step.type === "add") points = step.points;
    }
    expect(points).toEqual([
      { x: 10, y: 10 },
      { x: 100, y: 10 },
      { x: 640, y: 480 },
    ]);
  });

  it("closes on a click near the first vertex once it has 3 vertices", () => {
    const two = [
      { x: 10, y: 10 },
      { x: 100, y: 10 },
    ];
    // with 2 vertices a click on the first one is just another vertex
    expect(polygonClick(two, screen(10, 10), view, IMAGE).type).toBe("add");
    const three = [...two, { x: 100, y: 100 }];
    const first = screen(10, 10);
    expect(polygonClick(three, { x: first.x + CLOSE_PX - 1, y: first.y }, view, IMAGE).type).toBe("close");
    expect(polygonClick(three, { x: first.x + CLOSE_PX + 2, y: first.y }, view, IMAGE).type).toBe("add");
  });

  it("ignores a click on the last vertex (the second click of a double-click)", () => {
    const pts = [
      { x: 10, y: 10 },
      { x: 100, y: 10 },
    ];
    const last = screen(100, 10);
    expect(polygonClick(pts, { x: last.x + 1, y: last.y - 1 }, view, IMAGE).type).toBe("ignore");
  });

  it("refuses to close fewer than 3, collinear or crossing vertices", () => {
    expect(closePolygon([{ x: 0, y: 0 }, { x: 1, y: 1 }])).toMatchObject({ ok: false });
    const collinear = closePolygon([
      { x: 0, y: 0 },
      { x: 5, y: 5 },
      { x: 10, y: 10 },
    ]);
    expect(collinear).toMatchObject({ ok: false, reason: expect.stringContaining("line") });
    const bowtie = closePolygon([
      { x: 0, y: 0 },
      { x: 10, y: 10 },
      { x: 10, y: 0 },
      { x: 0, y: 10 },
    ]);
    expect(bowtie).toMatchObject({ ok: false, reason: expect.stringContaining("cross") });
    const ok = closePolygon([
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 10, y: 10 },
    ]);
    expect(ok).toEqual({
      ok: true,
      geometry: {
        points: [
          [0, 0],
          [10, 0],
          [10, 10],
        ],
      },
    });
  });

  it("Backspace removes the last vertex", () => {
    expect(removeLastVertex([{ x: 1, y: 1 }, { x: 2, y: 2 }])).toEqual([{ x: 1, y: 1 }]);
    expect(removeLastVertex([])).toEqual([]);
  });
});

describe("keypoints tool", () => {
  const names = ["nose", "left_eye", "right_eye"];

  it("places one point per name with v=2, Shift gives v=1, and finishes when all are placed", () => {
    let d = newKeypointDraft(names);
    expect(nextKeypointName(d)).toBe("nose");
    let r = placeKeypoint(d, { x: 10, y: 20 }, IMAGE);
    expect(r.done).toBe(false);
    d = r.draft;
    expect(nextKeypointName(d)).toBe("left_eye");
    r = placeKeypoint(d, { x: 30, y: 40 }, IMAGE, true);
    d = r.draft;
    r = placeKeypoint(d, { x: 700, y: -5 }, IMAGE);
    expect(r.done).toBe(true);
    expect(finishKeypoints(r.draft)).toEqual({
      points: [
        [10, 20, 2],
        [30, 40, 1],
        [640, 0, 2],
      ],
    });
  });

  it("gives unplaced keypoints v=0 when finished early", () => {
    const d = placeKeypoint(newKeypointDraft(names), { x: 5, y: 6 }, IMAGE).draft;
    expect(finishKeypoints(d)).toEqual({
      points: [
        [5, 6, 2],
        [0, 0, 0],
        [0, 0, 0],
      ],
    });
    expect(finishKeypoints(newKeypointDraft(names))).toBeNull();
  });

  it("takes any number of points when the class names none", () => {
    let d = newKeypointDraft([]);
    for (let i = 0; i < 5; i++) {
      const r = placeKeypoint(d, { x: i, y: i }, IMAGE);
      expect(r.done).toBe(false);
      d = r.draft;
    }
    expect(finishKeypoints(d)?.points).toHaveLength(5);
  });

  it("toggles visibility 2 ↔ 1 and leaves unlabelled points alone", () => {
    const g = {
      points: [
        [1, 1, 2],
        [2, 2, 1],
        [0, 0, 0],
      ] as [number, number, number][],
    };
    expect(toggleKeypointVisibility(g, 0).points[0]).toEqual([1, 1, 1]);
    expect(toggleKeypointVisibility(g, 1).points[1]).toEqual([2, 2, 2]);
    expect(toggleKeypointVisibility(g, 2).points[2]).toEqual([0, 0, 0]);
  });
});

describe("select: move and resize", () => {
  const box: Shape = { kind: "box", geometry: { x: 100, y: 100, w: 50, h: 40 } };

  it("moves by the image-space pointer delta", () => {
    const view = new ViewTransform(2, -30, 10);
    const start = view.screenToImage({ x: 300, y: 260 });
    const end = view.screenToImage({ x: 340, y: 200 }); // +40, -60 screen px = +20, -30 image px
    expect(dragShape(box, { type: "move" }, start, end, IMAGE)).toEqual({
      kind: "box",
      geometry: { x: 120, y: 70, w: 50, h: 40 },
    });
  });

  it("clamps moves so the whole shape stays in the image", () => {
    expect(moveShape(box, -500, 1000, IMAGE).geometry).toEqual({ x: 0, y: 440, w: 50, h: 40 });
    const poly: Shape = {
      kind: "polygon",
      geometry: {
        points: [
          [10, 10],
          [60, 20],
          [30, 70],
        ],
      },
    };
    expect((moveShape(poly, 1000, -1000, IMAGE).geometry as PolygonGeom).points).toEqual([
      [590, 0],
      [640, 10],
      [610, 60],
    ]);
    const rb: Shape = { kind: "rotated_box", geometry: { cx: 100, cy: 100, w: 40, h: 20, angle: Math.PI / 2 } };
    const moved = moveShape(rb, -1000, 0, IMAGE);
    expect(moved.kind === "rotated_box" && moved.geometry.cx).toBeCloseTo(10, 9); // half its turned width
  });

  it("moves only labelled keypoints", () => {
    const kp: Shape = {
      kind: "keypoints",
      geometry: {
        points: [
          [10, 10, 2],
          [0, 0, 0],
          [20, 30, 1],
        ],
      },
    };
    expect((moveShape(kp, 5, 5, IMAGE).geometry as KeypointsGeom).points).toEqual([
      [15, 15, 2],
      [0, 0, 0],
      [25, 35, 1],
    ]);
  });

  it("resizes a box by a handle and clamps the handle to the image", () => {
    const r = dragShape(box, { type: "handle", handle: "se" }, { x: 150, y: 140 }, { x: 900, y: 900 }, IMAGE);
    expect(r.geometry).toEqual({ x: 100, y: 100, w: 540, h: 380 });
    const w = dragShape(box, { type: "handle", handle: "w" }, { x: 100, y: 120 }, { x: -50, y: 120 }, IMAGE);
    expect(w.geometry).toEqual({ x: 0, y: 100, w: 150, h: 40 });
    // collapsing to zero width keeps the previous preview
    const prev: Shape = { kind: "box", geometry: { x: 100, y: 100, w: 10, h: 40 } };
    expect(dragShape(box, { type: "handle", handle: "e" }, { x: 150, y: 120 }, { x: 100, y: 120 }, IMAGE, prev)).toBe(prev);
  });

  it("drags polygon and keypoint vertices, clamped", () => {
    const poly: Shape = {
      kind: "polygon",
      geometry: {
        points: [
          [10, 10],
          [60, 20],
          [30, 70],
        ],
      },
    };
    const out = dragShape(poly, { type: "vertex", index: 1 }, { x: 60, y: 20 }, { x: 999, y: -3 }, IMAGE);
    expect(out.geometry).toEqual({
      points: [
        [10, 10],
        [640, 0],
        [30, 70],
      ],
    });
    const kp: Shape = { kind: "keypoints", geometry: { points: [[10, 10, 1]] } };
    expect(dragShape(kp, { type: "vertex", index: 0 }, { x: 10, y: 10 }, { x: 12, y: 13 }, IMAGE).geometry).toEqual({
      points: [[12, 13, 1]],
    });
  });

  it("hit-tests handles at a constant screen size and bodies in image space", () => {
    for (const [, view] of VIEWS) {
      const se = view.imageToScreen({ x: 150, y: 140 });
      expect(hitHandle(box, { x: se.x + 4, y: se.y - 4 }, view)).toEqual({ type: "handle", handle: "se" });
      expect(hitHandle(box, { x: se.x + 20, y: se.y }, view)).toBeNull();
      const inside = view.imageToScreen({ x: 125, y: 120 });
      expect(hitBody(box, inside, view)).toBe(true);
      expect(hitBody(box, view.imageToScreen({ x: 300, y: 300 }), view)).toBe(false);
    }
  });

  it("picks the topmost body, and the selected shape's handles first", () => {
    const view = new ViewTransform(1, 0, 0);
    const a = { id: "a", shape: box };
    const b = { id: "b", shape: { kind: "box", geometry: { x: 120, y: 110, w: 50, h: 50 } } as Shape };
    expect(pick([a, b], { x: 130, y: 120 }, view, null)).toEqual({ id: "b", grab: { type: "move" } });
    // a's se handle (150, 140) lies inside b: selected a wins with its handle
    expect(pick([a, b], { x: 150, y: 140 }, view, a)).toEqual({ id: "a", grab: { type: "handle", handle: "se" } });
    expect(pick([a, b], { x: 10, y: 10 }, view, a)).toBeNull();
  });

  it("reports problems Python would refuse, and equality", () => {
    expect(shapeProblem(box, IMAGE)).toBeNull();
    expect(shapeProblem({ kind: "box", geometry: { x: 630, y: 0, w: 20, h: 10 } }, IMAGE)).toMatch(/leaves/);
    expect(shapeProblem({ kind: "box", geometry: { x: 0, y: 0, w: 0, h: 10 } }, IMAGE)).toMatch(/empty/);
    expect(shapesEqual(box, { kind: "box", geometry: { x: 100, y: 100, w: 50, h: 40 } })).toBe(true);
    expect(shapesEqual(box, moveShape(box, 1, 0, IMAGE))).toBe(false);
    expect(shapeExtent({ kind: "keypoints", geometry: { points: [[0, 0, 0]] } })).toBeNull();
  });

  it("chooses resize cursors that follow the rotation", () => {
    expect(cursorFor({ type: "handle", handle: "e" })).toBe("ew-resize");
    expect(cursorFor({ type: "handle", handle: "e" }, Math.PI / 2)).toBe("ns-resize");
    expect(cursorFor({ type: "handle", handle: "nw" })).toBe("nwse-resize");
    expect(cursorFor({ type: "move" })).toBe("move");
    expect(cursorFor(null)).toBe("default");
  });
});
