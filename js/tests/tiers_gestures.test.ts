import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SegmentEdits, updatePayload, type SegmentEdit } from "../src/widgets/player/tiers/edits.js";
import {
  addPayload,
  cleanSeconds,
  dragTimes,
  hitTest,
  segmentProblem,
  tierAttributes,
} from "../src/widgets/player/tiers/gestures.js";
import { tierKeyAction } from "../src/widgets/player/tiers/keys.js";
import { toItem } from "../src/widgets/player/tiers/time.js";
import { FakeView, SECOND_AUDIO } from "./tiers_fakes.js";

describe("drag → stream seconds", () => {
  it("draws through the inverse clock: the item times under the pointer, stored as stream time", () => {
    const view = new FakeView(0, 0.01, 1000); // 10 ms per px
    const t = dragTimes({ kind: "draw", clock: SECOND_AUDIO, view, duration: 10, fromX: 300, toX: 150 });
    // item 1.5 s and 3.0 s under the pointer → stream (item - 0.3617) / 1.00015
    expect(t.start).toBeCloseTo((1.5 - 0.3617) / 1.00015, 6);
    expect(t.end).toBeCloseTo((3.0 - 0.3617) / 1.00015, 6);
    expect(toItem(SECOND_AUDIO, t.start)).toBeCloseTo(1.5, 6);
    const payload = addPayload("scene", "second_audio", "noise", t);
    expect(payload).toEqual({ item: "scene", stream: "second_audio", label: "noise", kind: "time_segment", geometry: { start: t.start, end: t.end } });
  });

  it("keeps drawn segments inside the stream", () => {
    const view = new FakeView(-1, 0.01, 1400);
    const t = dragTimes({ kind: "draw", clock: SECOND_AUDIO, view, duration: 10, fromX: 10, toX: 1390 });
    expect(t).toEqual({ start: 0, end: 10 });
  });

  it("respects a stream that starts after 0 (a video's first frame)", () => {
    const view = new FakeView(0, 0.01, 1000);
    const clock = { offset: 0, rate: 1 };
    expect(dragTimes({ kind: "draw", clock, view, duration: 10, min: 0.5, fromX: 10, toX: 100 })).toEqual({ start: 0.5, end: 1 });
    expect(dragTimes({ kind: "move", clock, view, duration: 10, min: 0.5, fromX: 300, toX: 0, segment: { start: 2, end: 3 } })).toEqual({ start: 0.5, end: 1.5 });
    expect(segmentProblem(0.2, 1, 10, 0.5)).toMatch(/after 0.5 s/);
  });

  it("moves keeping the length and stops at the stream's ends", () => {
    const view = new FakeView(0, 0.01, 1000);
    const clock = { offset: 0, rate: 1 };
    const segment = { start: 2, end: 3 };
    expect(dragTimes({ kind: "move", clock, view, duration: 10, fromX: 250, toX: 300, segment })).toEqual({ start: 2.5, end: 3.5 });
    expect(dragTimes({ kind: "move", clock, view, duration: 10, fromX: 250, toX: 0, segment })).toEqual({ start: 0, end: 1 });
    expect(dragTimes({ kind: "move", clock, view, duration: 10, fromX: 250, toX: 5000, segment })).toEqual({ start: 9, end: 10 });
  });

  it("resizes one edge, never past the other (one pixel apart)", () => {
    const view = new FakeView(0, 0.01, 1000);
    const clock = { offset: 0, rate: 1 };
    const segment = { start: 2, end: 3 };
    expect(dragTimes({ kind: "start", clock, view, duration: 10, fromX: 200, toX: 150, segment })).toEqual({ start: 1.5, end: 3 });
    expect(dragTimes({ kind: "start", clock, view, duration: 10, fromX: 200, toX: 900, segment })).toEqual({ start: 2.99, end: 3 });
    expect(dragTimes({ kind: "end", clock, view, duration: 10, fromX: 300, toX: 420, segment })).toEqual({ start: 2, end: 4.2 });
    expect(dragTimes({ kind: "end", clock, view, duration: 10, fromX: 300, toX: -50, segment })).toEqual({ start: 2, end: 2.01 });
    expect(dragTimes({ kind: "end", clock, view, duration: 10, fromX: 300, toX: 5000, segment })).toEqual({ start: 2, end: 10 });
  });

  it("rounds float noise only below the microsecond", () => {
    expect(cleanSeconds(0.1 + 0.2)).toBe(0.3);
    expect(Math.abs(cleanSeconds(1.23456789) - 1.23456789)).toBeLessThan(5e-7);
  });

  it("validates before sending", () => {
    expect(segmentProblem(1, 2, 10)).toBeNull();
    expect(segmentProblem(2, 2, 10)).toMatch(/before its end/);
    expect(segmentProblem(-0.1, 2, 10)).toMatch(/after 0/);
    expect(segmentProblem(1, 10.5, 10)).toMatch(/within the stream/);
    expect(segmentProblem(1, Number.NaN, 10)).toMatch(/finite/);
    expect(segmentProblem(1, 1e6, null)).toBeNull();
  });
});

