//! Semantic checks of an engine config, each failure naming the JSON pointer of the value.

use std::collections::{BTreeMap, BTreeSet};

use super::schema::*;
use crate::error::ConfigError;

const MAX_AMOUNT: i64 = 1_000_000_000_000_000;
const MAX_LAMBDA: f64 = 1_000_000.0;

/// Most ticks in a day: finer than one a second over 24 hours (docs/engine-config.md).
pub const MAX_TICKS_PER_DAY: u32 = 100_000;
/// Most days in an episode.
pub const MAX_DAYS: u32 = 10_000;
/// Most ticks in an episode, so that every run ends in bounded time.
pub const MAX_EPISODE_TICKS: u64 = 10_000_000;

fn err<T>(pointer: impl Into<String>, message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::new(pointer.into(), message.into()))
}

fn finite_in(ptr: &str, v: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
    if !v.is_finite() || v < lo || v > hi {
        return err(
            ptr,
            format!("expected a finite number in [{lo}, {hi}], found {v}"),
        );
    }
    Ok(())
}

fn non_negative(ptr: &str, v: i64) -> Result<(), ConfigError> {
    if v < 0 {
        return err(ptr, format!("expected an amount ≥ 0 cents, found {v}"));
    }
    Ok(())
}

/// Validates everything but the policy documents (the policy module checks those).
pub fn validate(cfg: &EngineConfig) -> Result<(), ConfigError> {
    let t_total = validate_clock(cfg)?;
    if cfg.agents.len() < 2 {
        return err("/agents", "expected at least 2 agents");
    }
    let mut ids: BTreeSet<&str> = BTreeSet::new();
    for (i, a) in cfg.agents.iter().enumerate() {
        let ptr = format!("/agents/{i}/id");
        let ok = !a.id.is_empty()
            && a.id.len() <= 64
            && a.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !ok {
            return err(
                ptr,
                format!("agent id `{}` must match ^[A-Za-z0-9_.-]{{1,64}}$", a.id),
            );
        }
        if !ids.insert(&a.id) {
            return err(ptr, format!("duplicate agent id `{}`", a.id));
        }
    }
    let mut total: i128 = 0;
    for (i, a) in cfg.agents.iter().enumerate() {
        validate_agent(cfg, i, a, &ids)?;
        let cap = a
            .max_collateral_capacity
            .unwrap_or(a.unsecured_cap.saturating_mul(10));
        total += i128::from(a.opening_balance).abs()
            + i128::from(a.liquidity_pool)
            + i128::from(a.unsecured_cap)
            + i128::from(cap.max(a.posted_collateral));
    }
    if total > 1i128 << 62 {
        return err(
            "/agents",
            "opening balances, pools, caps and collateral capacities sum to more than 2^62 cents",
        );
    }
    super::lsm::validate_lsm(&cfg.lsm_config)?;
    let st = &cfg.settlement;
    finite_in(
        "/settlement/eod_rush_threshold",
        st.eod_rush_threshold,
        0.0,
        1.0,
    )?;
    if st.priority_escalation.curve != "linear" {
        return err(
            "/settlement/priority_escalation/curve",
            format!(
                "`linear` is the only curve, found `{}`",
                st.priority_escalation.curve
            ),
        );
    }
    if st.priority_escalation.max_boost > 10 {
        return err(
            "/settlement/priority_escalation/max_boost",
            "expected 0..10",
        );
    }
    let mut last_x = -1.0;
    for (k, p) in st.throughput_guidance.iter().enumerate() {
        let ptr = format!("/settlement/throughput_guidance/{k}");
        finite_in(&format!("{ptr}/0"), p[0], 0.0, 1.0)?;
        finite_in(&format!("{ptr}/1"), p[1], 0.0, 1.0)?;
        if p[0] <= last_x {
            return err(ptr, "day fractions must increase strictly");
        }
        last_x = p[0];
    }
    validate_events(cfg, &ids, t_total)
}

