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
