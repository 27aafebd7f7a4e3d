"""Encode decoded pictures for the browser (PNG via PyAV; no extra imaging library)."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np

from accord.errors import ShapeError

__all__ = ["BROWSER_IMAGE_TYPES", "encode_png", "image_bytes_for_browser"]

#: File suffixes Chromium decodes itself, with their MIME types.
BROWSER_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
}


def encode_png(rgb: np.ndarray) -> bytes:
    """An ``(H, W, 3)`` or ``(H, W, 4)`` uint8 array as PNG bytes."""
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ShapeError("image", "a uint8 array of shape (H, W, 3) or (H, W, 4)", arr.shape)
    fmt = "rgb24" if arr.shape[2] == 3 else "rgba"
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format=fmt)
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as out:
        stream = out.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = arr.shape[1], arr.shape[0], fmt
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def image_bytes_for_browser(path: str | Path) -> tuple[str, bytes]:
    """``(mime, bytes)`` of an image file, re-encoded as PNG if Chromium can't decode it."""
    p = Path(path)
    mime = BROWSER_IMAGE_TYPES.get(p.suffix.lower())
    if mime is not None:
        return mime, p.read_bytes()
    from accord.errors import CorruptMediaError
    from accord.media.probe import _AV_ERRORS

    try:
        with av.open(str(p)) as container:
            frame = next(container.decode(video=0))
            rgb = frame.to_ndarray(format="rgb24")
    except (*_AV_ERRORS, StopIteration) as exc:
        raise CorruptMediaError(str(p), "a decodable image", detail=str(exc)) from exc
    return "image/png", encode_png(rgb)
