"""RegionCanvas in Chromium: draw time while dragging over 1,000 boxes; page edit → Session.

Runs a real JupyterLab and Debian's Chromium (the browser-test harness in
``tests/browser``). Baselines, measured in the same run:

* draw time while dragging over an empty image (what the canvas costs with
  nothing on it);
* the kernel's own time for the same edit command (so the ratio shows what
  the page↔kernel transport adds).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.browser.canvas import Canvas, canvases, setup_code
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.lab import Lab, LabServer

from benchmarks.common import Report, median, percentile

FRAME_BUDGET_MS = 1000 / 60

#: Kernel code: N_BOXES random boxes on the left of the test image, in one command.
BOXES_CODE = """
import numpy as np
rng = np.random.default_rng(0)
xywh = zip(rng.uniform(0, 380, N_BOXES), rng.uniform(0, 400, N_BOXES),
           rng.uniform(8, 60, N_BOXES), rng.uniform(8, 60, N_BOXES))
anns = [{"item": "pic", "stream": "image", "label": "car", "kind": "box",
         "geometry": [float(x), float(y), float(w), float(h)]} for x, y, w, h in xywh]
s.apply({"type": "annotations.add", "annotations": anns})
print("ok")
"""

#: Kernel code: grow the store by N_BULK annotations on another item, add the box the
#: benchmark drags, and time every command the page sends (command + patched view).
STORE_CODE = """
import time as _t
s.add_item("bulk", image="pic.png")
for start in range(0, N_BULK, 20_000):
    batch = [{"item": "bulk", "stream": "image", "label": "car", "kind": "box",
              "geometry": [1.0, 1.0, 5.0, 5.0]} for _ in range(min(20_000, N_BULK - start))]
    s.apply({"type": "annotations.add", "annotations": batch})
target = s.annotate("pic", "image", "car", ac.Box(520, 300, 60, 60))
_ = s.annotations
_kernel = []
_handle = s.handle_message
def _timed(message, _handle=_handle):
    t_in = _t.time() * 1000
    reply = _handle(message)
    _kernel.append([t_in, _t.time() * 1000])  # epoch ms, comparable with the page's clock
    return reply
s.handle_message = _timed
def _read_view():
    t0 = _t.perf_counter()
    x = float(s.annotations.at[target, "geometry"]["x"])
    return [x, 1000 * (_t.perf_counter() - t0)]
