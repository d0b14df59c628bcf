"""A report in memory (:class:`Report`) and how it is written (:func:`write_report`).

A report is its figures (matplotlib ``Figure`` objects, one per figure function) and its
tables; writing renders each figure once per format it is wanted in, inlines the SVG in the
page, and writes every file through :func:`paysim.report.render.write_files`.

Files written into the output directory:

* ``report.html`` (format ``html``): the self-contained page;
* ``NAME.svg`` for each figure (format ``html`` or ``svg``), ``NAME.png`` (``png``),
  ``NAME.pdf`` (``pdf``): the figures on their own, for papers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from paysim.report.html import Block, FigureBlock, page
from paysim.report.render import figure_bytes, inline_svg, write_files

PAGE = "report.html"


@dataclass
class FigureSpec:
    name: str
    title: str
    caption: str
    figure: Figure


@dataclass
class Report:
    kind: str
    """``run`` or ``study``."""
    ident: str
    title: str
    subtitle: str
    meta: list[tuple[str, str]]
    figures: list[FigureSpec]
    blocks: list[Block]
    """Tables and texts, after the figures."""
    footer: str
    intro: list[Block] = field(default_factory=list)
    """Tables before the figures."""


@dataclass(frozen=True)
class Written:
    """What :func:`write_report` wrote."""

    kind: str
    ident: str
    directory: Path
    files: list[Path]
    figures: list[str]


def render_files(report: Report, formats: list[str]) -> dict[str, bytes]:
    """The report's files (name → content) in ``formats`` (checked by the caller)."""
    files: dict[str, bytes] = {}
    svgs: dict[str, bytes] = {}
    for spec in report.figures:
        for fmt in formats:
            ext = "svg" if fmt == "html" else fmt
            if f"{spec.name}.{ext}" in files:
                continue
            content = figure_bytes(spec.figure, ext, spec.name)
            files[f"{spec.name}.{ext}"] = content
            if ext == "svg":
                svgs[spec.name] = content
    if "html" in formats:
        blocks: list[Block] = [
            *report.intro,
            *(
                FigureBlock(s.name, s.title, s.caption, inline_svg(svgs[s.name]))
                for s in report.figures
            ),
            *report.blocks,
        ]
        text = page(report.title, report.subtitle, report.meta, blocks, report.footer)
        files = {PAGE: text.encode("utf-8"), **files}
    return files


def write_report(
    report: Report, directory: Path, formats: list[str], *, overwrite: bool = False
) -> Written:
    """Renders ``report`` in ``formats`` and writes its files into ``directory``."""
    try:
        files = render_files(report, formats)
    finally:
        _release(report)
    paths = write_files(directory, files, overwrite=overwrite)
    return Written(report.kind, report.ident, directory, paths, [s.name for s in report.figures])


def _release(report: Report) -> None:
    """Closes the figures pyplot keeps (Optuna's plots are made through pyplot, which holds
    every figure until it is closed)."""
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        for spec in report.figures:
            plt.close(spec.figure)
