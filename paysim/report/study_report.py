"""The report of an optimisation study (``paysim optimize`` output directory)."""

from __future__ import annotations

import os
from pathlib import Path

from paysim.report.build import Written

STUDY_FIGURES: tuple[str, ...] = ()


def study_report_files(
    directory: Path,
    output: str | os.PathLike[str] | None,
    *,
    formats: list[str] | None,
    overwrite: bool,
    top: int,
) -> Written:
    from paysim.report import ReportInputError

    raise ReportInputError(f"{directory}: study reports are not available yet")
