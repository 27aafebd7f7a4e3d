/**
 * Times as text: `m:ss.mmm`, or `h:mm:ss.mmm` from an hour on (or always, with
 * `hours: "always"`). Rounded to the millisecond; negative times get a "-".
 * Callers choose what a missing or non-finite time reads as.
 */

export interface ClockFormat {
  hours?: "auto" | "always";
}

/** `seconds` as clock text; `null` when it is not a finite number. */
export function clockText(seconds: number, format: ClockFormat = {}): string | null {
  if (!Number.isFinite(seconds)) return null;
  const sign = seconds < 0 ? "-" : "";
  const ms = Math.round(Math.abs(seconds) * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const two = (n: number): string => String(n).padStart(2, "0");
  const tail = `${two(s)}.${String(ms % 1000).padStart(3, "0")}`;
  return h > 0 || format.hours === "always" ? `${sign}${h}:${two(m)}:${tail}` : `${sign}${m}:${tail}`;
}
