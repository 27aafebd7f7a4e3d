"""frame_at: keyframe seeks, forward decoding without re-seeking, decoders kept per file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from accord import samples
from accord.media import probe
from accord.media.probe import close_decoders, frame_at, probe_video


@pytest.fixture(autouse=True)
def _fresh_decoders():
    close_decoders()
    yield
    close_decoders()


def count_seeks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seeks: list[int] = []
    original = probe._Decoder.__init__

    def init(self, path: str) -> None:
        original(self, path)
        real = self.container.seek

        class Spy:  # containers are C objects: wrap the one attribute we use
            def __init__(self, c):
                self._c = c

            def __getattr__(self, name):
                return getattr(self._c, name)

            def seek(self, offset, **kw):
                seeks.append(offset)
                return real(offset, **kw)

        self.container = Spy(self.container)

    monkeypatch.setattr(probe._Decoder, "__init__", init)
    return seeks


def test_keyframes_from_packets(sample_scene: samples.SampleScene) -> None:
    info = probe_video(sample_scene.video)
    assert list(info.keyframes) == list(info.pts[::30])  # gop_size 30 in the sample
    assert info.keyframe_before(0) == info.pts[0]
    assert info.keyframe_before(59) == info.pts[30]
    assert info.keyframe_before(60) == info.pts[60]


def test_stepping_forward_decodes_without_seeking(
    sample_scene: samples.SampleScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeks = count_seeks(monkeypatch)
    truth = sample_scene.truth
    for n in range(0, 75):
        assert samples.read_frame_index(frame_at(sample_scene.video, n), truth) == n
    # one seek per keyframe reached (0, 30, 60): inside a GOP the decoder just goes on
    info = probe_video(sample_scene.video)
    assert seeks == [int(info.pts[0]), int(info.pts[30]), int(info.pts[60])]
    assert len(probe._DECODERS) == 1


def test_backward_and_random_access_seek_to_the_preceding_keyframe(
    sample_scene: samples.SampleScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeks = count_seeks(monkeypatch)
    truth = sample_scene.truth
    info = probe_video(sample_scene.video)
    order = [299, 298, 150, 152, 149, 151, 31, 0, 1, 270, 12]
    for n in order:
        assert samples.read_frame_index(frame_at(sample_scene.video, n), truth) == n
    expected = [299, 298, 150, None, 149, 151, 31, 0, None, 270, 12]  # None: kept decoding
    want = [
        int(info.pts[n // 30 * 30]) for n, e in zip(order, expected, strict=True) if e is not None
    ]
    assert seeks == want


def test_every_frame_in_order_and_reversed(sample_scene: samples.SampleScene) -> None:
    truth = sample_scene.truth
    got = [samples.read_frame_index(frame_at(sample_scene.video, n), truth) for n in range(300)]
    assert got == list(range(300))
    back = [
        samples.read_frame_index(frame_at(sample_scene.video, n), truth)
        for n in range(299, 239, -1)
    ]
    assert back == list(range(299, 239, -1))


def test_decoders_are_per_file_and_follow_changes(
    sample_scene: samples.SampleScene, tmp_path: Path
) -> None:
    truth = sample_scene.truth
    copy = tmp_path / "copy.mp4"
    shutil.copy(sample_scene.video, copy)
    for n in (10, 11, 12):
        assert samples.read_frame_index(frame_at(sample_scene.video, n), truth) == n
        assert samples.read_frame_index(frame_at(copy, 200 + n), truth) == 200 + n
    assert len(probe._DECODERS) == 2
    # more files than the LRU holds: the oldest decoders are closed, results stay right
    copies = []
    for k in range(probe._DECODERS_SIZE + 2):
        c = tmp_path / f"c{k}.mp4"
        shutil.copy(sample_scene.video, c)
        copies.append(c)
        assert samples.read_frame_index(frame_at(c, 5 + k), truth) == 5 + k
    assert len(probe._DECODERS) == probe._DECODERS_SIZE
    # a file replaced in place gets a new decoder (key has mtime and size)
    data = sample_scene.video.read_bytes()
    copy.write_bytes(data)
    img = frame_at(copy, 42)
    assert samples.read_frame_index(img, truth) == 42
    assert img.shape == (360, 640, 3) and img.dtype == np.uint8
