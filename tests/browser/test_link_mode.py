"""Link mode across separate widgets of one item (``js/src/runtime/linkmode.ts``).

A TextAnnotator on the transcript, a RegionCanvas on the video and a Player with tiers
on the audio of the sample scene, laid out with ipywidgets in one cell: a transcript span
is linked to a face box and to a speech segment with the mouse and keys, the links land
in ``s.links``, hovering one end lights up the other ends in the other widgets (read
from the widgets' ``data-link-lit`` hooks, computed in the page from its link index),
a link type the taxonomy does not allow is refused with a message, and Escape cancels.
A second browser test links a 2-D box to a cuboid between a RegionCanvas and a CloudViewer.

The first tests are kernel side (no browser): ``links.query`` and the link commands
every SessionWidget now accepts.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

import accord as ac
from accord import samples

from .lab import Lab

TAXONOMY = """
name: link-mode-e2e
version: 1
classes:
  - name: face
    color: "#2ca02c"
    hotkey: f
    geometries: {video: [box]}
  - name: speech
    color: "#1f77b4"
    hotkey: s
    geometries: {audio: [time_segment]}
  - name: phrase
    color: "#d62728"
    hotkey: p
    geometries: {text: [text_span]}
link_types:
  - {name: speaks, sources: [text_span], targets: [box], description: said by that face}
  - {name: describes, sources: [text_span], targets: [time_segment]}
  - {name: same_as, symmetric: true}
  - {name: depicts, sources: [box], targets: [cuboid]}
"""

#: The face box (frame 0, image pixels), the speech segment (audio seconds), the span (code points).
BOX = {"x": 100, "y": 80, "w": 160, "h": 160}
SEGMENT = {"start": 1.0, "end": 2.5}
SPAN = (0, 5)


def _session(store: Path | str, sc: samples.SampleScene) -> ac.Session:
    s = ac.Session(store, taxonomy=ac.Taxonomy.from_yaml(TAXONOMY), annotator="ana")
    s.add_item("scene", video=sc.video, audio=sc.audio, transcript=sc.transcript)
    return s


def _annotate(s: ac.Session) -> tuple[str, str, str]:
    box = s.annotate("scene", "video", "face", BOX, kind="box", frame=0)
    seg = s.annotate("scene", "audio", "speech", SEGMENT, kind="time_segment")
    span = s.annotate(
        "scene", "transcript", "phrase", {"start": SPAN[0], "end": SPAN[1]}, kind="text_span"
    )
    return box, seg, span


class _Page:
    """Plays the browser for one widget: page messages in, replies and pushes out."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.sent: list[dict] = []
        widget.send = lambda content, buffers=None: self.sent.append(content)
        self.n = 0

    def ask(self, type: str, **payload: Any) -> dict:
        self.n += 1
        uuid_ = f"u{self.n}"
        self.widget._on_page_message(self.widget, {"type": type, "uuid": uuid_, **payload}, [])
        (reply,) = [c for c in self.sent if c.get("uuid") == uuid_]
        return reply


# -- kernel side -------------------------------------------------------------------------------


