/**
 * The widget's DOM around the canvas: toolbar (tools, class chips, actions),
 * help panel, status line with frame navigation, and the layout holding the
 * canvas and the side panel. All data strings go through the runtime's
 * text-only helpers.
 */

import { lockOthersToggle } from "../../runtime/stage.js";
import { el, setAttr, setText } from "../../runtime/text.js";
import { shortcutHelp } from "./keys.js";
import { TOOLS, type ClassSpec, type Tool } from "./types.js";

export type Action = "undo" | "redo" | "fit" | "help" | "toggle-others" | "all-annotators";

export interface ToolbarHandlers {
  tool(tool: Tool): void;
  label(name: string): void;
  action(action: Action): void;
  /** Go to frame `n` (from the frame field). */
  frame(n: number): void;
  /** Step frames by `delta` (the ◀ / ▶ buttons). */
  frameStep(delta: number): void;
}

const TOOL_TEXT: Record<Tool, { icon: string; text: string; title: string }> = {
  select: { icon: "↖", text: "Select", title: "Select, move and resize; drag empty space to pan" },
  box: { icon: "▭", text: "Box", title: "Draw a box: drag" },
  rotated_box: { icon: "◇", text: "Rotated", title: "Draw a rotated box: drag, then turn it with its round handle or [ ]" },
  polygon: { icon: "⬠", text: "Polygon", title: "Draw a polygon: click vertices; double-click, Enter or click the first vertex to close" },
  keypoints: { icon: "⁘", text: "Keypoints", title: "Place keypoints: click one per keypoint name; Enter finishes early" },
};

export interface StatusInfo {
  zoom: number;
  cursor: { x: number; y: number } | null;
  count: number;
  hidden: number;
  hint: string;
}

/** The DOM of one widget view. */
export class Chrome {
  readonly root: HTMLElement;
  /** Where error banners go. */
  readonly alerts: HTMLDivElement;
  readonly stage: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  /** The side panel (selected annotation); filled by panel.ts. */
  readonly side: HTMLDivElement;
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>();
  private readonly chipBox: HTMLDivElement;
  private chips = new Map<string, HTMLButtonElement>();
  private readonly othersButton: HTMLButtonElement;
  private readonly filterBox: HTMLSpanElement;
  private readonly filterText: HTMLSpanElement;
  private readonly helpButton: HTMLButtonElement;
  private readonly help: HTMLDivElement;
  private readonly frameBox: HTMLSpanElement;
  private readonly frameInput: HTMLInputElement;
  private readonly frameTotal: HTMLSpanElement;
  private readonly zoomText: HTMLSpanElement;
  private readonly cursorText: HTMLSpanElement;
  private readonly countText: HTMLSpanElement;
  private readonly hintText: HTMLSpanElement;

