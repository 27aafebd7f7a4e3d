"""The kernel side of the page↔kernel message protocol (see ``js/README.md``).

* commands and queries arrive as ``{type, uuid, ...}``; each gets exactly one
  reply ``{type: "reply", uuid, ok, result | error}`` (plus optional buffers);
* uploads larger than the server's 10 MiB browser→kernel limit arrive as
  ``{type: "chunk", transfer, index, count, total_bytes}`` messages with one
  buffer each, followed by the command carrying ``transfer: {id, count,
  total_bytes}``; :class:`ChunkAssembler` puts them back together.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.errors import AccordError, CommandError

__all__ = ["ChunkAssembler", "error_reply", "ok_reply"]


def ok_reply(uuid: Any, result: Any) -> dict[str, Any]:
    return {"type": "reply", "uuid": uuid, "ok": True, "result": result}


def error_reply(uuid: Any, error: BaseException) -> dict[str, Any]:
    if isinstance(error, AccordError):
        body = error.to_dict()
    else:
        body = {
            "error": type(error).__name__,
            "message": str(error),
            "where": "kernel",
            "expected": None,
        }
    return {"type": "reply", "uuid": uuid, "ok": False, "error": body}


@dataclass
class _Transfer:
    count: int
    total: int
    parts: dict[int, bytes] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


class ChunkAssembler:
    """Collects chunked uploads by transfer id; stale transfers expire."""

    def __init__(self, max_age: float = 300.0, max_bytes: int = 2 * 1024**3) -> None:
        self._transfers: dict[str, _Transfer] = {}
        self.max_age = max_age
        self.max_bytes = max_bytes

    def add(self, header: Mapping[str, Any], buffers: list[Any]) -> None:
        """Store one chunk (``header`` is the ``chunk`` message)."""
        self._expire()
        tid, index, count, total = (
            header.get(k) for k in ("transfer", "index", "count", "total_bytes")
        )
        if not isinstance(tid, str) or not all(isinstance(v, int) for v in (index, count, total)):
            raise CommandError(
                "chunk", "transfer (str), index, count, total_bytes (ints)", dict(header)
            )
        if len(buffers) != 1:
            raise CommandError("chunk.buffers", "exactly one buffer per chunk", len(buffers))
        if not 0 <= index < count or total < 0 or total > self.max_bytes:
            raise CommandError("chunk.index", f"an index in [0, {count}) and a sane total", index)
        t = self._transfers.setdefault(tid, _Transfer(count, total))
        if (t.count, t.total) != (count, total):
            raise CommandError(
                "chunk", f"count {t.count} and total {t.total} as before", (count, total)
            )
        if index in t.parts:
            raise CommandError("chunk.index", "each index once", index)
        t.parts[index] = bytes(buffers[0])

    def take(self, ref: Mapping[str, Any]) -> bytes:
        """The reassembled bytes of the transfer a command refers to."""
        tid = ref.get("id")
        t = self._transfers.pop(tid, None) if isinstance(tid, str) else None
        if t is None:
            raise CommandError("transfer.id", "the id of a chunked upload in progress", tid)
        if len(t.parts) != t.count or ref.get("count") != t.count:
            raise CommandError("transfer", f"{t.count} chunks", len(t.parts))
        data = b"".join(t.parts[i] for i in range(t.count))
        if len(data) != t.total or ref.get("total_bytes") != t.total:
            raise CommandError("transfer.total_bytes", f"{t.total} bytes", len(data))
        return data

    @property
    def pending(self) -> list[str]:
        return list(self._transfers)

    def _expire(self) -> None:
        now = time.monotonic()
        for tid in [k for k, t in self._transfers.items() if now - t.started > self.max_age]:
            del self._transfers[tid]
