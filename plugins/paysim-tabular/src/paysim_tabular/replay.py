"""The ``tabular`` arrival generator: historical payments replayed from CSV or Parquet.

The file is read once per run through DuckDB (CSV sniffing, Parquet), every column as text, and
checked row by row in SQL so that each problem is reported with the file, the data row (1-based,
header excluded) and the column. Timestamps are mapped onto the simulation clock:

* ``tick`` of the day = ``floor((time of day - opening_time) / tick_seconds)``; a time before
  the opening or at or after the close (``opening_time + ticks_per_day x tick_seconds``) is
  outside the business day and an error;
* the day: with ``days: dates`` (the default) each distinct date of the file, in order, is the
  next simulated day (weekends and holidays leave no empty days); with ``days: calendar`` it is
  the number of days since ``start_date`` (default: the first date of the file);
* a ``deadline`` timestamp maps to the last tick that starts before it
  (``ceil(seconds / tick_seconds) - 1``), never before the arrival tick.

A file with a ``tick`` column instead of ``timestamp`` gives absolute ticks directly (and a
``deadline`` column then holds ticks too). Amounts are cents unless ``amount_scale`` says how
many cents one unit of the file is (``100`` for amounts in currency units with two decimals); an
amount that is not a whole number of cents after scaling is an error, never rounded.

The generator of each agent takes the rows that agent sends, a day per batch, as a
``pyarrow.RecordBatch`` (one call into the engine per day, whatever the number of rows).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paysim.exceptions import ScenarioError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

Check = Callable[[str, str, str], None]
"""``check(where, column, message)``: raises for the first row matching the SQL ``where``."""

_DIVISIBLE_TRUE = ("true", "t", "yes", "y", "1")
_DIVISIBLE_FALSE = ("false", "f", "no", "n", "0")
_MAX_CENTS = 10**15
_OPTIONS = (
    "path",
    "format",
    "opening_time",
    "tick_seconds",
    "start_date",
    "days",
    "amount_scale",
    "deadline_offset",
    "priority",
    "divisible",
)


@dataclass(frozen=True)
class Options:
    """The generator's options, checked."""

    path: Path
    shown: str
    format: str
    opening_seconds: int | None
    tick_seconds: float | None
    start_date: str | None
    days: str
    amount_scale: int
    deadline_offset: int | None
    priority: int | None
    divisible: bool | None


def _bad(message: str) -> ScenarioError:
    # No file: paysim locates it at the generator's `options` in the scenario.
    return ScenarioError(message)


def _int_option(options: Mapping[str, object], key: str, low: int, high: int) -> int | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"option `{key}`: expected an integer in {low}..{high}, found {value!r}")
    return value


def parse_options(options: Mapping[str, object], base_dir: Path | None) -> Options:
    """Checks the ``options`` mapping of a ``tabular`` stream."""
    from paysim.config.suggest import did_you_mean

    for key in options:
        if key not in _OPTIONS:
            hint = did_you_mean(str(key), _OPTIONS)
            raise _bad(
                f"unknown option `{key}`; options are {', '.join(_OPTIONS)}"
                + (f" ({hint})" if hint else "")
            )
    raw_path = options.get("path")
    if not isinstance(raw_path, str) or not raw_path:
        raise _bad("option `path` (the CSV or Parquet file) is required")
    path = Path(raw_path)
    if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
        path = base_dir / path
    fmt = options.get("format")
    if fmt is None:
        fmt = "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"
    if fmt not in ("csv", "parquet"):
        raise _bad(f"option `format`: expected csv or parquet, found {fmt!r}")
    opening = options.get("opening_time")
    opening_seconds = None
    if opening is not None:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", str(opening))
        if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise _bad(f"option `opening_time`: expected HH:MM or HH:MM:SS, found {opening!r}")
        h, m, s = (int(g or 0) for g in match.groups())
        opening_seconds = h * 3600 + m * 60 + s
    tick_seconds = options.get("tick_seconds")
    if tick_seconds is not None and (
        isinstance(tick_seconds, bool)
        or not isinstance(tick_seconds, int | float)
        or not 0 < tick_seconds < 86_400
    ):
        raise _bad(
            f"option `tick_seconds`: expected a number of seconds > 0, found {tick_seconds!r}"
        )
    start = options.get("start_date")
    if start is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(start)):
        raise _bad(f"option `start_date`: expected YYYY-MM-DD, found {start!r}")
    days = options.get("days", "dates")
    if days not in ("dates", "calendar"):
        raise _bad(f"option `days`: expected dates or calendar, found {days!r}")
    scale = _int_option(options, "amount_scale", 1, 10**9) or 1
    divisible = options.get("divisible")
    if divisible is not None and not isinstance(divisible, bool):
        raise _bad(f"option `divisible`: expected true or false, found {divisible!r}")
    return Options(
        path=path,
        shown=raw_path,
        format=str(fmt),
        opening_seconds=opening_seconds,
        tick_seconds=None if tick_seconds is None else float(tick_seconds),
        start_date=None if start is None else str(start),
        days=str(days),
        amount_scale=scale,
        deadline_offset=_int_option(options, "deadline_offset", 0, 10**9),
        priority=_int_option(options, "priority", 0, 10),
        divisible=divisible,
    )


