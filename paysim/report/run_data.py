"""What the run report reads from the store: small per-tick, per-day and per-bank aggregates.

Large runs are summarised in DuckDB, never by loading their events: every query below reads the
store's derived tables (``tick_metrics``, ``agent_tick_metrics``, ``daily_agent_metrics``,
``daily_metrics``, ``payments``, ``agents``) and folds them to at most
:data:`~paysim.report.axis.MAX_POINTS` points per series, or streams the few event types no
derived table covers (LSM groups, collateral and credit-line changes, policy changes) through
:meth:`paysim.store.Store.event_batches` with an event-type filter. Which query feeds which
figure is written beside each function and in ``docs/report.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from paysim.report.axis import OTHERS, BankRank, FloatArray, IntArray, TickAxis, top_banks
from paysim.report.run_events import CreditLines, LsmGroups, PolicyChange, read_sparse_events
from paysim.store import Store
from paysim.store.rows import COST_KEYS

COMPONENTS = COST_KEYS
"""Cost components, in the order of the run summary."""


@dataclass(frozen=True)
class BankBalances:
    """A bank's end-of-tick balance per bucket (lowest and highest), with its credit lines."""

    agent_id: str
    low: FloatArray
    high: FloatArray
    unsecured_cap: FloatArray
    collateral_credit: FloatArray


@dataclass(frozen=True)
class OthersBalances:
    """The banks not shown one by one: per bucket, the lowest balance of any of them, the
    median of their lowest balances, and the highest balance of any of them."""

    count: int
    low: FloatArray
    median: FloatArray
    high: FloatArray


@dataclass(frozen=True)
class Balances:
    axis: TickAxis
    banks: list[BankBalances]
    others: OthersBalances | None


@dataclass(frozen=True)
class Queues:
    """Original payments arrived and not yet settled or dropped at the end of a tick (that is,
    in a bank's queue or the central queue), per sender group; per bucket the group's largest
    end-of-tick count and value."""

    axis: TickAxis
    groups: list[str]
    count: dict[str, FloatArray]
    value: dict[str, FloatArray]


@dataclass(frozen=True)
class Flows:
    """Per tick of the axis (not folded): arrivals and settlements."""

    axis: TickAxis
    arrivals: IntArray
    arrival_value: IntArray
    settled: IntArray
    settled_value: IntArray
    """Original payments fully settled in the tick, and their amounts (``payments``)."""
    settlements: IntArray
    moved_value: IntArray
    """Settlement events (pieces count) and the value they moved (``tick_metrics``)."""
    lsm_settled: IntArray


@dataclass(frozen=True)
class Costs:
    """Cost per bank per day by component, cents: ``cells[(day, agent)][component]``."""

    days: list[int]
    agents: list[str]
    cells: dict[tuple[int, str], dict[str, int]]

    def by_agent(self, agent: str) -> dict[str, int]:
        out = dict.fromkeys((*COMPONENTS, "total"), 0)
        for day in self.days:
            for key, value in self.cells.get((day, agent), {}).items():
                out[key] += value
        return out

    def by_day(self, day: int) -> dict[str, int]:
        out = dict.fromkeys((*COMPONENTS, "total"), 0)
        for agent in self.agents:
            for key, value in self.cells.get((day, agent), {}).items():
                out[key] += value
        return out


@dataclass(frozen=True)
class Delay:
    """One of the largest delays: a settled payment (``delay`` = settlement − arrival) or one
    still unsettled at the end of the stored days (``delay`` = ticks waited so far)."""

    tx_id: str
    sender: str
    receiver: str
    amount: int
    arrival_tick: int
    deadline_tick: int
    status: str
    settled_tick: int | None
    delay: int


@dataclass(frozen=True)
class Delays:
    largest: list[Delay]
    histogram: list[tuple[int, int]]
    """``(delay_ticks, settled payments)`` over the settled payments."""


@dataclass(frozen=True)
class BankRow:
    """A bank's line in the banks table (from ``daily_agent_metrics`` and ``agents``)."""

    agent_id: str
    opening_balance: int
    final_balance: int
    min_balance: int
    sent: int
    settled_sent: int
    received: int
    dropped: int
    q1: int
    q2: int
    cost: int
    unsecured_cap: int
    posted_collateral: int
    haircut: float
    policy_id: str | None
    policy_source: str | None
    policy_parameters: str


@dataclass
class RunData:
    """Everything the run report shows, read by :func:`read_run`."""

    simulation: dict[str, object]
    top: list[str]
    others: list[str]
    banks: list[BankRow]
    daily: list[dict[str, object]]
    balances: Balances
    queues: Queues
    flows: Flows
    costs: Costs
    lsm: LsmGroups
    delays: Delays
    policy_changes: list[PolicyChange] = field(default_factory=list)


