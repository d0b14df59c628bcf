"""``paysim report`` and ``paysim run --report`` on the command line: bad input exits 2 with a
clear message and writes nothing, existing files are only replaced with ``--overwrite``,
reports are byte-for-byte reproducible, and incomplete runs are reported from their stored
days."""

from __future__ import annotations

from pathlib import Path

import pytest

import paysim.store
from paysim.report.run_report import RUN_FIGURES
from tests.cli_support import DEMO, SCENARIOS, invoke
from tests.store_support import FIXTURES, persisted

FIGURES = [f.name for f in RUN_FIGURES]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("db") / "runs.duckdb"
    sid, _ = persisted(db, DEMO, "--quiet", "-f", "json")
    return db, sid


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_unknown_run_id_exits_2(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = stored
    result = invoke("report", "0123abcd", "--db", db, "--output", tmp_path / "r")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: no run or study `0123abcd` in {db}")
    assert "nor is it a study directory" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r").exists()


def test_ambiguous_prefix_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "two.duckdb"
    first, _ = persisted(db, DEMO, "--quiet", "-f", "json")
    second, _ = persisted(db, DEMO, "--quiet", "-f", "json")
    common = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
    result = invoke("report", first[:common], "--db", db)
    assert result.exit_code == 2 and "is ambiguous" in result.stderr
    assert first in result.stderr and second in result.stderr


def test_missing_database_exits_2(tmp_path: Path) -> None:
    result = invoke("report", "01a2", "--db", tmp_path / "none.duckdb")
    assert result.exit_code == 2
    assert "is not a study directory, and the database" in result.stderr
    assert "none.duckdb" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "none.duckdb").exists()


def test_a_file_that_is_not_a_store_exits_1(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("hello")
    result = invoke("report", "01a2", "--db", bogus)
    assert result.exit_code == 1
    assert "is not a DuckDB database" in result.stderr
    assert bogus.read_text() == "hello"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "jpeg"], "unknown report format `jpeg`: expected one of html, svg, png, pdf"),
        (["--top", "0"], "Invalid value for '--top'"),
    ],
)
def test_bad_options_exit_2(
    stored: tuple[Path, str], tmp_path: Path, args: list[str], message: str
) -> None:
    db, sid = stored
    result = invoke("report", sid, "--db", db, "--output", tmp_path / "r", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "r").exists()


def test_output_that_is_a_file_exits_2(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, sid = stored
    target = tmp_path / "taken"
    target.write_text("mine")
    result = invoke("report", sid, "--db", db, "--output", target)
    assert result.exit_code == 2 and "is not a directory" in result.stderr
    assert target.read_text() == "mine"


def test_existing_files_are_kept_unless_overwrite(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, sid = stored
    out = tmp_path / "r"
    out.mkdir()
    (out / "queues.svg").write_text("keep me")
    result = invoke("report", sid, "--db", db, "--output", out)
    assert result.exit_code == 2
    assert f"report file {out / 'queues.svg'} already exists" in result.stderr
    assert "--overwrite" in result.stderr
    # Nothing else was written, not even under a temporary name.
    assert [p.name for p in out.iterdir()] == ["queues.svg"]
    assert (out / "queues.svg").read_text() == "keep me"
    result = invoke("report", sid, "--db", db, "--output", out, "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert (out / "queues.svg").read_bytes().startswith(b"<?xml")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.html", *(f"{n}.svg" for n in FIGURES)]
    )


def test_reports_are_reproducible(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, sid = stored
    for name in ("a", "b"):
        result = invoke("report", sid, "--db", db, "-o", tmp_path / name, "-f", "html", "-f", "pdf")
        assert result.exit_code == 0, result.stderr
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(first) == sorted(
        ["report.html", *(f"{n}.{e}" for n in FIGURES for e in ("svg", "pdf"))]
    )
    assert first == second


def test_default_output_directory(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, sid = stored
    result = invoke("report", sid[:8], "--db", db.resolve(), "--format", "png", "--quiet")
    # invoke runs in this process's working directory: use an absolute --db and look there.
    out = Path(f"report-{sid}")
    try:
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == str(out) and result.stderr == ""
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.png" for n in FIGURES)
    finally:
        for p in out.glob("*"):
            p.unlink()
        out.rmdir()


def test_report_of_a_failed_run_uses_its_stored_days(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    assert invoke("run", FIXTURES / "fails_on_day_1.yaml", "--persist", "--db", db).exit_code == 1
    with paysim.store.open(db) as store:
        (row,) = store.simulations().to_pylist()
        daily = store.daily_metrics(row["simulation_id"]).to_pylist()
    result = invoke("report", row["simulation_id"], "--db", db, "-o", tmp_path / "r")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "r" / "report.html").read_text()
    assert "The run has no summary: sums over its stored days (daily_metrics)." in page
    assert "<dt>status</dt><dd>failed</dd>" in page and "division" in page
    (day,) = daily
    assert f'data-col="arrivals" class="num" data-value="{day["arrivals"]}"' in page


def test_run_report_option(tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = invoke("run", SCENARIOS / "gridlock.yaml", "--report", out, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == f"report → {out / 'report.html'}"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.html", *(f"{n}.svg" for n in FIGURES)]
    )
    assert "paysim run" in (out / "report.html").read_text()
    # Asked again, the run does not even start: the report could not be written.
    again = invoke("run", SCENARIOS / "gridlock.yaml", "--report", out, "-f", "json")
    assert again.exit_code == 2 and again.stdout == "" and "already exists" in again.stderr


def test_run_report_with_persist_keeps_the_run(tmp_path: Path) -> None:
    db, out = tmp_path / "k.duckdb", tmp_path / "r"
    sid, _ = persisted(db, SCENARIOS / "gridlock.yaml", "--report", str(out))
    assert (out / "report.html").is_file()
    with paysim.store.open(db) as store:
        assert store.simulation(sid)["status"] == "completed"


def test_run_report_with_resume_needs_persist(tmp_path: Path) -> None:
    result = invoke("run", DEMO, "--resume", "01a2", "--report", tmp_path / "r")
    assert result.exit_code == 2 and "--report with --resume needs --persist" in result.stderr
