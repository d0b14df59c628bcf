"""Every error of the API has one shape, ``{"error": {...}}``, and the CLI's words.

A library error (``ScenarioError``, ``PolicyError``, ...) is answered with the paragraph the CLI
prints for it (:func:`paysim.cli.errors.describe`) plus its parts as fields: the JSON Pointer,
the suggestion, the policy problems. Scenarios sent to the API have no file, so the paragraph
names ``<scenario>`` where the CLI names the file. Request validation errors (FastAPI's), unknown
routes and the API's own refusals (limits, conflicts, tokens) use the same shape, so a client
handles one format whatever went wrong. Nothing a client sends may produce a 5xx.
"""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from paysim.config.loader import to_pointer
from paysim.exceptions import PaysimError, PolicyError, ScenarioError, SimulationError


class Problem(BaseModel):
    """One problem of a policy document (the engine validator's report)."""

    code: str
    message: str
    pointer: str | None = None
    suggestion: str | None = None


class ErrorInfo(BaseModel):
    """What went wrong."""

    status: int = Field(description="The HTTP status, repeated.")
    code: str = Field(
        description="Machine-readable kind: invalid_scenario, invalid_policy, invalid_request, "
        "limit_exceeded, not_found, conflict, unauthorized, too_many, too_large, gone, "
        "simulation_failed, ..."
    )
    message: str = Field(description="One paragraph, as the CLI prints it.")
    pointer: str | None = Field(
        default=None, description="JSON Pointer of the offending value in what was sent."
    )
    suggestion: str | None = None
    problems: list[Problem] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


class ApiError(Exception):
    """An error the API answers with ``status`` (raised by routes and dependencies)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        pointer: str | None = None,
        suggestion: str | None = None,
        problems: list[Problem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.info = ErrorInfo(
            status=status,
            code=code,
            message=message,
            pointer=pointer,
            suggestion=suggestion,
            problems=problems or [],
        )
        self.headers = headers


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def _problems(exc: PolicyError) -> list[Problem]:
    out = []
    for p in exc.problems:
        out.append(
            Problem(
                code=str(p.get("code", "")),
                message=str(p.get("message", "")),
                pointer=cast(str | None, p.get("pointer")),
                suggestion=cast(str | None, p.get("suggestion")),
            )
        )
    return out


def from_library(exc: PaysimError, *, status: int = 422, code: str | None = None) -> ApiError:
    """The API error for a library error, with the CLI's paragraph as the message."""
    from paysim.cli.errors import describe

    message = describe(exc)[1]
    if isinstance(exc, ScenarioError):
        return ApiError(
            status,
            code or "invalid_scenario",
            message,
            pointer=exc.pointer,
            suggestion=exc.suggestion,
        )
    if isinstance(exc, PolicyError):
        return ApiError(status, code or "invalid_policy", message, problems=_problems(exc))
    if isinstance(exc, SimulationError):
        return ApiError(status, code or "simulation_failed", message)
    return ApiError(status, code or "invalid_request", message)


def _respond(err: ApiError) -> JSONResponse:
    return JSONResponse(
        ErrorResponse(error=err.info).model_dump(mode="json"),
        status_code=err.info.status,
        headers=err.headers,
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\x00"})
        if match is Match.PARTIAL:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Registers the handlers that give every error the one shape."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        return _respond(cast(ApiError, exc))

    async def library_error(request: Request, exc: Exception) -> JSONResponse:
        return _respond(from_library(cast(PaysimError, exc)))

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        errors = cast(RequestValidationError, exc).errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        loc = tuple(first.get("loc", ()))
        where = to_pointer(loc)
        text = f"{where or '/'}: {first.get('msg', 'invalid')}"
        if len(errors) > 1:
            text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return _respond(ApiError(422, "invalid_request", text, pointer=where))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        http = cast(StarletteHTTPException, exc)
        code = _HTTP_CODES.get(http.status_code, "error")
        headers = dict(http.headers) if http.headers else None
        if http.status_code == 400 and http.__cause__ is not None:
            # FastAPI's answer to a body it cannot decode (bad UTF-8, nesting too deep): that
            # is invalid input like any other, so 422.
            cause = http.__cause__
            reason = "it is nested too deeply" if isinstance(cause, RecursionError) else str(cause)
            return _respond(
                ApiError(
                    422, "invalid_request", f"the body is not valid JSON: {reason}", pointer=""
                )
            )
        if http.status_code == 405:
            # Starlette names the methods of one route; a path served by several routes (GET
            # and POST /api/simulations) allows all of theirs.
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return _respond(ApiError(http.status_code, code, str(http.detail), headers=headers))

    async def too_deep(request: Request, exc: Exception) -> JSONResponse:
        return _respond(ApiError(422, "invalid_request", "the input is nested too deeply"))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(PaysimError, library_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RecursionError, too_deep)


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (401, "No token, or a wrong one."),
        (413, "The request body is larger than the server allows."),
        (422, "Invalid input: the message and pointer the CLI gives."),
    )
}
"""Responses every API route may give (documented in the OpenAPI schema)."""


def responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """Error responses for a route: the common ones plus ``statuses``."""
    texts = {
        404: "Unknown simulation, agent or name.",
        409: "The simulation is being driven by another request, or is finished.",
        410: "The events asked for were released (retained-event limit).",
        429: "Too many simulations for this client or this server.",
    }
    out = dict(ERROR_RESPONSES)
    for status in statuses:
        out[status] = {"model": ErrorResponse, "description": texts[status]}
    return out
