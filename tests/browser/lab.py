"""Drive a real JupyterLab from pytest: a server process (`LabServer`) and a notebook page (`Lab`).

`LabServer` starts ``jupyter lab`` in its own process group with isolated config, runtime,
settings and workspace directories. `Lab` opens a fresh notebook in a Playwright page, waits
until its kernel is really ready, and runs code the way a user does: the cell source is set
through the JupyterLab model (exact text, no bracket auto-closing or auto-indent), the cell
is focused with a click and executed with Shift+Enter.

The app is exposed to the page as ``window.jupyterapp`` (``LabApp.expose_app_in_browser``),
the hook JupyterLab's own Galata tests use; `Lab` reads cell models and outputs through it
rather than scraping rendered text.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

#: Selector of the notebook panel the user sees (hidden panels stay in the DOM).
VISIBLE_NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
#: Its cells, in notebook order (the windowed list's viewport holds them all, see below).
NOTEBOOK_CELLS = f"{VISIBLE_NOTEBOOK} .jp-WindowedPanel-viewport > .jp-Cell"

#: JupyterLab user settings written into the server's own settings dir.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    # No news, update checks or toasts: they pop over the notebook and steal clicks.
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    # Every cell stays attached to the DOM, so locators by index always resolve.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes (IPython tracebacks are coloured)."""
    return _ANSI.sub("", text)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A ``jupyter lab`` process serving `root_dir`, reachable at `url` with `token`."""

    base_dir: Path
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 0.0

    @property
    def root_dir(self) -> Path:
        """The server's root: notebooks and any files tests want to serve live here."""
        return self.base_dir / "root"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 90.0, attempts: int = 3) -> LabServer:
        """Start the server and wait until ``/api/status`` answers; retry on a port clash."""
        dirs = self._prepare_dirs()
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            t0 = time.monotonic()
            self._spawn(dirs)
            try:
                self._wait_ready(timeout)
            except RuntimeError:
                self.stop()
                if attempt == attempts or "address already in use" not in self.log().lower():
                    raise
                continue
            self.startup_seconds = time.monotonic() - t0
            return self
        raise AssertionError("unreachable")

    def _prepare_dirs(self) -> dict[str, Path]:
        dirs = {
            "JUPYTER_CONFIG_DIR": self.base_dir / "config",
            "JUPYTER_RUNTIME_DIR": self.base_dir / "runtime",
            "JUPYTERLAB_SETTINGS_DIR": self.base_dir / "settings",
            "JUPYTERLAB_WORKSPACES_DIR": self.base_dir / "workspaces",
            "IPYTHONDIR": self.base_dir / "ipython",
        }
        for d in [self.root_dir, *dirs.values()]:
            d.mkdir(parents=True, exist_ok=True)
        for name, values in LAB_SETTINGS.items():
            path = dirs["JUPYTERLAB_SETTINGS_DIR"] / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2))
        return dirs

    def _spawn(self, dirs: dict[str, Path]) -> None:
        env = os.environ.copy()
        env.update({k: str(v) for k, v in dirs.items()})
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # silence the debugger's frozen-module note
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: kernels included, stopped together
            )
        finally:
            log.close()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.proc.returncode} during startup\n{self.log()}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError):
                status = self.api("GET", "/api/status", timeout=2)
                if isinstance(status, dict) and "started" in status:
                    return
            time.sleep(0.1)
        raise RuntimeError(
            f"jupyter lab did not answer /api/status in {timeout:.0f} s\n{self.log()}"
        )

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after `grace` seconds."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        # Kernels are in the group too; make sure none outlives the server.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def log(self) -> str:
        """The server's log so far (stdout and stderr)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- REST --------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Call the server's REST API with the token; returns the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def default_kernel(self) -> tuple[str, str]:
        """``(name, display_name)`` of the server's default kernel spec."""
        specs = self.api("GET", "/api/kernelspecs")
        name = specs["default"]
        return name, specs["kernelspecs"][name]["spec"]["display_name"]


# JS prelude shared by every page evaluation: `app`, the notebook `panel` for `path` and its
# `nb` (Notebook widget). Arguments arrive as `a`.
_PRELUDE = """
const app = window.jupyterapp;
let panel = null;
for (const w of app.shell.widgets('main')) {
  if (w.context && w.context.path === a.path && w.content && w.content.model) { panel = w; }
}
if (panel === null) { throw new Error('notebook panel not found: ' + a.path); }
const nb = panel.content;
"""


