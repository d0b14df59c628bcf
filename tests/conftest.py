"""Test configuration shared by every Python test.

Under CI (``CI`` set) hypothesis runs derandomized: the same examples every run, so a landing
never depends on luck; locally it explores new examples each run.

The distributed tests get a real PostgreSQL server (:mod:`tests.pg_support`): ``postgres`` is
the session's server on loopback, started the first time a test asks for it and stopped when
the session ends; ``pg_url`` is a fresh database on it per test. ``cluster`` is a server and two
worker machines in network namespaces (:mod:`tests.netns_support`), torn down after the test
whatever its outcome; the terminal summary says whether namespaces or loopback ran.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import settings

from tests.netns_support import MODES_SEEN, Topology, make_topology
from tests.pg_support import PostgresServer, session_home, session_server

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = session_server()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres.create_database(f"t_{secrets.token_hex(6)}")


@dataclass
class Cluster:
    """PostgreSQL in its own namespace and the worker namespaces that reach it."""

    topology: Topology
    server: PostgresServer

    def url(self, worker: int, database: str = "postgres") -> str:
        """The database's URL as worker ``worker`` reaches it."""
        return self.server.url(database, host=self.topology.server_address[worker])


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    topology = make_topology(workers=2)
    server: PostgresServer | None = None
    try:
        server = PostgresServer(
            datadir=session_home(f"cluster-{secrets.token_hex(4)}") / "data",
            listen=topology.server_listen,
            netns=topology.server_ns,
            port=5432 if topology.mode == "netns" else 0,
        )
        server.start()
        yield Cluster(topology, server)
    finally:
        if server is not None:
            server.remove()
        topology.cleanup()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for mode in dict.fromkeys(MODES_SEEN):
        terminalreporter.write_line(f"distributed tests ran on {mode}")


_SHARED_SERVER_FIXTURES = frozenset({"postgres", "pg_url", "cluster"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test`` runs two workers), every test that uses the session's
    PostgreSQL server or the network-namespace harness runs in one worker, so one server is
    started and namespaces of two workers never meet."""
    for item in items:
        if _SHARED_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("postgres"))
