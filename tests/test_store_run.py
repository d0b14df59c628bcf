"""Persisted runs: what ``paysim run --persist`` stores, checked against the run summary and the
events, for every example scenario; run status on failure and interruption; one writer per
file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pytest

import paysim.store
from paysim.exceptions import SimulationError, StoreError
from paysim.simulation import Simulation
from paysim.sinks import run_with_sinks
from paysim.store import StoreSink, derive
from paysim.store.ids import run_key
from tests.cli_support import REPO, SCENARIOS, balances_from_events, invoke, jsonl
from tests.store_support import FIXTURES, LONG_DAYS, persisted, without_metadata

SMALL = sorted(p for p in SCENARIOS.glob("*.yaml") if p.name != "large.yaml")
SPLIT_DROP = FIXTURES / "split_drop.yaml"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """Every small example scenario and the split/drop fixture, persisted once."""
    db = tmp_path_factory.mktemp("store") / "runs.duckdb"
    ids = {}
    for scenario in [*SMALL, SPLIT_DROP]:
        ids[scenario.name], _ = persisted(db, scenario, "--quiet", "-f", "json")
    yield db, ids


def _totals(summary: object) -> dict[str, int]:
    assert isinstance(summary, dict)
    return summary["totals"]  # type: ignore[no-any-return]


def test_run_row_holds_the_summary_and_provenance(stored: tuple[Path, dict[str, str]]) -> None:
    db, ids = stored
    with paysim.store.open(db) as store:
        for name, sid in ids.items():
            run = store.simulation(sid)
            summary = run["summary"]
            assert isinstance(summary, dict)
            assert run["status"] == "completed" and summary["simulation_id"] == sid
            assert run["days_done"] == run["days"] == summary["days"]
            assert run["ticks_done"] == run["total_ticks"] == summary["ticks"]
            assert run["total_cost"] == _totals(summary)["total_cost"]
            assert run["event_count"] == store.events(sid).num_rows
            assert run["scenario_text"] == Path(str(run["scenario"])).read_text(encoding="utf-8")
            started = store.events(sid, event_types=["SimulationStarted"])
            details = json.loads(started["details"][0].as_py())
            assert details["config_hash"] == run["config_hash"], name
            agents = store.agents(sid)["agent_id"].to_pylist()
            config = json.loads(
                str(
                    store.sql(
                        "SELECT config_json::VARCHAR AS c FROM simulations WHERE simulation_id = ?",
                        [sid],
                    )["c"][0]
                )
            )
            assert agents == [a["id"] for a in config["agents"]]
            assert sorted(agents) == sorted(summary["agents"])


def test_days_are_the_engines_days(stored: tuple[Path, dict[str, str]]) -> None:
    """Per day: events counted, system totals and per-bank numbers add up to the summary; the
    lowest daily balance over the days is the summary's min_balance."""
    db, ids = stored
    with paysim.store.open(db) as store:
        for name, sid in ids.items():
            summary = store.simulation(sid)["summary"]
            assert isinstance(summary, dict)
            days = store.daily_metrics(sid).to_pylist()
            assert [d["day"] for d in days] == list(range(int(summary["days"])))
            per_day = store.rows(
                "SELECT day, count(*) AS n FROM events WHERE simulation_id = ? GROUP BY day "
                "ORDER BY day",
                [sid],
            )
            assert [d["events"] for d in days] == [r["n"] for r in per_day], name
            totals = _totals(summary)
            for key in ("arrivals", "settled", "settled_value", "dropped", "overdue"):
                assert sum(d[key] for d in days) == totals[key], (name, key)
            assert sum(d["cost"] for d in days) == totals["total_cost"]
            assert days[-1]["unsettled"] == totals["unsettled"]
            agents = summary["agents"]
            assert isinstance(agents, dict)
            metrics = store.daily_agent_metrics(sid).to_pylist()
            for agent_id, a in agents.items():
                rows = [m for m in metrics if m["agent_id"] == agent_id]
                assert min(m["min_balance"] for m in rows) == a["min_balance"], (name, agent_id)
                assert rows[0]["opening_balance"] == a["opening_balance"]
                assert rows[-1]["closing_balance"] == a["final_balance"]
                assert (rows[-1]["q1"], rows[-1]["q2"]) == (a["q1"], a["q2"])
                for key in ("sent", "settled_sent", "received", "dropped"):
                    assert sum(m[key] for m in rows) == a[key]
                for key, value in a["costs"].items():
                    assert sum(m[f"cost_{key}"] for m in rows) == value, (name, agent_id, key)
                for m in rows:
                    assert m["peak_overdraft"] == max(0, -m["min_balance"])
                    assert m["min_balance"] <= min(m["opening_balance"], m["closing_balance"])


