/**
 * Workbench header: the item, annotator and stage, and the keyboard map that
 * `?` shows (one overlay listing each view's keys, as text). The Workbench
 * itself is an ipywidgets container of the other views (python:
 * accord/widgets/workbench.py); this widget only listens for `?` and `Esc`
 * on its container (`.accord-workbench`), in the capture phase so that the
 * combined map replaces a view's own `?` panel inside the Workbench.
 */

import { el } from "../../runtime/text.js";

interface Model {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, handler: () => void): void;
  off(event: string, handler: () => void): void;
}

interface RenderProps {
  model: Model;
  el: HTMLElement;
}

interface Section {
  view: string;
  keys: [string, string][];
}

const STYLE_ID = "accord-workbench-style";
const CSS = `
.accord-wb-header { display: flex; align-items: center; gap: 10px; padding: 4px 6px;
  font: 13px var(--jp-ui-font-family, sans-serif); color: var(--jp-ui-font-color1, #222);
  border-bottom: 1px solid var(--jp-border-color2, #ddd); }
.accord-wb-title { font-weight: 600; }
.accord-wb-hint { font-style: italic; opacity: 0.75; }
.accord-wb-spacer { flex: 1; }
.accord-wb-btn { font: inherit; padding: 2px 8px; cursor: pointer; border-radius: 3px;
  border: 1px solid var(--jp-border-color1, #bbb); background: var(--jp-layout-color1, #fff);
  color: inherit; }
.accord-wb-root { position: relative; }
.accord-wb-overlay { position: absolute; top: 100%; left: 0; right: 0; z-index: 1000;
  display: flex; justify-content: center; }
.accord-wb-overlay[hidden] { display: none; }
.accord-wb-map { width: min(960px, 100%); max-height: 70vh; overflow: auto; padding: 10px 16px;
  background: var(--jp-layout-color0, #fff); color: var(--jp-ui-font-color1, #222);
  border: 1px solid var(--jp-border-color1, #bbb); border-radius: 6px;
  box-shadow: 0 4px 24px rgba(0, 0, 0, 0.3); font: 12px var(--jp-ui-font-family, sans-serif); }
.accord-wb-maphead { display: flex; align-items: center; gap: 8px; margin-bottom: 8px; }
.accord-wb-maphead h3 { margin: 0; flex: 1; font-size: 14px; }
.accord-wb-cols { columns: 2 320px; column-gap: 24px; }
.accord-wb-section { break-inside: avoid; margin-bottom: 10px; }
.accord-wb-section h4 { margin: 0 0 4px; font-size: 12px; }
.accord-wb-row { display: grid; grid-template-columns: 11em 1fr; gap: 6px; padding: 1px 0; }
.accord-wb-row kbd { font: 11px var(--jp-code-font-family, monospace); }
`;

function injectStyle(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.append(style);
}

function sections(value: unknown): Section[] {
  if (!Array.isArray(value)) return [];
  const out: Section[] = [];
  for (const s of value) {
    if (typeof s !== "object" || s === null) continue;
    const view = (s as { view?: unknown }).view;
    const keys = (s as { keys?: unknown }).keys;
    if (typeof view !== "string" || !Array.isArray(keys)) continue;
    const rows = keys.filter((k): k is [string, string] => Array.isArray(k) && typeof k[0] === "string" && typeof k[1] === "string");
    out.push({ view, keys: rows });
  }
  return out;
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target.isContentEditable;
}

function render({ model, el: root }: RenderProps): () => void {
  injectStyle(root.ownerDocument);
  root.dataset.accordWorkbenchKeys = "";
  root.classList.add("accord-wb-root");
  const title = el("span", { className: "accord-wb-title" });
  const hint = el("span", { className: "accord-wb-hint", attrs: { "data-accord-stage-hint": "" } });
  const button = el("button", { className: "accord-wb-btn", text: "⌨ Keys (?)", title: "Keyboard map of every view (?)", attrs: { type: "button", "data-action": "keys" } });
  const header = el("div", { className: "accord-wb-header" }, [title, hint, el("span", { className: "accord-wb-spacer" }), button]);
  const map = el("div", { className: "accord-wb-map", attrs: { role: "dialog", "aria-label": "Keyboard map" } });
  const overlay = el("div", { className: "accord-wb-overlay", attrs: { hidden: "", "data-accord-keymap": "" } }, [map]);
  const close = el("button", { className: "accord-wb-btn", text: "×", title: "Close (Esc)", attrs: { type: "button", "data-action": "close-keys" } });
  root.replaceChildren(header, overlay);

  const setOpen = (open: boolean): void => {
    if ((model.get("shown") === true) === open) return;
    model.set("shown", open);
    model.save_changes();
  };
  const draw = (): void => {
    title.textContent = String(model.get("title") ?? "");
    const h = String(model.get("hint") ?? "");
    hint.textContent = h;
    hint.hidden = h === "";
    const heading = el("div", { className: "accord-wb-maphead" }, [el("h3", { text: "Keyboard map — click a view first; its keys act on it" }), close]);
    const cols = el(
      "div",
      { className: "accord-wb-cols" },
      sections(model.get("keymap")).map((s) =>
        el("div", { className: "accord-wb-section", attrs: { "data-view": s.view } }, [
          el("h4", { text: s.view }),
          ...s.keys.map(([k, what]) => el("div", { className: "accord-wb-row" }, [el("kbd", { text: k }), el("span", { text: what })])),
        ]),
      ),
    );
    map.replaceChildren(heading, cols);
    const open = model.get("shown") === true;
    overlay.hidden = !open;
    root.dataset.open = String(open);
  };
  draw();

  button.addEventListener("click", () => setOpen(model.get("shown") !== true));
  close.addEventListener("click", () => setOpen(false));
  const onKey = (e: KeyboardEvent): void => {
    if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "?") setOpen(model.get("shown") !== true);
    else if (e.key === "Escape" && model.get("shown") === true) setOpen(false);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  // The container is an ancestor of every view; it exists once this view is attached.
  let container: HTMLElement | null = null;
  const attach = (): void => {
    const found = root.closest<HTMLElement>(".accord-workbench") ?? root;
    if (found === container) return;
    container?.removeEventListener("keydown", onKey, true);
    container = found;
    container.addEventListener("keydown", onKey, true);
  };
  attach();
  const timer = window.setInterval(attach, 500);
  const docKey = (e: KeyboardEvent): void => {
    if (e.key === "Escape" && model.get("shown") === true) setOpen(false);
  };
  root.ownerDocument.addEventListener("keydown", docKey);

  const names = ["title", "hint", "keymap", "shown"];
  for (const n of names) model.on(`change:${n}`, draw);
  return () => {
    window.clearInterval(timer);
    container?.removeEventListener("keydown", onKey, true);
    root.ownerDocument.removeEventListener("keydown", docKey);
    for (const n of names) model.off(`change:${n}`, draw);
  };
}

export default { render };