class Lab:
    """One fresh notebook open in a Playwright page, with a live kernel.

    - `run(code)` executes code in a new cell and returns its text output;
    - `value(expr)` returns a JSON-able Python value from the kernel;
    - `output_locator(i)` / `cell_locator(i)` locate cells run through `run`
      (0 = first, -1 = latest);
    - `page` is the Playwright page, `root_dir` the server root (the kernel's cwd).
    """

    def __init__(self, server: LabServer, context: BrowserContext, name: str) -> None:
        self.server = server
        self.context = context
        self.path = name
        self.console: list[str] = []
        self.timings: dict[str, float] = {}
        self._ran: list[int] = []
        self._workspace = f"t-{uuid.uuid4().hex[:12]}"
        self.kernel_name, self.kernel_display_name = server.default_kernel()
        self.page: Page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.console.append(f"[pageerror] {err}"))

    @property
    def root_dir(self) -> Path:
        return self.server.root_dir

    # -- opening and closing -------------------------------------------------------------------

    def open(self, timeout: float = 60.0) -> Lab:
        """Write an empty notebook, start its kernel, open it and wait for an idle kernel."""
        t0 = time.monotonic()
        nb = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": uuid.uuid4().hex[:8],
                    "metadata": {},
                    "outputs": [],
                    "source": [],
                }
            ],
            "metadata": {
                "kernelspec": {
                    "name": self.kernel_name,
                    "display_name": self.kernel_display_name,
                    "language": "python",
                },
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root_dir / self.path).write_text(json.dumps(nb, indent=1))
        # Start the kernel now, while the page loads (~1 s saved); the page joins the session.
        self.server.api(
            "POST",
            "/api/sessions",
            {
                "path": self.path,
                "name": self.path,
                "type": "notebook",
                "kernel": {"name": self.kernel_name},
            },
        )
        # A workspace of its own: nothing from earlier tests is restored next to it.
        url = (
            f"{self.server.url}/lab/workspaces/{self._workspace}/tree/"
            f"{urllib.parse.quote(self.path)}?token={self.server.token}"
        )
        self.page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
        self.wait_kernel_ready(timeout)
        self.timings["open"] = time.monotonic() - t0
        return self

    def wait_kernel_ready(self, timeout: float = 60.0) -> None:
        """Wait until the kernel is connected and idle, as the status bar says it.

        The execution indicator reads "idle" for a moment while the panel still has
        "No Kernel"; code sent then is dropped. So wait for the status bar text
        ``<kernel display name> | Idle`` and for a connected, idle kernel in the model.
        """
        page = self.page
        page.locator(NOTEBOOK_CELLS).first.wait_for(timeout=timeout * 1000)
        status = re.compile(rf"^\s*{re.escape(self.kernel_display_name)} \| Idle\s*$")
        page.locator("#jp-main-statusbar").get_by_text(status).wait_for(timeout=timeout * 1000)
        self._wait_js(
            """
            const ctx = panel.sessionContext;
            const k = ctx.session && ctx.session.kernel;
            return ctx.isReady && !!k && k.connectionStatus === 'connected'
                && k.status === 'idle';
            """,
            timeout=timeout,
        )

    def close(self) -> None:
        """Close the page and shut the notebook's kernel down through the REST API."""
        with contextlib.suppress(PlaywrightError):
            self.page.close()
        with contextlib.suppress(OSError, urllib.error.URLError):
            for s in self.server.api("GET", "/api/sessions"):
                if s.get("path") == self.path:
                    self.server.api("DELETE", f"/api/sessions/{s['id']}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            self.server.api("DELETE", f"/lab/api/workspaces/{self._workspace}")

    # -- running code -------------------------------------------------------------------------

    def run(self, code: str, timeout: float = 60.0) -> str:
        """Run `code` in a new cell at the end of the notebook with Shift+Enter.

        Returns the cell's stdout followed by its ``text/plain`` result (trailing newlines
        stripped). Raises AssertionError with the traceback if the cell raised, and on
        timeout (after interrupting the kernel).
        """
        t0 = time.monotonic()
        index = self._prepare_cell(code)
        cell = self._cell_at(index)
        cell.locator(".cm-content").click()  # edit mode, this cell active and focused
        self._wait_js(
            """
            const cell = nb.widgets[a.index];
            return nb.activeCellIndex === a.index && nb.mode === 'edit'
                && cell.editor.hasFocus()
                && cell.editor.editor.state.doc.toString() === a.code;
            """,
            {"index": index, "code": code},
            timeout=10,
            what="the cell editor to hold the code and have focus",
        )
        self.page.keyboard.press("Shift+Enter")
        self._ran.append(index)
        try:
            self._wait_js(
                """
                const cell = nb.widgets[a.index];
                const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
                return cell.model.executionCount !== null && !!k && k.status === 'idle';
                """,
                {"index": index},
                timeout=timeout,
                what=f"cell {index} to finish",
            )
        except AssertionError as err:
            self._interrupt()
            outputs = self._outputs(index)
            raise AssertionError(
                f"{err}\n--- code ---\n{code}\n--- output so far ---\n{_render(outputs)}"
            ) from None
        outputs = self._outputs(index)
        self.timings["last_run"] = time.monotonic() - t0
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors:
            raise AssertionError(f"cell raised:\n{_render(errors)}\n--- code ---\n{code}")
        text = []
        for o in outputs:
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                text.append(_text(o.get("text", "")))
            elif o.get("output_type") == "execute_result":
                text.append(_text(o.get("data", {}).get("text/plain", "")))
        return "".join(text).rstrip("\n")

    def value(self, expr: str, timeout: float = 60.0) -> Any:
        """Evaluate `expr` in the kernel and return it through JSON."""
        out = self.run(f"import json as _json\nprint(_json.dumps(\n{expr}\n))", timeout=timeout)
        lines = out.splitlines()
        if not lines:
            raise AssertionError(f"no output from value({expr!r})")
        return json.loads(lines[-1])

    def wait_value(self, expr: str, expected: Any, timeout: float = 10.0) -> Any:
        """Poll `value(expr)` until it equals `expected` (for state that arrives async)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.value(expr)
            if got == expected or time.monotonic() > deadline:
                assert got == expected, f"{expr} is {got!r}, expected {expected!r}"
                return got
            time.sleep(0.1)

    # -- locating -----------------------------------------------------------------------------

    def cell_locator(self, cell_index: int = -1) -> Locator:
        """The cell run by the `cell_index`-th call to `run` (0 = first, -1 = latest)."""
        return self._cell_at(self._ran[cell_index])

    def output_locator(self, cell_index: int = -1) -> Locator:
        """The output area of the cell run by the `cell_index`-th call to `run`."""
        return self.cell_locator(cell_index).locator(".jp-Cell-outputArea")

    # -- artifacts ----------------------------------------------------------------------------

    def save_artifacts(self, directory: Path, stem: str) -> list[Path]:
        """Save a full-page screenshot, the browser console and the notebook JSON."""
        directory.mkdir(parents=True, exist_ok=True)
        saved = []
        with contextlib.suppress(PlaywrightError):
            png = directory / f"{stem}.png"
            self.page.screenshot(path=str(png), full_page=True, timeout=15_000)
            saved.append(png)
        log = directory / f"{stem}.console.log"
        log.write_text("\n".join(self.console) + "\n")
        saved.append(log)
        with contextlib.suppress(PlaywrightError):
            nb = self._js("return nb.model.toJSON();")
            ipynb = directory / f"{stem}.ipynb"
            ipynb.write_text(json.dumps(nb, indent=1))
            saved.append(ipynb)
        return saved

    # -- internals ----------------------------------------------------------------------------

    def _on_console(self, msg: ConsoleMessage) -> None:
        loc = msg.location or {}
        where = f" ({loc.get('url', '')}:{loc.get('lineNumber', '')})" if loc.get("url") else ""
        self.console.append(f"[{msg.type}] {msg.text}{where}")

    def _cell_at(self, index: int) -> Locator:
        return self.page.locator(NOTEBOOK_CELLS).nth(index)

    def _prepare_cell(self, code: str) -> int:
        """Reuse the trailing empty cell or append one; put `code` in it; return its index."""
        index = self._js(
            """
            const n = nb.widgets.length;
            const last = n ? nb.widgets[n - 1].model : null;
            const blank = last && last.type === 'code' && last.sharedModel.getSource() === ''
                && last.executionCount === null && last.outputs.length === 0;
            if (!blank) { nb.model.sharedModel.insertCell(n, {cell_type: 'code', source: ''}); }
            const index = nb.widgets.length - 1;
            nb.widgets[index].model.sharedModel.setSource(a.code);
            return index;
            """,
            {"code": code},
        )
        self._cell_at(index).wait_for()
        return index

    def _outputs(self, index: int) -> list[dict[str, Any]]:
        return self._js("return nb.widgets[a.index].model.outputs.toJSON();", {"index": index})

    def _interrupt(self) -> None:
        with contextlib.suppress(OSError, urllib.error.URLError):
            for s in self.server.api("GET", "/api/sessions"):
                if s.get("path") == self.path:
                    self.server.api("POST", f"/api/kernels/{s['kernel']['id']}/interrupt")

    def _js(self, body: str, args: dict[str, Any] | None = None) -> Any:
        a = {"path": self.path, **(args or {})}
        return self.page.evaluate(f"(a) => {{ {_PRELUDE}\n{body} }}", a)

    def _wait_js(
        self,
        body: str,
        args: dict[str, Any] | None = None,
        timeout: float = 60.0,
        what: str = "the page",
    ) -> None:
        a = {"path": self.path, **(args or {})}
        # The prelude throws until the panel exists; treat that as "not yet".
        fn = f"(a) => {{ try {{ {_PRELUDE}\n{body} }} catch (e) {{ return false; }} }}"
        try:
            self.page.wait_for_function(fn, arg=a, timeout=timeout * 1000, polling=50)
        except PlaywrightTimeoutError:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}") from None


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _render(outputs: list[dict[str, Any]]) -> str:
    parts = []
    for o in outputs:
        kind = o.get("output_type")
        if kind == "error":
            tb = strip_ansi("\n".join(o.get("traceback", [])))
            parts.append(f"{o.get('ename')}: {o.get('evalue')}\n{tb}")
        elif kind == "stream":
            parts.append(f"[{o.get('name')}] {_text(o.get('text', ''))}")
        elif kind in ("execute_result", "display_data"):
            parts.append(_text(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)
