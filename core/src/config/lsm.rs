//! `lsm_config` (ENGINE.md §7, docs/lsm.md §1): the LSM switches and the list of algorithms S11
//! runs, in order.
//!
//! `algorithms` is the one key of the engine config that may be absent. Absent, the list is
//! today's (`bilateral` and `cycles` as the two switches say), and the config hash of every
//! config written before the key existed stays what it was. Present, it is the list, and the
//! switches must be its projections, so that a config never says two different things.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// One algorithm of S11.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LsmAlgorithm {
    /// Bilateral offsetting (ENGINE.md §7.1).
    Bilateral,
    /// Multilateral cycles (ENGINE.md §7.2).
    Cycles,
    /// All of Q2 at once when every bank covers its net position (docs/lsm.md §3).
    Multilateral,
    /// The greatest queue-order-respecting part of Q2 every bank covers (docs/lsm.md §4).
    Partial,
}

impl LsmAlgorithm {
    /// Every algorithm, in declaration order.
    pub const ALL: [LsmAlgorithm; 4] = [
        LsmAlgorithm::Bilateral,
        LsmAlgorithm::Cycles,
        LsmAlgorithm::Multilateral,
        LsmAlgorithm::Partial,
    ];

    /// The config name, which is also the `algorithm` of `AlgorithmExecution`.
    pub fn as_str(self) -> &'static str {
        match self {
            LsmAlgorithm::Bilateral => "bilateral",
            LsmAlgorithm::Cycles => "cycles",
            LsmAlgorithm::Multilateral => "multilateral",
            LsmAlgorithm::Partial => "partial",
        }
    }
}

/// The effective algorithm list: at most the four distinct algorithms, kept inline so that
/// reading it every tick allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgorithmList {
    items: [LsmAlgorithm; 4],
    len: usize,
}

impl AlgorithmList {
    fn new() -> Self {
        AlgorithmList {
            items: [LsmAlgorithm::Bilateral; 4],
            len: 0,
        }
    }

    fn push(&mut self, a: LsmAlgorithm) {
        if self.len < self.items.len() {
            self.items[self.len] = a;
            self.len += 1;
        }
    }

    /// The algorithms in the order they run.
    pub fn as_slice(&self) -> &[LsmAlgorithm] {
        &self.items[..self.len]
    }