def test_balances_per_tick_follow_the_events(stored: tuple[Path, dict[str, str]]) -> None:
    """agent_tick_metrics equals balances rebuilt in Python from the events (ENGINE.md §12.2)
    after every tick in which they moved; tick_metrics counts every tick's events."""
    db, ids = stored
    with paysim.store.open(db) as store:
        for name, sid in ids.items():
            events = store.events(sid).to_pylist()
            for row in events:
                row["details"] = json.loads(row["details"])
            expected: dict[tuple[str, int], int] = {}
            for tick in sorted({e["tick"] for e in events}):
                balances = balances_from_events([e for e in events if e["tick"] <= tick])
                for agent, balance in balances.items():
                    expected[(agent, tick)] = balance
            stored_rows = store.sql(
                "SELECT agent_id, tick, balance FROM agent_tick_metrics WHERE simulation_id = ?",
                [sid],
            ).to_pylist()
            assert stored_rows, name
            for r in stored_rows:
                assert r["balance"] == expected[(r["agent_id"], r["tick"])], (name, r)
            ticks = store.tick_metrics(sid).to_pylist()
            run = store.simulation(sid)
            assert [t["tick"] for t in ticks] == list(range(int(str(run["total_ticks"]))))
            counts: dict[int, int] = {}
            for e in events:
                counts[e["tick"]] = counts.get(e["tick"], 0) + 1
            assert [t["events"] for t in ticks] == [counts.get(t["tick"], 0) for t in ticks]
            arrivals = sum(1 for e in events if e["event_type"] == "Arrival")
            assert sum(t["arrivals"] for t in ticks) == arrivals


def test_stored_events_are_the_engines_events(stored: tuple[Path, dict[str, str]]) -> None:
    """The ``events`` view renders the stored numbers back to exactly the engine's text export
    (agents in scenario order while the engine numbers them by id, split pieces, scenario
    events), column for column."""
    db, ids = stored
    with paysim.store.open(db) as store:
        for name, sid in ids.items():
            scenario = SPLIT_DROP if name == SPLIT_DROP.name else SCENARIOS / name
            sim = Simulation(scenario)
            sim.run()
            live = sim.events()
            shown = store.events(sid).cast(live.schema)
            assert shown.num_rows == live.num_rows, name
            assert shown.equals(live), name


def test_engine_day_tables_equal_sql_over_the_stored_events(
    stored: tuple[Path, dict[str, str]],
) -> None:
    """tick_metrics and agent_tick_metrics, written from the engine's own per-tick aggregates,
    equal what the reference SQL computes from the stored events of each day."""
    db, ids = stored
    tables = ("tick_metrics", "agent_tick_metrics")
    order = {"tick_metrics": "tick", "agent_tick_metrics": "agent_id, tick"}
    with paysim.store.open(db, write=True) as store:
        con = store.connection
        for name, sid in ids.items():
            run = store.simulation(sid)
            tpd = int(str(run["ticks_per_day"]))
            for day in range(int(str(run["days_done"]))):
                params = {"sid": sid, "day": day}
                where = "WHERE simulation_id = $sid AND day = $day ORDER BY "
                written = {
                    t: store.sql(f"SELECT * FROM {t} {where}{order[t]}", params) for t in tables
                }
                opening = store.rows(
                    "SELECT m.agent_id, m.opening_balance FROM daily_agent_metrics m JOIN agents a "
                    "ON a.simulation_id = m.simulation_id AND a.agent_id = m.agent_id "
                    "WHERE m.simulation_id = $sid AND m.day = $day ORDER BY a.position",
                    params,
                )
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(
                        "DELETE FROM tick_metrics WHERE simulation_id = $sid AND day = $day", params
                    )
                    con.execute("DELETE FROM agent_tick_rows WHERE run_key = $key AND day = $day",
                                {"key": run_key(sid), "day": day})  # fmt: skip
                    span = (day * tpd, (day + 1) * tpd)
                    derive.tick_metrics(con, sid, day, *span)
                    pairs = [(str(r["agent_id"]), int(str(r["opening_balance"]))) for r in opening]
                    derive.agent_tick_metrics(con, sid, day, *span, pairs)
                    for t in tables:
                        again = store.sql(f"SELECT * FROM {t} {where}{order[t]}", params)
                        assert again.equals(written[t]), (name, day, t)
                        assert again.num_rows > 0 or t == "agent_tick_metrics"
                finally:
                    store.rollback()


