"""FastAPI dependencies: the settings and the registry of live simulations.

Both live on ``app.state`` (set by :func:`paysim.api.application.create_app`), so tests and ``paysim
serve`` can build apps with different settings side by side.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paysim.api.sessions import Registry
from paysim.api.settings import ApiSettings


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
