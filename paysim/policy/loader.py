"""The one policy loader: every path to a policy document ends here, so all get one verdict.

``paysim validate-policy``, ``--policy AGENT=REF``, a scenario's ``policy:`` (paths, library
names, plugin sources, inline documents), ``Simulation.set_policy`` and ``PolicyChange`` events
all read policies through this module, and this module hands every document, as raw bytes, to the
engine's own reader and validator (``core/src/policy/json.rs`` and ``validate.rs``, through
``paysim._core.validate_policy``). Python's :mod:`json` never judges a policy: it would keep the
last of two repeated keys, accept ``NaN`` and ``Infinity``, refuse a byte-order mark, recurse
until ``RecursionError`` on deep nesting and turn ``1e400`` into an infinity. The engine's reader
rejects all of these with a code and a JSON Pointer (POLICY_DSL.md §2 and §8), so the same file
gets the same answer from every command.

Only a document the engine accepted is decoded by :mod:`json` (to hand it on as a dict); such a
document is known to be strict JSON, free of repeated keys, finite and shallow.

A document given as a Python mapping (an inline policy in a scenario, ``set_policy(agent,
{...})``) is first written as JSON text by :func:`document_bytes`, iteratively, so that a
5,000-deep dict is judged by the engine's nesting limit rather than by Python's recursion limit,
and ``float("nan")`` reaches the engine as ``NaN`` and is reported where it sits.

Problems: an unreadable file (missing, a directory, not a regular file) is a
:class:`~paysim.exceptions.ScenarioError` naming the file; a document the engine rejects is a
:class:`~paysim.exceptions.PolicyError` with the file and the engine's problem list.
"""

from __future__ import annotations

import json
import math
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from paysim.exceptions import PolicyError, ScenarioError

MAX_POLICY_BYTES = 1_048_576
"""The engine's size limit for a policy document (POLICY_DSL.md §2, ``DOCUMENT_TOO_LARGE``)."""

_READ_LIMIT = 64 * MAX_POLICY_BYTES
"""Files larger than this are refused from their size alone, without being read."""

INLINE = "<inline>"


def read_policy_bytes(path: Path, shown: str | None = None) -> bytes:
    """The raw bytes of a policy file; :class:`ScenarioError` naming ``shown`` when the path is
    missing, a directory, not a regular file, or cannot be read."""
    name = shown if shown is not None else str(path)
    try:
        info = path.stat()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError(f"cannot read the policy file: {reason}", file=name) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(
            "is a directory, not a policy file; give the path of a JSON policy document",
            file=name,
        )
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(
            "is not a regular file; a policy must be a JSON document on disk", file=name
        )
    if info.st_size > _READ_LIMIT:
        raise PolicyError("1 error", problems=[_too_large(info.st_size)], file=name)
    try:
        with open(path, "rb") as handle:
            return handle.read(_READ_LIMIT + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ScenarioError(f"cannot read the policy file: {reason}", file=name) from None


def _too_large(size: int) -> dict[str, object]:
    return {
        "code": "DOCUMENT_TOO_LARGE",
        "message": f"document is {size} bytes; the limit is {MAX_POLICY_BYTES} bytes (1 MiB)",
        "pointer": "",
        "suggestion": None,
    }


def check_policy_bytes(
    data: bytes, file: str, scenario_json: str | None = None
) -> tuple[dict[str, object], str]:
    """The engine's report on raw policy bytes: ``(report, text)`` where ``report`` is
    ``{file, valid, policy_id, errors, warnings}`` and ``text`` the ``validate-policy`` text."""
    from paysim import _core

    report_json, text = _core.validate_policy(data, file, scenario_json)
    report: dict[str, object] = json.loads(report_json)
    return report, text


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # The engine's validator refuses non-finite literals wherever a number means something;
        # this guards the decoding of anything it let through.
        raise ValueError(f"number out of range: {text}")
    return value


def _problems(report: Mapping[str, object]) -> list[dict[str, object]]:
    errors = report.get("errors")
    return [dict(e) for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _invalid(report: Mapping[str, object], file: str) -> PolicyError:
    problems = _problems(report)
    count = len(problems)
    return PolicyError(f"{count} error{'' if count == 1 else 's'}", problems=problems, file=file)


def load_policy_bytes(data: bytes, file: str) -> dict[str, object]:
    """The document in ``data`` once the engine has accepted it; :class:`PolicyError` naming
    ``file`` with the engine's problems (code, message, JSON Pointer, suggestion) otherwise."""
    report, _ = check_policy_bytes(data, file)
    if not report.get("valid"):
        raise _invalid(report, file)
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        problem: dict[str, object] = {
            "code": "INVALID_JSON",
            "message": str(exc),
            "pointer": "",
            "suggestion": None,
        }
        raise PolicyError("1 error", problems=[problem], file=file) from None
    if not isinstance(doc, dict):  # the validator requires an object; kept for the type
        raise PolicyError("a policy document must be a JSON object", file=file)
    return doc


def load_policy_file(path: Path, shown: str | None = None) -> dict[str, object]:
    """Reads and checks the policy file ``path`` (errors name ``shown``, default the path)."""
    name = shown if shown is not None else str(path)
    return load_policy_bytes(read_policy_bytes(path, name), name)


def load_policy_document(document: Mapping[str, object], file: str = INLINE) -> dict[str, object]:
    """Checks a policy given as a mapping exactly as if it had been read from a file."""
    return load_policy_bytes(document_bytes(document, file), file)


# ---------------------------------------------------------------------------------------------
# Writing a Python document as JSON text, without recursion
# ---------------------------------------------------------------------------------------------

_Frame = Iterator[tuple[str | None, object]]


def _scalar(value: object, file: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        # ASCII escapes throughout: a lone surrogate reaches the engine as `\ud800`, which its
        # reader reports as an unpaired surrogate at the string's pointer.
        return json.dumps(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        # NaN and infinities are written as the non-JSON words Python uses, so the engine's
        # reader reports them (INVALID_JSON) at the pointer where they sit.
        return json.dumps(value, allow_nan=True)
    raise PolicyError(
        f"a policy document holds only JSON values (objects, lists, strings, numbers, booleans, "
        f"null); found {type(value).__name__}",
        file=file,
    )


def _key(key: object, file: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise PolicyError(
        f"the keys of a policy document are strings; found the key {key!r}", file=file
    )


def _children(value: object, file: str) -> _Frame | None:
    if isinstance(value, Mapping):
        return ((_key(k, file), v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return ((None, v) for v in value)
    return None


def document_bytes(document: Mapping[str, object], file: str = INLINE) -> bytes:
    """``document`` as UTF-8 JSON text, written with an explicit stack (no recursion limit)."""
    out: list[str] = []
    stack: list[tuple[_Frame, str, bool]] = []
    value: object = document
    while True:
        children = _children(value, file)
        if children is None:
            out.append(_scalar(value, file))
        else:
            is_object = isinstance(value, Mapping)
            out.append("{" if is_object else "[")
            stack.append((children, "}" if is_object else "]", True))
        # Move to the next value to write, closing every container that is finished.
        while stack:
            items, close, first = stack[-1]
            item = next(items, None)
            if item is None:
                out.append(close)
                stack.pop()
                continue
            stack[-1] = (items, close, False)
            key, value = item
            if not first:
                out.append(",")
            if key is not None:
                out.append(json.dumps(key) + ":")
            break
        else:
            return "".join(out).encode("ascii")
