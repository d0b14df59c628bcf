"""Bounded YAML 1.2 reading: plain Python values from a YAML document, built without surprises.

PyYAML's loaders implement YAML 1.1, where ``0100000`` is the octal 32768, ``1:30:00`` the
base-60 number 5400 and ``yes`` a boolean, so money and flags could change silently. They also
keep the last of two equal keys, expand aliases without bound (a "billion laughs" document of a
few hundred bytes stands for 10^9 values), and recurse once per nesting level (deep documents
end in ``RecursionError``).

This module reads the parser's *event stream* (libyaml's C parser when PyYAML was built with
it, PyYAML's pure-Python parser otherwise; both emit the same events) and builds the values
itself, in one iterative pass:

- plain scalars are resolved by the YAML 1.2 core schema (:func:`resolve_plain`); quoted
  scalars are strings; of the explicit tags only the core ones are read;
- merge keys (``<<: *defaults``) merge as in YAML 1.1, keys written in the mapping winning;
- a key repeated in one mapping, a complex (non-scalar) key, an undefined
  or recursive alias, a second document and a ``%YAML 1.1`` directive are errors;
- nesting deeper than :data:`MAX_DEPTH` and more than :data:`MAX_VALUES` values (aliases
  counted at their expanded size, so exponential expansion is caught before it happens) are
  errors;
- every error carries the line and column of the offending event;
- on request, the line and column of every value written in the file, by path (for error
  messages; the happy path skips that work).

Aliases share the anchored value (as PyYAML does) rather than copying it; the expanded-size
bound keeps whatever walks the result later bounded too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, cast

import yaml
from yaml import events as ev

from paysim.config.yaml_schema import (
    LEADING_ZERO,
    NUMBERISH,
    WORDS,
    leading_zero_note,
    resolve_plain,
    resolve_tagged,
)

Loc = tuple[str | int, ...]
LineMap = dict[Loc, tuple[int, int]]

MAX_DEPTH = 200
"""Deepest nesting of mappings and sequences (aliases counted at their expanded depth)."""
MAX_VALUES = 500_000
"""Most values (scalars, mappings, sequences; keys included) once aliases are expanded."""

_EventSource = Callable[[str], "_Events"]

try:  # libyaml's parser, when PyYAML was built with it
    from yaml._yaml import CParser

    _C_PARSER: _EventSource | None = CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _C_PARSER = None

HAVE_LIBYAML = _C_PARSER is not None
_FORCE_PURE = False


@contextmanager
def pure_python_parser() -> Iterator[None]:
    """Parses with PyYAML's pure-Python parser inside the block, as when libyaml is missing
    (tests use it to check both parsers read every document alike)."""
    global _FORCE_PURE
    saved, _FORCE_PURE = _FORCE_PURE, True
    try:
        yield
    finally:
        _FORCE_PURE = saved


"""Whether scenario YAML is parsed by libyaml (fast) rather than by pure Python."""


class _Events(Protocol):
    """What the builder needs of a parser: the next event."""

    def get_event(self) -> ev.Event | None: ...


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python reader, scanner and parser: events without composing nodes."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


class TextError(Exception):
    """A document cannot be read.

    ``message`` is complete (it names the line and column when they are known); ``line`` and
    ``column`` are 1-based; ``loc`` is the path of the offending value when it is known.
    """

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        loc: Loc | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.loc = loc
        super().__init__(message)


def located(
    message: str, line: int | None, column: int | None, loc: Loc | None = None
) -> TextError:
    """A problem whose message ends with its position."""
    if line is None:
        return TextError(message, loc=loc)
    return TextError(f"{message} (line {line}, column {column})", line, column, loc)


@dataclass
class Parsed:
    """The document's value, its line map (when asked for) and notes worth a warning."""

    data: object
    lines: LineMap = field(default_factory=dict)
    notes: list[tuple[int, int, str]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Building values from events
# ---------------------------------------------------------------------------------------------
_NO_KEY = object()
_MERGE = object()  # the pending key is `<<`: its value is merged in at the mapping's end
_CONTAINER_TAGS = frozenset(
    {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"},
)


@dataclass(slots=True)
class _Frame:
    """An open mapping or sequence."""

    value: dict[object, object] | list[object]
    loc: Loc
    start_count: int
    anchor: str | None
    height: int = 1
    key: object = _NO_KEY
    merges: list[dict[object, object]] | None = None  # sources of a `<<` merge key


def _mark(event: ev.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


def _step(key: object) -> str | int:
    return key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)


class _Builder:
    """Turns parser events into values; one instance per document."""

    def __init__(
        self, want_lines: bool, target: Loc | None = None, text: str | None = None
    ) -> None:
        self.want_lines = want_lines
        self.target = target
        self.text = text  # for the first line of a duplicate key (error path only)
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[object, int, int]] = {}
        self.open_anchors: set[str] = set()
        self.count = 0
        self.aliased = False
        self.root: object = None
        self.lines: LineMap = {}
        self.notes: list[tuple[int, int, str]] = []

    def note_line(self, loc: Loc, event: ev.Event) -> None:
        """Records where the value at ``loc`` is written (the first place wins)."""
        if loc not in self.lines:
            self.lines[loc] = _mark(event)
            if loc == self.target:
                raise _LineFoundError

    def fail(self, event: ev.Event, message: str, loc: Loc | None = None) -> TextError:
        line, column = _mark(event)
        return located(message, line or None, column or None, loc)

    def child_loc(self) -> Loc:
        """The path of the value the next event starts."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.loc, len(top.value))
        if top.key is _NO_KEY:
            return top.loc
        return (*top.loc, _step(top.key))

    def counted(self, event: ev.Event, size: int) -> None:
        self.count += size
        if self.count > MAX_VALUES:
            if self.aliased:
                message = (
                    f"the document stands for more than {MAX_VALUES:,} values once its aliases "
                    'are expanded; aliases that multiply each other (a "billion laughs" '
                    "document) are refused"
                )
            else:
                message = (
                    f"the document holds more than {MAX_VALUES:,} values (mappings, lists and "
                    "scalars), more than any scenario needs"
                )
            raise self.fail(event, message, self.child_loc())

    def scalar(self, event: ev.ScalarEvent) -> None:
        """One scalar, placed at once (the hot path: most events are scalars)."""
        self.count += 1
        if self.count > MAX_VALUES:
            self.counted(event, 0)
        text = event.value
        tag = event.tag
        value: object = text
        try:
            if tag is None:
                if event.implicit[0]:
                    value = resolve_plain(text)
                    if type(value) is int and text[0] in "0+-" and LEADING_ZERO.fullmatch(text):
                        line, column = _mark(event)
                        self.notes.append((line, column, leading_zero_note(text, value)))
            elif tag != "!":
                value = resolve_tagged(tag, text)
        except ValueError as exc:  # a bad tag, or an integer of absurd length
            raise self.fail(event, str(exc), self.child_loc()) from None
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1, 0)
        stack = self.stack
        if not stack:
            self.root = value
            return
        top = stack[-1]
        container = top.value
        if type(container) is list:
            if self.want_lines:
                self.note_line((*top.loc, len(container)), event)
            container.append(value)
        elif top.key is _MERGE:
            self.merge(event, top, value)
        elif top.key is not _NO_KEY:
            container[top.key] = value  # type: ignore[call-overload]
            top.key = _NO_KEY
        elif type(value) is str and value != "<<" and value not in container:
            top.key = value  # the common key: new, plain text
            if self.want_lines:
                self.note_line((*top.loc, value), event)
        else:
            self.key(event, top, value)

    def start(
        self, event: ev.CollectionStartEvent, value: dict[object, object] | list[object]
    ) -> None:
        loc = self.child_loc()
        if event.tag not in _CONTAINER_TAGS:
            raise self.fail(
                event,
                f"unsupported tag `{event.tag}`: of the collection tags only !!map and !!seq "
                "are read",
                loc,
            )
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(
                event,
                f"the document nests deeper than {MAX_DEPTH} levels of mappings and lists",
            )  # no pointer: a path 200 levels long says less than the line
        self.counted(event, 1)
        if self.want_lines and (not self.stack or isinstance(self.stack[-1].value, list)):
            self.note_line(loc, event)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(value, loc, self.count - 1, event.anchor))

    def end(self, event: ev.Event) -> None:
        frame = self.stack.pop()
        if frame.merges is not None and isinstance(frame.value, dict):
            # Keys written in the mapping win over merged ones; earlier sources over later.
            for source in frame.merges:
                for key, value in source.items():
                    frame.value.setdefault(key, value)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            size = self.count - frame.start_count
            self.anchors[frame.anchor] = (frame.value, size, frame.height)
        self.add(event, frame.value, frame.height, placed=True)

    def alias(self, event: ev.AliasEvent) -> None:
        name = str(event.anchor)
        loc = self.child_loc()
        if name in self.open_anchors:
            raise self.fail(
                event,
                f"the alias `*{name}` refers to a value that contains it (a recursive alias)",
                loc,
            )
        found = self.anchors.get(name)
        if found is None:
            raise self.fail(
                event, f"the alias `*{name}` refers to no anchor `&{name}` before it", loc
            )
        value, size, height = found
        self.aliased = True
        if len(self.stack) + height > MAX_DEPTH:
            raise self.fail(
                event,
                f"the alias `*{name}` makes the document nest deeper than {MAX_DEPTH} levels "
                "of mappings and lists",
            )
        self.counted(event, size)
        self.add(event, value, height)

    def merge(self, event: ev.Event, top: _Frame, value: object) -> None:
        """The value of a merge key `<<`: a mapping, or a list of mappings, to merge in."""
        items = value if isinstance(value, list) else [value]
        sources = [item for item in items if isinstance(item, dict)]
        if not sources or len(sources) != len(items):
            raise self.fail(
                event,
                "a merge key `<<` takes a mapping or a list of mappings (usually aliases such "
                "as `<<: *defaults`)",
                (*top.loc, "<<"),
            )
        assert top.merges is not None
        top.merges.extend(sources)
        top.key = _NO_KEY

    def add(self, event: ev.Event, value: object, height: int, placed: bool = False) -> None:
        """Places a finished value: the root, a list item, a key, or a key's value."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if height + 1 > top.height:
            top.height = height + 1
        if isinstance(top.value, list):
            if self.want_lines and not placed:
                self.note_line((*top.loc, len(top.value)), event)
            top.value.append(value)
        elif top.key is _NO_KEY:
            self.key(event, top, value)
        elif top.key is _MERGE:
            self.merge(event, top, value)
        else:
            top.value[top.key] = value
            top.key = _NO_KEY

    def key(self, event: ev.Event, top: _Frame, key: object) -> None:
        if isinstance(key, dict | list):
            raise self.fail(
                event, "found a mapping or a list used as a key; keys must be plain values", top.loc
            )
        if key == "<<" and isinstance(event, ev.ScalarEvent) and event.implicit[0]:
            if top.merges is not None:
                raise self.fail(
                    event,
                    "found a second merge key `<<` in one mapping; give one `<<` with a list "
                    "of mappings instead",
                    top.loc,
                )
            top.merges = []
            top.key = _MERGE
            return
        assert isinstance(top.value, dict)
        if key in top.value:
            loc = (*top.loc, _step(key))
            first = line_of(self.text, loc) if self.text is not None else None
            where = f" (first at line {first[0]})" if first is not None else ""
            raise self.fail(
                event,
                f"found duplicate key `{key}`{where}; a key may appear once in a mapping",
                loc,
            )
        top.key = key
        if self.want_lines:
            self.note_line((*top.loc, _step(key)), event)


class _LineFoundError(Exception):
    """The line asked for is known: stop reading."""


def line_of(text: str, loc: Loc) -> tuple[int, int] | None:
    """1-based line and column where the value at ``loc`` (or its nearest written ancestor)
    is written; reads only as far as needed."""
    builder = _Builder(want_lines=True, target=tuple(loc))
    try:
        _run(text, builder)
    except _LineFoundError:
        pass
    except TextError:
        return None
    for end in range(len(loc), -1, -1):
        found = builder.lines.get(tuple(loc[:end]))
        if found is not None:
            return found
    return None


def parse_yaml(text: str, *, want_lines: bool = False) -> Parsed:
    """Reads one YAML document under the YAML 1.2 core schema and the bounds above.

    Raises :class:`TextError` (with line and column when known) for malformed YAML and for
    everything this module refuses. ``want_lines`` fills :attr:`Parsed.lines`.
    """
    builder = _Builder(want_lines, text=text)
    _run(text, builder)
    return Parsed(builder.root, builder.lines, builder.notes)


def _run(text: str, builder: _Builder) -> None:
    documents = 0
    try:
        make = _C_PARSER if _C_PARSER is not None and not _FORCE_PURE else _PyParser
        parser = make(text)
        get_event = parser.get_event
        stack = builder.stack
        fast = not builder.want_lines
        while True:
            event = get_event()
            if event is None:  # only after the stream's end
                break
            kind = type(event)
            if kind is ev.ScalarEvent:
                scalar = cast(ev.ScalarEvent, event)
                if fast and scalar.tag is None and scalar.anchor is None and stack:
                    # The hot path, inlined: a new plain-text key of a mapping.
                    top = stack[-1]
                    container = top.value
                    if type(container) is dict and top.key is _NO_KEY:
                        key = scalar.value
                        if (
                            scalar.implicit[0]
                            and key
                            and key[0] not in NUMBERISH
                            and key not in WORDS
                            and key != "<<"
                            and key not in container
                        ):
                            builder.count += 1
                            if builder.count > MAX_VALUES:
                                builder.counted(event, 0)
                            top.key = key
                            continue
                builder.scalar(scalar)
            elif kind is ev.MappingStartEvent:
                builder.start(event, {})  # type: ignore[arg-type]
            elif kind is ev.SequenceStartEvent:
                builder.start(event, [])  # type: ignore[arg-type]
            elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
                builder.end(event)
            elif kind is ev.AliasEvent:
                builder.alias(event)  # type: ignore[arg-type]
            elif kind is ev.DocumentStartEvent:
                documents += 1
                _check_document_start(builder, event, documents)  # type: ignore[arg-type]
            elif kind is ev.StreamEndEvent:
                break
    except yaml.MarkedYAMLError as exc:
        raise _marked_problem(exc, text) from None
    except yaml.reader.ReaderError as exc:
        line, column = offset_position(text, exc.position)
        raise located(f"unreadable character in YAML: {exc.reason}", line, column) from None
    except yaml.YAMLError as exc:
        raise TextError(f"malformed YAML: {exc}") from None


def _check_document_start(builder: _Builder, event: ev.DocumentStartEvent, documents: int) -> None:
    if documents > 1:
        raise builder.fail(
            event, "found a second document (`---`); a scenario file holds exactly one"
        )
    version = event.version
    if version is not None and tuple(version) != (1, 2):
        raise builder.fail(
            event,
            f"the document declares `%YAML {version[0]}.{version[1]}`; paysim reads scenario "
            "files as YAML 1.2: remove the directive",
        )


def _marked_problem(exc: yaml.MarkedYAMLError, text: str) -> TextError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    if mark is None:
        return TextError(f"malformed YAML: {problem}{context}")
    line, column = mark.line + 1, mark.column + 1
    if "maximum nesting depth" in problem:  # libyaml's own bound (1,000 flow levels)
        return located(
            f"the document nests deeper than {MAX_DEPTH} levels of mappings and lists",
            line,
            column,
        )
    hint = ""
    lines = text.splitlines()
    if 0 < line <= len(lines) and "\t" in lines[line - 1][: column + 1]:
        hint = "; the line holds a tab: YAML indents with spaces only"
    return TextError(
        f"malformed YAML at line {line}, column {column}: {problem}{context}{hint}", line, column
    )


def offset_position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
