//! Simulation state: agents, payments and the queues, with the aggregates that keep every
//! per-tick question O(1) (ENGINE.md §14: work follows live payments).
//!
//! Payments live in a slab (`Vec<Payment>` with a free list): hot code refers to them by slot,
//! never by string id. A payment's *key* is `root_number << 8 | child_number`, which is enough
//! to render its string id (`tx_00000042.3`): split pieces are never divisible, so families
//! have depth one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::RtgsPriority;
use crate::costs::CostLedger;

pub type Slot = u32;

/// Renders a payment key as its public id.
pub fn tx_id_of(key: u64, out: &mut String) {
    use std::fmt::Write;
    let root = key >> 8;
    let child = key & 0xFF;
    let _ = write!(out, "tx_{root:08}");
    if child > 0 {
        let _ = write!(out, ".{child}");
    }
}

/// Parses a public id back into a key.
pub fn key_of_tx_id(id: &str) -> Option<u64> {
    let rest = id.strip_prefix("tx_")?;
    let (root, child) = match rest.split_once('.') {
        Some((r, c)) => (r, c.parse::<u64>().ok()?),
        None => (rest, 0),
    };
    if root.len() < 8 || !root.bytes().all(|b| b.is_ascii_digit()) || child > 255 {
        return None;
    }
    let root: u64 = root.parse().ok()?;
    if root >= 1 << 56 {
        return None;
    }
    Some(root << 8 | child)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    Overdue { since: u32 },
    Settled { tick: u32 },
    Dropped { tick: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Location {
    Q1,
    Q1Scheduled { release_tick: u32 },
    Released,
    Q2,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Generated,
    Injected,
    Scenario,
    Split,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Generated => "generated",
            Source::Injected => "injected",
            Source::Scenario => "scenario",
            Source::Split => "split",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub key: u64,
    pub creation: u64,
    pub sender: u32,
    pub receiver: u32,
    pub amount: i64,
    pub remaining: i64,
    pub arrival: u32,
    pub deadline: u32,
    pub priority: u8,
    pub base_priority: u8,
    pub divisible: bool,
    pub declared_rtgs: RtgsPriority,
    pub rtgs: RtgsPriority,
    pub rtgs_entry_seq: u64,
    pub queued_at: u32,
    pub enqueue_seq: u64,
    pub status: Status,
    pub location: Location,
    /// Slot of the split parent, for pieces.
    pub parent: Option<Slot>,
    /// For a split parent: pieces not yet finished, and whether one was dropped.
    pub live_children: u16,
    pub child_dropped: bool,
    pub num_children: u16,
    pub deadline_penalty_charged: bool,
    pub source: Source,
    /// For originals: counted in the run summary's `overdue` already.
    pub counted_overdue: bool,
}

impl Payment {
    pub fn is_overdue(&self) -> bool {
        matches!(self.status, Status::Overdue { .. })
    }
    pub fn is_finished(&self) -> bool {
        matches!(self.status, Status::Settled { .. } | Status::Dropped { .. })
    }
    /// Delay-cost class: band × overdue (ENGINE.md §8.2).
    pub fn class(&self) -> usize {
        crate::costs::class_index(self.priority, self.is_overdue())
    }
}

/// A slab of payments: dense slots, reused after a payment leaves every structure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PaymentSlab {
    slots: Vec<Option<Payment>>,
    free: Vec<Slot>,
    by_key: BTreeMap<u64, Slot>,
}

impl PaymentSlab {
    pub fn insert(&mut self, p: Payment) -> Slot {
        let key = p.key;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(p);
                s
            }
            None => {
                self.slots.push(Some(p));
                (self.slots.len() - 1) as Slot
            }
        };
        self.by_key.insert(key, slot);
        slot
    }
    pub fn remove(&mut self, slot: Slot) -> Option<Payment> {
        let p = self.slots.get_mut(slot as usize)?.take()?;
        self.by_key.remove(&p.key);
        self.free.push(slot);
        Some(p)
    }
    #[inline]
    pub fn get(&self, slot: Slot) -> Option<&Payment> {
        self.slots.get(slot as usize).and_then(|p| p.as_ref())
    }
    #[inline]
    pub fn get_mut(&mut self, slot: Slot) -> Option<&mut Payment> {
        self.slots.get_mut(slot as usize).and_then(|p| p.as_mut())
    }
    pub fn slot_of(&self, key: u64) -> Option<Slot> {
        self.by_key.get(&key).copied()
    }
    pub fn len(&self) -> usize {
        self.by_key.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
    /// Live payments in key order (for checkpoints and queries, not the tick loop).
    pub fn iter(&self) -> impl Iterator<Item = (Slot, &Payment)> {
        self.by_key
            .values()
            .filter_map(|s| self.get(*s).map(|p| (*s, p)))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub remaining: i64,
    pub focus: Option<Vec<u32>>,
    pub per_cpty: Option<i64>,
    pub usage: BTreeMap<u32, i64>,
    pub max: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timer {
    pub amount: i64,
    pub reason: String,
    pub posted_at: u32,
}

/// Per-agent state (ENGINE.md §3.1) and its incrementally kept aggregates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub balance: i64,
    pub opening_balance: i64,
    pub unsecured_cap: i64,
    pub posted_collateral: i64,
    pub haircut: f64,
    pub k: u64,
    pub max_collateral_capacity: i64,
    pub liquidity_buffer: i64,
    pub pool: i64,
    pub allocated: i64,
    pub alloc_fraction: f64,
    pub bilateral_limits: BTreeMap<u32, i64>,
    pub multilateral_limit: Option<i64>,
    pub out_to: BTreeMap<u32, i64>,
    pub out_total: i64,
    pub budget: Option<Budget>,
    pub registers: BTreeMap<String, f64>,
    pub timers: BTreeMap<u32, Vec<Timer>>,
    pub outage: Option<(u32, u32)>,
    pub pending_credit: i64,
    pub pending_credit_sources: u32,
    // Aggregates over the queues.
    pub q1_count: u32,
    pub q1_value: i64,
    pub q2_count: u32,
    pub q2_value: i64,
    pub incoming_q2_count: u32,
    pub incoming_q2_value: i64,
    pub delay_sums: [i64; 6],
    // Run-summary counters.
    pub sent: u64,
    pub settled_sent: u64,
    pub received: u64,
    pub dropped: u64,
    pub min_balance: i64,
    /// Settlement delay (settlement tick − arrival tick) summed over its sent original
    /// payments that settled.
    pub settlement_delay: u64,
    /// Value settled out minus value settled in, cumulative over the run.
    pub net_out: i64,
    /// The largest end-of-tick `net_out` (0 at the start): the liquidity the bank's payments
    /// absorbed at their peak.
    pub peak_net_debit: i64,
    pub costs: CostLedger,
    /// Index into the engine's policy table.
    pub policy: u32,
}

impl Agent {
    pub fn limit(&self) -> i64 {
        crate::liquidity::overdraft_limit(self.unsecured_cap, self.posted_collateral, self.k)
    }
    pub fn can_pay(&self, x: i64) -> bool {
        crate::liquidity::can_pay(self.balance, self.limit(), x)
    }
    pub fn in_outage(&self, t: u32) -> bool {
        matches!(self.outage, Some((s, e)) if s <= t && t < e)
    }
}
