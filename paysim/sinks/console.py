"""The ``console`` sink: what ``paysim run`` prints for ``--format summary|verbose|json``.

* ``summary`` — the human summary tables when the run closes; needs no events.
* ``verbose`` — a readable account tick by tick as events arrive (see
  :mod:`paysim.sinks.verbose`), a block at each end of day, and the human summary at the end.
* ``json`` — exactly one JSON object, the run summary, when the run closes; needs no events.

The console writes to standard output (``stream=stderr`` moves it). It looks the stream up when
it writes instead of holding it, because test runners and progress displays swap ``sys.stdout``.
Output to a file or pipe is plain text at a fixed width of 120 columns (no colours, no wrapping
at 80), so what a script captures is what a terminal would show.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.control import strip_control_codes
from rich.rule import Rule
from rich.text import Text

from paysim.sinks.registry import SinkError
from paysim.sinks.render import days_text, print_day, print_summary
from paysim.sinks.verbose import describe

if TYPE_CHECKING:
    import pyarrow as pa

MODES = ("summary", "verbose", "json")
_PIPE_WIDTH = 120


def _plain_rule(title: str) -> str:
    """A left-aligned rich ``Rule`` with ``title`` at the pipe width, as plain text."""
    from rich.cells import cell_len

    return f"{title} " + "─" * max(0, _PIPE_WIDTH - cell_len(title) - 1)


class ConsoleSink:
    """Renders a run for people (``summary``, ``verbose``) or as one JSON object (``json``)."""

    name = "console"

    def __init__(self, mode: str = "summary", stream: str = "stdout") -> None:
        if mode not in MODES:
            raise SinkError(f"sink `console`: mode must be one of {', '.join(MODES)}, not {mode!r}")
        if stream not in ("stdout", "stderr"):
            raise SinkError(f"sink `console`: stream must be stdout or stderr, not {stream!r}")
        self.mode = mode
        self.stream = stream
        self.uses_stdout = stream == "stdout"
        self.wants_events = mode == "verbose"
        self._tick: int | None = None
        self._console: Console | None = None

    def _file(self) -> IO[str]:
        return sys.stderr if self.stream == "stderr" else sys.stdout

    def _out(self) -> Console:
        if self._console is None:
            file = self._file()
            terminal = file.isatty()
            self._console = Console(
                file=None if terminal else file,
                stderr=self.stream == "stderr",
                width=None if terminal else _PIPE_WIDTH,
                highlight=False,
            )
        return self._console

    def open(self, run_info: Mapping[str, object]) -> None:
        self._tick = None
        self._console = None
        if self.mode != "verbose":
            return
        agents = run_info.get("agents")
        count = len(agents) if isinstance(agents, list) else "?"
        title = (
            f"{run_info.get('scenario') or '<scenario>'} · seed {run_info.get('seed')} · "
            f"{count} agents · {days_text(run_info.get('days'))} × {run_info.get('ticks_per_day')} "
            "ticks · amounts in currency units"
        )
        self._out().print(Text(title, style="bold"))
        if run_info.get("description"):
            self._out().print(Text(str(run_info["description"]), style="italic"))

    def write_events(self, batch: pa.RecordBatch) -> None:
        if self.mode != "verbose":
            return
        console = self._out()
        if not console.is_terminal:
            self._write_plain(batch)
            return
        for row in batch.to_pylist():
            line = describe(row)
            if line is None:
                continue
            if row["tick"] != self._tick:
                self._tick = row["tick"]
                console.print(Rule(f"tick {row['tick']} · day {row['day']}", align="left"))
            console.print(Text("  " + line.text, style=line.style), soft_wrap=True)

    def _write_plain(self, batch: pa.RecordBatch) -> None:
        """The verbose lines of a batch for a file or pipe: exactly what rich prints there (no
        styles, no wrapping, rules at the fixed width), written at once — rich's per-line
        rendering cost about 70 µs a line, most of a large run's time."""
        lines: list[str] = []
        for row in batch.to_pylist():
            line = describe(row)
            if line is None:
                continue
            if row["tick"] != self._tick:
                self._tick = row["tick"]
                lines.append(_plain_rule(f"tick {row['tick']} · day {row['day']}"))
            lines.append("  " + strip_control_codes(line.text))
        if lines:
            out = self._file()
            out.write("\n".join(lines) + "\n")

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        if self.mode == "verbose":
            console = self._out()
            console.print(Rule(style="bold"))
            print_day(console, day_summary)
            # The next event starts a new tick header even if a filter hid the day's last tick.
            self._tick = None

    def close(self, summary: Mapping[str, object]) -> None:
        if self.mode == "json":
            out = self._file()
            out.write(json.dumps(summary, indent=2) + "\n")
            out.flush()
            return
        console = self._out()
        if self.mode == "verbose":
            console.print(Rule("run summary", style="bold"))
        print_summary(console, summary)
