"""RegionCanvas end to end: gestures in a real JupyterLab change the Session, and back."""

from __future__ import annotations

import io
import uuid

import av
import numpy as np
import pytest

from .canvas import Canvas, canvases, setup_code
from .lab import Lab


def _start(lab: Lab, show: str = "ac.RegionCanvas(s, 'pic', 'image', height=480)") -> Canvas:
    store = f"e2e-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    lab.run(f"canvas = {show}\ncanvas")
    return canvases(lab.output_locator())[0]


def _annotations(lab: Lab) -> list[dict]:
    return lab.value(
        "[{k: (v if not isinstance(v, float) or v == v else None) for k, v in r.items()} "
        "for r in s.annotations[['id', 'label', 'kind', 'geometry', 'annotator', 'revision']]"
        ".to_dict('records')]"
    )


def _close(a: float, b: float, zoom: float) -> bool:
    return abs(a - b) <= 1.0 / zoom + 0.51


def test_drag_draws_a_box_with_the_right_pixels(lab: Lab) -> None:
    c = _start(lab)
    c.tool("box")
    c.label("car")
    c.drag((100, 80), (250, 200))
    c.wait_count(1)
    (ann,) = _annotations(lab)
    zoom = c.view()[0]
    g = ann["geometry"]
    assert ann["label"] == "car" and ann["kind"] == "box" and ann["annotator"] == "ana"
    for got, want in zip((g["x"], g["y"], g["w"], g["h"]), (100, 80, 150, 120), strict=True):
        assert _close(got, want, zoom), (g, zoom)


def test_box_coordinates_stay_exact_when_zoomed_and_panned(lab: Lab) -> None:
    c = _start(lab)
    page = lab.page
    zoom0 = c.view()[0]
    # zoom in with the wheel at image point (300, 200): that point must stay under the cursor
    page.mouse.move(*c.to_screen(300, 200))
    for _ in range(3):
        page.mouse.wheel(0, -240)
        page.wait_for_timeout(60)
    zoom1 = c.view()[0]
    assert zoom1 > zoom0 * 1.5
    cursor = c.to_screen(300, 200)
    page.mouse.move(*cursor)
    x, y = c.to_image(*cursor)
    assert abs(x - 300) < 0.01 and abs(y - 200) < 0.01
    # pan with a middle-button drag
    before = c.view()
    sx, sy = c.to_screen(300, 200)
    page.mouse.move(sx, sy)
    page.mouse.down(button="middle")
    page.mouse.move(sx - 120, sy - 60, steps=6)
    page.mouse.up(button="middle")
    after = c.view()
    assert after[0] == before[0]
    assert abs((after[1] - before[1]) + 120) < 1 and abs((after[2] - before[2]) + 60) < 1
    c.tool("box")
    c.drag((320, 230), (345, 262))
    c.wait_count(1)
    (ann,) = _annotations(lab)
    g, zoom = ann["geometry"], after[0]
    for got, want in zip((g["x"], g["y"], g["w"], g["h"]), (320, 230, 25, 32), strict=True):
        assert _close(got, want, zoom), (g, zoom)


def test_polygon_and_keypoints(lab: Lab) -> None:
    c = _start(lab)
    c.label("car")
    c.tool("polygon")
    pts = [(50, 50), (200, 60), (180, 190), (70, 160)]
    for p in pts:
        c.click(*p)
    lab.page.keyboard.press("Enter")
    c.wait_count(1)
    c.label("person")
    c.tool("keypoints")
    kps = [(400, 100), (380, 180), (430, 185)]
    for p in kps:
        c.click(*p)
    c.wait_count(2)
    anns = {a["kind"]: a for a in _annotations(lab)}
    zoom = c.view()[0]
    poly = anns["polygon"]["geometry"]["points"]
    assert len(poly) == 4
    for (gx, gy), (wx, wy) in zip(poly, pts, strict=True):
        assert _close(gx, wx, zoom) and _close(gy, wy, zoom), poly
    assert anns["keypoints"]["label"] == "person"
    kp = anns["keypoints"]["geometry"]["points"]
    for (gx, gy, v), (wx, wy) in zip(kp, kps, strict=True):
        assert v == 2 and _close(gx, wx, zoom) and _close(gy, wy, zoom), kp