  /**
   * Build the widget inside `root` (anywidget's element), which becomes the
   * test-hook root: class `accord-region-canvas`, data-* attributes.
   */
  constructor(
    root: HTMLElement,
    private readonly handlers: ToolbarHandlers,
  ) {
    this.root = root;
    root.classList.add("accord-region-canvas", "accord-rc-root");
    // JupyterLab: keys typed in the widget are not notebook shortcuts.
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    this.alerts = el("div", { className: "accord-rc-alerts" });

    const tools = el("div", { className: "accord-rc-group accord-rc-tools", attrs: { role: "toolbar", "aria-label": "Tools" } });
    for (const tool of TOOLS) {
      const t = TOOL_TEXT[tool];
      const b = this.button(`${t.icon} ${t.text}`, t.title, { "data-tool": tool, "aria-pressed": "false" });
      b.addEventListener("click", () => this.handlers.tool(tool));
      this.toolButtons.set(tool, b);
      tools.append(b);
    }

    this.chipBox = el("div", { className: "accord-rc-group accord-rc-classes", attrs: { "aria-label": "Classes" } });

    const actions = el("div", { className: "accord-rc-group accord-rc-actions" });
    const undo = this.button("↶", "Undo (Ctrl+Z)", { "data-action": "undo", "aria-label": "Undo" });
    const redo = this.button("↷", "Redo (Ctrl+Shift+Z, Ctrl+Y)", { "data-action": "redo", "aria-label": "Redo" });
    const fit = this.button("⤢ Fit", "Fit the image (0)", { "data-action": "fit" });
    this.othersButton = this.button("Others", "Show or hide other annotators' annotations (dashed, read-only)", {
      "data-action": "toggle-others",
      "aria-pressed": "false",
    });
    this.helpButton = this.button("?", "Keyboard shortcuts (?)", {
      "data-action": "help",
      "aria-expanded": "false",
      "aria-label": "Keyboard shortcuts",
    });
    const wire: [HTMLButtonElement, Action][] = [
      [undo, "undo"],
      [redo, "redo"],
      [fit, "fit"],
      [this.othersButton, "toggle-others"],
      [this.helpButton, "help"],
    ];
    for (const [b, a] of wire) b.addEventListener("click", () => this.handlers.action(a));
    actions.append(undo, redo, fit, this.othersButton, this.helpButton);

    // The annotator filter (the `annotators` trait), shown only while one is set.
    this.filterText = el("span", { className: "accord-rc-filter-names" });
    const everyone = this.button("✕", "Show every annotator's annotations", {
      "data-action": "all-annotators",
      "aria-label": "Show every annotator",
    });
    everyone.addEventListener("click", () => this.handlers.action("all-annotators"));
    this.filterBox = el("span", { className: "accord-rc-filter", attrs: { hidden: true } }, [
      "only ",
      this.filterText,
      everyone,
    ]);

    const toolbar = el("div", { className: "accord-rc-toolbar" }, [
      tools,
      el("span", { className: "accord-rc-sep" }),
      this.chipBox,
      el("span", { className: "accord-rc-spacer" }),
      this.filterBox,
      actions,
    ]);

    this.help = el("div", { className: "accord-rc-help", attrs: { hidden: true } });

    this.canvas = el("canvas", { className: "accord-canvas", attrs: { tabindex: 0, "aria-label": "Annotation canvas" } });
    this.canvas.tabIndex = 0;
    this.stage = el("div", { className: "accord-rc-stage" }, [this.canvas]);
    this.side = el("div", { className: "accord-rc-side", attrs: { "aria-label": "Selected annotation" } });
    const main = el("div", { className: "accord-rc-main" }, [this.stage, this.side]);

    // Status line: frame navigation, zoom, cursor, count, hint.
    const prev = this.button("◀", "Previous frame (←)", { "data-action": "prev-frame", "aria-label": "Previous frame" });
    const next = this.button("▶", "Next frame (→)", { "data-action": "next-frame", "aria-label": "Next frame" });
    prev.addEventListener("click", () => this.handlers.frameStep(-1));
    next.addEventListener("click", () => this.handlers.frameStep(1));
    this.frameInput = el("input", {
      className: "accord-rc-frame-input",
      attrs: { type: "number", min: 0, step: 1, "aria-label": "Frame" },
    });
    this.frameInput.addEventListener("change", () => {
      const n = Number(this.frameInput.value);
      if (this.frameInput.value !== "" && Number.isFinite(n)) this.handlers.frame(Math.trunc(n));
    });
    this.frameInput.addEventListener("keydown", (e) => e.stopPropagation());
    this.frameTotal = el("span", { className: "accord-rc-frame-total" });
    this.frameBox = el("span", { className: "accord-rc-frame", attrs: { hidden: true } }, [
      "frame ",
      prev,
      this.frameInput,
      this.frameTotal,
      next,
    ]);
    this.zoomText = el("span", { className: "accord-rc-zoom" });
    this.cursorText = el("span", { className: "accord-rc-cursor" });
    this.countText = el("span", { className: "accord-rc-count" });
    this.hintText = el("span", { className: "accord-rc-hint", attrs: { "aria-live": "polite" } });
    const status = el("div", { className: "accord-rc-status" }, [
      this.frameBox,
      this.zoomText,
      this.cursorText,
      this.countText,
      this.hintText,
    ]);

    root.replaceChildren(this.alerts, toolbar, this.help, main, status);
  }

  /** Undo what the constructor did to the root element. */
  detach(): void {
    this.root.replaceChildren();
    this.root.classList.remove("accord-region-canvas", "accord-rc-root");
    this.root.removeAttribute("data-lm-suppress-shortcuts");
    this.root.removeAttribute("data-annotators");
  }

  private button(text: string, title: string, attrs: Record<string, string>): HTMLButtonElement {
    return el("button", { className: "accord-rc-btn", text, title, attrs: { type: "button", ...attrs } });
  }

  setTool(tool: Tool, available: (tool: Tool) => boolean): void {
    for (const [t, b] of this.toolButtons) {
      const active = t === tool;
      b.classList.toggle("accord-rc-active", active);
      b.setAttribute("aria-pressed", String(active));
      b.disabled = !available(t) && !active;
    }
  }

