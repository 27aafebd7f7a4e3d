"""Player end to end on the sample scene: exact frames from the page's pixels, stepping,
two players in sync, Python hearing the time, clock edits, bad media, RegionCanvas following."""

from __future__ import annotations

import json
import time
import uuid

from playwright.sync_api import Locator, expect

from .lab import Lab

FPS = (30000, 1001)

TAXONOMY = """
name: player-e2e
version: 1
classes:
  - name: speech
    color: "#2ca02c"
    hotkey: s
    geometries: {audio: [time_segment], video: [time_segment], text: [time_segment]}
    attributes:
      - {name: speaker, type: text}
      - {name: text, type: text}
  - name: car
    color: "#1f77b4"
    geometries: {video: [box]}
"""

# Reads the 16-bit barcode (samples.read_frame_index's layout, passed in from the truth) of
# the frames some <video>s show: each one's barcode band is drawn into one canvas first (one
# snapshot of all of them, as close in time as the page allows), then read.
READ_BARCODES = """
([videos, layout]) => {
  const band = layout.y1 + 4;
  const c = document.createElement("canvas");
  c.width = videos.reduce((w, v) => Math.max(w, v ? v.videoWidth : 0), 1);
  c.height = band * videos.length;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  videos.forEach((v, i) => {
    if (v && v.videoWidth) {
      ctx.drawImage(v, 0, 0, v.videoWidth, band, 0, i * band, v.videoWidth, band);
    }
  });
  const img = ctx.getImageData(0, 0, c.width, c.height);
  return videos.map((v, i) => {
    if (!v || v.videoWidth === 0) return -1;
    const y = i * band + Math.floor((layout.y0 + layout.y1) / 2);
    let n = 0;
    for (let bit = 0; bit < layout.bits; bit++) {
      const x = Math.floor(layout.x0 + bit * layout.block_width + layout.block_width / 2);
      const o = (y * c.width + x) * 4;
      const dark = (img.data[o] + img.data[o + 1] + img.data[o + 2]) / 3 < 128;
      n = n * 2 + (dark === (layout.black_means === 1) ? 1 : 0);
    }
    return n;
  });
}
"""


def _setup(lab: Lab, extra: str = "") -> dict:
    """A session with the sample scene as item ``scene``; returns the barcode layout."""
    store = f"player-{uuid.uuid4().hex[:8]}.accord"
    out = lab.run(
        f"""
import json
import accord as ac
from accord import samples
sc = samples.scene()
tax = ac.Taxonomy.from_yaml('''{TAXONOMY}''')
STORE = "{store}"
s = ac.Session(STORE, taxonomy=tax, annotator="ana")
s.add_item("scene", video=sc.video,
           audio={{"audio": sc.audio, "second_audio": sc.second_audio}},
           transcript=sc.transcript)
{extra}
print(json.dumps(sc.truth["video"]["barcode"]))
"""
    )
    return json.loads(out.splitlines()[-1])


def _players(lab: Lab, n: int = 1, timeout: float = 30) -> list[Locator]:
    roots = lab.output_locator().locator(".accord-player")
    expect(roots).to_have_count(n, timeout=timeout * 1000)
    for i in range(n):
        expect(roots.nth(i)).to_have_attribute("data-ready", "1", timeout=timeout * 1000)
    return [roots.nth(i) for i in range(n)]


def _centre(n: int) -> float:
    return (n + 0.5) * FPS[1] / FPS[0]


def _barcodes(roots: list[Locator], layout: dict, stream: str = "video") -> list[int]:
    """The frame index each root's video of ``stream`` shows, read from its pixels."""
    videos = [r.locator(f'video[data-stream="{stream}"]').element_handle() for r in roots]
    return roots[0].page.evaluate(READ_BARCODES, [videos, layout])


def _barcode(root: Locator, layout: dict, stream: str = "video") -> int:
    return _barcodes([root], layout, stream)[0]


def _wait_frame(root: Locator, n: int, timeout: float = 10) -> None:
    expect(root).to_have_attribute("data-frame", str(n), timeout=timeout * 1000)


def test_seek_shows_the_exact_frame_from_the_pixels(lab: Lab) -> None:
    layout = _setup(lab)
    lab.run("p = ac.Player(s, 'scene', height=240)\np")
    (root,) = _players(lab)
    assert _barcode(root, layout) == 0
    # seeks from Python (item seconds at the frame centre) ...
    for n in (1, 150, 17, 289, 299):
        lab.run(f"p.time = {_centre(n)!r}")
        _wait_frame(root, n)
        assert _barcode(root, layout) == n, n
    # ... and from the page's jump field (#frame), late and early frames
    jump = root.locator(".accord-player-jump")
    for n in (298, 3, 240):
        jump.fill(f"#{n}")
        jump.press("Enter")
        _wait_frame(root, n)
        assert _barcode(root, layout) == n, n
    # Python hears the time of a page seek (not per frame)
    lab.wait_value("round(p.time, 6)", round(_centre(240), 6))