def _canvas_rgb(c: Canvas) -> tuple[np.ndarray, float]:
    """The canvas as pixels, and device pixels per CSS pixel."""
    c.canvas.scroll_into_view_if_needed()
    png = c.canvas.screenshot()
    with av.open(io.BytesIO(png)) as f:
        rgb = next(f.decode(video=0)).to_ndarray(format="rgb24")
    width = c.canvas.evaluate("(el) => el.getBoundingClientRect().width")
    return rgb, rgb.shape[1] / width


def _pixel(c: Canvas, scale: float, x: float, y: float) -> tuple[int, int]:
    """Where image point (x, y) is in a canvas screenshot (row, column)."""
    zoom, px, py = c.view()
    return int((py + zoom * y) * scale), int((px + zoom * x) * scale)


def _colour_near(c: Canvas, x: float, y: float, colour: tuple[int, int, int], r: int = 3) -> bool:
    """Is ``colour`` drawn within ``r`` CSS px of image point (x, y)?"""
    rgb, scale = _canvas_rgb(c)
    cy, cx = _pixel(c, scale, x, y)
    rr = int(r * scale) + 1
    patch = rgb[max(cy - rr, 0) : cy + rr + 1, max(cx - rr, 0) : cx + rr + 1].astype(int)
    dist = np.abs(patch - np.array(colour)).sum(axis=2)
    return bool((dist < 60).any())


def test_python_edits_appear_on_the_canvas(lab: Lab) -> None:
    c = _start(lab)
    assert not _colour_near(c, 60, 120, (0x1F, 0x77, 0xB4))
    lab.run("a = s.annotate('pic', 'image', 'car', ac.Box(60, 80, 120, 90))")
    c.wait_count(1)
    lab.page.wait_for_timeout(100)
    assert _colour_near(c, 60, 120, (0x1F, 0x77, 0xB4))  # left edge, in the class colour
    lab.run("s.delete(a)")
    c.wait_count(0)


def test_two_views_of_one_item_stay_in_sync_and_undo_restores(lab: Lab) -> None:
    store = f"e2e-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    lab.run(
        "import ipywidgets as W\n"
        "left = ac.RegionCanvas(s, 'pic', 'image', height=320)\n"
        "right = ac.RegionCanvas(s, 'pic', 'image', height=320)\n"
        "W.HBox([left, right])"
    )
    a, b = canvases(lab.output_locator())
    a.tool("box")
    a.drag((40, 40), (140, 120))
    a.wait_count(1)
    b.wait_count(1)
    assert lab.value("len(s.annotations)") == 1
    # move it in the right-hand view: the left one follows
    b.tool("select")
    b.drag((90, 80), (190, 130))
    lab.wait_value("s.annotations.iloc[0]['geometry']['x'] > 120", True)
    a.action("undo")
    lab.wait_value("round(s.annotations.iloc[0]['geometry']['x'])", 40)
    a.action("undo")
    a.wait_count(0)
    b.wait_count(0)
    assert lab.value("len(s.annotations)") == 0
    b.root.locator("canvas.accord-canvas").click()
    lab.page.keyboard.press("Control+Shift+Z")  # redo from the other view's keyboard
    a.wait_count(1)
    assert lab.value("len(s.annotations)") == 1


def test_hostile_label_is_text_and_runs_nothing(lab: Lab) -> None:
    dialogs: list[str] = []
    lab.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    c = _start(lab)
    hostile = "<img src=x onerror=alert(1)>"
    chip = c.root.locator(f'[data-label="{hostile}"]').first
    assert chip.inner_text().strip().startswith(hostile)
    chip.click()
    c.tool("box")
    c.drag((20, 20), (90, 70))
    c.wait_count(1)
    c.tool("select")
    c.click(50, 45)
    assert c.data("selected") != ""
    lab.page.wait_for_timeout(300)
    assert c.root.locator("img").count() == 0
    assert hostile in c.root.inner_text()
    assert lab.value("s.annotations.iloc[0]['label']") == hostile
    assert dialogs == []


def test_refused_command_shows_an_error_and_changes_nothing(lab: Lab) -> None:
    c = _start(lab)
    c.label("needs-note")  # a required attribute without a default: Python refuses
    c.tool("box")
    c.drag((30, 30), (120, 90))
    alert = c.root.locator('[role="alert"]')
    alert.wait_for(timeout=10_000)
    text = alert.inner_text()
    assert "note" in text and "required" in text
    assert lab.value("len(s.annotations)") == 0
    assert lab.value("s.store.count('annotation')") == 0
    c.wait_count(0)


