"""Reading scenario files and turning every failure into one clear ``ScenarioError``.

``load_scenario`` reads YAML or JSON (by extension: ``.json`` is JSON, anything else YAML),
validates it with :class:`~paysim.config.models.Scenario` and, on failure, raises
:class:`~paysim.exceptions.ScenarioError` naming the file, the JSON Pointer of the offending
value *as written in the file* (short forms, aliases and top-level settlement keys are mapped
back), a one-paragraph message saying what was expected and what was found, the YAML line, and a
suggestion when there is one.

Reading is bounded and strict (:mod:`paysim.config.reading`, :mod:`paysim.config.yaml12`): at
most 16 MiB, UTF-8 only, YAML read by the YAML 1.2 core schema (``0100`` is a hundred, ``yes``
is a word, ``1:30:00`` is text) with duplicate keys, merge keys, unbounded alias expansion and
deep nesting refused. Line numbers are only worked out when there is an error to report, so a
valid file is parsed once, by libyaml when PyYAML has it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from paysim.config.models import Scenario
from paysim.config.models_base import (
    AGENT_ID_PATTERN,
    UNION_TAGS,
    StrictModel,
    describe,
)
from paysim.config.reading import (
    MAX_DOCUMENT_BYTES,
    check_characters,
    check_shape,
    decode,
    parse_json,
    read_limited,
)
from paysim.config.simcash import simcash_notes
from paysim.config.suggest import did_you_mean
from paysim.config.yaml12 import Loc, TextError, line_of, parse_yaml
from paysim.config.yaml_schema import yaml11_hint
from paysim.exceptions import ScenarioError

Lines = Callable[[Loc], "tuple[int, int] | None"]
"""Where the value at a location is written (line, column), worked out on demand."""


def _no_lines(loc: Loc) -> tuple[int, int] | None:
    return None


_MAX_LISTED = 5
# pydantic's phrasing → "expected ..., found ..." (what was expected, then what was found).
_REPHRASE = (
    ("Input should be ", "expected "),
    ("Value should be ", "expected "),
    ("String should have ", "expected a string with "),
    ("String should match pattern ", "expected a string matching "),
    ("List should have ", "expected a list with "),
    ("Dictionary should have ", "expected a mapping with "),
)
# Containers whose keys may also be written one level up (SCENARIO.md: settlement keys).
_RELOCATING = frozenset({"settlement"})


class ScenarioWarning(UserWarning):
    """A scenario loads but something in it is probably a mistake."""


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Reads, validates and returns the scenario in ``path`` (YAML, or JSON for ``.json``).

    Raises :class:`ScenarioError` for an unreadable, oversized or malformed file, a top level
    that is not a mapping and every invalid value; warns (:class:`ScenarioWarning`) for values
    that load but look wrong.
    """
    file = str(path)
    location = Path(path)
    try:
        text = decode(read_limited(location))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError(f"cannot read the scenario file: {reason}", file=file) from None
    except TextError as exc:
        raise _text_error(exc, file) from None
    fmt = "json" if location.suffix.lower() == ".json" else "yaml"
    data, lines = _parse(text, file, fmt)
    return _validate(data, source=file, base_dir=location.parent.resolve(), lines=lines)


def scenario_from_dict(
    data: object, *, source: str | None = None, base_dir: Path | None = None
) -> Scenario:
    """Validates already-parsed scenario data; errors name ``source`` as the file.

    ``base_dir`` is where relative policy paths are looked up first; it defaults to the
    directory of ``source`` when that is given.
    """
    if base_dir is None and source is not None:
        base_dir = Path(source).parent.resolve()
    try:
        check_shape(data)  # the bounds a file obeys, for data parsed elsewhere (API requests)
    except TextError as exc:
        raise _text_error(exc, source) from None
    return _validate(data, source=source, base_dir=base_dir, lines=_no_lines)


