// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getBus } from "../src/runtime/bus.js";
import widget from "../src/widgets/region_canvas/index.js";
import { FakeModel } from "./fake-model.js";

const XSS = "<img src=x onerror=alert(1)>";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => void;

/** FakeModel plus traits: get/set/save_changes and change:<name> events (fired on local sets too, like Backbone). */
class TraitModel extends FakeModel {
  readonly saved: Record<string, unknown>[] = [];
  private readonly traits: Record<string, unknown>;
  private readonly handlers = new Map<string, Set<Handler>>();
  private dirty: Record<string, unknown> = {};

  constructor(traits: Record<string, unknown>) {
    super();
    this.traits = { ...traits };
  }

  get(key: string): unknown {
    return this.traits[key];
  }

  set(key: string, value: unknown): void {
    if (this.traits[key] === value) return;
    this.traits[key] = value;
    this.dirty[key] = value;
    for (const h of [...(this.handlers.get(`change:${key}`) ?? [])]) h();
  }

  save_changes(): void {
    this.saved.push(this.dirty);
    this.dirty = {};
  }

  /** A change made by Python. */
  pythonSets(key: string, value: unknown): void {
    this.traits[key] = value;
    for (const h of [...(this.handlers.get(`change:${key}`) ?? [])]) h();
  }

  override on(event: string, callback: Handler): void {
    if (event === "msg:custom") {
      super.on("msg:custom", callback);
      return;
    }
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(callback);
  }

  override off(event?: string | null, callback?: Handler | null): void {
    if (event === "msg:custom") {
      if (callback) super.off("msg:custom", callback);
      return;
    }
    if (event && callback) this.handlers.get(event)?.delete(callback);
  }

  get traitListenerCount(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }

  /** Sent messages of `type`. */
  of(type: string): Record<string, unknown>[] {
    return this.sent.map((s) => s.content).filter((c) => c.type === type);
  }

  /** Reply ok to the last message of `type`. */
  replyOk(type: string, result: unknown, buffers: DataView[] = []): void {
    const msg = this.of(type).at(-1);
    if (!msg) throw new Error(`no ${type} sent`);
    this.emit({ type: "reply", uuid: msg.uuid, ok: true, result }, buffers);
  }

  replyError(type: string, error: Record<string, unknown>): void {
    const msg = this.of(type).at(-1);
    if (!msg) throw new Error(`no ${type} sent`);
    this.emit({ type: "reply", uuid: msg.uuid, ok: false, error });
  }
}

const CLASSES = [
  {
    name: "car",
    color: "#ff0000",
    hotkey: "c",
    geometries: ["box", "rotated_box", "polygon"],
    attributes: [
      { name: "occluded", type: "bool", default: false },
      { name: "colour", type: "choice", choices: ["red", XSS] },
    ],
    keypoints: [],
    guidelines: "Cars and vans",
  },
  { name: XSS, color: "#00ff00", hotkey: "x", geometries: ["box"], attributes: [], keypoints: [], guidelines: XSS },
];

function traits(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    item: "clip-1",
    stream: "cam",
    modality: "video",
    frame: 3,
    frame_count: 10,
    image_size: [640, 480],
    classes: CLASSES,
    label: "car",
    tool: "box",
    show_others: true,
    annotator: "ana",
    bus_key: "test-bus",
    height: 480,
    ...over,
  };
}