/// The clock bounds; returns `T`.
fn validate_clock(cfg: &EngineConfig) -> Result<u32, ConfigError> {
    let sim = &cfg.simulation;
    if !(1..=MAX_TICKS_PER_DAY).contains(&sim.ticks_per_day) {
        return err(
            "/simulation/ticks_per_day",
            format!(
                "expected an integer in 1..={MAX_TICKS_PER_DAY}, found {}",
                sim.ticks_per_day
            ),
        );
    }
    if !(1..=MAX_DAYS).contains(&sim.num_days) {
        return err(
            "/simulation/num_days",
            format!(
                "expected an integer in 1..={MAX_DAYS}, found {}",
                sim.num_days
            ),
        );
    }
    let t_total = cfg.total_ticks();
    if t_total > MAX_EPISODE_TICKS {
        return err(
            "/simulation/num_days",
            format!(
                "expected ticks_per_day × num_days ≤ {MAX_EPISODE_TICKS}, found {} × {} = {t_total}",
                sim.ticks_per_day, sim.num_days
            ),
        );
    }
    // T ≤ 10^7 < 2^31 − 1 (ENGINE.md §2), so the conversion cannot fail.
    u32::try_from(t_total).or_else(|_| err("/simulation", "the episode is too long"))
}

fn validate_agent(
    cfg: &EngineConfig,
    i: usize,
    a: &AgentCfg,
    ids: &BTreeSet<&str>,
) -> Result<(), ConfigError> {
    let p = format!("/agents/{i}");
    non_negative(&format!("{p}/unsecured_cap"), a.unsecured_cap)?;
    non_negative(&format!("{p}/posted_collateral"), a.posted_collateral)?;
    non_negative(&format!("{p}/liquidity_pool"), a.liquidity_pool)?;
    non_negative(&format!("{p}/liquidity_buffer"), a.liquidity_buffer)?;
    if let Some(c) = a.max_collateral_capacity {
        non_negative(&format!("{p}/max_collateral_capacity"), c)?;
    }
    finite_in(
        &format!("{p}/collateral_haircut"),
        a.collateral_haircut,
        0.0,
        1.0,
    )?;
    finite_in(
        &format!("{p}/liquidity_allocation_fraction"),
        a.liquidity_allocation_fraction,
        0.0,
        1.0,
    )?;
    for (cp, v) in &a.limits.bilateral_limits {
        let ptr = format!("{p}/limits/bilateral_limits/{cp}");
        check_counterparty(&ptr, cp, &a.id, ids)?;
        non_negative(&ptr, *v)?;
    }
    if let Some(m) = a.limits.multilateral_limit {
        non_negative(&format!("{p}/limits/multilateral_limit"), m)?;
    }
    if a.arrival_config.is_some() && a.arrival_bands.is_some() {
        return err(&p, "`arrival_config` and `arrival_bands` are exclusive");
    }
    let tpd = cfg.simulation.ticks_per_day;
    if let Some(s) = &a.arrival_config {
        validate_stream(&format!("{p}/arrival_config"), s, &a.id, ids, tpd, false)?;
    }
    if let Some(b) = &a.arrival_bands {
        for (name, s) in [
            ("urgent", &b.urgent),
            ("normal", &b.normal),
            ("low", &b.low),
        ] {
            if let Some(s) = s {
                validate_stream(
                    &format!("{p}/arrival_bands/{name}"),
                    s,
                    &a.id,
                    ids,
                    tpd,
                    true,
                )?;
            }
        }
    }
    Ok(())
}

fn check_counterparty(
    ptr: &str,
    cp: &str,
    own: &str,
    ids: &BTreeSet<&str>,
) -> Result<(), ConfigError> {
    if !ids.contains(cp) {
        return err(ptr, format!("unknown agent `{cp}`"));
    }
    if cp == own {
        return err(
            ptr,
            format!("agent `{own}` cannot name itself as a counterparty"),
        );
    }
    Ok(())
}

