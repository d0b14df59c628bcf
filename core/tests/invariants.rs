//! Property tests over random scenarios (ENGINE.md §15): conservation, single settlement,
//! overdraft, exclusive membership of queues, determinism, checkpoint identity, reconstruction.

mod common;

use std::collections::BTreeMap;

use common::random::scenario;
use common::*;
use paysim_core::events::EventType;
use paysim_core::Engine;
use proptest::prelude::*;
use serde_json::json;

fn check_tick_invariants(e: &Engine, exogenous: bool) -> Result<(), TestCaseError> {
    let st = e.state();
    // I1 conservation: balances (pending credits are 0 at tick end) vs openings + pools.
    let evs = all_events(e);
    let (mut alloc, mut ret) = (0i64, 0i64);
    for v in &evs {
        match v.ty {
            EventType::LiquidityAllocation => alloc += v.amount.unwrap_or(0),
            EventType::LiquidityReturn => ret += v.amount.unwrap_or(0),
            _ => {}
        }
    }
    let balances: i64 = st.agents.iter().map(|a| a.balance).sum();
    let opening: i64 = st.agents.iter().map(|a| a.opening_balance).sum();
    prop_assert_eq!(balances, opening + alloc - ret);
    prop_assert!(st.agents.iter().all(|a| a.pending_credit == 0));
    // I7 reconstruction.
    let rebuilt = reconstruct(&evs, st.agents.len());
    let actual: Vec<i64> = st.agents.iter().map(|a| a.balance).collect();
    prop_assert_eq!(rebuilt, actual);
    // I3 overdraft (only exogenous transfers may break it).
    if !exogenous {
        for a in &st.agents {
            prop_assert!(
                a.balance >= -a.limit(),
                "balance {} below -L {}",
                a.balance,
                a.limit()
            );
        }
    }
    // I4 exclusive membership and aggregates recomputed from the queues.
    let mut seen = BTreeMap::new();
    for (i, q) in st.q1.iter().enumerate() {
        let mut value = 0i64;
        for slot in q.values().chain(st.scheduled[i].values()) {
            prop_assert!(seen.insert(*slot, "q1").is_none());
            value += st.payments.get(*slot).map(|p| p.remaining).unwrap_or(0);
        }
        prop_assert_eq!(value, st.agents[i].q1_value);
    }
    let mut q2_value = vec![0i64; st.agents.len()];
    for slot in st.q2.values() {
        prop_assert!(seen.insert(*slot, "q2").is_none());
        let p = st.payments.get(*slot).expect("live");
        q2_value[p.sender as usize] += p.remaining;
    }
    for (i, a) in st.agents.iter().enumerate() {
        prop_assert_eq!(q2_value[i], a.q2_value);
        let delay: i64 = a.delay_sums.iter().sum();
        prop_assert_eq!(delay, a.q1_value + a.q2_value);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_tick(sc in scenario()) {
        let mut e = engine(&sc.cfg);
        while !e.done() {
            e.tick().expect("tick");
            check_tick_invariants(&e, sc.exogenous)?;
        }
        // I2 single settlement, I9 gap-free seqs.
        let evs = all_events(&e);
        let mut settled = BTreeMap::new();
        for (i, v) in evs.iter().enumerate() {
            prop_assert_eq!(v.seq, i as u64);
            if matches!(v.ty, EventType::RtgsImmediateSettlement | EventType::Queue2LiquidityRelease | EventType::OffsetSettlement) {
                prop_assert!(settled.insert(v.tx, v.seq).is_none(), "settled twice: {:?}", v.tx);
            }
        }
        let s = e.summary();
        let t = &s["totals"];
        prop_assert_eq!(t["arrivals"].as_u64(), Some(t["settled"].as_u64().unwrap() + t["dropped"].as_u64().unwrap() + t["unsettled"].as_u64().unwrap()));
        // I8: per-day buckets sum to the cumulative totals, and CostAccrual totals match.
        let accrued: i64 = evs.iter().filter(|v| v.ty == EventType::CostAccrual).map(|v| v.amount.unwrap_or(0)).sum();
        prop_assert_eq!(Some(accrued), s["costs"]["total"].as_i64());
    }

    #[test]
    fn runs_are_deterministic_and_seeds_matter(sc in scenario()) {
        let mut a = engine(&sc.cfg);
        let mut b = engine(&sc.cfg);
        a.run().unwrap();
        b.run().unwrap();
        prop_assert_eq!(json_lines(&a, 0), json_lines(&b, 0));
        let mut other = sc.cfg.clone();
        let seed = other["simulation"]["rng_seed"].as_u64().unwrap();
        other["simulation"]["rng_seed"] = json!(seed.wrapping_add(1));
        let mut c = engine(&other);
        c.run().unwrap();
        if a.summary()["totals"]["arrivals"].as_u64().unwrap_or(0) > 3 {
            prop_assert_ne!(json_lines(&a, 2), json_lines(&c, 2));
        }
    }

    #[test]
    fn checkpoint_restore_continues_identically(sc in scenario(), at in 0u32..40) {
        let text = sc.cfg.to_string();
        let mut full = engine(&sc.cfg);
        let cut = at % (full.total_ticks() + 1);
        full.run_until(cut).unwrap();
        let bytes = full.checkpoint().unwrap();
        let from = full.events().next_seq();
        let mut restored = Engine::restore(&text, &bytes).unwrap();
        prop_assert_eq!(restored.checkpoint().unwrap(), bytes.clone());
        full.run().unwrap();
        restored.run().unwrap();
        prop_assert_eq!(json_lines(&full, from), json_lines(&restored, from));
        prop_assert_eq!(full.summary(), restored.summary());
    }
}

#[test]
fn restore_rejects_another_config_and_damaged_bytes() {
    let cfg = config(5, 1, 3, vec![agent("A", 10), agent("B", 0)]);
    let mut e = engine(&cfg);
    e.run_until(2).unwrap();
    let bytes = e.checkpoint().unwrap();
    let mut other = cfg.clone();
    other["simulation"]["rng_seed"] = json!(4);
    assert!(matches!(
        Engine::restore(&other.to_string(), &bytes),
        Err(paysim_core::EngineError::Checkpoint(
            paysim_core::checkpoint_frame::CheckpointError::ConfigMismatch { .. }
        ))
    ));
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xFF;
    assert!(Engine::restore(&cfg.to_string(), &bad).is_err());
    assert!(Engine::restore(&cfg.to_string(), &bytes[..10]).is_err());
}

/// A stateless random policy: its decisions depend only on (seed, tick, payment), so a
/// restored engine given the same decider continues exactly as the original.
struct RandomPolicy {
    seed: u64,
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ceb9fe1a85ec53);
    x ^ (x >> 33)
}