    /// Whether S11 does nothing ("LSM off").
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LsmCfg {
    pub enable_bilateral: bool,
    pub enable_cycles: bool,
    pub max_cycle_length: u32,
    pub max_cycles_per_tick: u32,
    pub max_iterations: u32,
    /// The algorithms in run order; `None` (absent or `null`) = the two switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<LsmAlgorithm>>,
}

impl LsmCfg {
    /// The algorithms S11 runs, in order (docs/lsm.md §1).
    pub fn effective_algorithms(&self) -> AlgorithmList {
        let mut list = AlgorithmList::new();
        match &self.algorithms {
            Some(given) => given.iter().for_each(|a| list.push(*a)),
            None => {
                if self.enable_bilateral {
                    list.push(LsmAlgorithm::Bilateral);
                }
                if self.enable_cycles {
                    list.push(LsmAlgorithm::Cycles);
                }
            }
        }
        list
    }
}

/// Checks `lsm_config`: the cycle length range, distinct algorithm names, and switches that
/// agree with a given list.
pub(super) fn validate_lsm(lsm: &LsmCfg) -> Result<(), ConfigError> {
    if !(3..=10).contains(&lsm.max_cycle_length) {
        return Err(ConfigError::new(
            "/lsm_config/max_cycle_length".to_string(),
            format!("expected 3..10, found {}", lsm.max_cycle_length),
        ));
    }
    let Some(list) = &lsm.algorithms else {
        return Ok(());
    };
    for (i, a) in list.iter().enumerate() {
        if let Some(first) = list[..i].iter().position(|b| b == a) {
            return Err(ConfigError::new(
                format!("/lsm_config/algorithms/{i}"),
                format!(
                    "duplicate algorithm `{}` (already at index {first}); each may run once per \
                     iteration",
                    a.as_str()
                ),
            ));
        }
    }
    for (key, flag, alg) in [
        (
            "enable_bilateral",
            lsm.enable_bilateral,
            LsmAlgorithm::Bilateral,
        ),
        ("enable_cycles", lsm.enable_cycles, LsmAlgorithm::Cycles),
    ] {
        let listed = list.contains(&alg);
        if flag != listed {
            return Err(ConfigError::new(
                format!("/lsm_config/{key}"),
                format!(
                    "`{key}: {flag}` contradicts /lsm_config/algorithms, which {} `{}`; with a \
                     list, `{key}` must be {listed}",
                    if listed { "lists" } else { "does not list" },
                    alg.as_str()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use LsmAlgorithm::*;

    fn cfg(b: bool, c: bool, algorithms: Option<Vec<LsmAlgorithm>>) -> LsmCfg {
        LsmCfg {
            enable_bilateral: b,
            enable_cycles: c,
            max_cycle_length: 4,
            max_cycles_per_tick: 10,
            max_iterations: 3,
            algorithms,
        }
    }

    #[test]
    fn absent_list_follows_the_switches() {
        for (b, c, want) in [
            (true, true, vec![Bilateral, Cycles]),
            (true, false, vec![Bilateral]),
            (false, true, vec![Cycles]),
            (false, false, vec![]),
        ] {
            let l = cfg(b, c, None);
            assert_eq!(l.effective_algorithms().as_slice(), &want[..]);
            assert!(validate_lsm(&l).is_ok());
        }
    }

    #[test]
    fn a_given_list_is_the_list_in_its_order() {
        let l = cfg(true, false, Some(vec![Partial, Bilateral, Multilateral]));
        assert!(validate_lsm(&l).is_ok());
        assert_eq!(
            l.effective_algorithms().as_slice(),
            &[Partial, Bilateral, Multilateral]
        );
        let empty = cfg(false, false, Some(vec![]));
        assert!(validate_lsm(&empty).is_ok());
        assert!(empty.effective_algorithms().is_empty());
    }

    #[test]
    fn contradictions_and_duplicates_are_located() {
        let e = validate_lsm(&cfg(true, true, Some(vec![Multilateral]))).unwrap_err();
        assert_eq!(e.pointer, "/lsm_config/enable_bilateral");
        assert!(
            e.message.contains("does not list `bilateral`"),
            "{}",
            e.message
        );
        let e = validate_lsm(&cfg(false, false, Some(vec![Cycles]))).unwrap_err();
        assert_eq!(e.pointer, "/lsm_config/enable_cycles");
        assert!(e.message.contains("must be true"), "{}", e.message);
        let e = validate_lsm(&cfg(
            false,
            false,
            Some(vec![Partial, Multilateral, Partial]),
        ))
        .unwrap_err();
        assert_eq!(e.pointer, "/lsm_config/algorithms/2");
        assert!(e.message.contains("already at index 0"), "{}", e.message);
    }

    #[test]
    fn serde_names_and_absence() {
        let l: LsmCfg = serde_json::from_str(
            r#"{"enable_bilateral": false, "enable_cycles": false, "max_cycle_length": 4,
                "max_cycles_per_tick": 10, "max_iterations": 3}"#,
        )
        .expect("absent key");
        assert_eq!(l.algorithms, None);
        let text = serde_json::to_string(&l).expect("json");
        assert!(!text.contains("algorithms"), "{text}");
        let l: LsmCfg = serde_json::from_str(
            r#"{"enable_bilateral": false, "enable_cycles": true, "max_cycle_length": 4,
                "max_cycles_per_tick": 10, "max_iterations": 3,
                "algorithms": ["multilateral", "partial", "cycles"]}"#,
        )
        .expect("list");
        assert_eq!(l.algorithms, Some(vec![Multilateral, Partial, Cycles]));
        for a in LsmAlgorithm::ALL {
            assert_eq!(
                serde_json::to_string(&a).expect("name"),
                format!("\"{}\"", a.as_str())
            );
        }
    }
}
