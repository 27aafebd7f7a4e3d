/** EntityPanel's stylesheet (classes `accord-ep-*`), injected once per document. */

const STYLE_ID = "accord-ep-style-v1";

const CSS = `
.accord-ep-root {
  font-family: var(--jp-ui-font-family, sans-serif); font-size: var(--jp-ui-font-size1, 13px);
  color: var(--jp-ui-font-color1, #222);
}
.accord-ep-toolbar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin-bottom: 4px; }
.accord-ep-btn {
  font: inherit; padding: 2px 8px; cursor: pointer; border-radius: 3px;
  border: 1px solid var(--jp-border-color1, #bdbdbd); background: var(--jp-layout-color1, #fff);
  color: inherit;
}
.accord-ep-btn:disabled { opacity: 0.45; cursor: default; }
.accord-ep-btn.accord-ep-small { padding: 0 5px; font-size: 0.9em; }
.accord-ep-status { color: var(--jp-ui-font-color2, #666); margin-left: 6px; }
.accord-ep-list {
  overflow: auto; border: 1px solid var(--jp-border-color2, #e0e0e0); border-radius: 2px;
  background: var(--jp-layout-color0, #fff);
}
.accord-ep-empty { padding: 8px; color: var(--jp-ui-font-color2, #666); }
.accord-ep-entity { border-bottom: 1px solid var(--jp-border-color2, #e0e0e0); }
.accord-ep-row, .accord-ep-member {
  display: flex; flex-wrap: wrap; gap: 2px 6px; align-items: center; padding: 2px 6px; white-space: nowrap;
}
.accord-ep-row > *, .accord-ep-member > * { flex: 0 0 auto; }
.accord-ep-row .accord-ep-name { flex: 1 1 auto; min-width: 4em; overflow: hidden; text-overflow: ellipsis; font-weight: 600; }
.accord-ep-member { padding-left: 32px; font-size: 0.95em; }
.accord-ep-member .accord-ep-where { flex: 1 1 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis; }
.accord-ep-muted { color: var(--jp-ui-font-color2, #666); }
.accord-ep-mono { font-family: var(--jp-code-font-family, monospace); }
.accord-ep-hover { background: #fff3c4; }
.accord-ep-ticked { background: #e3f2fd; }
.accord-ep-hover.accord-ep-ticked { background: #fde9a6; }
.accord-ep-swatch { display: inline-block; width: 0.75em; height: 0.75em; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
.accord-ep-rename { font: inherit; min-width: 8em; }
`;

/** Add the stylesheet to `doc` once. */
export function injectStyle(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.append(style);
}
