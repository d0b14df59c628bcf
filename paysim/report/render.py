"""Figures to bytes, and the report's files onto disk.

Rendering is deterministic: the same data gives the same bytes (no dates in the files, SVG ids
derived from the figure's name through ``svg.hashsalt``, which also keeps the ids of the SVGs
inlined in one page distinct). Text in SVGs is drawn as paths, so no font is needed to view
them.

Every file goes through :class:`paysim.outputs.AtomicOutput`: all targets are checked before
anything is written (none may exist unless ``overwrite``), each is written under a temporary name,
and they are renamed into place only when every one of them is complete.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from paysim.outputs import AtomicOutput, OutputError
from paysim.report.style import RC

FIGURE_FORMATS = ("svg", "png", "pdf")
FORMATS = ("html", *FIGURE_FORMATS)
"""``html``: the page (figures inlined as SVG) and each figure as an SVG file; ``svg``, ``png``,
``pdf``: each figure as a file of that format."""

PNG_DPI = 150

_METADATA: dict[str, dict[str, str | None]] = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    "png": {"Software": None},
}


@contextmanager
def rendering() -> Iterator[None]:
    """The report's matplotlib settings, for building and saving its figures."""
    with matplotlib.rc_context(RC):
        yield


def figure_bytes(fig: Figure, fmt: str, name: str) -> bytes:
    """``fig`` saved as ``fmt`` (``svg``, ``png`` or ``pdf``)."""
    buffer = io.BytesIO()
    salt: dict[RcKeyType, Any] = {"svg.hashsalt": f"paysim-{name}"}
    with matplotlib.rc_context(salt):
        fig.savefig(
            buffer,
            format=fmt,
            metadata=_METADATA[fmt],
            dpi=PNG_DPI if fmt == "png" else "figure",
        )
    return buffer.getvalue()


def inline_svg(svg: bytes) -> str:
    """An SVG file's text without its XML declaration and doctype, for inlining in HTML."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def check_formats(formats: list[str]) -> list[str]:
    """The formats asked for, checked and without repeats (``html`` when none is given)."""
    out: list[str] = []
    for fmt in formats or ["html"]:
        key = fmt.strip().lower()
        if key not in FORMATS:
            raise OutputError(
                f"unknown report format `{fmt}`: expected one of {', '.join(FORMATS)}"
            )
        if key not in out:
            out.append(key)
    return out


def prepare_directory(directory: Path) -> Path:
    """The output directory, created when missing (with its parents)."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"report output {directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the report directory {directory}: {exc}") from None
    return directory


def refuse_existing(path: Path, overwrite: bool) -> None:
    """A report file that exists is only replaced when asked."""
    if path.exists() and not overwrite:
        raise OutputError(
            f"report file {path} already exists; remove it, choose another output directory, "
            "or ask to overwrite it (--overwrite)"
        )


def write_files(
    directory: Path,
    files: dict[str, bytes],
    *,
    overwrite: bool,
    inputs: tuple[str | os.PathLike[str], ...] = (),
) -> list[Path]:
    """Writes ``files`` (name → content) into ``directory``, all or none."""
    prepare_directory(directory)
    for name in files:
        refuse_existing(directory / name, overwrite)
    outputs = [
        AtomicOutput(directory / name, overwrite=overwrite, inputs=inputs, what="report file")
        for name in files
    ]
    try:
        for out, content in zip(outputs, files.values(), strict=True):
            out.open_binary().write(content)
        return [out.commit() for out in outputs]
    except BaseException:
        for out in outputs:
            out.discard()
        raise
