import { describe, expect, it } from "vitest";
import { keyAction, shortcutHelp, type KeyContext } from "../src/widgets/region_canvas/keys.js";
import {
  EMPTY_STATE,
  applyEvents,
  applyQuery,
  isEditable,
  isVisible,
  parseEvents,
  recordList,
  visibleCount,
  type Scope,
} from "../src/widgets/region_canvas/state.js";
import { cleanNumber, geometryValue, parseClasses, parseRecord, parseShape } from "../src/widgets/region_canvas/types.js";

const SCOPE: Scope = { item: "clip-1", stream: "cam", frame: 3 };

function rec(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    item: "clip-1",
    stream: "cam",
    label: "car",
    kind: "box",
    geometry: { x: 1, y: 2, w: 3, h: 4 },
    attributes: {},
    frame: 3,
    annotator: "ana",
    revision: 1,
    status: "draft",
    ...over,
  };
}

describe("parsing", () => {
  it("parses each drawable geometry and rejects malformed ones", () => {
    expect(parseShape("box", { x: 1, y: 2, w: 3, h: 4 })).toEqual({ kind: "box", geometry: { x: 1, y: 2, w: 3, h: 4 } });
    expect(parseShape("rotated_box", { cx: 1, cy: 2, w: 3, h: 4, angle: 0.5 })?.kind).toBe("rotated_box");
    expect(parseShape("polygon", { points: [[0, 0], [1, 0], [1, 1]] })?.kind).toBe("polygon");
    expect(parseShape("keypoints", { points: [[0, 0, 2], [1, 1, 7]] })).toEqual({
      kind: "keypoints",
      geometry: { points: [[0, 0, 2], [1, 1, 0]] },
    });
    expect(parseShape("box", { x: "1", y: 2, w: 3, h: 4 })).toBeNull();
    expect(parseShape("box", { x: NaN, y: 2, w: 3, h: 4 })).toBeNull();
    expect(parseShape("polygon", { points: [[0, 0], ["a", 1]] })).toBeNull();
    expect(parseShape("tag", {})).toBeNull();
    expect(parseShape("box", null)).toBeNull();
  });

  it("parses records and keeps non-drawable kinds with a null shape", () => {
    const r = parseRecord(rec("a", { kind: "tag", geometry: {} }))!;
    expect(r.id).toBe("a");
    expect(r.shape).toBeNull();
    expect(parseRecord({ label: "x" })).toBeNull();
    expect(parseRecord(null)).toBeNull();
  });

  it("parses classes: colours made safe, bad hotkeys dropped, duplicates skipped", () => {
    const classes = parseClasses([
      { name: "car", color: "#FF0000", hotkey: "c", geometries: ["box"], attributes: [{ name: "occluded", type: "bool" }] },
      { name: "car", color: "#00ff00" },
      { name: "ped", color: "red;background:url(x)", hotkey: "pp", keypoints: ["head", 3] },
      { color: "#000000" },
    ]);
    expect(classes.map((c) => c.name)).toEqual(["car", "ped"]);
    expect(classes[0]!.color).toBe("#ff0000");
    expect(classes[0]!.attributes[0]).toMatchObject({ name: "occluded", type: "bool", required: false });
    expect(classes[1]!.color).toBe("#808080");
    expect(classes[1]!.hotkey).toBeNull();
    expect(classes[1]!.keypoints).toEqual(["head"]);
    expect(parseClasses("nope")).toEqual([]);
  });

  it("removes floating-point noise from coordinates without moving real values", () => {
    expect(cleanNumber(479.99999999999994)).toBe(480);
    expect(cleanNumber(99.99999999999999)).toBe(100);
    expect(cleanNumber(12.3456789)).toBe(12.3456789);
    expect(cleanNumber(0.0000004)).toBe(0.0000004);
    expect(geometryValue({ kind: "rotated_box", geometry: { cx: 1.0000000000000002, cy: 2, w: 3, h: 4, angle: 0.1 + 0.2 } })).toEqual({
      cx: 1,
      cy: 2,
      w: 3,
      h: 4,
      angle: 0.1 + 0.2,
    });
  });

  it("serialises geometry values as fresh JSON objects", () => {
    const shape = { kind: "polygon" as const, geometry: { points: [[1, 2], [3, 4], [5, 0]] as [number, number][] } };
    const v = geometryValue(shape);
    expect(v).toEqual({ points: [[1, 2], [3, 4], [5, 0]] });
    (v.points as number[][])[0]![0] = 99;
    expect(shape.geometry.points[0]![0]).toBe(1);
  });
});