def parse_scenario_text(text: str, *, source: str | None = None, fmt: str = "yaml") -> object:
    """Parses scenario text (``fmt`` ``yaml`` or ``json``) without validating it.

    The same bounds and YAML 1.2 rules as :func:`load_scenario` apply.
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ScenarioError(
            f"the text is longer than the {MAX_DOCUMENT_BYTES:,} bytes a scenario may hold",
            file=source,
        )
    return _parse(text.removeprefix("\ufeff"), source, fmt)[0]


def parse_text_with_lines(
    text: str, *, source: str | None = None, fmt: str = "yaml"
) -> tuple[object, Lines]:
    """As :func:`parse_scenario_text`, also returning the line map that
    :func:`validate_parsed` uses to put YAML line numbers into its errors (the HTTP API checks
    its own size limits between the two steps)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ScenarioError(
            f"the text is longer than the {MAX_DOCUMENT_BYTES:,} bytes a scenario may hold",
            file=source,
        )
    return _parse(text.removeprefix("\ufeff"), source, fmt)


def validate_parsed(
    data: object, *, source: str | None, base_dir: Path | None, lines: Lines | None = None
) -> Scenario:
    """Validates data from :func:`parse_text_with_lines` exactly as :func:`load_scenario` does."""
    return _validate(data, source=source, base_dir=base_dir, lines=lines or _no_lines)


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def _parse(text: str, file: str | None, fmt: str) -> tuple[object, Lines]:
    """The document's data and a function giving its line map (worked out on demand)."""
    try:
        check_characters(text)
        if fmt == "json":
            return parse_json(text), _no_lines
        parsed = parse_yaml(text)
    except TextError as exc:
        raise _text_error(exc, file) from None
    for line, column, note in parsed.notes:
        where = f"{file or '<scenario>'} (line {line}, column {column})"
        warnings.warn(ScenarioWarning(f"{where}: {note}"), stacklevel=4)

    def lines(loc: Loc) -> tuple[int, int] | None:
        return line_of(text, loc)

    return parsed.data, lines


def _text_error(exc: TextError, file: str | None) -> ScenarioError:
    pointer = to_pointer(exc.loc) if exc.loc is not None else None
    return ScenarioError(exc.message, file=file, pointer=pointer)


# ---------------------------------------------------------------------------------------------
# Validation and error conversion
# ---------------------------------------------------------------------------------------------


