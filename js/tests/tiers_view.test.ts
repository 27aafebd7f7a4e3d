// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { CommandClient } from "../src/runtime/protocol.js";
import type { SegmentClass, StreamInfo, TierContext, TiersPart } from "../src/widgets/player/contracts.js";
import { mountTiers } from "../src/widgets/player/tiers/index.js";
import type { TierStats } from "../src/widgets/player/tiers/view.js";
import { FakeModel } from "./fake-model.js";
import { FakeClock, FakeView, SECOND_AUDIO } from "./tiers_fakes.js";

const XSS = "<img src=x onerror=alert(1)>";

/** A model whose "kernel" answers every request with `answer(type, content)`. */
class Kernel extends FakeModel {
  answer: (type: string, content: Record<string, unknown>) => unknown = () => ({});
  override send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void {
    super.send(content, callbacks, buffers);
    const c = content as Record<string, unknown>;
    let reply: Record<string, unknown>;
    try {
      reply = { type: "reply", uuid: c.uuid, ok: true, result: this.answer(String(c.type), c) };
    } catch (err) {
      reply = { type: "reply", uuid: c.uuid, ok: false, error: { error: "ValidationError", message: String((err as Error).message), where: "x", expected: null } };
    }
    queueMicrotask(() => this.emit(reply));
  }
  commands(type: string): Record<string, unknown>[] {
    return this.sent.map((s) => s.content).filter((c) => c.type === type);
  }
}

const CLASSES: SegmentClass[] = [
  { name: "speech", color: "#2ca02c", hotkey: "s", modalities: ["audio", "text"], attributes: [{ name: "speaker", type: "text" }, { name: "text", type: "text" }] },
  { name: "noise", color: "#d62728", hotkey: "n", modalities: ["audio"], attributes: [] },
];
const STREAMS: StreamInfo[] = [
  { name: "second_audio", modality: "audio", duration: 10, clock: SECOND_AUDIO },
  { name: "transcript", modality: "text", duration: 10, clock: { offset: 0, rate: 1 } },
];
const row = (id: string, stream: string, label: string, start: number, end: number, extra: Record<string, unknown> = {}) => ({
  id, stream, label, annotator: "ana", start, end, attributes: {}, revision: 1, track: null, entity: null, ...extra,
});

const parts: TiersPart[] = [];
afterEach(() => {
  for (const p of parts.splice(0)) p.destroy();
  document.body.replaceChildren();
});

async function mount(segments: unknown[], opts: Partial<TierContext> = {}) {
  const kernel = new Kernel();
  kernel.answer = (type) => (type === "segments.query" ? { segments, seq: 1 } : type === "annotation.add" ? { ids: ["new"] } : {});
  const host = document.createElement("div");
  document.body.append(host);
  const clock = new FakeClock();
  clock.clocks.set("second_audio", SECOND_AUDIO);
  const view = new FakeView(0, 0.01, 1000);
  const ctx: TierContext = {
    client: new CommandClient(kernel), clock, view, item: "scene", annotator: "ana",
    streams: STREAMS, classes: CLASSES, showOthers: true, ...opts,
  };
  const part = await mountTiers(host, ctx);
  parts.push(part);
  const root = host.querySelector(".accord-tiers") as HTMLElement & { accordTiers: () => TierStats };
  return { kernel, host, clock, view, part, root };
}

const segEl = (host: HTMLElement, id: string) => host.querySelector<HTMLElement>(`[data-segment-id="${id}"]`);
const flush = async () => {
  for (let i = 0; i < 4; i++) await Promise.resolve();
};
const tick = () => new Promise((r) => setTimeout(r, 30));

function pointer(target: Element, type: string, clientX: number, button = 0): void {
  const Ctor = (globalThis as { PointerEvent?: typeof MouseEvent }).PointerEvent ?? MouseEvent;
  const e = new Ctor(type, { clientX, button, bubbles: true, cancelable: true });
  Object.defineProperty(e, "pointerId", { value: 1 });
  target.dispatchEvent(e);
}