def test_every_widget_answers_links_query_and_takes_link_commands(
    tmp_path: Path, sample_scene: samples.SampleScene
) -> None:
    s = _session(tmp_path / "k.accord", sample_scene)
    box, seg, span = _annotate(s)
    widgets = {
        "canvas": ac.widgets.RegionCanvas(s, "scene", "video", frame=0),
        "player": ac.widgets.Player(s, "scene", streams=["audio"]),
        "text": ac.widgets.TextAnnotator(s, "scene", "transcript"),
    }
    pages = {name: _Page(w) for name, w in widgets.items()}
    # link.add from each kind of view, validated by the Session
    ok = pages["canvas"].ask("link.add", source=span, target=box, link_type="speaks")
    assert ok["ok"], ok
    ok = pages["player"].ask("link.add", source=span, target=seg, link_type="describes")
    assert ok["ok"], ok
    assert sorted(s.links[["source", "target", "type"]].values.tolist()) == sorted(
        [[span, box, "speaks"], [span, seg, "describes"]]
    )
    # every view heard both link events (links carry their item)
    for page in pages.values():
        pushed = [e for c in page.sent if c.get("type") == "event" for e in c["events"]]
        assert sum(e["target"] == "link" and e["op"] == "create" for e in pushed) == 2
    # links.query: the item's links with their ends' kinds, and the taxonomy's link types
    for page in pages.values():
        reply = page.ask("links.query")
        assert reply["ok"], reply
        got = {
            (r["source"], r["source_kind"], r["target"], r["target_kind"], r["type"])
            for r in reply["result"]["links"]
        }
        assert got == {
            (span, "text_span", box, "box", "speaks"),
            (span, "text_span", seg, "time_segment", "describes"),
        }
        types = {t["name"]: t for t in reply["result"]["link_types"]}
        assert list(types) == ["speaks", "describes", "same_as", "depicts"]
        assert types["speaks"]["sources"] == ["text_span"] and types["speaks"]["targets"] == ["box"]
        assert types["same_as"]["symmetric"] is True
    # a type that does not fit the kinds: refused, nothing stored
    bad = pages["canvas"].ask("link.add", source=span, target=box, link_type="describes")
    assert not bad["ok"] and bad["error"]["error"] == "ValidationError"
    assert "text_span" in bad["error"]["message"] or "text_span" in str(bad["error"]["expected"])
    assert len(s.links) == 2
    # link.delete from a view
    link_id = s.links.loc[s.links["type"] == "speaks", "id"].iloc[0]
    rev = s.get_link(link_id).revision
    assert pages["text"].ask("link.delete", id=link_id, revision=rev)["ok"]
    assert len(s.links) == 1
    for w in widgets.values():
        w.close()
    s.close()


def test_a_view_may_not_link_or_unlink_another_items_annotations(
    tmp_path: Path, sample_scene: samples.SampleScene
) -> None:
    s = _session(tmp_path / "k2.accord", sample_scene)
    s.add_item("other", video=sample_scene.video, transcript=sample_scene.transcript)
    box, _seg, span = _annotate(s)
    o_box = s.annotate("other", "video", "face", BOX, kind="box", frame=0)
    o_span = s.annotate("other", "transcript", "phrase", {"start": 0, "end": 5}, kind="text_span")
    o_link = s.link(o_span, o_box, "speaks")
    page = _Page(ac.widgets.RegionCanvas(s, "scene", "video", frame=0))
    r = page.ask("link.add", source=o_span, target=o_box, link_type="speaks")
    assert not r["ok"] and r["error"]["error"] == "PermissionDeniedError"
    r = page.ask("link.delete", id=o_link, revision=1)
    assert not r["ok"] and r["error"]["error"] == "PermissionDeniedError"
    assert len(s.links) == 1
    assert page.ask("link.add", source=span, target=box, link_type="speaks")["ok"]
    page.widget.close()
    s.close()


# -- in the browser ----------------------------------------------------------------------------


def _setup(store: str) -> str:
    return f"""
import accord as ac
import ipywidgets as ipw
from accord import samples
sc = samples.scene()
s = ac.Session("{store}", taxonomy=ac.Taxonomy.from_yaml('''{TAXONOMY}'''), annotator="ana")
s.add_item("scene", video=sc.video, audio=sc.audio, transcript=sc.transcript)
box = s.annotate("scene", "video", "face", {BOX!r}, kind="box", frame=0)
seg = s.annotate("scene", "audio", "speech", {SEGMENT!r}, kind="time_segment")
span = s.annotate("scene", "transcript", "phrase", {{"start": {SPAN[0]}, "end": {SPAN[1]}}},
                  kind="text_span")
print("ok")
"""


SHOW = """
ta = ac.TextAnnotator(s, "scene", "transcript", height=160)
rc = ac.widgets.RegionCanvas(s, "scene", "video", frame=0, tool="select", height=300)
pl = ac.widgets.Player(s, "scene", streams=["audio"], height=120)
ipw.VBox([ipw.HBox([ta, rc]), pl])
"""


def _data(root: Locator, key: str) -> str:
    return root.evaluate("(el, k) => el.dataset[k] ?? ''", key)


def _wait_data(page: Page, root: Locator, key: str, value: str, timeout: float = 10) -> None:
    page.wait_for_function(
        "([el, k, v]) => (el.dataset[k] ?? '') === v",
        arg=[root.element_handle(), key, value],
        timeout=timeout * 1000,
    )