# -- queries --------------------------------------------------------------------------------

_RANKS = """
SELECT d.agent_id, any_value(a.position) AS position, sum(d.cost_total) AS cost,
       min(d.min_balance) AS low
FROM daily_agent_metrics AS d
JOIN agents AS a ON a.simulation_id = d.simulation_id AND a.agent_id = d.agent_id
WHERE d.simulation_id = $id GROUP BY d.agent_id
"""

_BANKS = """
WITH d AS (SELECT * FROM daily_agent_metrics WHERE simulation_id = $id)
SELECT a.agent_id,
       arg_min(d.opening_balance, d.day) AS opening_balance,
       arg_max(d.closing_balance, d.day) AS final_balance,
       min(d.min_balance) AS min_balance, sum(d.sent) AS sent,
       sum(d.settled_sent) AS settled_sent, sum(d.received) AS received,
       sum(d.dropped) AS dropped, arg_max(d.q1, d.day) AS q1, arg_max(d.q2, d.day) AS q2,
       sum(d.cost_total) AS cost, any_value(a.unsecured_cap) AS unsecured_cap,
       any_value(a.posted_collateral) AS posted_collateral,
       any_value(a.collateral_haircut) AS haircut, any_value(a.policy_id) AS policy_id,
       any_value(a.policy_source) AS policy_source,
       any_value(a.policy_parameters)::VARCHAR AS policy_parameters
FROM agents AS a JOIN d ON d.agent_id = a.agent_id
WHERE a.simulation_id = $id
GROUP BY a.agent_id ORDER BY any_value(a.position)
"""

# Balances (figure `balances`): every bank's end-of-tick balance on every tick, carried forward
# from `agent_tick_metrics` (rows exist only where it moved) with an ASOF join over the ticks of
# `tick_metrics`, folded per bucket to the lowest and highest balance.
_BALANCES = """
WITH t AS (SELECT tick FROM tick_metrics WHERE simulation_id = $id),
first_day AS (SELECT min(day) AS day FROM daily_agent_metrics WHERE simulation_id = $id),
b AS (SELECT agent_id, opening_balance AS open FROM daily_agent_metrics
      WHERE simulation_id = $id AND day = (SELECT day FROM first_day)),
m AS (SELECT agent_id, tick, balance FROM agent_tick_metrics WHERE simulation_id = $id),
g AS (SELECT b.agent_id, t.tick, b.open FROM b CROSS JOIN t),
f AS (SELECT g.agent_id, g.tick, coalesce(m.balance, g.open) AS balance
      FROM g ASOF LEFT JOIN m ON g.agent_id = m.agent_id AND g.tick >= m.tick)
SELECT agent_id, (tick - $t0) // $w AS bucket, min(balance) AS low, max(balance) AS high
FROM f GROUP BY agent_id, bucket ORDER BY agent_id, bucket
"""

# Queues (figure `queues`): from `payments`, +1 (and +amount) at a payment's arrival tick and -1
# at the tick it settled or was dropped, summed over ticks per sender group, folded per bucket
# to the largest end-of-tick level.
_QUEUES = """
WITH p AS (
    SELECT CASE WHEN list_contains($top::VARCHAR[], sender_id) THEN sender_id
                ELSE $others END AS grp,
           arrival_tick, amount,
           CASE status WHEN 'settled' THEN settled_tick WHEN 'dropped' THEN dropped_tick END
               AS end_tick
    FROM _paysim_report_payments
),
d AS (
    SELECT grp, arrival_tick AS tick, 1 AS n, amount AS v FROM p
    UNION ALL SELECT grp, end_tick, -1, -amount FROM p WHERE end_tick IS NOT NULL
),
s AS (SELECT grp, tick, sum(n) AS n, sum(v) AS v FROM d GROUP BY grp, tick),
grid AS (SELECT grp, r.tick FROM (SELECT DISTINCT grp FROM p)
         CROSS JOIN range($t0, $t1) AS r(tick)),
c AS (
    SELECT grid.grp, grid.tick,
           sum(coalesce(s.n, 0)) OVER w AS n, sum(coalesce(s.v, 0)) OVER w AS v
    FROM grid LEFT JOIN s ON s.grp = grid.grp AND s.tick = grid.tick
    WINDOW w AS (PARTITION BY grid.grp ORDER BY grid.tick ROWS UNBOUNDED PRECEDING)
)
SELECT grp, (tick - $t0) // $w AS bucket, max(n) AS n, max(v) AS v
FROM c GROUP BY grp, bucket ORDER BY grp, bucket
"""