describe("hit-testing", () => {
  const placed = [
    { id: "a", x0: 100, x1: 200, editable: true },
    { id: "b", x0: 180, x1: 260, editable: false },
    { id: "c", x0: 300, x1: 303, editable: true },
  ];
  it("finds edges of editable segments and bodies, topmost first", () => {
    expect(hitTest(102, placed)).toEqual({ id: "a", part: "start" });
    expect(hitTest(150, placed)).toEqual({ id: "a", part: "body" });
    expect(hitTest(199, placed)).toEqual({ id: "b", part: "body" }); // b is on top and read-only
    expect(hitTest(262, placed)).toBeNull();
    expect(hitTest(300, placed)).toEqual({ id: "c", part: "start" });
    expect(hitTest(303, placed)).toEqual({ id: "c", part: "end" });
    expect(hitTest(50, placed)).toBeNull();
  });
});

describe("payloads and keys", () => {
  it("gives a speaker tier's segments the speaker when the class has that attribute", () => {
    expect(tierAttributes({ kind: "speaker", name: "Ana" }, [{ name: "speaker" }, { name: "text" }])).toEqual({ speaker: "Ana" });
    expect(tierAttributes({ kind: "speaker", name: "Ana" }, [{ name: "text" }])).toEqual({});
    expect(tierAttributes({ kind: "class", name: "noise" }, [{ name: "speaker" }])).toEqual({});
    expect(addPayload("i", "s", "speech", { start: 1, end: 2 }, { speaker: "Ana" }).attributes).toEqual({ speaker: "Ana" });
  });

  it("builds updates with the revision the page saw", () => {
    expect(updatePayload("a", 3, { start: 1, end: 2, label: "x" })).toEqual({ id: "a", revision: 3, geometry: { start: 1, end: 2 }, label: "x" });
    expect(updatePayload("a", 3, { attributes: { text: "hi" } })).toEqual({ id: "a", revision: 3, attributes: { text: "hi" } });
  });

  it("maps keys: hotkeys first, then the tier keys", () => {
    const classes = [{ name: "loud", color: "#000000", hotkey: "l", modalities: ["audio"], attributes: [] }];
    expect(tierKeyAction({ key: "z", ctrlKey: true }, classes, false)).toEqual({ type: "undo" });
    expect(tierKeyAction({ key: "Z", ctrlKey: true, shiftKey: true }, classes, false)).toEqual({ type: "redo" });
    expect(tierKeyAction({ key: "l" }, classes, true)).toEqual({ type: "label", name: "loud" });
    expect(tierKeyAction({ key: "l" }, [], true)).toEqual({ type: "loop" });
    expect(tierKeyAction({ key: "Delete" }, [], true)).toEqual({ type: "delete" });
    expect(tierKeyAction({ key: "Delete" }, [], false)).toBeNull();
    expect(tierKeyAction({ key: "Tab", shiftKey: true }, [], false)).toEqual({ type: "step", dir: -1 });
    expect(tierKeyAction({ key: "Enter" }, [], true)).toEqual({ type: "edit-text" });
  });
});

describe("SegmentEdits", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }));
  afterEach(() => vi.useRealTimers());

  it("sends one update at a time per segment, later ones with the new revision", async () => {
    const revisions = new Map([["a", 1]]);
    const sent: { revision: number; edit: SegmentEdit; resolve: (ok: boolean) => void }[] = [];
    const edits = new SegmentEdits({
      revisionOf: (id) => revisions.get(id),
      send: (_id, revision, edit) => new Promise((resolve) => sent.push({ revision, edit, resolve })),
      changed: () => {},
    });
    edits.submit("a", { start: 1, end: 2 });
    edits.submit("a", { label: "x" });
    expect(sent).toHaveLength(1);
    expect(edits.preview("a")).toEqual({ start: 1, end: 2 });
    revisions.set("a", 2);
    sent[0]!.resolve(true);
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ revision: 2, edit: { label: "x" } });
    sent[1]!.resolve(false); // refused: the preview goes, the segment snaps back
    await Promise.resolve();
    await Promise.resolve();
    expect(edits.busy("a")).toBe(false);
    expect(edits.preview("a")).toBeNull();
  });
});
