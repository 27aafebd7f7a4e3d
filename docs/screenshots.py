"""Make the documentation's screenshots in a real JupyterLab and Chromium.

    .venv/bin/python docs/screenshots.py            # writes docs/_static/workbench.png

Starts JupyterLab on 127.0.0.1 with the browser-test harness
(``tests/browser/lab.py``) and Debian's ``/usr/bin/chromium`` (nothing is
downloaded), opens the Workbench over the sample scene with a few labels and
links (the tour's), and saves a screenshot of the cell's output.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.lab import Lab, LabServer  # noqa: E402

#: The sample scene labelled as in the tour: a car as a cuboid and a box (linked, one
#: entity), Ben's sentence as an audio segment and a transcript span describing the car.
SETUP = """
import accord as ac
from accord import samples
scene = samples.scene()
truth = scene.truth
tax = ac.Taxonomy.from_yaml('''
name: street-pilot
version: 1
classes:
  - {name: car, color: "#1f77b4", hotkey: c,
     geometries: {video: [box, polygon], pointcloud: [cuboid]}}
  - {name: person, color: "#ff7f0e", hotkey: p,
     geometries: {video: [box, keypoints], pointcloud: [cuboid]}}
  - name: speech
    color: "#2ca02c"
    hotkey: s
    geometries: {audio: [time_segment], text: [text_span, time_segment]}
    attributes: [{name: speaker, type: choice, choices: [Ana, Ben]}]
  - {name: mention, color: "#9467bd", hotkey: m, geometries: {text: [text_span]}}
link_types:
  - {name: same_as, sources: [cuboid, box], targets: [box, cuboid], symmetric: true}
  - {name: describes, sources: [text_span], targets: [box, cuboid, time_segment]}
''')
s = ac.Session(STORE, taxonomy=tax, annotator="ana", stage=STAGE)
s.add_item("street-001", video=scene.video, audio=scene.audio, transcript=scene.transcript,
           lidar=scene.lidar, calibration=scene.calibration)
sweep = truth["lidar"]["sweeps"][40]
frame = sweep["matched_frame"]
boxes = {}
for obj in sweep["objects"]:
    c = obj["lidar"]
    cuboid = ac.Cuboid(c["center"], c["size"], c["yaw"])
    cub = s.annotate("street-001", "lidar", obj["label"], cuboid,
                     kind="cuboid", frame=sweep["index"], track=obj["id"])
    x1, y1, x2, y2 = obj["box2d"]
    box = s.annotate("street-001", "video", obj["label"], ac.Box(x1, y1, x2 - x1, y2 - y1),
                     frame=frame, track=obj["id"])
    s.link(cub, box, "same_as")
    s.new_entity([cub, box], label=obj["label"], name=obj["id"])
    boxes[obj["label"]] = box
text = s.stream("street-001", "transcript").text
for i, sentence in enumerate(truth["sentences"]):
    seg = s.annotate("street-001", "audio", "speech",
                     ac.TimeSegment(sentence["start"], sentence["end"]),
                     attributes={"speaker": sentence["speaker"]})
    at = text.index(sentence["text"])
    span = s.annotate("street-001", "transcript", "speech",
                      ac.TextSpan(at, at + len(sentence["text"])),
                      attributes={"speaker": sentence["speaker"]})
    s.link(span, seg, "describes")
at = text.index("A red car")
mention = s.annotate("street-001", "transcript", "mention", ac.TextSpan(at, at + len("A red car")))
s.link(mention, boxes["car"], "describes")
print("ok")
"""


def workbench(out: Path, width: int = 1100, stage: int = 2) -> Path:
    """Save a screenshot of ``ac.Workbench(s, "street-001")`` to ``out``."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="accord-shots-") as tmp:
        server = LabServer(Path(tmp)).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                context = browser.new_context(
                    viewport={"width": width + 420, "height": 2600}, device_scale_factor=1
                )
                context.set_default_timeout(60_000)
                lab = Lab(server, context, f"shots-{uuid.uuid4().hex[:6]}.ipynb").open()
                store = server.root_dir / "shots.accord"
                setup = SETUP.replace("STORE", repr(str(store))).replace("STAGE", str(stage))
                lab.run(setup, timeout=180)
                lab.run(
                    f"wb = ac.Workbench(s, 'street-001', width='{width}px')\nwb",
                    timeout=120,
                )
                root = lab.output_locator()
                page = lab.page
                for sel in (".accord-region-canvas", ".accord-cloud-viewer"):
                    page.wait_for_function(
                        "(el) => el.dataset.ready === 'true'",
                        arg=root.locator(sel).element_handle(),
                    )
                page.wait_for_function(
                    "(el) => el.dataset.ready === '1'",
                    arg=root.locator(".accord-player").element_handle(),
                )
                # the car's frame and sweep, from the shared playhead
                frame = int(
                    lab.value(
                        "(wb.seek(s.stream('street-001', 'video').timeline.centre_of(frame)),"
                        " wb.canvas.frame)[1]"
                    )
                )
                page.wait_for_function(
                    "([el, f]) => el.dataset.frame === String(f) && el.dataset.ready === 'true'",
                    arg=[root.locator(".accord-region-canvas").element_handle(), frame],
                )
                page.wait_for_timeout(1500)  # the WebGL view and waveforms settle
                target = root.locator(".accord-workbench").first
                # the notebook scrolls itself: put the Workbench at the top of a tall viewport
                target.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(500)
                box = target.bounding_box()
                assert box is not None
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), clip=box)
                lab.close()
                context.close()
                browser.close()
        finally:
            server.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_static" / "workbench.png")
    parser.add_argument("--width", type=int, default=1100, help="Workbench width in CSS px")
    parser.add_argument("--stage", type=int, default=2, choices=(1, 2), help="the session's stage")
    args = parser.parse_args(argv)
    print(workbench(args.out, args.width, args.stage))


if __name__ == "__main__":
    main()
