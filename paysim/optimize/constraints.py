"""Constraints of ``paysim optimize``: comparisons over run-summary metrics, parsed without
``eval``.

Grammar (whitespace is free)::

    constraint := expr ("<=" | ">=" | "==" | "<" | ">") expr
    expr       := term (("+" | "-") term)*
    term       := factor (("*" | "/") factor)*
    factor     := NUMBER | path | "(" expr ")" | "-" factor
    path       := NAME ("." NAME | "[" STRING "]")*

A path names a number of the run summary (INTERFACES.md §1): ``totals.settlement_rate``,
``costs.eod_penalty``, ``agents.BANK_A.costs.total``; a bare name is a key of ``totals``
(``settlement_rate``). Agent ids with dots are matched whole (``agents.BANK.A.costs.total``);
ids with other characters use brackets (``agents["BANK-1"].costs.total``). Every path is checked
against the summary's shape and the scenario's agents before any run.

Each side is averaged over the evaluation's seeds, then the comparison becomes Optuna's
constraint value (feasible when ≤ 0): ``a <= b`` → ``a − b``; ``a >= b`` → ``b − a``;
``a == b`` → ``|a − b|``; the strict forms add a tiny margin so equality is infeasible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from paysim.config.suggest import did_you_mean

Summary = Mapping[str, object]
_STRICT_MARGIN = 1e-12
_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<str>\"[^\"]*\"|'[^']*')"
    r"|(?P<op><=|>=|==|[<>+\-*/().\[\]]))"
)
_MAX_LENGTH = 1_000
_MAX_DEPTH = 50


class ConstraintSyntaxError(ValueError):
    """A constraint that cannot be parsed or names an unknown metric; ``column`` is 1-based."""

    def __init__(self, message: str, column: int, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.suggestion = suggestion


Node = Callable[[Summary], float]


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: ``value(summaries)`` is Optuna's constraint value (≤ 0 feasible)."""

    text: str
    op: str
    left: Node
    right: Node
    paths: tuple[tuple[str, ...], ...]

    def sides(self, summary: Summary) -> tuple[float, float]:
        return self.left(summary), self.right(summary)

    def value(self, summaries: Sequence[Summary]) -> float:
        """The constraint value of the seed-averaged sides."""
        n = max(len(summaries), 1)
        a = sum(self.left(s) for s in summaries) / n
        b = sum(self.right(s) for s in summaries) / n
        return compare(self.op, a, b)


def compare(op: str, a: float, b: float) -> float:
    """Optuna's constraint value for ``a op b``."""
    if op == "<=":
        return a - b
    if op == ">=":
        return b - a
    if op == "==":
        return abs(a - b)
    if op == "<":
        return a - b if a < b else max(a - b, _STRICT_MARGIN)
    return b - a if a > b else max(b - a, _STRICT_MARGIN)


# ---------------------------------------------------------------------------------------------
# The shape of the summary: which paths name numbers.


def _summary_keys() -> tuple[set[str], set[str], set[str]]:
    from paysim.summary_model import AgentSummary, Costs, Totals

    return (
        set(Totals.model_fields),
        set(Costs.model_fields),
        {k for k in AgentSummary.model_fields if k != "costs"},
    )


def resolve_path(parts: Sequence[str], agents: Sequence[str]) -> tuple[str, ...]:
    """The canonical summary path of ``parts``; raises ``KeyError`` with a message."""
    totals, costs, agent_keys = _summary_keys()
    if len(parts) == 1:
        if parts[0] in totals:
            return ("totals", parts[0])
        raise KeyError(
            f"`{parts[0]}` is not a key of the summary's totals",
            did_you_mean(parts[0], sorted(totals)),
        )
    head, rest = parts[0], list(parts[1:])
    if head == "totals":
        if len(rest) == 1 and rest[0] in totals:
            return ("totals", rest[0])
        raise KeyError(
            f"`totals.{'.'.join(rest)}` is not in the summary",
            did_you_mean(".".join(rest), sorted(totals)),
        )
    if head == "costs":
        if len(rest) == 1 and rest[0] in costs:
            return ("costs", rest[0])
        raise KeyError(
            f"`costs.{'.'.join(rest)}` is not a cost component",
            did_you_mean(".".join(rest), sorted(costs)),
        )
    if head == "agents":
        for cut in range(len(rest), 0, -1):
            agent = ".".join(rest[:cut])
            if agent in agents:
                tail = rest[cut:]
                if len(tail) == 1 and tail[0] in agent_keys:
                    return ("agents", agent, tail[0])
                if len(tail) == 2 and tail[0] == "costs" and tail[1] in costs:
                    return ("agents", agent, "costs", tail[1])
                raise KeyError(
                    f"`{'.'.join(tail) or '(nothing)'}` is not a number of an agent's summary "
                    f"(expected one of {', '.join(sorted(agent_keys))} or costs.COMPONENT)",
                    did_you_mean(".".join(tail), sorted(agent_keys)),
                )
        raise KeyError(
            f"no agent `{'.'.join(rest)}` in the scenario (nor any prefix of it)",
            did_you_mean(rest[0] if rest else "", list(agents)),
        )
    raise KeyError(
        f"`{'.'.join(parts)}` is not in the summary (paths start with totals, costs or agents)",
        did_you_mean(head, ["totals", "costs", "agents"]),
    )


