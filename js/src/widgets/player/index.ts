/**
 * Player: synchronized playback of an item's video and audio streams, with
 * waveforms, a time ruler, clock editors and the tiers part. The anywidget
 * entry point; design and protocol: docs/design/player.md.
 *
 * Modules: frames (frame identity from real frame times), sync (how an
 * element follows the clock), media (one element per stream), peaks
 * (waveform data), lanes (ruler and stream lanes), clockeditor (offset/drift
 * with live preview), timeview (the visible time window), types (traits),
 * view (wiring). The playhead is the page-wide `runtime/clock.ts`.
 */

import { type PlayerElement, PlayerView, type WidgetModel } from "./view.js";

export interface RenderProps {
  model: WidgetModel;
  el: HTMLElement;
}

function render({ model, el }: RenderProps): () => void {
  const view = new PlayerView(model, el as PlayerElement);
  return () => view.destroy();
}

export default { render };