impl paysim_core::engine::decisions::Decider for RandomPolicy {
    fn payment(
        &mut self,
        tick: u32,
        p: &paysim_core::engine::decisions::PaymentInfo,
    ) -> paysim_core::engine::decisions::PaymentAction {
        use paysim_core::config::RtgsPriority;
        use paysim_core::engine::decisions::PaymentAction as A;
        let h = mix(self.seed
            ^ mix(u64::from(tick))
            ^ mix(paysim_core::arrivals::rng::fnv1a64(p.tx_id.as_bytes())));
        match h % 12 {
            0..=4 => A::Release {
                priority_flag: None,
                timed_for_tick: None,
                rtgs_priority: None,
            },
            5 => A::Hold { reason: "x".into() },
            6 => A::Split {
                num_splits: (h >> 8) as u32 % 5,
            },
            7 => A::StaggerSplit {
                num_splits: 3,
                first_now: 1,
                gap_ticks: (h >> 8) as u32 % 3,
                priority_boost: 2,
            },
            8 => A::Drop,
            9 => A::Reprioritize {
                new_priority: (h >> 8) as u8 % 11,
            },
            10 => A::WithdrawFromRtgs,
            _ => A::ResubmitToRtgs {
                rtgs_priority: RtgsPriority::from_rank((h >> 8) as u8 % 3),
            },
        }
    }
    fn bank(&mut self, _agent: u32, tick: u32) -> paysim_core::engine::decisions::BankAction {
        use paysim_core::engine::decisions::BankAction as B;
        match mix(self.seed ^ u64::from(tick)) % 4 {
            0 => B::SetReleaseBudget {
                max_value: 20_000,
                focus: None,
                max_per_counterparty: None,
            },
            1 => B::AddState {
                key: "bank_state_n".into(),
                value: 1.0,
                reason: "policy_action".into(),
            },
            _ => B::NoAction,
        }
    }
    fn strategic_collateral(
        &mut self,
        _agent: u32,
        tick: u32,
    ) -> paysim_core::engine::decisions::CollateralAction {
        use paysim_core::engine::decisions::CollateralAction as C;
        match mix(self.seed ^ 77 ^ u64::from(tick)) % 5 {
            0 => C::Post {
                amount: 3_000,
                reason: "r".into(),
                auto_withdraw_after_ticks: Some(2),
            },
            1 => C::Withdraw {
                amount: 2_000,
                reason: "r".into(),
            },
            _ => C::Hold,
        }
    }
    fn uses_q2_actions(&self) -> bool {
        true
    }
}

