"""Player tiers end to end: gestures on the lanes change ``s.annotations``, and back.

The item is the sample scene's two recordings and its transcript (imported with
``import_webvtt``, cue text in the ``text`` attribute). ``second_audio`` runs on a clock
with offset 0.3617 s and rate 1.00015, so a segment drawn at item time T must be stored
at stream time ``(T - 0.3617) / 1.00015``.
"""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Locator

from .lab import Lab

XSS = "<img src=x onerror=alert(1)>"
OFFSET, RATE = 0.3617, 1.00015

TAXONOMY = """
name: tiers-e2e
version: 1
classes:
  - name: speech
    color: "#2ca02c"
    hotkey: s
    geometries: {audio: [time_segment], text: [time_segment]}
    attributes:
      - {name: speaker, type: text}
      - {name: text, type: text}
  - name: noise
    color: "#d62728"
    hotkey: n
    geometries: {audio: [time_segment]}
"""


def _setup(store: str) -> str:
    return f"""
import accord as ac
from accord import samples
from accord.io.webvtt import import_webvtt
sc = samples.scene()
s = ac.Session("{store}", taxonomy=ac.Taxonomy.from_yaml('''{TAXONOMY}'''), annotator="ana")
s.add_item(
    "scene",
    audio={{"audio": sc.audio, "second_audio": sc.second_audio}},
    transcript=sc.transcript,
    clocks={{"second_audio": {{"offset": {OFFSET}, "rate": {RATE}}}}},
)
import_webvtt(s, sc.transcript, item="scene", stream="transcript", label="speech",
              text_attribute="text")
print("ok")
"""


