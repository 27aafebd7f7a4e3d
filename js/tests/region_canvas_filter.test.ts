// @vitest-environment jsdom
/**
 * RegionCanvas `annotators` (filter) and `selected` (selection sync with Python):
 * the pure visibility rules, and the view driven through a trait model that
 * behaves like an ipywidgets model (local sets fire change events; Python's
 * updates may set several traits at once; the kernel echoes the page's writes).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ViewTransform } from "../src/runtime/geometry.js";
import { buildGroups, drawScene } from "../src/widgets/region_canvas/draw.js";
import widget from "../src/widgets/region_canvas/index.js";
import {
  applyQuery,
  EMPTY_STATE,
  isVisible,
  parseAnnotators,
  passesFilter,
  visibleCount,
} from "../src/widgets/region_canvas/state.js";
import { parseRecord, type AnnotationRecord } from "../src/widgets/region_canvas/types.js";
import { FakeModel } from "./fake-model.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => void;

class TraitModel extends FakeModel {
  /** Every save_changes() call: the traits the page wrote. */
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
    this.fire(key);
  }

  save_changes(): void {
    this.saved.push(this.dirty);
    this.dirty = {};
  }

  /** An update from Python: every trait is set first, then the change events fire in order. */
  pythonSets(values: Record<string, unknown>): void {
    Object.assign(this.traits, values);
    for (const key of Object.keys(values)) this.fire(key);
  }

  /** Saved writes of one trait, in order. */
  writesOf(key: string): unknown[] {
    return this.saved.filter((s) => key in s).map((s) => s[key]);
  }

  private fire(key: string): void {
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

  of(type: string): Record<string, unknown>[] {
    return this.sent.map((s) => s.content).filter((c) => c.type === type);
  }

  replyOk(type: string, result: unknown, buffers: DataView[] = []): void {
    const msg = this.of(type).at(-1);
    if (!msg) throw new Error(`no ${type} sent`);
    this.emit({ type: "reply", uuid: msg.uuid, ok: true, result }, buffers);
  }
}

const CLASSES = [{ name: "car", color: "#ff0000", hotkey: "c", geometries: ["box"], attributes: [], keypoints: [] }];
const XSS = "<img src=x onerror=alert(1)>";
const PNG = new DataView(new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer);

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
    tool: "select",
    show_others: true,
    annotators: [],
    selected: null,
    annotator: "ana",
    bus_key: `bus-${Math.random()}`,
    height: 480,
    ...over,
  };
}

function record(id: string, annotator: string | null, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    item: "clip-1",
    stream: "cam",
    label: "car",
    kind: "box",
    geometry: { x: 10, y: 10, w: 50, h: 40 },
    attributes: {},
    frame: 3,
    annotator,
    revision: 1,
    status: "draft",
    ...over,
  };
}

/** ana's two boxes, bob's two, carol's one; a1 at (10, 10) and a2 at (300, 300). */
const RECORDS = [
  record("a1", "ana"),
  record("a2", "ana", { geometry: { x: 300, y: 300, w: 40, h: 40 } }),
  record("b1", "bob", { geometry: { x: 100, y: 100, w: 40, h: 40 } }),
  record("b2", "bob", { geometry: { x: 200, y: 100, w: 40, h: 40 } }),
  record("c1", "carol", { geometry: { x: 400, y: 50, w: 40, h: 40 } }),
];

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

interface Rendered {
  model: TraitModel;
  el: HTMLElement;
  canvas: HTMLCanvasElement;
  cleanup: () => void;
}

/** Answer the pending load of `frame` with `records`. */
async function answerLoad(model: TraitModel, frame: number, records: Record<string, unknown>[]): Promise<void> {
  model.replyOk("annotations.query", { annotations: records, seq: 1 });
  model.replyOk("frame.get", { mime: "image/png", width: 640, height: 480, frame }, [PNG]);
  await flush();
}

async function render(over: Record<string, unknown> = {}, records = RECORDS): Promise<Rendered> {
  const model = new TraitModel(traits(over));
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  await answerLoad(model, Number(model.get("frame")), records);
  const canvas = el.querySelector("canvas.accord-canvas") as HTMLCanvasElement;
  return { model, el, canvas, cleanup };
}

function pointer(type: string, x: number, y: number): PointerEvent {
  return new PointerEvent(type, { clientX: x, clientY: y, button: 0, pointerId: 1, bubbles: true });
}

function clickImage(el: HTMLElement, canvas: HTMLCanvasElement, x: number, y: number): void {
  const s = Number(el.dataset.zoom);
  const sx = x * s + Number(el.dataset.panX);
  const sy = y * s + Number(el.dataset.panY);
  canvas.dispatchEvent(pointer("pointerdown", sx, sy));
  canvas.dispatchEvent(pointer("pointerup", sx, sy));
}

const view = (el: HTMLElement): string[] => [el.dataset.zoom!, el.dataset.panX!, el.dataset.panY!];

