// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { STAGE1_HINT, lockOthersToggle } from "../src/runtime/stage.js";
import widget from "../src/widgets/workbench/index.js";

type Handler = () => void;

/** The traits of a WorkbenchKeys model, with change events and save_changes counted. */
class Model {
  saves = 0;
  private handlers = new Map<string, Handler[]>();
  constructor(private readonly traits: Record<string, unknown>) {}
  get(k: string): unknown {
    return this.traits[k];
  }
  set(k: string, v: unknown): void {
    this.traits[k] = v;
    for (const h of this.handlers.get(`change:${k}`) ?? []) h();
  }
  save_changes(): void {
    this.saves++;
  }
  on(e: string, h: Handler): void {
    this.handlers.set(e, [...(this.handlers.get(e) ?? []), h]);
  }
  off(e: string, h: Handler): void {
    this.handlers.set(e, (this.handlers.get(e) ?? []).filter((x) => x !== h));
  }
}

afterEach(() => document.body.replaceChildren());

describe("lockOthersToggle", () => {
  it("disables the toggle with one text hint, and undoes it", () => {
    const group = document.createElement("div");
    const button = document.createElement("button");
    group.append(button, document.createElement("span"));
    lockOthersToggle(button, true);
    lockOthersToggle(button, true);
    const hints = group.querySelectorAll("[data-accord-stage-hint]");
    expect(hints.length).toBe(1);
    expect(hints[0]?.textContent).toBe(STAGE1_HINT);
    expect(button.disabled).toBe(true);
    lockOthersToggle(button, false);
    expect(button.disabled).toBe(false);
    expect((hints[0] as HTMLElement).hidden).toBe(true);
  });

  it("adds nothing when others are shown", () => {
    const group = document.createElement("div");
    const button = document.createElement("button");
    group.append(button);
    lockOthersToggle(button, false);
    expect(group.querySelector("[data-accord-stage-hint]")).toBeNull();
  });
});

describe("Workbench keymap", () => {
  const keymap = [
    { view: "Workbench", keys: [["?", "show or hide this keyboard map"]] },
    { view: "RegionCanvas", keys: [["<b>x</b>", "draw"], ["bad"]] },
  ];

  function mount(): { model: Model; root: HTMLElement; container: HTMLElement; inner: HTMLElement } {
    const container = document.createElement("div");
    container.className = "accord-workbench";
    const root = document.createElement("div");
    const inner = document.createElement("canvas");
    inner.tabIndex = 0;
    container.append(root, inner);
    document.body.append(container);
    const model = new Model({ title: "clip · ana · stage 1", hint: STAGE1_HINT, keymap, shown: false });
    widget.render({ model, el: root });
    return { model, root, container, inner };
  }

  it("renders the sections as text and toggles on ? from any view of the container", () => {
    const { model, root, inner } = mount();
    const overlay = root.querySelector<HTMLElement>("[data-accord-keymap]")!;
    expect(overlay.hidden).toBe(true);
    expect([...root.querySelectorAll<HTMLElement>("[data-view]")].map((e) => e.dataset.view)).toEqual(["Workbench", "RegionCanvas"]);
    expect(root.querySelector("b")).toBeNull(); // data is text, never markup
    expect(root.textContent).toContain("<b>x</b>");
    expect(root.textContent).toContain(STAGE1_HINT);

    let viewSaw = 0;
    inner.addEventListener("keydown", () => viewSaw++);
    inner.dispatchEvent(new KeyboardEvent("keydown", { key: "?", bubbles: true }));
    expect(model.get("shown")).toBe(true);
    expect(model.saves).toBe(1);
    expect(overlay.hidden).toBe(false);
    expect(viewSaw).toBe(0); // the view's own ? did not run
    inner.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.get("shown")).toBe(false);
    expect(overlay.hidden).toBe(true);
    inner.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
    expect(viewSaw).toBe(1); // other keys reach the view
  });

  it("leaves ? alone while typing in an input, and follows Python's shown", () => {
    const { model, root, container } = mount();
    const input = document.createElement("input");
    container.append(input);
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "?", bubbles: true }));
    expect(model.get("shown")).toBe(false);
    model.set("shown", true);
    expect(root.querySelector<HTMLElement>("[data-accord-keymap]")!.hidden).toBe(false);
    root.querySelector<HTMLButtonElement>('[data-action="close-keys"]')!.click();
    expect(model.get("shown")).toBe(false);
  });
});
