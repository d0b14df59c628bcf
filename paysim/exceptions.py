"""The one exception hierarchy of paysim (INTERFACES.md §2).

User errors carry where they happened: the file and the JSON Pointer inside it, so the CLI can
print one clear paragraph and exit with code 2 instead of a traceback.
"""

from __future__ import annotations


class PaysimError(Exception):
    """Base class of every error paysim raises on purpose."""


class ScenarioError(PaysimError):
    """A scenario cannot be read or is invalid."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        pointer: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.pointer = pointer
        self.suggestion = suggestion
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.pointer is not None:
            where += f" at {self.pointer or '/'}"
        text = f"{where}: {self.message}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text


class PolicyError(PaysimError):
    """A policy document is invalid; ``problems`` lists ``{code, message, pointer, suggestion}``.

    ``file`` names the policy document (a path, ``library:NAME``, ``SOURCE:NAME`` or
    ``<inline>``); ``agent_id`` the agent it was meant for, when it was given for one.
    """

    def __init__(
        self,
        message: str,
        *,
        problems: list[dict[str, object]] | None = None,
        file: str | None = None,
        agent_id: str | None = None,
    ) -> None:
        self.message = message
        self.problems: list[dict[str, object]] = list(problems or [])
        self.file = file
        self.agent_id = agent_id
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.message if self.file is None else f"{self.file}: {self.message}"
        first = self.problems[0] if self.problems else None
        if first is not None:
            text += f" (at {first.get('pointer') or '/'}: {first.get('message')})"
        return text


class ArgumentError(PaysimError, ValueError):
    """An argument of a paysim function is unusable: an unknown key, an integer out of range, a
    list of the wrong length, a tick already passed. (Also a ``ValueError``, which such mistakes
    were before they had a class of their own.)"""


class SimulationError(PaysimError):
    """The engine failed at run time."""


class PolicyEvaluationError(SimulationError):
    """A policy evaluation failed under ``on_policy_error: fail``."""

    def __init__(
        self,
        message: str,
        *,
        policy_id: str | None = None,
        agent_id: str | None = None,
        tree: str | None = None,
        node_id: str | None = None,
        pointer: str | None = None,
        tx_id: str | None = None,
        tick: int | None = None,
    ) -> None:
        self.message = message
        self.policy_id = policy_id
        self.agent_id = agent_id
        self.tree = tree
        self.node_id = node_id
        self.pointer = pointer
        self.tx_id = tx_id
        self.tick = tick
        super().__init__(message)


class StoreError(PaysimError):
    """The database cannot be read or written."""


class StoreNotFoundError(StoreError):
    """The database file a command was pointed at does not exist (bad input: exit 2, like any
    other file that is not there; a file that exists but cannot be used is a
    :class:`StoreError`, exit 1)."""
