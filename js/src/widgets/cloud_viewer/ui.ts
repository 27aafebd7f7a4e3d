/**
 * The viewer's DOM: toolbar (tools, views, colour, sweep, undo/redo,
 * others, help), class chips, the stage (WebGL canvas + text labels), the
 * side panel and the status line. Built with the text-only helpers; the
 * region_canvas stylesheet gives the shared look (`accord-rc-*`).
 */

import { lockOthersToggle } from "../../runtime/stage.js";
import { el, labelChip } from "../../runtime/text.js";
import type { ClassSpec } from "../region_canvas/types.js";
import { COLOR_BY, type ColorBy } from "./colors.js";
import { VIEW_MODES, type ViewMode } from "./camera.js";

export type Tool = "select" | "cuboid";
export type Action = "undo" | "redo" | "keyframe" | "toggle-others" | "help" | "prev" | "next" | "fit";

export interface UiHandlers {
  tool(t: Tool): void;
  view(v: ViewMode): void;
  colorBy(c: ColorBy): void;
  label(name: string): void;
  action(a: Action): void;
  sweep(n: number): void;
}

const STYLE_ID = "accord-cv-style-v1";
const CSS = `
.accord-cv-stage { position: relative; flex: 1 1 320px; min-width: 0; overflow: hidden; background: #1e1e1e; border-radius: 2px; }
.accord-cv-stage canvas.accord-cloud-canvas { display: block; width: 100%; outline: none; touch-action: none; }
.accord-cv-stage:focus-within { box-shadow: 0 0 0 2px var(--jp-brand-color1, #1976d2); }
.accord-cv-labels { position: absolute; inset: 0; pointer-events: none; overflow: hidden; }
.accord-cv-tag { position: absolute; transform: translate(-50%, -100%); white-space: nowrap; font-size: 11px;
  padding: 0 3px; border-radius: 2px; color: #fff; background: rgba(0,0,0,0.55); border-left: 3px solid #888; }
.accord-cv-tag.accord-cv-interp { font-style: italic; opacity: 0.8; }
.accord-cv-sweep input { width: 4.5em; font: inherit; color: inherit; }
.accord-cv-toolbar select { font: inherit; }
`;

function injectOwnStyle(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  (doc.head ?? doc.documentElement).append(style);
}

const HELP: [string, string][] = [
  ["drag (empty space)", "orbit (orbit view) / pan (top, side, front)"],
  ["right or Shift+drag", "pan"],
  ["wheel", "zoom"],
  ["1 2 3 4", "orbit, top, side, front view"],
  ["0", "aim at the points"],
  ["Cuboid tool: drag", "draw a cuboid on the ground (yaw 0; height from the points inside)"],
  ["Select: click / drag", "select, move a cuboid"],
  ["handles", "faces resize, the knob ahead turns (Shift: 15° steps)"],
  ["[ / ]", "turn the selected cuboid 5° (Shift: 1°)"],
  ["← / →", "previous / next sweep"],
  ["K", "keyframe the selected track on this sweep"],
  ["Delete", "delete the selected cuboid"],
  ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo"],
  ["class hotkey", "class for new cuboids; relabels the selection"],
  ["Esc", "deselect / cancel"],
];

export class CloudUi {
  readonly alerts: HTMLDivElement;
  readonly stage: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  readonly labels: HTMLDivElement;
  readonly side: HTMLDivElement;
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>();
  private readonly viewButtons = new Map<ViewMode, HTMLButtonElement>();
  private readonly colorSelect: HTMLSelectElement;
  private readonly chipBox: HTMLDivElement;
  private chips = new Map<string, HTMLButtonElement>();
  private readonly sweepInput: HTMLInputElement;
  private readonly sweepTotal: HTMLSpanElement;
  private readonly othersButton: HTMLButtonElement;
  private readonly help: HTMLDivElement;
  private readonly status: HTMLSpanElement;
  private readonly hint: HTMLSpanElement;

