"""The FastAPI application: routers, error handlers, limits, the live page and offline docs.

:func:`create_app` builds an app from :class:`~paysim.api.settings.ApiSettings`; ``paysim.api``
exposes ``app`` built from the environment for ``uvicorn paysim.api:app``. Routers are one per
resource (``routers/``): a new resource (stored runs, once the DuckDB store lands) is one more
module and one more ``include_router`` line.

``/docs`` is Swagger UI served from the assets of the ``fastapi-offline`` package, so it works
without a network; ``/openapi.json`` is the schema. The security scheme is declared in the
schema only when the server has a token, because only then does it ask for one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from paysim import __version__
from paysim.api import errors
from paysim.api.routers import catalog, simulations, stream
from paysim.api.security import BodyLimit, require_access
from paysim.api.sessions import Registry
from paysim.api.settings import ApiSettings

STATIC = Path(__file__).resolve().parent / "static"

_DESCRIPTION = """\
Drive paysim simulations over HTTP and watch them live over a WebSocket
(`/ws/simulations/{id}`). Amounts are integer cents. Errors have one shape,
`{"error": {status, code, message, pointer, suggestion, problems}}`, with the message the
`paysim` command line prints. See docs/api.md.
"""


def _docs_assets() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:  # pragma: no cover - a dependency; /docs then says so
        return None
    return Path(fastapi_offline.__file__).resolve().parent / "static"


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """A new app with its own settings and registry of simulations."""
    settings = settings or ApiSettings()
    app = FastAPI(
        title="paysim",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.registry = Registry(settings)
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    guarded = [Depends(require_access)]
    app.include_router(simulations.router, dependencies=guarded)
    app.include_router(catalog.router, dependencies=guarded)
    app.include_router(stream.router)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    assets = _docs_assets()
    if assets is not None:
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if assets is None:
            return HTMLResponse("Swagger UI assets are not installed; see /openapi.json")
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="paysim API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    original_openapi = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original_openapi()
        if settings.token_required:
            components = schema.setdefault("components", {})
            assert isinstance(components, dict)
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
