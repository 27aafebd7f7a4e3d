/**
 * TextAnnotator's stylesheet (classes `accord-ta-*`), injected once per
 * document next to RegionCanvas's `accord-rc-*` sheet it reuses for the
 * toolbar, chips, side panel and help.
 */

const STYLE_ID = "accord-ta-style-v1";

const CSS = `
.accord-ta-main { display: flex; flex-wrap: wrap; gap: 4px; align-items: stretch; }
.accord-ta-text {
  flex: 1 1 360px; min-width: 0; overflow: auto; outline: none;
  font-family: var(--jp-content-font-family, system-ui, sans-serif);
  font-size: var(--jp-content-font-size1, 14px);
  line-height: 2.1; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext;
  border: 1px solid var(--jp-border-color2, #e0e0e0); border-radius: 2px; padding: 4px 8px;
  background: var(--jp-layout-color0, #fff); tab-size: 4;
}
.accord-ta-text:focus-visible { box-shadow: 0 0 0 2px var(--jp-brand-color1, #1976d2); }
.accord-ta-row { display: flex; gap: 8px; align-items: baseline; }
.accord-ta-segmented .accord-ta-row { border-bottom: 1px dotted var(--jp-border-color3, #eee); }
.accord-ta-line { flex: 1 1 auto; min-width: 0; unicode-bidi: plaintext; }
.accord-ta-gutter {
  flex: 0 0 auto; display: flex; flex-wrap: wrap; gap: 3px; align-items: baseline; max-width: 40%;
  user-select: none; -webkit-user-select: none; white-space: nowrap;
  font-family: var(--jp-ui-font-family, sans-serif); font-size: 0.85em; color: var(--jp-ui-font-color2, #666);
  line-height: 1.5;
}
.accord-ta-time { font-family: var(--jp-code-font-family, monospace); }
.accord-ta-speaker { font-weight: 600; }
.accord-ta-gutter select { font: inherit; max-width: 7em; }
.accord-ta-segchip { padding: 0 4px; border-width: 2px; }
.accord-ta-gap { display: none; }
.accord-ta-piece.accord-ta-spanned { cursor: pointer; border-radius: 2px; background-repeat: no-repeat; }
.accord-ta-piece.accord-ta-hover { outline: 2px solid #ffb300; }
.accord-ta-piece.accord-ta-sel { outline: 2px solid var(--jp-brand-color1, #1976d2); }
.accord-ta-piece.accord-ta-source { outline: 2px dashed #d81b60; }
.accord-ta-doc { display: flex; flex-wrap: wrap; gap: 3px; align-items: center; }
.accord-ta-doc[hidden] { display: none; }
.accord-ta-doc-title { color: var(--jp-ui-font-color2, #666); margin-right: 4px; }
.accord-ta-doc-other { color: var(--jp-ui-font-color2, #777); font-style: italic; }
.accord-ta-side { gap: 8px; }
.accord-ta-swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; }
.accord-ta-quote {
  font-family: var(--jp-content-font-family, sans-serif); white-space: pre-wrap; overflow-wrap: anywhere;
  border-left: 3px solid var(--jp-border-color1, #ccc); padding-left: 6px; unicode-bidi: plaintext;
}
.accord-ta-linkmenu {
  display: flex; flex-direction: column; gap: 3px; padding: 4px; border: 1px solid #d81b60; border-radius: 3px;
}
.accord-ta-linkmenu[hidden] { display: none; }
.accord-ta-relations { display: flex; flex-direction: column; gap: 2px; }
.accord-ta-rel { font-size: 0.92em; overflow-wrap: anywhere; }
.accord-ta-rel-type { color: var(--jp-ui-font-color2, #666); }
.accord-ta-rel .accord-rc-btn { padding: 0 5px; margin-left: 4px; }
.accord-ta-status { flex: 1 1 auto; }
`;

/** Add the stylesheet to `doc` unless it is already there. */
export function injectStyle(doc: Document = document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  (doc.head ?? doc.documentElement).append(style);
}
