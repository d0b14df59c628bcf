"""Synthetic interbank networks: who pays whom, and how much activity each bank has.

Two constructions, both deterministic for a given ``topology_seed`` (the network is part of the
scenario, not of a run: every seed of a study sees the same network):

* :func:`scale_free` grows the network by preferential attachment (Barabási and Albert, 1999,
  "Emergence of scaling in random networks", Science 286, 509-512): banks join in scenario order
  and link to ``links_per_node`` existing banks chosen with probability proportional to their
  degree. Early banks become hubs and the degree distribution has a power-law tail, the shape
  Soramäki, Bech, Arnold, Glass and Beyeler (2007, "The topology of interbank payment flows",
  Physica A 379(1), 317-333) report for the Fedwire Funds network over a substantial range of
  degrees, together with a low average path length despite low connectivity.
* :func:`core_periphery` builds a small, densely connected core of money-centre banks to which
  every other bank connects, the structure the same paper describes for Fedwire and that Craig
  and von Peter (2014, "Interbank tiering and money center banks", Journal of Financial
  Intermediation 23(3), 322-347) identify in interbank markets: core banks are linked to each
  other, periphery banks to a few core banks and rarely to each other.

Links are used in both directions (correspondent relationships carry payments both ways). A
bank's *activity* (its share of the system's payments as a sender) is its degree, times
``core_weight`` for core banks; a payment's receiver is drawn among the sender's neighbours with
probability proportional to their degree, so hubs receive more, as in the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Network:
    """Neighbours and weights per bank (indices into the scenario's agent list)."""

    neighbours: tuple[np.ndarray, ...]
    """Per bank, the sorted indices of the banks it is linked to."""
    activity: np.ndarray
    """Per bank, its relative activity as a sender (> 0 for every linked bank)."""
    degree: np.ndarray
    core: np.ndarray
    """Boolean mask of core banks (hubs for ``scale_free``: the ``links_per_node + 1`` seeds)."""

    def receiver_weights(self, bank: int) -> np.ndarray:
        """Probabilities of each neighbour of ``bank`` being the receiver of its payment."""
        weights: np.ndarray = self.degree[self.neighbours[bank]].astype(float)
        result: np.ndarray = weights / weights.sum()
        return result


def _network(n: int, edges: set[tuple[int, int]], core: np.ndarray, core_weight: float) -> Network:
    adjacency: list[set[int]] = [set() for _ in range(n)]
    for a, b in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    neighbours = tuple(np.array(sorted(s), dtype=np.int64) for s in adjacency)
    degree = np.array([len(s) for s in adjacency], dtype=np.int64)
    activity = degree.astype(float) * np.where(core, core_weight, 1.0)
    return Network(neighbours, activity, degree, core)


def scale_free(n: int, links_per_node: int, seed: int) -> Network:
    """Preferential attachment over ``n`` banks, ``links_per_node`` links per joining bank."""
    if n < 2:
        raise ValueError("a network needs at least two banks")
    m = max(1, min(links_per_node, n - 1))
    rng = np.random.default_rng(seed)
    seeds = m + 1
    edges = {(a, b) for a in range(seeds) for b in range(a + 1, seeds)}
    # One entry per link end: choosing uniformly from it is choosing by degree.
    ends: list[int] = [v for e in edges for v in e]
    for new in range(seeds, n):
        chosen: set[int] = set()
        while len(chosen) < m:
            chosen.add(ends[int(rng.integers(len(ends)))])
        for old in sorted(chosen):
            edges.add((old, new))
            ends.extend((old, new))
    core = np.zeros(n, dtype=bool)
    core[:seeds] = True
    return _network(n, edges, core, 1.0)


def core_periphery(
    n: int,
    core_size: int,
    periphery_links: int,
    periphery_density: float,
    core_weight: float,
    seed: int,
) -> Network:
    """The first ``core_size`` banks form a complete core; every other bank links to
    ``periphery_links`` core banks (uniformly chosen) and to each other periphery bank with
    probability ``periphery_density``."""
    if n < 2:
        raise ValueError("a network needs at least two banks")
    k = max(1, min(core_size, n))
    rng = np.random.default_rng(seed)
    edges = {(a, b) for a in range(k) for b in range(a + 1, k)}
    for bank in range(k, n):
        links = min(max(1, periphery_links), k)
        for hub in sorted(rng.choice(k, size=links, replace=False).tolist()):
            edges.add((int(hub), bank))
    if periphery_density > 0:
        for a in range(k, n):
            draws = rng.random(n - a - 1)
            for offset in np.flatnonzero(draws < periphery_density).tolist():
                edges.add((a, a + 1 + int(offset)))
    core = np.zeros(n, dtype=bool)
    core[:k] = True
    return _network(n, edges, core, core_weight)
