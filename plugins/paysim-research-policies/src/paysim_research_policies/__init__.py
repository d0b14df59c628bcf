"""paysim plugin: the ``research`` policy source.

``research:NAME`` resolves to one of the policy documents shipped in ``policies/`` (each cites
the paper it encodes in its ``metadata``). The module is the plugin object of the entry point
``research``; it imports nothing heavy, since ``paysim`` loads it at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources

from paysim.hookspecs import PolicySource, hookimpl

__version__ = "0.1.0"


class ResearchPolicies:
    """Policies from the literature, by ``policy_id``."""

    name = "research"

    def names(self) -> list[str]:
        folder = resources.files(__package__).joinpath("policies")
        return sorted(
            p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
        )

    def resolve(self, ref: str) -> dict[str, object]:
        from paysim.config.suggest import did_you_mean
        from paysim.exceptions import ScenarioError

        if ref not in self.names():
            listed = ", ".join(self.names())
            raise ScenarioError(
                f"no research policy named `{ref}`; research policies: {listed}",
                suggestion=did_you_mean(ref, self.names()),
            )
        text = resources.files(__package__).joinpath("policies", f"{ref}.json").read_text("utf-8")
        document: dict[str, object] = json.loads(text)
        return document


@hookimpl
def paysim_register_policy_sources(register: Callable[[PolicySource], None]) -> None:
    register(ResearchPolicies())
