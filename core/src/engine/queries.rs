//! Read-only queries, the engine part of the run summary, injection and policy replacement.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{Engine, InjectRecord};
use crate::config::PolicyCfg;
use crate::costs::{CostComponent, TOTAL_INDEX};
use crate::error::{EngineError, EngineResult};
use crate::policy_rt::RuntimePolicy;
use crate::state::{key_of_tx_id, Location, Status};

/// Counts of one tick (same meaning as the run summary, for this tick only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TickSummary {
    pub tick: u32,
    pub arrivals: u64,
    pub settled: u64,
    pub lsm_settled: u64,
    pub q1_size: u64,
    pub q2_size: u64,
    pub cost: i64,
    pub events: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgentView {
    pub id: String,
    pub balance: i64,
    pub opening_balance: i64,
    pub unsecured_cap: i64,
    pub posted_collateral: i64,
    pub collateral_haircut: f64,
    pub max_collateral_capacity: i64,
    pub allowed_overdraft_limit: i64,
    pub available_liquidity: i64,
    pub liquidity_pool: i64,
    pub allocated_liquidity: i64,
    pub q1_count: u32,
    pub q1_value: i64,
    pub q2_count: u32,
    pub q2_value: i64,
    pub release_budget: Option<i64>,
    pub registers: std::collections::BTreeMap<String, f64>,
    pub policy_id: String,
    pub costs: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaymentView {
    pub id: String,
    pub sender: String,
    pub receiver: String,
    pub amount: i64,
    pub remaining: i64,
    pub arrival_tick: u32,
    pub deadline_tick: u32,
    pub priority: u8,
    pub divisible: bool,
    pub rtgs_priority: &'static str,
    pub status: String,
    pub location: String,
    pub source: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SystemMetrics {
    pub arrivals: u64,
    pub settled: u64,
    pub settled_value: i64,
    pub unsettled: u64,
    pub dropped: u64,
    pub overdue: u64,
    pub lsm_settled: u64,
    pub entry_offsets: u64,
    pub q1_size: u64,
    pub q2_size: u64,
    pub peak_overdraft: i64,
}

fn costs_json(c: &[i64; crate::costs::NUM_SLOTS]) -> Value {
    let mut m = Map::new();
    for comp in CostComponent::ALL {
        m.insert(comp.as_str().to_string(), json!(c[comp.index()]));
    }
    m.insert("total".into(), json!(c[TOTAL_INDEX]));
    Value::Object(m)
}

impl Engine {
    pub fn agent_ids(&self) -> &[String] {
        &self.setup.ids
    }

    pub fn agent_state(&self, id: &str) -> EngineResult<AgentView> {
        let i = self.agent_index(id)?;
        let a = &self.st.agents[i as usize];
        let l = a.limit();
        Ok(AgentView {
            id: id.to_string(),
            balance: a.balance,
            opening_balance: a.opening_balance,
            unsecured_cap: a.unsecured_cap,
            posted_collateral: a.posted_collateral,
            collateral_haircut: a.haircut,
            max_collateral_capacity: a.max_collateral_capacity,
            allowed_overdraft_limit: l,
            available_liquidity: crate::liquidity::available_liquidity(a.balance, l),
            liquidity_pool: a.pool,
            allocated_liquidity: a.allocated,
            q1_count: a.q1_count,
            q1_value: a.q1_value,
            q2_count: a.q2_count,
            q2_value: a.q2_value,
            release_budget: a.budget.as_ref().map(|b| b.remaining),
            registers: a.registers.clone(),
            policy_id: self.st.policies[a.policy as usize].policy_id.clone(),
            costs: costs_json(a.costs.cumulative()),
        })
    }

    /// One day's costs (`Some(day)`) or the cumulative ones, as the run-summary cost object.
    pub fn costs(&self, id: &str, day: Option<usize>) -> EngineResult<Value> {
        let i = self.agent_index(id)?;
        let ledger = &self.st.agents[i as usize].costs;
        let zero = [0i64; crate::costs::NUM_SLOTS];
        let c = match day {
            Some(d) => ledger.day(d).unwrap_or(&zero),
            None => ledger.cumulative(),
        };
        Ok(costs_json(c))
    }

    /// Ids of an agent's Q1 in order (scheduled pieces last, by due tick).
    pub fn queue1(&self, id: &str) -> EngineResult<Vec<String>> {
        let i = self.agent_index(id)? as usize;
        let slots = self.st.q1[i].values().chain(self.st.scheduled[i].values());
        Ok(slots.filter_map(|s| self.tx_string(*s)).collect())
    }

    pub fn queue2(&self) -> Vec<String> {
        self.st
            .q2
            .values()
            .filter_map(|s| self.tx_string(*s))
            .collect()
    }

    fn tx_string(&self, slot: u32) -> Option<String> {
        let p = self.st.payments.get(slot)?;
        let mut s = String::new();
        crate::state::tx_id_of(p.key, &mut s);
        Some(s)
    }

    /// A live (or split-parent) payment by id.
    pub fn payment(&self, id: &str) -> EngineResult<PaymentView> {
        let slot = key_of_tx_id(id)
            .and_then(|k| self.st.payments.slot_of(k))
            .ok_or_else(|| EngineError::UnknownPayment(id.to_string()))?;
        let p = self
            .st
            .payments
            .get(slot)
            .ok_or_else(|| EngineError::UnknownPayment(id.to_string()))?;
        let name = |i: u32| self.setup.ids.get(i as usize).cloned().unwrap_or_default();
        Ok(PaymentView {
            id: id.to_string(),
            sender: name(p.sender),
            receiver: name(p.receiver),
            amount: p.amount,
            remaining: p.remaining,
            arrival_tick: p.arrival,
            deadline_tick: p.deadline,
            priority: p.priority,
            divisible: p.divisible,
            rtgs_priority: p.rtgs.as_str(),
            status: match p.status {
                Status::Pending => "Pending".into(),
                Status::Overdue { since } => format!("Overdue(since {since})"),
                Status::Settled { tick } => format!("Settled({tick})"),
                Status::Dropped { tick } => format!("Dropped({tick})"),
            },
            location: match p.location {
                Location::Q1 => "Q1".into(),
                Location::Q1Scheduled { release_tick } => format!("Q1Scheduled({release_tick})"),
                Location::Released => "Released".into(),
                Location::Q2 => "Q2".into(),
                Location::None => "None".into(),
            },
            source: p.source.as_str(),
        })
    }

    pub fn system_metrics(&self) -> SystemMetrics {
        let m = &self.st.metrics;
        let (q1, q2) = self.st.agents.iter().fold((0u64, 0u64), |(x, y), a| {
            (x + u64::from(a.q1_count), y + u64::from(a.q2_count))
        });
        SystemMetrics {
            arrivals: m.arrivals,
            settled: m.settled,
            settled_value: m.settled_value,
            unsettled: m.arrivals - m.settled - m.dropped,
            dropped: m.dropped,
            overdue: m.overdue,
            lsm_settled: m.lsm_settled,
            entry_offsets: m.entry_offsets,
            q1_size: q1,
            q2_size: q2,
            peak_overdraft: m.peak_overdraft,
        }
    }

    /// The engine part of the run summary (INTERFACES.md §1): everything but run metadata.
    pub fn summary(&self) -> Value {
        let m = &self.st.metrics;
        let unsettled = m.arrivals - m.settled - m.dropped;
        let rate = |n: f64, d: f64| if d > 0.0 { n / d } else { 1.0 };
        let mut total_costs = [0i64; crate::costs::NUM_SLOTS];
        let mut peak_net_debit = 0i64;
        let mut agents = Map::new();
        for (i, a) in self.st.agents.iter().enumerate() {
            let c = a.costs.cumulative();
            for k in 0..crate::costs::NUM_SLOTS {
                total_costs[k] = total_costs[k].saturating_add(c[k]);
            }
            peak_net_debit = peak_net_debit.saturating_add(a.peak_net_debit);
            agents.insert(
                self.setup.ids[i].clone(),
                json!({
                    "opening_balance": a.opening_balance,
                    "final_balance": a.balance,
                    "min_balance": a.min_balance,
                    "sent": a.sent,
                    "settled_sent": a.settled_sent,
                    "received": a.received,
                    "q1": a.q1_count,
                    "q2": a.q2_count,
                    "dropped": a.dropped,
                    "settlement_delay": a.settlement_delay,
                    "peak_net_debit": a.peak_net_debit,
                    "costs": costs_json(c),
                }),
            );
        }
        json!({
            "seed": self.setup.cfg.simulation.rng_seed,
            "ticks": self.setup.total_ticks,
            "ticks_per_day": self.setup.tpd,
            "days": self.setup.cfg.simulation.num_days,
            "totals": {
                "arrivals": m.arrivals,
                "settled": m.settled,
                "settled_value": m.settled_value,
                "unsettled": unsettled,
                "dropped": m.dropped,
                "overdue": m.overdue,
                "lsm_settled": m.lsm_settled,
                "settlement_rate": rate(m.settled as f64, m.arrivals as f64),
                "value_settlement_rate": rate(m.settled_value as f64, m.arrivals_value as f64),
                "total_cost": total_costs[TOTAL_INDEX],
                "settlement_delay": m.settlement_delay,
                "avg_settlement_delay": if m.settled > 0 {
                    m.settlement_delay as f64 / m.settled as f64
                } else {
                    0.0
                },
                "peak_net_debit": peak_net_debit,
            },
            "costs": costs_json(&total_costs),
            "agents": Value::Object(agents),
        })
    }

    /// `inject_arrivals` (§9.3): validated as a whole; one bad record rejects the batch. Row
    /// records go through the columnar path, so both forms share one validator.
    pub fn inject_arrivals(&mut self, records: &[InjectRecord]) -> EngineResult<()> {
        let columns = super::inject::OwnedColumns::from_records(records);
        self.inject_columns(&columns.view())
    }

    /// `set_policy`: validated before anything changes; → `PolicyReplaced` at `current_tick`.
    pub fn set_policy(&mut self, agent: &str, policy: &PolicyCfg) -> EngineResult<()> {
        if let Some(e) = &self.failed_error {
            return Err(EngineError::EngineFailed(Box::new(e.clone())));
        }
        let i = self.agent_index(agent)?;
        let p = RuntimePolicy::from_cfg(policy).map_err(|r| EngineError::Policy {
            agent: agent.to_string(),
            message: r.message,
            problems: r.problems,
        })?;
        self.replace_policy(i, p, "api");
        Ok(())
    }
}