fn with_random_policies(e: &mut Engine, seed: u64) {
    let ids: Vec<String> = e.agent_ids().to_vec();
    for (i, id) in ids.iter().enumerate() {
        e.set_decider(
            id,
            Box::new(RandomPolicy {
                seed: seed ^ (i as u64) << 40,
            }),
        )
        .unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_decisions(sc in scenario(), pseed in any::<u64>()) {
        let mut cfg = sc.cfg.clone();
        for a in cfg["agents"].as_array_mut().unwrap() {
            if let Some(s) = a.get_mut("arrival_config").filter(|s| !s.is_null()) {
                s["divisible"] = json!(true);
            }
        }
        let mut e = engine(&cfg);
        with_random_policies(&mut e, pseed);
        while !e.done() {
            e.tick().expect("tick");
            check_tick_invariants(&e, sc.exogenous)?;
        }
        let s = e.summary();
        let t = &s["totals"];
        prop_assert_eq!(t["arrivals"].as_u64(), Some(t["settled"].as_u64().unwrap() + t["dropped"].as_u64().unwrap() + t["unsettled"].as_u64().unwrap()));
        let evs = all_events(&e);
        let accrued: i64 = evs.iter().filter(|v| v.ty == EventType::CostAccrual).map(|v| v.amount.unwrap_or(0)).sum();
        prop_assert_eq!(Some(accrued), s["costs"]["total"].as_i64());
        let mut settled = std::collections::BTreeSet::new();
        for v in &evs {
            if v.ty.is_settlement_class() {
                prop_assert!(settled.insert(v.tx), "settled twice: {:?}", v.tx);
            }
        }
    }

    #[test]
    fn checkpoint_identity_under_random_decisions(sc in scenario(), pseed in any::<u64>(), at in 0u32..40) {
        let text = sc.cfg.to_string();
        let mut full = engine(&sc.cfg);
        with_random_policies(&mut full, pseed);
        let cut = at % (full.total_ticks() + 1);
        full.run_until(cut).unwrap();
        let bytes = full.checkpoint().unwrap();
        let from = full.events().next_seq();
        let mut restored = Engine::restore(&text, &bytes).unwrap();
        with_random_policies(&mut restored, pseed);
        prop_assert_eq!(restored.checkpoint().unwrap(), bytes);
        full.run().unwrap();
        restored.run().unwrap();
        prop_assert_eq!(json_lines(&full, from), json_lines(&restored, from));
        prop_assert_eq!(full.summary(), restored.summary());
    }
}
