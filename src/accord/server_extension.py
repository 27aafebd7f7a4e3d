"""A Jupyter server extension that makes widget round trips fast.

Jupyter server's kernel websocket leaves Nagle's algorithm on. A widget that
sends a command and waits for the reply then meets the browser's delayed ACK:
on this stack every round trip after the first took ~45 ms instead of ~5 ms
(measured with ``RegionCanvas``'s ``ping`` query; see ``docs/design/transport.md``).
Turning on ``TCP_NODELAY`` for kernel websockets removes the stall. Nothing
else about the server changes.

Enabled on install through ``etc/jupyter/jupyter_server_config.d/accord.json``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["enable_nodelay"]

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


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "accord.server_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    if enable_nodelay():
        serverapp.log.info("accord: TCP_NODELAY on kernel websockets (fast widget round trips)")