def _reader(path: tuple[str, ...]) -> Node:
    def read(summary: Summary) -> float:
        node: object = summary
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"the run summary has no `{'.'.join(path)}`")
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise KeyError(f"`{'.'.join(path)}` is not a number")
        return float(node)

    return read


# ---------------------------------------------------------------------------------------------
# Parsing


class _Parser:
    def __init__(self, text: str, agents: Sequence[str]) -> None:
        self.text = text
        self.agents = agents
        self.tokens: list[tuple[str, str, int]] = []
        self.pos = 0
        self.paths: list[tuple[str, ...]] = []
        self.depth = 0
        i = 0
        while i < len(text):
            if text[i:].strip() == "":
                break
            m = _TOKEN.match(text, i)
            if m is None or m.lastgroup is None:
                col = i + 1 + (len(text[i:]) - len(text[i:].lstrip()))
                raise ConstraintSyntaxError(f"unexpected character {text[col - 1]!r}", col)
            kind = m.lastgroup
            start = m.start(kind)
            self.tokens.append((kind, m.group(kind), start + 1))
            i = m.end()

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def fail(self, message: str, suggestion: str | None = None) -> ConstraintSyntaxError:
        tok = self.peek()
        column = tok[2] if tok else len(self.text) + 1
        return ConstraintSyntaxError(message, column, suggestion)

    def take(self, value: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] == value:
            self.pos += 1
            return True
        return False

    def constraint(self) -> tuple[str, Node, Node]:
        left = self.expr()
        tok = self.peek()
        if tok is None or tok[1] not in ("<=", ">=", "==", "<", ">"):
            raise self.fail("expected a comparison: <=, >=, ==, < or >")
        self.pos += 1
        right = self.expr()
        if self.peek() is not None:
            raise self.fail("unexpected text after the comparison")
        return tok[1], left, right

    def expr(self) -> Node:
        node = self.term()
        while True:
            if self.take("+"):
                node = _binary(node, self.term(), lambda a, b: a + b)
            elif self.take("-"):
                node = _binary(node, self.term(), lambda a, b: a - b)
            else:
                return node

    def term(self) -> Node:
        node = self.factor()
        while True:
            if self.take("*"):
                node = _binary(node, self.factor(), lambda a, b: a * b)
            elif self.take("/"):
                node = _binary(node, self.factor(), _divide)
            else:
                return node

    def factor(self) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.fail("the expression is nested too deeply")
        try:
            tok = self.peek()
            if tok is None:
                raise self.fail("expected a number, a metric or `(`; the text ended")
            kind, value, _ = tok
            if kind == "num":
                self.pos += 1
                number = float(value)
                if not math.isfinite(number):
                    raise self.fail("numbers must be finite")
                return lambda _s: number
            if self.take("-"):
                inner = self.factor()
                return lambda s: -inner(s)
            if self.take("("):
                node = self.expr()
                if not self.take(")"):
                    raise self.fail("expected `)`")
                return node
            if kind == "name":
                return self.path()
            raise self.fail(f"expected a number, a metric or `(`; found {value!r}")
        finally:
            self.depth -= 1

    def path(self) -> Node:
        start = self.peek()
        assert start is not None
        parts = [start[1]]
        self.pos += 1
        while True:
            if self.take("."):
                tok = self.peek()
                if tok is None or tok[0] not in ("name", "num"):
                    raise self.fail("expected a name after `.`")
                parts.append(tok[1])
                self.pos += 1
            elif self.take("["):
                tok = self.peek()
                if tok is None or tok[0] != "str":
                    raise self.fail('expected a quoted name inside [ ], e.g. ["BANK-1"]')
                parts.append(tok[1][1:-1])
                self.pos += 1
                if not self.take("]"):
                    raise self.fail("expected `]`")
            else:
                break
        try:
            path = resolve_path(parts, self.agents)
        except KeyError as exc:
            message, suggestion = exc.args if len(exc.args) == 2 else (str(exc), None)
            raise ConstraintSyntaxError(str(message), start[2], suggestion) from None
        self.paths.append(path)
        return _reader(path)


def _binary(a: Node, b: Node, f: Callable[[float, float], float]) -> Node:
    return lambda s: f(a(s), b(s))


def _divide(a: float, b: float) -> float:
    if b == 0:
        return math.copysign(math.inf, a) if a != 0 else 0.0
    return a / b


def parse_constraint(text: str, agents: Sequence[str]) -> Constraint:
    """Parses one constraint; raises :class:`ConstraintSyntaxError` with the column."""
    if len(text) > _MAX_LENGTH:
        raise ConstraintSyntaxError(f"a constraint is at most {_MAX_LENGTH} characters", 1)
    if not text.strip():
        raise ConstraintSyntaxError("empty constraint", 1)
    parser = _Parser(text, agents)
    op, left, right = parser.constraint()
    return Constraint(text, op, left, right, tuple(parser.paths))