describe("annotator filter (pure)", () => {
  const recs = RECORDS.map((r) => parseRecord(r)!) as AnnotationRecord[];
  const byId = (id: string): AnnotationRecord => recs.find((r) => r.id === id)!;

  it("shows everyone when the list is empty, else only the listed annotators", () => {
    expect(recs.every((r) => passesFilter(r, []))).toBe(true);
    expect(recs.filter((r) => passesFilter(r, ["bob"])).map((r) => r.id)).toEqual(["b1", "b2"]);
    expect(recs.filter((r) => passesFilter(r, ["bob", "carol"])).map((r) => r.id)).toEqual(["b1", "b2", "c1"]);
    // a record without an annotator is by none of them
    const anon = parseRecord(record("x", null))!;
    expect(passesFilter(anon, [])).toBe(true);
    expect(passesFilter(anon, ["ana"])).toBe(false);
  });

  it("hides, not dashes: the filter applies to one's own records too, and combines with show_others", () => {
    expect(isVisible(byId("a1"), "ana", true, ["bob"])).toBe(false);
    expect(isVisible(byId("b1"), "ana", true, ["bob"])).toBe(true);
    expect(isVisible(byId("b1"), "ana", false, ["bob"])).toBe(false); // others hidden by the toggle
    expect(isVisible(byId("a1"), "ana", false, ["ana", "bob"])).toBe(true);
    const state = applyQuery(EMPTY_STATE, { annotations: RECORDS }, { item: "clip-1", stream: "cam", frame: 3 });
    expect(visibleCount(state, "ana", true)).toBe(5);
    expect(visibleCount(state, "ana", true, ["bob"])).toBe(2);
    expect(visibleCount(state, "ana", true, ["nobody"])).toBe(0);
    const groups = buildGroups(recs, () => "#ff0000", "ana", true, ["bob"]);
    expect(groups.flatMap((g) => g.ids)).toEqual(["b1", "b2"]);
    expect(groups.every((g) => g.dashed)).toBe(true); // still others' (read-only) style
  });

  it("draws a read-only selection without edit handles", () => {
    let rects = 0;
    const ctx = new Proxy({} as Record<string, unknown>, {
      get(target, key: string) {
        if (key in target) return target[key];
        if (key === "measureText") return (t: string) => ({ width: t.length * 6 });
        return () => {
          if (key === "rect") rects++;
        };
      },
      set(target, key: string, value) {
        target[key] = value;
        return true;
      },
    }) as unknown as CanvasRenderingContext2D;
    const shape = byId("b1").shape!;
    const scene = (dashed: boolean): Parameters<typeof drawScene>[1] => ({
      width: 800,
      height: 600,
      dpr: 1,
      view: ViewTransform.identity,
      image: null,
      imageSize: { width: 640, height: 480 },
      groups: [],
      skip: new Set(),
      overrides: [],
      pending: [],
      hover: null,
      selected: { shape, color: "#ff0000", tag: "car · bob", dashed },
      draft: null,
    });
    drawScene(ctx, scene(false));
    expect(rects).toBe(1 + 8); // the box and its 8 handles
    rects = 0;
    drawScene(ctx, scene(true));
    expect(rects).toBe(1);
  });

  it("parses the trait tolerantly", () => {
    expect(parseAnnotators(["bob", 3, "bob", null, "ana"])).toEqual(["bob", "ana"]);
    expect(parseAnnotators("bob")).toEqual([]);
    expect(parseAnnotators(undefined)).toEqual([]);
  });
});

