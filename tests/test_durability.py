"""An acknowledged command survives a killed process (SIGKILL mid-stream)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import accord as ac
from accord.store import SQLiteStore

from .conftest import TAXONOMY_YAML, media_free_item

WRITER = textwrap.dedent(
    """
    import sys, json
    import accord as ac
    from tests.conftest import TAXONOMY_YAML, media_free_item

    s = ac.Session(sys.argv[1], taxonomy=ac.Taxonomy.from_yaml(TAXONOMY_YAML), annotator="w")
    s.apply(media_free_item("clip"))
    i = 0
    while True:  # until killed
        a = s.annotate("clip", "cam", "car", ac.Box(i % 600, 1, 5, 5))
        if i % 3 == 0:
            s.update(a, label="person")
        print(a, flush=True)  # acknowledged: the command returned
        i += 1
    """
)


def test_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "kill.accord"
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "src")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=root,
    )
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the writer is inside its loop
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 300, "writer did not get going"

    store = SQLiteStore(path)
    assert store.check_integrity() == []
    store.close()
    s = ac.Session(path, annotator="check")
    present = set(s.annotations.index)
    missing = [a for a in acknowledged if a not in present]
    assert missing == []
    # every third one was relabelled before being acknowledged
    labels = s.annotations.loc[acknowledged, "label"].tolist()
    assert labels[::3] == ["person"] * len(labels[::3])
    # the log replays to the same state: create/update events match what exists
    creates = {e.id for e in s.store.events(target="annotation") if e.op == "create"}
    assert set(acknowledged) <= creates
    s.close()


def test_tests_package_helpers_importable() -> None:
    assert "classes" in TAXONOMY_YAML and media_free_item()["type"] == "item.add"
