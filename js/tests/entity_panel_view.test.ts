// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { getBus } from "../src/runtime/bus.js";
import { getSharedClock } from "../src/runtime/clock.js";
import widget from "../src/widgets/entity_panel/index.js";
import { FakeModel } from "./fake-model.js";

const XSS = "<img src=x onerror=alert(1)>";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => void;

class TraitModel extends FakeModel {
  constructor(private readonly traits: Record<string, unknown>) {
    super();
  }
  get(key: string): unknown {
    return this.traits[key];
  }
  override on(event: string, cb: Handler): void {
    if (event === "msg:custom") super.on("msg:custom", cb);
  }
  override off(event?: string | null, cb?: Handler | null): void {
    if (event === "msg:custom" && cb) super.off("msg:custom", cb);
  }
}

const SNAPSHOT = {
  entities: [
    {
      id: "e1",
      label: "car",
      name: XSS,
      annotator: "ana",
      revision: 1,
      modalities: ["video"],
      start: 0.3,
      end: 0.4,
      elsewhere: 0,
      members: [
        { id: "a1", stream: "video", modality: "video", kind: "box", label: "car", annotator: "ana", frame: 10, sweep: null, time: 0.35, start: 0.3, end: 0.4, excerpt: null, track: null },
        { id: "a2", stream: "video", modality: "video", kind: "box", label: "car", annotator: "ana", frame: 11, sweep: null, time: 0.38, start: 0.36, end: 0.4, excerpt: null, track: null },
      ],
    },
    {
      id: "e2",
      label: "person",
      name: "",
      annotator: "ana",
      revision: 1,
      modalities: ["text"],
      start: null,
      end: null,
      elsewhere: 0,
      members: [{ id: "a3", stream: "transcript", modality: "text", kind: "text_span", label: "speech", annotator: "ana", frame: null, sweep: null, time: null, start: null, end: null, excerpt: XSS, track: null }],
    },
  ],
};

let n = 0;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  document.body.replaceChildren();
});

async function mount(): Promise<{ model: TraitModel; root: HTMLElement; key: string }> {
  const key = `ep-test-${++n}`;
  const model = new TraitModel({ item: "clip", bus_key: key, height: 300, duration: 10, classes: [{ name: "car", color: "#ff0000" }] });
  const root = document.createElement("div");
  document.body.append(root);
  cleanups.push(widget.render({ model, el: root }));
  const q = model.sent[0]!.content;
  expect(q.type).toBe("entities.query");
  model.emit({ type: "reply", uuid: q.uuid, ok: true, result: SNAPSHOT });
  await Promise.resolve();
  await Promise.resolve();
  return { model, root, key };
}

function click(node: Element | null): void {
  if (!node) throw new Error("no element");
  (node as HTMLElement).click();
}

describe("EntityPanel view", () => {
  it("renders entities as text and expands to members", async () => {
    const { root } = await mount();
    expect(root.dataset.entities).toBe("2");
    expect(root.querySelector("img")).toBeNull();
    expect(root.textContent).toContain(XSS);
    click(root.querySelector('[data-entity="e2"] [data-action="expand"]'));
    const member = root.querySelector('[data-member="a3"]');
    expect(member?.textContent).toContain(`“${XSS}”`);
    expect(root.querySelector("img")).toBeNull();
  });

  it("merges ticked entities, first ticked kept", async () => {
    const { model, root } = await mount();
    const merge = root.querySelector<HTMLButtonElement>('[data-action="merge"]')!;
    expect(merge.disabled).toBe(true);
    click(root.querySelector('[data-tick-entity="e2"]'));
    click(root.querySelector('[data-tick-entity="e1"]'));
    expect(merge.disabled).toBe(false);
    click(merge);
    const sent = model.sent.at(-1)!.content;
    expect(sent).toMatchObject({ type: "entity.merge", ids: ["e2", "e1"] });
  });

  it("splits ticked members of one entity", async () => {
    const { model, root } = await mount();
    click(root.querySelector('[data-entity="e1"] [data-action="expand"]'));
    const split = root.querySelector<HTMLButtonElement>('[data-action="split"]')!;
    click(root.querySelector('[data-tick-member="a1"]'));
    click(root.querySelector('[data-tick-member="a2"]'));
    expect(split.disabled).toBe(true); // all members: nothing would stay
    click(root.querySelector('[data-tick-member="a1"]'));
    expect(split.disabled).toBe(false);
    click(split);
    expect(model.sent.at(-1)!.content).toMatchObject({ type: "entity.split", id: "e1", members: ["a2"] });
  });

  it("re-renders on a pushed snapshot and shows refusals in a banner", async () => {
    const { model, root } = await mount();
    model.emit({ type: "entities", entities: [SNAPSHOT.entities[0]] });
    expect(root.dataset.entities).toBe("1");
    click(root.querySelector('[data-entity="e1"] [data-action="delete"]'));
    const del = model.sent.at(-1)!.content;
    expect(del).toMatchObject({ type: "entity.delete", id: "e1", revision: 1 });
    model.emit({ type: "reply", uuid: del.uuid, ok: false, error: { error: "PermissionDeniedError", message: XSS, where: "entity e1" } });
    await Promise.resolve();
    await Promise.resolve();
    expect(root.querySelector('[role="alert"]')?.textContent).toContain(XSS);
    expect(root.querySelector("img")).toBeNull();
  });

  it("publishes hover and reveal, seeks the shared clock, follows others' hover", async () => {
    const { root, key } = await mount();
    const bus = getBus(key);
    const seen: unknown[] = [];
    cleanups.push(bus.subscribe("hover", (v) => seen.push(v)));
    const reveals: unknown[] = [];
    cleanups.push(bus.subscribe("reveal", (v) => reveals.push(v)));
    click(root.querySelector('[data-entity="e1"] [data-action="expand"]'));
    root.querySelector('[data-member="a1"]')!.dispatchEvent(new MouseEvent("mouseenter"));
    expect(seen.at(-1)).toEqual({ id: "a1", entity: "e1" });
    click(root.querySelector('[data-member="a1"] [data-action="goto"]'));
    expect(reveals.at(-1)).toEqual({ id: "a1", item: "clip", stream: "video", kind: "box", frame: 10, time: 0.35, sweep: null });
    expect(getSharedClock(key).state.time).toBeCloseTo(0.35);
    bus.publish("hover", { id: "a2", entity: "e1" }, "someone");
    expect(root.querySelector('[data-member="a2"]')!.classList.contains("accord-ep-hover")).toBe(true);
    expect(root.dataset.hover).toBe("a2");
  });
});