class RowError(ScenarioError):
    """A row of the payments file is unusable (file, data row, column)."""


def _fail(opts: Options, row: int, column: str, message: str) -> RowError:
    return RowError(f"row {row + 1}, column `{column}`: {message}", file=opts.shown)


def _read(opts: Options, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The file as text columns, plus ``__row`` (0-based data row)."""
    import pyarrow as pa

    if not opts.path.is_file():
        raise ScenarioError("payments file not found", file=opts.shown)
    reader = (
        "read_parquet($path)"
        if opts.format == "parquet"
        else ("read_csv($path, header = true, all_varchar = true)")
    )
    try:
        table = con.sql(
            f"SELECT COLUMNS(*)::VARCHAR FROM {reader}", params={"path": str(opts.path)}
        ).to_arrow_table()
    except Exception as exc:  # DuckDB's own message says what is wrong with the file.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScenarioError(
            f"cannot read the {opts.format.upper()} file: {first}", file=opts.shown
        ) from None
    return table.append_column("__row", pa.array(range(table.num_rows), pa.int64()))


def _first(con: duckdb.DuckDBPyConnection, where: str, column: str) -> tuple[int, object] | None:
    found = con.sql(
        f'SELECT __row, "{column}" FROM src WHERE {where} ORDER BY __row LIMIT 1'
    ).fetchall()
    return (int(found[0][0]), found[0][1]) if found else None


def load(opts: Options, agents: list[str], ticks_per_day: int) -> pa.Table:
    """The payments of the file as engine columns (``tick, sender, receiver, amount,
    deadline_tick, priority, divisible``), in tick order then file order. Raises
    :class:`RowError` / :class:`ScenarioError` for the first problem."""
    import duckdb
    import pyarrow as pa

    from paysim.config.suggest import did_you_mean

    con = duckdb.connect()
    try:
        table = _read(opts, con)
        columns = [c for c in table.column_names if c != "__row"]
        has = set(columns)
        for needed in ("sender", "receiver", "amount"):
            if needed not in has:
                raise ScenarioError(
                    f"column `{needed}` missing; the file has columns {', '.join(columns)}",
                    file=opts.shown,
                )
        if ("timestamp" in has) == ("tick" in has):
            raise ScenarioError(
                "the file needs exactly one of the columns `timestamp` and `tick`", file=opts.shown
            )
        clock = "timestamp" if "timestamp" in has else "tick"
        if clock == "timestamp" and (opts.opening_seconds is None or opts.tick_seconds is None):
            raise _bad("a file with timestamps needs the options `opening_time` and `tick_seconds`")
        con.register("src", table)
        con.register("agents", pa.table({"id": pa.array(agents, pa.string())}))

        def check(where: str, column: str, message: str) -> None:
            bad = _first(con, where, column)
            if bad is not None:
                raise _fail(opts, bad[0], column, message.format(value=bad[1]))

        for column in ("sender", "receiver"):
            check(f"coalesce(trim(\"{column}\"), '') = ''", column, "missing")
            bad = _first(con, f'trim("{column}") NOT IN (SELECT id FROM agents)', column)
            if bad is not None:
                name = str(bad[1]).strip()
                hint = did_you_mean(name, agents)
                raise _fail(
                    opts,
                    bad[0],
                    column,
                    f"unknown bank `{name}`"
                    + (f" ({hint})" if hint else "")
                    + f"; the scenario's banks are {', '.join(agents)}",
                )
        check("trim(sender) = trim(receiver)", "receiver", "the receiver is the sender `{value}`")
        cents = f"TRY_CAST(trim(amount) AS DECIMAL(38,10)) * {opts.amount_scale}"
        check(f"{cents} IS NULL", "amount", "not a number: {value!r}")
        check(
            f"{cents} <> floor({cents})",
            "amount",
            "{value} is not a whole number of cents"
            + (f" at amount_scale {opts.amount_scale}" if opts.amount_scale != 1 else ""),
        )
        check(
            f"{cents} < 1 OR {cents} > {_MAX_CENTS}", "amount", "{value}: expected 1 to 10^15 cents"
        )
        if clock == "tick":
            arrival = "TRY_CAST(trim(tick) AS BIGINT)"
            check(f"{arrival} IS NULL", "tick", "not an integer tick: {value!r}")
            check(f"{arrival} < 0", "tick", "negative tick {value}")
        else:
            arrival = _timestamp_ticks(opts, con, check, ticks_per_day)
        con.sql(f"CREATE TEMP VIEW timed AS SELECT *, {arrival} AS __tick FROM src")
        deadline = _deadline(opts, con, check, has, clock, ticks_per_day)
        priority = "NULL::BIGINT"
        if "priority" in has:
            priority = "TRY_CAST(nullif(trim(priority), '') AS BIGINT)"
            check(
                f"nullif(trim(priority), '') IS NOT NULL AND ({priority} IS NULL "
                f"OR {priority} < 0 OR {priority} > 10)",
                "priority",
                "expected an integer 0..10, found {value!r}",
            )
        if opts.priority is not None:
            priority = f"coalesce({priority}, {opts.priority})"
        divisible = "NULL::BOOLEAN"
        if "divisible" in has:
            lower = "lower(trim(divisible))"
            known = ", ".join(f"'{v}'" for v in (*_DIVISIBLE_TRUE, *_DIVISIBLE_FALSE, ""))
            check(
                f"divisible IS NOT NULL AND {lower} NOT IN ({known})",
                "divisible",
                "expected true or false, found {value!r}",
            )
            truthy = ", ".join(f"'{v}'" for v in _DIVISIBLE_TRUE)
            divisible = (
                f"CASE WHEN coalesce({lower}, '') = '' THEN NULL ELSE {lower} IN ({truthy}) END"
            )
        if opts.divisible is not None:
            divisible = f"coalesce({divisible}, {str(opts.divisible).lower()})"
        return con.sql(
            f"""SELECT __tick AS tick, trim(sender) AS sender, trim(receiver) AS receiver,
                       CAST({cents} AS BIGINT) AS amount, {deadline} AS deadline_tick,
                       {priority} AS priority, {divisible} AS divisible
                FROM timed ORDER BY __tick, __row"""
        ).to_arrow_table()
    finally:
        con.close()


def _seconds(column: str) -> str:
    ts = f'TRY_CAST(trim("{column}") AS TIMESTAMP)'
    return f"(epoch({ts}) - epoch(date_trunc('day', {ts})))"


def _timestamp_ticks(opts: Options, con: duckdb.DuckDBPyConnection, check: Check, tpd: int) -> str:
    """SQL for the absolute tick of ``timestamp``, after checking every row."""
    assert opts.opening_seconds is not None and opts.tick_seconds is not None
    ts = 'TRY_CAST(trim("timestamp") AS TIMESTAMP)'
    check(f"{ts} IS NULL", "timestamp", "not a timestamp (YYYY-MM-DD HH:MM[:SS]): {value!r}")
    since_open = f"({_seconds('timestamp')} - {opts.opening_seconds})"
    close = opts.opening_seconds + tpd * opts.tick_seconds
    hours = f"opens {_clock(opts.opening_seconds)}, closes {_clock(close)}"
    check(
        f"{since_open} < 0 OR {since_open} >= {tpd * opts.tick_seconds}",
        "timestamp",
        "{value} is outside the business day (" + hours + ")",
    )
    in_day = f"CAST(floor({since_open} / {opts.tick_seconds}) AS BIGINT)"
    date = f"CAST({ts} AS DATE)"
    start = (
        f"DATE '{opts.start_date}'"
        if opts.start_date
        else '(SELECT min(CAST(TRY_CAST(trim("timestamp") AS TIMESTAMP) AS DATE)) FROM src)'
    )
    check(f"{date} < {start}", "timestamp", "{value} is before start_date " + str(opts.start_date))
    if opts.days == "calendar":
        day = f"date_diff('day', {start}, {date})"
    else:
        con.sql(
            f"CREATE TEMP TABLE day_index AS SELECT d, row_number() OVER (ORDER BY d) - 1 AS i "
            f"FROM (SELECT DISTINCT {date} AS d FROM src WHERE {date} >= {start})"
        )
        day = f"(SELECT i FROM day_index WHERE d = {date})"
    return f"({day} * {tpd} + {in_day})"


def _deadline(
    opts: Options,
    con: duckdb.DuckDBPyConnection,
    check: Check,
    has: set[str],
    clock: str,
    tpd: int,
) -> str:
    """SQL (over the ``timed`` view) for the absolute deadline tick of each row."""
    default = (
        f"__tick + {opts.deadline_offset}"
        if opts.deadline_offset is not None
        else f"(__tick // {tpd}) * {tpd} + {tpd - 1}"
    )
    if "deadline" not in has:
        return default
    present = "nullif(trim(deadline), '') IS NOT NULL"
    if clock == "tick":
        value = "TRY_CAST(trim(deadline) AS BIGINT)"
        check(f"{present} AND {value} IS NULL", "deadline", "not an integer tick: {value!r}")
        late = con.sql(
            f"SELECT __row, deadline FROM timed WHERE {present} AND {value} < __tick "
            "ORDER BY __row LIMIT 1"
        ).fetchall()
        if late:
            row, shown = late[0]
            raise _fail(opts, int(row), "deadline", f"deadline {shown} is before the arrival tick")
        return f"CASE WHEN {present} THEN {value} ELSE {default} END"
    assert opts.opening_seconds is not None and opts.tick_seconds is not None
    ts = "TRY_CAST(trim(deadline) AS TIMESTAMP)"
    arrived = 'TRY_CAST(trim("timestamp") AS TIMESTAMP)'
    check(f"{present} AND {ts} IS NULL", "deadline", "not a timestamp: {value!r}")
    check(f"{present} AND {ts} < {arrived}", "deadline", "{value} is before the arrival")
    check(
        f"{present} AND CAST({ts} AS DATE) <> CAST({arrived} AS DATE)",
        "deadline",
        "{value} is not on the day of the arrival",
    )
    since_open = f"({_seconds('deadline')} - {opts.opening_seconds})"
    check(
        f"{present} AND {since_open} > {tpd * opts.tick_seconds}",
        "deadline",
        "{value} is after the close of the business day",
    )
    in_day = f"CAST(ceil({since_open} / {opts.tick_seconds}) AS BIGINT) - 1"
    value = f"greatest(__tick, (__tick // {tpd}) * {tpd} + {in_day})"
    return f"CASE WHEN {present} THEN {value} ELSE {default} END"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}" + (
        f":{whole % 60:02d}" if whole % 60 else ""
    )


_cache: dict[tuple[object, ...], pa.Table] = {}


def payments(opts: Options, agents: list[str], ticks_per_day: int) -> pa.Table:
    """:func:`load`, cached for the file as it is now (every agent of a run reads the same
    file; a changed file is read again)."""
    try:
        stat = os.stat(opts.path)
    except OSError:
        return load(opts, agents, ticks_per_day)
    key = (opts, stat.st_mtime_ns, stat.st_size, tuple(agents), ticks_per_day)
    table = _cache.get(key)
    if table is None:
        table = load(opts, agents, ticks_per_day)
        if len(_cache) >= 4:
            _cache.pop(next(iter(_cache)))
        _cache[key] = table
    return table


class TabularArrivals:
    """Replays an agent's payments from a CSV or Parquet file (see the module docstring)."""

    name = "tabular"

    def generate(
        self, scenario: object, agent_id: str, options: Mapping[str, object], seed: int
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow.compute as pc

        base_dir = getattr(scenario, "base_dir", None)
        opts = parse_options(options, base_dir if isinstance(base_dir, Path) else None)
        simulation = getattr(scenario, "simulation", None)
        tpd = int(getattr(simulation, "ticks_per_day", 0))
        agents = [str(a.id) for a in getattr(scenario, "agents", [])]
        table = payments(opts, agents, tpd)
        mine = table.filter(pc.equal(table.column("sender"), agent_id))
        if mine.num_rows == 0:
            return
        days = pc.divide(mine.column("tick").combine_chunks(), tpd)
        # Rows are in tick order, so each day is one contiguous slice.
        bounds = pc.run_end_encode(days).run_ends.to_pylist()
        start = 0
        for end in bounds:
            yield mine.slice(start, end - start).combine_chunks().to_batches()[0]
            start = end