def _validate(data: object, *, source: str | None, base_dir: Path | None, lines: Lines) -> Scenario:
    if not isinstance(data, Mapping):
        found = "an empty document" if data is None else describe(data)
        raise ScenarioError(
            f"expected a scenario: a mapping with `simulation`, `agents` and the other "
            f"top-level keys; found {found}",
            file=source,
            pointer="",
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _scenario_error(exc, data, source, lines) from None
    scenario.with_origin(source, base_dir)
    for loc, message in simcash_notes(data):
        where = f"{source or '<scenario>'} at {to_pointer(loc)}"
        warnings.warn(ScenarioWarning(f"{where}: {message}"), stacklevel=3)
    for loc, message in scenario.load_warnings:
        pointer = to_pointer(_locate(data, loc))
        where = f"{source or '<scenario>'} at {pointer or '/'}"
        warnings.warn(ScenarioWarning(f"{where}: {message}"), stacklevel=3)
    return scenario


def _scenario_error(
    exc: ValidationError, raw: object, source: str | None, lines: Lines
) -> ScenarioError:
    found: list[tuple[Loc, str, str | None]] = []
    for error in exc.errors(include_url=False):
        found.extend(_problems(error, raw))
    loc, message, suggestion = found[0]
    line = lines(loc)
    if line is not None:
        message += f" (line {line[0]}, column {line[1]})"
    if len(found) > 1:
        listed = "; ".join(
            f"{to_pointer(other_loc) or '/'}: {text}" for other_loc, text, _ in found[1:_MAX_LISTED]
        )
        more = len(found) - _MAX_LISTED
        message += f". {len(found)} problems in all; also {listed}"
        if more > 0:
            message += f"; and {more} more"
    return ScenarioError(message, file=source, pointer=to_pointer(loc), suggestion=suggestion)


def _problems(error: ErrorDetails, raw: object) -> list[tuple[Loc, str, str | None]]:
    ctx = error.get("ctx") or {}
    loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
    if "at" in ctx:
        at = ctx.get("at")
        full = (*loc, *(at if isinstance(at, list) else []))
        out = [(_locate(raw, full), error["msg"], _str_or_none(ctx.get("suggestion")))]
        others = ctx.get("others")
        if isinstance(others, list):
            for other_at, text, hint in others:
                out.append((_locate(raw, (*loc, *other_at)), str(text), _str_or_none(hint)))
        return out
    located = _locate(raw, loc)
    message, suggestion = _describe_error(error, located)
    return [(located, message, suggestion)]


def _describe_error(error: ErrorDetails, loc: Loc) -> tuple[str, str | None]:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    key = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"required key `{key}` is missing", None
    if kind == "extra_forbidden":
        return f"unknown key `{key}`", None
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        length = ctx.get("actual_length")
        return f"expected {bound} {limit} items in `{key}`, found {length}", None
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == AGENT_ID_PATTERN:
        return (
            "expected an agent id: 1 to 64 characters from A-Z a-z 0-9 _ . -; "
            f"found {describe(value)}",
            None,
        )
    suggestion = None
    if kind == "literal_error" and isinstance(value, str):
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        suggestion = did_you_mean(value, options)
    text = error["msg"]
    for prefix, replacement in _REPHRASE:
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            if rest.startswith(("greater", "less")):
                rest = "a value " + rest
            text = replacement + rest
            break
    hint = ""
    if kind == "string_type" and isinstance(value, bool):
        hint = " (YAML reads true and false unquoted as booleans: quote the value)"
    elif kind == "string_type" and isinstance(value, int | float):
        hint = " (YAML reads it as a number: quote the value)"
    elif isinstance(value, str) and kind.endswith(("_type", "_parsing", "not_integer")):
        old_reading = yaml11_hint(value)
        hint = f" ({old_reading})" if old_reading else ""
    return f"{text}; found {describe(value)}{hint}", suggestion


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _aliases() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    stack: list[type[StrictModel]] = [StrictModel]
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        for alias, canonical in model.input_aliases.items():
            table.setdefault(canonical, []).append(alias)
    return table


def _locate(raw: object, loc: Sequence[str | int]) -> Loc:
    """Maps a model location to the location of the same value in the file as written.

    Drops union tags, follows input aliases, and skips a container the value was moved into
    (top-level settlement keys, flat schedules), so the pointer names what the user wrote.
    """
    aliases = _aliases()
    parts = list(loc)
    out: list[str | int] = []
    node: object = raw
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(node, Mapping):
            after = _next_real(parts, i + 1, node)
            if part in node:
                child = node[part]
                scalar = not isinstance(child, Mapping | list)
                if scalar and after == "type":
                    out.append(part)  # a short form such as `schedule: OneTime` is the type
                    break
                # A value written one level up: a flat schedule's `tick`, or a settlement key
                # at the top level beside a `settlement` mapping.
                moved = (
                    after is not None
                    and after in node
                    and (
                        scalar
                        or (
                            part in _RELOCATING
                            and isinstance(child, Mapping)
                            and after not in child
                        )
                    )
                )
                i += 1
                if not moved:
                    out.append(part)
                    node = child
                continue
            if isinstance(part, str):
                alias = next((a for a in aliases.get(part, []) if a in node), None)
                if alias is not None:
                    out.append(alias)
                    node = node[alias]
                    i += 1
                    continue
                if part in UNION_TAGS or (after is not None and after in node):
                    i += 1
                    continue
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
            i += 1
            continue
        elif isinstance(part, str) and part in UNION_TAGS:
            i += 1
            continue
        out.extend(p for p in parts[i:] if not (isinstance(p, str) and p in UNION_TAGS))
        break
    return tuple(out)


def _next_real(
    parts: list[str | int], start: int, node: Mapping[object, object]
) -> str | int | None:
    for part in parts[start:]:
        if isinstance(part, str) and part in UNION_TAGS and part not in node:
            continue
        return part
    return None


def to_pointer(loc: Sequence[str | int]) -> str:
    """An RFC 6901 JSON Pointer for a location (``""`` is the whole document)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in loc)