class Views:
    """The three widgets of the cell."""

    def __init__(self, lab: Lab) -> None:
        out = lab.output_locator()
        self.lab = lab
        self.page = lab.page
        self.text = out.locator(".accord-text-annotator").first
        self.canvas = out.locator(".accord-region-canvas").first
        self.tiers = out.locator(".accord-tiers").first
        for root in (self.text, self.canvas):
            root.wait_for(timeout=30_000)
            self.page.wait_for_function(
                "(el) => el.dataset.ready === 'true'", arg=root.element_handle(), timeout=30_000
            )
        self.tiers.wait_for(timeout=30_000)
        self.page.wait_for_function(
            "r => r.accordTiers && r.accordTiers().segments === 1",
            arg=self.tiers.element_handle(),
            timeout=30_000,
        )
        # every view has its link index (links.query answered)
        for root in self.roots:
            self.page.wait_for_function(
                "(el) => el.dataset.linkCount !== undefined", arg=root.element_handle()
            )

    @property
    def roots(self) -> tuple[Locator, Locator, Locator]:
        return self.text, self.canvas, self.tiers

    def click_span_char(self, cp: int) -> None:
        self.text.locator(".accord-ta-text").scroll_into_view_if_needed()
        r = self.text.evaluate("(el, cp) => el.accordCharRect(cp)", cp)
        assert r is not None and r["width"] > 0
        self.page.mouse.click(r["x"] + r["width"] / 2, r["y"] + r["height"] / 2)

    def hover_span_char(self, cp: int) -> None:
        self.text.locator(".accord-ta-text").scroll_into_view_if_needed()
        r = self.text.evaluate("(el, cp) => el.accordCharRect(cp)", cp)
        self.page.mouse.move(r["x"] + r["width"] / 2, r["y"] + r["height"] / 2)

    def canvas_point(self, x: float, y: float) -> tuple[float, float]:
        """Page coordinates of image point (x, y) on the RegionCanvas."""
        self.canvas.locator("canvas.accord-canvas").scroll_into_view_if_needed()
        box = self.canvas.locator("canvas.accord-canvas").bounding_box()
        assert box is not None
        zoom, px, py = (float(_data(self.canvas, k)) for k in ("zoom", "panX", "panY"))
        return box["x"] + px + zoom * x, box["y"] + py + zoom * y

    def segment(self, seg: str) -> Locator:
        return self.tiers.locator(f'[data-segment-id="{seg}"]')

    def chooser_types(self) -> list[str]:
        chooser = self.text.locator(".accord-link-chooser")
        chooser.wait_for(state="visible")
        return chooser.locator("[data-link-type]").all_inner_texts()

    def hints(self) -> list[str]:
        return [
            r.evaluate(
                "el => { const h = el.querySelector('[data-link-hint]');"
                " return h && !h.hidden && h.offsetParent !== null ? h.textContent : ''; }"
            )
            for r in self.roots
        ]


def _links(lab: Lab) -> list[list[str]]:
    return sorted(lab.value("s.links[['source', 'target', 'type']].values.tolist()"))


