//! Stochastic arrivals (ENGINE.md §9): per-agent, per-stream random generators, Poisson counts
//! and attribute draws, plus the scenario-event modifiers (rate multipliers, weights, deadline
//! windows). Each stream has its own generator, so changing one agent's settings never changes
//! another agent's arrivals.

pub mod distributions;
pub mod poisson;
pub mod rng;

use serde::{Deserialize, Serialize};

use crate::config::{AgentCfg, AmountCfg, PriorityCfg, StreamCfg};
use distributions::{AmountDist, Band, PriorityDist};
use rng::Xoshiro256pp;

/// One generated payment, before it gets an id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Draw {
    pub sender: u32,
    pub receiver: u32,
    pub amount: i64,
    pub deadline_offset: u32,
    pub priority: u8,
    pub divisible: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamState {
    pub name: String,
    pub rng: Xoshiro256pp,
    pub rate: f64,
    pub amount: AmountDist,
    /// Weight per candidate (every other agent, in agent order); `None` = uniform.
    pub weights: Option<Vec<f64>>,
    pub base_deadline: (u32, u32),
    pub deadline: (u32, u32),
    pub priority: PriorityDist,
    pub divisible: bool,
    pub windows: Vec<(u32, u32, f64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentArrivals {
    pub streams: Vec<StreamState>,
    pub multiplier: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arrivals {
    pub agents: Vec<AgentArrivals>,
    pub global: f64,
}

fn amount_dist(a: &AmountCfg) -> AmountDist {
    match a {
        AmountCfg::Uniform { min, max } => AmountDist::Uniform {
            min: *min,
            max: *max,
        },
        AmountCfg::Normal { mean, std_dev } => AmountDist::Normal {
            mean: *mean,
            std_dev: *std_dev,
        },
        AmountCfg::LogNormal {
            mu: Some(mu),
            sigma: Some(sigma),
            ..
        } => AmountDist::LogNormal {
            mu: *mu,
            sigma: *sigma,
        },
        AmountCfg::LogNormal {
            mean: Some(m),
            std_dev: Some(s),
            ..
        } => AmountDist::lognormal_from_moments(*m, *s),
        // Validation rejects the other LogNormal shapes; a mean-1 lognormal is a safe fallback.
        AmountCfg::LogNormal { .. } => AmountDist::LogNormal {
            mu: 0.0,
            sigma: 0.0,
        },
        AmountCfg::Exponential {
            lambda: Some(l), ..
        } => AmountDist::exponential_from_lambda(*l),
        AmountCfg::Exponential { mean, .. } => AmountDist::Exponential {
            mean: mean.unwrap_or(1.0),
        },
        AmountCfg::Fixed { amount } => AmountDist::Fixed { amount: *amount },
    }
}

fn priority_dist(p: &Option<PriorityCfg>, band: Option<Band>) -> PriorityDist {
    let clamp = |v: i64| v.clamp(0, 10) as u8;
    match (band, p) {
        (Some(b), _) => PriorityDist::Band(b),
        (None, Some(PriorityCfg::Fixed { value })) => PriorityDist::Fixed(clamp(*value)),
        (None, Some(PriorityCfg::Uniform { min, max })) => PriorityDist::Uniform {
            min: clamp(*min),
            max: clamp(*max),
        },
        (None, Some(PriorityCfg::Categorical { values, weights })) => PriorityDist::Categorical {
            values: values.iter().map(|v| clamp(*v)).collect(),
            weights: weights.clone(),
        },
        (None, None) => PriorityDist::Fixed(5),
    }
}

impl Arrivals {
    pub fn new(seed: u64, agents: &[AgentCfg], ids: &[String]) -> Self {
        let mut out = Vec::with_capacity(agents.len());
        for (i, a) in agents.iter().enumerate() {
            let mut streams = Vec::new();
            let mut push = |name: &str, s: &StreamCfg, band: Option<Band>| {
                let weights = if s.counterparty_weights.is_empty() {
                    None
                } else {
                    Some(
                        candidates(i, ids.len())
                            .map(|j| {
                                s.counterparty_weights
                                    .get(&ids[j as usize])
                                    .copied()
                                    .unwrap_or(0.0)
                            })
                            .collect(),
                    )
                };
                let d = (s.deadline_range[0], s.deadline_range[1]);
                streams.push(StreamState {
                    name: name.to_string(),
                    rng: Xoshiro256pp::for_stream(seed, &a.id, name),
                    rate: s.rate_per_tick,
                    amount: amount_dist(&s.amount_distribution),
                    weights,
                    base_deadline: d,
                    deadline: d,
                    priority: priority_dist(&s.priority_distribution, band),
                    divisible: s.divisible,
                    windows: s
                        .time_windows
                        .iter()
                        .map(|w| (w.start_tick, w.end_tick, w.rate_multiplier))
                        .collect(),
                });
            };
            if let Some(s) = &a.arrival_config {
                push("single", s, None);
            }
            if let Some(b) = &a.arrival_bands {
                for (name, s, band) in [
                    ("urgent", &b.urgent, Band::Urgent),
                    ("normal", &b.normal, Band::Normal),
                    ("low", &b.low, Band::Low),
                ] {
                    if let Some(s) = s {
                        push(name, s, Some(band));
                    }
                }
            }
            out.push(AgentArrivals {
                streams,
                multiplier: 1.0,
            });
        }
        Arrivals {
            agents: out,
            global: 1.0,
        }
    }

    /// Draws this tick's arrivals for every stream, in agent then stream order.
    pub fn generate(&mut self, tick_within_day: u32, out: &mut Vec<Draw>) {
        let n = self.agents.len();
        let global = self.global;
        for (i, ag) in self.agents.iter_mut().enumerate() {
            let agent_mult = ag.multiplier;
            for s in ag.streams.iter_mut() {
                let mut lambda = s.rate * global * agent_mult;
                for (start, end, m) in &s.windows {
                    if *start <= tick_within_day && tick_within_day < *end {
                        lambda *= m;
                    }
                }
                let lambda = lambda.min(1_000_000.0);
                let k = poisson::poisson(&mut s.rng, lambda);
                for _ in 0..k {
                    let amount = s.amount.sample(&mut s.rng);
                    let c = match &s.weights {
                        Some(w) => distributions::pick_weighted(&mut s.rng, w),
                        None => distributions::pick_uniform(&mut s.rng, n.saturating_sub(1)),
                    };
                    let receiver = if (c as u32) < i as u32 {
                        c as u32
                    } else {
                        c as u32 + 1
                    };
                    let offset =
                        distributions::deadline_offset(&mut s.rng, s.deadline.0, s.deadline.1);
                    let priority = s.priority.sample(&mut s.rng);
                    out.push(Draw {
                        sender: i as u32,
                        receiver,
                        amount,
                        deadline_offset: offset,
                        priority,
                        divisible: s.divisible,
                    });
                }
            }
        }
    }

    /// `CounterpartyWeightChange`: one weight in every stream of `agent`.
    pub fn set_weight(&mut self, agent: u32, counterparty: u32, weight: f64) {
        let n = self.agents.len();
        if let Some(ag) = self.agents.get_mut(agent as usize) {
            let idx = if counterparty < agent {
                counterparty
            } else {
                counterparty.saturating_sub(1)
            } as usize;
            for s in ag.streams.iter_mut() {
                let w = s
                    .weights
                    .get_or_insert_with(|| vec![1.0; n.saturating_sub(1)]);
                if let Some(slot) = w.get_mut(idx) {
                    *slot = weight;
                }
            }
        }
    }

    /// `DeadlineWindowChange`, relative to the configured ranges; a missing multiplier keeps
    /// that bound as it is now.
    pub fn change_deadlines(&mut self, min_m: Option<f64>, max_m: Option<f64>) {
        for ag in self.agents.iter_mut() {
            for s in ag.streams.iter_mut() {
                let min = match min_m {
                    Some(m) => (libm::round(f64::from(s.base_deadline.0) * m).max(1.0)) as u32,
                    None => s.deadline.0,
                };
                let max = match max_m {
                    Some(m) => libm::round(f64::from(s.base_deadline.1) * m) as u32,
                    None => s.deadline.1,
                };
                s.deadline = (min, max.max(min));
            }
        }
    }
}

/// Receiver candidates of agent `i`: every other agent, in agent order.
fn candidates(i: usize, n: usize) -> impl Iterator<Item = u32> {
    (0..n as u32).filter(move |j| *j as usize != i)
}
