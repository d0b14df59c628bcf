"""Machines for the distributed tests: PostgreSQL and each worker in its own network namespace.

:func:`make_topology` builds, with ``ip netns`` and veth pairs, one namespace for the database
server and one per worker. Each worker namespace is joined to the server's by its own veth pair
on a /30 of the test's own (``10.231.<k>.0/30``: the server's end ``.1``, the worker's ``.2``),
so a worker reaches PostgreSQL only over its link, at an address that is not loopback, exactly as
a separate machine would; worker namespaces cannot reach each other. Every namespace has its own
loopback device up.

Where namespaces cannot be made (not root, no ``CAP_NET_ADMIN``, no ``ip``), the topology falls
back to loopback: everything runs in the test's own namespace at ``127.0.0.1``, and
:attr:`Topology.mode` says so (``netns`` or ``loopback``) together with the reason; the
session's terminal summary reports which ran.

Names carry the test process's id (``pys<pid>pg``, ``pys<pid>w1`` ...), so concurrent sessions
never collide; :meth:`Topology.cleanup` kills what still runs in the namespaces and deletes them
(their veth ends go with them), and is called even when a test fails. Namespaces left by a
session that was itself killed are removed by the next session (:func:`remove_stale`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

PREFIX = "pys"
_OURS = re.compile(rf"^{PREFIX}(\d+)(pg|w\d+)$")
SUBNET = "10.231"

MODES_SEEN: list[str] = []
"""What each topology of this session ran on (``netns: ...`` / ``loopback: <why>``), for the
terminal summary."""


class TopologyError(RuntimeError):
    """A namespace or link could not be made."""


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise TopologyError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _namespaces() -> list[str]:
    try:
        out = _ip("netns", "list")
    except (TopologyError, OSError):
        return []
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _kill_inside(ns: str) -> None:
    """SIGKILLs every process still running in namespace ``ns``."""
    try:
        pids = _ip("netns", "pids", ns).split()
    except (TopologyError, OSError):
        return
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def delete_namespace(ns: str) -> None:
    _kill_inside(ns)
    for _ in range(20):
        try:
            _ip("netns", "delete", ns)
            return
        except TopologyError:
            if ns not in _namespaces():
                return
            time.sleep(0.1)


def remove_stale() -> None:
    """Deletes the namespaces of test sessions whose process is gone."""
    for ns in _namespaces():
        match = _OURS.match(ns)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            delete_namespace(ns)


@dataclass
class Topology:
    """Where the server and each worker run, and how each worker reaches the server."""

    mode: str
    """``netns`` or ``loopback``."""
    reason: str
    server_ns: str | None
    worker_ns: list[str | None]
    server_listen: list[str]
    """Addresses the server listens on."""
    server_address: list[str]
    """Per worker: the server's address as that worker reaches it."""
    worker_address: list[str]
    """Per worker: its own address (what the server sees it connect from)."""
    created: list[str] = field(default_factory=list)

    def command(self, worker: int, argv: Sequence[str]) -> list[str]:
        """``argv`` run on worker ``worker``'s machine (its namespace)."""
        ns = self.worker_ns[worker]
        return list(argv) if ns is None else ["ip", "netns", "exec", ns, *argv]

    def describe(self) -> str:
        if self.mode == "netns":
            links = ", ".join(
                f"{ns} {w} → {s}"
                for ns, w, s in zip(
                    self.worker_ns, self.worker_address, self.server_address, strict=True
                )
            )
            return f"netns: server in {self.server_ns}; workers {links}"
        return f"loopback ({self.reason})"

    def cleanup(self) -> None:
        for ns in reversed(self.created):
            delete_namespace(ns)
        self.created.clear()


def _loopback(workers: int, reason: str) -> Topology:
    return Topology(
        mode="loopback",
        reason=reason,
        server_ns=None,
        worker_ns=[None] * workers,
        server_listen=["127.0.0.1"],
        server_address=["127.0.0.1"] * workers,
        worker_address=["127.0.0.1"] * workers,
    )


def _build(workers: int) -> Topology:
    pid = os.getpid()
    server = f"{PREFIX}{pid}pg"
    topo = Topology(
        mode="netns",
        reason="",
        server_ns=server,
        worker_ns=[],
        server_listen=[],
        server_address=[],
        worker_address=[],
    )
    try:
        _ip("netns", "add", server)
        topo.created.append(server)
        _ip("-n", server, "link", "set", "lo", "up")
        for k in range(1, workers + 1):
            ns = f"{PREFIX}{pid}w{k}"
            _ip("netns", "add", ns)
            topo.created.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            here, there = f"{PREFIX}{pid}s{k}", f"{PREFIX}{pid}c{k}"
            # Created in the server's namespace, one end moved to the worker's: no interface
            # ever appears in the test's own namespace.
            _ip("-n", server, "link", "add", here, "type", "veth", "peer", "name", there)
            _ip("-n", server, "link", "set", there, "netns", ns)
            server_addr, worker_addr = f"{SUBNET}.{k}.1", f"{SUBNET}.{k}.2"
            _ip("-n", server, "addr", "add", f"{server_addr}/30", "dev", here)
            _ip("-n", ns, "addr", "add", f"{worker_addr}/30", "dev", there)
            _ip("-n", server, "link", "set", here, "up")
            _ip("-n", ns, "link", "set", there, "up")
            topo.worker_ns.append(ns)
            topo.server_listen.append(server_addr)
            topo.server_address.append(server_addr)
            topo.worker_address.append(worker_addr)
    except BaseException:
        topo.cleanup()
        raise
    return topo


def make_topology(workers: int = 2) -> Topology:
    """A server namespace and ``workers`` worker namespaces, or loopback where namespaces cannot
    be made (the reason is kept in :attr:`Topology.reason`)."""
    if shutil.which("ip") is None:
        topo = _loopback(workers, "no `ip` command (iproute2)")
    elif os.geteuid() != 0:
        topo = _loopback(workers, "not root: network namespaces need CAP_NET_ADMIN")
    else:
        remove_stale()
        try:
            topo = _build(workers)
        except (TopologyError, OSError) as exc:
            topo = _loopback(workers, f"namespaces could not be made: {exc}")
    MODES_SEEN.append(topo.describe())
    return topo
