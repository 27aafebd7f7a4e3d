/**
 * Showing errors inside a widget: a dismissible banner, rendered as text.
 */

import { el } from "./text.js";

/** The parts of an error a banner shows. */
export interface ErrorSummary {
  /** Error class, e.g. "UnknownLabelError" (from Python) or "TypeError". */
  name: string;
  message: string;
  /** The field or file the error is about, when known. */
  where: string | null;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** Summarise anything thrown: CommandFailed, Error, a string or a value. */
export function describeError(err: unknown): ErrorSummary {
  // CommandFailed carries the Python class in `error`; other errors use `name`.
  const pyClass = field(err, "error");
  const name =
    typeof pyClass === "string" && pyClass
      ? pyClass
      : err instanceof Error
        ? err.name || "Error"
        : "Error";
  const where = field(err, "where");
  let message: string;
  if (err instanceof Error) message = err.message;
  else if (typeof err === "string") message = err;
  else {
    try {
      message = JSON.stringify(err) ?? String(err);
    } catch {
      message = String(err);
    }
  }
  return { name, message, where: typeof where === "string" && where ? where : null };
}

export interface ErrorBanner {
  element: HTMLElement;
  dismiss(): void;
}

/**
 * Render a dismissible error banner at the top of `container` and return it.
 * Everything is text: the message may hold data from the user.
 */
export function showError(container: HTMLElement, err: unknown): ErrorBanner {
  const summary = describeError(err);
  const banner = el("div", { className: "accord-error", attrs: { role: "alert" } });
  Object.assign(banner.style, {
    display: "flex",
    alignItems: "flex-start",
    gap: "0.5em",
    padding: "0.4em 0.6em",
    margin: "0 0 0.4em 0",
    border: "1px solid #d32f2f",
    borderRadius: "3px",
    background: "#fdecea",
    color: "#611a15",
    fontFamily: "var(--jp-ui-font-family, sans-serif)",
    fontSize: "var(--jp-ui-font-size1, 13px)",
  });
  const body = el("div", { className: "accord-error-body" }, [
    el("strong", { className: "accord-error-name", text: summary.name }),
    ": ",
    el("span", { className: "accord-error-message", text: summary.message }),
  ]);
  body.style.flex = "1";
  if (summary.where) {
    body.append(el("div", { className: "accord-error-where", text: `at ${summary.where}` }));
  }
  const close = el("button", {
    className: "accord-error-close",
    text: "×",
    title: "Dismiss",
    attrs: { type: "button", "aria-label": "Dismiss error" },
  });
  Object.assign(close.style, { border: "none", background: "none", cursor: "pointer", color: "inherit" });
  banner.append(body, close);

  const dismiss = (): void => banner.remove();
  close.addEventListener("click", dismiss);
  container.prepend(banner);
  return { element: banner, dismiss };
}
