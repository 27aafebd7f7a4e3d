"""Player spectrogram end to end on the sample scene, read from the lane canvas's pixels."""

from __future__ import annotations

import itertools
import time

import numpy as np
from playwright.sync_api import Locator, expect

from .lab import Lab
from .test_player import _players, _setup

# The page's colour map stops (spectrogram.ts COLORMAP_STOPS), to recognise its colours.
STOPS = np.array(
    [
        [68, 1, 84],
        [71, 44, 122],
        [59, 81, 139],
        [44, 113, 142],
        [33, 144, 141],
        [39, 173, 129],
        [92, 200, 99],
        [170, 220, 50],
        [253, 231, 37],
    ],
    float,
)
WAVE_BLUE = np.array([59, 110, 168], float)  # lanes.ts waveform fill

READ_LANE = """
(canvas) => {
  const ctx = canvas.getContext("2d");
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { w: canvas.width, h: canvas.height, dpr: window.devicePixelRatio || 1,
           data: Array.from(img.data) };
}
"""


def _pixels(lane: Locator) -> tuple[np.ndarray, float]:
    """(h, w, 3) RGB of the lane canvas and the device pixel ratio."""
    r = lane.locator("canvas.accord-player-lane-canvas").evaluate(READ_LANE)
    rgba = np.array(r["data"], float).reshape(r["h"], r["w"], 4)
    return rgba[..., :3], float(r["dpr"])


def _colormap_distance(rgb: np.ndarray) -> np.ndarray:
    """Distance of each pixel to the colour map's polyline in RGB."""
    p = rgb.reshape(-1, 3)
    best = np.full(len(p), np.inf)
    for a, b in itertools.pairwise(STOPS):
        ab = b - a
        t = np.clip(((p - a) @ ab) / (ab @ ab), 0, 1)
        best = np.minimum(best, np.linalg.norm(p - (a + t[:, None] * ab), axis=1))
    return best.reshape(rgb.shape[:-1])


def _x(root: Locator, t: float) -> float:
    return root.evaluate(f"(r) => r.accordPlayer.view.timeToX({t})")


def _column_brightness(root: Locator, lane: Locator, t0: float, t1: float) -> float:
    """Mean luminance of the lane's pixel columns over item seconds [t0, t1]."""
    rgb, dpr = _pixels(lane)
    a, b = int(_x(root, t0) * dpr), int(_x(root, t1) * dpr)
    lum = rgb @ np.array([0.2126, 0.7152, 0.0722])
    return float(lum[:, a:b].mean())


def _wait_ready(lane: Locator) -> None:
    expect(lane).to_have_attribute("data-spectrogram-ready", "1", timeout=20_000)
    time.sleep(0.3)  # the frame after the reply is drawn


def test_a_lane_toggles_to_a_spectrogram_brighter_in_speech(lab: Lab) -> None:
    _setup(lab)
    lab.run("p = ac.Player(s, 'scene', height=120)\np")
    (root,) = _players(lab)
    lane = root.locator('.accord-player-lane[data-stream="audio"]')
    # the waveform first: its blue bars, nothing in the colour map's colours
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        rgb, _ = _pixels(lane)
        if (np.linalg.norm(rgb - WAVE_BLUE, axis=-1) < 3).mean() > 0.02:
            break
        time.sleep(0.2)
    blue = (np.linalg.norm(rgb - WAVE_BLUE, axis=-1) < 3).mean()
    assert blue > 0.02
    assert (_colormap_distance(rgb) < 6).mean() < 0.1
    assert lane.get_attribute("data-view") == "waveform"

    # the header button turns it into a spectrogram, with frequency labels as text
    lane.locator(".accord-player-spectrogram-button").click()
    expect(lane).to_have_attribute("data-view", "spectrogram")
    _wait_ready(lane)
    labels = lane.locator(".accord-player-spectrogram-label").all_text_contents()
    assert labels == ["8 kHz", "4 kHz", "0"]
    rgb, _ = _pixels(lane)
    assert (np.linalg.norm(rgb - WAVE_BLUE, axis=-1) < 3).mean() < 0.001
    assert (_colormap_distance(rgb) < 6).mean() > 0.95

    # during a sentence the columns are brighter than in the silence before it
    sentence = (2.6, 4.0)  # "A red car drives across the street." (2.4–4.26 s)
    silence = (1.6, 1.95)  # between the first sentence and the clap at 2.0 s
    loud, quiet = (
        _column_brightness(root, lane, *sentence),
        _column_brightness(root, lane, *silence),
    )
    assert loud > quiet + 15, (loud, quiet)

    # zoomed in, a finer image is asked for and still bright in speech, dark in silence
    root.evaluate("(r) => r.accordPlayer.view.show(1.5, 4.0)")
    _wait_ready(lane)
    loud, quiet = (
        _column_brightness(root, lane, *sentence),
        _column_brightness(root, lane, *silence),
    )
    assert loud > quiet + 15, (loud, quiet)

    # a previewed clock offset moves the spectrogram with the stream: the clap (stream
    # 2.002 s, loud in every band) moves from item 2.0 to item 2.4
    clap_before = _column_brightness(root, lane, 1.995, 2.02)
    assert clap_before > quiet + 30, (clap_before, quiet)
    lane.locator(".accord-player-clock-button").click()
    editor = root.locator('.accord-player-clock-editor[data-stream="audio"]')
    editor.locator(".accord-player-clock-offset").fill("0.4")
    expect(lane).to_have_attribute("data-offset", "0.4", timeout=5_000)
    _wait_ready(lane)
    clap_after = _column_brightness(root, lane, 2.395, 2.42)
    old_place = _column_brightness(root, lane, 1.995, 2.02)  # now stream 1.6 s: silence
    assert clap_after > old_place + 30, (clap_after, old_place)
    assert abs(clap_after - clap_before) < 20, (clap_after, clap_before)

    # Shift+S: every audio lane to the spectrogram, then all back; the tiers' ? help names it
    # (second_audio is still a waveform, so the first press turns every audio lane on)
    other = root.locator('.accord-player-lane[data-stream="second_audio"]')
    root.press("Shift+S")
    expect(other).to_have_attribute("data-view", "spectrogram")
    expect(lane).to_have_attribute("data-view", "spectrogram")
    root.press("Shift+S")
    expect(other).to_have_attribute("data-view", "waveform")
    expect(lane).to_have_attribute("data-view", "waveform")
    help_titles = root.locator("button", has_text="?").evaluate_all(
        "(bs) => bs.map((b) => b.title)"
    )
    assert any("Shift+S" in t and "spectrogram" in t for t in help_titles)
