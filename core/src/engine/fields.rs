//! Context fields of the policy language (POLICY_DSL.md §7), computed from engine state.
//!
//! Only the fields a policy reads are computed (`CompiledPolicy::fields_used`). Bank-level
//! values come from per-agent aggregates kept incrementally (queue counts and values, delay
//! classes, today's due and settled values, received-from counters); the few that need a
//! ranking or a minimum over a queue (top counterparties, nearest Q2 deadlines) are computed
//! in one pass per decision phase, and only when some policy reads them.

use std::collections::BTreeMap;

use super::Engine;
use crate::liquidity;
use crate::policy::FieldId;
use crate::state::{Slot, Status};

/// The shared inputs of the fields of one evaluation.
#[derive(Clone, Copy)]
struct FieldCtx<'a> {
    i: usize,
    a: &'a crate::state::Agent,
    l: i64,
    credit_used: i64,
    avail: i64,
    p: Option<&'a crate::state::Payment>,
    in_q2: bool,
    tick_in_day: u32,
    progress: f64,
}

/// Per-phase aggregates that need a pass over the queues.
#[derive(Clone, Debug, Default)]
pub(super) struct PhaseAggs {
    /// Earliest deadline among each agent's Q2 payments (`u32::MAX` when none).
    pub q2_nearest: Vec<u32>,
    /// Each agent's ranked counterparties: (agent, out, in).
    pub top: Vec<Vec<(u32, i64, i64)>>,
    pub q2_count: u64,
    pub q2_value: i64,
}

fn fnv_id(id: &str) -> f64 {
    crate::arrivals::rng::fnv1a64(id.as_bytes()) as f64
}

impl Engine {
    /// Builds the aggregates of one decision phase (cheap when `need_pass` is false).
    pub(super) fn phase_aggs(&self, need_pass: bool) -> PhaseAggs {
        let n = self.st.agents.len();
        let (mut q2_count, mut q2_value) = (0u64, 0i64);
        for a in &self.st.agents {
            q2_count += u64::from(a.q2_count);
            q2_value = q2_value.saturating_add(a.q2_value);
        }
        let mut aggs = PhaseAggs {
            q2_count,
            q2_value,
            ..PhaseAggs::default()
        };
        if !need_pass {
            return aggs;
        }
        aggs.q2_nearest = vec![u32::MAX; n];
        for slot in self.st.q2.values() {
            if let Some(p) = self.st.payments.get(*slot) {
                let m = &mut aggs.q2_nearest[p.sender as usize];
                *m = (*m).min(p.deadline);
            }
        }
        let mut flows: Vec<BTreeMap<u32, (i64, i64)>> = vec![BTreeMap::new(); n];
        for ((s, r), (sum, _)) in self.st.pair_q2.iter() {
            flows[*s as usize].entry(*r).or_insert((0, 0)).0 += sum;
            flows[*r as usize].entry(*s).or_insert((0, 0)).1 += sum;
        }
        aggs.top = flows
            .into_iter()
            .map(|m| {
                let mut v: Vec<(u32, i64, i64)> =
                    m.into_iter().map(|(c, (o, i))| (c, o, i)).collect();
                // |out − in| desc, out + in desc, agent id asc (agent order is id order).
                v.sort_by(|a, b| {
                    (b.1 - b.2)
                        .abs()
                        .cmp(&(a.1 - a.2).abs())
                        .then((b.1 + b.2).cmp(&(a.1 + a.2)))
                        .then(a.0.cmp(&b.0))
                });
                v.truncate(5);
                v
            })
            .collect();
        aggs
    }

    /// Fills `out[f]` for every field in `used`, for `agent` (and the payment in `pay`).
    pub(super) fn fill_fields(
        &self,
        agent: u32,
        pay: Option<(Slot, bool)>,
        used: &[FieldId],
        aggs: &PhaseAggs,
        out: &mut [f64],
    ) {
        if used.is_empty() {
            return;
        }
        let cx = self.field_ctx(agent, pay);
        for f in used {
            if let Some(slot) = out.get_mut(*f as usize) {
                *slot = self.field(*f, &cx, aggs);
            }
        }
    }

