"""A throwaway PostgreSQL server for the tests and benchmarks (Debian's ``postgresql``).

One server per test process, started on first use and stopped at exit:

* ``initdb`` into a fresh temporary folder (as the ``postgres`` OS user when running
  as root, since PostgreSQL refuses to run as root);
* it listens on ``127.0.0.1`` only, on a free port, with its unix socket inside the
  temporary folder (nothing in ``/var/run/postgresql`` is touched);
* ``trust`` authentication for loopback connections only;
* each test gets its own database (``CREATE DATABASE … TEMPLATE``), owned by a
  non-superuser role ``accord``, so the store is exercised without superuser rights.

``./dev.sh`` installs the ``postgresql`` package; if its binaries are absent the
PostgreSQL tests are skipped with a message saying so.

Use it from pytest through the fixtures ``pg_server`` / ``pg_dsn`` (import them into
a test module), or directly: ``server = get_server(); dsn = server.create_database()``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["PgServer", "find_bin_dir", "get_server", "pg_dsn", "pg_server", "require_server"]

ROLE = "accord"
TEMPLATE = "accord_template"


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` with initdb and pg_ctl (or $PG_BIN)."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for c in candidates:
        d = Path(c)
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster in a temporary folder, listening on 127.0.0.1."""

    def __init__(self, *, durable: bool = False, max_connections: int = 60) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError(
                "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/initdb): "
                "install Debian's postgresql package (./dev.sh setup does)"
            )
        self.bin_dir = bin_dir
        self.durable = durable
        self.max_connections = max_connections
        self.root = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._as_root = os.geteuid() == 0
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        self.running = False

    # -- process control ------------------------------------------------------------
    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, check=False)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                f"\n{log}"
            )
        return proc

    def start(self) -> PgServer:
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        (self.data / "pg_hba.conf").write_text(
            "# accord test server: loopback only\n"
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
        )
        durability = (
            ""
            if self.durable
            else "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        )
        for attempt in range(5):
            self.port = _free_port()
            with (self.data / "postgresql.conf").open("a") as f:
                f.write(
                    "\n# accord test server\n"
                    "listen_addresses = '127.0.0.1'\n"
                    f"port = {self.port}\n"
                    f"unix_socket_directories = '{self.root}'\n"
                    f"max_connections = {self.max_connections}\n"
                    "shared_buffers = 64MB\n"
                    "log_min_messages = warning\n"
                    f"{durability}"
                )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"
                )
                break
            except RuntimeError:
                if attempt == 4:
                    raise
        self.running = True
        self._admin_sql(
            f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER CREATEDB",
            f"CREATE DATABASE {TEMPLATE} OWNER {ROLE} TEMPLATE template0",
        )
        return self

    def stop(self) -> None:
        if self.running:
            self.running = False
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases --------------------------------------------------------------------
    def dsn(self, dbname: str = "postgres", user: str = ROLE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def _admin_sql(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn("postgres", "postgres"), autocommit=True) as conn:
            for s in statements:
                conn.execute(s)  # type: ignore[arg-type]

    def create_database(self, name: str | None = None) -> str:
        """A new empty database owned by the ``accord`` role; returns its DSN."""
        with self._lock:
            name = name or f"t{next(self._names)}"
            self._admin_sql(f"CREATE DATABASE {name} OWNER {ROLE} TEMPLATE {TEMPLATE}")
        return self.dsn(name)


_SERVER: PgServer | None = None
_SERVER_ERROR: str | None = None


def get_server() -> PgServer | None:
    """The process-wide test server (started on first call), or None without binaries."""
    global _SERVER, _SERVER_ERROR
    if _SERVER is None and _SERVER_ERROR is None:
        if find_bin_dir() is None:
            _SERVER_ERROR = (
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
                "./dev.sh setup installs Debian's postgresql package"
            )
            return None
        server = PgServer()
        atexit.register(server.stop)
        server.start()
        _SERVER = server
    return _SERVER


def require_server() -> PgServer:
    """The test server, or skip the calling test when PostgreSQL is not installed."""
    server = get_server()
    if server is None:
        pytest.skip(_SERVER_ERROR or "PostgreSQL unavailable")
    return server


_DSN_BY_KEY: dict[str, str] = {}


def dsn_for(key: object) -> str:
    """One database per key (e.g. a test's tmp_path): the same DSN on every call."""
    k = str(key)
    if k not in _DSN_BY_KEY:
        _DSN_BY_KEY[k] = require_server().create_database()
    return _DSN_BY_KEY[k]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    yield require_server()


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> str:
    """A fresh, empty database on the test server."""
    return pg_server.create_database()
