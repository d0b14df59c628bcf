//! S11, the liquidity-saving mechanism (ENGINE.md §7). Not implemented yet: the LSM issue
//! fills this in (bilateral offsetting, multilateral cycles, iteration, sequencing).

use super::Engine;

impl Engine {
    /// Runs the LSM on Q2 after the queue pass.
    pub(super) fn lsm_step(&mut self) {}
}