  constructor(
    readonly root: HTMLElement,
    private readonly h: UiHandlers,
  ) {
    injectOwnStyle(root.ownerDocument);
    root.classList.add("accord-cloud-viewer", "accord-rc-root");
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    this.alerts = el("div", { className: "accord-rc-alerts" });

    const tools = el("div", { className: "accord-rc-group" });
    for (const [t, text, title] of [
      ["select", "⬚ Select", "Select, move, resize and turn cuboids"],
      ["cuboid", "▣ Cuboid", "Draw a cuboid: drag its footprint on the ground"],
    ] as [Tool, string, string][]) {
      const b = this.button(text, title, { "data-tool": t });
      b.addEventListener("click", () => h.tool(t));
      this.toolButtons.set(t, b);
      tools.append(b);
    }
    const views = el("div", { className: "accord-rc-group" });
    for (const v of VIEW_MODES) {
      const b = this.button(v[0]?.toUpperCase() + v.slice(1), `${v} view`, { "data-view": v });
      b.addEventListener("click", () => h.view(v));
      this.viewButtons.set(v, b);
      views.append(b);
    }
    this.colorSelect = el("select", { attrs: { "data-field": "color_by", title: "Colour points by" } });
    for (const c of COLOR_BY) {
      const o = el("option", { text: `colour: ${c}` });
      o.value = c;
      this.colorSelect.append(o);
    }
    this.colorSelect.addEventListener("change", () => h.colorBy(this.colorSelect.value as ColorBy));
    const fit = this.button("⤢ Fit", "Aim at the points (0)", { "data-action": "fit" });
    fit.addEventListener("click", () => h.action("fit"));
    views.append(fit);

    const prev = this.button("◀", "Previous sweep (←)", { "data-action": "prev" });
    const next = this.button("▶", "Next sweep (→)", { "data-action": "next" });
    prev.addEventListener("click", () => h.action("prev"));
    next.addEventListener("click", () => h.action("next"));
    this.sweepInput = el("input", { attrs: { type: "number", min: 0, step: 1, "data-field": "sweep", "aria-label": "Sweep" } });
    this.sweepInput.addEventListener("change", () => {
      const n = Number(this.sweepInput.value);
      if (Number.isInteger(n)) h.sweep(n);
    });
    this.sweepTotal = el("span", { className: "accord-rc-muted" });
    const sweep = el("span", { className: "accord-rc-group accord-cv-sweep" }, [el("span", { text: "sweep" }), prev, this.sweepInput, this.sweepTotal, next]);

    const actions = el("div", { className: "accord-rc-group" });
    const undo = this.button("↶", "Undo (Ctrl+Z)", { "data-action": "undo", "aria-label": "Undo" });
    const redo = this.button("↷", "Redo (Ctrl+Shift+Z)", { "data-action": "redo", "aria-label": "Redo" });
    const key = this.button("◆ Keyframe", "Store the selected track's cuboid on this sweep (K)", { "data-action": "keyframe" });
    this.othersButton = this.button("Others", "Show or hide other annotators' cuboids (read-only)", { "data-action": "toggle-others" });
    const helpButton = this.button("?", "Keyboard shortcuts", { "data-action": "help" });
    for (const [b, a] of [
      [undo, "undo"],
      [redo, "redo"],
      [key, "keyframe"],
      [this.othersButton, "toggle-others"],
      [helpButton, "help"],
    ] as [HTMLButtonElement, Action][]) {
      b.addEventListener("click", () => h.action(a));
    }
    actions.append(undo, redo, key, this.othersButton, helpButton);

    const toolbar = el("div", { className: "accord-rc-toolbar accord-cv-toolbar" }, [
      tools,
      el("span", { className: "accord-rc-sep" }),
      views,
      this.colorSelect,
      el("span", { className: "accord-rc-sep" }),
      sweep,
      el("span", { className: "accord-rc-spacer" }),
      actions,
    ]);
    this.chipBox = el("div", { className: "accord-rc-group accord-rc-classes" });

    this.canvas = el("canvas", { className: "accord-cloud-canvas", attrs: { tabindex: 0, "aria-label": "Point cloud" } });
    this.labels = el("div", { className: "accord-cv-labels" });
    this.stage = el("div", { className: "accord-cv-stage" }, [this.canvas, this.labels]);
    this.side = el("div", { className: "accord-rc-side" });
    const main = el("div", { className: "accord-rc-main" }, [this.stage, this.side]);

    this.help = el("div", { className: "accord-rc-help", attrs: { hidden: true } }, [
      el("div", { className: "accord-rc-help-grid" }, HELP.map(([k, t]) => el("div", { className: "accord-rc-help-row" }, [el("span", { className: "accord-rc-help-keys", text: k }), el("span", { text: t })]))),
    ]);
    this.status = el("span");
    this.hint = el("span", { className: "accord-rc-hint" });
    const status = el("div", { className: "accord-rc-status" }, [this.status, this.hint]);
    root.replaceChildren(this.alerts, toolbar, this.chipBox, main, this.help, status);
  }

  private button(text: string, title: string, attrs: Record<string, string>): HTMLButtonElement {
    return el("button", { className: "accord-rc-btn", text, title, attrs: { type: "button", ...attrs } });
  }

  setClasses(classes: readonly ClassSpec[]): void {
    this.chips = new Map();
    const nodes = classes.map((c) => {
      const b = el("button", { className: "accord-rc-btn accord-rc-chip", title: c.guidelines || c.name, attrs: { type: "button", "data-label": c.name } }, [labelChip(c.name, c.color)]);
      if (c.hotkey) b.append(el("span", { className: "accord-rc-key", text: c.hotkey }));
      b.style.setProperty("--accord-rc-chip-colour", c.color);
      b.addEventListener("click", () => this.h.label(c.name));
      this.chips.set(c.name, b);
      return b;
    });
    this.chipBox.replaceChildren(...nodes);
  }

  setState(s: { tool: Tool; view: ViewMode; colorBy: ColorBy; label: string; sweep: number; count: number; showOthers: boolean }): void {
    for (const [t, b] of this.toolButtons) b.classList.toggle("accord-rc-active", t === s.tool);
    for (const [v, b] of this.viewButtons) b.classList.toggle("accord-rc-active", v === s.view);
    for (const [n, b] of this.chips) b.classList.toggle("accord-rc-active", n === s.label);
    if (this.colorSelect.value !== s.colorBy) this.colorSelect.value = s.colorBy;
    if (this.root.ownerDocument.activeElement !== this.sweepInput) this.sweepInput.value = String(s.sweep);
    this.sweepInput.max = String(Math.max(0, s.count - 1));
    this.sweepTotal.textContent = `/ ${Math.max(0, s.count - 1)}`;
    this.othersButton.classList.toggle("accord-rc-active", s.showOthers);
  }

  setStatus(text: string, hint: string): void {
    if (this.status.textContent !== text) this.status.textContent = text;
    if (this.hint.textContent !== hint) this.hint.textContent = hint;
  }

  /** Stage 1: the kernel hides others' cuboids; disable the toggle and say so. */
  lockOthers(hidden: boolean): void {
    lockOthersToggle(this.othersButton, hidden);
  }

  toggleHelp(): void {
    this.help.hidden = !this.help.hidden;
  }

  detach(): void {
    this.root.replaceChildren();
  }
}
