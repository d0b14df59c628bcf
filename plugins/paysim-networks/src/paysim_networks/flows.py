"""Payments on a synthetic network: how many, when, to whom, how large.

For each simulated day a bank sends ``Poisson(payments_per_day x its activity share)``
payments. Each payment's

* **tick** follows the intraday ``profile``: weights over equal segments of the day (a named
  shape or a list). ``afternoon`` rises towards the close, the shape of value settled over the
  Fedwire day, where activity concentrates in the late afternoon (Armantier, Arnold and
  McAndrews, 2008, "Changes in the timing distribution of Fedwire funds transfers", FRBNY
  Economic Policy Review 14(2)); ``u_shaped`` is busy at both ends of the day; ``uniform`` is
  flat. The numbers of the named shapes are illustrative, not estimates: give your own list
  to match your system;
* **receiver** is a neighbour of the sender in the network, by degree;
* **amount** is heavy-tailed: ``lognormal`` with the given median (cents) and ``amount_sigma``
  (log scale), or ``pareto`` with minimum ``amount_min`` and tail exponent ``pareto_alpha``
  (values below 2 give infinite variance, as in the very skewed value distributions of large-value
  systems, where a small share of payments carries most of the value). Amounts are whole cents in
  ``1..amount_max``. The defaults are illustrative; calibrate them to your data (the
  ``paysim-tabular`` replay is the way to use the data itself);
* **deadline** is ``deadline_ticks`` after arrival (uniform in ``[min, max]``);
* **priority** is 9 (urgent) with probability ``urgent_share``, else 5.

Draws use the stream seed paysim derives per agent and run (``derive_seed``), so they are
reproducible and independent across banks; the network uses ``topology_seed`` only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from paysim.exceptions import ScenarioError
from paysim_networks import topology

if TYPE_CHECKING:
    import pyarrow as pa

PROFILES: dict[str, tuple[float, ...]] = {
    "uniform": (1.0,),
    "afternoon": (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 1.9, 2.4),
    "u_shaped": (2.0, 1.5, 1.0, 0.7, 0.6, 0.6, 0.7, 1.0, 1.5, 2.0),
}
_COMMON: dict[str, object] = {
    "payments_per_day": 100.0,
    "topology_seed": 1,
    "profile": "uniform",
    "amount_distribution": "lognormal",
    "amount_median": 100_000,
    "amount_sigma": 1.5,
    "amount_min": 10_000,
    "pareto_alpha": 1.5,
    "amount_max": 10**12,
    "deadline_ticks": [10, 50],
    "urgent_share": 0.1,
}
_SPECIFIC: dict[str, dict[str, object]] = {
    "scale_free": {"links_per_node": 2},
    "core_periphery": {
        "core_size": 0,
        "periphery_links": 1,
        "periphery_density": 0.0,
        "core_weight": 5.0,
    },
}


def _bad(message: str) -> ScenarioError:
    return ScenarioError(message)


def _number(options: Mapping[str, object], key: str, low: float, high: float) -> float:
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"option `{key}`: expected a number in [{low:g}, {high:g}], found {value!r}")
    return float(value)


def _integer(options: Mapping[str, object], key: str, low: int, high: int) -> int:
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"option `{key}`: expected an integer in {low}..{high}, found {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Checked options of one network generator."""

    kind: str
    payments_per_day: float
    topology_seed: int
    profile: tuple[float, ...]
    amount_distribution: str
    amount_median: float
    amount_sigma: float
    amount_min: float
    pareto_alpha: float
    amount_max: int
    deadline_min: int
    deadline_max: int
    urgent_share: float
    links_per_node: int = 2
    core_size: int = 0
    periphery_links: int = 1
    periphery_density: float = 0.0
    core_weight: float = 5.0


def parse(kind: str, raw: Mapping[str, object]) -> Settings:
    """Checks the options of a ``scale_free`` or ``core_periphery`` stream."""
    from paysim.config.suggest import did_you_mean

    defaults = {**_COMMON, **_SPECIFIC[kind]}
    for key in raw:
        if key not in defaults:
            hint = did_you_mean(str(key), defaults)
            raise _bad(
                f"unknown option `{key}` of `{kind}`; options are {', '.join(defaults)}"
                + (f" ({hint})" if hint else "")
            )
    o = {**defaults, **raw}
    profile = o["profile"]
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise _bad(
                f"option `profile`: expected one of {', '.join(PROFILES)} or a list of weights"
            )
        weights = PROFILES[profile]
    elif (
        isinstance(profile, Sequence)
        and profile
        and all(isinstance(w, int | float) and not isinstance(w, bool) and w >= 0 for w in profile)
        and sum(float(w) for w in profile) > 0
    ):
        weights = tuple(float(w) for w in profile)
    else:
        raise _bad(f"option `profile`: expected a name or a list of weights ≥ 0, found {profile!r}")
    window = o["deadline_ticks"]
    if not (
        isinstance(window, Sequence)
        and len(window) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in window)
        and 0 <= window[0] <= window[1]
    ):
        raise _bad(
            f"option `deadline_ticks`: expected [min, max] with 0 ≤ min ≤ max, found {window!r}"
        )
    distribution = o["amount_distribution"]
    if distribution not in ("lognormal", "pareto"):
        raise _bad(
            f"option `amount_distribution`: expected lognormal or pareto, found {distribution!r}"
        )
    settings = Settings(
        kind=kind,
        payments_per_day=_number(o, "payments_per_day", 0, 1e8),
        topology_seed=_integer(o, "topology_seed", 0, 2**63 - 1),
        profile=weights,
        amount_distribution=str(distribution),
        amount_median=_number(o, "amount_median", 1, 1e15),
        amount_sigma=_number(o, "amount_sigma", 0, 10),
        amount_min=_number(o, "amount_min", 1, 1e15),
        pareto_alpha=_number(o, "pareto_alpha", 0.1, 100),
        amount_max=_integer(o, "amount_max", 1, 10**15),
        deadline_min=int(window[0]),
        deadline_max=int(window[1]),
        urgent_share=_number(o, "urgent_share", 0, 1),
    )
    if kind == "scale_free":
        return replace(settings, links_per_node=_integer(o, "links_per_node", 1, 1000))
    return replace(
        settings,
        core_size=_integer(o, "core_size", 0, 100_000),
        periphery_links=_integer(o, "periphery_links", 1, 100_000),
        periphery_density=_number(o, "periphery_density", 0, 1),
        core_weight=_number(o, "core_weight", 0.001, 1e6),
    )