fn validate_stream(
    p: &str,
    s: &StreamCfg,
    own: &str,
    ids: &BTreeSet<&str>,
    tpd: u32,
    band: bool,
) -> Result<(), ConfigError> {
    finite_in(
        &format!("{p}/rate_per_tick"),
        s.rate_per_tick,
        0.0,
        MAX_LAMBDA,
    )?;
    let mut peak = s.rate_per_tick;
    for (k, w) in s.time_windows.iter().enumerate() {
        let wp = format!("{p}/time_windows/{k}");
        if w.start_tick >= w.end_tick || w.end_tick > tpd {
            return err(
                wp,
                format!(
                    "expected start_tick < end_tick ≤ ticks_per_day ({tpd}), found {}..{}",
                    w.start_tick, w.end_tick
                ),
            );
        }
        finite_in(
            &format!("{wp}/rate_multiplier"),
            w.rate_multiplier,
            0.0,
            MAX_LAMBDA,
        )?;
        peak *= w.rate_multiplier.max(1.0);
    }
    if peak > MAX_LAMBDA {
        return err(
            format!("{p}/rate_per_tick"),
            "the arrival rate with its time windows exceeds 10^6 per tick",
        );
    }
    validate_amount(&format!("{p}/amount_distribution"), &s.amount_distribution)?;
    let mut wsum = 0.0;
    for (cp, w) in &s.counterparty_weights {
        let ptr = format!("{p}/counterparty_weights/{cp}");
        check_counterparty(&ptr, cp, own, ids)?;
        finite_in(&ptr, *w, 0.0, f64::MAX)?;
        wsum += w;
    }
    if !s.counterparty_weights.is_empty() && wsum <= 0.0 {
        return err(
            format!("{p}/counterparty_weights"),
            "the weights must have a positive total",
        );
    }
    let [dmin, dmax] = s.deadline_range;
    if dmin < 1 || dmin > dmax {
        return err(
            format!("{p}/deadline_range"),
            format!("expected 1 ≤ min ≤ max, found [{dmin}, {dmax}]"),
        );
    }
    match (&s.priority_distribution, band) {
        (None, false) => {
            return err(
                format!("{p}/priority_distribution"),
                "a priority distribution is required",
            )
        }
        (Some(_), true) => {
            return err(
                format!("{p}/priority_distribution"),
                "a band fixes its priority range; remove the priority distribution",
            )
        }
        (Some(d), false) => validate_priority(&format!("{p}/priority_distribution"), d)?,
        (None, true) => {}
    }
    Ok(())
}

fn validate_amount(p: &str, a: &AmountCfg) -> Result<(), ConfigError> {
    let money = |ptr: &str, v: i64| -> Result<(), ConfigError> {
        if !(1..=MAX_AMOUNT).contains(&v) {
            return err(ptr, format!("expected 1..10^15 cents, found {v}"));
        }
        Ok(())
    };
    match a {
        AmountCfg::Uniform { min, max } => {
            money(&format!("{p}/min"), *min)?;
            money(&format!("{p}/max"), *max)?;
            if min > max {
                return err(p, format!("expected min ≤ max, found {min} > {max}"));
            }
        }
        AmountCfg::Normal { mean, std_dev } => {
            finite_in(&format!("{p}/mean"), *mean, f64::MIN, f64::MAX)?;
            finite_in(&format!("{p}/std_dev"), *std_dev, 0.0, f64::MAX)?;
        }
        AmountCfg::LogNormal {
            mu,
            sigma,
            mean,
            std_dev,
        } => match (mu, sigma, mean, std_dev) {
            (Some(mu), Some(sigma), None, None) => {
                finite_in(&format!("{p}/mu"), *mu, -700.0, 700.0)?;
                finite_in(&format!("{p}/sigma"), *sigma, 0.0, 100.0)?;
            }
            (None, None, Some(mean), Some(sd)) => {
                if !(mean.is_finite() && *mean > 0.0) {
                    return err(
                        format!("{p}/mean"),
                        format!("expected mean > 0, found {mean}"),
                    );
                }
                finite_in(&format!("{p}/std_dev"), *sd, 0.0, f64::MAX)?;
            }
            _ => {
                return err(
                    p,
                    "LogNormal takes exactly one pair: {mu, sigma} (log space) or \
                     {mean, std_dev} (arithmetic moments in cents)",
                )
            }
        },
        AmountCfg::Exponential { mean, lambda } => match (mean, lambda) {
            (Some(m), None) if m.is_finite() && *m > 0.0 => {}
            (None, Some(l)) if l.is_finite() && *l > 0.0 => {}
            _ => {
                return err(
                    p,
                    "Exponential takes exactly one of `mean` > 0 or `lambda` > 0",
                )
            }
        },
        AmountCfg::Fixed { amount } => money(&format!("{p}/amount"), *amount)?,
    }
    Ok(())
}

