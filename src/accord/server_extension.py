"""accord's Jupyter server extension: fast widget round trips and media with Range.

1. Jupyter server's kernel websocket leaves Nagle's algorithm on. A widget that
sends a command and waits for the reply then meets the browser's delayed ACK:
on this stack every round trip after the first took ~45 ms instead of ~5 ms
(measured with ``RegionCanvas``'s ``ping`` query; see ``docs/design/transport.md``).
Turning on ``TCP_NODELAY`` for kernel websockets removes the stall. Nothing
else about the server changes.

2. ``GET/HEAD /accord/media?path=<absolute path>`` serves a media file from
anywhere on disk (the Player's ``<video>``/``<audio>`` need a URL that answers
Range requests to seek; samples and caches live outside the server's root).
Logged-in users only, with the ``contents`` read permission (the same as
Jupyter's ``/files/``); only existing regular files; Range, ``Content-Type``
and ``Last-Modified`` come from tornado's ``StaticFileHandler``.

Enabled on install through ``etc/jupyter/jupyter_server_config.d/accord.json``.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

__all__ = ["MEDIA_ROUTE", "enable_nodelay", "media_handlers"]

#: Path of the media route under the server's base URL.
MEDIA_ROUTE = "accord/media"

#: Types ``mimetypes`` may not know on a minimal system.
_MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".m4a": "audio/mp4",
    ".webm": "video/webm",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
}

_MARK = "_accord_nodelay"


def enable_nodelay() -> bool:
    """Make kernel websockets set ``TCP_NODELAY`` when they open (idempotent).

    Returns False if this jupyter_server has no ``KernelWebsocketHandler``.
    """
    try:
        from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
    except ImportError:  # pragma: no cover - a jupyter_server without it
        return False
    if getattr(KernelWebsocketHandler, _MARK, False):
        return True
    original = KernelWebsocketHandler.open

    async def open(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.set_nodelay(True)
        return await original(self, *args, **kwargs)

    KernelWebsocketHandler.open = open  # type: ignore[method-assign]
    setattr(KernelWebsocketHandler, _MARK, True)
    return True


def media_handlers(base_url: str = "/") -> list[tuple[str, type]]:
    """Tornado handlers for the media route (``[(pattern, handler)]``)."""
    from jupyter_server.auth.decorator import authorized
    from jupyter_server.base.handlers import JupyterHandler
    from tornado import web

    class MediaFileHandler(JupyterHandler, web.StaticFileHandler):  # type: ignore[misc]
        """A media file by absolute path, with Range support, for logged-in users."""

        auth_resource = "contents"

        def initialize(self, **_kwargs: Any) -> None:  # type: ignore[override]
            web.StaticFileHandler.initialize(self, path=os.path.abspath(os.sep))

        def _file(self) -> str:
            raw = self.get_query_argument("path", "")
            if not raw or not os.path.isabs(raw):
                raise web.HTTPError(400, "accord media: expected ?path=<absolute file path>")
            path = os.path.realpath(raw)
            if not os.path.isfile(path):
                raise web.HTTPError(404, "accord media: not a regular file")
            return os.path.relpath(path, os.path.abspath(os.sep))

        @web.authenticated
        @authorized
        async def head(self) -> None:  # type: ignore[override]
            await web.StaticFileHandler.get(self, self._file(), include_body=False)

        @web.authenticated
        @authorized
        async def get(self) -> None:  # type: ignore[override]
            await web.StaticFileHandler.get(self, self._file())

        def get_content_type(self) -> str:
            assert self.absolute_path is not None
            ext = os.path.splitext(self.absolute_path)[1].lower()
            return (
                _MEDIA_TYPES.get(ext)
                or mimetypes.guess_type(self.absolute_path)[0]
                or ("application/octet-stream")
            )

        def compute_etag(self) -> str | None:
            return None

        def set_extra_headers(self, path: str) -> None:
            self.set_header("Cache-Control", "no-cache")

    pattern = base_url.rstrip("/") + "/" + MEDIA_ROUTE
    return [(pattern, MediaFileHandler)]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "accord.server_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    if enable_nodelay():
        serverapp.log.info("accord: TCP_NODELAY on kernel websockets (fast widget round trips)")
    base_url = serverapp.web_app.settings.get("base_url", "/")
    serverapp.web_app.add_handlers(".*$", media_handlers(base_url))
    serverapp.log.info("accord: media files with Range at %s%s", base_url, MEDIA_ROUTE)
