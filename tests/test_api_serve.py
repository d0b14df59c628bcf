"""``paysim serve`` as a real process: it refuses to expose the API beyond loopback without a
token, and with one, requests without it get 401. Requests go to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.api_support import free_port
from tests.cli_support import REPO


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYSIM_API_")}
    env.update(extra)
    return env


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "example.org"])
def test_refuses_to_start_on_a_non_loopback_address_without_a_token(host: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "paysim", "serve", "--host", host, "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=REPO,
    )
    assert done.returncode == 2
    assert "needs a token" in done.stderr and "--token" in done.stderr
    assert done.stdout == ""


@contextmanager
def _serving(*args: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paysim", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def _ws_close_code(url: str) -> int | None:
    async def attempt() -> int | None:
        ws_url = url.replace("http://", "ws://") + "/ws/simulations/" + "0" * 32
        async with connect(ws_url, open_timeout=10) as ws:
            try:
                await ws.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    return asyncio.run(asyncio.wait_for(attempt(), 20))


def test_with_a_token_requests_without_it_get_401() -> None:
    with _serving("--host", "0.0.0.0", env=_env(PAYSIM_API_TOKEN="t0ken")) as url:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            refused = httpx.get(url + "/api/info", headers=headers, timeout=10)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "unauthorized"
        ok = httpx.get(url + "/api/info", headers={"Authorization": "Bearer t0ken"}, timeout=10)
        assert ok.status_code == 200 and ok.json()["token_required"] is True
        created = httpx.post(
            url + "/api/simulations",
            json={"example": "demo"},
            headers={"Authorization": "Bearer t0ken"},
            timeout=30,
        )
        assert created.status_code == 201
        assert _ws_close_code(url) == 4401


def test_on_loopback_no_token_is_needed() -> None:
    with _serving(env=_env()) as url:
        assert httpx.get(url + "/api/info", timeout=10).json()["token_required"] is False
        page = httpx.get(url + "/", timeout=10)
        assert page.status_code == 200 and "paysim" in page.text


def test_help_lists_serve_without_importing_the_web_stack() -> None:
    code = (
        "import sys, paysim.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'uvicorn', 'starlette', 'websockets') or m.startswith('paysim.api')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]"
    shown = subprocess.run(
        [sys.executable, "-m", "paysim", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert shown.returncode == 0
    for option in ("--host", "--port", "--token", "--db", "--policy-dir", "--max-agents"):
        assert option in shown.stdout