describe("state reducers", () => {
  it("a query reply replaces the records, keeping only the shown item/stream/frame", () => {
    const s = applyQuery(
      EMPTY_STATE,
      {
        annotations: [rec("a"), rec("b", { frame: 4 }), rec("c", { stream: "other" }), rec("d", { item: "clip-2" }), { bad: 1 }],
        seq: 17,
      },
      SCOPE,
    );
    expect([...s.records.keys()]).toEqual(["a"]);
    expect(s.seq).toBe(17);
    expect(s.version).toBe(1);
  });

  it("an image scope (frame null) keeps every record of the stream", () => {
    const s = applyQuery(EMPTY_STATE, { annotations: [rec("a", { frame: null }), rec("b", { frame: null })] }, { ...SCOPE, frame: null });
    expect(s.records.size).toBe(2);
  });

  it("applies create, update (in place) and delete events by id", () => {
    let s = applyQuery(EMPTY_STATE, { annotations: [rec("a"), rec("b")] }, SCOPE);
    s = applyEvents(s, { type: "event", events: [{ op: "create", id: "c", record: rec("c") }], seq: 5 }, SCOPE);
    expect([...s.records.keys()]).toEqual(["a", "b", "c"]);
    expect(s.seq).toBe(5);
    s = applyEvents(
      s,
      { type: "event", events: [{ op: "update", id: "a", record: rec("a", { label: "bus", revision: 2 }) }] },
      SCOPE,
    );
    expect(recordList(s).map((r) => r.id)).toEqual(["a", "b", "c"]); // drawing order kept
    expect(s.records.get("a")!.label).toBe("bus");
    expect(s.records.get("a")!.revision).toBe(2);
    s = applyEvents(s, { type: "event", events: [{ op: "delete", id: "b", record: null }] }, SCOPE);
    expect([...s.records.keys()]).toEqual(["a", "c"]);
  });

  it("ignores events of other frames and streams, and drops records that moved away", () => {
    const s0 = applyQuery(EMPTY_STATE, { annotations: [rec("a")] }, SCOPE);
    const s1 = applyEvents(
      s0,
      {
        type: "event",
        events: [
          { op: "create", id: "x", record: rec("x", { frame: 9 }) },
          { op: "create", id: "y", record: rec("y", { stream: "mic" }) },
          { op: "create", id: "z", record: rec("z", { item: "clip-9" }) },
          { op: "delete", id: "nope", record: null },
        ],
      },
      SCOPE,
    );
    expect(s1).toBe(s0); // nothing changed: same object, no redraw
    const s2 = applyEvents(s0, { type: "event", events: [{ op: "update", id: "a", record: rec("a", { frame: 7 }) }] }, SCOPE);
    expect(s2.records.has("a")).toBe(false);
  });

  it("ignores events of other targets (links) in the same push", () => {
    const s0 = applyQuery(EMPTY_STATE, { annotations: [rec("a")] }, SCOPE);
    const s1 = applyEvents(
      s0,
      {
        type: "event",
        events: [
          { op: "create", id: "l_1", target: "link", record: { id: "l_1", item: "clip-1", source: "a", target: "b" } },
          { op: "update", id: "a", target: "annotation", record: rec("a", { revision: 2 }) },
        ],
        seq: 9,
        command: "annotation.update",
      },
      SCOPE,
    );
    expect([...s1.records.keys()]).toEqual(["a"]);
    expect(s1.records.get("a")!.revision).toBe(2);
  });

  it("skips malformed events", () => {
    expect(parseEvents({ events: [{ op: "explode", id: "a" }, null, { op: "create", record: rec("q") }, "x"] })).toEqual([
      { op: "create", id: "q", record: rec("q") },
    ]);
    expect(parseEvents({})).toEqual([]);
    const s = applyEvents(EMPTY_STATE, { events: [{ op: "create", id: "a", record: rec("b") }] }, SCOPE);
    expect(s.records.size).toBe(0); // id and record disagree
  });

  it("others' records are drawn (when shown) but never editable", () => {
    const mine = parseRecord(rec("a"))!;
    const theirs = parseRecord(rec("b", { annotator: "bob" }))!;
    const nobody = parseRecord(rec("c", { annotator: null }))!;
    expect(isEditable(mine, "ana")).toBe(true);
    expect(isEditable(theirs, "ana")).toBe(false);
    expect(isEditable(nobody, "ana")).toBe(true);
    expect(isVisible(theirs, "ana", true)).toBe(true);
    expect(isVisible(theirs, "ana", false)).toBe(false);
    const s = applyQuery(EMPTY_STATE, { annotations: [rec("a"), rec("b", { annotator: "bob" }), rec("t", { kind: "tag", geometry: {} })] }, SCOPE);
    expect(visibleCount(s, "ana", true)).toBe(2);
    expect(visibleCount(s, "ana", false)).toBe(1);
  });
});

