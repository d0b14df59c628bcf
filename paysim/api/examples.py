"""The example scenarios a server offers (``settings.examples_dir``, by default the
repository's ``scenarios/``), by name: the file name without ``.yaml``."""

from __future__ import annotations

import re
from pathlib import Path

from paysim.api.errors import not_found
from paysim.api.settings import ApiSettings

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def example_names(settings: ApiSettings) -> list[str]:
    folder = settings.examples_dir
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if _NAME.match(p.stem))


def _path(settings: ApiSettings, name: str) -> Path:
    if (
        settings.examples_dir is None
        or not _NAME.match(name)
        or name not in example_names(settings)
    ):
        raise not_found(f"no example scenario `{name}`")
    return settings.examples_dir / f"{name}.yaml"


def example_text(settings: ApiSettings, name: str) -> str:
    """The YAML text of an example (404 for an unknown name)."""
    return _path(settings, name).read_text(encoding="utf-8")


def example_description(text: str) -> str | None:
    """The ``description:`` line of an example, without loading it."""
    for line in text.splitlines():
        if line.startswith("description:"):
            value = line.split(":", 1)[1].strip()
            return value.strip("'\"") or None
    return None