def test_link_a_span_to_a_face_box_and_a_segment_across_widgets(lab: Lab) -> None:
    store = f"link-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(_setup(store)) == "ok"
    box, seg, span = lab.value("[box, seg, span]")
    words = lab.value(f"s.stream('scene', 'transcript').text[{SPAN[0]}:{SPAN[1]}]")
    lab.run(SHOW)
    v = Views(lab)
    page = v.page

    # 1. span → face box: select the span, L, click the box on the canvas, choose "speaks"
    v.click_span_char(1)
    _wait_data(page, v.text, "selected", span)
    page.keyboard.press("L")
    for root in v.roots:
        _wait_data(page, root, "linkSource", span)
    assert _data(v.text, "linkMode") == "source"
    assert _data(v.canvas, "linkMode") == "target" and _data(v.tiers, "linkMode") == "target"
    hint = f"Link from phrase “{words}”: pick the target (Esc cancels)"
    assert v.hints() == [hint, hint, hint]  # visible in every widget of the item
    page.mouse.click(*v.canvas_point(BOX["x"] + 80, BOX["y"] + 80))
    assert v.chooser_types() == ["speaks", "same_as"]  # only the types whose kinds fit
    assert v.canvas.locator(".accord-link-chooser").is_hidden()  # shown by the starting view
    v.text.locator('.accord-link-chooser [data-link-type="speaks"]').click()
    lab.wait_value("len(s.links)", 1)
    assert _links(lab) == [[span, box, "speaks"]]
    for root in v.roots:
        _wait_data(page, root, "linkMode", "")
        _wait_data(page, root, "linkCount", "1")
    assert v.hints()[1:] == ["", ""]

    # 2. span → speech segment: the toolbar's Link button, a click on the segment in the tiers
    v.click_span_char(1)
    _wait_data(page, v.text, "selected", span)
    v.text.locator('[data-action="relate"]').click()
    _wait_data(page, v.tiers, "linkSource", span)
    v.segment(seg).scroll_into_view_if_needed()
    v.segment(seg).click()
    assert v.chooser_types() == ["describes", "same_as"]
    v.text.locator('.accord-link-chooser [data-link-type="describes"]').click()
    lab.wait_value("len(s.links)", 2)
    assert _links(lab) == sorted([[span, box, "speaks"], [span, seg, "describes"]])
    for root in v.roots:
        _wait_data(page, root, "linkCount", "2")
    # the segment was picked, not moved
    geometry = lab.value(f"[s.get({seg!r}).geometry.start, s.get({seg!r}).geometry.end]")
    assert geometry == [SEGMENT["start"], SEGMENT["end"]]

    # 3. hovering the span lights up the box on the canvas and the segment in the tiers
    page.mouse.move(5, 5)
    v.hover_span_char(1)
    _wait_data(page, v.canvas, "linkLit", box)
    _wait_data(page, v.tiers, "linkLit", seg)
    assert v.segment(seg).get_attribute("data-linked") == "true"
    assert _data(v.text, "linkLit") == ""  # its other ends are not in the text view
    # ... and hovering the box lights up the span (no kernel round trip: the page's index)
    page.mouse.move(*v.canvas_point(BOX["x"] + 80, BOX["y"] + 80))
    _wait_data(page, v.text, "linkLit", span)
    assert v.text.locator(f'.accord-ta-piece.accord-ta-hover[data-spans~="{span}"]').count() > 0
    page.mouse.move(5, 5)
    _wait_data(page, v.text, "linkLit", "")

    # 4. a link type the taxonomy does not allow for text_span → box: refused, shown, not stored
    v.click_span_char(1)
    page.keyboard.press("L")
    _wait_data(page, v.canvas, "linkSource", span)
    page.mouse.click(*v.canvas_point(BOX["x"] + 80, BOX["y"] + 80))
    v.chooser_types()
    # the chooser offers only allowed types; its hook sends any type exactly as its buttons do
    ok = v.text.evaluate("el => el.accordLink.choose('describes')")
    assert ok is False
    alert = v.text.locator('[role="alert"]')
    alert.wait_for()
    assert "describes" in alert.inner_text() and "text_span" in alert.inner_text()
    assert lab.value("len(s.links)") == 2
    assert _data(v.text, "linkMode") == "source"  # still linking: another type may be chosen

    # 5. Escape cancels in every widget, nothing stored
    page.keyboard.press("Escape")
    for root in v.roots:
        _wait_data(page, root, "linkMode", "")
    assert not any(h.startswith("Link from") for h in v.hints())
    assert lab.value("len(s.links)") == 2

    # 6. link mode from the canvas: select the box, L, pick the segment in the tiers; Esc
    v.canvas.locator("canvas.accord-canvas").scroll_into_view_if_needed()
    page.mouse.click(*v.canvas_point(BOX["x"] + 80, BOX["y"] + 80))
    _wait_data(page, v.canvas, "selected", box)
    page.keyboard.press("L")
    _wait_data(page, v.text, "linkSource", box)
    assert _data(v.canvas, "linkMode") == "source"
    assert v.hints()[0] == "Link from face: pick the target (Esc cancels)"
    v.segment(seg).scroll_into_view_if_needed()
    v.segment(seg).click()
    chooser = v.canvas.locator(".accord-link-chooser")
    chooser.wait_for(state="visible")
    assert chooser.locator("[data-link-type]").all_inner_texts() == ["same_as"]
    page.keyboard.press("Escape")
    for root in v.roots:
        _wait_data(page, root, "linkMode", "")
    assert chooser.is_hidden()
    assert lab.value("len(s.links)") == 2


CLOUD_TAXONOMY = """
name: link-mode-cloud
version: 1
classes:
  - name: car
    color: "#1f77b4"
    geometries: {pointcloud: [cuboid], video: [box]}
  - name: person
    color: "#ff7f0e"
    geometries: {pointcloud: [cuboid], video: [box]}
link_types:
  - {name: depicts, sources: [box], targets: [cuboid]}
  - {name: same_as, symmetric: true}
"""


