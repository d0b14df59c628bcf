"""The HTTP and WebSocket API of paysim (``paysim serve``; INTERFACES.md §6).

``paysim.api:app`` is the app configured from ``PAYSIM_API_*`` environment variables, for
``uvicorn paysim.api:app``; :func:`create_app` builds one from explicit
:class:`ApiSettings` (what ``paysim serve`` and the tests do). The app is created on first
access, so importing this package costs no more than its imports.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from paysim.api.application import create_app
from paysim.api.settings import ApiSettings, is_loopback_bind, settings_from_env

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ApiSettings", "app", "create_app", "is_loopback_bind", "settings_from_env"]


@cache
def _env_app() -> FastAPI:
    return create_app(settings_from_env())


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        return _env_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
