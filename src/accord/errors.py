"""One error hierarchy for everything accord refuses.

Every error names *where* the problem is (a file, a field, a command field),
*what was expected* and *what was found*, so a message can be read on its own:

    UnknownLabelError: annotation.label: expected one of ['car', 'person'], got 'cat'
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccordError",
    "CalibrationError",
    "ClockError",
    "CommandError",
    "ConflictError",
    "CorruptMediaError",
    "FormatError",
    "GeometryError",
    "GeometryNotAllowedError",
    "MediaError",
    "MissingMediaError",
    "NotFoundError",
    "NothingToRedoError",
    "NothingToUndoError",
    "OutOfBoundsError",
    "PermissionDeniedError",
    "ShapeError",
    "StoreError",
    "TaxonomyError",
    "UnknownLabelError",
    "UnsupportedMediaError",
    "ValidationError",
]

_MISSING = object()


class AccordError(Exception):
    """Base class of every error accord raises on purpose.

    ``where`` names the file and/or field, ``expected`` says what would have
    been accepted and ``got`` is the offending value (omitted when irrelevant).
    """

    def __init__(
        self,
        where: str,
        expected: str | None = None,
        got: Any = _MISSING,
        *,
        detail: str | None = None,
    ) -> None:
        self.where = where
        self.expected = expected
        self.got = None if got is _MISSING else got
        self.detail = detail
        parts = [where]
        body = []
        if expected is not None:
            body.append(f"expected {expected}")
        if got is not _MISSING:
            body.append(f"got {_short_repr(got)}")
        if detail:
            body.append(detail)
        message = f"{where}: {', '.join(body)}" if body else parts[0]
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description, used in replies to the browser."""
        return {
            "error": type(self).__name__,
            "message": str(self),
            "where": self.where,
            "expected": self.expected,
        }


def _short_repr(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ValidationError(AccordError, ValueError):
    """A value does not fit what the model or the taxonomy allows."""


class TaxonomyError(ValidationError):
    """A taxonomy (file or object) is malformed or inconsistent."""


class UnknownLabelError(ValidationError):
    """A label is not a class of the taxonomy."""


class GeometryError(ValidationError):
    """A geometry value is malformed (wrong arity, NaN, negative size, ...)."""


class GeometryNotAllowedError(ValidationError):
    """A geometry kind is not allowed for this class on this stream's modality."""


class OutOfBoundsError(ValidationError):
    """Coordinates, times, frames or offsets fall outside their stream."""


class ShapeError(ValidationError):
    """An array has the wrong shape or dtype."""


class ClockError(ValidationError):
    """A clock (offset, rate) or a frame timeline is invalid."""


class CalibrationError(ValidationError):
    """A calibration matrix has the wrong shape, is not finite or not invertible."""


class CommandError(ValidationError):
    """A command message is malformed (unknown type, missing field, bad field)."""


class FormatError(ValidationError):
    """A file in an interchange format is malformed."""


class MediaError(AccordError):
    """A media file cannot be used."""


class MissingMediaError(MediaError, FileNotFoundError):
    """A media file or folder does not exist."""


class CorruptMediaError(MediaError):
    """A media file exists but cannot be read (truncated, not media, ...)."""


class UnsupportedMediaError(MediaError):
    """A media file is readable but its codec/layout is not supported."""


class NotFoundError(AccordError, KeyError):
    """An item, stream, annotation, link or entity id does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


class StoreError(AccordError):
    """The store cannot carry out a command."""


class ConflictError(StoreError):
    """An edit was based on a stale revision: someone changed it since."""


class NothingToUndoError(StoreError):
    """The annotator has nothing left to undo."""


class NothingToRedoError(StoreError):
    """The annotator has nothing left to redo."""


class PermissionDeniedError(AccordError, PermissionError):
    """The annotator's role does not allow this command."""
