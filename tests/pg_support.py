"""A real PostgreSQL server for the distributed tests, started and stopped by the test session.

``make test`` installs Debian's ``postgresql`` package when its binaries are missing; this module
finds them (``/usr/lib/postgresql/<version>/bin``, or ``PAYSIM_PG_BINDIR``), makes a data
directory under the build folder (``target/pg/<session>``; ``/tmp/paysim-pg`` when the server's
user cannot reach the build folder), and runs ``initdb`` and ``pg_ctl``
with a password-protected superuser listening on a free port.

PostgreSQL refuses to run as root, so under root (CI, containers) the server runs as the
``postgres`` user (or ``nobody``) through ``runuser``, owning its data directory. A server can
also be started inside a network namespace (``ip netns exec``) listening on that namespace's
addresses: the network-namespace harness (:mod:`tests.netns_support`) does that.

``PAYSIM_TEST_POSTGRES_URL`` (e.g. ``postgresql://user:pw@db:5432/postgres``, a role that may
create databases) makes the session use that server instead of starting one.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
PG_ROOT = REPO / "target" / "pg"
USER = "paysim"
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresUnavailableError(RuntimeError):
    """The PostgreSQL binaries are missing, or the server did not start."""


def find_bindir() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: ``PAYSIM_PG_BINDIR``, the newest Debian
    install, or the one on ``PATH``."""
    given = os.environ.get("PAYSIM_PG_BINDIR")
    candidates = [Path(given)] if given else []
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresUnavailableError(
        "PostgreSQL's initdb and pg_ctl were not found (looked in PAYSIM_PG_BINDIR, "
        "/usr/lib/postgresql/*/bin and PATH): `make test` installs them "
        "(apt-get install postgresql)"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _server_user() -> str | None:
    """The unprivileged user the server runs as when we are root (``None``: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresUnavailableError("running as root, but there is no `postgres` or `nobody` user")


def with_password(url: str, user: str, password: str) -> str:
    """``url`` with its credentials replaced."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def driver_url(url: str) -> str:
    """``url`` for SQLAlchemy with the psycopg2 driver (SQLAlchemy 2.1 takes ``postgresql://``
    to mean psycopg 3, which paysim does not install)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme == "postgresql" else url


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@dataclass
class PostgresServer:
    """One PostgreSQL server: a data directory, the addresses it listens on and its port."""

    datadir: Path
    listen: Sequence[str] = ("127.0.0.1",)
    port: int = 0
    netns: str | None = None
    """Network namespace the server runs in (``None``: the test's own)."""
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    bindir: Path = field(default_factory=find_bindir)
    external_url: str | None = None
    """A server started elsewhere (``PAYSIM_TEST_POSTGRES_URL``): nothing is started here."""
    started: bool = False

    def _as_server(self, argv: Sequence[str | Path]) -> list[str]:
        cmd = [str(a) for a in argv]
        user = _server_user()
        if user is not None:
            cmd = ["runuser", "-u", user, "--", *cmd]
        if self.netns is not None:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        return cmd

    def _run(self, argv: Sequence[str | Path], what: str) -> None:
        done = subprocess.run(
            self._as_server(argv), capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            log = self.datadir.parent / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailableError(
                f"{what} failed (exit {done.returncode}): {done.stderr.strip()}\n{tail}"
            )

    def start(self) -> PostgresServer:
        """``initdb`` (once) and ``pg_ctl start``; returns when the server accepts connections."""
        if self.external_url is not None:
            return self
        if self.port == 0:
            self.port = free_port()
        home = self.datadir.parent
        home.mkdir(parents=True, exist_ok=True)
        user = _server_user()
        if user is not None:
            shutil.chown(home, user)
        home.chmod(0o700)
        if not (self.datadir / "PG_VERSION").exists():
            pwfile = home / "pwfile"
            pwfile.write_text(self.password + "\n")
            if user is not None:
                shutil.chown(pwfile, user)
            try:
                self._run(
                    [
                        self.bindir / "initdb",
                        "-D", self.datadir, "-U", USER, f"--pwfile={pwfile}",
                        "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "-N",
                    ],
                    "initdb",
                )  # fmt: skip
            finally:
                pwfile.unlink(missing_ok=True)
            # Connections from the namespaces' addresses too (password required everywhere).
            with (self.datadir / "pg_hba.conf").open("a") as hba:
                hba.write("host all all 0.0.0.0/0 scram-sha-256\n")
        options = " ".join(
            [
                f"-c listen_addresses={','.join(self.listen)}",
                f"-p {self.port}",
                "-c unix_socket_directories=''",
                "-c max_connections=200",
                # Test data need not survive a power cut: no fsync, a quick shutdown.
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            ]
        )
        self._run(
            [
                self.bindir / "pg_ctl", "-D", self.datadir, "-l", home / "server.log",
                "-w", "-t", "60", "-o", options, "start",
            ],
            "pg_ctl start",
        )  # fmt: skip
        self.started = True
        return self

    def stop(self, modes: Sequence[str] = ("fast", "immediate")) -> None:
        """``pg_ctl stop -m fast`` (immediate if that does not finish)."""
        if not self.started:
            return
        self.started = False
        for mode in modes:
            try:
                self._run(
                    [self.bindir / "pg_ctl", "-D", self.datadir, "-m", mode, "-w", "stop"],
                    "pg_ctl stop",
                )
                return
            except (PostgresUnavailableError, subprocess.TimeoutExpired):
                continue

    def remove(self) -> None:
        """Stops the server at once (its data are deleted: no shutdown checkpoint) and deletes
        its data directory and log."""
        self.stop(("immediate",))
        if self.external_url is None:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)
            with contextlib.suppress(OSError):  # the session's folder, once its last server is gone
                self.datadir.parent.parent.rmdir()

    def url(self, database: str = "postgres", host: str | None = None) -> str:
        """A ``postgresql://`` URL of ``database`` as seen from ``host`` (default: the first
        listen address)."""
        if self.external_url is not None:
            return with_database(self.external_url, database)
        where = host or self.listen[0]
        return f"postgresql://{USER}:{quote(self.password, safe='')}@{where}:{self.port}/{database}"

    def execute(self, statement: str, database: str = "postgres") -> None:
        """Runs ``statement`` outside a transaction (``CREATE DATABASE`` needs that)."""
        if self.netns is not None:
            # The server is only reachable inside its namespace: the client runs there.
            done = subprocess.run(
                [
                    "ip", "netns", "exec", self.netns, sys.executable, "-c",
                    "import sys, psycopg2; c = psycopg2.connect(sys.argv[1]); "
                    "c.autocommit = True; c.cursor().execute(sys.argv[2])",
                    self.url(database), statement,
                ],
                capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            if done.returncode != 0:
                raise PostgresUnavailableError(f"{statement}: {done.stderr.strip()}")
            return
        import sqlalchemy

        engine = sqlalchemy.create_engine(
            driver_url(self.url(database)),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 10},
        )
        try:
            with engine.connect() as con:
                con.execute(sqlalchemy.text(statement))
        finally:
            engine.dispose()

    def create_database(self, name: str) -> str:
        """Creates database ``name`` (a fresh one per test); returns its URL."""
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        self.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Waits until a connection succeeds (an external server may still be starting)."""
        import sqlalchemy

        deadline = time.monotonic() + timeout
        while True:
            try:
                self.execute("SELECT 1")
                return
            except sqlalchemy.exc.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresUnavailableError(f"PostgreSQL at {self.url()}: {exc}") from None
                time.sleep(0.2)


def _reachable_by(user: str, directory: Path) -> bool:
    """Whether ``user`` may traverse every directory down to ``directory`` (a checkout under
    ``/root``, mode 700, is not: the server could not open its data directory there)."""
    entry = pwd.getpwnam(user)
    groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    for part in [directory, *directory.parents]:
        st = part.stat()
        if st.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def pg_root() -> Path:
    """``target/pg``, or ``/tmp/paysim-pg`` when the server's user cannot reach the build
    folder."""
    PG_ROOT.mkdir(parents=True, exist_ok=True)
    user = _server_user()
    if user is None or _reachable_by(user, PG_ROOT):
        return PG_ROOT
    fallback = Path(tempfile.gettempdir()) / "paysim-pg"
    fallback.mkdir(mode=0o755, exist_ok=True)
    return fallback


def session_home(tag: str) -> Path:
    """A directory for one server of this test session under ``target/pg`` (see
    :func:`pg_root`); homes of sessions whose process is gone are removed first."""
    root = pg_root()
    for old in root.glob("session-*"):
        pid = old.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)
    home = root / f"session-{os.getpid()}" / tag
    if home.exists():
        shutil.rmtree(home)
    return home


def session_server() -> PostgresServer:
    """The session's server on loopback: ``PAYSIM_TEST_POSTGRES_URL`` if set, else a new one."""
    external = os.environ.get("PAYSIM_TEST_POSTGRES_URL")
    if external:
        server = PostgresServer(
            datadir=Path("/nonexistent"), external_url=external, bindir=Path("/nonexistent")
        )
        server.wait_ready()
        return server
    return PostgresServer(datadir=session_home("loopback") / "data").start()
