//! Clock bounds of the engine config (docs/engine-config.md): a day of 1..=100,000 ticks,
//! 1..=10,000 days, at most 10,000,000 ticks in all. Table-driven: each case is accepted or
//! refused at its JSON pointer, with the bound in the message.

mod common;

use common::{agent, config};
use paysim_core::config::{MAX_DAYS, MAX_EPISODE_TICKS, MAX_TICKS_PER_DAY};
use paysim_core::{Engine, EngineError};

fn verdict(tpd: u32, days: u32) -> Result<u32, (String, String)> {
    let cfg = config(tpd, days, 1, vec![agent("A", 0), agent("B", 0)]);
    match Engine::new(&cfg.to_string()) {
        Ok(engine) => Ok(engine.total_ticks()),
        Err(EngineError::Config(err)) => Err((err.pointer, err.message)),
        Err(other) => panic!("expected a config error, got {other}"),
    }
}

#[test]
fn the_bounds_are_the_documented_ones() {
    assert_eq!(MAX_TICKS_PER_DAY, 100_000);
    assert_eq!(MAX_DAYS, 10_000);
    assert_eq!(MAX_EPISODE_TICKS, 10_000_000);
}

#[test]
fn clock_bounds_table() {
    let ok: &[(u32, u32, u32)] = &[
        (1, 1, 1),
        (100_000, 1, 100_000),
        (100_000, 100, 10_000_000),
        (1_000, 10_000, 10_000_000),
        (1, 10_000, 10_000),
    ];
    for &(tpd, days, total) in ok {
        assert_eq!(verdict(tpd, days), Ok(total), "{tpd} × {days}");
    }
    let refused: &[(u32, u32, &str, &str)] = &[
        (0, 1, "/simulation/ticks_per_day", "found 0"),
        (
            100_001,
            1,
            "/simulation/ticks_per_day",
            "1..=100000, found 100001",
        ),
        (
            1_000_000_000,
            1,
            "/simulation/ticks_per_day",
            "found 1000000000",
        ),
        (
            u32::MAX,
            u32::MAX,
            "/simulation/ticks_per_day",
            "found 4294967295",
        ),
        (1, 0, "/simulation/num_days", "found 0"),
        (1, 10_001, "/simulation/num_days", "1..=10000, found 10001"),
        (
            100_000,
            101,
            "/simulation/num_days",
            "≤ 10000000, found 100000 × 101 = 10100000",
        ),
        (
            1_001,
            10_000,
            "/simulation/num_days",
            "found 1001 × 10000 = 10010000",
        ),
    ];
    for &(tpd, days, pointer, fragment) in refused {
        match verdict(tpd, days) {
            Err((ptr, message)) => {
                assert_eq!(ptr, pointer, "{tpd} × {days}: {message}");
                assert!(message.contains(fragment), "{tpd} × {days}: {message}");
            }
            Ok(total) => panic!("{tpd} × {days} accepted with {total} ticks"),
        }
    }
}
