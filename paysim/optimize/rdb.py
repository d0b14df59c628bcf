"""Opening an Optuna RDB storage (PostgreSQL) with errors a user can act on.

Every way a storage URL can fail — a server that refuses or does not answer, an unknown host,
wrong credentials, a missing database, a URL that is not one, a missing driver — becomes one
:class:`StorageError` paragraph (exit 2 on the command line) naming the storage with its password
masked, what went wrong and what to check. Connections time out (``connect_timeout``, default
10 s, or libpq's ``PGCONNECT_TIMEOUT``) rather than hang.

SQLAlchemy 2.1 reads ``postgresql://`` as the psycopg 3 driver; paysim's ``postgres`` extra
installs psycopg2, so a plain ``postgresql://`` URL is given the psycopg2 driver when psycopg 3
is not installed. An explicit ``postgresql+DRIVER://`` is left alone.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from paysim.exceptions import ArgumentError

if TYPE_CHECKING:
    import optuna

DEFAULT_CONNECT_TIMEOUT = 10
_CREATE_ATTEMPTS = 5
_URL_FORMS = (
    "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or sqlite:///FILE.db, or a journal file path)"
)


class StorageError(ArgumentError):
    """The study storage cannot be opened (bad input: exit 2 on the command line)."""


def is_url(storage: str) -> bool:
    return "://" in storage


def mask(url: str) -> str:
    """``url`` without its password."""
    if not is_url(url):
        return url
    scheme, rest = url.split("://", 1)
    if "@" in rest.split("/", 1)[0]:
        userinfo, host = rest.split("@", 1)
        user = userinfo.split(":", 1)[0]
        rest = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    return f"{scheme}://{rest}"


def driver_url(url: str) -> str:
    """``url`` with a PostgreSQL driver SQLAlchemy can load here."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres") and importlib.util.find_spec("psycopg") is None:
        return f"postgresql+psycopg2://{rest}"
    return url


def _where(url: str) -> tuple[str, str, str, str]:
    """Host, port, user and database of a URL (``?`` where absent or unreadable)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = str(parts.port or 5432)
    except ValueError:
        return "?", "?", "?", "?"
    user = parts.username or os.environ.get("PGUSER", "?")
    database = parts.path.lstrip("/") or "?"
    return host, port, user, database


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return text.splitlines()[0].strip() if text else type(original).__name__


_CAUSES: tuple[tuple[re.Pattern[str], Callable[[str, str, str, str, str], str]], ...] = (
    (
        re.compile(r"password authentication failed|authentication failed"),
        lambda h, p, u, d, t: (
            f"the server at {h}:{p} refused the credentials of user `{u}` "
            "(password authentication failed): check the user and password in the URL (or "
            "PGPASSWORD, ~/.pgpass)"
        ),
    ),
    (
        re.compile(r"no pg_hba\.conf entry"),
        lambda h, p, u, d, t: (
            f"the server at {h}:{p} does not accept connections from this "
            f"machine for user `{u}` and database `{d}` (no pg_hba.conf entry): its administrator "
            "must allow them"
        ),
    ),
    (
        re.compile(r'database ".*" does not exist'),
        lambda h, p, u, d, t: (
            f"there is no database `{d}` on the server at {h}:{p}: create "
            f"it (`createdb {d}`) or name an existing one in the URL"
        ),
    ),
    (
        re.compile(r'role ".*" does not exist'),
        lambda h, p, u, d, t: f"there is no user `{u}` on the server at {h}:{p}",
    ),
    (
        re.compile(r"could not translate host name|Name or service not known"),
        lambda h, p, u, d, t: f"the host name `{h}` is unknown (DNS); check the URL",
    ),
    (
        re.compile(r"Connection refused"),
        lambda h, p, u, d, t: (
            f"nothing accepts connections at {h}:{p} (connection refused): "
            "is PostgreSQL running there, listening on that address (listen_addresses) and port, "
            "and open to this machine (firewall)?"
        ),
    ),
    (
        re.compile(r"timeout expired|timed out"),
        lambda h, p, u, d, t: (
            f"no answer from {h}:{p} within {t} s: is the address right and "
            "the server reachable from this machine (network, firewall)?"
        ),
    ),
    (
        re.compile(r"Network is unreachable|No route to host"),
        lambda h, p, u, d, t: (
            f"{h} cannot be reached from this machine (no route to it): "
            "check the address and this machine's network"
        ),
    ),
)


def connect_timeout(url: str) -> int | None:
    """The connect timeout paysim sets (``None`` when the URL or ``PGCONNECT_TIMEOUT`` does)."""
    query = parse_qs(urlsplit(url).query)
    if "connect_timeout" in query or os.environ.get("PGCONNECT_TIMEOUT"):
        return None
    return DEFAULT_CONNECT_TIMEOUT


def _timeout_seconds(url: str) -> str:
    try:
        given = parse_qs(urlsplit(url).query).get("connect_timeout")
    except ValueError:
        given = None
    if given:
        return given[0]
    return os.environ.get("PGCONNECT_TIMEOUT") or str(DEFAULT_CONNECT_TIMEOUT)


def describe(url: str, exc: BaseException) -> StorageError:
    """The one-paragraph error for a storage that could not be opened."""
    import sqlalchemy.exc

    label = mask(url)
    scheme = url.split("://", 1)[0]
    if isinstance(exc, ImportError):
        hint = (
            "pip install 'paysim[postgres]' (psycopg2)"
            if scheme.startswith("postgres")
            else f"install the Python driver SQLAlchemy uses for `{scheme}`"
        )
        return StorageError(
            f"cannot open the study storage {label}: its database driver is not installed "
            f"({_first_line(exc)}); {hint}"
        )
    if isinstance(exc, sqlalchemy.exc.NoSuchModuleError):
        return StorageError(
            f"cannot open the study storage {label}: `{scheme}` is not a kind of database "
            f"SQLAlchemy knows; expected {_URL_FORMS}"
        )
    if isinstance(exc, sqlalchemy.exc.ArgumentError | ValueError) and not isinstance(
        exc, sqlalchemy.exc.DBAPIError
    ):
        return StorageError(
            f"cannot open the study storage {label}: not a storage URL ({_first_line(exc)}); "
            f"expected {_URL_FORMS}"
        )
    host, port, user, database = _where(url)
    text = _first_line(exc)
    timeout = _timeout_seconds(url)
    for pattern, explain in _CAUSES:
        if pattern.search(text):
            reason = explain(host, port, user, database, timeout)
            return StorageError(f"cannot open the study storage {label}: {reason} ({text})")
    return StorageError(f"cannot open the study storage {label}: {text}")


def open_rdb(
    url: str,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    stale_trial_callback: Callable[[optuna.study.Study, optuna.trial.FrozenTrial], None]
    | None = None,
) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage of ``url``; every failure to open it is a :class:`StorageError`."""
    import warnings

    import optuna
    import sqlalchemy.exc

    engine_kwargs: dict[str, object] = {"pool_pre_ping": True}
    timeout = connect_timeout(url)
    if timeout is not None and url.startswith(("postgresql", "postgres")):
        engine_kwargs["connect_args"] = {"connect_timeout": timeout}
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    driver_url(url),
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=stale_trial_callback,
                )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as exc:
            # Processes that open a new database at once race to create Optuna's tables (one
            # of them wins; the others see its tables on the next attempt).
            if attempt + 1 == _CREATE_ATTEMPTS:
                raise describe(url, exc) from None
            time.sleep(0.2 * (attempt + 1))
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as exc:
            raise describe(url, exc) from None
    raise AssertionError("unreachable")
