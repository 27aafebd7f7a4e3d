"""On-disk cache of derived media (peaks, proxies) and the progress option they share.

Entries live under ``$ACCORD_CACHE_DIR/<kind>/`` (default ``~/.cache/accord``)
and are keyed by the source's resolved path, size and modification time plus
the parameters that shaped them, so an edited file is never served stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from accord.progress import Progress
from accord.progress import progress as _make_progress

__all__ = ["ProgressOption", "cache_dir", "file_key", "make_progress"]

#: ``None``: a bar in a notebook for long work; ``False``: never; ``True``: always
#: (in a notebook); a callable: a sink ``(done, total, description, final)``.
ProgressOption = bool | Callable[[int, int | None, str, bool], None] | None


def cache_dir(kind: str, base: str | os.PathLike[str] | None = None) -> Path:
    """The folder for cached ``kind`` entries (created on demand)."""
    if base is None:
        env = os.environ.get("ACCORD_CACHE_DIR")
        root = Path(env) if env else Path.home() / ".cache" / "accord"
        folder = root.expanduser() / kind
    else:
        folder = Path(base).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_key(path: str | os.PathLike[str], **params: Any) -> str:
    """A hex digest of the file's resolved path, size, mtime and ``params``."""
    real = os.path.realpath(os.fspath(path))
    st = os.stat(real)
    payload = json.dumps(
        [real, st.st_size, st.st_mtime_ns, sorted(params.items())], default=str
    ).encode()
    return hashlib.sha256(payload).hexdigest()[:32]


def make_progress(
    option: ProgressOption, total: int | None, description: str, min_total: int
) -> Progress:
    """A :class:`~accord.progress.Progress` for ``option`` (see :data:`ProgressOption`)."""
    if callable(option):
        return _make_progress(total, description, sink=option)
    show = None if option is None else bool(option)
    return _make_progress(total, description, show=show, min_total=min_total)
