// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { dropBus, getBus } from "../src/runtime/bus.js";
import { LinkModeController, type LinkHooks, type LocalEnd } from "../src/runtime/linkmode.js";
import { CommandClient } from "../src/runtime/protocol.js";
import { FakeModel } from "./fake-model.js";

const KEY = "lm-controller-test";
const LINK_TYPES = [
  { name: "speaks", sources: ["text_span"], targets: ["box"] },
  { name: "describes", sources: ["text_span"], targets: ["time_segment"] },
  { name: "same_as", symmetric: true },
];
const LINKS = [{ id: "l0", source: "span0", target: "box0", type: "speaks", annotator: "ana", revision: 1 }];

interface View {
  model: FakeModel;
  client: CommandClient;
  root: HTMLElement & { accordLink?: LinkHooks };
  ctrl: LinkModeController;
  errors: unknown[];
  changes: number;
  selected: string | null;
}

const views: View[] = [];

/** A view holding `ends`; answers its links.query at once. */
function mount(ends: Record<string, LocalEnd>): View {
  const model = new FakeModel();
  const client = new CommandClient(model);
  const root = document.createElement("div");
  const host = document.createElement("div");
  root.append(host);
  document.body.append(root);
  const v: View = { model, client, root, errors: [], changes: 0, selected: null } as unknown as View;
  v.ctrl = new LinkModeController({
    client,
    busKey: KEY,
    root,
    host,
    describe: (id) => ends[id] ?? null,
    selected: () => v.selected,
    report: (err) => v.errors.push(err),
    changed: () => {
      v.changes++;
    },
  });
  views.push(v);
  return v;
}

