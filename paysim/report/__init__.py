"""``paysim report``: figures and tables of a stored run or an optimisation study.

```python
from paysim.report import build_report

written = build_report("01a248f9", db="runs.duckdb", output="crisis", formats=["html", "pdf"])
written.files  # report.html, balances.svg, balances.pdf, ...
```

The page (``report.html``) is one self-contained file: figures inlined as SVG, tables with
their numbers, the scenario and policies used, paysim and plugin versions. Each figure is also
written as its own file. Figures are drawn by one function each (``paysim.report.run_figures``)
that takes data and returns a matplotlib ``Figure``; the page only assembles them. See
``docs/report.md`` for what each figure shows and which store queries it uses.
"""

from __future__ import annotations

import os
from pathlib import Path

from paysim.exceptions import ArgumentError
from paysim.report.axis import DEFAULT_TOP
from paysim.report.build import PAGE, Report, Written, write_report
from paysim.report.render import FORMATS, check_formats

__all__ = [
    "DEFAULT_TOP",
    "FORMATS",
    "PAGE",
    "Report",
    "ReportInputError",
    "Written",
    "build_report",
    "check_report_files",
    "default_output",
    "run_report_files",
]


class ReportInputError(ArgumentError):
    """What to report on cannot be found (an unknown run or study, no database) or an option is
    unusable. A user error: exit 2 in the CLI."""


def default_output(target: str, study_dir: Path | None) -> Path:
    """Where a report goes when no output directory is given: ``STUDY_DIR/report`` for a
    study, ``report-SIM_ID`` in the working directory for a run."""
    if study_dir is not None:
        return study_dir / "report"
    return Path(f"report-{target}")


def check_report_files(
    directory: str | os.PathLike[str],
    *,
    kind: str = "run",
    formats: list[str] | None = None,
    overwrite: bool = False,
) -> None:
    """Checks, before a long run, that a report of ``kind`` can be written into ``directory``:
    it is a directory or can be created, and none of the files exists (unless ``overwrite``)."""
    from paysim.outputs import OutputError
    from paysim.report.render import refuse_existing

    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise OutputError(f"report output {target} exists and is not a directory")
    if not target.exists() or overwrite:
        return
    for name in report_file_names(kind, check_formats(list(formats or []))):
        refuse_existing(target / name, overwrite)


def report_file_names(kind: str, formats: list[str]) -> list[str]:
    """The files a report of ``kind`` (``run`` or ``study``) writes in ``formats``."""
    if kind == "run":
        from paysim.report.run_report import RUN_FIGURES

        names = [f.name for f in RUN_FIGURES]
    else:
        from paysim.report.study_report import STUDY_FIGURES

        names = list(STUDY_FIGURES)
    exts = sorted({"svg" if f == "html" else f for f in formats})
    return [*([PAGE] if "html" in formats else []), *(f"{n}.{e}" for n in names for e in exts)]


def run_report_files(
    store: object,
    ref: str,
    output: str | os.PathLike[str] | None,
    *,
    formats: list[str] | None = None,
    overwrite: bool = False,
    top: int = DEFAULT_TOP,
) -> Written:
    """Writes the report of run ``ref`` of an open :class:`paysim.store.Store`."""
    from paysim.report.render import rendering
    from paysim.report.run_report import run_report
    from paysim.store import Store

    assert isinstance(store, Store)
    chosen = check_formats(list(formats or []))
    with rendering():
        report = run_report(store, ref, top=top)
        directory = Path(output) if output is not None else default_output(report.ident, None)
        return write_report(report, directory, chosen, overwrite=overwrite)


def build_report(
    target: str,
    *,
    db: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    formats: list[str] | None = None,
    overwrite: bool = False,
    top: int = DEFAULT_TOP,
) -> Written:
    """Writes the report of ``target``: a study directory (one holding ``result.json``) or the
    id (or unique prefix) of a run stored in ``db`` (default ``paysim.duckdb``).

    Raises :class:`ReportInputError` when ``target`` names no study and no stored run,
    :class:`paysim.outputs.OutputError` when an output file exists and ``overwrite`` is false.
    """
    import paysim.store
    from paysim.store import NotFoundError

    check_formats(list(formats or []))
    if top < 1:
        raise ReportInputError(f"top must be at least 1, not {top}")
    path = Path(target)
    if path.is_dir():
        from paysim.report.study_report import study_report_files

        return study_report_files(
            path,
            output,
            formats=formats,
            overwrite=overwrite,
            db=None if db is None else Path(db),
        )
    database = Path(db) if db is not None else Path(paysim.store.DEFAULT_PATH)
    if not database.is_file():
        what = "database" if db is not None else "default database"
        raise ReportInputError(
            f"`{target}` is not a study directory, and the {what} {database} to look for a run "
            "or study of that id does not exist (give --db PATH, or a directory written by "
            "`paysim optimize`)"
        )
    with paysim.store.open(database) as store:
        try:
            store.resolve_simulation(target)
        except NotFoundError as exc:
            if "ambiguous" in str(exc):
                raise ReportInputError(str(exc)) from None
            from paysim.report.study_data import stored_study

            if stored_study(store, target) is None:
                raise ReportInputError(
                    f"no run or study `{target}` in {database} (`paysim db list` lists the runs; "
                    "a study is reported by its output directory or its study id)"
                    + ("" if path.exists() else "; nor is it a study directory")
                ) from None
        else:
            return run_report_files(
                store, target, output, formats=formats, overwrite=overwrite, top=top
            )
    from paysim.report.study_report import study_report_files

    return study_report_files(
        None, output, formats=formats, overwrite=overwrite, db=database, study_id=target
    )
