"""Built-in policy sources (``library`` and ``file``) and the resolution of policy references.

Reference rules (SCENARIO.md): a string with a ``:`` before any ``/`` names a source
(``library:deadline``, ``pack:aggressive``); a string ending in ``.json`` or containing ``/``
is a path, relative to the scenario's directory first, then the working directory; any other
string is a library name; a mapping is an inline policy document.

The library directory is ``$PAYSIM_POLICY_LIBRARY`` when set, else the repository's
``policies/`` beside the package (an editable install, which is how paysim is developed and run).

Every document, whatever its source, goes through :mod:`paysim.policy.loader` (the engine's reader
and validator), so a reference is accepted or refused exactly as ``validate-policy`` judges the
document. Errors name the policy file as the user can find it (the path from the working
directory, ``library:NAME`` or ``SOURCE:NAME``) and the JSON Pointer inside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from paysim.config.models_policy import PolicyRef
from paysim.config.normalize import ResolvedPolicy
from paysim.config.suggest import did_you_mean
from paysim.exceptions import PolicyError, ScenarioError
from paysim.hookspecs import PolicySource, hookimpl
from paysim.policy.loader import load_policy_document, load_policy_file


def library_dir() -> Path:
    """Where the built-in policy library lives."""
    env = os.environ.get("PAYSIM_POLICY_LIBRARY")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "policies"


def shown_path(path: Path) -> str:
    """A path as the user can find it: relative to the working directory when it lies below it,
    else absolute."""
    plain = os.path.normpath(path)
    try:
        rel = os.path.relpath(plain)
    except ValueError:
        return plain
    return plain if rel.startswith("..") else rel


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
        return load_policy_file(path, f"library:{ref}")


class FileSource:
    """Policy files by path (``file:policies/my.json``; bare paths resolve here too)."""

    name = "file"

    def names(self) -> list[str]:
        return []

    def resolve(self, ref: str) -> dict[str, object]:
        path = Path(ref)
        if not path.exists():
            raise ScenarioError(f"policy file `{ref}` not found", file=ref)
        return load_policy_file(path, ref)


@hookimpl
def paysim_register_policy_sources(register: Callable[[PolicySource], None]) -> None:
    register(LibrarySource())
    register(FileSource())


def _is_path(ref: str) -> bool:
    return ref.endswith(".json") or "/" in ref


def resolve_policy(
    ref: PolicyRef, base_dir: Path | None, *, files: list[Path] | None = None
) -> ResolvedPolicy:
    """Resolves a policy reference to its document (the resolver of ``paysim.config``).

    ``files``, when given, receives every file read on the way (the run's inputs, which no output
    may overwrite)."""
    from paysim.plugins import policy_sources

    if isinstance(ref, dict):
        return ResolvedPolicy(document=load_policy_document(ref), source="inline")
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
            return _resolve_path(name, base_dir, files)
        document = source.resolve(name)
        if isinstance(source, LibrarySource):  # read through the loader already
            _note(files, library_dir() / f"{name}.json")
            return ResolvedPolicy(document=document, source=ref)
        if not isinstance(document, dict):
            raise PolicyError(
                f"policy source `{source_name}` returned {type(document).__name__}, not a "
                "policy document (a JSON object)",
                file=ref,
            )
        return ResolvedPolicy(document=load_policy_document(document, ref), source=ref)
    if _is_path(ref):
        return _resolve_path(ref, base_dir, files)
    if not (library_dir() / f"{ref}.json").is_file():
        _not_a_library_name(ref, base_dir)
    document = LibrarySource().resolve(ref)
    _note(files, library_dir() / f"{ref}.json")
    return ResolvedPolicy(document=document, source=f"library:{ref}")


def _note(files: list[Path] | None, path: Path) -> None:
    if files is not None:
        files.append(path)


def _candidates(ref: str, base_dir: Path | None) -> list[Path]:
    return ([base_dir / ref] if base_dir is not None else []) + [Path(ref)]


def _not_a_library_name(ref: str, base_dir: Path | None) -> None:
    """A bare name that is no library policy but names something on disk: say what it is."""
    for path in _candidates(ref, base_dir):
        if path.is_dir():
            raise ScenarioError(
                f"`{ref}` is a directory, not a policy: give a JSON policy file or a library "
                "policy name",
                file=shown_path(path),
            )
        if path.exists():
            raise ScenarioError(
                f"no library policy named `{ref}`; to use the file {shown_path(path)}, write "
                f"it as a path (`./{ref}` or `file:{ref}`)"
            )


def _resolve_path(ref: str, base_dir: Path | None, files: list[Path] | None) -> ResolvedPolicy:
    for path in _candidates(ref, base_dir):
        if path.exists():
            # Named as the user wrote it, or, found beside the scenario, from where they stand.
            shown = ref if path == Path(ref) else shown_path(path)
            document = load_policy_file(path, shown)
            _note(files, path)
            return ResolvedPolicy(document=document, source=ref)
    where = f" (looked in {base_dir} and the working directory)" if base_dir else ""
    raise ScenarioError(f"policy file `{ref}` not found{where}")
