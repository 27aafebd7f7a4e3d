"""What every format module returns, and the rules they follow.

Rules (docs/design/interchange.md):

* **Import** parses and validates the whole file first (a malformed file
  raises :class:`~accord.errors.FormatError` naming the file and the place,
  XML through ``defusedxml`` only), then stores everything as **one**
  Session command (``annotations.add``, plus links/entities when the format
  has them), so a failed import stores nothing. Imports go into items and
  streams that already exist (added with ``Session.add_item``); what cannot
  be placed is listed in the report, never silently dropped.
* **Export** writes what the format can hold and lists in the report what it
  cannot (links in COCO, attributes a format has no place for, ...).
* **Progress**: every public import and export takes ``progress=`` (see
  :func:`accord.progress.open_progress`): a bar in a notebook for 1,000
  records or more by default; it counts the records read or written, names
  the step ("checking", "storing", "writing ...") and ends "(stopped)" when
  the work fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Dropped", "ExportReport", "ImportReport"]


@dataclass(frozen=True)
class Dropped:
    """Something a format could not hold or place, and why."""

    what: str  # "annotation", "link", "attribute", "image", "tier", ...
    id: str | None
    reason: str


@dataclass
class ExportReport:
    """Files written by an export and what the format could not hold."""

    format: str
    paths: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)

    def __repr__(self) -> str:
        files = ", ".join(p.name for p in self.paths)
        return (
            f"ExportReport({self.format}: {files}; counts={self.counts}; "
            f"{len(self.dropped)} not representable)"
        )


@dataclass
class ImportReport:
    """What an import stored (one command) and what it could not place."""

    format: str
    path: Path
    command: int | None = None
    ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"ImportReport({self.format} {self.path.name}: {len(self.ids)} stored in command "
            f"{self.command}; {len(self.dropped)} not placed)"
        )
