"""paysim plugin ``networks``: arrival generators on synthetic interbank networks.

Two generators, ``scale_free`` and ``core_periphery`` (see :mod:`paysim_networks.topology` for
the networks and :mod:`paysim_networks.flows` for the payments drawn on them). This module is
what the entry point loads at ``paysim`` start-up, so it imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable

from paysim.hookspecs import ArrivalGenerator, hookimpl

__version__ = "0.1.0"


@hookimpl
def paysim_register_arrival_generators(register: Callable[[ArrivalGenerator], None]) -> None:
    from paysim_networks.flows import NetworkArrivals

    register(NetworkArrivals("scale_free"))
    register(NetworkArrivals("core_periphery"))
