/**
 * RegionCanvas: draw and edit boxes, rotated boxes, polygons and keypoints on
 * an image or one video frame. The anywidget entry point; the contract with
 * Python is docs/design/region-canvas.md.
 *
 * Modules: types (parsing), state (records + event reducers), tools (pure
 * gestures → geometry), edits (one update in flight per annotation), keys
 * (shortcuts), draw (canvas), toolbar + panel + style (DOM), view (wiring).
 */

import { RegionCanvasView, type StatsElement, type WidgetModel } from "./view.js";

export interface RenderProps {
  model: WidgetModel;
  el: HTMLElement;
}

function render({ model, el }: RenderProps): () => void {
  const view = new RegionCanvasView(model, el as StatsElement);
  return () => view.destroy();
}

export default { render };