function reply(v: View, n: number, result: unknown, ok = true): void {
  const uuid = v.model.uuid(n);
  v.model.emit(ok ? { type: "reply", uuid, ok: true, result } : { type: "reply", uuid, ok: false, error: result });
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

const span = (id: string): LocalEnd => ({ id, kind: "text_span", stream: "transcript", label: `span ${id}` });
const box = (id: string): LocalEnd => ({ id, kind: "box", stream: "video", label: `face ${id}` });
const seg = (id: string): LocalEnd => ({ id, kind: "time_segment", stream: "audio", label: `speech ${id}` });

async function twoViews(): Promise<[View, View]> {
  dropBus(KEY);
  const text = mount({ span0: span("span0"), span1: span("span1") });
  const canvas = mount({ box0: box("box0"), box1: box("box1"), seg1: seg("seg1") });
  for (const v of [text, canvas]) {
    expect(v.model.sent[0]?.content.type).toBe("links.query");
    reply(v, 0, { links: LINKS, link_types: LINK_TYPES });
  }
  await flush();
  return [text, canvas];
}

afterEach(() => {
  for (const v of views.splice(0)) {
    v.ctrl.destroy();
    v.root.remove();
  }
});

describe("LinkModeController", () => {
  it("shows the hint in every view, the chooser only in the view that started", async () => {
    const [text, canvas] = await twoViews();
    text.selected = "span1";
    // L on the text view starts from its selection.
    text.root.dispatchEvent(new KeyboardEvent("keydown", { key: "L", bubbles: true, cancelable: true }));
    for (const v of [text, canvas]) {
      const hint = v.root.querySelector<HTMLElement>("[data-link-hint]");
      expect(hint?.hidden).toBe(false);
      expect(hint?.textContent).toBe("Link from span span1: pick the target (Esc cancels)");
      expect(v.root.dataset.linkSource).toBe("span1");
    }
    expect(text.root.dataset.linkMode).toBe("source");
    expect(canvas.root.dataset.linkMode).toBe("target");

    // A click on a box in the other view picks it; the chooser opens in the text view only.
    expect(canvas.ctrl.pick("box1")).toBe(true);
    const buttons = (v: View): string[] =>
      [...v.root.querySelectorAll<HTMLElement>(".accord-link-chooser [data-link-type]")].map((b) => b.dataset.linkType ?? "");
    expect(buttons(text)).toEqual(["speaks", "same_as"]);
    expect(buttons(canvas)).toEqual([]);
    expect(canvas.root.querySelector<HTMLElement>(".accord-link-chooser")?.hidden).toBe(true);
    expect(canvas.root.querySelector<HTMLElement>(".accord-link-chooser")?.style.display).toBe("none");
    expect(text.root.querySelector<HTMLElement>(".accord-link-chooser")?.style.display).toBe("flex");

    // Choosing sends link.add through the starting view's client.
    text.root.querySelector<HTMLButtonElement>('[data-link-type="speaks"]')?.click();
    const sent = text.model.sent.at(-1)?.content;
    expect(sent).toMatchObject({ type: "link.add", source: "span1", target: "box1", link_type: "speaks" });
    expect(canvas.model.sent.some((m) => m.content.type === "link.add")).toBe(false);
    reply(text, text.model.sent.length - 1, { command: "c", ids: ["l9"] });
    await flush();
    for (const v of [text, canvas]) expect(v.root.dataset.linkMode).toBe("");
    expect(text.root.querySelector<HTMLElement>("[data-link-hint]")?.textContent).toContain("linked span span1 —speaks→ face box1");
  });

  it("offers the kinds that fit a time segment, and says when none does", async () => {
    const [text, canvas] = await twoViews();
    text.ctrl.start("span0");
    canvas.ctrl.pick("seg1");
    expect(text.root.querySelector<HTMLElement>(".accord-link-chooser")?.textContent).toContain("describes");
    expect(text.root.querySelector('[data-link-type="speaks"]')).toBeNull();
    // From a box to a span: only the symmetric type.
    canvas.ctrl.start("box0");
    expect(text.root.querySelector<HTMLElement>(".accord-link-chooser")?.hidden).toBe(true);
    text.ctrl.pick("span1");
    expect([...canvas.root.querySelectorAll<HTMLElement>("[data-link-type]")].map((b) => b.dataset.linkType)).toEqual(["same_as"]);
  });

  it("a refusal is reported in the starting view and keeps the chooser", async () => {
    const [text, canvas] = await twoViews();
    text.ctrl.start("span0");
    canvas.ctrl.pick("box1");
    const done = text.root.accordLink!.choose("describes"); // not offered: the hook sends it anyway
    const n = text.model.sent.length - 1;
    expect(text.model.sent[n]?.content).toMatchObject({ type: "link.add", link_type: "describes" });
    reply(text, n, { error: "ValidationError", message: "a link type allowing text_span → box", where: "link.link_type", expected: null }, false);
    expect(await done).toBe(false);
    expect(text.errors.length).toBe(1);
    expect(text.root.dataset.linkMode).toBe("source");
    expect(text.root.querySelectorAll("[data-link-type]").length).toBe(2);
    expect(canvas.errors.length).toBe(0);
  });

  it("Escape anywhere cancels; picking without a mode is not consumed", async () => {
    const [text, canvas] = await twoViews();
    expect(canvas.ctrl.pick("box0")).toBe(false);
    text.ctrl.start("span0");
    expect(canvas.ctrl.pick("span-not-here")).toBe(false);
    expect(text.ctrl.pick("span0")).toBe(true); // the source itself: consumed, nothing picked
    expect(text.root.querySelector<HTMLElement>(".accord-link-chooser")?.hidden).toBe(true);
    const esc = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    document.body.dispatchEvent(esc);
    expect(esc.defaultPrevented).toBe(true);
    for (const v of [text, canvas]) {
      expect(v.root.dataset.linkMode).toBe("");
      expect(v.root.querySelector<HTMLElement>("[data-link-hint]")?.hidden).toBe(true);
    }
    // With no mode, Escape is left to the widgets.
    const esc2 = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    document.body.dispatchEvent(esc2);
    expect(esc2.defaultPrevented).toBe(false);
  });

  it("L with nothing selected says so; a key the widget handled is left alone", async () => {
    const [text] = await twoViews();
    text.root.dispatchEvent(new KeyboardEvent("keydown", { key: "l", bubbles: true, cancelable: true }));
    expect(text.ctrl.active).toBe(false);
    expect(text.root.querySelector("[data-link-hint]")?.textContent).toContain("select an annotation first");
    text.selected = "span0";
    const handled = new KeyboardEvent("keydown", { key: "l", bubbles: true, cancelable: true });
    handled.preventDefault();
    text.root.dispatchEvent(handled);
    expect(text.ctrl.active).toBe(false);
  });

  it("hovering one end lights up the other ends each view shows, and follows link events", async () => {
    const [text, canvas] = await twoViews();
    const bus = getBus(KEY);
    bus.publish("hover", { id: "span0", entity: null });
    expect(canvas.root.dataset.linkLit).toBe("box0");
    expect(text.root.dataset.linkLit).toBe(""); // box0 is not in the text view
    expect(canvas.ctrl.lit).toEqual(["box0"]);
    // A plain id (older publishers) works too.
    bus.publish("hover", "box0");
    expect(text.root.dataset.linkLit).toBe("span0");
    bus.publish("hover", null);
    expect(text.root.dataset.linkLit).toBe("");
    // A new link arrives as an event: the index follows without a query.
    for (const v of [text, canvas]) {
      v.model.emit({
        type: "event",
        events: [{ op: "create", id: "l1", target: "link", record: { id: "l1", source: "span1", target: "seg1", type: "describes" } }],
      });
    }
    bus.publish("hover", { id: "span1", entity: null });
    expect(canvas.root.dataset.linkLit).toBe("seg1");
    expect(canvas.root.dataset.linkCount).toBe("2");
    const queries = canvas.model.sent.filter((m) => m.content.type === "links.query").length;
    expect(queries).toBe(1);
  });

  it("a view that goes away while it owns the mode ends it", async () => {
    const [text, canvas] = await twoViews();
    text.ctrl.start("span0");
    expect(canvas.ctrl.active).toBe(true);
    text.ctrl.destroy();
    expect(canvas.ctrl.active).toBe(false);
    expect(text.root.accordLink).toBeUndefined();
  });
});
