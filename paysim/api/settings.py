"""Settings of the HTTP API: the token, the limits and the directories it may read.

One frozen pydantic model, :class:`ApiSettings`. ``paysim serve`` builds it from its options;
``uvicorn paysim.api:app`` builds it from the environment (``PAYSIM_API_<FIELD>``, e.g.
``PAYSIM_API_TOKEN``, ``PAYSIM_API_MAX_AGENTS=50``), so every limit is configurable either way.
Routes receive it through a FastAPI dependency (:func:`paysim.api.deps.settings`).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paysim.exceptions import PaysimError

ENV_PREFIX = "PAYSIM_API_"

Positive = Annotated[int, Field(ge=1)]


def _examples_dir() -> Path:
    # The repository's example scenarios, beside the package (an editable install), as the
    # policy library is found (paysim.policy.sources.library_dir).
    return Path(__file__).resolve().parent.parent.parent / "scenarios"


class ApiSettings(BaseModel):
    """What the API allows. Every field is also read from ``PAYSIM_API_<FIELD>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str | None = Field(
        default=None,
        min_length=1,
        description="Bearer token every /api and /ws request must carry; None: no token, and "
        "then only loopback connections with a loopback Host header are served.",
    )
    local_hosts: tuple[str, ...] = Field(
        default=("localhost", "127.0.0.1", "::1"),
        description="Host names accepted as loopback when there is no token (127.0.0.0/8 and "
        "::1 always are).",
    )
    max_body_bytes: Positive = Field(default=1 << 20, description="Largest request body (413).")
    max_agents: Positive = Field(default=500, description="Most agents in one scenario (422).")
    max_ticks: Positive = Field(
        default=200_000, description="Most ticks (days × ticks per day) in one simulation (422)."
    )
    max_arrivals: Positive = Field(
        default=2_000_000,
        description="Most payments one simulation may expect to generate: the peak Poisson "
        "rates of its streams over the whole episode, plus scheduled payments (422).",
    )
    max_simulations_per_client: Positive = Field(
        default=8, description="Live simulations one client address may hold (429)."
    )
    max_simulations: Positive = Field(default=64, description="Live simulations in all (429).")
    idle_seconds: Positive = Field(
        default=3600, description="A simulation untouched this long is deleted."
    )
    max_events_page: Positive = Field(default=10_000, description="Most events per page.")
    max_retained_events: Positive = Field(
        default=2_000_000,
        description="Events kept per simulation for /events and WebSocket catch-up; older "
        "ones are released (asking for them answers 410).",
    )
    max_tick_delay_ms: Positive = Field(
        default=2_000, description="Largest pause between ticks a run may ask for."
    )
    max_ticks_per_request: Positive = Field(
        default=10_000, description="Most ticks one /tick request may process."
    )
    ws_max_pending_bytes: Positive = Field(
        default=8 << 20,
        description="Messages queued for one WebSocket client beyond this: the client is "
        "disconnected (close code 1013) and may resume with since_seq.",
    )
    max_nodes: Positive = Field(
        default=200_000,
        description="Most values (after YAML aliases are expanded) in one scenario (422).",
    )
    policy_dir: Path | None = Field(
        default=None,
        description="The only directory policy files may be read from (None: no policy files, "
        "only library, plugin-source and inline policies).",
    )
    examples_dir: Path | None = Field(
        default_factory=_examples_dir, description="Example scenarios offered by /api/scenarios."
    )
    db: Path | None = Field(
        default=None, description="DuckDB store for stored runs (reserved for /api/runs)."
    )

    @property
    def token_required(self) -> bool:
        return self.token is not None

    def is_local(self, host: str | None) -> bool:
        """Whether ``host`` (a Host header name or a socket address) is loopback."""
        if host is None:
            return False
        name = host.strip().lower()
        if name.startswith("[") and "]" in name:
            name = name[1 : name.index("]")]
        if name in self.local_hosts:
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False


def is_loopback_bind(host: str) -> bool:
    """Whether binding to ``host`` only accepts connections from this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def settings_from_env(environ: dict[str, str] | None = None) -> ApiSettings:
    """Settings from ``PAYSIM_API_*`` variables (unset ones keep their defaults)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, field in ApiSettings.model_fields.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        if name == "local_hosts":
            values[name] = tuple(h.strip() for h in raw.split(",") if h.strip())
        elif field.annotation in (Path | None,) and raw.lower() == "none":
            values[name] = None
        else:
            values[name] = raw
    try:
        return ApiSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        var = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else ENV_PREFIX
        raise PaysimError(f"invalid {var}: {first['msg']}") from None
