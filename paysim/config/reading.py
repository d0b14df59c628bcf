"""From a scenario file to plain data: bounded reading, decoding, and JSON parsing.

Everything here guards the loader against input that would hurt before any model sees it: a
file larger than :data:`MAX_DOCUMENT_BYTES` is refused after reading at most one byte more
(``/dev/zero`` and endless pipes included), bytes that are not UTF-8 and characters YAML does
not allow (NUL and the other control characters, a byte-order mark after the start) are named
by line and column, and JSON documents obey the same nesting and size bounds as YAML ones
(:mod:`paysim.config.yaml12`). A byte-order mark at the very start is allowed, as YAML 1.2
and the policy reader allow it, and dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from paysim.config.yaml12 import (
    MAX_DEPTH,
    MAX_VALUES,
    Loc,
    TextError,
    located,
    offset_position,
)

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
"""Largest scenario file read, in bytes (16 MiB; a 200-bank day with every counterparty
weight written out is about 1 MB)."""

_BOM = "\ufeff"
# Characters outside YAML 1.2's printable set (c-printable), and the BOM, which may only start
# the stream.
_NOT_PRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0xFEFF: "byte-order mark"}


def read_limited(path: Path) -> bytes:
    """The bytes of ``path``; :class:`TextError` when there are more than the limit.

    Reads at most one byte beyond the limit, so a huge or endless file costs nothing.
    ``OSError`` passes through for the caller to report.
    """
    with path.open("rb") as handle:
        raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise TextError(
            f"the file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB "
            f"({MAX_DOCUMENT_BYTES:,} bytes), the most a scenario file may hold"
        )
    return raw


def decode(raw: bytes) -> str:
    """UTF-8 text without a leading byte-order mark; bad bytes are named by line and column."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = (
            len(raw[raw.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")) + 1
        )
        raise located(
            f"expected UTF-8 text, found the byte 0x{raw[exc.start]:02x} that is not valid "
            f"UTF-8 at byte offset {exc.start}",
            line,
            column,
        ) from None
    return text.removeprefix(_BOM)


def check_characters(text: str) -> None:
    """Refuses characters YAML does not allow, naming the first one by line and column."""
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return
    code = ord(found.group())
    name = _NAMES.get(code, "a control character")
    line, column = offset_position(text, found.start())
    if code == 0xFEFF:
        message = (
            "found a byte-order mark (U+FEFF) inside the text; it may only start the file: "
            "remove it"
        )
    else:
        message = (
            f"found {name} (U+{code:04X}), which YAML does not allow in a document; remove it "
            "or write it as an escape inside a double-quoted string"
        )
    raise located(message, line, column)


def parse_json(text: str) -> object:
    """Parses a JSON scenario: duplicate keys, ``NaN``/``Infinity``, too deep or too large
    documents are errors with a position where one is known."""

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in items:
            if key in out:
                raise ValueError(f"found duplicate key `{key}`; a key may appear once")
            out[key] = value
        return out

    def constant(name: str) -> object:
        raise ValueError(
            f"found `{name}`, which is not JSON: scenario numbers are finite (write a number)"
        )

    try:
        data: object = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise TextError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            exc.lineno,
            exc.colno,
        ) from None
    except RecursionError:
        raise TextError(
            f"the document nests deeper than {MAX_DEPTH} levels of objects and arrays"
        ) from None
    except ValueError as exc:
        raise TextError(f"malformed JSON: {exc}") from None
    check_shape(data)
    return data


def check_shape(data: object) -> None:
    """Refuses data nested deeper than :data:`MAX_DEPTH` or holding more than
    :data:`MAX_VALUES` values, naming the path where the bound is passed. Iterative."""
    count = 0
    stack: list[tuple[object, Loc]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise TextError(f"the document holds more than {MAX_VALUES:,} values", loc=loc)
        if isinstance(value, dict):
            if len(loc) >= MAX_DEPTH:
                raise TextError(
                    f"the document nests deeper than {MAX_DEPTH} levels of objects and arrays"
                )
            count += len(value)  # the keys
            stack.extend((child, (*loc, key)) for key, child in value.items())
        elif isinstance(value, list):
            if len(loc) >= MAX_DEPTH:
                raise TextError(
                    f"the document nests deeper than {MAX_DEPTH} levels of objects and arrays"
                )
            stack.extend((child, (*loc, i)) for i, child in enumerate(value))
