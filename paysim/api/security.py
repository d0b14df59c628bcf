"""Who may use the API, and how much they may send.

* **Token.** With a token configured, every ``/api`` and ``/ws`` request must carry it:
  ``Authorization: Bearer <token>`` (WebSockets may pass ``?token=`` instead, since browsers
  cannot set headers on them). Comparison is constant-time. Without a token, the server only
  answers connections that arrived on a loopback address *and* name a loopback host in their
  ``Host`` header: the first keeps a server started with ``--host 0.0.0.0`` by mistake closed
  (``paysim serve`` refuses to start that way anyway), the second keeps web pages from other
  sites out through DNS rebinding.
* **Body size.** :class:`BodyLimit` answers 413 before the body is read when
  ``Content-Length`` is too large, and stops reading a chunked body as soon as it is.
* **Client.** Limits per client are per remote address.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paysim.api.errors import ApiError
from paysim.api.settings import ApiSettings


def _host_name(host_header: str | None) -> str | None:
    if not host_header:
        return None
    host = host_header.strip()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def access_problem(conn: HTTPConnection, settings: ApiSettings, token: str | None) -> str | None:
    """Why ``conn`` may not use the API (None: it may)."""
    if settings.token is not None:
        if token is None:
            return "this server needs a token: send `Authorization: Bearer <token>`"
        if not secrets.compare_digest(token.encode(), settings.token.encode()):
            return "wrong token"
        return None
    server = conn.scope.get("server")
    server_host = server[0] if server else None
    if not settings.is_local(server_host):
        return (
            "this server has no token, so it serves only connections on a loopback address; "
            "start it with a token to accept others"
        )
    if not settings.is_local(_host_name(conn.headers.get("host"))):
        return "this server has no token, so it serves only requests to a loopback host name"
    return None


def bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def settings_of(conn: HTTPConnection) -> ApiSettings:
    settings: ApiSettings = conn.app.state.settings
    return settings


async def require_access(request: Request) -> None:
    """Dependency of every ``/api`` route: 401 without access."""
    problem = access_problem(request, settings_of(request), bearer(request))
    if problem is not None:
        raise ApiError(401, "unauthorized", problem, headers={"WWW-Authenticate": "Bearer"})


def client_key(conn: HTTPConnection) -> str:
    """The client a limit counts against: its address."""
    return conn.client.host if conn.client is not None else "unknown"


class BodyTooLarge(StarletteHTTPException):
    """Raised into a route reading a body past the limit (FastAPI lets HTTPExceptions pass)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes, this server's limit")


class BodyLimit:
    """ASGI middleware: request bodies of at most ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._refuse(send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, send: Send) -> None:
        from paysim.api.errors import ErrorInfo, ErrorResponse

        body = ErrorResponse(
            error=ErrorInfo(
                status=413,
                code="too_large",
                message=f"the request body is larger than {self.limit} bytes, this server's limit",
            )
        ).model_dump_json()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})
