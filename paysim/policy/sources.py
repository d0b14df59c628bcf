"""Built-in policy sources (``library`` and ``file``) and the resolution of policy references.

Reference rules (SCENARIO.md): a string with a ``:`` before any ``/`` names a source
(``library:deadline``, ``pack:aggressive``); a string ending in ``.json`` or containing ``/``
is a path, relative to the scenario's directory first, then the working directory; any other
string is a library name; a mapping is an inline policy document.

The library directory is ``$PAYSIM_POLICY_LIBRARY`` when set, else the repository's
``policies/`` beside the package (an editable install, which is how paysim is developed and run).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from paysim.config.models_policy import PolicyRef
from paysim.config.normalize import ResolvedPolicy
from paysim.config.suggest import did_you_mean
from paysim.exceptions import PolicyError, ScenarioError
from paysim.hookspecs import PolicySource, hookimpl


def library_dir() -> Path:
    """Where the built-in policy library lives."""
    env = os.environ.get("PAYSIM_POLICY_LIBRARY")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "policies"


def _read_document(path: Path, shown: str) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read policy file: {exc.strerror}", file=shown) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
            problems=[
                {"code": "INVALID_JSON", "message": exc.msg, "pointer": "", "suggestion": None}
            ],
            file=shown,
        ) from None
    if not isinstance(doc, dict):
        raise PolicyError("a policy document must be a JSON object", file=shown)
    return doc


class LibrarySource:
    """The built-in library: ``policies/<policy_id>.json``."""

    name = "library"

    def names(self) -> list[str]:
        return sorted(p.stem for p in library_dir().glob("*.json"))

    def resolve(self, ref: str) -> dict[str, object]:
        path = library_dir() / f"{ref}.json"
        if not path.is_file():
            hint = did_you_mean(ref, self.names())
            raise ScenarioError(
                f"no library policy named `{ref}`",
                suggestion=hint,
            )
        return _read_document(path, f"library:{ref}")


class FileSource:
    """Policy files by path (``file:policies/my.json``; bare paths resolve here too)."""

    name = "file"

    def names(self) -> list[str]:
        return []

    def resolve(self, ref: str) -> dict[str, object]:
        path = Path(ref)
        if not path.is_file():
            raise ScenarioError(f"policy file `{ref}` not found", file=ref)
        return _read_document(path, ref)


@hookimpl
def paysim_register_policy_sources(register: Callable[[PolicySource], None]) -> None:
    register(LibrarySource())
    register(FileSource())


def _is_path(ref: str) -> bool:
    return ref.endswith(".json") or "/" in ref


def resolve_policy(ref: PolicyRef, base_dir: Path | None) -> ResolvedPolicy:
    """Resolves a policy reference to its document (the resolver of ``paysim.config``)."""
    from paysim.plugins import policy_sources

    if isinstance(ref, dict):
        return ResolvedPolicy(document=dict(ref), source="inline")
    colon, slash = ref.find(":"), ref.find("/")
    if colon > 0 and (slash < 0 or colon < slash):
        source_name, name = ref[:colon], ref[colon + 1 :]
        sources = policy_sources()
        source = sources.get(source_name)
        if source is None:
            raise ScenarioError(
                f"unknown policy source `{source_name}` in `{ref}`",
                suggestion=did_you_mean(source_name, sorted(sources)),
            )
        if source_name == "file":
            return _resolve_path(name, base_dir)
        return ResolvedPolicy(document=source.resolve(name), source=ref)
    if _is_path(ref):
        return _resolve_path(ref, base_dir)
    return ResolvedPolicy(document=LibrarySource().resolve(ref), source=f"library:{ref}")


def _resolve_path(ref: str, base_dir: Path | None) -> ResolvedPolicy:
    candidates = [base_dir / ref] if base_dir is not None else []
    candidates.append(Path(ref))
    for path in candidates:
        if path.is_file():
            return ResolvedPolicy(document=_read_document(path, ref), source=ref)
    where = f" (looked in {base_dir} and the working directory)" if base_dir else ""
    raise ScenarioError(f"policy file `{ref}` not found{where}")