describe("RegionCanvas annotators and selected traits", () => {
  beforeEach(() => {
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    document.body.replaceChildren();
  });

  it("shows only the listed annotators' records and follows Python's changes", async () => {
    const { model, el, cleanup } = await render({ annotators: ["bob"] });
    expect(el.dataset.count).toBe("2");
    expect(el.dataset.annotators).toBe("bob");
    const filter = el.querySelector(".accord-rc-filter") as HTMLElement;
    expect(filter.hidden).toBe(false);
    expect(filter.textContent).toContain("bob");
    expect(el.querySelector(".accord-rc-count")!.textContent).toContain("3 hidden");

    model.pythonSets({ annotators: ["ana", "carol"] });
    expect(el.dataset.count).toBe("3");
    model.pythonSets({ annotators: [] });
    expect(el.dataset.count).toBe("5");
    expect(filter.hidden).toBe(true);
    expect(el.dataset.annotators).toBeUndefined();
    // the page never wrote the trait it was only told
    expect(model.writesOf("annotators")).toEqual([]);
    cleanup();
  });

  it("renders annotator names as text", async () => {
    const { el, cleanup } = await render({ annotators: [XSS] }, [record("x1", XSS)]);
    expect(el.dataset.count).toBe("1");
    expect(el.querySelector(".accord-rc-filter-names")!.textContent).toBe(XSS);
    expect(el.querySelector("img")).toBeNull();
    cleanup();
  });

  it("clears the filter from the page (both ways)", async () => {
    const { model, el, cleanup } = await render({ annotators: ["bob"] });
    (el.querySelector('[data-action="all-annotators"]') as HTMLButtonElement).click();
    expect(model.writesOf("annotators")).toEqual([[]]);
    expect(el.dataset.count).toBe("5");
    // the kernel's echo of the same value changes nothing and writes nothing
    model.pythonSets({ annotators: [] });
    expect(model.writesOf("annotators")).toEqual([[]]);
    cleanup();
  });

  it("selects what Python puts in `selected` (even read-only), without writing it back or moving the view", async () => {
    const { model, el, cleanup } = await render({ annotators: ["bob"] });
    const before = view(el);
    model.pythonSets({ selected: "b2" });
    expect(el.dataset.selected).toBe("b2");
    expect(view(el)).toEqual(before);
    expect(el.querySelector(".accord-rc-side")!.textContent).toContain("bob");
    // read-only stays read-only: Delete does nothing to bob's box
    const canvas = el.querySelector("canvas.accord-canvas") as HTMLCanvasElement;
    canvas.focus();
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    expect(model.of("annotation.delete")).toHaveLength(0);
    model.pythonSets({ selected: null });
    expect(el.dataset.selected).toBe("");
    expect(model.writesOf("selected")).toEqual([]);
    cleanup();
  });

  it("selects at construction, after the records arrive", async () => {
    const { model, el, cleanup } = await render({ selected: "c1" });
    expect(el.dataset.selected).toBe("c1");
    expect(model.writesOf("selected")).toEqual([]);
    cleanup();
  });

  it("writes the user's selection, once, and ignores the kernel's echo", async () => {
    const { model, el, canvas, cleanup } = await render();
    clickImage(el, canvas, 20, 20); // ana's own a1
    expect(el.dataset.selected).toBe("a1");
    expect(model.writesOf("selected")).toEqual(["a1"]);
    model.pythonSets({ selected: "a1" }); // echo
    expect(model.writesOf("selected")).toEqual(["a1"]);
    clickImage(el, canvas, 310, 310); // a2
    expect(model.writesOf("selected")).toEqual(["a1", "a2"]);
    canvas.focus();
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(el.dataset.selected).toBe("");
    expect(model.writesOf("selected")).toEqual(["a1", "a2", null]);
    cleanup();
  });

  it("keeps an id that is not shown yet pending until its frame loads", async () => {
    const { model, el, cleanup } = await render();
    model.pythonSets({ selected: "a1" });
    expect(el.dataset.selected).toBe("a1");
    // Python asks for a record of frame 7 (not loaded): nothing selected meanwhile, nothing written
    model.pythonSets({ frame: 7, selected: "f7" });
    expect(el.dataset.selected).toBe("");
    await answerLoad(model, 7, [record("f7", "bob", { frame: 7 })]);
    expect(el.dataset.frame).toBe("7");
    expect(el.dataset.selected).toBe("f7");
    // the same in the other order
    model.pythonSets({ selected: "f8" });
    model.pythonSets({ frame: 8 });
    await answerLoad(model, 8, [record("f8", "bob", { frame: 8 })]);
    expect(el.dataset.selected).toBe("f8");
    expect(model.writesOf("selected")).toEqual([]);
    cleanup();
  });

  it("does not overwrite Python's new selection when a filter set with it hides the old one", async () => {
    for (const order of [
      { annotators: ["bob"], selected: "b1" },
      { selected: "b1", annotators: ["bob"] },
    ]) {
      const { model, el, canvas, cleanup } = await render();
      clickImage(el, canvas, 20, 20); // the user selects ana's a1
      expect(model.writesOf("selected")).toEqual(["a1"]);
      model.pythonSets({ selected: "a1" }); // echo
      model.pythonSets(order);
      expect(el.dataset.count).toBe("2");
      expect(el.dataset.selected).toBe("b1");
      expect(model.get("selected")).toBe("b1");
      expect(model.writesOf("selected")).toEqual(["a1"]);
      cleanup();
    }
  });

  it("clears the trait when the user's selection is filtered out or deleted", async () => {
    const { model, el, canvas, cleanup } = await render();
    clickImage(el, canvas, 20, 20);
    expect(model.writesOf("selected")).toEqual(["a1"]);
    model.pythonSets({ annotators: ["bob"] });
    expect(el.dataset.selected).toBe("");
    expect(model.writesOf("selected")).toEqual(["a1", null]);
    model.pythonSets({ selected: "b1" });
    expect(el.dataset.selected).toBe("b1");
    model.emit({ type: "event", events: [{ op: "delete", id: "b1", record: null }] });
    expect(el.dataset.selected).toBe("");
    expect(el.dataset.count).toBe("1");
    expect(model.writesOf("selected")).toEqual(["a1", null, null]);
    cleanup();
  });
});