def test_frame_steps_land_on_the_next_and_previous_frame(lab: Lab) -> None:
    layout = _setup(lab)
    lab.run("p = ac.Player(s, 'scene', height=240)\np")
    (root,) = _players(lab)
    lab.run(f"p.time = {_centre(100)!r}")
    _wait_frame(root, 100)
    root.click(position={"x": 5, "y": 5})
    for key, n in (
        ("ArrowRight", 101),
        ("ArrowRight", 102),
        ("ArrowLeft", 101),
        ("ArrowLeft", 100),
    ):
        root.press(key)
        _wait_frame(root, n)
        assert _barcode(root, layout) == n, (key, n)
    root.locator(".accord-player-step-forward").click()
    _wait_frame(root, 101)
    assert _barcode(root, layout) == 101
    lab.wait_value("round(p.time, 6)", round(_centre(101), 6))
    # the last frame: stepping past it stays on it
    lab.run(f"p.time = {_centre(299)!r}")
    _wait_frame(root, 299)
    root.press("ArrowRight")
    time.sleep(0.3)
    assert root.get_attribute("data-frame") == "299" and _barcode(root, layout) == 299


def test_two_players_of_one_item_stay_within_one_frame_while_playing(lab: Lab) -> None:
    layout = _setup(lab)
    lab.run(
        "from IPython.display import display\n"
        "p1 = ac.Player(s, 'scene', height=180, tiers=False)\n"
        "p2 = ac.Player(s, 'scene', height=180, tiers=False)\n"
        "display(p1, p2)"
    )
    a, b = _players(lab, 2)
    page = lab.page
    a.locator(".accord-player-play").click()
    expect(b).to_have_attribute("data-playing", "1")
    samples = []
    videos = [r.locator('video[data-stream="video"]').element_handle() for r in (a, b)]
    t_end = time.monotonic() + 4.0
    while time.monotonic() < t_end:
        samples.append(tuple(page.evaluate(READ_BARCODES, [videos, layout])))
        time.sleep(0.05)
    # Python heard the play (once), not the frames
    assert lab.value("[p1.playing, p2.playing]") == [True, True]
    a.locator(".accord-player-play").click()
    expect(a).to_have_attribute("data-playing", "0")
    frames_a = [x for x, _ in samples]
    assert len(samples) >= 15, samples
    assert frames_a[-1] - frames_a[0] >= 45, samples  # it played (~4 s at 30 fps)
    worst = max(abs(x - y) for x, y in samples)
    assert worst <= 1, " ".join(f"{x}/{y}" for x, y in samples)
    # Python hears the pause, with the time, in both widgets
    lab.wait_value("[p1.playing, p2.playing]", [False, False])
    t1, t2 = lab.value("[p1.time, p2.time]")
    assert abs(t1 - t2) < 1e-6 and t1 > 1.0


def test_clock_edit_moves_segments_live_and_is_persisted(lab: Lab) -> None:
    _setup(
        lab,
        "s.import_file('webvtt', sc.transcript, item='scene', stream='audio', label='speech', "
        "text_attribute='text')",
    )
    lab.run("p = ac.Player(s, 'scene', height=160)\np")
    (root,) = _players(lab)
    segs = root.locator("[data-segment-id]")
    expect(segs.first).to_be_attached(timeout=15_000)
    first_id = segs.first.get_attribute("data-segment-id")
    seg = root.locator(f'[data-segment-id="{first_id}"]')
    start0 = float(seg.get_attribute("data-item-start"))
    lane = root.locator('.accord-player-lane[data-stream="audio"]')
    lane_start0 = float(lane.get_attribute("data-item-start"))
    # open the clock editor of the audio stream and type an offset: live preview
    lane.locator(".accord-player-clock-button").click()
    editor = root.locator('.accord-player-clock-editor[data-stream="audio"]')
    offset = editor.locator(".accord-player-clock-offset")
    offset.fill("0.5")
    expect(editor).to_have_attribute("data-dirty", "1")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if abs(float(seg.get_attribute("data-item-start")) - (start0 + 0.5)) < 1e-3:
            break
        time.sleep(0.05)
    assert abs(float(seg.get_attribute("data-item-start")) - (start0 + 0.5)) < 1e-3
    assert abs(float(lane.get_attribute("data-item-start")) - (lane_start0 + 0.5)) < 1e-6
    # nothing stored before Save
    assert lab.value("s.stream('scene', 'audio').clock.offset") == 0.0
    editor.locator(".accord-player-clock-drift").fill("150")
    editor.locator(".accord-player-clock-save").click()
    expect(editor).to_have_attribute("data-dirty", "0")
    lab.wait_value("s.stream('scene', 'audio').clock.offset", 0.5)
    assert lab.value("round(s.stream('scene', 'audio').clock.drift_ppm, 6)") == 150.0
    assert lab.value("s.streams.set_index('stream').loc['audio', ['offset', 'rate']].tolist()") == [
        0.5,
        1.00015,
    ]
    # persisted: a fresh Session on the same store sees it; the page keeps the moved segment
    assert (
        lab.value(
            "(lambda s2: (s2.stream('scene', 'audio').clock.offset, s2.close())[0])"
            "(ac.Session(STORE, taxonomy=tax, annotator='bob'))"
        )
        == 0.5
    )
    assert abs(float(seg.get_attribute("data-item-start")) - (start0 + 0.5)) < 1e-3
    # undo from Python puts it back, and the page follows
    lab.run("s.undo()")
    lab.wait_value("s.stream('scene', 'audio').clock.offset", 0.0)
    expect(lane).to_have_attribute("data-offset", "0", timeout=10_000)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if abs(float(seg.get_attribute("data-item-start")) - start0) < 1e-3:
            break
        time.sleep(0.05)
    assert abs(float(seg.get_attribute("data-item-start")) - start0) < 1e-3


