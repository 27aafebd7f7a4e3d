"""The kernel side of the widget protocol, driven without a browser."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import accord as ac
from accord import samples
from accord.errors import CommandError
from accord.widgets import RegionCanvas
from accord.widgets.transport import ChunkAssembler


class Page:
    """Plays the browser: sends messages to a widget and records what it sends back."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.sent: list[tuple[dict, list]] = []
        widget.send = lambda content, buffers=None: self.sent.append((content, buffers or []))
        self.n = 0

    def ask(self, type: str, buffers: list | None = None, **payload: Any) -> tuple[dict, list]:
        self.n += 1
        uuid = f"u{self.n}"
        self.widget._on_page_message(
            self.widget, {"type": type, "uuid": uuid, **payload}, buffers or []
        )
        replies = [(c, b) for c, b in self.sent if c.get("uuid") == uuid]
        assert len(replies) == 1, self.sent
        return replies[0]

    def events(self) -> list[dict]:
        return [c for c, _ in self.sent if c["type"] == "event"]


@pytest.fixture
def scene_session(tmp_path: Path, sample_scene: samples.SampleScene, taxonomy: ac.Taxonomy):
    s = ac.Session(tmp_path / "w.accord", taxonomy=taxonomy, annotator="ana")
    s.add_item("street", video=sample_scene.video, calibration=sample_scene.calibration)
    yield s
    s.close()


def _png_to_rgb(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24")


def test_frame_query_returns_the_exact_frame_as_png(scene_session, sample_scene) -> None:
    w = RegionCanvas(scene_session, "street", "video", frame=0)
    page = Page(w)
    for n in (0, 31, 137, 299):
        reply, buffers = page.ask("frame.get", frame=n)
        assert reply["ok"] and reply["result"]["mime"] == "image/png"
        rgb = _png_to_rgb(buffers[0])
        assert rgb.shape == (360, 640, 3)
        assert samples.read_frame_index(rgb, sample_scene.truth) == n
    reply, _ = page.ask("frame.get", frame=300)
    assert not reply["ok"] and reply["error"]["error"] == "OutOfBoundsError"


def test_page_commands_edit_the_session_and_views_hear_events(scene_session) -> None:
    s = scene_session
    a, b = (
        RegionCanvas(s, "street", "video", frame=10),
        RegionCanvas(s, "street", "video", frame=10),
    )
    pa, pb = Page(a), Page(b)
    reply, _ = pa.ask(
        "annotation.add",
        item="street",
        stream="video",
        label="car",
        kind="box",
        geometry={"x": 10, "y": 20, "w": 30, "h": 40},
        frame=10,
    )
    assert reply["ok"], reply
    new_id = reply["result"]["ids"][0]
    assert s.annotations.loc[new_id, "geometry"] == {"x": 10, "y": 20, "w": 30, "h": 40}
    # both views were told, with the full record
    for page in (pa, pb):
        (event,) = page.events()
        assert event["events"][0]["op"] == "create"
        assert event["events"][0]["record"]["frame"] == 10
    # the query lists it for frame 10 and not for frame 11
    assert [r["id"] for r in pa.ask("annotations.query", frame=10)[0]["result"]["annotations"]] == [
        new_id
    ]
    assert pa.ask("annotations.query", frame=11)[0]["result"]["annotations"] == []
    # an edit made in Python reaches the page
    s.update(new_id, label="person")
    assert pb.events()[-1]["events"][0]["record"]["label"] == "person"
    # a stale revision from the page is refused and changes nothing
    reply, _ = pa.ask(
        "annotation.update", id=new_id, revision=1, geometry={"x": 0, "y": 0, "w": 5, "h": 5}
    )
    assert not reply["ok"] and reply["error"]["error"] == "ConflictError"
    assert s.get(new_id).label == "person"
    reply, _ = pa.ask("undo")
    assert reply["ok"] and s.get(new_id).label == "car"
    a.close()
    b.close()


def test_views_are_scoped_to_their_item(scene_session, sample_scene) -> None:
    s = scene_session
    s.add_item("other", video=sample_scene.video)
    other_id = s.annotate("other", "video", "car", ac.Box(1, 1, 5, 5), frame=0)
    page = Page(RegionCanvas(s, "street", "video"))
    reply, _ = page.ask(
        "annotation.add",
        item="other",
        stream="video",
        label="car",
        kind="box",
        geometry=[1, 1, 2, 2],
        frame=0,
    )
    assert reply["error"]["error"] == "PermissionDeniedError"
    reply, _ = page.ask("annotation.delete", id=other_id, revision=1)
    assert reply["error"]["error"] == "PermissionDeniedError"
    reply, _ = page.ask("taxonomy.set", taxonomy={})
    assert reply["error"]["error"] == "CommandError"
    assert other_id in s.annotations.index and len(s.annotations) == 1
    assert page.events() == []  # nothing of item "other" is pushed to this view


def test_classes_and_traits(scene_session) -> None:
    w = RegionCanvas(scene_session, "street", "video", frame=5)
    names = [c["name"] for c in w.classes]
    assert names == ["vehicle", "car", "person"]  # speech/scene have no 2-D shapes
    person = next(c for c in w.classes if c["name"] == "person")
    assert person["geometries"] == ["box", "polygon", "keypoints"]
    assert person["keypoints"] == ["head", "left_hand", "right_hand"]
    car = next(c for c in w.classes if c["name"] == "car")
    assert [a["name"] for a in car["attributes"]] == ["occluded", "colour"]
    assert w.image_size == [640, 360] and w.frame_count == 300
    with pytest.raises(ac.errors.OutOfBoundsError):
        w.frame = 300
    with pytest.raises(ac.errors.ValidationError):
        RegionCanvas(scene_session, "street", "video", label="speech")


def test_chunk_assembler_round_trip_and_refusals() -> None:
    data = bytes(range(256)) * 1000
    parts = [data[i : i + 70_000] for i in range(0, len(data), 70_000)]
    asm = ChunkAssembler()
    for i in reversed(range(len(parts))):
        asm.add(
            {"transfer": "t1", "index": i, "count": len(parts), "total_bytes": len(data)},
            [parts[i]],
        )
    assert asm.take({"id": "t1", "count": len(parts), "total_bytes": len(data)}) == data
    assert asm.pending == []
    with pytest.raises(CommandError):
        asm.take({"id": "t1", "count": 1, "total_bytes": 1})
    asm.add({"transfer": "t2", "index": 0, "count": 2, "total_bytes": 4}, [b"ab"])
    with pytest.raises(CommandError):
        asm.add({"transfer": "t2", "index": 0, "count": 2, "total_bytes": 4}, [b"ab"])
    with pytest.raises(CommandError):
        asm.take({"id": "t2", "count": 2, "total_bytes": 4})  # one chunk missing


def test_chunked_command_reaches_the_handler(scene_session) -> None:
    w = RegionCanvas(scene_session, "street", "video")
    got: list[bytes] = []
    w.query(
        "echo.size", lambda content, buffers: (got.append(buffers[0]) or {"n": len(buffers[0])}, [])
    )
    page = Page(w)
    blob = np.random.default_rng(0).bytes(300_000)
    for i in range(3):
        header = {
            "type": "chunk",
            "transfer": "x",
            "index": i,
            "count": 3,
            "total_bytes": len(blob),
        }
        w._on_page_message(w, header, [blob[i * 100_000 : (i + 1) * 100_000]])
    reply, _ = page.ask("echo.size", transfer={"id": "x", "count": 3, "total_bytes": len(blob)})
    assert reply["result"] == {"n": 300_000} and got[0] == blob
