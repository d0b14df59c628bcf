"""``paysim serve``: start the HTTP/WebSocket API (INTERFACES.md §6, docs/api.md).

A thin shell: the options become :class:`paysim.api.ApiSettings`, and uvicorn serves
:func:`paysim.api.create_app`. FastAPI and uvicorn are imported inside the command, so
``paysim --help`` stays fast. A server that binds to anything but loopback refuses to start
without a token.
"""

from pathlib import Path
from typing import Annotated

import typer

from paysim.cli.errors import EXIT_USAGE, DebugOption


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (non-loopback needs a token).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="PAYSIM_API_TOKEN",
            show_envvar=True,
            help="Bearer token every API request must carry.",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="DuckDB store for stored runs (reserved: /api/runs)."),
    ] = None,
    policy_dir: Annotated[
        Path | None,
        typer.Option(
            "--policy-dir",
            file_okay=False,
            help="The only directory policy files may be read from (default: none).",
        ),
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option("--max-body-bytes", min=1, help="Largest request body.")
    ] = None,
    max_agents: Annotated[
        int | None, typer.Option("--max-agents", min=1, help="Most agents per scenario.")
    ] = None,
    max_ticks: Annotated[
        int | None, typer.Option("--max-ticks", min=1, help="Most ticks per simulation.")
    ] = None,
    max_arrivals: Annotated[
        int | None,
        typer.Option("--max-arrivals", min=1, help="Most expected payments per simulation."),
    ] = None,
    max_simulations_per_client: Annotated[
        int | None,
        typer.Option(
            "--max-simulations-per-client", min=1, help="Live simulations per client address."
        ),
    ] = None,
    max_simulations: Annotated[
        int | None, typer.Option("--max-simulations", min=1, help="Live simulations in all.")
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
    debug: DebugOption = False,
) -> None:
    """Serve the HTTP/WebSocket API and the live page.

    Other limits are read from [bold]PAYSIM_API_*[/] variables (docs/api.md).
    """
    from paysim.api import ApiSettings, create_app, is_loopback_bind, settings_from_env

    if token is not None and not token.strip():
        token = None
    if not is_loopback_bind(host) and token is None:
        typer.echo(
            f"error: binding to {host} exposes the API beyond this machine, which needs a "
            "token: pass --token or set PAYSIM_API_TOKEN",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    options = {
        "token": token,
        "db": db,
        "policy_dir": policy_dir,
        "max_body_bytes": max_body_bytes,
        "max_agents": max_agents,
        "max_ticks": max_ticks,
        "max_arrivals": max_arrivals,
        "max_simulations_per_client": max_simulations_per_client,
        "max_simulations": max_simulations,
    }
    values = settings_from_env().model_dump()
    values.update({k: v for k, v in options.items() if v is not None})
    values["token"] = token
    settings = ApiSettings.model_validate(values)
    if policy_dir is not None and not policy_dir.is_dir():
        typer.echo(f"error: --policy-dir {policy_dir} is not a directory", err=True)
        raise typer.Exit(EXIT_USAGE)

    import uvicorn

    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"paysim API on http://{shown}:{port}/ (live page /, API docs /docs)"
        + ("; token required" if settings.token else ""),
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, ws_max_size=1 << 16)