# Flows (figures `settlement` and `lsm`): `tick_metrics` joined with arrivals and settlements of
# original payments per tick from `payments`.
_FLOWS = """
WITH a AS (SELECT arrival_tick AS tick, count(*) AS n, sum(amount) AS v
           FROM _paysim_report_payments GROUP BY arrival_tick),
s AS (SELECT settled_tick AS tick, count(*) AS n, sum(amount) AS v
      FROM _paysim_report_payments WHERE status = 'settled' GROUP BY settled_tick)
SELECT t.tick, coalesce(a.n, 0) AS arrivals, coalesce(a.v, 0) AS arrival_value,
       coalesce(s.n, 0) AS settled, coalesce(s.v, 0) AS settled_value,
       t.settlements, t.settled_value AS moved_value, t.lsm_settled
FROM tick_metrics AS t LEFT JOIN a ON a.tick = t.tick LEFT JOIN s ON s.tick = t.tick
WHERE t.simulation_id = $id ORDER BY t.tick
"""

# Delays (figure `delays`, table `delays`): `payments`.
# The run's `payments` rows (a few columns, one row per original payment) are read once and
# registered under this name for the queries above and below: `payments` may be a view
# computed from the events when read, which should happen once per report, not once per query.
_PAYMENTS = """
SELECT tx_id, sender_id, receiver_id, amount, arrival_tick, deadline_tick, status,
       settled_tick, dropped_tick, delay_ticks
FROM payments WHERE simulation_id = $id
"""
_LARGEST_DELAYS = """
SELECT tx_id, sender_id, receiver_id, amount, arrival_tick, deadline_tick, status, settled_tick,
       coalesce(delay_ticks, $t1 - arrival_tick) AS delay
FROM _paysim_report_payments WHERE status IN ('settled', 'unsettled')
ORDER BY delay DESC, amount DESC, tx_id LIMIT $n
"""

_DELAY_HISTOGRAM = """
SELECT delay_ticks, count(*) AS n FROM _paysim_report_payments
WHERE status = 'settled' GROUP BY delay_ticks ORDER BY delay_ticks
"""


def _ints(values: object) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def read_run(store: Store, ref: str, *, top: int, delays: int = 20) -> RunData:
    """Reads what the report of run ``ref`` (an id or a unique prefix) shows.

    Raises :class:`paysim.store.NotFoundError` for an unknown or ambiguous id.
    """
    sim = store.simulation(ref)
    sid = str(sim["simulation_id"])
    tpd = int(str(sim["ticks_per_day"]))
    axis = TickAxis.of(int(str(sim["start_tick"])), int(str(sim["ticks_done"])), tpd)
    ranks = [
        BankRank(
            str(r["agent_id"]), int(str(r["position"])), int(str(r["cost"])), int(str(r["low"]))
        )
        for r in store.rows(_RANKS, {"id": sid})
    ]
    shown, rest = top_banks(ranks, top)
    banks = [_bank_row(r) for r in store.rows(_BANKS, {"id": sid})]
    setup = {
        b.agent_id: (b.unsecured_cap, b.posted_collateral, b.haircut)
        for b in banks
        if b.agent_id in shown
    }
    sparse = read_sparse_events(store, sid, setup)
    con = store.connection
    con.register("_paysim_report_payments", store.sql(_PAYMENTS, {"id": sid}))
    try:
        return RunData(
            simulation=sim,
            top=shown,
            others=rest,
            banks=banks,
            daily=store.daily_metrics(sid).to_pylist(),
            balances=_balances(store, sid, axis, shown, rest, sparse.credit),
            queues=_queues(store, sid, axis, shown, bool(rest)),
            flows=_flows(store, sid, axis),
            costs=_costs(store, sid),
            lsm=sparse.lsm,
            delays=_delays(store, sid, axis, delays),
            policy_changes=sparse.policy_changes,
        )
    finally:
        con.unregister("_paysim_report_payments")


def _bank_row(r: dict[str, object]) -> BankRow:
    def i(key: str) -> int:
        return int(str(r[key]))

    return BankRow(
        agent_id=str(r["agent_id"]),
        opening_balance=i("opening_balance"),
        final_balance=i("final_balance"),
        min_balance=i("min_balance"),
        sent=i("sent"),
        settled_sent=i("settled_sent"),
        received=i("received"),
        dropped=i("dropped"),
        q1=i("q1"),
        q2=i("q2"),
        cost=i("cost"),
        unsecured_cap=i("unsecured_cap"),
        posted_collateral=i("posted_collateral"),
        haircut=float(str(r["haircut"])),
        policy_id=None if r["policy_id"] is None else str(r["policy_id"]),
        policy_source=None if r["policy_source"] is None else str(r["policy_source"]),
        policy_parameters=str(r["policy_parameters"] or "{}"),
    )