def test_a_video_that_cannot_play_shows_an_error_and_the_rest_works(lab: Lab) -> None:
    _setup(
        lab,
        """
import shutil
from pathlib import Path
shutil.copy(sc.video, "broken.mp4")
s.add_item("broken", video="broken.mp4", audio=sc.audio)
Path("broken.mp4").write_bytes(b"not a video at all" * 1000)
""",
    )
    lab.run("pb = ac.Player(s, 'broken', height=160)\npb")
    (root,) = _players(lab)
    banner = root.locator(".accord-error")
    expect(banner.first).to_be_visible()
    assert "video" in banner.first.inner_text()
    # the audio still plays, the clock runs, Python hears the pause
    root.locator(".accord-player-play").click()
    expect(root).to_have_attribute("data-playing", "1")
    time.sleep(1.0)
    root.locator(".accord-player-play").click()
    expect(root).to_have_attribute("data-playing", "0")
    assert float(root.get_attribute("data-time")) > 0.3
    lab.wait_value("pb.playing", False)
    assert lab.value("pb.time") > 0.3


def test_media_come_through_the_kernel_without_the_server_route(lab: Lab) -> None:
    layout = _setup(lab)
    lab.run(
        "p = ac.Player(s, 'scene', ['video'], height=160, tiers=False)\n"
        "p.stream_infos = [dict(i, url='accord/no-such-route?path=x') for i in p.stream_infos]\n"
        "p.time = " + repr(_centre(77)) + "\np"
    )
    (root,) = _players(lab)
    src = root.locator("video").get_attribute("src")
    assert src and src.startswith("blob:")
    _wait_frame(root, 77)
    assert _barcode(root, layout) == 77


def test_region_canvas_shows_the_frame_under_the_shared_playhead(lab: Lab) -> None:
    _setup(lab)
    lab.run(
        "from IPython.display import display\n"
        "p = ac.Player(s, 'scene', ['video'], height=160, tiers=False)\n"
        "c = ac.RegionCanvas(s, 'scene', 'video', frame=0, height=240)\n"
        "display(p, c)"
    )
    (root,) = _players(lab)
    canvas_root = (
        lab.output_locator().locator("[data-frame]").filter(has=lab.page.locator("canvas")).last
    )
    jump = root.locator(".accord-player-jump")
    for n in (42, 211):
        jump.fill(f"#{n}")
        jump.press("Enter")
        _wait_frame(root, n)
        lab.wait_value("c.frame", n)
        expect(canvas_root).to_have_attribute("data-frame", str(n))


VFR_VIDEO = """
import av
import numpy as np
from fractions import Fraction
VFR_TIMES = [0.0, 0.04, 0.05, 0.2, 0.21, 0.5, 0.52, 0.9, 1.0]
with av.open("vfr.mp4", "w") as out:
    st = out.add_stream("libx264", rate=1000)
    st.width, st.height, st.pix_fmt = 640, 360, "yuv420p"
    st.codec_context.time_base = Fraction(1, 1000)
    for i, t in enumerate(VFR_TIMES):
        img = np.full((360, 640, 3), 200, np.uint8)
        samples._draw_index(img, i)  # the sample scene's barcode layout
        f = av.VideoFrame.from_ndarray(img, format="rgb24")
        f.pts, f.time_base = int(round(t * 1000)), Fraction(1, 1000)
        for p in st.encode(f):
            out.mux(p)
    for p in st.encode():
        out.mux(p)
s.add_item("vfr", video="vfr.mp4")
"""


def test_variable_frame_rate_steps_follow_the_real_frame_times(lab: Lab) -> None:
    layout = _setup(lab, VFR_VIDEO)
    assert lab.value("s.stream('vfr', 'video').timeline.rate") is None  # really VFR
    lab.run("pv = ac.Player(s, 'vfr', height=180)\npv")
    (root,) = _players(lab)
    assert _barcode(root, layout) == 0
    root.click(position={"x": 5, "y": 5})
    for n in range(1, 8):
        root.press("ArrowRight")
        _wait_frame(root, n)
        assert _barcode(root, layout) == n, n
    times = lab.value("VFR_TIMES")
    # the playhead sits in the middle of frame 7, between its real start and the next
    lab.wait_value("round(pv.time, 6)", round((times[7] + times[8]) / 2, 6))
    for n in (6, 5, 4):
        root.press("ArrowLeft")
        _wait_frame(root, n)
        assert _barcode(root, layout) == n, n