def test_other_annotators_are_read_only_and_can_be_hidden(lab: Lab) -> None:
    c = _start(lab)
    lab.run(
        "bob = ac.Session(s.store.location, annotator='bob')\n"
        "b = bob.annotate('pic', 'image', 'car', ac.Box(300, 200, 100, 80))\n"
        "s.poll(); print('ok')"
    )
    c.wait_count(1)
    c.tool("select")
    c.drag((350, 240), (450, 300))  # try to move bob's box
    lab.page.wait_for_timeout(400)
    assert lab.value("int(s.annotations.loc[b, 'revision'])") == 1
    assert lab.value("float(s.annotations.loc[b, 'geometry']['x'])") == 300
    c.action("toggle-others")
    c.wait_count(0)
    assert lab.value("canvas.show_others") is False
    c.action("toggle-others")
    c.wait_count(1)


@pytest.mark.slow
def test_video_frame_is_decoded_by_index_and_steps(lab: Lab, sample_scene) -> None:
    store = f"e2e-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    lab.run(
        f"s.add_item('clip', video={str(sample_scene.video)!r})\n"
        "canvas = ac.RegionCanvas(s, 'clip', 'video', frame=137, height=400)\ncanvas"
    )
    (c,) = canvases(lab.output_locator())
    truth = sample_scene.truth

    def shown_index() -> int:
        rgb, scale = _canvas_rgb(c)
        code = truth["video"]["barcode"]
        y = (code["y0"] + code["y1"]) / 2
        value = 0
        for bit in range(code["bits"]):
            x = code["x0"] + bit * code["block_width"] + code["block_width"] / 2
            py, px = _pixel(c, scale, x, y)
            luma = rgb[py - 2 : py + 3, px - 2 : px + 3].mean()
            value = (value << 1) | int(luma < 128)
        return value

    assert c.data("frame") == "137"
    assert shown_index() == 137
    c.canvas.click()
    lab.page.keyboard.press("ArrowRight")
    lab.page.wait_for_function(
        "(el) => el.dataset.frame === '138' && el.dataset.ready === 'true'",
        arg=c.root.element_handle(),
    )
    assert shown_index() == 138
    assert lab.value("canvas.frame") == 138
    lab.run("canvas.frame = 30")
    lab.page.wait_for_function(
        "(el) => el.dataset.frame === '30' && el.dataset.ready === 'true'",
        arg=c.root.element_handle(),
    )
    assert shown_index() == 30


def test_attributes_rotation_and_delete_from_the_page(lab: Lab) -> None:
    c = _start(lab)
    c.label("car")
    c.tool("box")
    c.drag((60, 60), (200, 150))
    c.wait_count(1)
    c.tool("select")
    c.click(130, 105)
    assert c.data("selected") != ""
    c.root.locator('[data-attribute="occluded"]').check()
    lab.wait_value("s.annotations.iloc[0]['attributes']['occluded']", True)
    # a rotated box: drawn, then turned with "]" (5° per press)
    c.tool("rotated_box")
    c.drag((300, 200), (420, 260))
    c.wait_count(2)
    rid = lab.value("s.annotations.query('kind == \"rotated_box\"').index[0]")
    c.canvas.click(position={"x": 5, "y": 5})  # focus without drawing over shapes
    c.tool("select")
    c.click(360, 230)
    for _ in range(3):
        lab.page.keyboard.press("]")
    lab.wait_value(
        f"round(s.get({rid!r}).geometry.angle, 4)", round(3 * 5 * 3.141592653589793 / 180, 4)
    )
    g = lab.value(f"s.annotations.loc[{rid!r}, 'geometry']")
    zoom = c.view()[0]
    assert _close(g["cx"], 360, zoom) and _close(g["cy"], 230, zoom)
    assert _close(g["w"], 120, zoom) and _close(g["h"], 60, zoom)
    c.click(360, 230)  # running cells moved the focus to the notebook: select it again
    lab.page.keyboard.press("Delete")
    c.wait_count(1)
    assert lab.value("list(s.annotations['kind'])") == ["box"]


def test_edits_from_another_session_reach_the_canvas_without_polling(lab: Lab) -> None:
    c = _start(lab)
    lab.run(
        "bob = ac.Session(s.store.location, annotator='bob')\n"
        "b = bob.annotate('pic', 'image', 'car', ac.Box(300, 200, 100, 80))\n"
        "print('ok')"
    )
    c.wait_count(1)  # no s.poll(): the widget's session follows the store
    lab.run("bob.delete(b)")
    c.wait_count(0)
