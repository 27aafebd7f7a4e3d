/**
 * CloudViewer: a LiDAR sweep in three.js with cuboids (draw, move, resize,
 * turn), tracks interpolated between keyframes and camera frustums. The
 * anywidget entry point; the contract with Python is
 * docs/design/cloud-viewer.md.
 *
 * Modules: tracks (interpolation, mirrored in Python), cuboid (pure
 * geometry and handle edits), colors (restyling), camera (orbit and
 * orthographic views), edits (one update in flight per annotation), ui
 * (DOM), view (wiring).
 */

import { CloudViewerView, type WidgetModel } from "./view.js";

export interface RenderProps {
  model: WidgetModel;
  el: HTMLElement;
}

function render({ model, el }: RenderProps): () => void {
  const view = new CloudViewerView(model, el);
  return () => view.destroy();
}

export default { render };
