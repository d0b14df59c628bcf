"""The ``jsonl`` sink: events as JSON Lines, one object per event (``paysim run --format events``).

Each line is ``{"seq", "tick", "day", "event_type", "tx_id", "agent_id", "counterparty_id",
"amount", "details"}`` with absent values ``null`` and ``details`` an object. The engine already
renders ``details`` as canonical JSON, so it is spliced in as it is rather than parsed and dumped
again: that keeps the output byte-identical to the engine's rendering and the sink cheap enough
for runs of millions of events.

Nothing is lost: a file is written through :class:`paysim.outputs.AtomicOutput`, under a temporary
name beside the target that :meth:`JsonlSink.close` renames onto it, so the target only ever holds
a complete run. The target may not be an input of the run (the scenario, a policy file), and an
existing file is refused unless the sink is given ``overwrite=true``; a run that fails or is
interrupted calls :meth:`JsonlSink.abort`, which deletes the temporary file and leaves an existing
target as it was. Without a path (``-``) the events go to standard output, which ``paysim run``
allows only for ``--format events`` (its own stdout rendering): ``uses_stdout`` tells the CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import IO, TYPE_CHECKING

from paysim.outputs import AtomicOutput
from paysim.sinks.registry import SinkError

if TYPE_CHECKING:
    import pyarrow as pa

_STDOUT = "-"
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off", "")


def flag(sink: str, name: str, value: bool | str) -> bool:
    """A boolean sink option, given as a bool (API) or as text (``--sink NAME:flag=true``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SinkError(f"sink `{sink}`: `{name}` must be true or false, not {value!r}")


def _text(value: str | None) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


def event_lines(batch: pa.RecordBatch) -> Iterator[str]:
    """The JSON Lines rendering of a batch of events (each line ends with a newline)."""
    columns = [batch.column(name).to_pylist() for name in batch.schema.names]
    for seq, tick, day, event_type, tx, agent, cp, amount, details in zip(*columns, strict=True):
        yield (
            f'{{"seq":{seq},"tick":{tick},"day":{day},"event_type":{_text(event_type)},'
            f'"tx_id":{_text(tx)},"agent_id":{_text(agent)},"counterparty_id":{_text(cp)},'
            f'"amount":{_number(amount)},"details":{details or "{}"}}}\n'
        )


class JsonlSink:
    """Writes every event it receives to ``path`` (``-``, the default, is standard output).

    ``overwrite`` (``true``/``false``, default false) allows replacing an existing file; the
    file is replaced only when the run completes."""

    name = "jsonl"

    def __init__(self, path: str = _STDOUT, overwrite: bool | str = False) -> None:
        if not str(path).strip():
            raise SinkError("sink `jsonl`: `path` is empty; give a file name (or - for stdout)")
        self.path = path
        self.overwrite = flag(self.name, "overwrite", overwrite)
        self.uses_stdout = path == _STDOUT
        self._output: AtomicOutput | None = None
        self._file: IO[str] | None = None
        self.events_written = 0

    def _out(self) -> IO[str]:
        # Standard output is looked up at each write, not kept: test runners and progress
        # displays may replace sys.stdout while the run goes on.
        return sys.stdout if self._file is None else self._file

    def open(self, run_info: Mapping[str, object]) -> None:
        self.events_written = 0
        if self.uses_stdout:
            return
        inputs = run_info.get("inputs")
        self._output = AtomicOutput(
            self.path,
            overwrite=self.overwrite,
            inputs=[str(i) for i in inputs] if isinstance(inputs, list) else [],
            what="the events file of sink `jsonl`",
        )
        self._file = self._output.open_text()

    def write_events(self, batch: pa.RecordBatch) -> None:
        out = self._out()
        out.writelines(event_lines(batch))
        if self._file is None:
            # One flush per batch on stdout: a reader sees whole lines as the run goes.
            out.flush()
        self.events_written += batch.num_rows

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        return None

    def close(self, summary: Mapping[str, object]) -> None:
        if self._output is not None:
            self._file = None
            self._output.commit()
            self._output = None
        else:
            sys.stdout.flush()

    def abort(self, error: BaseException) -> None:
        """The run failed or was interrupted: the temporary file goes, the target stays as it
        was (absent, or the user's earlier file)."""
        if self._output is not None:
            self._file = None
            self._output.discard()
            self._output = None