def _balances(
    store: Store,
    sid: str,
    axis: TickAxis,
    shown: list[str],
    rest: list[str],
    credit: dict[str, CreditLines],
) -> Balances:
    table = store.sql(_BALANCES, {"id": sid, "t0": axis.t0, "w": axis.width})
    agent = table["agent_id"].to_pylist()
    bucket = _ints(table["bucket"].to_numpy())
    low = table["low"].to_numpy().astype(np.float64)
    high = table["high"].to_numpy().astype(np.float64)
    n = axis.buckets
    per: dict[str, tuple[FloatArray, FloatArray]] = {}
    for ident in set(agent):
        per[ident] = (np.full(n, np.nan), np.full(n, np.nan))
    for i, ident in enumerate(agent):
        b = int(bucket[i])
        if 0 <= b < n:
            per[ident][0][b] = low[i]
            per[ident][1][b] = high[i]
    starts = axis.starts()
    shown_series = []
    for ident in shown:
        lo, hi = per.get(ident, (np.full(n, np.nan), np.full(n, np.nan)))
        lines = credit.get(ident) or CreditLines.start(0, 0, 0.0)
        cap, collateral = lines.at(starts)
        shown_series.append(BankBalances(ident, lo, hi, cap, collateral))
    others = None
    if rest:
        lows = np.vstack([per[r][0] for r in rest if r in per] or [np.full(n, np.nan)])
        highs = np.vstack([per[r][1] for r in rest if r in per] or [np.full(n, np.nan)])
        others = OthersBalances(
            count=len(rest),
            low=lows.min(axis=0),
            median=np.median(lows, axis=0),
            high=highs.max(axis=0),
        )
    return Balances(axis, shown_series, others)


def _queues(store: Store, sid: str, axis: TickAxis, shown: list[str], folded: bool) -> Queues:
    table = store.sql(
        _QUEUES,
        {"top": shown, "others": OTHERS, "t0": axis.t0, "t1": axis.t1, "w": axis.width},
    )
    n = axis.buckets
    groups = [*shown, *([OTHERS] if folded else [])]
    count = {g: np.zeros(n) for g in groups}
    value = {g: np.zeros(n) for g in groups}
    for g, b, c, v in zip(
        table["grp"].to_pylist(),
        table["bucket"].to_pylist(),
        table["n"].to_pylist(),
        table["v"].to_pylist(),
        strict=True,
    ):
        if g in count and 0 <= int(b) < n:
            count[g][int(b)] = float(c)
            value[g][int(b)] = float(v)
    return Queues(axis, groups, count, value)


def _flows(store: Store, sid: str, axis: TickAxis) -> Flows:
    t = store.sql(_FLOWS, {"id": sid})

    def col(name: str) -> IntArray:
        return _ints(t[name].to_numpy())

    return Flows(
        axis=axis,
        arrivals=col("arrivals"),
        arrival_value=col("arrival_value"),
        settled=col("settled"),
        settled_value=col("settled_value"),
        settlements=col("settlements"),
        moved_value=col("moved_value"),
        lsm_settled=col("lsm_settled"),
    )


def _costs(store: Store, sid: str) -> Costs:
    rows = store.costs(sid).to_pylist()
    cells: dict[tuple[int, str], dict[str, int]] = {}
    days: set[int] = set()
    agents: list[str] = []
    for r in rows:
        day, agent = int(str(r["day"])), str(r["agent_id"])
        days.add(day)
        if agent not in agents:
            agents.append(agent)
        cells[(day, agent)] = {k: int(str(r[k])) for k in (*COMPONENTS, "total")}
    return Costs(sorted(days), agents, cells)


def _delays(store: Store, sid: str, axis: TickAxis, n: int) -> Delays:
    largest = [
        Delay(
            tx_id=str(r["tx_id"]),
            sender=str(r["sender_id"]),
            receiver=str(r["receiver_id"]),
            amount=int(str(r["amount"])),
            arrival_tick=int(str(r["arrival_tick"])),
            deadline_tick=int(str(r["deadline_tick"])),
            status=str(r["status"]),
            settled_tick=None if r["settled_tick"] is None else int(str(r["settled_tick"])),
            delay=int(str(r["delay"])),
        )
        for r in store.rows(_LARGEST_DELAYS, {"t1": axis.t1, "n": n})
    ]
    histogram = [
        (int(str(r["delay_ticks"])), int(str(r["n"]))) for r in store.rows(_DELAY_HISTOGRAM)
    ]
    return Delays(largest, histogram)