def test_payments_agree_with_the_summary(stored: tuple[Path, dict[str, str]]) -> None:
    db, ids = stored
    with paysim.store.open(db) as store:
        for name, sid in ids.items():
            totals = _totals(store.simulation(sid)["summary"])
            pays = store.payments(sid).to_pylist()
            assert len(pays) == totals["arrivals"], name
            by: dict[str, list[dict[str, object]]] = {}
            for p in pays:
                by.setdefault(str(p["status"]), []).append(p)
            assert len(by.get("settled", [])) == totals["settled"], name
            assert (
                sum(int(str(p["amount"])) for p in by.get("settled", [])) == totals["settled_value"]
            )
            assert len(by.get("dropped", [])) == totals["dropped"], name
            assert len(by.get("unsettled", [])) == totals["unsettled"], name
            assert sum(1 for p in pays if p["overdue_tick"] is not None) == totals["overdue"]
            for p in by.get("settled", []):
                assert p["delay_ticks"] == int(str(p["settled_tick"])) - int(str(p["arrival_tick"]))
    with paysim.store.open(db) as store:
        split = store.payments(ids[SPLIT_DROP.name]).to_pylist()
    assert sum(1 for p in split if int(str(p["pieces"])) > 1) > 10
    assert any(p["status"] == "dropped" for p in split)


def test_documented_sql_runs(stored: tuple[Path, dict[str, str]]) -> None:
    db, ids = stored
    text = (REPO / "docs" / "store.md").read_text(encoding="utf-8")
    block = re.search(r"## Example SQL\n\n```sql\n(.*?)```", text, re.S)
    assert block is not None
    statements = [s for s in block.group(1).split(";") if s.strip()]
    assert len(statements) >= 7
    with paysim.store.open(db) as store:
        for statement in statements:
            sql = statement.replace("$sid", "?")
            store.sql(sql, [ids["crisis.yaml"]] * sql.count("?"))


class TextOnly:
    """The store sink without ``take_events``: the run hands it the text batches every sink
    gets, which it converts (paysim.store.coding) and aggregates in SQL."""

    def __init__(self, inner: StoreSink) -> None:
        self.inner = inner
        self.name = inner.name
        self.wants_events = True

    def open(self, run_info: Mapping[str, object]) -> None:
        self.inner.open(run_info)

    def write_events(self, batch: object) -> None:
        self.inner.write_events(batch)

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        self.inner.end_of_day(day, day_summary)

    def close(self, summary: Mapping[str, object]) -> None:
        self.inner.close(summary)


@pytest.mark.parametrize("scenario", ["crisis.yaml", SPLIT_DROP.name])
def test_text_batches_store_what_the_engine_path_stores(scenario: str, tmp_path: Path) -> None:
    """Events written through ``write_events`` (text) end up as the events read from the
    engine do, and the day tables derived from them in SQL equal the engine's aggregates."""
    path = SPLIT_DROP if scenario == SPLIT_DROP.name else SCENARIOS / scenario
    tables = ("events", "tick_metrics", "agent_tick_metrics", "daily_agent_metrics", "payments")
    order = {
        "events": "seq",
        "tick_metrics": "tick",
        "agent_tick_metrics": "agent_id, tick",
        "daily_agent_metrics": "day, agent_id",
        "payments": "tx_id",
    }
    got = []
    with paysim.store.open(tmp_path / "s.duckdb", write=True) as store:
        for wrap in (False, True):
            sim = Simulation(path)
            sink = StoreSink(store, sim, flush_rows=1000)
            run_with_sinks(sim, [TextOnly(sink) if wrap else sink], batch_rows=700)
            got.append(
                {
                    t: store.sql(
                        f"SELECT * EXCLUDE (simulation_id) FROM {t} WHERE simulation_id = ? "
                        f"ORDER BY {order[t]}",
                        [sink.simulation_id],
                    )
                    for t in tables
                }
            )
    engine_path, text_path = got
    for t in tables:
        assert text_path[t].num_rows > 0, t
        assert text_path[t].equals(engine_path[t]), t


