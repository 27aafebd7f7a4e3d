// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { dropBus, getBus } from "../src/runtime/bus.js";
import { linkModeFor, type LinkPick, type LinkTopics } from "../src/runtime/linkmode.js";
import { CommandClient } from "../src/runtime/protocol.js";
import type { SegmentClass, StreamInfo, TierContext, TiersPart } from "../src/widgets/player/contracts.js";
import { mountTiers } from "../src/widgets/player/tiers/index.js";
import type { TierStats } from "../src/widgets/player/tiers/view.js";
import { FakeModel } from "./fake-model.js";
import { FakeClock, FakeView } from "./tiers_fakes.js";

const KEY = "lm-tiers-test";

/** A model whose "kernel" answers every request at once. */
class Kernel extends FakeModel {
  override send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void {
    super.send(content, callbacks, buffers);
    const c = content as Record<string, unknown>;
    const result =
      c.type === "segments.query"
        ? { segments: [seg("s1", 1, 2), seg("s2", 3, 4)], seq: 1 }
        : c.type === "links.query"
          ? {
              links: [{ id: "l1", source: "span", target: "s1", type: "describes", annotator: "ana", revision: 1 }],
              link_types: [{ name: "describes", sources: ["text_span"], targets: ["time_segment"] }],
            }
          : {};
    queueMicrotask(() => this.emit({ type: "reply", uuid: c.uuid, ok: true, result }));
  }
}

const CLASSES: SegmentClass[] = [{ name: "speech", color: "#2ca02c", hotkey: "s", modalities: ["audio"], attributes: [] }];
const STREAMS: StreamInfo[] = [{ name: "audio", modality: "audio", duration: 10, clock: { offset: 0, rate: 1 } }];
function seg(id: string, start: number, end: number): Record<string, unknown> {
  return { id, stream: "audio", label: "speech", annotator: "ana", start, end, attributes: {}, revision: 1, track: null, entity: null };
}

const parts: TiersPart[] = [];
afterEach(() => {
  for (const p of parts.splice(0)) p.destroy();
  document.body.replaceChildren();
});

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

async function mount() {
  dropBus(KEY);
  const kernel = new Kernel();
  const host = document.createElement("div");
  document.body.append(host);
  const clock = new FakeClock();
  const ctx: TierContext = {
    client: new CommandClient(kernel),
    clock,
    view: new FakeView(0, 0.01, 1000),
    item: "scene",
    annotator: "ana",
    streams: STREAMS,
    classes: CLASSES,
    showOthers: true,
    busKey: KEY,
  };
  const part = await mountTiers(host, ctx);
  parts.push(part);
  await tick();
  const root = host.querySelector(".accord-tiers") as HTMLElement & { accordTiers: () => TierStats };
  return { kernel, host, clock, root };
}

function pointer(target: Element, type: string, button = 0): void {
  const Ctor = (globalThis as { PointerEvent?: typeof MouseEvent }).PointerEvent ?? MouseEvent;
  const e = new Ctor(type, { clientX: 150, button, bubbles: true, cancelable: true });
  Object.defineProperty(e, "pointerId", { value: 1 });
  target.dispatchEvent(e);
}

const segEl = (host: HTMLElement, id: string): HTMLElement => host.querySelector<HTMLElement>(`[data-segment-id="${id}"]`)!;

describe("link mode in the Player's tiers", () => {
  it("lights up the segment linked to what another widget hovers", async () => {
    const { host, root } = await mount();
    expect(root.dataset.linkCount).toBe("1");
    getBus<LinkTopics>(KEY).publish("hover", { id: "span", entity: null }, "text-view");
    await tick();
    expect(root.dataset.linkLit).toBe("s1");
    expect(segEl(host, "s1").dataset.linked).toBe("true");
    expect(segEl(host, "s2").dataset.linked).toBe("false");
    getBus<LinkTopics>(KEY).publish("hover", null, "text-view");
    await tick();
    expect(segEl(host, "s1").dataset.linked).toBe("false");
  });

  it("publishes hover as {id, entity} and picks a clicked segment while another widget links", async () => {
    const { host, root, kernel } = await mount();
    const bus = getBus<LinkTopics>(KEY);
    const hovers: unknown[] = [];
    const picks: LinkPick[] = [];
    bus.subscribe("hover", (v) => hovers.push(v));
    bus.subscribe("link-pick", (p) => picks.push(p));
    pointer(segEl(host, "s2"), "pointerover");
    expect(hovers).toEqual([{ id: "s2", entity: null }]);

    linkModeFor(KEY).start({ id: "span", kind: "text_span", stream: "transcript", label: "phrase", widget: "text-view" });
    expect(root.dataset.linkMode).toBe("target");
    expect(root.querySelector("[data-link-hint]")?.textContent).toBe("Link from phrase: pick the target (Esc cancels)");
    const sent = kernel.sent.length;
    pointer(segEl(host, "s2"), "pointerdown");
    pointer(segEl(host, "s2"), "pointerup");
    expect(picks).toHaveLength(1);
    expect(picks[0]?.target).toMatchObject({ id: "s2", kind: "time_segment", stream: "audio" });
    expect(picks[0]?.target.label).toContain("speech");
    // a pick is not a click: nothing selected, nothing sent to the kernel
    expect(root.accordTiers().selected).toBeNull();
    expect(kernel.sent.length).toBe(sent);
  });

  it("Shift+L links from the selected segment; l still loops it", async () => {
    const { host, root, clock } = await mount();
    pointer(segEl(host, "s1"), "pointerdown");
    pointer(segEl(host, "s1"), "pointerup");
    expect(root.accordTiers().selected).toBe("s1");
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "l", bubbles: true, cancelable: true }));
    expect(clock.state.loop).not.toBeNull();
    expect(linkModeFor(KEY).active).toBe(false);
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "L", shiftKey: true, bubbles: true, cancelable: true }));
    expect(linkModeFor(KEY).source).toMatchObject({ id: "s1", kind: "time_segment" });
    expect(root.dataset.linkMode).toBe("source");
    // the toolbar button does the same
    linkModeFor(KEY).cancel();
    root.querySelector<HTMLButtonElement>('[data-action="link"]')?.click();
    expect(linkModeFor(KEY).source?.id).toBe("s1");
  });
});
