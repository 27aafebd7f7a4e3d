/**
 * The widget's stylesheet, injected once per document. Every class starts
 * with `accord-rc-`; colours follow JupyterLab's theme variables when present.
 */

const STYLE_ID = "accord-rc-style-v2";

const CSS = `
.accord-rc-root {
  font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  font-size: var(--jp-ui-font-size1, 13px);
  color: var(--jp-ui-font-color1, #222);
  background: var(--jp-layout-color1, #fff);
  border: 1px solid var(--jp-border-color1, #ccc);
  border-radius: 4px;
  padding: 4px;
  box-sizing: border-box;
  display: flex;
  flex-direction: column;
  gap: 4px;
  min-width: 0;
}
.accord-rc-root *, .accord-rc-root *::before, .accord-rc-root *::after { box-sizing: border-box; }
.accord-rc-toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; }
.accord-rc-group { display: flex; flex-wrap: wrap; align-items: center; gap: 2px; }
.accord-rc-spacer { flex: 1 1 auto; }
.accord-rc-sep { width: 1px; align-self: stretch; background: var(--jp-border-color2, #e0e0e0); margin: 0 2px; }
.accord-rc-btn {
  font: inherit; color: inherit; line-height: 1.2;
  background: var(--jp-layout-color2, #f3f3f3);
  border: 1px solid var(--jp-border-color2, #d6d6d6);
  border-radius: 3px; padding: 2px 7px; cursor: pointer; white-space: nowrap;
}
.accord-rc-btn:hover { background: var(--jp-layout-color3, #e6e6e6); }
.accord-rc-btn:focus-visible { outline: 2px solid var(--jp-brand-color1, #1976d2); outline-offset: 1px; }
.accord-rc-btn.accord-rc-active {
  background: var(--jp-brand-color1, #1976d2); border-color: var(--jp-brand-color1, #1976d2); color: #fff;
}
.accord-rc-btn[disabled] { opacity: 0.45; cursor: default; }
.accord-rc-chip { display: inline-flex; align-items: center; gap: 3px; }
.accord-rc-chip.accord-rc-active {
  background: var(--jp-layout-color1, #fff); color: var(--jp-ui-font-color1, #222);
  border-color: var(--accord-rc-chip-colour, #1976d2); box-shadow: inset 0 0 0 1px var(--accord-rc-chip-colour, #1976d2);
}
.accord-rc-chip.accord-rc-unavailable { opacity: 0.5; }
.accord-rc-key {
  font-family: var(--jp-code-font-family, monospace); font-size: 0.85em;
  border: 1px solid var(--jp-border-color2, #ccc); border-radius: 2px; padding: 0 3px;
  color: var(--jp-ui-font-color2, #666); background: var(--jp-layout-color1, #fff);
}
.accord-rc-alerts:empty { display: none; }
.accord-rc-main { display: flex; flex-wrap: wrap; gap: 4px; align-items: stretch; }
.accord-rc-stage {
  position: relative; flex: 1 1 320px; min-width: 0; overflow: hidden;
  background: #2f2f2f; border-radius: 2px;
}
.accord-rc-stage canvas.accord-canvas {
  display: block; width: 100%; border: 0; padding: 0; margin: 0; outline: none; touch-action: none;
}
.accord-rc-stage:focus-within { box-shadow: 0 0 0 2px var(--jp-brand-color1, #1976d2); }
.accord-rc-side {
  flex: 0 0 210px; max-width: 100%; display: flex; flex-direction: column; gap: 6px;
  border-left: 1px solid var(--jp-border-color2, #e0e0e0); padding: 2px 2px 2px 8px; overflow: auto;
}
.accord-rc-side h4 { margin: 0; font-size: 1em; font-weight: 600; }
.accord-rc-muted { color: var(--jp-ui-font-color2, #777); }
.accord-rc-field { display: flex; flex-direction: column; gap: 2px; }
.accord-rc-field > span { color: var(--jp-ui-font-color2, #666); font-size: 0.92em; }
.accord-rc-field input[type="text"], .accord-rc-field input[type="number"], .accord-rc-field select {
  font: inherit; color: inherit; background: var(--jp-layout-color1, #fff);
  border: 1px solid var(--jp-border-color1, #ccc); border-radius: 2px; padding: 1px 4px; width: 100%;
}
.accord-rc-check { display: flex; align-items: center; gap: 4px; }
.accord-rc-meta { font-size: 0.9em; color: var(--jp-ui-font-color2, #777); word-break: break-all; }
.accord-rc-help {
  border: 1px solid var(--jp-border-color2, #e0e0e0); border-radius: 3px; padding: 4px 8px;
  background: var(--jp-layout-color2, #f7f7f7);
}
.accord-rc-help[hidden] { display: none; }
.accord-rc-help-grid {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 1px 18px; margin-top: 3px;
}
.accord-rc-help-row { display: flex; gap: 8px; align-items: baseline; }
.accord-rc-help-keys {
  flex: 0 0 12.5em; font-family: var(--jp-code-font-family, monospace); font-size: 0.9em;
  color: var(--jp-ui-font-color1, #333);
}
.accord-rc-status {
  display: flex; flex-wrap: wrap; align-items: center; gap: 10px;
  font-size: 0.92em; color: var(--jp-ui-font-color2, #666); min-height: 1.6em;
}
.accord-rc-status .accord-rc-hint { flex: 1 1 auto; text-align: right; color: var(--jp-ui-font-color1, #333); }
.accord-rc-filter { display: inline-flex; align-items: center; gap: 3px; color: var(--jp-ui-font-color2, #666); }
.accord-rc-filter[hidden] { display: none; }
.accord-rc-filter-names { color: var(--jp-ui-font-color1, #222); font-weight: 600; }
.accord-rc-frame { display: inline-flex; align-items: center; gap: 3px; }
.accord-rc-frame[hidden] { display: none; }
.accord-rc-frame input { width: 5.5em; font: inherit; color: inherit; background: var(--jp-layout-color1, #fff);
  border: 1px solid var(--jp-border-color1, #ccc); border-radius: 2px; padding: 0 3px; }
`;

/** Add the stylesheet to `doc` unless it is already there. */
export function injectStyle(doc: Document = document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  (doc.head ?? doc.documentElement).append(style);
}