    /// What every field of one evaluation shares, computed once per evaluation.
    fn field_ctx(&self, agent: u32, pay: Option<(Slot, bool)>) -> FieldCtx<'_> {
        let i = agent as usize;
        let a = &self.st.agents[i];
        let l = a.limit();
        let t = self.st.tick;
        let tick_in_day = t % self.setup.tpd;
        FieldCtx {
            i,
            a,
            l,
            credit_used: liquidity::credit_used(a.balance),
            avail: liquidity::available_liquidity(a.balance, l),
            p: pay.and_then(|(s, _)| self.st.payments.get(s)),
            in_q2: pay.is_some_and(|(_, q2)| q2),
            tick_in_day,
            progress: f64::from(tick_in_day) / f64::from(self.setup.tpd),
        }
    }

    fn field(&self, f: FieldId, cx: &FieldCtx<'_>, aggs: &PhaseAggs) -> f64 {
        use FieldId as F;
        let FieldCtx {
            i,
            a,
            l,
            credit_used,
            avail,
            p,
            in_q2,
            tick_in_day,
            progress,
        } = *cx;
        let t = self.st.tick;
        let tpd = self.setup.tpd;
        let cm = &self.setup.costs;
        let inf = f64::INFINITY;
        let top = |k: usize| aggs.top.get(i).and_then(|v| v.get(k)).copied();
        let top_hash = |k: usize| {
            top(k)
                .map(|(c, _, _)| fnv_id(&self.setup.ids[c as usize]))
                .unwrap_or(0.0)
        };
        let throughput = |settled: i64, due: i64| {
            if due <= 0 {
                1.0
            } else {
                settled as f64 / due as f64
            }
        };
        let my_tp = throughput(self.st.day_settled[i], self.st.day_due[i]);
        let penalty_base = |pen: crate::costs::Penalty, x: i64| cm.resolve(&pen, x) as f64;
        match f {
            // Transaction
            F::Amount => p.map_or(0.0, |p| p.amount as f64),
            F::RemainingAmount => p.map_or(0.0, |p| p.remaining as f64),
            F::SettledAmount => p.map_or(0.0, |p| (p.amount - p.remaining) as f64),
            F::ArrivalTick => p.map_or(0.0, |p| f64::from(p.arrival)),
            F::DeadlineTick => p.map_or(0.0, |p| f64::from(p.deadline)),
            F::TicksToDeadline => p.map_or(0.0, |p| f64::from(p.deadline) - f64::from(t)),
            F::QueueAge => p.map_or(0.0, |p| f64::from(t) - f64::from(p.arrival)),
            F::Priority => p.map_or(0.0, |p| f64::from(p.priority)),
            F::RtgsPriority => p.map_or(2.0, |p| f64::from(p.rtgs.rank())),
            F::IsSplit => b(p.is_some_and(|p| p.parent.is_some())),
            F::IsDivisible => b(p.is_some_and(|p| p.divisible)),
            F::IsPastDeadline => b(p.is_some_and(|p| t > p.deadline)),
            F::IsOverdue => b(p.is_some_and(|p| p.is_overdue())),
            F::OverdueDuration => match p.map(|p| p.status) {
                Some(Status::Overdue { since }) => f64::from(t.saturating_sub(since)),
                _ => 0.0,
            },
            F::IsInQueue2 => b(in_q2),
            // Agent and balance
            F::Balance => a.balance as f64,
            F::UnsecuredCap => a.unsecured_cap as f64,
            F::CreditUsed => credit_used as f64,
            F::CreditHeadroom => (a.unsecured_cap - credit_used) as f64,
            F::AvailableLiquidity => avail as f64,
            F::EffectiveLiquidity => (a.balance.max(0) + a.unsecured_cap - credit_used) as f64,
            F::IsUsingCredit => b(a.balance < 0),
            F::LiquidityBuffer => a.liquidity_buffer as f64,
            F::LiquidityPool => a.pool as f64,
            F::AllocatedLiquidity => a.allocated as f64,
            F::LiquidityPressure => {
                let pos = a.balance.max(0) as f64;
                let d = pos + a.unsecured_cap as f64 + a.posted_collateral as f64;
                if d <= 0.0 {
                    1.0
                } else {
                    1.0 - pos / d
                }
            }
            F::MultilateralLimitHeadroom => a
                .multilateral_limit
                .map_or(inf, |m| (m - a.out_total) as f64),
            F::IsOverdraftCapped => 1.0,
            // Queue 1
            F::OutgoingQueueSize => f64::from(a.q1_count),
            F::Queue1TotalValue => a.q1_value as f64,
            F::Queue1LiquidityGap => (a.q1_value - avail).max(0) as f64,
            F::Headroom => (avail - a.q1_value) as f64,
            F::TicksToNearestQueue1Deadline => {
                let nearest = self.st.q1[i]
                    .values()
                    .chain(self.st.scheduled[i].values())
                    .filter_map(|s| self.st.payments.get(*s).map(|p| p.deadline))
                    .min();
                nearest.map_or(inf, |d| f64::from(d) - f64::from(t))
            }
            // Queue 2 and system
            F::RtgsQueueSize => aggs.q2_count as f64,
            F::RtgsQueueValue => aggs.q2_value as f64,
            F::Queue2CountForAgent => f64::from(a.q2_count),
            F::Queue2ValueForAgent => a.q2_value as f64,
            F::Queue2NearestDeadline => match aggs.q2_nearest.get(i) {
                Some(d) if *d != u32::MAX => f64::from(*d),
                _ => inf,
            },
            F::TicksToNearestQueue2Deadline => match aggs.q2_nearest.get(i) {
                Some(d) if *d != u32::MAX => f64::from(*d) - f64::from(t),
                _ => inf,
            },
            F::IncomingExpectedCount => f64::from(a.incoming_q2_count),
            F::IncomingExpectedValue => a.incoming_q2_value as f64,
            F::TotalAgents => self.st.agents.len() as f64,
            F::CurrentTick => f64::from(t),
            // Collateral
            F::PostedCollateral => a.posted_collateral as f64,
            F::MaxCollateralCapacity => a.max_collateral_capacity as f64,
            F::RemainingCollateralCapacity => {
                liquidity::remaining_capacity(a.max_collateral_capacity, a.posted_collateral) as f64
            }
            F::CollateralUtilization => {
                if a.max_collateral_capacity <= 0 {
                    0.0
                } else {
                    a.posted_collateral as f64 / a.max_collateral_capacity as f64
                }
            }
            F::CollateralHaircut => a.haircut,
            F::AllowedOverdraftLimit => l as f64,
            F::OverdraftHeadroom => (l - credit_used) as f64,
            F::OverdraftUtilization => {
                if l <= 0 {
                    b(credit_used > 0)
                } else {
                    credit_used as f64 / l as f64
                }
            }
            F::RequiredCollateralForUsage => {
                liquidity::required_collateral(a.balance, a.unsecured_cap, a.k) as f64
            }
            F::ExcessCollateral => {
                let req = liquidity::required_collateral(a.balance, a.unsecured_cap, a.k);
                (a.posted_collateral - req).max(0) as f64
            }
            // Cost rates
            F::CostOverdraftBpsPerTick => cm.overdraft_bps_per_tick(),
            F::CostDelayPerTickPerCent => cm.delay_cost_per_tick_per_cent(),
            F::CostCollateralBpsPerTick => cm.collateral_cost_per_tick_bps(),
            F::CostLiquidityBpsPerTick => cm.liquidity_cost_per_tick_bps(),
            F::CostSplitFriction => cm.split_friction_cost() as f64,
            F::CostDeadlinePenalty => penalty_base(cm.deadline(), p.map_or(0, |p| p.amount)),
            F::CostEodPenalty => penalty_base(cm.eod(), p.map_or(0, |p| p.remaining)),
            F::CostDropPenalty => match p {
                Some(p) => match cm.drop() {
                    Some(pen) => cm.resolve(&pen, p.remaining) as f64,
                    None => {
                        cm.drop_penalty(p.remaining, p.amount, p.deadline_penalty_charged)
                            .0 as f64
                    }
                },
                None => cm.drop().map_or_else(
                    || (cm.resolve(&cm.eod(), 0) + cm.resolve(&cm.deadline(), 0)) as f64,
                    |pen| cm.resolve(&pen, 0) as f64,
                ),
            },
            F::CostDelayThisTxOneTick => p.map_or(0.0, |p| {
                let w = cm.weights()[p.class()] as f64 / 1e6;
                p.remaining as f64 * w * cm.delay_cost_per_tick_per_cent()
            }),
            F::CostOverdraftThisAmountOneTick => p.map_or(0.0, |p| {
                p.remaining as f64 * cm.overdraft_bps_per_tick() / 10_000.0
            }),
            // Time
            F::SystemTicksPerDay => f64::from(tpd),
            F::SystemCurrentDay => f64::from(t / tpd),
            F::SystemTickInDay => f64::from(tick_in_day),
            F::TicksRemainingInDay => f64::from(tpd - 1 - tick_in_day),
            F::DayProgressFraction => progress,
            F::IsEodRush => b(progress >= self.setup.cfg.settlement.eod_rush_threshold),
            // LSM-aware, toward the receiver
            F::MyQ2OutValueToCounterparty => {
                p.map_or(0.0, |p| self.pair_value(p.sender, p.receiver))
            }
            F::MyQ2InValueFromCounterparty => {
                p.map_or(0.0, |p| self.pair_value(p.receiver, p.sender))
            }
            F::MyBilateralNetQ2 => p.map_or(0.0, |p| {
                self.pair_value(p.sender, p.receiver) - self.pair_value(p.receiver, p.sender)
            }),
            F::BilateralLimitHeadroom => {
                p.map_or(inf, |p| match a.bilateral_limits.get(&p.receiver) {
                    Some(limit) => (limit - a.out_to.get(&p.receiver).copied().unwrap_or(0)) as f64,
                    None => inf,
                })
            }
            F::ReceivedValueFromCounterpartyToday => p.map_or(0.0, |p| {
                self.st
                    .received_today
                    .get(&(p.sender, p.receiver))
                    .copied()
                    .unwrap_or(0) as f64
            }),
            // Top counterparties
            F::TopCpty1IdHash => top_hash(0),
            F::TopCpty2IdHash => top_hash(1),
            F::TopCpty3IdHash => top_hash(2),
            F::TopCpty4IdHash => top_hash(3),
            F::TopCpty5IdHash => top_hash(4),
            F::MyQ2OutValueTop1 => top(0).map_or(0.0, |x| x.1 as f64),
            F::MyQ2OutValueTop2 => top(1).map_or(0.0, |x| x.1 as f64),
            F::MyQ2OutValueTop3 => top(2).map_or(0.0, |x| x.1 as f64),
            F::MyQ2OutValueTop4 => top(3).map_or(0.0, |x| x.1 as f64),
            F::MyQ2OutValueTop5 => top(4).map_or(0.0, |x| x.1 as f64),
            F::MyQ2InValueTop1 => top(0).map_or(0.0, |x| x.2 as f64),
            F::MyQ2InValueTop2 => top(1).map_or(0.0, |x| x.2 as f64),
            F::MyQ2InValueTop3 => top(2).map_or(0.0, |x| x.2 as f64),
            F::MyQ2InValueTop4 => top(3).map_or(0.0, |x| x.2 as f64),
            F::MyQ2InValueTop5 => top(4).map_or(0.0, |x| x.2 as f64),
            F::MyBilateralNetQ2Top1 => top(0).map_or(0.0, |x| (x.1 - x.2) as f64),
            F::MyBilateralNetQ2Top2 => top(1).map_or(0.0, |x| (x.1 - x.2) as f64),
            F::MyBilateralNetQ2Top3 => top(2).map_or(0.0, |x| (x.1 - x.2) as f64),
            F::MyBilateralNetQ2Top4 => top(3).map_or(0.0, |x| (x.1 - x.2) as f64),
            F::MyBilateralNetQ2Top5 => top(4).map_or(0.0, |x| (x.1 - x.2) as f64),
            // Public signals
            F::SystemQueue2PressureIndex => {
                if aggs.q2_count == 0 {
                    0.0
                } else {
                    let x = aggs.q2_count as f64 / (10.0 * self.st.agents.len() as f64);
                    1.0 / (1.0 + libm::exp(-2.0 * x))
                }
            }
            F::LsmRunRateLast10Ticks => {
                let window = t.min(10);
                if window == 0 {
                    0.0
                } else {
                    let mask = (1u32 << window) - 1;
                    f64::from((u32::from(self.st.lsm_bits) & mask).count_ones()) / f64::from(window)
                }
            }
            F::SystemThroughputGuidanceFractionByTick => {
                guidance(&self.setup.cfg.settlement.throughput_guidance, progress)
            }
            F::SystemThroughputFractionToday => {
                let settled: i64 = self.st.day_settled.iter().sum();
                let due: i64 = self.st.day_due.iter().sum();
                throughput(settled, due)
            }
            F::MyThroughputFractionToday => my_tp,
            F::ExpectedThroughputFractionByNow => progress,
            F::ThroughputGap => my_tp - progress,
            // Counterparty
            F::TxCounterpartyId => p.map_or(0.0, |p| fnv_id(&self.setup.ids[p.receiver as usize])),
            F::TxIsTopCounterparty => b(p.is_some_and(|p| {
                aggs.top
                    .get(i)
                    .is_some_and(|v| v.iter().any(|(c, _, _)| *c == p.receiver))
            })),
        }
    }

    fn pair_value(&self, s: u32, r: u32) -> f64 {
        self.st.pair_q2.get(&(s, r)).map_or(0.0, |(v, _)| *v as f64)
    }
}

