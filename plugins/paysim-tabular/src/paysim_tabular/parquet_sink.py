"""The ``parquet`` sink: every event of a run in one compressed Parquet file.

``paysim run SCENARIO --sink parquet:path=events.parquet[,compression=zstd][,overwrite=true]``

The events arrive as Arrow record batches and are written as they come (one row group per
batch), so memory stays bounded by one batch. The columns are those of ``paysim run --format
events`` (``details`` as its JSON text). The file's key-value metadata holds ``paysim.run_info``
(what the run announced when it opened) and ``paysim.summary`` (the run summary), both JSON.

The file is written under a temporary name beside the target and renamed onto it only when the
run closes (:class:`paysim.outputs.AtomicOutput`); a run that fails or is interrupted deletes
it, so a file at ``path`` is always complete. The target must not be an input of the run and,
unless ``overwrite=true``, must not exist.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from paysim.outputs import AtomicOutput, check_output_path

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(f"`{name}` must be true or false, not {value!r}")


class ParquetSink:
    """Writes the events of a run to ``path`` (see the module docstring)."""

    name = "parquet"
    wants_events = True

    def __init__(self, path: str, compression: str = "zstd", overwrite: str = "false") -> None:
        if compression not in COMPRESSIONS:
            raise ValueError(
                f"`compression` must be one of {', '.join(COMPRESSIONS)}, not {compression!r}"
            )
        self.path = path
        self.compression = compression
        self.overwrite = _flag("overwrite", overwrite)
        # Refuse a bad target before the run starts, not after it has done the work.
        check_output_path(path, overwrite=self.overwrite, what="parquet sink output")
        self._out: AtomicOutput | None = None
        self._writer: pq.ParquetWriter | None = None
        self._run_info = "{}"
        self.events_written = 0

    def open(self, run_info: Mapping[str, object]) -> None:
        inputs = run_info.get("inputs")
        self._out = AtomicOutput(
            self.path,
            overwrite=self.overwrite,
            inputs=[str(i) for i in inputs] if isinstance(inputs, list) else [],
            what="parquet sink output",
        )
        self._run_info = json.dumps(dict(run_info), default=str, sort_keys=True)
        self._writer = None
        self.events_written = 0

    def _start(self, schema: pa.Schema) -> pq.ParquetWriter:
        import pyarrow.parquet as pq

        assert self._out is not None, "open() first"
        metadata = dict(schema.metadata or {})
        metadata[b"paysim.run_info"] = self._run_info.encode()
        self._writer = pq.ParquetWriter(
            self._out.temp_path,
            schema.with_metadata(metadata),
            compression=self.compression,
        )
        return self._writer

    def write_events(self, batch: pa.RecordBatch) -> None:
        writer = self._writer or self._start(batch.schema)
        writer.write_batch(batch)
        self.events_written += batch.num_rows

    def end_of_day(self, day: int, day_summary: Mapping[str, object]) -> None:
        return None

    def close(self, summary: Mapping[str, object]) -> None:
        from paysim.events import EVENT_SCHEMA

        writer = self._writer or self._start(EVENT_SCHEMA)
        writer.add_key_value_metadata({"paysim.summary": json.dumps(dict(summary))})
        writer.close()
        self._writer = None
        assert self._out is not None
        self._out.commit()

    def abort(self, error: BaseException) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        if self._out is not None:
            self._out.discard()
