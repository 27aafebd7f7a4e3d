"""Workbench in a real JupyterLab: every part renders, ``?`` shows the keyboard map, and
stage 1 hides another annotator's box, segment, span and cuboid (stage 2 shows them)."""

from __future__ import annotations

from playwright.sync_api import Locator

from .lab import Lab

TAXONOMY = """
name: wb-e2e
version: 1
classes:
  - {name: car, color: "#1f77b4", hotkey: c,
     geometries: {video: [box], pointcloud: [cuboid]}}
  - {name: speech, color: "#2ca02c", hotkey: s,
     geometries: {audio: [time_segment], text: [text_span, time_segment]}}
link_types:
  - {name: same_as, sources: [cuboid, box], targets: [box, cuboid], symmetric: true}
  - {name: describes, sources: [text_span], targets: [box, cuboid, time_segment]}
"""


def setup_code(store: str) -> str:
    """Bob labels the sample scene: a box, a cuboid, a segment, a span (one entity, one link)."""
    return f"""
import accord as ac
from accord import samples
scene = samples.scene()
tax = ac.Taxonomy.from_yaml('''{TAXONOMY}''')
bob = ac.Session("{store}", taxonomy=tax, annotator="bob", stage=2)
bob.add_item("street-001", video=scene.video, audio=scene.audio, transcript=scene.transcript,
             lidar=scene.lidar, calibration=scene.calibration)
ids = dict(
    box=bob.annotate("street-001", "video", "car", ac.Box(40, 60, 120, 80), frame=0),
    cuboid=bob.annotate("street-001", "lidar", "car", ac.Cuboid((8, 0, 0.8), (4, 2, 1.6), 0.0),
                        kind="cuboid", frame=0),
    segment=bob.annotate("street-001", "audio", "speech", ac.TimeSegment(0.5, 2.0),
                         kind="time_segment"),
    span=bob.annotate("street-001", "transcript", "speech", ac.TextSpan(0, 8), kind="text_span"),
)
bob.link(ids["span"], ids["box"], "describes")
bob.new_entity([ids["box"], ids["cuboid"]], label="car")
print("ok")
"""


def open_workbench(lab: Lab, name: str, stage: int) -> Locator:
    """Ana opens the Workbench at ``stage`` (with one box of her own); its output, rendered."""
    lab.run(
        f"{name}_s = ac.Session(bob.store.location, taxonomy=tax, annotator='ana', stage={stage})\n"
        f"{name}_own = {name}_s.annotate('street-001', 'video', 'car', ac.Box(300, 60, 90, 70),"
        " frame=0)\n"
        f"{name} = ac.Workbench({name}_s, 'street-001')\n{name}"
    )
    out = lab.output_locator()
    for sel in (".accord-region-canvas", ".accord-cloud-viewer", ".accord-text-annotator"):
        out.locator(sel).wait_for(timeout=60_000)
        lab.page.wait_for_function(
            "(el) => el.dataset.ready === 'true'",
            arg=out.locator(sel).element_handle(),
            timeout=60_000,
        )
    lab.page.wait_for_function(
        "(el) => el.dataset.ready === '1'",
        arg=out.locator(".accord-player").element_handle(),
        timeout=60_000,
    )
    return out


def counts(out: Locator, ids: dict[str, str]) -> dict[str, int]:
    """What the page shows of bob's labels (hooks and data attributes), and the canvas count."""
    return {
        "canvas": int(out.locator(".accord-region-canvas").get_attribute("data-count") or 0),
        "segment": out.locator(f'[data-segment-id="{ids["segment"]}"]').count(),
        "span": out.locator(f'[data-spans~="{ids["span"]}"]').count(),
        "cuboids": int(out.locator(".accord-cloud-viewer").get_attribute("data-cuboids") or 0),
    }


