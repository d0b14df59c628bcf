"""The test infrastructure of the distributed tests is itself real: a PostgreSQL server that
checks passwords, and worker machines in network namespaces that reach it over their own links
only."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy

from tests.cli_support import REPO
from tests.conftest import Cluster
from tests.pg_support import PostgresServer, driver_url, with_password

CLIENT = (
    "import sys, psycopg2\n"
    "try:\n"
    "    c = psycopg2.connect(sys.argv[1], connect_timeout=3)\n"
    "except psycopg2.OperationalError as e:\n"
    "    print('refused', str(e).strip().splitlines()[0]); sys.exit(0)\n"
    "cur = c.cursor()\n"
    "cur.execute('SELECT host(inet_client_addr()), host(inet_server_addr())')\n"
    "print('connected', *cur.fetchone())\n"
)


def _client(cluster: Cluster, worker: int, url: str) -> str:
    done = subprocess.run(
        cluster.topology.command(worker, [sys.executable, "-c", CLIENT, url]),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_session_server_checks_the_password(postgres: PostgresServer, pg_url: str) -> None:
    engine = sqlalchemy.create_engine(driver_url(pg_url))
    try:
        with engine.connect() as con:
            row = con.execute(sqlalchemy.text("SELECT current_database(), current_user")).one()
    finally:
        engine.dispose()
    assert pg_url.endswith("/" + row[0]) and row[1] == "paysim"
    wrong = sqlalchemy.create_engine(
        driver_url(with_password(pg_url, "paysim", "not-the-password"))
    )
    with pytest.raises(sqlalchemy.exc.OperationalError, match="password authentication failed"):
        wrong.connect()
    wrong.dispose()


def test_workers_reach_the_server_over_their_own_links(cluster: Cluster) -> None:
    topo = cluster.topology
    for worker in (0, 1):
        seen = _client(cluster, worker, cluster.url(worker)).split()
        assert seen[0] == "connected", seen
        # The server sees the worker's own address, and answered on the worker's link.
        assert seen[1:] == [topo.worker_address[worker], topo.server_address[worker]]
    if topo.mode == "netns":
        assert topo.worker_address == ["10.231.1.2", "10.231.2.2"]
        # A worker has no route to the other worker's link (separate machines), and nothing
        # listens on its own loopback.
        other = _client(cluster, 0, cluster.url(1))
        assert other.startswith("refused"), other
        local = _client(cluster, 0, cluster.server.url(host="127.0.0.1"))
        assert local.startswith("refused"), local


def test_where_namespaces_cannot_be_made_the_harness_uses_loopback() -> None:
    probe = (
        "import os\n"
        "from tests.netns_support import make_topology\n"
        "t = make_topology(2)\n"
        "print(os.getpid(), t.mode, t.server_ns, t.server_address, t.command(1, ['x']))\n"
        "print(t.describe())\n"
        "t.cleanup()\n"
    )
    argv = [sys.executable, "-B", "-c", probe]
    if os.geteuid() == 0:
        # Root without CAP_NET_ADMIN and CAP_SYS_ADMIN: `ip netns add` is refused.
        drop = "-net_admin,-sys_admin"
        argv = ["setpriv", "--bounding-set", drop, "--inh-caps", drop, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    pid, rest = first.split(" ", 1)
    assert rest == "loopback None ['127.0.0.1', '127.0.0.1'] ['x']"
    if os.geteuid() == 0:
        assert second.startswith(f"loopback (namespaces could not be made: ip netns add pys{pid}pg")
        assert "not permitted" in second
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert f"pys{pid}" not in listed
    else:
        assert second == "loopback (not root: network namespaces need CAP_NET_ADMIN)"
