"""Progress bars for long work (imports, exports, media proxies, peaks).

``with progress(total, "Importing COCO") as bar: bar.advance(n)`` shows an
ipywidgets bar in a notebook and nothing elsewhere (scripts, tests), unless
asked. Updates are throttled to at most :data:`MAX_UPDATES_PER_SECOND`, so a
loop over a million records never floods the kernel's iopub channel (the
server drops messages above ~1000/s). Small jobs (``total`` below
``min_total``) show nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

__all__ = [
    "MAX_UPDATES_PER_SECOND",
    "Progress",
    "ProgressOption",
    "Sink",
    "in_notebook",
    "open_progress",
    "progress",
]

MAX_UPDATES_PER_SECOND = 10

#: ``sink(done, total, description, final)``: receives a bar's throttled updates.
Sink = Callable[[int, int | None, str, bool], None]
#: What a ``progress=`` argument takes: ``None`` (a bar in a notebook for long jobs),
#: ``False`` (never), ``True`` (always in a notebook) or a :data:`Sink`.
ProgressOption = bool | Sink | None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets can be displayed)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """A throttled progress report; use :func:`progress` to make one.

    ``sink(done, total, description, final)`` receives the throttled updates
    (the notebook bar is one sink; tests pass their own). ``done`` never
    exceeds ``total`` when ``total`` is known.
    """

    def __init__(
        self,
        total: int | None,
        description: str,
        sink: Sink | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = None if total is None else max(int(total), 0)
        self.description = description
        self._base = description
        self.done = 0
        self.updates = 0
        self._sink = sink
        self._clock = clock
        self._last = -1.0
        self._closed = False

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units of work done."""
        self.update(self.done + n)

    def update(self, done: int) -> None:
        """Set the units of work done so far (never more than ``total``)."""
        done = max(int(done), 0)
        self.done = done if self.total is None else min(done, self.total)
        if self._sink is None or self._closed:
            return
        if self._clock() - self._last >= 1.0 / MAX_UPDATES_PER_SECOND:
            self._emit(final=False)

    def stage(self, text: str) -> None:
        """Name the step now running (``"storing"``): shown after the description, sent at once."""
        self.description = f"{self._base}: {text}"
        if not self._closed:
            self._emit(final=False)

    def close(self, *, ok: bool = True) -> None:
        """Show the final state (``ok=False``: the work failed and stopped here)."""
        if self._closed:
            return
        self._closed = True
        if ok and self.total is not None:
            self.done = self.total
        if not ok:
            self.description = f"{self.description} (stopped)"
        self._emit(final=True)

    def _emit(self, *, final: bool) -> None:
        if self._sink is not None:
            self._last = self._clock()
            self.updates += 1
            self._sink(self.done, self.total, self.description, final)

    def __enter__(self) -> Progress:
        self._emit(final=False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(ok=exc_type is None)


def _notebook_sink(description: str, total: int | None) -> Sink:
    """A sink that draws an ipywidgets bar with a text label (text, never HTML)."""
    import ipywidgets as widgets
    from IPython.display import display

    bar = widgets.IntProgress(
        value=0, min=0, max=max(total or 1, 1), bar_style="info", description=""
    )
    label = widgets.Label(value=description)
    box = widgets.HBox([bar, label])
    display(box)
    started = time.monotonic()

    def sink(done: int, total_: int | None, desc: str, final: bool) -> None:
        bar.value = done if total_ is not None else 0
        count = f"{done:,}/{total_:,}" if total_ is not None else f"{done:,}"
        if final:
            bar.bar_style = "danger" if desc.endswith("(stopped)") else "success"
            label.value = f"{desc}: {count} in {time.monotonic() - started:.1f} s"
        else:
            label.value = f"{desc}: {count}"

    return sink


def progress(
    total: int | None,
    description: str,
    *,
    show: bool | None = None,
    min_total: int = 1000,
    sink: Sink | None = None,
) -> Progress:
    """A progress report for ``total`` units of work.

    ``show=None`` (default) shows a bar in a notebook when ``total`` is at
    least ``min_total`` (or unknown); ``show=False`` never; ``show=True``
    always in a notebook. ``sink`` replaces the bar (tests, logging).
    """
    if sink is None:
        wanted = show if show is not None else (total is None or total >= min_total)
        if wanted and in_notebook():
            sink = _notebook_sink(description, total)
    return Progress(total, description, sink)


def open_progress(
    option: ProgressOption, total: int | None, description: str, *, min_total: int = 1000
) -> Progress:
    """The report a public function's ``progress=`` argument asks for.

    ``None``: a bar in a notebook when ``total >= min_total``; ``False``: none;
    ``True``: a bar in a notebook whatever the size; a callable: that sink.
    """
    if option is None or isinstance(option, bool):
        return progress(total, description, show=option, min_total=min_total)
    if callable(option):
        return progress(total, description, sink=option)
    from accord.errors import ValidationError

    raise ValidationError(
        "progress", "None, True, False or a callable sink(done, total, description, final)", option
    )
