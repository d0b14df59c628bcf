"""What the server offers besides simulations: its limits, the policy library, policy
validation, plugins and example scenarios."""

from __future__ import annotations

import json

from anyio import to_thread
from fastapi import APIRouter

from paysim import __version__, _core
from paysim.api.deps import SettingsDep
from paysim.api.errors import from_library, not_found, responses
from paysim.api.examples import example_description, example_names, example_text
from paysim.api.inputs import parse_scenario
from paysim.api.models import (
    ExampleScenario,
    LibraryPolicy,
    PluginInfo,
    PolicyReport,
    ServerInfo,
    ValidatePolicy,
)
from paysim.api.settings import ApiSettings
from paysim.exceptions import PaysimError
from paysim.policy import library_dir, validate_policy

router = APIRouter(prefix="/api", tags=["catalog"])

_LIMITS = (
    "max_body_bytes",
    "max_agents",
    "max_ticks",
    "max_arrivals",
    "max_simulations_per_client",
    "max_simulations",
    "max_events_page",
    "max_retained_events",
    "max_tick_delay_ms",
    "max_ticks_per_request",
)


@router.get("/info", response_model=ServerInfo, responses=responses(), summary="Version, limits")
async def info(settings: SettingsDep) -> ServerInfo:
    return ServerInfo(
        paysim_version=__version__,
        engine_version=_core.core_version(),
        token_required=settings.token_required,
        limits={name: int(getattr(settings, name)) for name in _LIMITS},
    )


def _library() -> list[LibraryPolicy]:
    out = []
    for path in sorted(library_dir().glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict):
            continue
        params = doc.get("parameters")
        description = doc.get("description")
        policy_id = doc.get("policy_id")
        out.append(
            LibraryPolicy(
                name=path.stem,
                policy_id=policy_id if isinstance(policy_id, str) else None,
                description=description if isinstance(description, str) else None,
                parameters=params if isinstance(params, dict) else {},
            )
        )
    return out


@router.get(
    "/policies",
    response_model=list[LibraryPolicy],
    responses=responses(),
    summary="The policy library",
)
async def policies() -> list[LibraryPolicy]:
    return await to_thread.run_sync(_library)


@router.get(
    "/policies/{name}",
    response_model=dict[str, object],
    responses=responses(404),
    summary="One library policy document",
)
async def policy(name: str) -> dict[str, object]:
    names = {p.name for p in await to_thread.run_sync(_library)}
    if name not in names:
        raise not_found(f"no library policy `{name}`")
    doc: dict[str, object] = json.loads((library_dir() / f"{name}.json").read_text("utf-8"))
    return doc


def _validate(body: ValidatePolicy, settings: ApiSettings) -> PolicyReport:
    scenario = None
    if body.scenario is not None:
        scenario, _ = parse_scenario(body.scenario, source=None, base_dir=None, settings=settings)
    report = validate_policy(body.policy, scenario=scenario)
    return PolicyReport.model_validate(report.to_dict())


@router.post(
    "/policies/validate",
    response_model=PolicyReport,
    responses=responses(),
    summary="Validate a policy document",
)
async def validate(body: ValidatePolicy, settings: SettingsDep) -> PolicyReport:
    """The engine's validator, as ``paysim validate-policy --format json``: an invalid policy
    is a report with ``valid: false`` (200); only an invalid request or scenario is a 422."""
    try:
        return await to_thread.run_sync(lambda: _validate(body, settings))
    except PaysimError as exc:
        raise from_library(exc) from None


def _plugins() -> list[PluginInfo]:
    """Every plugin, built-ins included, as ``paysim plugins --all --format json`` lists them."""
    from paysim.plugin_listing import describe_plugins

    entries, _ = describe_plugins(include_builtins=True)
    return [PluginInfo.model_validate(entry) for entry in entries]


@router.get("/plugins", response_model=list[PluginInfo], responses=responses(), summary="Plugins")
async def plugins() -> list[PluginInfo]:
    return await to_thread.run_sync(_plugins)


@router.get(
    "/scenarios",
    response_model=list[ExampleScenario],
    responses=responses(),
    summary="Example scenarios",
)
async def scenarios(settings: SettingsDep) -> list[ExampleScenario]:
    def read() -> list[ExampleScenario]:
        return [
            ExampleScenario(name=n, description=example_description(example_text(settings, n)))
            for n in example_names(settings)
        ]

    return await to_thread.run_sync(read)


@router.get(
    "/scenarios/{name}",
    response_model=ExampleScenario,
    responses=responses(404),
    summary="One example scenario, with its YAML text",
)
async def scenario(name: str, settings: SettingsDep) -> ExampleScenario:
    text = await to_thread.run_sync(lambda: example_text(settings, name))
    return ExampleScenario(name=name, description=example_description(text), text=text)
