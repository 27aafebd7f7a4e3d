// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { getBus } from "../src/runtime/bus.js";
import widget from "../src/widgets/text_annotator/index.js";
import type { HookElement } from "../src/widgets/text_annotator/view.js";
import { FakeModel } from "./fake-model.js";

const XSS = "<img src=x onerror=alert(1)>";
const TEXT = `Hi 👩🏽\u200d💻 in 🇫🇷!\r\nשלום ${XSS}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => void;

/** FakeModel plus traits (get/set/save_changes and change:<name> events). */
class TraitModel extends FakeModel {
  private readonly traits: Record<string, unknown>;
  private readonly handlers = new Map<string, Set<Handler>>();
  readonly saved: Record<string, unknown>[] = [];

  constructor(traits: Record<string, unknown>) {
    super();
    this.traits = { ...traits };
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

  of(type: string): Record<string, unknown>[] {
    return this.sent.map((s) => s.content).filter((c) => c.type === type);
  }

  replyOk(type: string, result: unknown): void {
    const msg = this.of(type).at(-1);
    if (!msg) throw new Error(`no ${type} sent`);
    this.emit({ type: "reply", uuid: msg.uuid, ok: true, result });
  }

  replyError(type: string, error: Record<string, unknown>): void {
    const msg = this.of(type).at(-1);
    if (!msg) throw new Error(`no ${type} sent`);
    this.emit({ type: "reply", uuid: msg.uuid, ok: false, error });
  }
}

const span = (id: string, start: number, end: number, over: Record<string, unknown> = {}) => ({
  id,
  item: "doc",
  stream: "text",
  label: "phrase",
  kind: "text_span",
  geometry: { start, end },
  attributes: {},
  annotator: "ana",
  revision: 1,
  entity: null,
  ...over,
});

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
  document.body.replaceChildren();
});

async function mount(
  records: unknown[] = [],
  links: unknown[] = [],
  over: Record<string, unknown> = {},
): Promise<{ model: TraitModel; el: HookElement }> {
  const model = new TraitModel({
    item: "doc",
    stream: "text",
    text: TEXT,
    segments: [],
    timed: false,
    classes: [
      { name: "phrase", color: "#1f77b4", hotkey: "p", geometries: ["text_span"], attributes: [] },
      { name: XSS, color: "#d62728", hotkey: "x", geometries: ["text_span"], attributes: [] },
    ],
    doc_classes: [{ name: "formal", color: "#9467bd", geometries: ["tag"], attributes: [] }],
    link_types: [
      { name: "refers_to", sources: ["text_span"], targets: ["text_span"], spans: true },
      { name: "speaks", sources: ["text_span"], targets: ["box"], spans: false },
    ],
    label: "phrase",
    trim: true,
    show_others: true,
    selected: null,
    height: 300,
    annotator: "ana",
    bus_key: "ta-test",
    ...over,
  });
  const el = document.createElement("div") as HookElement;
  document.body.append(el);
  cleanup = widget.render({ model, el });
  model.replyOk("annotations.query", { annotations: records });
  model.replyOk("links.query", { links });
  await tick();
  return { model, el };
}

describe("TextAnnotator view", () => {
  it("renders the text as text nodes, exactly, and spans as pieces", async () => {
    const { el } = await mount([span("a", 3, 7), span("b", 11, 13, { annotator: "bob" })]);
    expect(el.dataset.ready).toBe("true");
    expect(el.dataset.spans).toBe("2");
    const text = [...el.querySelectorAll(".accord-ta-piece")].map((p) => p.textContent).join("");
    expect(text).toBe(TEXT);
    expect(el.querySelector("img")).toBeNull();
    const a = el.querySelector('[data-spans="a"]');
    expect(a?.textContent).toBe("👩🏽\u200d💻");
    expect(el.querySelector('[data-spans="b"]')?.textContent).toBe("🇫🇷");
    expect(el.querySelector('[data-spans="b"]')?.classList.contains("accord-ta-others")).toBe(true);
  });

  it("turns a selection into a code-point span, snapped and trimmed", async () => {
    const { model, el } = await mount();
    // select from inside the emoji's first surrogate pair to after the space that follows it
    const pending = el.accordSelectRange!(3, 8);
    await tick();
    const add = model.of("annotation.add").at(-1);
    expect(add).toMatchObject({ kind: "text_span", label: "phrase", geometry: { start: 3, end: 7 } });
    model.replyOk("annotation.add", { ids: ["new"] });
    await expect(pending).resolves.toBe("new");
  });

  it("patches itself from events and hides others' spans on request", async () => {
    const { model, el } = await mount([span("a", 3, 7)]);
    model.emit({ type: "event", events: [{ op: "create", id: "c", target: "annotation", record: span("c", 0, 2, { annotator: "bob" }) }] });
    await tick();
    expect(el.dataset.spans).toBe("2");
    model.pythonSets("show_others", false);
    await tick();
    expect(el.dataset.spans).toBe("1");
    model.emit({ type: "event", events: [{ op: "delete", id: "a", target: "annotation", record: null }] });
    await tick();
    expect(el.dataset.spans).toBe("0");
  });

  it("relates two spans with the allowed link types only, and shows refusals", async () => {
    const { model, el } = await mount([span("a", 0, 2), span("b", 3, 7)]);
    (el.querySelector('[data-spans="a"]') as HTMLElement).click();
    await tick();
    expect(el.dataset.selected).toBe("a");
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "r", bubbles: true }));
    await tick();
    expect(el.dataset.mode).toBe("relate");
    (el.querySelector('[data-spans="b"]') as HTMLElement).click();
    await tick();
    const buttons = [...el.querySelectorAll(".accord-ta-linkmenu [data-link-type]")].map((b) => b.textContent);
    expect(buttons).toEqual(["refers_to"]);
    (el.querySelector('.accord-ta-linkmenu [data-link-type="refers_to"]') as HTMLElement).click();
    expect(model.of("link.add").at(-1)).toMatchObject({ source: "a", target: "b", link_type: "refers_to" });
    model.replyOk("link.add", { ids: ["l1"] });
    model.emit({ type: "event", events: [{ op: "create", id: "l1", target: "link", record: { id: "l1", source: "a", target: "b", type: "refers_to", annotator: "ana" } }] });
    await tick();
    expect(el.dataset.links).toBe("1");
    expect(el.dataset.mode).toBe("");
    const refused = el.accordRelate!("b", "a", "speaks");
    model.replyError("link.add", { error: "ValidationError", message: "speaks allows text_span → box", where: "link.link_type" });
    await expect(refused).resolves.toBe(false);
    expect(el.querySelector('[role="alert"]')?.textContent).toContain("speaks allows");
  });

  it("publishes hover and select as {id, entity} and follows others on the bus", async () => {
    const { el } = await mount([span("a", 0, 2, { entity: "e1" }), span("b", 3, 7, { entity: "e2" })]);
    const bus = getBus<Record<string, unknown>>("ta-test");
    const seen: unknown[] = [];
    const off = bus.subscribe("select", (v) => seen.push(v));
    (el.querySelector('[data-spans="a"]') as HTMLElement).click();
    expect(seen).toEqual([{ id: "a", entity: "e1" }]);
    bus.publish("hover", { id: null, entity: "e2" }, "another-widget");
    await tick();
    expect(el.querySelector('[data-spans="b"]')?.classList.contains("accord-ta-hover")).toBe(true);
    bus.publish("hover", "a", "a-region-canvas"); // RegionCanvas publishes plain ids
    await tick();
    expect(el.querySelector('[data-spans="a"]')?.classList.contains("accord-ta-hover")).toBe(true);
    off();
  });

  it("sends class hotkeys, Delete and undo as Session commands", async () => {
    const { model, el } = await mount([span("a", 0, 2)]);
    (el.querySelector('[data-spans="a"]') as HTMLElement).click();
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "x", bubbles: true }));
    expect(model.of("annotation.update").at(-1)).toMatchObject({ id: "a", revision: 1, label: XSS });
    const chip = [...el.querySelectorAll("[data-label]")].find((c) => c.getAttribute("data-label") === XSS);
    expect(chip?.textContent).toContain(XSS);
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    expect(model.of("annotation.delete").at(-1)).toMatchObject({ id: "a", revision: 1 });
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "z", ctrlKey: true, bubbles: true }));
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "Z", ctrlKey: true, shiftKey: true, bubbles: true }));
    expect(model.of("undo")).toHaveLength(1);
    expect(model.of("redo")).toHaveLength(1);
  });

  it("shows cue rows with item times and rebuilds only the rows an event touches", async () => {
    const text = "Hello there.\nGeneral Kenobi!\nYou are a bold one.";
    const seg = (index: number, start: number, end: number, t: number) => ({
      index, start, end, t_start: t, t_end: t + 1, item_start: t + 10, item_end: t + 11, speaker: `S${index}`,
    });
    const { model, el } = await mount([], [], {
      text,
      timed: true,
      segments: [seg(0, 0, 12, 1), seg(1, 13, 28, 3), seg(2, 29, 48, 5)],
    });
    const times = [...el.querySelectorAll(".accord-ta-time")].map((t) => t.textContent);
    expect(times).toEqual(["0:11.000", "0:13.000", "0:15.000"]);
    const rows = [...el.querySelectorAll(".accord-ta-row")];
    expect([...el.querySelectorAll(".accord-ta-piece")].map((p) => p.textContent).join("")).toBe(text);
    model.emit({ type: "event", events: [{ op: "create", id: "k", target: "annotation", record: span("k", 13, 28) }] });
    await tick();
    const after = [...el.querySelectorAll(".accord-ta-row")];
    expect(after[0]).toBe(rows[0]);
    expect(after[2]).toBe(rows[2]);
    expect(after[1]).not.toBe(rows[1]);
    expect(after[1]?.querySelector('[data-segment-label="phrase"]')).not.toBeNull();
    // a segment class from the gutter's picker covers the cue exactly
    const pick = el.querySelector('[data-segment-classify="2"]') as HTMLSelectElement;
    pick.value = "phrase";
    pick.dispatchEvent(new Event("change"));
    expect(model.of("annotation.add").at(-1)).toMatchObject({ geometry: { start: 29, end: 48 }, label: "phrase" });
  });

  it("keeps others' spans read-only and ignores a double-click on a span", async () => {
    const { model, el } = await mount([span("b", 3, 7, { annotator: "bob" }), span("a", 0, 2)]);
    const piece = el.querySelector('[data-spans="b"]') as HTMLElement;
    piece.click();
    await tick();
    expect(el.dataset.selected).toBe("b");
    expect(el.textContent).toContain("Selected (read-only)");
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "x", bubbles: true }));
    el.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    expect(model.of("annotation.update")).toHaveLength(0);
    expect(model.of("annotation.delete")).toHaveLength(0);
    // a double-click selects the word under it in a browser: on a span it must not add one
    const sel = document.getSelection()!;
    const range = document.createRange();
    range.selectNodeContents(el.querySelector('[data-spans="a"]')!.firstChild!);
    sel.removeAllRanges();
    sel.addRange(range);
    (el.querySelector('[data-spans="a"]') as HTMLElement).dispatchEvent(new MouseEvent("mouseup", { bubbles: true, detail: 2 }));
    await tick();
    expect(model.of("annotation.add")).toHaveLength(0);
    expect(sel.rangeCount).toBe(0);
  });
});
