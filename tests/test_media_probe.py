"""Tests of accord.media.probe on the generated sample scene and on bad media."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from accord import samples
from accord.errors import (
    CorruptMediaError,
    MediaError,
    MissingMediaError,
    OutOfBoundsError,
    UnsupportedMediaError,
)
from accord.media.probe import (
    AudioInfo,
    VideoInfo,
    frame_at,
    probe_audio,
    probe_image,
    probe_video,
)

# -- the sample video -------------------------------------------------------------------------


def test_probe_sample_video(sample_scene: samples.SampleScene) -> None:
    info = probe_video(sample_scene.video)
    assert isinstance(info, VideoInfo)
    assert info.codec == "h264"
    assert (info.width, info.height) == (640, 360)
    assert info.frame_count == 300
    assert info.average_rate == Fraction(30000, 1001)
    assert not info.is_vfr
    expected = np.arange(300) * 1001 / 30000
    np.testing.assert_allclose(info.timestamps, expected, rtol=0, atol=1e-9)
    assert info.start_time == 0.0
    assert info.duration == pytest.approx(10.01, abs=1e-9)
    assert info.frame_duration(0) == pytest.approx(1001 / 30000)
    assert info.frame_duration(299) == pytest.approx(1001 / 30000)
    assert not info.timestamps.flags.writeable


@pytest.mark.parametrize("index", [0, 1, 2, 29, 30, 31, 59, 61, 150, 151, 298, 299])
def test_frame_at_is_exact(sample_scene: samples.SampleScene, index: int) -> None:
    img = frame_at(sample_scene.video, index)
    assert img.shape == (360, 640, 3) and img.dtype == np.uint8
    assert samples.read_frame_index(img, sample_scene.truth) == index


def test_frame_at_random_order_and_repeated(sample_scene: samples.SampleScene) -> None:
    truth = sample_scene.truth
    rng = np.random.default_rng(7)
    for index in rng.choice(300, size=12, replace=False):
        assert samples.read_frame_index(frame_at(sample_scene.video, int(index)), truth) == index


def test_frame_at_out_of_range(sample_scene: samples.SampleScene) -> None:
    for index in (-1, 300, 10_000):
        with pytest.raises(OutOfBoundsError, match="0 <= index < 300"):
            frame_at(sample_scene.video, index)


def test_probe_sample_audio(sample_scene: samples.SampleScene) -> None:
    wav = probe_audio(sample_scene.audio)
    assert isinstance(wav, AudioInfo)
    assert (wav.sample_rate, wav.channels, wav.frames) == (48_000, 1, 480_480)
    assert wav.duration == pytest.approx(10.01)
    assert wav.codec == "pcm_16"
    aac = probe_audio(sample_scene.video)  # AAC in MP4 goes through PyAV
    assert (aac.codec, aac.sample_rate, aac.channels) == ("aac", 48_000, 1)
    assert aac.duration == pytest.approx(10.01, abs=0.03)


def test_probe_audio_counts_samples_when_the_container_does_not_say(tmp_path: Path) -> None:
    path = tmp_path / "tone.mka"
    signal = (0.2 * np.sin(np.arange(48_000 * 2) * 0.05)).astype(np.float32)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libopus", rate=48_000, layout="mono")
        for start in range(0, len(signal), 960):
            frame = av.AudioFrame.from_ndarray(
                signal[None, start : start + 960], format="fltp", layout="mono"
            )
            frame.sample_rate = 48_000
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with av.open(str(path)) as container:
        assert container.streams.audio[0].duration is None  # Matroska: no stream duration
    info = probe_audio(path)
    assert info.codec == "opus"
    assert info.frames == pytest.approx(96_000, abs=960)


def test_probe_audio_soundfile_formats(tmp_path: Path) -> None:
    signal = np.zeros((4410, 2), np.float32)
    signal[:, 0] = 0.1
    sf.write(tmp_path / "a.flac", signal, 44_100)
    sf.write(tmp_path / "a.ogg", signal, 44_100, format="OGG", subtype="VORBIS")
    flac = probe_audio(tmp_path / "a.flac")
    assert (flac.codec, flac.sample_rate, flac.channels, flac.frames) == ("flac", 44_100, 2, 4410)
    ogg = probe_audio(tmp_path / "a.ogg")
    assert (ogg.codec, ogg.channels) == ("vorbis", 2)
    assert ogg.duration == pytest.approx(0.1, abs=0.01)


def _write_image(path: Path, width: int, height: int, codec: str) -> None:
    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = 200
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream(codec)
        stream.width, stream.height = width, height
        stream.pix_fmt = "rgb24" if codec == "png" else "yuvj420p"
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize(("name", "codec"), [("a.png", "png"), ("a.jpg", "mjpeg")])
def test_probe_image(tmp_path: Path, name: str, codec: str) -> None:
    _write_image(tmp_path / name, 96, 54, codec)
    assert probe_image(tmp_path / name) == (96, 54)


# -- synthetic videos -------------------------------------------------------------------------


def _write_video(path: Path, pts: list[int], time_base: Fraction, rate: int = 30) -> None:
    """Encode one frame per PTS; frame k is filled with grey level 10 + 20 * k."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate, options={"g": "4"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = time_base
        for k, p in enumerate(pts):
            img = np.full((48, 64, 3), 10 + 20 * k, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = p
            frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_vfr_video(tmp_path: Path, suffix: str) -> None:
    pts_ms = [0, 33, 67, 100, 180, 200, 350, 360, 400, 480, 520, 700]
    path = tmp_path / f"vfr{suffix}"
    _write_video(path, pts_ms, Fraction(1, 1000))
    info = probe_video(path)
    assert info.is_vfr
    assert info.frame_count == len(pts_ms)
    np.testing.assert_allclose(info.timestamps, np.array(pts_ms) / 1000, atol=1e-6)
    for k in (0, 4, 6, 7, 11):  # frame identity follows PTS, not time × rate
        grey = frame_at(path, k).mean()
        assert grey == pytest.approx(10 + 20 * k, abs=4)


def test_cfr_video_is_not_vfr_and_start_is_not_shifted(tmp_path: Path) -> None:
    path = tmp_path / "late.mkv"
    _write_video(path, [500 + 40 * k for k in range(10)], Fraction(1, 1000), rate=25)
    info = probe_video(path)
    assert not info.is_vfr
    assert info.start_time == pytest.approx(0.5)
    assert info.timestamps[0] == pytest.approx(0.5)
    assert info.duration == pytest.approx(0.5 + 10 * 0.04, abs=1e-3)
    assert frame_at(path, 3).mean() == pytest.approx(70, abs=4)


def test_long_video_probes_from_packets(tmp_path: Path) -> None:
    """An hour at 30000/1001 fps (108000 packets) probes and seeks correctly."""
    path = tmp_path / "hour.mp4"
    tb = Fraction(1001, 30000)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(30000, 1001), options={"bf": "0"})
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 30
        gop = []
        for k in range(30):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 8 * k, np.uint8), "rgb24")
            frame.pts, frame.time_base = k, tb
            gop += list(stream.encode(frame))
        gop += list(stream.encode(None))
        data = [(bytes(p), p.pts, p.is_keyframe) for p in gop]
        for rep in range(108_000 // 30):
            for payload, pts, key in data:
                packet = av.Packet(payload)
                packet.pts = packet.dts = rep * 30 + pts
                packet.time_base, packet.duration = tb, 1
                packet.is_keyframe = key
                packet.stream = stream
                out.mux(packet)
    info = probe_video(path)
    assert info.frame_count == 108_000
    assert info.duration == pytest.approx(108_000 * 1001 / 30000)
    assert frame_at(path, 107_995).mean() == pytest.approx(8 * 25, abs=3)


# -- bad media --------------------------------------------------------------------------------


def test_missing_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    for probe in (probe_video, probe_audio, probe_image):
        with pytest.raises(MissingMediaError, match="expected an existing") as err:
            probe(missing)
        assert err.value.where == str(missing)
        assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(MissingMediaError, match="an existing video file"):
        frame_at(missing, 0)
    with pytest.raises(MissingMediaError):
        probe_video(tmp_path)  # a folder is not a video file


def test_text_file_renamed_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are meeting notes, not a video\n" * 20)
    with pytest.raises(CorruptMediaError, match=r"notes\.mp4"):
        probe_video(path)
    with pytest.raises(CorruptMediaError):
        probe_audio(path)
    with pytest.raises(CorruptMediaError):
        probe_image(path)


def test_truncated_mp4(sample_scene: samples.SampleScene, tmp_path: Path) -> None:
    head = tmp_path / "head.mp4"
    head.write_bytes(sample_scene.video.read_bytes()[:2048])
    with pytest.raises(CorruptMediaError):
        probe_video(head)
    half = tmp_path / "half.mp4"  # index intact, media data cut
    data = sample_scene.video.read_bytes()
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptMediaError, match="truncated"):
        probe_video(half)


def test_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(CorruptMediaError):
        probe_video(empty)


def test_audio_with_zero_samples(tmp_path: Path) -> None:
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros((0, 1), np.float32), 48_000)
    assert path.stat().st_size > 0  # a valid header, no samples
    with pytest.raises(CorruptMediaError, match="no audio samples"):
        probe_audio(path)


def test_no_video_stream(sample_scene: samples.SampleScene) -> None:
    with pytest.raises(UnsupportedMediaError, match="video stream"):
        probe_video(sample_scene.audio)
    with pytest.raises(UnsupportedMediaError):
        frame_at(sample_scene.audio, 0)


def test_errors_are_media_errors() -> None:
    for cls in (MissingMediaError, CorruptMediaError, UnsupportedMediaError):
        assert issubclass(cls, MediaError)
