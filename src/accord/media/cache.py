"""On-disk cache of derived media (peaks, proxies).

Entries live under ``$ACCORD_CACHE_DIR/<kind>/`` (default ``~/.cache/accord``)
and are keyed by the source's resolved path, size and modification time plus
the parameters that shaped them, so an edited file is never served stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "file_key"]


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
