"""CloudViewer end to end: gestures in a real JupyterLab change the Session, and back.

The page exposes ``window.accordCloud[<model id>]`` (``project``, ``ground``,
``cuboids``, ``handles``, ``stats``) so the mouse can be driven with real pixels
and what is drawn can be read back.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from .lab import Lab

TAXONOMY = """
name: cloud-e2e
version: 1
classes:
  - name: car
    color: "#1f77b4"
    hotkey: c
    geometries: {pointcloud: [cuboid], video: [box]}
    attributes:
      - {name: occluded, type: bool, default: false}
  - name: person
    color: "#ff7f0e"
    hotkey: p
    geometries: {pointcloud: [cuboid], video: [box]}
link_types:
  - {name: projects_to, sources: [cuboid], targets: [box]}
"""


def setup_code(store: str) -> str:
    return f"""
import numpy as np
import accord as ac
from accord import samples
from accord.widgets.cloud_viewer import CloudViewer
scene = samples.scene()
tax = ac.Taxonomy.from_yaml('''{TAXONOMY}''')
s = ac.Session("{store}", taxonomy=tax, annotator="ana")
s.add_item("street", video=scene.video, lidar=scene.lidar, calibration=scene.calibration)
print("ok")
"""


@dataclass
class Viewer:
    root: Locator

    @property
    def page(self) -> Page:
        return self.root.page

    @property
    def canvas(self) -> Locator:
        return self.root.locator("canvas.accord-cloud-canvas")

    @property
    def model_id(self) -> str:
        return self.data("modelId")

    def data(self, key: str) -> str:
        return self.root.evaluate("(el, k) => el.dataset[k] ?? ''", key)

    def hook(self, call: str, *args: Any) -> Any:
        """Call the page hook; the canvas is scrolled into view first (pixels are viewport px)."""
        self.canvas.scroll_into_view_if_needed()
        return self.page.evaluate(
            f"([id, args]) => window.accordCloud[id].{call}(...args)", [self.model_id, list(args)]
        )

    def wait(self, js: str, timeout: float = 20) -> None:
        """Wait until ``js`` (a function of the root element ``el`` and the hook ``h``) is true."""
        self.page.wait_for_function(
            f"([el, id]) => {{ const h = window.accordCloud && window.accordCloud[id]; "
            f"return !!h && ({js}); }}",
            arg=[self.root.element_handle(), self.model_id],
            timeout=timeout * 1000,
        )

    def cuboids(self) -> list[dict]:
        return self.hook("cuboids")

    def drag(self, a: tuple[float, float], b: tuple[float, float], steps: int = 10) -> None:
        m = self.page.mouse
        m.move(*a)
        m.down()
        m.move(*b, steps=steps)
        m.up()


def _start(lab: Lab, args: str = "view='top', tool='cuboid'") -> Viewer:
    store = f"cloud-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    lab.run(f"v = CloudViewer(s, 'street', 'lidar', sweep=0, height=460, {args})\nv")
    root = lab.output_locator().locator(".accord-cloud-viewer")
    root.wait_for(timeout=30_000)
    v = Viewer(root)
    v.root.scroll_into_view_if_needed()
    v.wait("el.dataset.ready === 'true' && Number(el.dataset.points) > 1000", timeout=60)
    return v


def _annotations(lab: Lab) -> list[dict]:
    return lab.value(
        "[{'id': i, 'label': r['label'], 'geometry': r['geometry'], 'frame': int(r['frame']), "
        "'track': r['track']} for i, r in s.annotations.iterrows()]"
    )


def test_draw_move_resize_and_turn_a_cuboid_with_the_mouse(lab: Lab) -> None:
    v = _start(lab)
    box = v.canvas.bounding_box()
    assert box is not None
    a = (box["x"] + box["width"] * 0.40, box["y"] + box["height"] * 0.30)
    b = (box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.45)
    ga = v.hook("ground", *a)
    gb = v.hook("ground", *b)
    v.drag(a, b)
    v.wait("Number(el.dataset.cuboids) === 1")
    (ann,) = _annotations(lab)
    g = ann["geometry"]
    # top view: screen up is +x, screen left is +y; the footprint is what the corners map to
    assert g["size"][0] == pytest.approx(abs(gb[0] - ga[0]), abs=0.02)
    assert g["size"][1] == pytest.approx(abs(gb[1] - ga[1]), abs=0.02)
    assert g["center"][0] == pytest.approx((ga[0] + gb[0]) / 2, abs=0.02)
    assert g["center"][1] == pytest.approx((ga[1] + gb[1]) / 2, abs=0.02)
    assert g["yaw"] == 0 and g["size"][2] > 0
    assert ann["frame"] == 0 and ann["track"] and ann["label"] == "car"

    # move: drag the body by some pixels with the select tool
    v.root.locator('[data-tool="select"]').click()
    v.wait(f"el.dataset.selected === {ann['id']!r}")
    hs = v.hook("handles")
    c0 = hs["center"]
    c1 = (c0[0] + 40, c0[1] + 25)
    g0, g1 = v.hook("ground", *c0, g["center"][2]), v.hook("ground", *c1, g["center"][2])
    v.drag(tuple(c0), c1)
    lab.wait_value(f"int(s.annotations.loc['{ann['id']}', 'revision'])", 2)
    moved = _annotations(lab)[0]["geometry"]
    assert moved["center"][0] == pytest.approx(g["center"][0] + g1[0] - g0[0], abs=0.02)
    assert moved["center"][1] == pytest.approx(g["center"][1] + g1[1] - g0[1], abs=0.02)
    assert moved["size"] == pytest.approx(g["size"])

    # resize: drag the front face (+l) further out; the back face stays where it was
    v.wait("true")
    hs = v.hook("handles")
    front = hs["+l"]
    target = (front[0], front[1] - 30)  # screen up = +x
    reach = v.hook("ground", *target, moved["center"][2])
    v.drag(tuple(front), target)
    lab.wait_value(f"int(s.annotations.loc['{ann['id']}', 'revision'])", 3)
    resized = _annotations(lab)[0]["geometry"]
    back = moved["center"][0] - moved["size"][0] / 2
    assert resized["size"][0] == pytest.approx(reach[0] - back, abs=0.03)
    assert resized["center"][0] - resized["size"][0] / 2 == pytest.approx(back, abs=0.03)
    assert resized["size"][1] == pytest.approx(moved["size"][1], abs=1e-6)

    # turn: drag the knob to the cuboid's left (screen left = +y) → yaw +90°
    hs = v.hook("handles")
    centre = hs["center"]
    v.drag(tuple(hs["yaw"]), (centre[0] - 80, centre[1]))
    lab.wait_value(f"int(s.annotations.loc['{ann['id']}', 'revision'])", 4)
    turned = _annotations(lab)[0]["geometry"]
    assert turned["yaw"] == pytest.approx(math.pi / 2, abs=0.02)
    assert turned["size"] == pytest.approx(resized["size"])

    # the attribute editor and a class hotkey edit the selection
    rev = f"int(s.annotations.loc['{ann['id']}', 'revision'])"
    v.root.locator('input[data-attribute="occluded"]').check()
    lab.wait_value(rev, 5)
    assert lab.value(f"s.annotations.loc['{ann['id']}', 'attributes']") == {"occluded": True}
    v.canvas.focus()
    v.page.keyboard.press("p")
    lab.wait_value(rev, 6)
    assert lab.value(f"s.annotations.loc['{ann['id']}', 'label']") == "person"
    # undo through the Session from the page (the relabel), then delete with the key
    v.root.locator('[data-action="undo"]').click()
    lab.wait_value(rev, 7)
    assert lab.value(f"s.annotations.loc['{ann['id']}', 'label']") == "car"
    assert _annotations(lab)[0]["geometry"]["yaw"] == pytest.approx(math.pi / 2, abs=0.02)
    v.canvas.focus()
    v.page.keyboard.press("Delete")
    lab.wait_value("len(s.annotations)", 0)
    v.wait("Number(el.dataset.cuboids) === 0")


def test_python_edits_and_tracks_appear_in_the_viewer(lab: Lab) -> None:
    v = _start(lab, "view='orbit'")
    lab.run(
        "a = s.annotate('street', 'lidar', 'car', kind='cuboid', frame=0, track='t1',"
        " geometry={'center': [10, 2, -1], 'size': [4, 2, 1.5], 'yaw': 0})\n"
        "b = s.annotate('street', 'lidar', 'car', kind='cuboid', frame=10, track='t1',"
        " geometry={'center': [20, 6, -1], 'size': [4, 2, 1.5], 'yaw': 1.0})"
    )
    v.wait("Number(el.dataset.cuboids) === 1")
    (c,) = v.cuboids()
    assert c["id"] == lab.value("a") and c["geometry"]["center"] == [10, 2, -1]
    # an update from Python redraws
    lab.run("s.update(a, geometry=ac.Cuboid((12, 3, -1), (5, 2, 1.6), 0.3))")
    v.wait("h.cuboids()[0] && h.cuboids()[0].geometry.center[0] === 12")
    assert v.cuboids()[0]["geometry"]["size"] == [5, 2, 1.6]
    # sweep 5 from Python: its points arrive and the track is interpolated there
    lab.run("v.sweep = 5")
    v.wait("el.dataset.sweep === '5' && Number(el.dataset.cuboids) === 1")
    (mid,) = v.cuboids()
    assert mid["interpolated"] and mid["track"] == "t1" and mid["id"] is None
    want = lab.value("v.cuboids(5)[0].to_dict()['geometry']")
    assert mid["geometry"]["center"] == pytest.approx(want["center"], abs=1e-9)
    assert mid["geometry"]["yaw"] == pytest.approx(want["yaw"], abs=1e-9)
    # K stores the interpolated cuboid as a keyframe of the track on this sweep
    v.canvas.click(position={"x": 5, "y": 5})
    v.root.locator('[data-action="keyframe"]').click()  # nothing selected: a hint, no change
    hs = v.hook("handles", "~t1")
    v.page.mouse.click(*hs["center"])
    v.wait("el.dataset.selected === '~t1'")
    v.page.keyboard.press("k")
    lab.wait_value("len(s.annotations)", 3)
    new = lab.value("s.annotations.query('frame == 5')[['track']].to_dict('records')")
    assert new == [{"track": "t1"}]
    v.wait("h.cuboids().length === 1 && !h.cuboids()[0].interpolated")
    # changing an attribute of an interpolated cuboid also stores a keyframe, with the value
    lab.run("v.sweep = 8")
    v.wait("el.dataset.sweep === '8' && h.cuboids().length === 1 && h.cuboids()[0].interpolated")
    hs = v.hook("handles", "~t1")
    v.page.mouse.click(*hs["center"])
    v.wait("el.dataset.selected === '~t1'")
    v.root.locator('input[data-attribute="occluded"]').check()
    lab.wait_value("len(s.annotations)", 4)
    kf = lab.value("s.annotations.query('frame == 8')[['track', 'attributes']].to_dict('records')")
    assert kf == [{"track": "t1", "attributes": {"occluded": True}}]
    # a delete in Python removes a keyframe: after the last one (now 8) nothing is shown
    lab.run("s.delete(b)")
    lab.run("v.sweep = 9")
    v.wait("el.dataset.sweep === '9' && Number(el.dataset.cuboids) === 0")


def test_colour_by_switch_does_not_resend_points(lab: Lab) -> None:
    v = _start(lab, "view='top'")
    n = int(v.data("points"))
    lab.run(
        "_sent = []\n_orig_send = v._send\n"
        "def _spy(msg, buffers=None):\n"
        "    _sent.append(sum(memoryview(b).nbytes for b in (buffers or [])))\n"
        "    return _orig_send(msg, buffers)\n"
        "v._send = _spy"
    )
    v.hook("resetStats")
    lab.run("v.color_by = 'intensity'")
    v.wait("el.dataset.colorBy === 'intensity' && h.stats().colorUpdates >= 1")
    v.root.locator('select[data-field="color_by"]').select_option("label")
    v.wait("el.dataset.colorBy === 'label' && h.stats().colorUpdates >= 2")
    lab.wait_value("v.color_by", "label")
    stats = v.hook("stats")
    assert stats["pointsUpdates"] == 0 and stats["pointsBytes"] == 0
    assert sum(lab.value("_sent")) == 0  # no binary buffer left the kernel
    assert int(v.data("points")) == n
    # a new sweep does send points (the spy sees them)
    lab.run("v.sweep = 1")
    v.wait("el.dataset.sweep === '1'")
    assert sum(lab.value("_sent")) >= 12 * 1000


def test_bad_points_give_a_typed_error_and_nothing_changes(lab: Lab) -> None:
    v = _start(lab, "view='top'")
    n = v.data("points")
    out = lab.run(
        "for bad in (np.full((10, 3), np.nan), np.zeros((10, 2)), np.zeros(7)):\n"
        "    try:\n"
        "        v.set_points(bad)\n"
        "    except ac.errors.AccordError as e:\n"
        "        print(type(e).__name__, e.where)"
    )
    assert out.splitlines() == [
        "ValidationError CloudViewer.points",
        "ShapeError CloudViewer.points",
        "ShapeError CloudViewer.points",
    ]
    v.page.wait_for_timeout(300)
    assert v.data("points") == n and v.data("sweep") == "0"
    assert v.hook("stats")["lastRender"]["points"] == int(n)
    assert lab.value("len(s.annotations)") == 0
    # good custom points replace the sweep
    lab.run("v.set_points(np.random.default_rng(0).normal(size=(5000, 3)) * 5)")
    v.wait("el.dataset.points === '5000' && el.dataset.sweep === ''")


def test_projected_cuboids_on_a_region_canvas_and_linked_hover(lab: Lab) -> None:
    from .canvas import canvases

    store = f"cloud-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    lab.run(
        "truth = scene.truth['lidar']['sweeps'][10]\n"
        "frame = truth['matched_frame']\n"
        "ids = {o['label']: s.annotate('street', 'lidar', o['label'], kind='cuboid',"
        " geometry=o['lidar'], frame=10) for o in truth['objects']}\n"
        "ent = s.new_entity([ids['car']], label='car')\n"
        "x1, y1, x2, y2 = next(o['box2d'] for o in truth['objects'] if o['label'] == 'car')\n"
        "box = s.annotate('street', 'video', 'car', ac.Box(x1, y1, x2 - x1, y2 - y1),"
        " frame=frame, entity=ent)"
    )
    car = lab.value("ids['car']")
    lab.run("canvas = ac.RegionCanvas(s, 'street', 'video', frame=frame, tool='select')\ncanvas")
    (c,) = canvases(lab.output_locator())
    c.root.page.wait_for_function(
        "(el) => el.dataset.projected === '2'", arg=c.root.element_handle(), timeout=20_000
    )
    lab.run("v = CloudViewer(s, 'street', 'lidar', sweep=10, view='top', follow_clock=False)\nv")
    root = lab.output_locator().locator(".accord-cloud-viewer")
    root.wait_for(timeout=30_000)
    v = Viewer(root)
    v.wait("el.dataset.ready === 'true' && el.dataset.cuboids === '2'", timeout=60)
    # 3-D → 2-D: hovering the car cuboid lights up its projection (and linked box) on the canvas
    centre = v.hook("handles", car)["center"]
    v.page.mouse.move(*centre)
    v.wait(f"el.dataset.hovered === {car!r}")
    c.root.page.wait_for_function(
        "([el, id]) => (el.dataset.highlighted || '').split(',').includes(id)",
        arg=[c.root.element_handle(), car],
        timeout=10_000,
    )
    # 2-D → 3-D: hovering the linked box on the canvas lights up the cuboid in the viewer
    v.page.mouse.move(5, 5)
    c.canvas.scroll_into_view_if_needed()
    g = lab.value("s.annotations.loc[box, 'geometry']")
    c.page.mouse.move(*c.to_screen(g["x"] + g["w"] / 2, g["y"] + g["h"] / 2))
    c.page.mouse.move(*c.to_screen(g["x"] + g["w"] / 2 + 1, g["y"] + g["h"] / 2))
    v.wait(f"el.dataset.hovered === {car!r}")


def test_prelabelled_boxes_appear_on_the_canvas_linked_to_their_cuboids(lab: Lab) -> None:
    """Boxes pre-annotated from cuboids show on the canvas; hovering one lights up its cuboid."""
    from .canvas import canvases

    store = f"cloud-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    lab.run(
        "sweep = scene.truth['lidar']['sweeps'][40]\n"
        "cub = {o['label']: s.annotate('street', 'lidar', o['label'], kind='cuboid',"
        " geometry=o['lidar'], frame=40, track=o['id']) for o in sweep['objects']}\n"
        "made = s.prelabel_boxes_from_cuboids('street', 'video')\n"
        "frame = sweep['matched_frame']"
    )
    made = lab.value(
        "[{'cuboid': r.cuboid, 'box': r.box, 'frame': int(r.frame)} "
        "for r in made.itertuples() if isinstance(r.box, str)]"
    )
    frame = lab.value("frame")
    assert len(made) == 2 and {m["frame"] for m in made} == {frame}
    # linked in the Session: cuboid → box with the taxonomy's link type, one entity each
    links = lab.value("[(r.source, r.target, r.type) for r in s.links.itertuples()]")
    assert sorted(map(tuple, links)) == sorted((m["cuboid"], m["box"], "projects_to") for m in made)
    # shown on the canvas of the matched frame (predictions of model:projection)
    lab.run("canvas = ac.RegionCanvas(s, 'street', 'video', frame=frame, tool='select')\ncanvas")
    (c,) = canvases(lab.output_locator())
    c.wait_count(2, timeout=20)
    c.root.page.wait_for_function(
        "(el) => el.dataset.projected === '2'", arg=c.root.element_handle(), timeout=20_000
    )
    # hovering a pre-annotated box announces its own cuboid on the item's in-page bus
    # (what a CloudViewer of the item listens to), not the other one
    car = next(m for m in made if lab.value(f"s.get({m['box']!r}).label") == "car")
    g = lab.value(f"s.get({car['box']!r}).geometry.to_dict()")
    c.canvas.scroll_into_view_if_needed()
    c.page.mouse.move(*c.to_screen(g["x"] + g["w"] / 2, g["y"] + g["h"] / 2))
    c.page.mouse.move(*c.to_screen(g["x"] + g["w"] / 2 + 1, g["y"] + g["h"] / 2))
    c.page.wait_for_function(
        """(id) => {
            const reg = globalThis[Symbol.for("accord.bus.registry.v1")];
            return !!reg && [...reg.values()].some((bus) => {
                const h = bus.last("hover");
                return !!h && typeof h === "object" && h.id === id;
            });
        }""",
        arg=car["cuboid"],
        timeout=10_000,
    )
