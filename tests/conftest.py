"""Shared fixtures: a small taxonomy, a session on a fresh SQLite file, a media-free item."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import accord as ac
from accord import samples
from accord.model.timeline import FrameTimeline


def pytest_configure(config: pytest.Config) -> None:
    """Media caches (peaks, proxies) of this run go to a fresh folder, not ~/.cache/accord.

    Set here, before any JupyterLab is started, so browser-test kernels inherit it.
    """
    os.environ.setdefault("ACCORD_CACHE_DIR", tempfile.mkdtemp(prefix="accord-test-cache-"))


TAXONOMY_YAML = """
name: pilot
version: 1
classes:
  - name: vehicle
    color: "#1f77b4"
    geometries:
      video: [box, polygon, rotated_box, time_segment]
      image: [box, polygon, rotated_box]
      pointcloud: [cuboid]
  - name: car
    parent: vehicle
    hotkey: c
    guidelines: Passenger cars, vans and SUVs.
    attributes:
      - {name: occluded, type: bool, default: false}
      - {name: colour, type: choice, choices: [red, blue, other]}
  - name: person
    color: "#ff7f0e"
    hotkey: p
    keypoints: [head, left_hand, right_hand]
    geometries:
      video: [box, keypoints, polygon]
      image: [box, keypoints, polygon]
      pointcloud: [cuboid]
  - name: speech
    color: "#2ca02c"
    hotkey: s
    geometries:
      audio: [time_segment]
      text: [text_span, time_segment]
      video: [time_segment]
    attributes:
      - {name: speaker, type: text}
  - name: scene
    color: "#7f7f7f"
    geometries: {video: [tag], image: [tag], audio: [tag], text: [tag], pointcloud: [tag]}
link_types:
  - name: same_as
    sources: [box, cuboid, polygon]
    targets: [box, cuboid, polygon]
    symmetric: true
  - {name: speaks, sources: [time_segment, text_span], targets: [box, keypoints]}
  - {name: refers_to}
rules:
  - id: car-has-box
    kind: requires_link
    classes: [car]
    params: {link_type: same_as, from: pointcloud, to: video}
"""


@pytest.fixture(scope="session")
def sample_scene(tmp_path_factory: pytest.TempPathFactory) -> samples.SampleScene:
    """The generated sample scene, once per test session."""
    return samples.scene(tmp_path_factory.getbasetemp() / "accord-sample-scene")


@pytest.fixture
def taxonomy() -> ac.Taxonomy:
    return ac.Taxonomy.from_yaml(TAXONOMY_YAML)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "pilot.accord"


@pytest.fixture
def session(store_path: Path, taxonomy: ac.Taxonomy):
    s = ac.Session(store_path, taxonomy=taxonomy, annotator="ana")
    yield s
    s.close()


def media_free_item(item_id: str = "clip") -> dict:
    """An ``item.add`` command for an item whose streams have no media files."""
    streams = [
        ac.Stream(item_id, "cam", "image", width=640, height=480),
        ac.Stream(
            item_id,
            "video",
            "video",
            timeline=FrameTimeline.constant("30000/1001", 300),
            width=640,
            height=360,
        ),
        ac.Stream(item_id, "audio", "audio", duration=10.0, sample_rate=48_000),
        ac.Stream(
            item_id, "transcript", "text", text="Hello there.\nGeneral Kenobi!", duration=10.0
        ),
        ac.Stream(item_id, "lidar", "pointcloud", timeline=FrameTimeline.constant(10, 100)),
    ]
    return {
        "type": "item.add",
        "item": {"id": item_id, "meta": {}, "calibrations": {}},
        "streams": [s.to_dict() for s in streams],
    }


@pytest.fixture
def item(session: ac.Session) -> str:
    session.apply(media_free_item("clip"))
    return "clip"
