/**
 * Stage 1 of the layered protocol in the page: when the model's `hide_others`
 * is true the kernel sends only the annotator's own labels, and the view's
 * "Others" toggle is disabled with a text hint saying why.
 */

/** The hint shown next to a disabled "Others" toggle. */
export const STAGE1_HINT = "stage 1: others' labels hidden";

/**
 * Disable (or re-enable) an "Others" toggle and show the stage-1 hint after it.
 * Idempotent: the hint element is created once, next to the button.
 */
export function lockOthersToggle(button: HTMLButtonElement, hidden: boolean): void {
  button.disabled = hidden;
  button.dataset.stageHidden = String(hidden);
  if (hidden) button.title = STAGE1_HINT;
  let hint = button.nextElementSibling;
  if (!(hint instanceof HTMLElement) || hint.dataset.accordStageHint === undefined) {
    if (!hidden) return;
    hint = button.ownerDocument.createElement("span");
    (hint as HTMLElement).dataset.accordStageHint = "";
    (hint as HTMLElement).className = "accord-stage-hint";
    (hint as HTMLElement).style.cssText = "font-size:11px;opacity:0.75;font-style:italic;margin:0 4px;align-self:center;white-space:nowrap";
    hint.textContent = STAGE1_HINT;
    button.after(hint);
  }
  (hint as HTMLElement).hidden = !hidden;
}
