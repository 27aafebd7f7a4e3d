/**
 * EntityPanel: every entity of an item with its members across modalities
 * and time; merge, split, rename, delete, undo/redo; hover and "go to" on
 * the item's in-page bus. The anywidget entry point; the contract with
 * Python is docs/design/entity-panel.md.
 *
 * Modules: model (snapshot parsing, merge/split rules, reveal payload,
 * formatting; pure), view (DOM and wiring), style.
 */

import { EntityPanelView, type WidgetModel } from "./view.js";

export type { BusRef, EntityRow, Member, Reveal } from "./model.js";

export interface RenderProps {
  model: WidgetModel;
  el: HTMLElement;
}

function render({ model, el }: RenderProps): () => void {
  const view = new EntityPanelView(model, el);
  return () => view.destroy();
}

export default { render };