def test_bad_text_events_are_a_store_error(tmp_path: Path) -> None:
    sim = Simulation(SCENARIOS / "crisis.yaml")
    sim.run_until(5)
    batch = sim.events().to_batches()[0]
    with paysim.store.open(tmp_path / "s.duckdb", write=True) as store:
        sink = StoreSink(store, sim)
        i = batch.schema.get_field_index("tx_id")
        ids = batch.column(i).to_pylist()
        first = next(n for n, v in enumerate(ids) if v is not None)
        for bad, message in [
            ("tx_1", "'tx_1' is not an engine payment id"),
            ("tx_00000001.256", "'tx_00000001.256' is not .* above 255"),
            ("tx_99999999999999999", "'tx_99999999999999999' is not .* too large"),
            ("tx_00000001.0", "'tx_00000001.0' is not an engine payment id"),
        ]:
            ids[first] = bad
            changed = batch.set_column(i, "tx_id", pa.array(ids, pa.utf8()))
            with pytest.raises(StoreError, match=message):
                sink.write_events(changed)
        j = batch.schema.get_field_index("agent_id")
        agents = batch.column(j).to_pylist()
        k = next(n for n, v in enumerate(agents) if v is not None)
        agents[k] = "NOBODY"
        with pytest.raises(StoreError, match="'NOBODY' is not an agent of this run"):
            sink.write_events(batch.set_column(j, "agent_id", pa.array(agents, pa.utf8())))


class Taker:
    """Reads each step's events itself (as the store does)."""

    name = "taker"

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []
        self.batches = 0

    def open(self, run_info: Mapping[str, object]) -> None:
        return None

    def take_events(self, sim: Simulation, start_seq: int, stop_seq: int) -> None:
        assert sim.oldest_retained_seq <= start_seq <= stop_seq == sim.next_seq
        self.ranges.append((start_seq, stop_seq))

    def write_events(self, batch: object) -> None:
        self.batches += 1

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        return None

    def close(self, summary: Mapping[str, object]) -> None:
        return None


class Counter(Taker):
    name = "counter"
    wants_events = True
    take_events = None  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.rows = 0

    def write_events(self, batch: object) -> None:
        assert isinstance(batch, pa.RecordBatch)
        self.rows += batch.num_rows


def test_a_sink_that_takes_events_gets_every_seq_once() -> None:
    """``take_events`` is given consecutive ranges covering every event, while the events are
    held, and no batches; the other sinks still get every event as batches."""
    sim = Simulation(SCENARIOS / "crisis.yaml")
    taker, counter = Taker(), Counter()
    run_with_sinks(sim, [taker, counter], batch_rows=500)
    starts = [a for a, _ in taker.ranges]
    assert starts[0] == 0 and taker.ranges[-1][1] == sim.next_seq
    assert all(b == a for (_, b), a in zip(taker.ranges, starts[1:], strict=False))
    assert taker.batches == 0 and counter.rows == sim.next_seq
    assert len(taker.ranges) > 10


# -- status when a run stops ---------------------------------------------------------------------


class Raising:
    """A sink that raises at the end of ``day``."""

    name = "raising"
    wants_events = False

    def __init__(self, day: int, error: BaseException) -> None:
        self.day, self.error = day, error

    def open(self, run_info: Mapping[str, object]) -> None:
        return None

    def write_events(self, batch: object) -> None:
        return None

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        if day == self.day:
            raise self.error

    def close(self, summary: Mapping[str, object]) -> None:
        return None


@pytest.mark.parametrize(
    ("error", "status"),
    [(KeyboardInterrupt(), "interrupted"), (SimulationError("engine failed"), "failed")],
)
def test_a_run_that_stops_keeps_its_complete_days(
    tmp_path: Path, error: BaseException, status: str
) -> None:
    sim = Simulation(SCENARIOS / "crisis.yaml")
    with paysim.store.open(tmp_path / "s.duckdb", write=True) as store:
        sink = StoreSink(store, sim)
        # The raising sink comes first: day 1's end is never committed by the store.
        with pytest.raises(type(error)):
            run_with_sinks(sim, [Raising(1, error), sink])
        run = store.simulation(sink.simulation_id)
        assert run["status"] == status and run["days_done"] == 1
        assert run["summary"] is None and str(run["error"])
        assert store.daily_metrics(sink.simulation_id).num_rows == 1
        assert set(store.events(sink.simulation_id)["day"].to_pylist()) == {0}
        kinds = store.checkpoints(sink.simulation_id)["kind"].to_pylist()
        assert kinds == ["start", "end_of_day"]
        # payments built from the complete day
        pays = store.payments(sink.simulation_id)
        assert pays.num_rows == store.daily_metrics(sink.simulation_id)["arrivals"][0].as_py()