  /** Rebuild the class chips (when the classes change). */
  setClasses(classes: readonly ClassSpec[]): void {
    this.chips = new Map();
    const nodes: HTMLButtonElement[] = [];
    for (const c of classes) {
      const swatch = el("span", { className: "accord-rc-swatch" });
      Object.assign(swatch.style, {
        display: "inline-block",
        width: "0.8em",
        height: "0.8em",
        borderRadius: "2px",
        background: c.color,
      });
      const parts: (Node | string)[] = [swatch, el("span", { className: "accord-rc-chip-name", text: c.name })];
      if (c.hotkey) parts.push(el("kbd", { className: "accord-rc-key", text: c.hotkey }));
      const title = c.hotkey ? `${c.name} (key ${c.hotkey})` : c.name;
      const chip = el(
        "button",
        {
          className: "accord-rc-btn accord-rc-chip",
          title: c.guidelines ? `${title}\n${c.guidelines}` : title,
          attrs: { type: "button", "data-label": c.name, "aria-pressed": "false" },
        },
        parts,
      );
      chip.style.setProperty("--accord-rc-chip-colour", c.color);
      chip.addEventListener("click", () => this.handlers.label(c.name));
      this.chips.set(c.name, chip);
      nodes.push(chip);
    }
    this.chipBox.replaceChildren(...nodes);
    if (classes.length === 0) {
      this.chipBox.append(el("span", { className: "accord-rc-muted", text: "no classes for this stream" }));
    }
  }

  /** Highlight the current class; dim classes that do not allow the current tool's geometry. */
  setLabel(label: string, allowed: (name: string) => boolean): void {
    for (const [name, chip] of this.chips) {
      const active = name === label;
      chip.classList.toggle("accord-rc-active", active);
      chip.setAttribute("aria-pressed", String(active));
      chip.classList.toggle("accord-rc-unavailable", !allowed(name));
    }
  }

  /** Stage 1: the kernel hides others' labels; disable the toggle and say so. */
  lockOthers(hidden: boolean): void {
    lockOthersToggle(this.othersButton, hidden);
  }

  setShowOthers(show: boolean): void {
    this.othersButton.classList.toggle("accord-rc-active", show);
    this.othersButton.setAttribute("aria-pressed", String(show));
  }

  /** Show the annotator filter (names as text), or hide it when `annotators` is empty. */
  setFilter(annotators: readonly string[]): void {
    this.filterBox.hidden = annotators.length === 0;
    setIfChanged(this.filterText, annotators.join(", "));
    setAttr(this.root, "data-annotators", annotators.length ? annotators.join(",") : null);
  }

  get helpVisible(): boolean {
    return !this.help.hidden;
  }

  setHelp(visible: boolean, video: boolean, classes: readonly ClassSpec[]): void {
    this.help.hidden = !visible;
    this.helpButton.classList.toggle("accord-rc-active", visible);
    this.helpButton.setAttribute("aria-expanded", String(visible));
    if (!visible) return;
    const row = (keys: string, what: string): HTMLDivElement =>
      el("div", { className: "accord-rc-help-row" }, [
        el("kbd", { className: "accord-rc-help-keys", text: keys }),
        el("span", { text: what }),
      ]);
    const rows = shortcutHelp(video).map((r) => row(r.keys, r.what));
    for (const c of classes) if (c.hotkey) rows.push(row(c.hotkey, `class “${c.name}”`));
    this.help.replaceChildren(
      el("div", {}, [
        el("strong", { text: "Keyboard shortcuts" }),
        el("span", { className: "accord-rc-muted", text: " — they work while the canvas has focus (click it)" }),
      ]),
      el("div", { className: "accord-rc-help-grid" }, rows),
    );
  }

  /** Show the frame field for video (`frame` not null), hide it for images. */
  setFrame(frame: number | null, count: number | null): void {
    this.frameBox.hidden = frame === null;
    if (frame === null) return;
    const value = String(frame);
    if (this.frameInput.ownerDocument.activeElement !== this.frameInput && this.frameInput.value !== value) {
      this.frameInput.value = value;
    }
    const max = count !== null ? String(Math.max(0, count - 1)) : null;
    if (this.frameInput.getAttribute("max") !== max) setAttr(this.frameInput, "max", max);
    setIfChanged(this.frameTotal, count !== null ? `/ ${count}` : "");
  }

  /** Update the status line; unchanged parts are not touched (it runs on every pointer move). */
  setStatus(s: StatusInfo): void {
    setIfChanged(this.zoomText, `zoom ${Math.round(s.zoom * 100)}%`);
    setIfChanged(this.cursorText, s.cursor ? `x ${s.cursor.x.toFixed(1)}, y ${s.cursor.y.toFixed(1)}` : "");
    const n = `${s.count} annotation${s.count === 1 ? "" : "s"}`;
    setIfChanged(this.countText, s.hidden > 0 ? `${n} (${s.hidden} hidden)` : n);
    setIfChanged(this.hintText, s.hint);
  }
}

function setIfChanged(node: HTMLElement, text: string): void {
  if (node.textContent !== text) setText(node, text);
}