describe("tiers in the page", () => {
  it("lays out tiers and segments at item time through each stream's clock", async () => {
    const { host, root } = await mount([
      row("a", "second_audio", "noise", 1, 2),
      row("b", "transcript", "speech", 0.5, 1.5, { attributes: { speaker: "Ana" }, text: "Hello" }),
    ]);
    expect(root.accordTiers().tiers).toEqual(["second_audio/class:noise", "transcript/speaker:Ana"]);
    const headers = [...host.querySelectorAll(".accord-tier-header")].map((h) => h.textContent);
    expect(headers).toEqual(["second_audio · noise", "transcript · Ana"]);
    const a = segEl(host, "a")!;
    expect(a.dataset.stream).toBe("second_audio");
    expect(Number(a.dataset.itemStart)).toBeCloseTo(0.3617 + 1.00015, 12);
    expect(Number(a.dataset.itemEnd)).toBeCloseTo(0.3617 + 2.0003, 12);
    expect(parseFloat(a.style.left)).toBeCloseTo((0.3617 + 1.00015) / 0.01, 6);
    expect(a.title).toContain("0:00:01.362 – 0:00:02.362");
    expect(segEl(host, "b")!.textContent).toBe("Hello");
  });

  it("moves segments at once when a stream clock is previewed or the view scrolls", async () => {
    const { host, clock, view } = await mount([row("a", "second_audio", "noise", 1, 2)]);
    clock.setStreamClock("second_audio", { offset: 1, rate: 1 });
    await tick();
    const a = segEl(host, "a")!;
    expect(Number(a.dataset.itemStart)).toBe(2);
    expect(parseFloat(a.style.left)).toBeCloseTo(200, 9);
    view.scrollTo(1.5);
    await tick();
    expect(parseFloat(a.style.left)).toBeCloseTo(50, 9);
    view.scrollTo(5);
    await tick();
    expect(segEl(host, "a")).toBeNull(); // out of view: not rendered
  });

  it("renders only what is visible out of 10k segments", async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => row(`s${i}`, "transcript", "speech", i * 0.001, i * 0.001 + 0.0005));
    const { root, view } = await mount(rows);
    expect(root.accordTiers().segments).toBe(10_000);
    expect(root.accordTiers().rendered).toBeLessThanOrEqual(1001); // ≤ one per pixel column
    view.zoom(100, 0); // 0.1 ms per px: 0.1 s visible → ~100 segments
    await tick();
    expect(root.accordTiers().rendered).toBeGreaterThanOrEqual(99);
    expect(root.accordTiers().rendered).toBeLessThanOrEqual(102);
  }, 20_000);

  it("draws a segment: the command carries stream seconds through the inverse clock", async () => {
    const { host, kernel } = await mount([row("a", "second_audio", "noise", 8, 9)]);
    const area = host.querySelector('[data-tier="second_audio/class:noise"] .accord-tier-area')!;
    pointer(area, "pointerdown", 150);
    pointer(area, "pointermove", 200);
    pointer(area, "pointermove", 300);
    pointer(area, "pointerup", 300);
    await flush();
    const [add] = kernel.commands("annotation.add");
    expect(add).toMatchObject({ item: "scene", stream: "second_audio", label: "noise", kind: "time_segment" });
    const g = add!.geometry as { start: number; end: number };
    expect(g.start).toBeCloseTo((1.5 - 0.3617) / 1.00015, 6);
    expect(g.end).toBeCloseTo((3.0 - 0.3617) / 1.00015, 6);
  });

  it("a click on an empty lane seeks; on a segment selects; Delete deletes; ctrl+z undoes", async () => {
    const { host, kernel, clock, root } = await mount([row("a", "second_audio", "noise", 1, 2)]);
    const area = host.querySelector(".accord-tier-area")!;
    pointer(area, "pointerdown", 500);
    pointer(area, "pointerup", 500);
    expect(clock.state.time).toBeCloseTo(5, 9);
    const x = parseFloat(segEl(host, "a")!.style.left) + 20;
    pointer(area, "pointerdown", x);
    pointer(area, "pointerup", x);
    expect(root.accordTiers().selected).toBe("a");
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    await flush();
    expect(kernel.commands("annotation.delete")).toEqual([expect.objectContaining({ id: "a", revision: 1 })]);
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "z", ctrlKey: true, bubbles: true }));
    await flush();
    expect(kernel.commands("undo")).toHaveLength(1);
  });

  it("moves a segment by dragging its body, and relabels with a hotkey", async () => {
    const { host, kernel, part } = await mount([row("a", "second_audio", "noise", 1, 2)]);
    const area = host.querySelector(".accord-tier-area")!;
    const x = parseFloat(segEl(host, "a")!.style.left) + 50;
    pointer(area, "pointerdown", x);
    pointer(area, "pointermove", x + 100);
    pointer(area, "pointerup", x + 100);
    await flush();
    const [upd] = kernel.commands("annotation.update");
    const g = upd!.geometry as { start: number; end: number };
    expect(g.start).toBeCloseTo(1 + 1 / 1.00015, 6);
    expect(g.end - g.start).toBeCloseTo(1, 6);
    // the event with the new revision settles the edit; then "s" relabels
    part.onEvents([{ op: "update", id: "a", target: "annotation", record: { id: "a", item: "scene", stream: "second_audio", label: "noise", kind: "time_segment", geometry: g, attributes: {}, annotator: "ana", revision: 2 } }]);
    const used = part.onKey(new KeyboardEvent("keydown", { key: "s" }));
    expect(used).toBe(true);
    await flush();
    expect(kernel.commands("annotation.update")[1]).toMatchObject({ id: "a", revision: 2, label: "speech" });
  });

  it("patches the lanes from kernel events", async () => {
    const { host, part, root } = await mount([]);
    part.onEvents([{ op: "create", id: "p", target: "annotation", record: { id: "p", item: "scene", stream: "transcript", label: "speech", kind: "time_segment", geometry: { start: 2, end: 3 }, attributes: { speaker: "Ben", text: XSS }, annotator: "ana", revision: 1 } }]);
    const p = segEl(host, "p")!;
    expect(root.accordTiers().tiers).toContain("transcript/speaker:Ben");
    expect(p.textContent).toBe(XSS);
    expect(p.querySelector("img")).toBeNull();
    expect(host.querySelector("img")).toBeNull();
    part.onEvents([{ op: "delete", id: "p", target: "annotation", record: null }]);
    expect(segEl(host, "p")).toBeNull();
  });

  it("edits a cue's text in a text input and stores it as the text attribute", async () => {
    const { host, kernel, root } = await mount([row("c", "transcript", "speech", 1, 2, { attributes: { speaker: "Ana", text: "old" }, text: "old" })]);
    const area = host.querySelector('[data-tier="transcript/speaker:Ana"] .accord-tier-area')!;
    area.dispatchEvent(new MouseEvent("dblclick", { clientX: 150, bubbles: true }));
    const input = host.querySelector<HTMLInputElement>("input.accord-tiers-editor")!;
    expect(input.value).toBe("old");
    input.value = XSS;
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await flush();
    expect(kernel.commands("annotation.update")[0]).toMatchObject({ id: "c", attributes: { speaker: "Ana", text: XSS } });
    expect(root.accordTiers().selected).toBe("c");
  });

  it("shows others' segments read-only, or hides them", async () => {
    const others = [row("o", "second_audio", "noise", 1, 2, { annotator: "bob" })];
    const shown = await mount(others);
    expect(segEl(shown.host, "o")!.dataset.readonly).toBe("true");
    const area = shown.host.querySelector(".accord-tier-area")!;
    const x = parseFloat(segEl(shown.host, "o")!.style.left) + 50;
    pointer(area, "pointerdown", x);
    pointer(area, "pointermove", x + 100);
    pointer(area, "pointerup", x + 100);
    await flush();
    expect(shown.kernel.commands("annotation.update")).toHaveLength(0);
    const hidden = await mount(others, { showOthers: false });
    expect(segEl(hidden.host, "o")).toBeNull();
  });

  it("refuses an invalid drag before sending and reports server errors in the banner", async () => {
    const { host, kernel } = await mount([row("a", "second_audio", "noise", 1, 2)]);
    kernel.answer = (type) => {
      if (type === "annotation.add") throw new Error("stream is read-only");
      return {};
    };
    const area = host.querySelector(".accord-tier-area")!;
    pointer(area, "pointerdown", 600);
    pointer(area, "pointermove", 700);
    pointer(area, "pointerup", 700);
    await flush();
    await tick();
    expect(host.querySelector(".accord-error")?.textContent).toContain("stream is read-only");
    // a drag wholly before the stream's start (item < offset) gives an empty segment: not sent
    const before = kernel.commands("annotation.add").length;
    pointer(area, "pointerdown", 5);
    pointer(area, "pointermove", 20);
    pointer(area, "pointerup", 30);
    await flush();
    expect(kernel.commands("annotation.add")).toHaveLength(before);
    expect(host.querySelector(".accord-error")?.textContent).toMatch(/before its end/);
  });

  it("loops and jumps to the selected segment; Tab steps through its tier", async () => {
    const { host, clock, part, root } = await mount([row("a", "transcript", "speech", 1, 2), row("b", "transcript", "speech", 3, 4)]);
    expect(root.accordTiers().tiers).toEqual(["second_audio/class:speech", "transcript/class:speech"]); // empty tier first
    const area = host.querySelector('[data-tier="transcript/class:speech"] .accord-tier-area')!;
    pointer(area, "pointerdown", 150);
    pointer(area, "pointerup", 150);
    part.onKey(new KeyboardEvent("keydown", { key: "l" }));
    expect(clock.state.loop).toEqual([1, 2]);
    part.onKey(new KeyboardEvent("keydown", { key: "l" }));
    expect(clock.state.loop).toBeNull();
    part.onKey(new KeyboardEvent("keydown", { key: "Tab" }));
    expect(root.accordTiers().selected).toBe("b");
    expect(clock.state.time).toBe(3);
    part.onKey(new KeyboardEvent("keydown", { key: "Tab", shiftKey: true }));
    expect(root.accordTiers().selected).toBe("a");
    expect(clock.state.time).toBe(1);
  });

  it("relabels from the right-click class menu, edits text with Enter, jumps from the panel", async () => {
    const { host, kernel, clock, root } = await mount([row("c", "transcript", "speech", 1, 2, { attributes: { speaker: "Ana" } })]);
    const area = host.querySelector('[data-tier="transcript/speaker:Ana"] .accord-tier-area')!;
    area.dispatchEvent(new MouseEvent("contextmenu", { clientX: 150, bubbles: true, cancelable: true }));
    const items = [...host.querySelectorAll<HTMLButtonElement>(".accord-tiers-menu button")].map((b) => b.dataset.class);
    expect(items).toEqual(["speech"]); // noise is not allowed on a text stream
    const audio = host.querySelector('[data-tier="second_audio/class:speech"] .accord-tier-area')!;
    pointer(audio, "pointerdown", 600);
    pointer(audio, "pointermove", 700);
    pointer(audio, "pointerup", 700);
    await flush();
    expect(kernel.commands("annotation.add")[0]).toMatchObject({ stream: "second_audio", label: "speech" });
    // select the cue again; Enter opens the editor, Escape leaves it unsent
    pointer(area, "pointerdown", 150);
    pointer(area, "pointerup", 150);
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    const input = host.querySelector<HTMLInputElement>("input.accord-tiers-editor")!;
    expect(input).not.toBeNull();
    input.value = "typed";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await flush();
    expect(host.querySelector("input.accord-tiers-editor")).toBeNull();
    expect(kernel.commands("annotation.update")).toHaveLength(0);
    clock.seek(7);
    host.querySelector<HTMLButtonElement>('button[data-action="jump"]')!.click();
    expect(clock.state.time).toBe(1);
    expect(root.accordTiers().selected).toBe("c");
  });

  it("relabels through the menu", async () => {
    const { host, kernel } = await mount([row("a", "second_audio", "noise", 1, 2)]);
    const area = host.querySelector('[data-tier="second_audio/class:noise"] .accord-tier-area')!;
    const x = parseFloat(segEl(host, "a")!.style.left) + 20;
    area.dispatchEvent(new MouseEvent("contextmenu", { clientX: x, bubbles: true, cancelable: true }));
    host.querySelector<HTMLButtonElement>('.accord-tiers-menu button[data-class="speech"]')!.click();
    await flush();
    expect(kernel.commands("annotation.update")[0]).toMatchObject({ id: "a", label: "speech" });
    expect(host.querySelector(".accord-tiers-menu")).toBeNull();
  });

  it("unsubscribes from the clock and view on destroy", async () => {
    const { clock, view, part, host } = await mount([]);
    expect(clock.listeners).toBeGreaterThan(0);
    part.destroy();
    expect(clock.listeners).toBe(0);
    expect(view.listeners).toBe(0);
    expect(host.querySelector(".accord-tiers")).toBeNull();
  });
});