_networks: dict[tuple[object, ...], topology.Network] = {}


def network(settings: Settings, n: int) -> topology.Network:
    """The network of ``settings`` over ``n`` banks (cached: every bank of a run asks)."""
    key = (
        n,
        settings.kind,
        settings.topology_seed,
        settings.links_per_node,
        settings.core_size,
        settings.periphery_links,
        settings.periphery_density,
        settings.core_weight,
    )
    found = _networks.get(key)
    if found is None:
        if settings.kind == "scale_free":
            found = topology.scale_free(n, settings.links_per_node, settings.topology_seed)
        else:
            core = settings.core_size or max(2, n // 10)
            found = topology.core_periphery(
                n,
                core,
                settings.periphery_links,
                settings.periphery_density,
                settings.core_weight,
                settings.topology_seed,
            )
        if len(_networks) >= 8:
            _networks.pop(next(iter(_networks)))
        _networks[key] = found
    return found


def tick_weights(profile: tuple[float, ...], ticks_per_day: int) -> np.ndarray:
    """Probability of each tick of the day: segment ``s`` of ``len(profile)`` equal segments
    gets weight ``profile[s]``, shared evenly by its ticks."""
    segment = (np.arange(ticks_per_day) * len(profile)) // ticks_per_day
    weights = np.asarray(profile, dtype=float)[segment]
    counts = np.bincount(segment, minlength=len(profile))
    weights = weights / counts[segment]
    result: np.ndarray = weights / weights.sum()
    return result


def amounts(settings: Settings, rng: np.random.Generator, count: int) -> np.ndarray:
    """Heavy-tailed amounts in whole cents, ``1..amount_max``."""
    if settings.amount_distribution == "pareto":
        raw = settings.amount_min * (1.0 + rng.pareto(settings.pareto_alpha, count))
    else:
        raw = settings.amount_median * np.exp(settings.amount_sigma * rng.standard_normal(count))
    result: np.ndarray = np.clip(np.rint(raw), 1, settings.amount_max).astype(np.int64)
    return result


class NetworkArrivals:
    """An agent's payments on a ``scale_free`` or ``core_periphery`` network."""

    def __init__(self, kind: str) -> None:
        self.name = kind

    def generate(
        self, scenario: object, agent_id: str, options: Mapping[str, object], seed: int
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        settings = parse(self.name, options)
        agents = [str(a.id) for a in getattr(scenario, "agents", [])]
        simulation = getattr(scenario, "simulation", None)
        tpd = int(getattr(simulation, "ticks_per_day", 1))
        days = int(getattr(simulation, "num_days", 1))
        net = network(settings, len(agents))
        me = agents.index(agent_id)
        receivers = net.neighbours[me]
        if receivers.size == 0:
            return
        rate = settings.payments_per_day * net.activity[me] / net.activity.sum()
        p_receiver = net.receiver_weights(me)
        p_tick = tick_weights(settings.profile, tpd)
        names = pa.array(agents, pa.string())
        rng = np.random.default_rng(seed)
        for day in range(days):
            count = int(rng.poisson(rate))
            if count == 0:
                continue
            ticks = np.sort(rng.choice(tpd, size=count, p=p_tick)) + day * tpd
            to = receivers[rng.choice(receivers.size, size=count, p=p_receiver)]
            offsets = rng.integers(settings.deadline_min, settings.deadline_max + 1, size=count)
            urgent = rng.random(count) < settings.urgent_share
            yield pa.RecordBatch.from_pydict(
                {
                    "tick": pa.array(ticks, pa.int64()),
                    "sender": pa.DictionaryArray.from_arrays(
                        pa.array(np.full(count, me, dtype=np.int32)), names
                    ),
                    "receiver": pa.DictionaryArray.from_arrays(
                        pa.array(to.astype(np.int32)), names
                    ),
                    "amount": pa.array(amounts(settings, rng, count)),
                    "deadline_tick": pa.array(ticks + offsets, pa.int64()),
                    "priority": pa.array(np.where(urgent, 9, 5), pa.int64()),
                }
            )
