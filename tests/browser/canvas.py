"""Helpers for driving a RegionCanvas in the page: find it, map image↔screen pixels."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Locator, Page

TAXONOMY = """
name: canvas-e2e
version: 1
classes:
  - name: car
    color: "#1f77b4"
    hotkey: c
    geometries: {image: [box, rotated_box, polygon], video: [box, rotated_box, polygon]}
    attributes:
      - {name: occluded, type: bool, default: false}
  - name: person
    color: "#ff7f0e"
    hotkey: p
    keypoints: [head, left_hand, right_hand]
    geometries: {image: [box, keypoints, polygon], video: [box, keypoints, polygon]}
  - name: "<img src=x onerror=alert(1)>"
    color: "#d62728"
    hotkey: x
    geometries: {image: [box]}
  - name: needs-note
    color: "#2ca02c"
    hotkey: n
    geometries: {image: [box]}
    attributes:
      - {name: note, type: text, required: true}
"""


def setup_code(store: str, annotator: str = "ana", image_size: tuple[int, int] = (640, 480)) -> str:
    """Kernel code: a gradient test image, a Session on ``store`` and an image item ``pic``."""
    w, h = image_size
    return f"""
import numpy as np
from pathlib import Path
import accord as ac
from accord.media.encode import encode_png

img = np.zeros(({h}, {w}, 3), np.uint8)
img[..., 0] = np.linspace(0, 255, {w}, dtype=np.uint8)[None, :]
img[..., 1] = np.linspace(0, 255, {h}, dtype=np.uint8)[:, None]
img[..., 2] = 90
Path("pic.png").write_bytes(encode_png(img))
tax = ac.Taxonomy.from_yaml('''{TAXONOMY}''')
s = ac.Session("{store}", taxonomy=tax, annotator="{annotator}")
if "pic" not in s.items_by_id:
    s.add_item("pic", image="pic.png")
print("ok")
"""


@dataclass
class Canvas:
    """One RegionCanvas in the page."""

    root: Locator

    @property
    def page(self) -> Page:
        return self.root.page

    @property
    def canvas(self) -> Locator:
        return self.root.locator("canvas.accord-canvas")

    def wait_ready(self, timeout: float = 30) -> Canvas:
        self.root.wait_for(timeout=timeout * 1000)
        self.page.wait_for_function(
            "(el) => el.dataset.ready === 'true'",
            arg=self.root.element_handle(),
            timeout=timeout * 1000,
        )
        return self

    def data(self, key: str) -> str:
        return self.root.evaluate("(el, k) => el.dataset[k] ?? ''", key)

    def count(self) -> int:
        return int(self.data("count") or 0)

    def wait_count(self, n: int, timeout: float = 10) -> None:
        self.page.wait_for_function(
            "([el, n]) => Number(el.dataset.count) === n",
            arg=[self.root.element_handle(), n],
            timeout=timeout * 1000,
        )

    def view(self) -> tuple[float, float, float]:
        """``(zoom, pan_x, pan_y)``: screen = canvas origin + pan + zoom × image."""
        return float(self.data("zoom")), float(self.data("panX")), float(self.data("panY"))

    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        box = self.canvas.bounding_box()
        assert box is not None
        zoom, px, py = self.view()
        return box["x"] + px + zoom * x, box["y"] + py + zoom * y

    def to_image(self, sx: float, sy: float) -> tuple[float, float]:
        box = self.canvas.bounding_box()
        assert box is not None
        zoom, px, py = self.view()
        return (sx - box["x"] - px) / zoom, (sy - box["y"] - py) / zoom

    def tool(self, name: str) -> None:
        self.root.locator(f'[data-tool="{name}"]').click()

    def label(self, name: str) -> None:
        self.root.locator(f'[data-label="{name}"]').first.click()

    def action(self, name: str) -> None:
        self.root.locator(f'[data-action="{name}"]').first.click()

    def drag(self, a: tuple[float, float], b: tuple[float, float], steps: int = 8) -> None:
        """Drag in image coordinates from ``a`` to ``b``."""
        self.canvas.scroll_into_view_if_needed()
        m = self.page.mouse
        m.move(*self.to_screen(*a))
        m.down()
        m.move(*self.to_screen(*b), steps=steps)
        m.up()

    def click(self, x: float, y: float, **kwargs) -> None:
        self.canvas.scroll_into_view_if_needed()
        self.page.mouse.click(*self.to_screen(x, y), **kwargs)

    def stats(self) -> dict:
        return self.root.evaluate("(el) => el.accordStats()")

    def reset_stats(self) -> None:
        self.root.evaluate("(el) => el.accordResetStats()")


def canvases(output: Locator) -> list[Canvas]:
    """Every RegionCanvas under an output area, ready."""
    roots = output.locator(".accord-region-canvas")
    roots.first.wait_for(timeout=30_000)
    return [Canvas(roots.nth(i)).wait_ready() for i in range(roots.count())]
