/** Scoped CSS of the tiers (static text; nothing from data goes in here). */

export const TIER_HEADER_WIDTH = 140;
export const LANE_HEIGHT = 26;

export const TIERS_CSS = `
.accord-tiers { position: relative; font-family: var(--jp-ui-font-family, sans-serif);
  font-size: var(--jp-ui-font-size1, 12px); color: var(--jp-ui-font-color1, #222); outline: none; }
.accord-tiers:focus-visible { box-shadow: 0 0 0 1px var(--jp-brand-color1, #1976d2) inset; }
.accord-tiers-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; padding: 2px 0; }
.accord-tiers-bar button { font: inherit; padding: 1px 6px; border: 1px solid #bbb; border-radius: 3px;
  background: var(--jp-layout-color1, #fff); color: inherit; cursor: pointer; }
.accord-tiers-bar button[aria-pressed="true"] { border-color: #1976d2; box-shadow: 0 0 0 1px #1976d2 inset; }
.accord-tiers-bar button:disabled { opacity: 0.45; cursor: default; }
.accord-tiers-hotkey { opacity: 0.6; margin-left: 3px; }
.accord-tiers-panel { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; min-height: 22px;
  padding: 2px 0; }
.accord-tiers-panel-info { white-space: pre; }
.accord-tiers-lanes { position: relative; }
.accord-tier { display: flex; height: ${LANE_HEIGHT}px; border-top: 1px solid var(--jp-border-color2, #e0e0e0); }
.accord-tier[data-selected-tier="true"] .accord-tier-header { font-weight: bold; }
.accord-tier-header { flex: 0 0 ${TIER_HEADER_WIDTH}px; width: ${TIER_HEADER_WIDTH}px; overflow: hidden;
  white-space: nowrap; text-overflow: ellipsis; padding: 0 4px; box-sizing: border-box;
  line-height: ${LANE_HEIGHT}px; background: var(--jp-layout-color2, #f3f3f3); }
.accord-tier-area { position: relative; overflow: hidden; flex: 0 0 auto; height: ${LANE_HEIGHT}px;
  cursor: crosshair; background: var(--jp-layout-color1, #fff); touch-action: none; user-select: none; }
.accord-seg { position: absolute; top: 2px; height: ${LANE_HEIGHT - 4}px; box-sizing: border-box;
  border: 1px solid; border-radius: 2px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis;
  line-height: ${LANE_HEIGHT - 6}px; padding: 0 3px; cursor: grab; }
.accord-seg[data-readonly="true"] { border-style: dashed; opacity: 0.55; cursor: pointer; }
.accord-seg[data-selected="true"] { box-shadow: 0 0 0 2px #1976d2; z-index: 2; }
.accord-seg[data-pending="true"] { opacity: 0.7; }
.accord-seg-ghost { position: absolute; top: 2px; height: ${LANE_HEIGHT - 4}px; box-sizing: border-box;
  border: 1px dashed #1976d2; background: rgba(25, 118, 210, 0.15); pointer-events: none; }
.accord-tiers-drag-label { position: absolute; top: 0; font-size: 10px; background: rgba(255,255,255,0.85);
  padding: 0 2px; pointer-events: none; white-space: nowrap; z-index: 3; }
.accord-tiers-playhead { position: absolute; top: 0; bottom: 0; width: 0; border-left: 1px solid #d32f2f;
  pointer-events: none; z-index: 4; }
.accord-tiers-editor { position: absolute; top: 1px; height: ${LANE_HEIGHT - 2}px; min-width: 180px; z-index: 5;
  font: inherit; box-sizing: border-box; }
.accord-tiers-menu { position: absolute; z-index: 6; display: flex; flex-direction: column;
  background: var(--jp-layout-color1, #fff); border: 1px solid #999; box-shadow: 0 2px 6px rgba(0,0,0,0.25); }
.accord-tiers-menu button { font: inherit; text-align: left; border: none; background: none; padding: 2px 8px;
  cursor: pointer; color: inherit; }
.accord-tiers-menu button:hover { background: rgba(25, 118, 210, 0.12); }
.accord-tiers-empty { padding: 4px; opacity: 0.7; }
`;
