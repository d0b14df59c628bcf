"""Opening the study storage on a real PostgreSQL server: every way it can fail is one paragraph
naming the storage (password masked), the cause and what to check; nothing hangs."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from paysim.optimize.rdb import StorageError, driver_url, mask, open_rdb
from tests.pg_support import PostgresServer, with_database, with_password


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (a server that hangs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_reachable_server_opens(pg_url: str) -> None:
    storage = open_rdb(pg_url)
    assert storage.get_all_studies() == []
    storage.engine.dispose()


def test_every_failure_is_one_paragraph(
    postgres: PostgresServer, pg_url: str, silent_port: int
) -> None:
    port = postgres.port
    refused = pg_url.replace(f":{port}/", ":1/")
    cases = [
        (
            with_password(pg_url, "paysim", "wrong-pw"),
            f"the server at 127.0.0.1:{port} refused the credentials of user `paysim` "
            "(password authentication failed)",
        ),
        (
            with_password(pg_url, "mallory", "x"),
            "refused the credentials of user `mallory`",
        ),
        (
            refused,
            "nothing accepts connections at 127.0.0.1:1 (connection refused): is PostgreSQL "
            "running there",
        ),
        (
            with_database(pg_url, "no_such_db"),
            f"there is no database `no_such_db` on the server at 127.0.0.1:{port}",
        ),
        (
            pg_url.replace("127.0.0.1", "no-such-host.invalid"),
            "the host name `no-such-host.invalid` is unknown",
        ),
        (
            pg_url.replace(f":{port}/", f":{silent_port}/") + "?connect_timeout=1",
            f"no answer from 127.0.0.1:{silent_port} within 1 s",
        ),
        ("postgresq://u:p@h/d", "`postgresq` is not a kind of database SQLAlchemy knows"),
        ("postgresql://u:p@h:port/d", "not a storage URL"),
        ("mysql://u:p@h/d", "its database driver is not installed"),
    ]
    for url, expected in cases:
        start = time.monotonic()
        with pytest.raises(StorageError) as info:
            open_rdb(url)
        message = str(info.value)
        assert time.monotonic() - start < 8, url
        assert message.startswith(f"cannot open the study storage {mask(url)}: "), message
        assert expected in message, message
        assert "\n" not in message
        for secret in ("wrong-pw", postgres.password):
            assert secret not in message


def test_masking_and_driver() -> None:
    assert mask("postgresql://u:s3cret@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert mask("postgresql://u@h/d") == "postgresql://u@h/d"
    assert mask("runs/study.journal") == "runs/study.journal"
    assert driver_url("postgresql://u:p@h/d") == "postgresql+psycopg2://u:p@h/d"
    assert driver_url("postgresql+pg8000://u:p@h/d") == "postgresql+pg8000://u:p@h/d"
    assert driver_url("sqlite:///x.db") == "sqlite:///x.db"
