"""The browser harness itself: code runs, errors surface, gestures reach Python and back."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from .lab import Lab

CLICKER = '''
import anywidget
import traitlets

class Clicker(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const b = document.createElement("button");
        b.className = "clicker";
        b.textContent = "click";
        b.onclick = () => { model.set("n", model.get("n") + 1); model.save_changes(); };
        const s = document.createElement("span");
        s.className = "count";
        const show = () => { s.textContent = String(model.get("n")); };
        model.on("change:n", show);
        show();
        el.append(b, s);
        return () => model.off("change:n", show);
      }
    }
    """
    n = traitlets.Int(0).tag(sync=True)

w = Clicker()
w
'''

CANVAS = '''
import anywidget
import traitlets

class Pad(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const c = document.createElement("canvas");
        c.className = "pad";
        c.width = 200; c.height = 100;
        c.style.cssText = "display:block;width:200px;height:100px;border:0;background:#eee";
        c.addEventListener("pointerdown", (e) => {
          c.setPointerCapture(e.pointerId);
          model.set("down", [e.offsetX, e.offsetY]); model.save_changes();
        });
        c.addEventListener("pointerup", (e) => {
          model.set("up", [e.offsetX, e.offsetY]); model.save_changes();
        });
        el.appendChild(c);
      }
    }
    """
    down = traitlets.List([]).tag(sync=True)
    up = traitlets.List([]).tag(sync=True)

pad = Pad()
pad
'''


def test_run_returns_result_and_stdout(lab: Lab) -> None:
    t0 = time.monotonic()
    assert lab.run("1+1") == "2"
    first = time.monotonic() - t0
    assert lab.run("print('a')\nprint('b', end='')\n{'k': [1, (2,)]}") == "a\nb{'k': [1, (2,)]}"
    assert lab.value("{'x': [1, 2.5, None], 'y': 'é'}") == {"x": [1, 2.5, None], "y": "é"}
    assert lab.run("x = 3") == ""
    assert lab.value("x * 2") == 6
    # The source arrives verbatim: brackets, quotes, indentation, tabs, backslashes, unicode.
    tricky = 'def g(a=(1, [2, {3: "}"}])):\n\tif a:\n\t\treturn "\\\\n é ✓ \'q\'"\n\nprint(g())'
    assert lab.run(tricky) == "\\n é ✓ 'q'"
    long_cell = "\n".join(f"v{i} = {i}" for i in range(400)) + "\nprint(v399)"
    assert lab.run(long_cell) == "399"
    print(f"open {lab.timings['open']:.2f} s, first run {first:.2f} s")


def test_run_surfaces_errors(lab: Lab) -> None:
    with pytest.raises(AssertionError, match=r"ZeroDivisionError") as info:
        lab.run("def f():\n    return 1 / 0\n\nf()")
    assert "return 1 / 0" in str(info.value)  # the traceback, colour codes stripped
    assert "\x1b[" not in str(info.value)
    # The kernel carries on after an error.
    assert lab.run("'still alive'") == "'still alive'"
    # A cell that outlives its timeout fails the test, and the kernel is interrupted.
    with pytest.raises(AssertionError, match=r"timed out after 1 s"):
        lab.run("import time\ntime.sleep(30)", timeout=1)
    assert lab.run("'interrupted'", timeout=10) == "'interrupted'"


def test_clicks_reach_python_and_python_rerenders(lab: Lab) -> None:
    lab.run(CLICKER)
    out = lab.output_locator()
    button = out.locator("button.clicker")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None
    for _ in range(3):
        lab.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(out.locator(".count")).to_have_text("3")
    assert lab.value("w.n") == 3

    lab.run("w.n = 10")
    expect(out.locator(".count")).to_have_text("10")


def test_canvas_drag_reaches_python(lab: Lab) -> None:
    lab.run(CANVAS)
    canvas = lab.output_locator().locator("canvas.pad")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None
    mouse = lab.page.mouse
    mouse.move(box["x"] + 10, box["y"] + 10)
    mouse.down()
    mouse.move(box["x"] + 60, box["y"] + 40, steps=5)
    mouse.up()
    lab.wait_value("len(pad.up)", 2)
    down, up = lab.value("[pad.down, pad.up]")
    assert down == pytest.approx([10, 10], abs=1)
    assert up == pytest.approx([60, 40], abs=1)
