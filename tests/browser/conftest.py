"""Browser end-to-end fixtures: a real JupyterLab server, Debian's Chromium, a notebook page.

- ``lab_server`` (session): `LabServer` on 127.0.0.1 with a free port and a random token;
- ``browser`` (session): Playwright's Chromium from ``/usr/bin/chromium`` (never downloaded);
- ``lab`` (function): a `Lab` with a fresh notebook and an idle kernel; on failure it saves
  ``test-artifacts/<module>__<test>.png`` (+ ``.console.log`` and ``.ipynb``).

Every test under this directory is marked ``browser``: deselect them with ``-m "not browser"``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .lab import Lab, LabServer

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
HERE = Path(__file__).parent
_reports = pytest.StashKey[dict[str, pytest.TestReport]]()
_timings = pytest.StashKey[dict[str, float]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    timings = config.stash.get(_timings, None)
    if timings:
        text = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
        terminalreporter.write_line(f"browser e2e timings: {text}")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config):
    """A running JupyterLab; stopped (whole process group) at the end of the session."""
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.start()
    except RuntimeError as err:
        print(server.log())  # shown with the setup error
        pytest.fail(f"JupyterLab did not start: {err}", pytrace=False)
    pytestconfig.stash.setdefault(_timings, {})["server start"] = server.startup_seconds
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from the Debian package, in a fresh temporary profile."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        # launch() gives every browser its own fresh temporary user-data-dir.
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
    finally:
        pw.stop()


@pytest.fixture
def lab(lab_server: LabServer, browser, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A fresh notebook open in its own browser context, kernel idle and ready."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    stem = _artifact_stem(request.node)
    lab = Lab(lab_server, context, f"{stem}-{uuid.uuid4().hex[:6]}.ipynb")
    try:
        lab.open()
        timings = request.config.stash.setdefault(_timings, {})
        timings.setdefault("first notebook open", lab.timings["open"])
        yield lab
    finally:
        reports = request.node.stash.get(_reports, {})
        if any(r.failed for r in reports.values()) or "open" not in lab.timings:
            out = request.config.rootpath / "test-artifacts"
            for old in out.glob(f"{stem}.*"):
                old.unlink()
            saved = lab.save_artifacts(out, stem)
            if "open" not in lab.timings:
                (out / f"{stem}.server.log").write_text(lab_server.log())
            print("saved", *(str(p) for p in saved))
        lab.close()
        context.close()


def _artifact_stem(node: pytest.Item) -> str:
    name = f"{node.path.stem}__{node.name}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150]