function record(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    item: "clip-1",
    stream: "cam",
    label: "car",
    kind: "box",
    geometry: { x: 10, y: 10, w: 50, h: 40 },
    attributes: { occluded: false },
    frame: 3,
    annotator: "ana",
    revision: 1,
    status: "draft",
    ...over,
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const PNG = new DataView(new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer);

interface Rendered {
  model: TraitModel;
  el: HTMLElement & { accordStats?: () => { frames: number[] }; accordResetStats?: () => void };
  cleanup: () => void;
  canvas: HTMLCanvasElement;
}

async function renderLoaded(records: Record<string, unknown>[] = [], over: Record<string, unknown> = {}): Promise<Rendered> {
  const model = new TraitModel(traits(over));
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  model.replyOk("annotations.query", { annotations: records, seq: 1 });
  model.replyOk("frame.get", { mime: "image/png", width: 640, height: 480, frame: model.get("frame") }, [PNG]);
  await flush();
  const canvas = el.querySelector("canvas.accord-canvas") as HTMLCanvasElement;
  return { model, el, cleanup, canvas };
}

function pointer(type: string, x: number, y: number, extra: PointerEventInit = {}): PointerEvent {
  return new PointerEvent(type, { clientX: x, clientY: y, button: 0, pointerId: 1, bubbles: true, ...extra });
}

/** Screen point of image point (x, y) from the test hooks. */
function toScreen(el: HTMLElement, x: number, y: number): { x: number; y: number } {
  const s = Number(el.dataset.zoom);
  return { x: x * s + Number(el.dataset.panX), y: y * s + Number(el.dataset.panY) };
}

describe("RegionCanvas view", () => {
  beforeEach(() => {
    // jsdom has no canvas: make getContext return null quietly (the view must cope).
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    document.body.replaceChildren();
  });

  it("queries the frame and the records on render, then marks itself ready", async () => {
    const model = new TraitModel(traits());
    const el = document.createElement("div");
    const cleanup = widget.render({ model, el });
    expect(model.of("annotations.query")).toEqual([expect.objectContaining({ frame: 3 })]);
    expect(model.of("frame.get")).toEqual([expect.objectContaining({ frame: 3 })]);
    // the anywidget element is the hook root: class + data-* + stats live on it
    expect(el.classList.contains("accord-region-canvas")).toBe(true);
    expect(el.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    expect(el.dataset.ready).toBe("false");
    model.replyOk("annotations.query", { annotations: [record("a"), record("b")], seq: 4 });
    await flush();
    expect(el.dataset.ready).toBe("false"); // the image is still missing
    model.replyOk("frame.get", { mime: "image/png", width: 640, height: 480, frame: 3 }, [PNG]);
    await flush();
    expect(el.dataset.ready).toBe("true");
    expect(el.dataset.count).toBe("2");
    expect(el.dataset.frame).toBe("3");
    expect(el.dataset.selected).toBe("");
    expect(Number(el.dataset.zoom)).toBeGreaterThan(0);
    expect(el.querySelector('[data-tool="box"]')?.classList.contains("accord-rc-active")).toBe(true);
    expect(el.querySelector('[data-label="car"]')?.classList.contains("accord-rc-active")).toBe(true);
    expect(el.querySelectorAll("[data-tool]")).toHaveLength(5); // tool buttons only
    for (const action of ["undo", "redo", "fit", "help", "toggle-others"]) {
      expect(el.querySelector(`[data-action="${action}"]`)).not.toBeNull();
    }
    const canvas = el.querySelector("canvas.accord-canvas") as HTMLCanvasElement;
    expect(canvas.tabIndex).toBe(0);
    cleanup();
  });

  it("applies event pushes by id and ignores other frames", async () => {
    const { model, el, cleanup } = await renderLoaded([record("a")]);
    model.emit({ type: "event", events: [{ op: "create", id: "b", record: record("b") }], seq: 2 });
    expect(el.dataset.count).toBe("2");
    model.emit({ type: "event", events: [{ op: "create", id: "c", record: record("c", { frame: 4 }) }], seq: 3 });
    expect(el.dataset.count).toBe("2");
    model.emit({ type: "event", events: [{ op: "delete", id: "a", record: null }], seq: 4 });
    expect(el.dataset.count).toBe("1");
    cleanup();
  });

  it("shows an error reply in a text-only alert banner", async () => {
    const { model, el, cleanup } = await renderLoaded();
    (el.querySelector('[data-action="undo"]') as HTMLButtonElement).click();
    expect(model.of("undo")).toHaveLength(1);
    model.replyError("undo", { error: "NothingToUndo", message: `nothing to undo ${XSS}`, where: "undo", expected: null });
    await flush();
    const alert = el.querySelector('[role="alert"]');
    expect(alert).not.toBeNull();
    expect(alert!.textContent).toContain("NothingToUndo");
    expect(alert!.textContent).toContain(XSS);
    expect(el.querySelector("img")).toBeNull();
    cleanup();
  });

  it("renders labels, guidelines and attribute values from data as text", async () => {
    const { model, el, cleanup, canvas } = await renderLoaded([
      record("a", { label: XSS, attributes: {} }),
      record("b", { attributes: { colour: XSS, [XSS]: XSS } }),
    ]);
    const chip = [...el.querySelectorAll<HTMLElement>("[data-label]")].find((c) => c.dataset.label === XSS);
    expect(chip?.textContent).toContain(XSS);
    // select "b" with the select tool, so the side panel shows its attributes
    (el.querySelector('[data-tool="select"]') as HTMLButtonElement).click();
    expect(model.get("tool")).toBe("select");
    const p = toScreen(el, 35, 30);
    canvas.dispatchEvent(pointer("pointerdown", p.x, p.y));
    canvas.dispatchEvent(pointer("pointerup", p.x, p.y));
    expect(el.dataset.selected).toBe("b");
    expect(el.querySelector(".accord-rc-side")!.textContent).toContain(XSS);
    (el.querySelector('[data-action="help"]') as HTMLButtonElement).click();
    expect(el.querySelector(".accord-rc-help")!.textContent).toContain("Ctrl+Z");
    expect(el.querySelector("img")).toBeNull();
    expect(el.innerHTML).not.toContain("<img");
    cleanup();
  });

  it("draws a box with one drag and sends one command on pointer-up", async () => {
    const { model, el, cleanup, canvas } = await renderLoaded();
    const a = toScreen(el, 100, 50);
    const b = toScreen(el, 300, 250);
    const before = model.sent.length;
    canvas.dispatchEvent(pointer("pointerdown", a.x, a.y));
    for (let i = 1; i <= 10; i++) {
      canvas.dispatchEvent(pointer("pointermove", a.x + ((b.x - a.x) * i) / 10, a.y + ((b.y - a.y) * i) / 10));
    }
    expect(model.sent.length).toBe(before); // no kernel traffic during the drag
    canvas.dispatchEvent(pointer("pointerup", b.x, b.y));
    const adds = model.of("annotation.add");
    expect(adds).toHaveLength(1);
    const add = adds[0]!;
    expect(add).toMatchObject({ item: "clip-1", stream: "cam", label: "car", kind: "box", frame: 3 });
    const g = add.geometry as { x: number; y: number; w: number; h: number };
    expect(g.x).toBeCloseTo(100, 9);
    expect(g.y).toBeCloseTo(50, 9);
    expect(g.w).toBeCloseTo(200, 9);
    expect(g.h).toBeCloseTo(200, 9);
    model.emit({ type: "event", events: [{ op: "create", id: "n1", record: record("n1", { geometry: g }) }] });
    model.replyOk("annotation.add", { command: "c1", ids: ["n1"] });
    await flush();
    expect(el.dataset.count).toBe("1");
    // a new box is not selected: the class hotkey only picks the class for the next shape
    expect(el.dataset.selected).toBe("");
    canvas.focus();
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "x", bubbles: true }));
    expect(model.get("label")).toBe(XSS);
    expect(model.of("annotation.update")).toHaveLength(0);
    // once selected (a click in the box tool selects), the hotkey relabels it
    const inside = toScreen(el, 150, 100);
    canvas.dispatchEvent(pointer("pointerdown", inside.x, inside.y));
    canvas.dispatchEvent(pointer("pointerup", inside.x, inside.y));
    expect(el.dataset.selected).toBe("n1");
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "x", bubbles: true }));
    expect(model.of("annotation.update")).toEqual([expect.objectContaining({ id: "n1", revision: 1, label: XSS })]);
    cleanup();
  });

  it("moves a selected box locally and sends one update with its revision", async () => {
    const { model, el, cleanup, canvas } = await renderLoaded([record("a", { revision: 7 })], { tool: "select" });
    const start = toScreen(el, 30, 30);
    const end = toScreen(el, 80, 60);
    canvas.dispatchEvent(pointer("pointerdown", start.x, start.y));
    for (let i = 1; i <= 5; i++) {
      canvas.dispatchEvent(pointer("pointermove", start.x + ((end.x - start.x) * i) / 5, start.y + ((end.y - start.y) * i) / 5));
    }
    expect(model.of("annotation.update")).toHaveLength(0);
    canvas.dispatchEvent(pointer("pointerup", end.x, end.y));
    const updates = model.of("annotation.update");
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ id: "a", revision: 7 });
    const g = updates[0]!.geometry as Record<string, number>;
    expect(g.x).toBeCloseTo(60, 9);
    expect(g.y).toBeCloseTo(40, 9);
    expect(g.w).toBe(50);
    cleanup();
  });

  it("does not let others' annotations be selected for editing, and hides them on toggle", async () => {
    const { model, el, cleanup, canvas } = await renderLoaded([record("mine"), record("theirs", { annotator: "bob", geometry: { x: 200, y: 200, w: 50, h: 50 } })], {
      tool: "select",
    });
    expect(el.dataset.count).toBe("2");
    const p = toScreen(el, 220, 220);
    canvas.dispatchEvent(pointer("pointerdown", p.x, p.y));
    canvas.dispatchEvent(pointer("pointerup", p.x, p.y));
    expect(el.dataset.selected).toBe("");
    (el.querySelector('[data-action="toggle-others"]') as HTMLButtonElement).click();
    expect(model.get("show_others")).toBe(false);
    expect(el.dataset.count).toBe("1");
    cleanup();
  });

  it("navigates frames with the arrow keys and follows frame changes from Python", async () => {
    const { model, el, cleanup, canvas } = await renderLoaded([record("a")]);
    canvas.focus();
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(model.get("frame")).toBe(4);
    expect(model.saved.some((s) => s.frame === 4)).toBe(true);
    expect(model.of("frame.get").at(-1)).toMatchObject({ frame: 4 });
    expect(model.of("annotations.query").at(-1)).toMatchObject({ frame: 4 });
    expect(model.of("frame.get")).toHaveLength(2); // one load, not one per listener
    model.replyOk("annotations.query", { annotations: [record("z", { frame: 4 }), record("y", { frame: 4 })] });
    model.replyOk("frame.get", { mime: "image/png", width: 640, height: 480, frame: 4 }, [PNG]);
    await flush();
    expect(el.dataset.frame).toBe("4");
    expect(el.dataset.count).toBe("2");

    model.pythonSets("frame", 7);
    expect(model.of("frame.get").at(-1)).toMatchObject({ frame: 7 });
    model.replyOk("annotations.query", { annotations: [] });
    model.replyOk("frame.get", { mime: "image/png", width: 640, height: 480, frame: 7 }, [PNG]);
    await flush();
    expect(el.dataset.frame).toBe("7");
    expect(el.dataset.count).toBe("0");
    // the frame field clamps to the last frame
    const input = el.querySelector(".accord-rc-frame-input") as HTMLInputElement;
    input.value = "99";
    input.dispatchEvent(new Event("change"));
    expect(model.get("frame")).toBe(9);
    cleanup();
  });

  it("draws a polygon by clicks and a double-click, and keypoints with Shift and Enter", async () => {
    const classes = [
      ...CLASSES,
      { name: "person", color: "#0000ff", hotkey: "p", geometries: ["keypoints"], attributes: [], keypoints: ["head", "l_hand", "r_hand"] },
    ];
    const { model, el, cleanup, canvas } = await renderLoaded([], { tool: "polygon", classes });
    const click = (x: number, y: number, extra: PointerEventInit = {}): void => {
      const p = toScreen(el, x, y);
      canvas.dispatchEvent(pointer("pointerdown", p.x, p.y, extra));
      canvas.dispatchEvent(pointer("pointerup", p.x, p.y, extra));
    };
    click(100, 100);
    click(200, 100);
    click(200, 200);
    expect(model.of("annotation.add")).toHaveLength(0);
    click(200, 200); // second click of the double-click: ignored
    const last = toScreen(el, 200, 200);
    canvas.dispatchEvent(new MouseEvent("dblclick", { clientX: last.x, clientY: last.y, bubbles: true }));
    const poly = model.of("annotation.add");
    expect(poly).toHaveLength(1);
    expect(poly[0]).toMatchObject({ kind: "polygon", label: "car", geometry: { points: [[100, 100], [200, 100], [200, 200]] } });

    // keypoints: choosing the tool switches to a class that allows them
    (el.querySelector('[data-tool="keypoints"]') as HTMLButtonElement).click();
    expect(model.get("label")).toBe("person");
    click(50, 60);
    click(70, 80, { shiftKey: true });
    canvas.focus();
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    const kp = model.of("annotation.add").at(-1)!;
    expect(kp).toMatchObject({ kind: "keypoints", label: "person", geometry: { points: [[50, 60, 2], [70, 80, 1], [0, 0, 0]] } });
    cleanup();
  });

  it("selects a new rotated box, turns it with ] and edits attributes in the side panel", async () => {
    const { model, el, cleanup, canvas } = await renderLoaded([], { tool: "rotated_box" });
    const a = toScreen(el, 100, 100);
    const b = toScreen(el, 200, 150);
    canvas.dispatchEvent(pointer("pointerdown", a.x, a.y));
    canvas.dispatchEvent(pointer("pointermove", b.x, b.y));
    canvas.dispatchEvent(pointer("pointerup", b.x, b.y));
    const add = model.of("annotation.add")[0]!;
    expect(add).toMatchObject({ kind: "rotated_box", geometry: { cx: 150, cy: 125, w: 100, h: 50, angle: 0 } });
    model.replyOk("annotation.add", { command: "c", ids: ["r1"] }); // the reply before its event
    await flush();
    model.emit({
      type: "event",
      events: [{ op: "create", id: "r1", record: record("r1", { kind: "rotated_box", geometry: add.geometry }) }],
    });
    expect(el.dataset.selected).toBe("r1");
    canvas.focus();
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "]", bubbles: true }));
    const turn = model.of("annotation.update").at(-1)!;
    expect(turn).toMatchObject({ id: "r1", revision: 1 });
    expect((turn.geometry as { angle: number }).angle).toBeCloseTo(Math.PI / 36, 12);
    model.emit({
      type: "event",
      events: [{ op: "update", id: "r1", record: record("r1", { kind: "rotated_box", geometry: turn.geometry, revision: 2 }) }],
    });
    model.replyOk("annotation.update", { command: "c", ids: ["r1"] });
    await flush();
    const box = el.querySelector('.accord-rc-side input[data-attribute="occluded"]') as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    expect(model.of("annotation.update").at(-1)).toMatchObject({ id: "r1", revision: 2, attributes: { occluded: true } });
    cleanup();
  });

  it("only handles keys while the canvas has focus", async () => {
    const { model, el, cleanup } = await renderLoaded();
    el.querySelector(".accord-rc-toolbar")!.dispatchEvent(new KeyboardEvent("keydown", { key: "z", ctrlKey: true, bubbles: true }));
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "z", ctrlKey: true, bubbles: true }));
    expect(model.of("undo")).toHaveLength(0);
    cleanup();
  });

  it("zooms at the cursor with the wheel, keeping the image point under it", async () => {
    const { el, cleanup, canvas } = await renderLoaded();
    const p = { x: 200, y: 150 };
    const s0 = Number(el.dataset.zoom);
    const under = { x: (p.x - Number(el.dataset.panX)) / s0, y: (p.y - Number(el.dataset.panY)) / s0 };
    canvas.dispatchEvent(new WheelEvent("wheel", { clientX: p.x, clientY: p.y, deltaY: -200, bubbles: true, cancelable: true }));
    const s1 = Number(el.dataset.zoom);
    expect(s1).toBeGreaterThan(s0);
    const back = toScreen(el, under.x, under.y);
    expect(back.x).toBeCloseTo(p.x, 9);
    expect(back.y).toBeCloseTo(p.y, 9);
    (el.querySelector('[data-action="fit"]') as HTMLButtonElement).click();
    expect(Number(el.dataset.zoom)).toBeCloseTo(s0, 12);
    cleanup();
  });

  it("publishes hover and selection on the bus and follows other views' selection", async () => {
    const { el, cleanup, canvas } = await renderLoaded([record("a")], { tool: "select", bus_key: "bus-sel" });
    const bus = getBus<{ hover: string | null; select: string | null }>("bus-sel");
    const seen: unknown[] = [];
    const off = bus.subscribe("select", (id) => seen.push(id));
    const offHover = bus.subscribe("hover", (id) => seen.push({ hover: id }));
    const p = toScreen(el, 30, 30);
    canvas.dispatchEvent(pointer("pointermove", p.x, p.y));
    canvas.dispatchEvent(pointer("pointerdown", p.x, p.y));
    canvas.dispatchEvent(pointer("pointerup", p.x, p.y));
    // {id, entity}: what every view publishes (link mode, runtime/linkmode.ts)
    expect(seen).toEqual([{ hover: { id: "a", entity: null } }, { id: "a", entity: null }]);
    bus.publish("select", null, "other-view");
    expect(el.dataset.selected).toBe("");
    bus.publish("select", "a", "other-view");
    expect(el.dataset.selected).toBe("a");
    off();
    offHover();
    cleanup();
    expect(bus.listenerCount("select")).toBe(0);
  });

  it("exposes render stats and cleans up every listener", async () => {
    const { model, el, cleanup } = await renderLoaded();
    expect(el.accordStats?.()).toEqual({ frames: expect.any(Array), commands: expect.any(Array) });
    el.accordResetStats?.();
    expect(el.accordStats?.().frames).toEqual([]);
    expect(model.listenerCount).toBe(1);
    cleanup();
    expect(model.listenerCount).toBe(0);
    expect(model.traitListenerCount).toBe(0);
    expect(el.accordStats).toBeUndefined();
    expect(el.childElementCount).toBe(0);
    expect(el.classList.contains("accord-region-canvas")).toBe(false);
  });

  it("shows a failing frame.get as an error and stays not ready", async () => {
    const model = new TraitModel(traits());
    const el = document.createElement("div");
    const cleanup = widget.render({ model, el });
    model.replyOk("annotations.query", { annotations: [] });
    model.replyError("frame.get", { error: "OutOfBoundsError", message: "frame 3 is past the end", where: "frame", expected: "0..2" });
    await flush();
    expect(el.querySelector('[role="alert"]')?.textContent).toContain("OutOfBoundsError");
    expect(el.dataset.ready).toBe("false");
    cleanup();
  });
});