fn validate_priority(p: &str, d: &PriorityCfg) -> Result<(), ConfigError> {
    let level = |ptr: String, v: i64| -> Result<(), ConfigError> {
        if !(0..=10).contains(&v) {
            return err(ptr, format!("expected a priority 0..10, found {v}"));
        }
        Ok(())
    };
    match d {
        PriorityCfg::Fixed { value } => level(format!("{p}/value"), *value)?,
        PriorityCfg::Uniform { min, max } => {
            level(format!("{p}/min"), *min)?;
            level(format!("{p}/max"), *max)?;
            if min > max {
                return err(p, "expected min ≤ max");
            }
        }
        PriorityCfg::Categorical { values, weights } => {
            if values.is_empty() || values.len() != weights.len() {
                return err(
                    p,
                    "`values` and `weights` must be non-empty and of equal length",
                );
            }
            for (k, v) in values.iter().enumerate() {
                level(format!("{p}/values/{k}"), *v)?;
            }
            let mut total = 0.0;
            for (k, w) in weights.iter().enumerate() {
                finite_in(&format!("{p}/weights/{k}"), *w, 0.0, f64::MAX)?;
                total += w;
            }
            if total <= 0.0 {
                return err(
                    format!("{p}/weights"),
                    "the weights must have a positive total",
                );
            }
        }
    }
    Ok(())
}

