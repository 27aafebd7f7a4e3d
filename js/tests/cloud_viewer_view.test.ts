// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { getSharedClock } from "../src/runtime/clock.js";
import widget from "../src/widgets/cloud_viewer/index.js";
import type { CloudHook } from "../src/widgets/cloud_viewer/view.js";
import { FakeModel } from "./fake-model.js";

const XSS = "<img src=x onerror=alert(1)>";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => void;

class TraitModel extends FakeModel {
  readonly model_id: string;
  readonly saved: Record<string, unknown>[] = [];
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(
    private readonly traits: Record<string, unknown>,
    id: string,
  ) {
    super();
    this.model_id = id;
  }
  get(key: string): unknown {
    return this.traits[key];
  }
  set(key: string, value: unknown): void {
    this.traits[key] = value;
    this.saved.push({ [key]: value });
  }
  save_changes(): void {}
  pythonSets(key: string, value: unknown): void {
    this.traits[key] = value;
    for (const h of [...(this.handlers.get(`change:${key}`) ?? [])]) h();
  }
  override on(event: string, callback: Handler): void {
    if (event === "msg:custom") return super.on("msg:custom", callback);
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
  replyOk(type: string, result: unknown): void {
    const msg = this.sent.map((s) => s.content).filter((c) => c.type === type).at(-1);
    if (!msg) throw new Error(`no ${type} sent`);
    this.emit({ type: "reply", uuid: msg.uuid, ok: true, result });
  }
}

function envelope(values: number[]): { dtype: string; shape: number[]; buffer: DataView } {
  const data = new Float32Array(values);
  return { dtype: "float32", shape: [values.length / 3, 3], buffer: new DataView(data.buffer) };
}

const cuboid = (id: string, frame: number, x: number, label = "car") => ({
  id,
  item: "scene",
  stream: "lidar",
  label,
  kind: "cuboid",
  geometry: { center: [x, 0, 0], size: [4, 2, 1.5], yaw: 0 },
  frame,
  track: "t1",
  annotator: "ana",
  revision: 1,
  attributes: {},
});

let n = 0;
let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

function mount(over: Record<string, unknown> = {}): { model: TraitModel; el: HTMLElement; hook: () => CloudHook } {
  const id = `m${++n}`;
  const model = new TraitModel(
    {
      item: "scene",
      stream: "lidar",
      annotator: "ana",
      bus_key: `bus-${id}`,
      sweep: 0,
      sweep_count: 10,
      sweep_times: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      stream_clock: { offset: 0.5, rate: 1 },
      points_sweep: 0,
      points: envelope([0, 0, 0, 1, 1, 1, 2, 2, 2]),
      intensity: null,
      colors: null,
      point_labels: null,
      color_by: "height",
      point_size: 2,
      height: 300,
      view: "top",
      tool: "select",
      classes: [{ name: XSS, color: "#ff0000", hotkey: "x", geometries: ["cuboid"], attributes: [] }, { name: "car", color: "#00ff00", hotkey: "c", geometries: ["cuboid"], attributes: [] }],
      label: "car",
      selected: null,
      show_others: true,
      follow_clock: true,
      frustums: [],
      ...over,
    },
    id,
  );
  const el = document.createElement("div");
  document.body.append(el);
  const dispose = widget.render({ model, el });
  cleanup = () => {
    dispose();
    el.remove();
  };
  const hook = (): CloudHook => (globalThis as unknown as { accordCloud: Record<string, CloudHook> }).accordCloud[id] as CloudHook;
  return { model, el, hook };
}

describe("CloudViewer view (jsdom, no WebGL)", () => {
  it("follows the shared playhead through the stream clock", () => {
    const { model } = mount();
    const clock = getSharedClock(model.get("bus_key") as string);
    clock.seek(0.5 + 0.33); // item time → stream 0.33 s → sweep 3
    expect(model.get("sweep")).toBe(3);
    clock.seek(0.5 + 0.87);
    expect(model.get("sweep")).toBe(9);
    model.pythonSets("follow_clock", false);
    clock.seek(0.5);
    expect(model.get("sweep")).toBe(9);
  });

  it("shows keyframes and interpolated cuboids from the query and events", async () => {
    const { model, el, hook } = mount();
    model.replyOk("annotations.query", { annotations: [cuboid("a", 0, 0), cuboid("b", 4, 8)], seq: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(hook().cuboids().map((c) => c.id)).toEqual(["a"]);
    model.pythonSets("sweep", 2);
    const [mid] = hook().cuboids();
    expect(mid?.interpolated).toBe(true);
    expect(mid?.geometry.center[0]).toBeCloseTo(4, 9);
    expect(el.dataset.cuboids).toBe("1");
    model.emit({ type: "event", events: [{ op: "delete", id: "b", target: "annotation", record: null }] });
    expect(hook().cuboids()).toHaveLength(0);
  });

  it("shows other annotators' cuboids read-only, and hides them on request", async () => {
    const { model, hook } = mount();
    const bobs = { ...cuboid("c", 0, 3), annotator: "bob", track: "tb" };
    model.replyOk("annotations.query", { annotations: [cuboid("a", 0, 0), bobs], seq: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(hook().cuboids().map((c) => [c.id, c.editable])).toEqual([
      ["a", true],
      ["c", false],
    ]);
    model.pythonSets("show_others", false);
    expect(hook().cuboids().map((c) => c.id)).toEqual(["a"]);
  });

  it("restyles without reading the points again, and renders class names as text", () => {
    const { model, el, hook } = mount();
    const before = hook().stats().pointsUpdates;
    model.pythonSets("color_by", "intensity");
    model.pythonSets("color_by", "label");
    expect(hook().stats().pointsUpdates).toBe(before);
    model.pythonSets("points", envelope([0, 0, 0]));
    expect(hook().stats().pointsUpdates).toBe(before + 1);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(`[data-label]`)?.textContent).toContain(XSS);
  });

  it("reports a malformed points envelope instead of showing it", () => {
    const { model, el } = mount();
    model.pythonSets("points", { dtype: "float32", shape: [5, 3], buffer: new DataView(new ArrayBuffer(12)) });
    expect(el.querySelector('[role="alert"]')?.textContent).toMatch(/needs 60 bytes/);
  });
});
