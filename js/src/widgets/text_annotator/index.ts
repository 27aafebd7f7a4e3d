/**
 * TextAnnotator: labeled spans, document and segment classes and span
 * relations on a transcript or document. The anywidget entry point; the
 * contract with Python is docs/design/text-annotator.md.
 *
 * Modules: offsets (UTF-16 ↔ code points, graphemes, trimming; mirrors
 * accord.model.text), model (records, links, segments, pieces, levels),
 * view (DOM and wiring), style. The side panel (class and attribute editor)
 * and the edit queue are RegionCanvas's.
 */

import { TextAnnotatorView, type HookElement, type WidgetModel } from "./view.js";

export interface RenderProps {
  model: WidgetModel;
  el: HTMLElement;
}

function render({ model, el }: RenderProps): () => void {
  const view = new TextAnnotatorView(model, el as HookElement);
  return () => view.destroy();
}

export default { render };
