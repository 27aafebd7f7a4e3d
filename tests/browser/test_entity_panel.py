"""EntityPanel end to end: merge and split with real clicks, Python edits re-render the
panel, and "go to" on a box moves a RegionCanvas (and the Player's playhead) to its frame."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Locator, expect

from .canvas import canvases
from .lab import Lab

FPS = (30000, 1001)

TAXONOMY = """
name: entity-e2e
version: 1
classes:
  - name: car
    color: "#1f77b4"
    geometries: {video: [box], text: [text_span]}
  - name: speech
    color: "#2ca02c"
    geometries: {text: [text_span], video: [time_segment]}
"""


def _setup(lab: Lab) -> dict[str, str]:
    """The sample scene as item ``scene``: three boxes and a span in three entities."""
    store = f"entity-{uuid.uuid4().hex[:8]}.accord"
    out = lab.run(
        f"""
import json
import accord as ac
from accord import samples
sc = samples.scene()
tax = ac.Taxonomy.from_yaml('''{TAXONOMY}''')
s = ac.Session("{store}", taxonomy=tax, annotator="ana")
s.add_item("scene", video=sc.video, transcript=sc.transcript)
b1 = s.annotate("scene", "video", "car", ac.Box(40, 60, 120, 80), frame=20)
b2 = s.annotate("scene", "video", "car", ac.Box(200, 90, 100, 70), frame=137)
b3 = s.annotate("scene", "video", "car", ac.Box(300, 50, 60, 60), frame=250)
sp = s.annotate("scene", "transcript", "speech", ac.TextSpan(0, 5))
e1 = s.new_entity([b1], label="car", name="<img src=x onerror=alert(1)>")
e2 = s.new_entity([b2, sp], label="car", name="second")
e3 = s.new_entity([b3], label="car", name="third")
print(json.dumps(dict(b1=b1, b2=b2, b3=b3, sp=sp, e1=e1, e2=e2, e3=e3)))
"""
    )
    return json.loads(out.splitlines()[-1])


def _panel(lab: Lab) -> Locator:
    root = lab.output_locator().locator(".accord-entity-panel").first
    expect(root).to_have_attribute("data-ready", "true", timeout=30_000)
    return root


def _members(lab: Lab, entity: str) -> set[str]:
    return set(lab.value(f"list(s.entities.loc[{entity!r}, 'members'])"))


def test_merge_and_split_in_the_panel_and_python_merges_show(lab: Lab) -> None:
    dialogs: list[str] = []
    lab.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ids = _setup(lab)
    lab.run("panel = ac.EntityPanel(s, 'scene')\npanel")
    root = _panel(lab)
    expect(root).to_have_attribute("data-entities", "3")
    assert root.locator("img").count() == 0
    expect(
        root.locator(f'.accord-ep-entity[data-entity="{ids["e1"]}"] .accord-ep-name')
    ).to_have_text("<img src=x onerror=alert(1)>")

    # merge e1 and e2 with real clicks: e1 (ticked first) keeps every member
    root.locator(f'[data-tick-entity="{ids["e1"]}"]').click()
    root.locator(f'[data-tick-entity="{ids["e2"]}"]').click()
    merge = root.locator('[data-action="merge"]')
    expect(merge).to_be_enabled()
    merge.click()
    expect(root).to_have_attribute("data-entities", "2")
    assert _members(lab, ids["e1"]) == {ids["b1"], ids["b2"], ids["sp"]}
    assert lab.value(f"{ids['e2']!r} in s.entities.index") is False
    expect(root.locator(f'.accord-ep-entity[data-entity="{ids["e1"]}"]')).to_have_attribute(
        "data-size", "3"
    )

    # a merge from Python re-renders the panel
    lab.run(f"s.merge_entities({ids['e1']!r}, {ids['e3']!r})")
    expect(root).to_have_attribute("data-entities", "1")
    expect(root.locator(f'.accord-ep-entity[data-entity="{ids["e1"]}"]')).to_have_attribute(
        "data-size", "4"
    )

    # split two members off into a new entity
    entity = root.locator(f'.accord-ep-entity[data-entity="{ids["e1"]}"]')
    if entity.locator(f'[data-member="{ids["b2"]}"]').count() == 0:
        entity.locator('[data-action="expand"]').click()
    root.locator(f'[data-tick-member="{ids["b2"]}"]').click()
    root.locator(f'[data-tick-member="{ids["sp"]}"]').click()
    split = root.locator('[data-action="split"]')
    expect(split).to_be_enabled()
    split.click()
    expect(root).to_have_attribute("data-entities", "2")
    new = lab.value(f"[e for e in s.entities.index if e != {ids['e1']!r}][0]")
    assert _members(lab, new) == {ids["b2"], ids["sp"]}
    assert _members(lab, ids["e1"]) == {ids["b1"], ids["b3"]}
    assert lab.value(f"s.entities.loc[{new!r}, 'label']") == "car"

    # undo in the panel: the split goes back as one command
    root.locator('[data-action="undo"]').click()
    expect(root).to_have_attribute("data-entities", "1")
    assert _members(lab, ids["e1"]) == {ids["b1"], ids["b2"], ids["b3"], ids["sp"]}

    # a rename from Python shows; a rename in the panel reaches Python
    lab.run(f"s.apply({{'type': 'entity.update', 'id': {ids['e1']!r}, 'name': 'renamed'}})")
    expect(
        root.locator(f'.accord-ep-entity[data-entity="{ids["e1"]}"] .accord-ep-name')
    ).to_have_text("renamed")
    root.locator(f'.accord-ep-entity[data-entity="{ids["e1"]}"] [data-action="rename"]').click()
    field = root.locator(f'[data-rename="{ids["e1"]}"]')
    field.fill("the red car")
    field.press("Enter")
    lab.wait_value(f"s.entities.loc[{ids['e1']!r}, 'name']", "the red car")
    assert dialogs == []


def test_go_to_a_box_moves_the_canvas_and_the_playhead(lab: Lab) -> None:
    ids = _setup(lab)
    lab.run(
        "import ipywidgets as W\n"
        "canvas = ac.RegionCanvas(s, 'scene', 'video', frame=0, height=300)\n"
        "player = ac.Player(s, 'scene', height=200)\n"
        "panel = ac.EntityPanel(s, 'scene')\n"
        "W.VBox([player, canvas, panel])"
    )
    (c,) = canvases(lab.output_locator())
    player = lab.output_locator().locator(".accord-player").first
    expect(player).to_have_attribute("data-ready", "1", timeout=30_000)
    root = _panel(lab)
    entity = root.locator(f'.accord-ep-entity[data-entity="{ids["e2"]}"]')
    entity.locator('[data-action="expand"]').click()
    member = root.locator(f'[data-member="{ids["b2"]}"]')
    expect(member).to_contain_text("frame 137")

    # hovering the member publishes {id, entity} on the item's bus
    key = lab.value("panel.bus_key")
    lab.page.evaluate(
        """(key) => {
          const bus = globalThis[Symbol.for('accord.bus.registry.v1')].get(key);
          globalThis.__hovers = [];
          bus.subscribe('hover', (v) => globalThis.__hovers.push(v));
        }""",
        key,
    )
    member.hover()
    lab.page.wait_for_function(
        "(id) => globalThis.__hovers.some((v) => v && v.id === id)", arg=ids["b2"]
    )
    hovers = lab.page.evaluate("() => globalThis.__hovers")
    assert {"id": ids["b2"], "entity": ids["e2"]} in hovers

    member.locator('[data-action="goto"]').click()
    expect(c.root).to_have_attribute("data-frame", "137", timeout=15_000)
    expect(c.root).to_have_attribute("data-selected", ids["b2"], timeout=15_000)
    lab.wait_value("canvas.frame", 137)
    lab.wait_value("canvas.selected", ids["b2"])
    expect(player).to_have_attribute("data-frame", "137", timeout=15_000)
    reveal = lab.page.evaluate(
        "(key) => globalThis[Symbol.for('accord.bus.registry.v1')].get(key).last('reveal')",
        lab.value("panel.bus_key"),
    )
    centre = (137 + 0.5) * FPS[1] / FPS[0]
    assert reveal["id"] == ids["b2"] and reveal["stream"] == "video" and reveal["frame"] == 137
    assert reveal["sweep"] is None and abs(reveal["time"] - centre) < 1e-6
    assert reveal["item"] == "scene" and reveal["kind"] == "box"
