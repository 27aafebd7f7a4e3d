"""Tests of the generated sample scene (accord.samples) against its ground truth."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
import webvtt

from accord import samples
from accord.media.probe import frame_at, probe_video

W, H = 640, 360


@pytest.fixture(scope="session")
def truth(sample_scene: samples.SampleScene) -> dict:
    return sample_scene.truth


@pytest.fixture(scope="session")
def calib(sample_scene: samples.SampleScene) -> dict[str, np.ndarray]:
    """calib.txt parsed here, independently of the generator."""
    shapes = {
        "P0": (3, 4),
        "P1": (3, 4),
        "P2": (3, 4),
        "P3": (3, 4),
        "R0_rect": (3, 3),
        "Tr_velo_to_cam": (3, 4),
        "Tr_imu_to_velo": (3, 4),
    }
    out = {}
    for line in sample_scene.calibration.read_text().splitlines():
        if not line.strip():
            continue
        key, values = line.split(":", 1)
        out[key] = np.array([float(v) for v in values.split()]).reshape(shapes[key])
    assert list(out) == list(shapes)
    return out


_SEVEN = {
    "abcdef": 0,
    "bc": 1,
    "abdeg": 2,
    "abcdg": 3,
    "bcfg": 4,
    "acdfg": 5,
    "acdefg": 6,
    "abc": 7,
    "abcdefg": 8,
    "abcdfg": 9,
}


def read_digits(img: np.ndarray, truth: dict) -> int:
    """Read the 7-segment digits by sampling the middle of each segment."""
    d = truth["video"]["digits"]
    w, h, t = d["width"], d["height"], d["thickness"]
    value = 0
    for pos in range(d["count"]):
        x0, y0 = d["x0"] + pos * d["step"], d["y0"]
        centres = {
            "a": (x0 + w // 2, y0 + t // 2),
            "b": (x0 + w - t // 2, y0 + h // 4),
            "c": (x0 + w - t // 2, y0 + 3 * h // 4),
            "d": (x0 + w // 2, y0 + h - t // 2),
            "e": (x0 + t // 2, y0 + 3 * h // 4),
            "f": (x0 + t // 2, y0 + h // 4),
            "g": (x0 + w // 2, y0 + h // 2),
        }
        lit = "".join(
            s for s, (x, y) in centres.items() if img[y - 1 : y + 2, x - 1 : x + 2].mean() > 128
        )
        value = value * 10 + _SEVEN[lit]
    return value


def project_box(calib: dict[str, np.ndarray], center, size, yaw) -> list[float] | None:
    """Clipped 2D box of a cuboid in image 2 (all corners are in front in this scene)."""
    ln, w, h = size
    x = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * ln / 2
    y = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * w / 2
    z = np.array([-1, -1, -1, -1, 1, 1, 1, 1]) * h / 2
    c, s = math.cos(yaw), math.sin(yaw)
    corners = np.stack([c * x - s * y, s * x + c * y, z, np.ones(8)]) + np.r_[center, 0][:, None]
    tr = np.vstack([calib["Tr_velo_to_cam"], [0, 0, 0, 1]])
    r0 = np.eye(4)
    r0[:3, :3] = calib["R0_rect"]
    hom = calib["P2"] @ r0 @ tr @ corners
    assert (hom[2] > 0).all()
    u, v = hom[0] / hom[2], hom[1] / hom[2]
    box = [max(u.min(), 0), max(v.min(), 0), min(u.max(), W), min(v.max(), H)]
    return box if box[2] > box[0] and box[3] > box[1] else None


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


# -- the folder -------------------------------------------------------------------------------


def test_scene_files(sample_scene: samples.SampleScene, truth: dict) -> None:
    for path in (
        sample_scene.video,
        sample_scene.audio,
        sample_scene.transcript,
        sample_scene.calibration,
        sample_scene.second_audio,
        sample_scene.ground_truth,
    ):
        assert path.is_file() and path.stat().st_size > 0, path
    assert sample_scene.lidar.is_dir()
    assert (sample_scene.root / "scene.json").is_file()
    assert truth["version"] == samples.SCENE_VERSION
    assert truth["generator"]["speech_source"] in ("espeak-ng", "synthetic")
    total = sum(p.stat().st_size for p in sample_scene.root.rglob("*") if p.is_file())
    assert total < 60e6


def test_scene_is_idempotent(sample_scene: samples.SampleScene) -> None:
    before = sample_scene.video.stat().st_mtime_ns
    start = time.perf_counter()
    again = samples.scene(sample_scene.root)
    assert time.perf_counter() - start < 1.0
    assert again == sample_scene
    assert sample_scene.video.stat().st_mtime_ns == before


def test_default_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCORD_SAMPLES_DIR", str(tmp_path))
    assert samples.default_path() == tmp_path / samples.SCENE_VERSION
    monkeypatch.delenv("ACCORD_SAMPLES_DIR")
    assert samples.default_path() == Path.home() / ".cache/accord/samples" / samples.SCENE_VERSION


def test_refuses_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="expected an empty folder"):
        samples.scene(tmp_path)
    with pytest.raises(FileExistsError):
        samples.scene(tmp_path, overwrite=True)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_failed_generation_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(root: Path, use_espeak: bool = True) -> None:
        (root / "video.mp4").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(samples, "_generate", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        samples.scene(tmp_path / "s")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_overwrite_regenerates_the_same_bytes(
    sample_scene: samples.SampleScene, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample_scene.root, copy)
    (copy / "audio.wav").write_bytes(b"damaged")
    assert samples.scene(copy).audio.read_bytes() == b"damaged"  # complete: returned as is
    regenerated = samples.scene(copy, overwrite=True)
    names = ["video.mp4", "audio.wav", "second_audio.wav", "transcript.vtt", "calib.txt",
             "ground_truth.json", "lidar/000000.bin", "lidar/000057.bin"]  # fmt: skip
    for name in names:
        digest = hashlib.sha256((regenerated.root / name).read_bytes()).hexdigest()
        assert digest == hashlib.sha256((sample_scene.root / name).read_bytes()).hexdigest(), name
    assert [p.name for p in tmp_path.iterdir()] == ["copy"]  # no temporary folders left


def test_cli_prints_the_folder(sample_scene: samples.SampleScene) -> None:
    src = Path(samples.__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-m", "accord.samples", str(sample_scene.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == str(sample_scene.root)


# -- video ------------------------------------------------------------------------------------


def test_video_timeline(sample_scene: samples.SampleScene, truth: dict) -> None:
    info = probe_video(sample_scene.video)
    assert Fraction(truth["video"]["fps"]) == info.average_rate == Fraction(30000, 1001)
    assert info.frame_count == truth["video"]["frame_count"] == 300
    np.testing.assert_allclose(info.timestamps, truth["video"]["frame_times"], atol=1e-9)
    keyframes = []
    with av.open(str(sample_scene.video)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.size and packet.is_keyframe:
                keyframes.append(round(packet.pts * stream.time_base * Fraction(30000, 1001)))
    assert keyframes == list(range(0, 300, 30))
    head = sample_scene.video.read_bytes()[:64]
    assert head.index(b"moov") < 64  # +faststart: the index comes first


@pytest.mark.parametrize("index", [0, 7, 30, 61, 145, 199, 299])
def test_frames_show_their_index(
    sample_scene: samples.SampleScene, truth: dict, index: int
) -> None:
    img = frame_at(sample_scene.video, index)
    assert samples.read_frame_index(img, truth) == index
    assert read_digits(img, truth) == index


def test_drawn_objects_and_flashes(sample_scene: samples.SampleScene, truth: dict) -> None:
    colors = {o["id"]: np.array(o["video_color"]) for o in truth["objects"]}
    boxes = truth["video"]["boxes"]
    assert set(boxes) == {"car-1", "person-1"}
    assert all(len(b) == 300 for b in boxes.values())
    assert sum(b is not None for b in boxes["car-1"]) > 200
    assert all(b is not None for b in boxes["person-1"])
    fx1, fy1, fx2, fy2 = truth["video"]["flash"]["box"]
    flashes = set(truth["video"]["flash"]["frames"])
    for index in (20, 30, 60, 61, 100, 145, 230, 280):
        img = frame_at(sample_scene.video, index).astype(float)
        for oid, track in boxes.items():
            box = track[index]
            if box is None:
                continue
            x1, y1, x2, y2 = box
            assert 0 <= x1 < x2 <= W and 0 <= y1 < y2 <= H
            if x2 - x1 < 12:  # only the outline is in view
                continue
            patch = img[
                (y1 + y2) // 2 + 2 : (y1 + y2) // 2 + 6, (x1 + x2) // 2 - 2 : (x1 + x2) // 2 + 2
            ]
            if oid == "car-1" and boxes["person-1"] is not None:  # may be hidden by the person
                px1, _, px2, _ = boxes["person-1"][index]
                if px1 <= (x1 + x2) // 2 <= px2:
                    continue
            assert np.abs(patch.mean(axis=(0, 1)) - colors[oid]).max() < 25, (index, oid)
        flash = img[fy1 + 10 : fy2 - 10, fx1 + 10 : fx2 - 10].mean()
        if index in truth["video"]["flash"]["onset_frames"]:
            assert flash > 240, index
        elif index in flashes:
            assert flash == pytest.approx(170, abs=10), index
        else:
            assert flash < 150, index


# -- transcript and audio ---------------------------------------------------------------------


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_transcript(sample_scene: samples.SampleScene, truth: dict) -> None:
    cues = list(webvtt.read(str(sample_scene.transcript)))
    sentences = truth["sentences"]
    assert len(cues) == len(sentences) >= 3
    for cue, row in zip(cues, sentences, strict=True):
        assert cue.voice == row["speaker"]
        assert cue.text == row["text"]
        assert _seconds(cue.start) == pytest.approx(row["start"], abs=5e-4)
        assert _seconds(cue.end) == pytest.approx(row["end"], abs=5e-4)
    assert len({c.voice for c in cues}) >= 2
    starts = [_seconds(c.start) for c in cues]
    assert starts == sorted(starts)
    assert sample_scene.transcript.read_text().startswith("WEBVTT\n\n")


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def test_audio_energy_follows_the_truth(sample_scene: samples.SampleScene, truth: dict) -> None:
    audio, rate = sf.read(sample_scene.audio)
    assert rate == 48_000 and audio.ndim == 1 and len(audio) == truth["audio"]["frames"]
    for row in truth["sentences"]:
        speech = audio[int(row["start"] * rate) : int(row["end"] * rate)]
        assert _rms(speech) > 0.03, row
    events = sorted(
        [(r["start"], r["end"]) for r in truth["sentences"]]
        + [(c["time"], c["time"] + 0.15) for c in truth["claps"]]
    )
    gaps = [(a[1] + 0.02, b[0] - 0.02) for a, b in itertools.pairwise(events)]
    assert len(gaps) >= 5
    for lo, hi in gaps:
        assert _rms(audio[int(lo * rate) : int(hi * rate)]) < 0.002, (lo, hi)
    for clap in truth["claps"]:
        n = clap["sample"]
        assert clap["sample"] == round(clap["time"] * rate)
        assert np.abs(audio[n - 480 : n]).max() < 0.01  # silence before the onset
        assert np.abs(audio[n : n + 48]).max() > 0.2  # loud within 1 ms


def _xcorr_lag(reference: np.ndarray, signal: np.ndarray) -> float:
    """Sub-sample position of ``reference`` inside ``signal`` (peak of cross-correlation)."""
    n = len(signal) + len(reference)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(reference, size)), size)
    corr = corr[: len(signal) - len(reference) + 1]
    k = int(np.argmax(corr))
    a, b, c = corr[k - 1], corr[k], corr[k + 1]
    return k + 0.5 * (a - c) / (a - 2 * b + c)


def test_second_audio_follows_its_clock(sample_scene: samples.SampleScene, truth: dict) -> None:
    main, rate = sf.read(sample_scene.audio)
    second, rate2 = sf.read(sample_scene.second_audio)
    assert rate == rate2 == 48_000
    clock = truth["clocks"]["second_audio"]
    assert clock == {"offset": 0.3617, "rate": 1.00015}
    assert truth["clocks"]["video"] == truth["clocks"]["audio"] == {"offset": 0.0, "rate": 1.0}
    assert truth["clocks"]["lidar"]["offset"] == 0.0
    found = []
    for clap in truth["claps"]:
        ref = main[clap["sample"] - 480 : clap["sample"] + 2400]  # 10 ms before, 50 ms after
        predicted = (clap["time"] - clock["offset"]) / clock["rate"]  # stream time
        lo = int(predicted * rate) - 4800
        lag = _xcorr_lag(ref, second[lo : lo + 9600])
        measured = (lo + lag + 480) / rate
        assert measured == pytest.approx(predicted, abs=1.5 / rate)
        found.append((clap["time"], measured))
    (t1, s1), (t3, s3) = found[0], found[-1]
    rate_est = (t3 - t1) / (s3 - s1)
    assert rate_est == pytest.approx(clock["rate"], abs=1e-5)
    assert abs(rate_est - 1.0) > 1e-4  # the drift is really there
    offset_est = t1 - rate_est * s1
    assert offset_est == pytest.approx(clock["offset"], abs=1e-4)
    # speech too: the second recorder's samples equal the item content, scaled
    row = truth["sentences"][1]
    t_stream = (
        np.arange(
            int((row["start"] - clock["offset"]) / clock["rate"] * rate),
            int((row["end"] - clock["offset"]) / clock["rate"] * rate),
        )
        / rate
    )
    item = clock["offset"] + clock["rate"] * t_stream
    expected = np.interp(item, np.arange(len(main)) / rate, main)
    got = second[(t_stream * rate).round().astype(int)]
    assert np.corrcoef(expected, got)[0, 1] > 0.95


def test_synthetic_voice_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples.shutil, "which", lambda name: None)
    sources, rows, info = samples._speech()
    assert info == {"speech_source": "synthetic"}
    assert [r["text"] for r in rows] == [s[1] for s in samples.SENTENCES]
    t = np.arange(0, 10.01, 1 / 48_000)
    y = samples._render(sources, t)
    for row in rows:
        mask = (t >= row["start"]) & (t <= row["end"])
        assert _rms(y[mask]) > 0.03
    assert _rms(y[(t > rows[0]["end"] + 0.05) & (t < rows[1]["start"] - 0.05)]) == 0.0
    spectrum = np.abs(np.fft.rfft(y[(t >= rows[1]["start"]) & (t < rows[1]["start"] + 1)]))
    assert np.argmax(spectrum) > 50  # voiced: harmonics well above DC / the syllable rate


# -- LiDAR and calibration --------------------------------------------------------------------


def _in_cuboid(points: np.ndarray, lidar: dict) -> np.ndarray:
    d = points[:, :3].astype(np.float64) - np.array(lidar["center"])
    c, s = math.cos(lidar["yaw"]), math.sin(lidar["yaw"])
    lx, ly = c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]
    ln, w, h = lidar["size"]
    return (np.abs(lx) <= ln / 2) & (np.abs(ly) <= w / 2) & (np.abs(d[:, 2]) <= h / 2)


def test_lidar_sweeps(sample_scene: samples.SampleScene, truth: dict) -> None:
    sweeps = truth["lidar"]["sweeps"]
    files = sorted(sample_scene.lidar.glob("*.bin"))
    assert [f.name for f in files] == [f"{k:06d}.bin" for k in range(100)]
    assert len(sweeps) == 100
    frame_times = np.array(truth["video"]["frame_times"])
    for k, sweep in enumerate(sweeps):
        assert sweep["timestamp"] == pytest.approx(k * 0.1)
        assert sweep["matched_frame"] == int(np.argmin(np.abs(frame_times - sweep["timestamp"])))
        if k % 9:
            continue
        raw = np.fromfile(sample_scene.root / sweep["file"], dtype=np.float32)
        assert raw.size % 4 == 0
        points = raw.reshape(-1, 4)
        assert len(points) == sweep["num_points"]
        assert 20_000 <= len(points) <= 30_000
        assert np.isfinite(points).all()
        assert ((points[:, 3] >= 0) & (points[:, 3] <= 1)).all()
        assert np.median(points[:, 2]) == pytest.approx(truth["lidar"]["ground_z"], abs=0.1)
        for obj in sweep["objects"]:
            inside = _in_cuboid(points, obj["lidar"])
            assert inside.sum() == obj["num_points"], (k, obj["id"])
            minimum = 300 if obj["label"] == "car" else 80
            assert obj["num_points"] >= minimum
            # the object's points cover its visible extent, not just a corner
            local = points[inside, :3] - np.array(obj["lidar"]["center"])
            assert np.ptp(local[:, 2]) > 0.8 * obj["lidar"]["size"][2]


def test_calibration_text(sample_scene: samples.SampleScene, calib: dict, truth: dict) -> None:
    lines = sample_scene.calibration.read_text().splitlines()
    assert [ln.split(":")[0] for ln in lines if ln] == [
        "P0",
        "P1",
        "P2",
        "P3",
        "R0_rect",
        "Tr_velo_to_cam",
        "Tr_imu_to_velo",
    ]
    for line in lines:
        if line:
            assert all(len(v.split("e")[0].split(".")[1]) == 12 for v in line.split()[1:])
    for key, matrix in calib.items():
        np.testing.assert_allclose(matrix, truth["calibration"][key], rtol=1e-11, atol=1e-12)
    r0 = calib["R0_rect"]
    np.testing.assert_allclose(r0 @ r0.T, np.eye(3), atol=1e-9)
    rot = calib["Tr_velo_to_cam"][:, :3]
    np.testing.assert_allclose(rot, [[0, -1, 0], [0, 0, -1], [1, 0, 0]], atol=0.02)
    assert calib["P2"][0, 0] == pytest.approx(500) and calib["P2"][1, 1] == pytest.approx(500)


def test_projected_boxes(truth: dict, calib: dict[str, np.ndarray]) -> None:
    visible = 0
    drawn = truth["video"]["boxes"]
    for sweep in truth["lidar"]["sweeps"]:
        for obj in sweep["objects"]:
            lidar = obj["lidar"]
            mine = project_box(calib, lidar["center"], lidar["size"], lidar["yaw"])
            box = obj["box2d"]
            assert (mine is None) == (box is None)
            if box is None:
                continue
            visible += 1
            assert 0 <= box[0] < box[2] <= W and 0 <= box[1] < box[3] <= H
            np.testing.assert_allclose(box, mine, atol=2e-3)
            assert obj["kitti"]["bbox"] == box
            # the same object drawn in the matched camera frame (≤ half a frame away in time)
            assert iou(box, drawn[obj["id"]][sweep["matched_frame"]]) > 0.85
    assert visible > 150  # both objects in front of the camera for most of the clip


def test_kitti_labels(truth: dict, calib: dict[str, np.ndarray]) -> None:
    r0t = calib["R0_rect"] @ calib["Tr_velo_to_cam"][:, :3]
    t = calib["R0_rect"] @ calib["Tr_velo_to_cam"][:, 3]
    for sweep in truth["lidar"]["sweeps"]:
        for obj in sweep["objects"]:
            lidar, kitti = obj["lidar"], obj["kitti"]
            ln, w, h = lidar["size"]
            assert kitti["dimensions"] == [h, w, ln]
            bottom = np.array(lidar["center"]) - [0, 0, h / 2]
            np.testing.assert_allclose(kitti["location"], r0t @ bottom + t, atol=1e-5)
            expected_ry = (-lidar["yaw"] - math.pi / 2 + math.pi) % (2 * math.pi) - math.pi
            assert math.cos(kitti["rotation_y"] - expected_ry) > math.cos(0.05)
            assert kitti["type"] in ("Car", "Pedestrian")
            if kitti["bbox"] is not None:
                fields = kitti["line"].split()
                assert len(fields) == 15 and fields[0] == kitti["type"]
                assert 0 <= kitti["truncated"] < 1


def test_truth_is_json_round_trippable(sample_scene: samples.SampleScene, truth: dict) -> None:
    assert json.loads(sample_scene.ground_truth.read_text()) == truth
    assert set(truth) >= {
        "clocks",
        "video",
        "audio",
        "second_audio",
        "sentences",
        "claps",
        "objects",
        "lidar",
        "calibration",
        "generator",
    }
