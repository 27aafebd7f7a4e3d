"""The Player's ``spectrogram.get`` query: shape, binary size, item↔stream time, tones, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import accord as ac
from accord import samples
from accord.model.clock import Clock
from accord.widgets.player import Player
from accord.widgets.player_spectrogram import MAX_COLUMNS, spectrogram_rows

from .test_widget_protocol import Page

SR = 16000
OFFSET, RATE = 1.25, 1.001


def _tone_wav(path: Path, freq: float, start: float, end: float, total: float = 4.0) -> Path:
    """Silence with a sine of ``freq`` Hz (0.5 full scale) between ``start`` and ``end`` s."""
    t = np.arange(int(total * SR)) / SR
    x = np.where((t >= start) & (t < end), 0.5 * np.sin(2 * np.pi * freq * t), 0.0)
    sf.write(path, x.astype(np.float32), SR, subtype="PCM_16")
    return path


@pytest.fixture
def tone(tmp_path: Path, taxonomy: ac.Taxonomy):
    """An item whose audio (a 1 kHz tone at 1–2 s stream time) runs on a clock 1.25 + 1.001·t."""
    wav = _tone_wav(tmp_path / "tone.wav", 1000.0, 1.0, 2.0)
    s = ac.Session(tmp_path / "t.accord", taxonomy=taxonomy, annotator="ana")
    s.add_item(
        "clip",
        audio={"mic": wav},
        clocks={"mic": Clock(OFFSET, RATE)},
    )
    yield s
    s.close()


def _ask(page: Page, **payload):
    reply, bufs = page.ask("spectrogram.get", **payload)
    assert reply["ok"], reply
    return reply["result"], bufs


def _image(h: dict, bufs: list) -> np.ndarray:
    dtype = np.uint8 if h["dtype"] == "uint8" else np.dtype("<f4")
    return np.frombuffer(bufs[0], dtype).reshape(h["rows"], h["columns"])


def test_reply_is_one_binary_buffer_of_rows_by_columns(scene_with_audio) -> None:
    page = Page(Player(scene_with_audio, "scene"))
    h, bufs = _ask(page, stream="audio", start=2.0, end=4.0, columns=400, rows=64)
    assert len(bufs) == 1 and isinstance(bufs[0], bytes | bytearray | memoryview)
    assert h["rows"] == 64 and 395 <= h["columns"] <= 400
    assert len(bufs[0]) == h["rows"] * h["columns"]  # uint8
    assert not any(isinstance(v, list) and len(v) > 2 for v in h.values())  # no JSON arrays of data
    # float32 on request: 4 bytes a cell, levels in dB (floor −120)
    h32, b32 = _ask(page, stream="audio", start=2.0, end=4.0, columns=400, rows=64, dtype="float32")
    assert len(b32[0]) == 4 * h32["rows"] * h32["columns"]
    img = _image(h32, b32)
    assert img.max() <= 0.0 and img.min() >= -120.0
    # columns tile the asked range: centres one dt apart, first centred in the first pixel
    assert h["dt"] == pytest.approx(2.0 / h["columns"], rel=0.01)
    assert h["time0"] == pytest.approx(2.0 + h["dt"] / 2, abs=1 / 48000)
    assert h["item_start"] == pytest.approx(2.0, abs=1e-4)
    assert h["item_end"] == pytest.approx(4.0, abs=h["dt"])


def test_item_time_maps_to_stream_time_through_the_clock(tone) -> None:
    page = Page(Player(tone, "clip"))
    # item 2.0 .. 4.0  ->  stream (2.0 - 1.25) / 1.001 .. (4.0 - 1.25) / 1.001
    h, bufs = _ask(page, stream="mic", start=2.0, end=4.0, columns=200, rows=40, fmax=4000)
    assert h["clock"] == {"offset": OFFSET, "rate": RATE}
    assert h["stream_start"] == pytest.approx((2.0 - OFFSET) / RATE, abs=1e-4)
    assert h["stream_end"] == pytest.approx((4.0 - OFFSET) / RATE, abs=h["dt"])
    assert h["item_start"] == pytest.approx(2.0, abs=1e-4)
    img = _image(h, bufs)
    col_item = OFFSET + RATE * (h["time0"] + h["dt"] * np.arange(h["columns"]))
    loud = img.max(axis=0) > 128
    # the tone (stream 1–2 s) is loud exactly over item 1.25 + 1.001·[1, 2] (± one window)
    on = (col_item > OFFSET + RATE * 1.0 + 0.04) & (col_item < OFFSET + RATE * 2.0 - 0.04)
    off = (col_item < OFFSET + RATE * 1.0 - 0.04) | (col_item > OFFSET + RATE * 2.0 + 0.04)
    assert loud[on].all() and not loud[off].any()
    # a previewed clock from the page moves the window: item 3.0 is now stream 0.5
    h2, _ = _ask(
        page,
        stream="mic",
        start=3.0,
        end=4.0,
        columns=100,
        rows=8,
        clock={"offset": 2.5, "rate": 1.0},
    )
    assert h2["stream_start"] == pytest.approx(0.5, abs=1e-4)
    assert h2["clock"] == {"offset": 2.5, "rate": 1.0}


def test_a_pure_tone_lands_in_its_row(tone) -> None:
    page = Page(Player(tone, "clip"))
    rows, fmax = 40, 4000.0  # 100 Hz a row: 1 kHz is the bottom of row 10
    item = OFFSET + RATE * 1.5
    h, bufs = _ask(
        page, stream="mic", start=item - 0.2, end=item + 0.2, columns=20, rows=rows, fmax=fmax
    )
    assert h["fmax"] == fmax
    img = _image(h, bufs)
    peak_rows = img.argmax(axis=0)
    assert set(peak_rows.tolist()) <= {9, 10}  # the band holding 1000 Hz (±its window's leakage)
    assert (img[10] >= 250).all()  # 0.5 full scale ≈ −6 dBFS: top of the default range
    assert (img[30:] <= 10).all()  # 3–4 kHz: nothing
    # fmax above Nyquist is capped; rows still split [0, Nyquist)
    h2, bufs2 = _ask(
        page,
        stream="mic",
        start=item - 0.2,
        end=item + 0.2,
        columns=5,
        rows=16,
        fmax=1e6,
        dtype="float32",
    )
    assert h2["fmax"] == SR / 2
    assert set(_image(h2, bufs2).argmax(axis=0).tolist()) == {2}  # 1000 Hz / 500 Hz a row


def test_ranges_outside_the_stream_are_clipped(tone) -> None:
    page = Page(Player(tone, "clip"))
    # item 0 .. 3.25: the stream starts at item 1.25, so ~61 % of the columns remain
    h, bufs = _ask(page, stream="mic", start=0.0, end=3.25, columns=325, rows=10)
    assert h["stream_start"] == pytest.approx(0.0, abs=1e-3)
    assert h["columns"] == pytest.approx(200 / RATE, abs=2)
    assert len(bufs[0]) == 10 * h["columns"]
    # wholly before the stream: no columns, an empty buffer (not an error)
    h, bufs = _ask(page, stream="mic", start=0.0, end=1.0, columns=100, rows=10)
    assert h["columns"] == 0 and len(bufs[0]) == 0


@pytest.mark.parametrize(
    ("payload", "error", "where"),
    [
        ({"stream": "nope"}, "NotFoundError", "spectrogram.get.stream"),
        ({"stream": "video"}, "ValidationError", "spectrogram.get.stream"),
        ({"start": 3.0, "end": 3.0}, "OutOfBoundsError", "spectrogram.get.start"),
        ({"start": 4.0, "end": 2.0}, "OutOfBoundsError", "spectrogram.get.start"),
        ({"start": "a"}, "ValidationError", "spectrogram.get.start"),
        ({"columns": MAX_COLUMNS + 1}, "ValidationError", "spectrogram.get.columns"),
        ({"columns": 0}, "ValidationError", "spectrogram.get.columns"),
        ({"rows": 1.5}, "ValidationError", "spectrogram.get.rows"),
        ({"rows": float("nan")}, "ValidationError", "spectrogram.get.rows"),
        ({"dtype": "json"}, "ValidationError", "spectrogram.get.dtype"),
        ({"fmax": "high"}, "ValidationError", "spectrogram.get.fmax"),
        ({"fmax": -1}, "ValidationError", "spectrogram.get.fmax"),
        ({"db_range": [-20, -100]}, "ValidationError", "spectrogram.get.db_range"),
        ({"db_range": "loud"}, "ValidationError", "spectrogram.get.db_range"),
        ({"clock": {"offset": 0, "rate": 0}}, "ClockError", "clock.rate"),
    ],
)
def test_bad_arguments_are_typed_errors(scene_with_audio, payload, error, where) -> None:
    page = Page(Player(scene_with_audio, "scene"))
    base = {"stream": "audio", "start": 2.0, "end": 4.0, "columns": 100, "rows": 16}
    reply, bufs = page.ask("spectrogram.get", **{**base, **payload})
    assert not reply["ok"] and bufs == []
    assert reply["error"]["error"] == error and reply["error"]["where"] == where


def test_speech_is_brighter_than_silence_in_the_sample(scene_with_audio, sample_scene) -> None:
    page = Page(Player(scene_with_audio, "scene"))
    h, bufs = _ask(page, stream="audio", start=0.0, end=10.0, columns=500, rows=32, fmax=8000)
    img = _image(h, bufs).astype(float)
    t = h["time0"] + h["dt"] * np.arange(h["columns"])
    s = sample_scene.truth["sentences"][1]
    speech = (t > s["start"] + 0.2) & (t < s["end"] - 0.2)
    silence = (t > 1.6) & (t < 1.95)
    assert img[:, speech].mean() > img[:, silence].mean() + 20


def test_row_pooling_takes_the_loudest_bin_of_each_band() -> None:
    freqs = np.arange(9) * 10.0  # bins every 10 Hz, 0..80
    db = np.full((9, 1), -100.0, np.float32)
    db[3, 0] = -5.0  # 30 Hz
    out = spectrogram_rows(db, freqs, 4, 80.0)  # bands of 20 Hz
    assert out[:, 0].tolist() == [-100.0, -5.0, -100.0, -100.0]
    # bands narrower than a bin read the nearest bin
    out = spectrogram_rows(db, freqs, 16, 80.0)  # 5 Hz bands: 30 Hz is band 6 (30–35)
    assert out[6, 0] == -5.0 and out[0, 0] == -100.0


@pytest.fixture
def scene_with_audio(tmp_path: Path, sample_scene: samples.SampleScene, taxonomy: ac.Taxonomy):
    s = ac.Session(tmp_path / "p.accord", taxonomy=taxonomy, annotator="ana")
    s.add_item(
        "scene",
        video=sample_scene.video,
        audio={"audio": sample_scene.audio, "second_audio": sample_scene.second_audio},
    )
    yield s
    s.close()