fn b(v: bool) -> f64 {
    if v {
        1.0
    } else {
        0.0
    }
}

/// Piecewise-linear throughput guidance at `x` (flat beyond the first and last points).
fn guidance(points: &[[f64; 2]], x: f64) -> f64 {
    match points {
        [] => x,
        [only] => only[1],
        _ => {
            if x <= points[0][0] {
                return points[0][1];
            }
            for w in points.windows(2) {
                let ([x0, y0], [x1, y1]) = (w[0], w[1]);
                if x <= x1 {
                    return if x1 > x0 {
                        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
                    } else {
                        y1
                    };
                }
            }
            points[points.len() - 1][1]
        }
    }
}

impl Engine {
    /// The value a policy would read for `field` now (between ticks), for `agent` and, for
    /// payment fields, the payment `tx_id` (Q1 pass unless it is in Q2). For tests, debugging
    /// and notebooks; the tick loop computes fields through the same code.
    pub fn field_value(
        &self,
        field: crate::policy::FieldId,
        agent: &str,
        tx_id: Option<&str>,
    ) -> crate::error::EngineResult<f64> {
        let i = self.agent_index(agent)?;
        let pay = match tx_id {
            None => None,
            Some(id) => {
                let slot = crate::state::key_of_tx_id(id)
                    .and_then(|k| self.st.payments.slot_of(k))
                    .ok_or_else(|| crate::error::EngineError::UnknownPayment(id.to_string()))?;
                let in_q2 = self
                    .st
                    .payments
                    .get(slot)
                    .is_some_and(|p| p.location == crate::state::Location::Q2);
                Some((slot, in_q2))
            }
        };
        let aggs = self.phase_aggs(true);
        let cx = self.field_ctx(i, pay);
        Ok(self.field(field, &cx, &aggs))
    }
}
