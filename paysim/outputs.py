"""Files paysim writes for the user: never over an input, never half-written under the final name.

Every output file (a sink's event file, an export, a report figure, a best-policy document) goes
through :class:`AtomicOutput`:

* the target is checked before anything is written: it must not be one of the run's inputs (the
  scenario, a policy file), and it must not exist unless the user said ``overwrite``;
* the content is written to a temporary file beside the target (same directory, so the final
  rename is atomic on POSIX) named ``.<name>.<pid>.partial``;
* :meth:`AtomicOutput.commit` renames it onto the target; :meth:`AtomicOutput.discard` (called
  on failure, interruption or abort) deletes it. An existing file the user allowed to overwrite
  is therefore only replaced when the new content is complete.

Problems are :class:`OutputError`, a user error (exit 2 in the CLI).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from paysim.exceptions import PaysimError


class OutputError(PaysimError):
    """An output path that cannot be used: it is an input of the run, it exists and overwriting
    was not asked for, or its directory does not exist."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_output_path(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    what: str = "output",
) -> Path:
    """Checks that ``path`` may be written as an output and returns it as a :class:`Path`.

    Raises :class:`OutputError` when ``path`` is one of ``inputs`` (whatever ``overwrite``
    says), is a directory, exists while ``overwrite`` is false, or lies in a directory that does
    not exist.
    """
    target = Path(path)
    for source in inputs:
        if _same_file(target, Path(source)):
            raise OutputError(
                f"{what} {target} is an input of this run ({source}); choose another path"
            )
    if target.is_dir():
        raise OutputError(f"{what} {target} is a directory; give a file path")
    if target.exists() and not overwrite:
        raise OutputError(
            f"{what} {target} already exists; remove it, choose another path, "
            "or ask to overwrite it (e.g. overwrite=true)"
        )
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"{what} {target}: directory {parent} does not exist")
    return target


class AtomicOutput:
    """A file written under a temporary name and renamed onto ``path`` when complete.

    Usable as a context manager: a normal exit commits, an exception discards. ``mode`` is
    ``"w"`` (text, UTF-8) or ``"wb"``. For writers that want a path rather than a stream (DuckDB
    ``COPY``, matplotlib ``savefig``, pyarrow's Parquet writer), use :attr:`temp_path` and
    never :meth:`open`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        inputs: Iterable[str | os.PathLike[str]] = (),
        what: str = "output",
    ) -> None:
        self.path = check_output_path(path, overwrite=overwrite, inputs=inputs, what=what)
        self.temp_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self._file: IO[str] | IO[bytes] | None = None
        self.done = False

    def open_text(self) -> IO[str]:
        """The temporary file, opened for text writing (UTF-8)."""
        handle = open(self.temp_path, "w", encoding="utf-8")
        self._file = handle
        return handle

    def open_binary(self) -> IO[bytes]:
        """The temporary file, opened for binary writing."""
        handle = open(self.temp_path, "wb")
        self._file = handle
        return handle

    def _close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def commit(self) -> Path:
        """Closes the temporary file and renames it onto the target."""
        if self.done:
            return self.path
        self._close()
        os.replace(self.temp_path, self.path)
        self.done = True
        return self.path

    def discard(self) -> None:
        """Closes and deletes the temporary file; the target is left as it was."""
        if self.done:
            return
        self._close()
        with contextlib.suppress(FileNotFoundError):
            self.temp_path.unlink()
        self.done = True

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


@contextlib.contextmanager
def atomic_text(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    what: str = "output",
) -> Iterator[IO[str]]:
    """``with atomic_text(path) as f: f.write(...)``: committed on success, discarded on error."""
    with AtomicOutput(path, overwrite=overwrite, inputs=inputs, what=what) as out:
        yield out.open_text()