def test_workbench_renders_every_part_and_the_keymap(lab: Lab) -> None:
    lab.run(setup_code(str(lab.root_dir / f"{lab.path}.accord")))
    ids = lab.value("ids")
    out = open_workbench(lab, "wb", stage=2)
    for sel in (
        "[data-accord-workbench-keys]",
        ".accord-player",
        ".accord-tiers",
        ".accord-region-canvas",
        ".accord-cloud-viewer",
        ".accord-text-annotator",
        ".accord-entity-panel",
    ):
        assert out.locator(sel).count() == 1, sel
    header = out.locator("[data-accord-workbench-keys]")
    assert "street-001 · ana · stage 2" in header.inner_text()
    # canvas | viewer side by side at this width, under the Player
    cb = out.locator(".accord-region-canvas").bounding_box()
    vb = out.locator(".accord-cloud-viewer").bounding_box()
    pb = out.locator(".accord-player").bounding_box()
    assert cb and vb and pb
    assert abs(cb["y"] - vb["y"]) < 4 and vb["x"] > cb["x"] + cb["width"] - 4
    assert cb["y"] >= pb["y"] + pb["height"] - 4
    # stage 2: bob's labels show, read-only
    lab.page.wait_for_function(
        "(el) => el.dataset.count === '2'",
        arg=out.locator(".accord-region-canvas").element_handle(),
    )
    c = counts(out, ids)
    assert c["segment"] == 1 and c["span"] >= 1 and c["cuboids"] == 1, c
    others = out.locator('.accord-region-canvas [data-action="toggle-others"]')
    assert others.is_enabled() and out.locator("[data-accord-stage-hint]:visible").count() == 0

    # the header's button opens the map, Esc closes it
    keymap = header.locator("[data-accord-keymap]")
    assert keymap.is_hidden()
    header.locator('[data-action="keys"]').click()
    keymap.wait_for(state="visible")
    lab.page.keyboard.press("Escape")
    keymap.wait_for(state="hidden")
    # ? (with focus in a view) shows one map listing every view's keys
    out.locator(".accord-region-canvas canvas.accord-canvas").click(position={"x": 5, "y": 5})
    lab.page.keyboard.press("?")
    keymap.wait_for(state="visible")
    views = keymap.locator("[data-view]").evaluate_all("els => els.map(e => e.dataset.view)")
    assert views == [
        "Workbench",
        "Player",
        "Tiers",
        "RegionCanvas",
        "CloudViewer",
        "TextAnnotator",
        "Entities",
    ]
    assert "keyframe the selected track" in keymap.inner_text()
    # the canvas's own help panel did not open as well
    assert out.locator(".accord-region-canvas .accord-rc-help:visible").count() == 0
    lab.page.keyboard.press("Escape")
    keymap.wait_for(state="hidden")
    lab.page.keyboard.press("?")
    keymap.wait_for(state="visible")
    assert lab.wait_value("wb.header.shown", True)  # the page tells Python


def test_stage1_hides_others_labels_stage2_shows_them(lab: Lab) -> None:
    lab.run(setup_code(str(lab.root_dir / f"{lab.path}.accord")))
    ids = lab.value("ids")
    one = open_workbench(lab, "one", stage=1)
    lab.page.wait_for_function(
        "(el) => el.dataset.count === '1'",  # ana's own box only
        arg=one.locator(".accord-region-canvas").element_handle(),
    )
    assert one.locator(".accord-tiers").count() == 1
    c1 = counts(one, ids)
    assert (c1["canvas"], c1["segment"], c1["span"], c1["cuboids"]) == (1, 0, 0, 0), c1
    for view in (".accord-region-canvas", ".accord-cloud-viewer", ".accord-text-annotator"):
        toggle = one.locator(f'{view} [data-action="toggle-others"]').first
        assert toggle.is_disabled(), view
        hint = one.locator(f"{view} [data-accord-stage-hint]").first
        assert hint.inner_text() == "stage 1: others' labels hidden", view
    assert (
        "stage 1: others' labels hidden" in one.locator("[data-accord-workbench-keys]").inner_text()
    )
    assert one.locator(".accord-entity-panel").inner_text().count("bob") == 0
    # bob edits while ana looks: nothing of it reaches her page; her own edit does
    lab.run(
        "bob.update(ids['box'], geometry=ac.Box(44, 60, 120, 80))\n"
        "bob.annotate('street-001', 'video', 'car', ac.Box(500, 60, 40, 40), frame=0)\n"
        "one_s.poll()\n"
        "one_s.annotate('street-001', 'video', 'car', ac.Box(200, 200, 30, 30), frame=0)"
    )
    lab.page.wait_for_function(
        "(el) => el.dataset.count === '2'",
        arg=one.locator(".accord-region-canvas").element_handle(),
    )
    assert counts(one, ids)["canvas"] == 2  # her two boxes; neither of bob's three

    two = open_workbench(lab, "two", stage=2)
    # everyone's: 3 of ana's (both sessions are ana), 2 of bob's
    lab.page.wait_for_function(
        "(el) => el.dataset.count === '5'",
        arg=two.locator(".accord-region-canvas").element_handle(),
    )
    two.locator(f'[data-segment-id="{ids["segment"]}"]').wait_for()
    c2 = counts(two, ids)
    assert c2["segment"] == 1 and c2["span"] >= 1 and c2["cuboids"] == 1, c2
    assert two.locator('.accord-region-canvas [data-action="toggle-others"]').is_enabled()