def test_a_run_failing_at_run_time_is_recorded_failed(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    result = invoke("run", FIXTURES / "fails_on_day_1.yaml", "--persist", "--db", db)
    assert result.exit_code == 1 and "policy evaluation failed" in result.stderr
    with paysim.store.open(db) as store:
        (run,) = store.simulations().to_pylist()
        row = store.simulation(run["simulation_id"])
    assert row["status"] == "failed" and row["days_done"] == 1
    assert "division" in str(row["error"]) and row["ended_at"] is not None


def test_no_database_is_created_for_an_invalid_scenario(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    invalid = REPO / "tests/fixtures/scenarios/invalid/unknown_key.yaml"
    result = invoke("run", invalid, "--persist", "--db", db)
    assert result.exit_code == 2 and not db.exists()


def test_db_needs_persist_or_resume(tmp_path: Path) -> None:
    result = invoke("run", SCENARIOS / "demo.yaml", "--db", tmp_path / "x.duckdb")
    assert result.exit_code == 2 and "--persist or --resume" in result.stderr


# -- one writer per file -------------------------------------------------------------------------

_HOLD = """
import sys, time, paysim.store
store = paysim.store.open(sys.argv[1], write=True)
print("open", flush=True)
time.sleep(60)
"""


def test_second_writer_gets_a_store_error_and_other_files_work(tmp_path: Path) -> None:
    held = tmp_path / "held.duckdb"
    other = tmp_path / "other.duckdb"
    sid, _ = persisted(other, SCENARIOS / "demo.yaml", "--quiet", "-f", "json")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(held)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        commands: list[list[str | Path]] = [
            ["run", SCENARIOS / "demo.yaml", "--persist", "--db", held],
            ["db", "list", "--db", held],
        ]
        for args in commands:
            result = invoke(*args)
            assert result.exit_code == 1, result.stderr
            assert f"in use by process {holder.pid}" in result.stderr
            assert "Traceback" not in result.stderr
        # Another file is free: read a completed run while the first file is held.
        result = invoke("replay", sid, "--db", other, "-f", "json")
        assert result.exit_code == 0 and json.loads(result.stdout)["simulation_id"] == sid
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert invoke("db", "list", "--db", held).exit_code == 0


def test_read_only_store_refuses_a_run(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    paysim.store.open(db, write=True).close()
    with paysim.store.open(db) as store, pytest.raises(StoreError, match="read-only"):
        StoreSink(store, Simulation(SCENARIOS / "demo.yaml"))


def test_long_day_events_are_appended_in_large_batches(tmp_path: Path) -> None:
    """A day longer than the buffer is appended in several batches and stays whole."""
    sim = Simulation(LONG_DAYS, days=1)
    with paysim.store.open(tmp_path / "s.duckdb", write=True) as store:
        sink = StoreSink(store, sim, flush_rows=3000)
        summary = run_with_sinks(sim, [sink], batch_rows=1000)
        assert sink.events_written > 3 * 3000
        seqs = store.events(sink.simulation_id)["seq"].to_pylist()
    assert seqs == list(range(len(seqs))) and len(seqs) == sink.events_written
    assert summary["simulation_id"] == sink.simulation_id


def test_events_of_the_store_are_the_events_of_the_run(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    sid, out = persisted(db, SCENARIOS / "target2_features.yaml", "-f", "events")
    with paysim.store.open(db) as store:
        rows = store.events(sid).to_pylist()
    live = jsonl(out)
    assert len(rows) == len(live)
    for stored_row, live_row in zip(rows, live, strict=True):
        assert {**stored_row, "details": json.loads(stored_row["details"])} == live_row


def test_summary_without_metadata_matches_an_unpersisted_run(tmp_path: Path) -> None:
    sid, out = persisted(tmp_path / "s.duckdb", SCENARIOS / "crisis.yaml", "-f", "json")
    plain = invoke("run", SCENARIOS / "crisis.yaml", "-f", "json")
    persisted_summary = json.loads(out)
    assert persisted_summary["simulation_id"] == sid
    assert without_metadata(persisted_summary) == without_metadata(json.loads(plain.stdout))
