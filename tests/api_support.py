"""Helpers shared by the API tests: apps with test settings, an in-process client, and a real
uvicorn server on a loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paysim.api import ApiSettings, create_app
from tests.cli_support import REPO

BASE = "http://127.0.0.1"
DEMO_TEXT = (REPO / "scenarios" / "demo.yaml").read_text(encoding="utf-8")


def make_app(**settings: Any) -> FastAPI:
    return create_app(ApiSettings(**settings))


def client(app: FastAPI, **kwargs: Any) -> TestClient:
    """An in-process client that reaches the app as a loopback connection would."""
    return TestClient(app, base_url=BASE, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveServer:
    app: FastAPI
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@contextmanager
def live_server(app: FastAPI, timeout: float = 20.0) -> Iterator[LiveServer]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread, until the block ends."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(app, port)
    finally:
        server.should_exit = True
        thread.join(timeout)


def create_demo(http: httpx.Client | TestClient, **extra: Any) -> dict[str, Any]:
    response = http.post("/api/simulations", json={"example": "demo", **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
