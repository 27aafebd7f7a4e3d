"""Disagreements end to end: click a heatmap cell in the rendered Vega chart, pick an item,
get two canvases each showing one annotator's shapes — and the kernel agrees."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Locator

from .canvas import canvases, setup_code
from .lab import Lab

pytest.importorskip(
    "vl_convert",
    reason="the heatmap's JavaScript is bundled by vl-convert-python (no CDN in the test page)",
)

# ana and bob on two images. pic: ana 3 boxes, bob 4; pic2: ana 1 car, bob 1 car elsewhere.
LABELS = """
bob = ac.Session("{store}", annotator="bob")
B = ac.Box
s.annotate("pic", "image", "car", B(10, 10, 100, 80))
s.annotate("pic", "image", "car", B(200, 200, 60, 60))
s.annotate("pic", "image", "person", B(400, 100, 50, 120))
bob.annotate("pic", "image", "car", B(10, 10, 100, 80))
bob.annotate("pic", "image", "person", B(202, 200, 60, 60))
bob.annotate("pic", "image", "car", B(500, 300, 40, 40))
bob.annotate("pic", "image", "person", B(400, 100, 50, 120))
if "pic2" not in s.items_by_id:
    s.add_item("pic2", image="pic.png")
s.annotate("pic2", "image", "car", B(10, 10, 50, 50))
bob.annotate("pic2", "image", "car", B(300, 300, 50, 50))
s.poll()
w = ac.widgets.Disagreements(s)
print("ok")
"""


def _cell_marks(output: Locator) -> Locator:
    """The heatmap's rect marks: SVG paths Vega draws, one per cell."""
    return output.locator(".accord-disagreements-heatmap svg g.mark-rect.role-mark path")


def _start(lab: Lab) -> Locator:
    store = f"dis-{uuid.uuid4().hex[:8]}.accord"
    assert lab.run(setup_code(store)) == "ok"
    assert lab.run(LABELS.format(store=store), timeout=120) == "ok"
    lab.run("w")
    out = lab.output_locator()
    _cell_marks(out).first.wait_for(timeout=60_000)
    return out


def test_click_a_cell_choose_an_item_compare_side_by_side(lab: Lab) -> None:
    out = _start(lab)
    page = lab.page
    marks = _cell_marks(out)
    cells = lab.value("w.table[['pair', 'column', 'f1']].to_dict('records')")
    assert {c["column"] for c in cells} == {"car", "person"}
    assert marks.count() == len(cells)
    # Vega labels each mark with its fields (aria-label): find the car cell and click it
    labels = [marks.nth(i).get_attribute("aria-label") or "" for i in range(marks.count())]
    hits = [i for i, text in enumerate(labels) if "class / kind: car;" in text]
    assert len(hits) == 1, labels
    car = hits[0]
    assert lab.value("w.cell is None") is True
    marks.nth(car).click()
    lab.wait_value("None if w.cell is None else w.cell.label", "car", timeout=15)
    # the item list appears in the page, worst first, as Python lists it
    items = lab.value("list(w.items['item'])")
    assert items == ["pic2", "pic"]  # F1 0 on pic2, 0.5 on pic
    select = out.locator(".accord-disagreements-items select")
    page.wait_for_function(
        "(el) => el.options.length === 2", arg=select.element_handle(), timeout=15_000
    )
    texts = select.evaluate("(el) => [...el.options].map((o) => o.textContent)")
    assert [t.replace("\xa0", " ").split(" — ")[0] for t in texts] == items
    assert lab.value("w.canvases == ()") is True
    # choose pic: two canvases, each showing only its annotator's boxes
    select.select_option(index=1)
    lab.wait_value("[c.annotators for c in w.canvases]", [["ana"], ["bob"]], timeout=15)
    views = canvases(out.locator(".accord-disagreements-canvases"))
    assert len(views) == 2
    ana, bob = views
    ana.wait_count(3)
    bob.wait_count(4)
    assert ana.data("annotators") == "ana" and bob.data("annotators") == "bob"
    # the disagreeing shapes are selected: ana's second car, bob's lonely car
    ids = lab.value("[c.selected for c in w.canvases]")
    assert ids == lab.value(
        "list(w.items.set_index('item').loc['pic', ['annotation_a', 'annotation_b']])"
    )
    assert [ana.data("selected"), bob.data("selected")] == ids
    # clicking another cell lists its items and closes the canvases
    (person,) = [i for i, text in enumerate(labels) if "class / kind: person;" in text]
    marks.nth(person).click()
    lab.wait_value("None if w.cell is None else w.cell.label", "person", timeout=15)
    assert lab.value("list(w.items['item'])") == ["pic"]
    page.wait_for_function(
        "(el) => el.options.length === 1", arg=select.element_handle(), timeout=15_000
    )
    assert out.locator(".accord-disagreements-canvases .accord-region-canvas").count() == 0
