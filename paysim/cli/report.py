"""``paysim report SIM_ID|STUDY_DIR``: figures and tables of a stored run or a study.

A thin shell over :func:`paysim.report.build_report`; matplotlib, DuckDB and Optuna are imported
inside the command, so ``paysim --help`` stays fast. The page's path (or, without ``html``, the
output directory) is printed on stdout; what was written is said on stderr.
"""

from pathlib import Path
from typing import Annotated

import typer

from paysim.cli.errors import DebugOption


def report(
    target: Annotated[
        str,
        typer.Argument(
            metavar="SIM_ID|STUDY_DIR",
            help="A stored run's id (or a unique prefix), or a `paysim optimize` output directory.",
        ),
    ],
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="Database of the run.",
            show_default="paysim.duckdb",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Directory for the report (created when missing).",
            show_default="report-SIM_ID, or STUDY_DIR/report",
        ),
    ] = None,
    output_format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            metavar="html|png|svg|pdf",
            help="Repeatable. html: the page and each figure as SVG; png, svg, pdf: each "
            "figure in that format.",
            show_default="html",
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", min=1, help="Banks shown one by one; the rest are aggregated."),
    ] = 8,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace report files that exist.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Nothing on stderr.")] = False,
    debug: DebugOption = False,
) -> None:
    """Plots and tables of a run or a study.

    Writes a self-contained HTML page (figures inlined as SVG, tables, the scenario and
    policies used, versions) and each figure as its own file.
    """
    import matplotlib

    matplotlib.use("Agg")
    from paysim.report import PAGE, build_report

    written = build_report(
        target, db=db, output=output, formats=output_format, overwrite=overwrite, top=top
    )
    page = written.directory / PAGE
    typer.echo(str(page if page in written.files else written.directory))
    if not quiet:
        what = "run" if written.kind == "run" else "study"
        typer.echo(
            f"report of {what} {written.ident}: {len(written.files)} files in "
            f"{written.directory} ({len(written.figures)} figures)",
            err=True,
        )


def register(app: typer.Typer) -> None:
    """Adds ``paysim report`` to the CLI."""
    app.command("report")(report)


def prepare_run_report(
    directory: Path, persist: bool, db: Path | None, resume: str | None
) -> tuple[bool, Path | None]:
    """For ``paysim run --report DIR``: checks before the run that the report can be written,
    and returns the ``persist`` and ``db`` the run uses. The report reads the stored run, so a
    run without ``--persist`` is stored in a temporary database deleted when the command ends."""
    from paysim.report import check_report_files

    check_report_files(directory)
    if persist or db is not None:
        return persist, db  # run_session refuses --db without --persist
    if resume is not None:
        raise typer.BadParameter(
            "--report with --resume needs --persist (the report reads the stored run)",
            param_hint="'--report'",
        )
    import tempfile

    from typer._click.globals import get_current_context

    temporary = tempfile.TemporaryDirectory(prefix="paysim-report-")
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(temporary.cleanup)
    return True, Path(temporary.name) / "run.duckdb"


def write_run_report(store: object, simulation_id: str, directory: Path, quiet: bool) -> None:
    """Writes the report of the run just stored (``paysim run --report DIR``)."""
    import matplotlib

    matplotlib.use("Agg")
    from paysim.report import PAGE, run_report_files

    written = run_report_files(store, simulation_id, directory)
    if not quiet:
        typer.echo(f"report → {written.directory / PAGE}", err=True)


def prepare_study_report(output: Path, replace: bool) -> None:
    """For ``paysim optimize run --report``: checks before the study runs that its report can
    be written into ``OUTPUT/report`` (an earlier report is replaced with ``--overwrite`` or
    ``--resume``, as the study's other outputs are)."""
    from paysim.report import check_report_files

    check_report_files(output / "report", kind="study", overwrite=replace)


def write_study_report(output: Path, db: Path, replace: bool, quiet: bool) -> None:
    """Writes the report of the study just run into ``OUTPUT/report``."""
    import matplotlib

    matplotlib.use("Agg")
    from paysim.report import PAGE
    from paysim.report.study_report import study_report_files

    written = study_report_files(output, None, formats=None, overwrite=replace, db=db)
    if not quiet:
        typer.echo(f"report → {written.directory / PAGE}", err=True)
