"""The DuckDB store of runs: ``paysim run --persist``, ``paysim replay``, ``paysim checkpoint``,
``paysim db`` and the Python API below (layouts and example SQL: ``docs/store.md``).

```python
import paysim.store

with paysim.store.open("paysim.duckdb") as db:      # read-only; write=True to write
    runs = db.simulations()                          # pyarrow.Table
    sid = runs["simulation_id"][-1].as_py()
    costs = db.costs(sid)                            # cost per bank per day
    t = db.sql("SELECT day, sum(cost) FROM daily_metrics WHERE simulation_id = ? GROUP BY day",
               [sid])
```

Every query helper returns a ``pyarrow.Table``; no dataframe library is needed.
"""

from __future__ import annotations

import os
from pathlib import Path

from paysim.store.connection import connect
from paysim.store.ids import new_id
from paysim.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from paysim.store.store import NotFoundError, Store, StoredCheckpoint
from paysim.store.writer import StoreSink

DEFAULT_PATH = "paysim.duckdb"
"""The database file of ``paysim run --persist`` when ``--db`` is not given."""

__all__ = [
    "DEFAULT_PATH",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "NotFoundError",
    "Store",
    "StoreSink",
    "StoredCheckpoint",
    "new_id",
    "open",
]


def open(path: str | os.PathLike[str] = DEFAULT_PATH, *, write: bool = False) -> Store:
    """Opens a store file.

    Read-only by default: the file must exist and be of this paysim's schema version; runs left
    ``running`` by a process that is gone are reported as ``interrupted``. With ``write=True``
    the file is created when missing, migrated when older, and those runs are recorded as
    ``interrupted``; the process then holds the file until :meth:`Store.close`.

    Raises :class:`paysim.StoreError` for a file that is not a DuckDB database, a DuckDB file
    that is not a paysim store, a newer schema, or a file another process is writing.
    """
    target = Path(path)
    con, version, applied = connect(target, write=write)
    store = Store(target, con, version, writable=write)
    store.migrations_applied = applied
    if write:
        try:
            store.recover_interrupted()
        except BaseException:
            store.close()
            raise
    return store