describe("keyboard shortcuts", () => {
  const classes = parseClasses([
    { name: "car", hotkey: "c" },
    { name: "zero", hotkey: "0" },
  ]);
  const idle: KeyContext = { drafting: false, hasSelection: false, selectionRotatable: false, video: true };

  it("maps undo/redo with Ctrl or Cmd", () => {
    expect(keyAction({ key: "z", ctrlKey: true }, classes, idle)).toEqual({ type: "undo" });
    expect(keyAction({ key: "Z", ctrlKey: true, shiftKey: true }, classes, idle)).toEqual({ type: "redo" });
    expect(keyAction({ key: "y", ctrlKey: true }, classes, idle)).toEqual({ type: "redo" });
    expect(keyAction({ key: "z", metaKey: true }, classes, idle)).toEqual({ type: "undo" });
    expect(keyAction({ key: "c", ctrlKey: true }, classes, idle)).toBeNull(); // copy is not ours
  });

  it("class hotkeys win over built-ins", () => {
    expect(keyAction({ key: "c" }, classes, idle)).toEqual({ type: "label", name: "car" });
    expect(keyAction({ key: "0" }, classes, idle)).toEqual({ type: "label", name: "zero" });
    expect(keyAction({ key: "0" }, [], idle)).toEqual({ type: "fit" });
  });

  it("depends on what the view is doing", () => {
    const drafting = { ...idle, drafting: true };
    const selected = { ...idle, hasSelection: true, selectionRotatable: true };
    expect(keyAction({ key: "Enter" }, [], drafting)).toEqual({ type: "finish-draft" });
    expect(keyAction({ key: "Enter" }, [], idle)).toBeNull();
    expect(keyAction({ key: "Backspace" }, [], drafting)).toEqual({ type: "remove-vertex" });
    expect(keyAction({ key: "Backspace" }, [], selected)).toEqual({ type: "delete" });
    expect(keyAction({ key: "Delete" }, [], selected)).toEqual({ type: "delete" });
    expect(keyAction({ key: "Escape" }, [], idle)).toBeNull();
    expect(keyAction({ key: "Escape" }, [], selected)).toEqual({ type: "cancel" });
    expect(keyAction({ key: "]" }, [], selected)).toEqual({ type: "rotate", direction: 1, fine: false });
    expect(keyAction({ key: "{", shiftKey: true }, [], selected)).toEqual({ type: "rotate", direction: -1, fine: true });
    expect(keyAction({ key: "]" }, [], idle)).toBeNull();
    expect(keyAction({ key: "ArrowRight" }, [], idle)).toEqual({ type: "frame", delta: 1 });
    expect(keyAction({ key: "ArrowLeft", shiftKey: true }, [], idle)).toEqual({ type: "frame", delta: -10 });
    expect(keyAction({ key: "ArrowLeft" }, [], { ...idle, video: false })).toBeNull();
    expect(keyAction({ key: "?" }, [], idle)).toEqual({ type: "help" });
  });

  it("lists frame keys in the help only for video", () => {
    expect(shortcutHelp(true).some((r) => r.keys.includes("←"))).toBe(true);
    expect(shortcutHelp(false).some((r) => r.keys.includes("←"))).toBe(false);
  });
});