class Tiers:
    """The tiers part of a Player in the page."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.root = lab.output_locator().locator(".accord-tiers").first

    def wait(self, segments: int, timeout: float = 30) -> Tiers:
        self.root.wait_for(state="visible", timeout=timeout * 1000)
        self.lab.page.wait_for_function(
            "([r, n]) => r.accordTiers && r.accordTiers().segments === n",
            arg=[self.root.element_handle(), segments],
            timeout=timeout * 1000,
        )
        return self

    def stats(self) -> dict[str, Any]:
        return self.root.evaluate("r => r.accordTiers()")

    def view(self) -> tuple[float, float]:
        """(item seconds at the lane's left edge, seconds per CSS pixel)."""
        start, spp = self.root.evaluate("r => [r.dataset.viewStart, r.dataset.viewSpp]")
        return float(start), float(spp)

    def area(self, tier: str) -> Locator:
        return self.root.locator(f'.accord-tier[data-tier="{tier}"] .accord-tier-area')

    def x_of(self, tier: str, item_time: float) -> tuple[float, float]:
        """Page coordinates of item time ``item_time`` in the middle of a lane."""
        self.area(tier).scroll_into_view_if_needed()
        box = self.area(tier).bounding_box()
        assert box is not None, f"no lane {tier}: {self.stats()['tiers']}"
        start, spp = self.view()
        return box["x"] + (item_time - start) / spp, box["y"] + box["height"] / 2

    def segment(self, ann_id: str) -> Locator:
        return self.root.locator(f'[data-segment-id="{ann_id}"]')

    def box(self, ann_id: str) -> dict[str, float]:
        """A segment's box, scrolled into view first (running cells scrolls the notebook)."""
        seg = self.segment(ann_id)
        seg.scroll_into_view_if_needed()
        box = seg.bounding_box()
        assert box is not None, f"segment {ann_id} is not rendered"
        return box

    def click(self, ann_id: str) -> None:
        box = self.box(ann_id)
        self.lab.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def drag(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        page = self.lab.page
        page.mouse.move(*a)
        page.mouse.down()
        page.mouse.move(*b, steps=8)
        page.mouse.up()


def _start(lab: Lab) -> Tiers:
    store = f"tiers-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(_setup(store)) == "ok"
    lab.run('p = ac.widgets.Player(s, "scene")\np')
    return Tiers(lab).wait(4)  # the four transcript cues


def _row(lab: Lab, ann_id: str) -> dict[str, Any] | None:
    return lab.value(
        f"(lambda r: None if r is None else {{'label': r['label'], 'stream': r['stream'], "
        f"'geometry': r['geometry'], 'attributes': r['attributes'], 'revision': r['revision']}})"
        f"(s.store.get('annotation', {ann_id!r}))"
    )


def test_a_segment_drawn_on_a_tier_is_stored_in_stream_and_item_seconds(lab: Lab) -> None:
    t = _start(lab)
    assert t.stats()["tiers"] == [
        "audio/class:speech",
        "second_audio/class:speech",
        "transcript/speaker:Ana",
        "transcript/speaker:Ben",
    ]
    # choose "noise" with its hotkey (the empty lane's class would be speech), then draw
    t.root.focus()
    lab.page.keyboard.press("n")
    assert t.stats()["currentClass"] == "noise"
    _, spp = t.view()
    a = t.x_of("second_audio/class:speech", 2.0)
    b = t.x_of("second_audio/class:speech", 4.0)
    t.drag(a, b)
    lab.wait_value("len(s.annotations[s.annotations.stream == 'second_audio'])", 1)
    rec = lab.value(
        "(lambda r: {'id': r.id, 'label': r.label, 'start': r.geometry['start'], "
        "'end': r.geometry['end'], 'item': list(map(float, s.stream('scene', 'second_audio')"
        ".clock.to_item(__import__('numpy').array([r.geometry['start'], r.geometry['end']]))))})"
        "(s.annotations[s.annotations.stream == 'second_audio'].iloc[0])"
    )
    assert rec["label"] == "noise"
    one_px = spp / RATE + 1e-6  # one pixel's worth of stream seconds (+ rounding to 1 µs)
    assert abs(rec["start"] - (2.0 - OFFSET) / RATE) <= one_px, (rec, spp)
    assert abs(rec["end"] - (4.0 - OFFSET) / RATE) <= one_px, (rec, spp)
    assert abs(rec["item"][0] - 2.0) <= spp + 1e-6 and abs(rec["item"][1] - 4.0) <= spp + 1e-6
    # the page shows it at item time, on the noise tier
    seg = t.segment(rec["id"])
    seg.wait_for()
    assert abs(float(seg.get_attribute("data-item-start")) - rec["item"][0]) < 1e-9
    assert seg.get_attribute("data-stream") == "second_audio"
    assert "second_audio/class:noise" in t.stats()["tiers"]


def test_python_segment_appears_then_resize_relabel_delete_from_the_page(lab: Lab) -> None:
    t = _start(lab)
    ann_id = lab.value("s.annotate('scene', 'second_audio', 'noise', ac.TimeSegment(5.0, 6.0))")
    seg = t.segment(ann_id)
    seg.wait_for(timeout=10_000)
    item_start = float(seg.get_attribute("data-item-start"))
    assert abs(item_start - (OFFSET + RATE * 5.0)) < 1e-9
    _, spp = t.view()
    # resize: drag the end edge 60 px to the right
    box = t.box(ann_id)
    y = box["y"] + box["height"] / 2
    end_x = box["x"] + box["width"] - 1
    t.drag((end_x, y), (end_x + 60, y))
    lab.wait_value(f"s.get({ann_id!r}).revision", 2)
    g = _row(lab, ann_id)["geometry"]
    assert g["start"] == 5.0
    assert abs(g["end"] - (6.0 + 60 * spp / RATE)) <= 2 * spp / RATE, (g, spp)
    # relabel: click to select, press the speech hotkey
    t.click(ann_id)
    assert t.stats()["selected"] == ann_id
    lab.page.keyboard.press("s")
    lab.wait_value(f"s.get({ann_id!r}).label", "speech")
    # undo from the page brings the old class back; redo the new one
    t.root.focus()  # running a cell moved the focus to the notebook
    lab.page.keyboard.press("Control+z")
    lab.wait_value(f"s.get({ann_id!r}).label", "noise")
    t.root.focus()
    lab.page.keyboard.press("Control+Shift+z")
    lab.wait_value(f"s.get({ann_id!r}).label", "speech")
    # a clock changed in Python moves the segment in the page at once
    lab.run("s.set_clock('scene', 'second_audio', offset=1.0)")
    lab.page.wait_for_function(
        "([el, want]) => Math.abs(Number(el.dataset.itemStart) - want) < 1e-9",
        arg=[seg.element_handle(), 1.0 + RATE * 5.0],
        timeout=10_000,
    )
    # delete: select it and press Delete
    t.click(ann_id)
    lab.page.keyboard.press("Delete")
    lab.wait_value(f"{ann_id!r} in set(s.annotations.id)", False)
    seg.wait_for(state="detached", timeout=10_000)


def test_cue_text_is_edited_in_the_page_and_hostile_text_shows_as_text(lab: Lab) -> None:
    dialogs: list[str] = []
    lab.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    t = _start(lab)
    eve = lab.value(
        "s.annotate('scene', 'transcript', 'speech', ac.TimeSegment(9.0, 9.4), "
        f"attributes={{'speaker': 'Eve', 'text': {XSS!r}}})"
    )
    seg = t.segment(eve)
    seg.wait_for(timeout=10_000)
    assert seg.inner_text() == XSS
    assert t.root.locator("img").count() == 0
    assert "transcript/speaker:Eve" in t.stats()["tiers"]
    header = t.root.locator('.accord-tier[data-tier="transcript/speaker:Eve"] .accord-tier-header')
    assert header.inner_text() == "transcript · Eve"
    # edit the first cue's text: double-click, type, Enter
    ana = lab.value(
        "s.annotations[(s.annotations.stream == 'transcript')].sort_values('geometry', "
        "key=lambda g: g.map(lambda v: v['start'])).iloc[0].id"
    )
    cue = t.segment(ana)
    assert cue.inner_text() == "Hello, this is Ana."
    cue.scroll_into_view_if_needed()
    cue.dblclick()
    editor = t.root.locator("input.accord-tiers-editor")
    editor.wait_for()
    assert editor.input_value() == "Hello, this is Ana."
    editor.fill(f"Hello {XSS}")
    editor.press("Enter")
    lab.wait_value(f"s.get({ana!r}).attributes['text']", f"Hello {XSS}")
    assert lab.value(f"s.get({ana!r}).attributes['speaker']") == "Ana"
    lab.page.wait_for_function(
        "([el, want]) => el.textContent === want",
        arg=[cue.element_handle(), f"Hello {XSS}"],
        timeout=10_000,
    )
    assert t.root.locator("img").count() == 0
    assert dialogs == []