fn validate_events(
    cfg: &EngineConfig,
    ids: &BTreeSet<&str>,
    t_total: u32,
) -> Result<(), ConfigError> {
    let known = |ptr: String, id: &str| -> Result<(), ConfigError> {
        if !ids.contains(id) {
            return err(ptr, format!("unknown agent `{id}`"));
        }
        Ok(())
    };
    // Weight maps as they evolve, to check that no stream ends with a zero total weight.
    let mut weights: BTreeMap<&str, Vec<BTreeMap<String, f64>>> = BTreeMap::new();
    for a in &cfg.agents {
        let mut maps = Vec::new();
        let streams = a.arrival_config.iter().chain(
            a.arrival_bands
                .iter()
                .flat_map(|b| [&b.urgent, &b.normal, &b.low].into_iter().flatten()),
        );
        for s in streams {
            maps.push(s.counterparty_weights.clone());
        }
        weights.insert(&a.id, maps);
    }
    for (i, ev) in cfg.scenario_events.iter().enumerate() {
        let p = format!("/scenario_events/{i}");
        match ev.schedule() {
            Some(ScheduleCfg::OneTime { tick }) if tick >= t_total => {
                return err(
                    format!("{p}/schedule/tick"),
                    format!(
                        "tick {tick} is beyond the episode (last tick {})",
                        t_total - 1
                    ),
                )
            }
            Some(ScheduleCfg::Repeating {
                start_tick,
                interval,
            }) => {
                if interval == 0 {
                    return err(format!("{p}/schedule/interval"), "expected an interval > 0");
                }
                if start_tick >= t_total {
                    return err(
                        format!("{p}/schedule/start_tick"),
                        format!("tick {start_tick} is beyond the episode"),
                    );
                }
            }
            None if !matches!(ev, ScenarioEventCfg::AgentOutage { .. }) => {
                return err(format!("{p}/schedule"), "a schedule is required")
            }
            _ => {}
        }
        match ev {
            ScenarioEventCfg::DirectTransfer {
                from_agent,
                to_agent,
                amount,
                ..
            }
            | ScenarioEventCfg::ScheduledSettlement {
                from_agent,
                to_agent,
                amount,
                ..
            } => {
                known(format!("{p}/from_agent"), from_agent)?;
                known(format!("{p}/to_agent"), to_agent)?;
                if from_agent == to_agent {
                    return err(format!("{p}/to_agent"), "sender and receiver must differ");
                }
                if !(1..=MAX_AMOUNT).contains(amount) {
                    return err(format!("{p}/amount"), "expected 1..10^15 cents");
                }
            }
            // `deadline: 0` is allowed: due in its arrival tick (ENGINE.md §2).
            ScenarioEventCfg::CustomTransactionArrival {
                from_agent,
                to_agent,
                amount,
                priority,
                ..
            } => {
                known(format!("{p}/from_agent"), from_agent)?;
                known(format!("{p}/to_agent"), to_agent)?;
                if from_agent == to_agent {
                    return err(format!("{p}/to_agent"), "sender and receiver must differ");
                }
                if !(1..=MAX_AMOUNT).contains(amount) {
                    return err(format!("{p}/amount"), "expected 1..10^15 cents");
                }
                if !(0..=10).contains(priority) {
                    return err(format!("{p}/priority"), "expected a priority 0..10");
                }
            }
            ScenarioEventCfg::CollateralAdjustment { agent, .. }
            | ScenarioEventCfg::UnsecuredCapChange { agent, .. }
            | ScenarioEventCfg::PolicyChange { agent, .. } => known(format!("{p}/agent"), agent)?,
            ScenarioEventCfg::GlobalArrivalRateChange { multiplier, .. } => {
                positive(&format!("{p}/multiplier"), *multiplier)?
            }
            ScenarioEventCfg::AgentArrivalRateChange {
                agent, multiplier, ..
            } => {
                known(format!("{p}/agent"), agent)?;
                positive(&format!("{p}/multiplier"), *multiplier)?;
            }
            ScenarioEventCfg::CounterpartyWeightChange {
                agent,
                counterparty,
                new_weight,
                ..
            } => {
                known(format!("{p}/agent"), agent)?;
                check_counterparty(&format!("{p}/counterparty"), counterparty, agent, ids)?;
                finite_in(&format!("{p}/new_weight"), *new_weight, 0.0, f64::MAX)?;
                if let Some(maps) = weights.get_mut(agent.as_str()) {
                    for m in maps.iter_mut() {
                        if m.is_empty() {
                            for other in ids.iter().filter(|o| **o != agent.as_str()) {
                                m.insert((*other).to_string(), 1.0);
                            }
                        }
                        m.insert(counterparty.clone(), *new_weight);
                        if m.values().sum::<f64>() <= 0.0 {
                            return err(
                                format!("{p}/new_weight"),
                                format!("this change leaves a stream of `{agent}` with zero total weight"),
                            );
                        }
                    }
                }
            }
            ScenarioEventCfg::DeadlineWindowChange {
                min_ticks_multiplier,
                max_ticks_multiplier,
                ..
            } => {
                for (k, m) in [("min", min_ticks_multiplier), ("max", max_ticks_multiplier)] {
                    if let Some(m) = m {
                        positive(&format!("{p}/{k}_ticks_multiplier"), *m)?;
                    }
                }
            }
            ScenarioEventCfg::AgentOutage {
                agent,
                start_tick,
                end_tick,
                ..
            } => {
                known(format!("{p}/agent"), agent)?;
                if start_tick >= end_tick || *end_tick > t_total {
                    return err(
                        format!("{p}/end_tick"),
                        format!(
                            "expected start_tick < end_tick ≤ {t_total}, found {start_tick}..{end_tick}"
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

fn positive(ptr: &str, v: f64) -> Result<(), ConfigError> {
    if !(v.is_finite() && v > 0.0) {
        return err(ptr, format!("expected a finite number > 0, found {v}"));
    }
    Ok(())
}