def test_link_a_box_to_a_cuboid_between_a_canvas_and_the_cloud_viewer(lab: Lab) -> None:
    store = f"link-cloud-{uuid.uuid4().hex[:8]}.accord"
    setup = f"""
import accord as ac
from accord import samples
scene = samples.scene()
s = ac.Session("{store}", taxonomy=ac.Taxonomy.from_yaml('''{CLOUD_TAXONOMY}'''), annotator="ana")
s.add_item("street", video=scene.video, lidar=scene.lidar, calibration=scene.calibration)
truth = scene.truth['lidar']['sweeps'][10]
frame = truth['matched_frame']
car_truth = next(o for o in truth['objects'] if o['label'] == 'car')
car = s.annotate('street', 'lidar', 'car', kind='cuboid', geometry=car_truth['lidar'], frame=10)
x1, y1, x2, y2 = car_truth['box2d']
box = s.annotate('street', 'video', 'car', ac.Box(x1, y1, x2 - x1, y2 - y1), frame=frame)
print("ok")
"""
    assert lab.run(setup) == "ok"
    car, box = lab.value("[car, box]")
    g = lab.value("s.annotations.loc[box, 'geometry']")
    lab.run("rc = ac.widgets.RegionCanvas(s, 'street', 'video', frame=frame, tool='select')\nrc")
    canvas = lab.output_locator().locator(".accord-region-canvas").first
    page = lab.page
    page.wait_for_function("(el) => el.dataset.ready === 'true'", arg=canvas.element_handle())
    lab.run(
        "cv = ac.widgets.CloudViewer(s, 'street', 'lidar', sweep=10, view='top',"
        " follow_clock=False)\ncv"
    )
    cloud = lab.output_locator().locator(".accord-cloud-viewer").first
    cloud.wait_for(timeout=30_000)
    page.wait_for_function(
        "(el) => el.dataset.ready === 'true' && el.dataset.cuboids === '1'",
        arg=cloud.element_handle(),
        timeout=60_000,
    )
    model_id = cloud.evaluate("el => el.dataset.modelId")

    def box_centre() -> tuple[float, float]:
        cnv = canvas.locator("canvas.accord-canvas")
        cnv.scroll_into_view_if_needed()
        b = cnv.bounding_box()
        assert b is not None
        zoom, px, py = (float(_data(canvas, k)) for k in ("zoom", "panX", "panY"))
        return b["x"] + px + zoom * (g["x"] + g["w"] / 2), b["y"] + py + zoom * (
            g["y"] + g["h"] / 2
        )

    def cuboid_centre() -> tuple[float, float]:
        cloud.locator("canvas").first.scroll_into_view_if_needed()
        return tuple(
            page.evaluate("([id, c]) => window.accordCloud[id].handles(c).center", [model_id, car])
        )

    # box on the canvas → L → click the cuboid in the 3-D view → "depicts" in the canvas's chooser
    page.mouse.click(*box_centre())
    _wait_data(page, canvas, "selected", box)
    page.keyboard.press("L")
    _wait_data(page, cloud, "linkSource", box)
    assert _data(cloud, "linkMode") == "target"
    page.mouse.click(*cuboid_centre())
    chooser = canvas.locator(".accord-link-chooser")
    chooser.wait_for(state="visible")
    assert chooser.locator("[data-link-type]").all_inner_texts() == ["depicts", "same_as"]
    chooser.locator('[data-link-type="depicts"]').click()
    lab.wait_value("len(s.links)", 1)
    assert _links(lab) == [[box, car, "depicts"]]
    _wait_data(page, cloud, "linkMode", "")
    assert _data(cloud, "selected") == ""  # the pick did not select the cuboid

    # hovering one end lights up the other in the other widget
    page.mouse.move(*cuboid_centre())
    _wait_data(page, canvas, "linkLit", box)
    page.mouse.move(5, 5)
    page.mouse.move(*box_centre())
    _wait_data(page, cloud, "linkLit", car)

    # from the cuboid: select it, L, then Escape
    page.mouse.click(*cuboid_centre())
    _wait_data(page, cloud, "selected", car)
    page.keyboard.press("L")
    _wait_data(page, canvas, "linkSource", car)
    assert _data(cloud, "linkMode") == "source"
    page.keyboard.press("Escape")
    _wait_data(page, canvas, "linkMode", "")
    _wait_data(page, cloud, "linkMode", "")
    assert lab.value("len(s.links)") == 1
