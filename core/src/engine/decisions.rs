//! The policy seam: the decisions a policy can take at each decision point of the tick loop,
//! in the engine's own terms, and the `Decider` trait through which they are asked for.
//!
//! The engine applies decisions (ENGINE.md §5.3, §3.4, §3.5); it does not care where they come
//! from. Agents without a decider run the release-everything baseline (an absent payment tree).
//! The compiled policy language plugs in here; tests use scripted deciders to drive every
//! mechanism (split, stagger, drop, budget, registers, collateral, Q2 actions).

use crate::config::RtgsPriority;

/// What a payment-tree evaluation decided for one payment.
#[derive(Clone, Debug, PartialEq)]
pub enum PaymentAction {
    Release {
        priority_flag: Option<u8>,
        timed_for_tick: Option<i64>,
        rtgs_priority: Option<RtgsPriority>,
    },
    Split {
        num_splits: u32,
    },
    StaggerSplit {
        num_splits: u32,
        first_now: u32,
        gap_ticks: u32,
        priority_boost: u8,
    },
    Hold {
        reason: String,
    },
    Drop,
    Reprioritize {
        new_priority: u8,
    },
    WithdrawFromRtgs,
    ResubmitToRtgs {
        rtgs_priority: RtgsPriority,
    },
}

/// What a bank-tree evaluation decided.
#[derive(Clone, Debug, PartialEq)]
pub enum BankAction {
    SetReleaseBudget {
        max_value: i64,
        focus: Option<Vec<u32>>,
        max_per_counterparty: Option<i64>,
    },
    SetState {
        key: String,
        value: f64,
        reason: String,
    },
    AddState {
        key: String,
        value: f64,
        reason: String,
    },
    NoAction,
}

/// What a collateral-tree evaluation decided.
#[derive(Clone, Debug, PartialEq)]
pub enum CollateralAction {
    Post {
        amount: i64,
        reason: String,
        auto_withdraw_after_ticks: Option<u32>,
    },
    Withdraw {
        amount: i64,
        reason: String,
    },
    Hold,
}

/// The collateral layers of the tick (S4 and S12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Strategic,
    EndOfTick,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Strategic => "strategic",
            Layer::EndOfTick => "end_of_tick",
        }
    }
}

/// The facts of one payment a decider sees (from the S7 snapshot).
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentInfo {
    pub tx_id: String,
    pub sender: u32,
    pub receiver: u32,
    pub amount: i64,
    pub remaining: i64,
    pub arrival_tick: u32,
    pub deadline_tick: u32,
    pub priority: u8,
    pub divisible: bool,
    pub is_split: bool,
    pub is_overdue: bool,
    pub in_queue2: bool,
    pub rtgs_priority: RtgsPriority,
}

/// A source of decisions for one agent. Every method has the baseline as its default.
pub trait Decider: Send + Sync {
    fn strategic_collateral(&mut self, _agent: u32, _tick: u32) -> CollateralAction {
        CollateralAction::Hold
    }
    fn bank(&mut self, _agent: u32, _tick: u32) -> BankAction {
        BankAction::NoAction
    }
    fn payment(&mut self, _tick: u32, _payment: &PaymentInfo) -> PaymentAction {
        PaymentAction::Release {
            priority_flag: None,
            timed_for_tick: None,
            rtgs_priority: None,
        }
    }
    fn end_of_tick_collateral(&mut self, _agent: u32, _tick: u32) -> CollateralAction {
        CollateralAction::Hold
    }
    /// Whether the payment tree can act on Q2 payments (S8 runs only for such policies).
    fn uses_q2_actions(&self) -> bool {
        false
    }
}
