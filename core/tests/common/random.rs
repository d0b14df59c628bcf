//! Random scenarios for the property tests (ENGINE.md §15), shared by every test file that
//! needs them.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{agent, config, stream};

#[derive(Debug, Clone)]
pub struct Scenario {
    pub cfg: Value,
    /// Exogenous transfers (or pool returns) may leave a balance below its limit.
    pub exogenous: bool,
}

/// Random scenarios of 2–5 agents (ENGINE.md §15): balances, credit, pools, arrival rates,
/// limits, deferred crediting and a few scenario events, with FIFO policies.
pub fn scenario() -> impl Strategy<Value = Scenario> {
    (
        2usize..6,
        1u32..12,
        1u32..3,
        any::<u64>(),
        proptest::collection::vec(
            (
                0i64..50_000,
                0i64..20_000,
                0.0f64..1.5,
                prop::bool::weighted(0.15),
            ),
            6,
        ),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec((0u32..30, 0usize..6, 0usize..6, 1i64..30_000, 0u8..3), 0..4),
    )
        .prop_map(|(n, tpd, days, seed, specs, deferred, limits, evs)| {
            let ids: Vec<String> = (0..n).map(|i| format!("B{i}")).collect();
            let mut agents = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let (bal, cap, rate, pool) = specs[i];
                let mut a = agent(id, bal);
                a["unsecured_cap"] = json!(cap);
                if pool {
                    a["liquidity_pool"] = json!(bal / 2 + 1);
                    a["liquidity_allocation_fraction"] = json!(0.5);
                }
                a["arrival_config"] = stream(rate, 100, 30_000);
                if limits {
                    let other = &ids[(i + 1) % n];
                    a["limits"]["bilateral_limits"] = json!({other.clone(): 40_000});
                    a["limits"]["multilateral_limit"] = json!(80_000);
                }
                agents.push(a);
            }
            let mut cfg = config(tpd, days, seed, agents);
            cfg["settlement"]["deferred_crediting"] = json!(deferred);
            let total = tpd * days;
            let mut events = Vec::new();
            // The EOD return of pool liquidity is exogenous too (ENGINE.md §3.2).
            let mut exogenous = specs.iter().take(n).any(|s| s.3);
            for (tick, s, r, amount, kind) in evs {
                let (s, r) = (s % n, r % n);
                if s == r {
                    continue;
                }
                let tick = tick % total;
                let ty = [
                    "DirectTransfer",
                    "ScheduledSettlement",
                    "CustomTransactionArrival",
                ][kind as usize];
                exogenous |= kind == 0;
                let mut e = json!({"type": ty, "schedule": {"type": "OneTime", "tick": tick},
                    "from_agent": ids[s], "to_agent": ids[r], "amount": amount});
                if kind == 2 {
                    e["priority"] = json!(5);
                    e["deadline"] = Value::Null;
                    e["is_divisible"] = json!(false);
                    e["rtgs_priority"] = json!("Normal");
                }
                events.push(e);
            }
            cfg["scenario_events"] = Value::Array(events);
            Scenario { cfg, exogenous }
        })
}