print(len(s.annotations))
"""
EDIT_BUDGET_MS = 20.0


_RAF_START = """() => {
  window.__accordRaf = [];
  window.__accordRafOn = true;
  const loop = (t) => { if (!window.__accordRafOn) return;
    window.__accordRaf.push(t); requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
}"""
_RAF_STOP = """() => { window.__accordRafOn = false; const t = window.__accordRaf;
  return t.slice(1).map((v, i) => v - t[i]); }"""


def _drag_draw_times(lab: Lab, c: Canvas, steps: int) -> tuple[list[float], list[float]]:
    """Canvas draw times and frame intervals (rAF to rAF) during one drag."""
    c.tool("box")
    c.reset_stats()
    c.canvas.scroll_into_view_if_needed()
    lab.page.evaluate(_RAF_START)
    m = lab.page.mouse
    m.move(*c.to_screen(520, 40))
    m.down()
    for k in range(1, steps + 1):
        m.move(*c.to_screen(520 + 100 * k / steps, 40 + 120 * k / steps))
        lab.page.wait_for_timeout(8)
    m.up()
    intervals = lab.page.evaluate(_RAF_STOP)
    lab.page.wait_for_timeout(300)
    frames = list(c.stats()["frames"])
    lab.run("s.undo(); print('ok')")  # keep the store as it was
    return frames, intervals


def run(quick: bool = False) -> Report:
    n_boxes = 1_000
    n_store = 20_000 if quick else 100_000
    steps = 60 if quick else 150
    edits = 15 if quick else 40
    report = Report(
        "canvas",
        "RegionCanvas in Chromium (issue: front-end runtime and RegionCanvas)",
        "./dev.sh bench canvas" + (" --quick" if quick else ""),
    )
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = LabServer(Path(tmp)).start()
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(60_000)
            lab = Lab(server, context, "bench.ipynb").open()
            assert lab.run(setup_code("bench.accord")) == "ok"
            lab.run("canvas = ac.RegionCanvas(s, 'pic', 'image', height=480)\ncanvas")
            (c,) = canvases(lab.output_locator())

            # 1. draw time while dragging: empty image (baseline), then 1,000 boxes
            empty, empty_iv = _drag_draw_times(lab, c, steps)
            lab.run(BOXES_CODE.replace("N_BOXES", str(n_boxes)))
            c.wait_count(n_boxes, timeout=60)
            full, full_iv = _drag_draw_times(lab, c, steps)
            report.add(
                f"draw time while dragging a box over {n_boxes:,} boxes: p50",
                f"{median(full):.2f} ms",
                f"{median(empty):.2f} ms (empty image)",
                f"{median(full) / max(median(empty), 1e-3):.1f}×",
                f"< {FRAME_BUDGET_MS:.1f} ms (60 fps)",
                "yes" if median(full) < FRAME_BUDGET_MS else "NO",
            )
            report.add(
                "… p95",
                f"{percentile(full, 95):.2f} ms",
                f"{percentile(empty, 95):.2f} ms",
                "",
                f"< {FRAME_BUDGET_MS:.1f} ms",
                "yes" if percentile(full, 95) < FRAME_BUDGET_MS else "NO",
            )
            report.add(
                "… frames drawn during the drag", str(len(full)), str(len(empty)), "", "", ""
            )
            report.add(
                "frame interval during that drag (rAF to rAF, incl. rasterisation): p50",
                f"{median(full_iv):.1f} ms",
                f"{median(empty_iv):.1f} ms (empty image)",
                f"{median(full_iv) / median(empty_iv):.1f}×",
                "",
                "",
            )
            report.add(
                "… p95",
                f"{percentile(full_iv, 95):.1f} ms",
                f"{percentile(empty_iv, 95):.1f} ms",
                "",
                "",
                "",
            )

            # 2. page edit → Session, with the store at n_store annotations
            lab.run(STORE_CODE.replace("N_BULK", str(n_store - n_boxes)), timeout=300)
            assert int(lab.value("len(s.annotations)")) == n_store + 1
            c.wait_count(n_boxes + 1)
            c.tool("select")
            c.reset_stats()
            x, y = 550.0, 330.0
            reads: list[float] = []
            for k in range(edits):
                dx = 8 if k % 2 == 0 else -8
                c.drag((x, y), (x + dx, y), steps=3)
                x += dx
                lab.page.wait_for_function(
                    "([el, n]) => el.accordStats().commands.filter("
                    "c => c.type === 'annotation.update').length >= n",
                    arg=[c.root.element_handle(), k + 1],
                )
                seen_x, read_ms = lab.value("_read_view()")
                assert abs(seen_x - (x - 30)) < 1.5, (seen_x, x)  # the view shows the edit
                reads.append(read_ms)
            stats = [x for x in c.stats()["commands"] if x["type"] == "annotation.update"]
            assert all(x["ok"] for x in stats)
            kernel = lab.value("_kernel")[-len(stats) :]
            up = [k_in - x["at"] for x, (k_in, _) in zip(stats, kernel, strict=True)]
            work = [k_out - k_in for k_in, k_out in kernel]
            down = [x["at"] + x["ms"] - k_out for x, (_, k_out) in zip(stats, kernel, strict=True)]
            commit = [a + b for a, b in zip(up, work, strict=True)]
            total = [a + b for a, b in zip(commit, reads, strict=True)]
            report.add(
                f"page edit → visible in s.annotations ({n_store:,} annotations): median",
                f"{median(total):.2f} ms",
                f"{median(work):.2f} ms (the command inside the kernel)",
                f"{median(total) / median(work):.1f}×",
                f"< {EDIT_BUDGET_MS:.0f} ms",
                "yes" if median(total) < EDIT_BUDGET_MS else "NO",
            )
            report.add("… p95", f"{percentile(total, 95):.2f} ms", "", "", "", "")
            report.add(
                "… page → kernel (message up)",
                f"{median(up):.2f} ms",
                "",
                "",
                "",
                "",
            )
            report.add(
                "… command in the kernel (validate, commit with fsync, events out)",
                f"{median(work):.2f} ms",
                "",
                "",
                "",
                "",
            )
            report.add(
                "… reading the patched s.annotations",
                f"{median(reads):.2f} ms (p95 {percentile(reads, 95):.2f})",
                "",
                "",
                "",
                "",
            )
            report.add(
                "reply back in the page (after it redraws the event; not part of the edit)",
                f"{median(down):.2f} ms",
                "",
                "",
                "",
                "",
            )
            pings = [c.root.evaluate("(el) => el.accordPing()") for _ in range(20)]
            report.add(
                "no-op query round trip (transport alone)",
                f"{median(pings):.2f} ms",
                "",
                "",
                "",
                "",
            )
            lab.close()
            context.close()
        finally:
            browser.close()
            pw.stop()
            server.stop()
    report.notes.append(
        "Draw time is the canvas's own work per animation frame (accordStats), in headless "
        "Chromium with software rendering; drags send nothing to the kernel until mouse-up."
    )
    report.notes.append(
        "Each edit is a select-tool drag of one box: one annotation.update on mouse-up; the "
        "page times the command until its reply, the kernel times the command plus reading "
        "the patched s.annotations."
    )
    return report
