//! Event types and detail keys (ENGINE.md §12.1).
//!
//! Both are closed vocabularies known when the engine is compiled, so they are
//! `#[repr(u8)]` enums: the log stores one byte per event type and one byte per
//! detail key instead of strings, and the names appear only at export. The
//! discriminants are the positions in `ALL` (`ALL[i] as u8 == i`), which makes
//! decoding a table lookup. New variants must be appended at the end of a list
//! so that existing codes keep their meaning.

use core::fmt;
use core::str::FromStr;

/// A name that is not an event type or detail key of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// `"event type"` or `"detail key"`.
    pub kind: &'static str,
    /// The name that was looked up.
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.kind, self.name)
    }
}

impl std::error::Error for UnknownName {}

/// Defines a `#[repr(u8)]` enum whose variants carry their catalogue names,
/// with `ALL`, `as_str`, `from_name`, `from_code`, `code`, `Display` and
/// `FromStr`. Writing the table once keeps names and codes from drifting apart.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident [$count:literal, $kind:literal] {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant in code order: `ALL[i].code() == i`.
            pub const ALL: [$name; $count] = [ $( $name::$variant, )+ ];

            /// The exact catalogue name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// Looks a catalogue name up (exact, case-sensitive).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// The one-byte code stored in the log.
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// Inverse of [`Self::code`].
            pub fn from_code(code: u8) -> Option<Self> {
                Self::ALL.get(usize::from(code)).copied()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_name(s).ok_or_else(|| UnknownName {
                    kind: $kind,
                    name: s.to_owned(),
                })
            }
        }
    };
}

named_enum! {
    /// One variant per `event_type` of the catalogue (ENGINE.md §12.1), in
    /// catalogue order. The comment on each variant says when it is emitted.
    pub enum EventType [41, "event type"] {
        /// At creation, seq 0.
        SimulationStarted => "SimulationStarted",
        /// At creation, one per agent in agent order.
        AgentOpened => "AgentOpened",
        /// S2/S3: a payment enters its sender's Q1.
        Arrival => "Arrival",
        /// S7(a): linear priority escalation.
        PriorityEscalated => "PriorityEscalated",
        /// S7: a Release was applied.
        PolicySubmit => "PolicySubmit",
        /// S7: Hold, engine-imposed holds, policy errors under `hold`.
        PolicyHold => "PolicyHold",
        /// S7: Drop.
        PolicyDrop => "PolicyDrop",
        /// S7: Split / StaggerSplit.
        PolicySplit => "PolicySplit",
        /// S7: Reprioritize (or a Release with a changed priority flag).
        TransactionReprioritized => "TransactionReprioritized",
        /// Entry into the release list.
        RtgsSubmission => "RtgsSubmission",
        /// S9: settled at RTGS entry.
        RtgsImmediateSettlement => "RtgsImmediateSettlement",
        /// S9: failed the RTGS rule, appended to Q2.
        QueuedRtgs => "QueuedRtgs",
        /// S9: the queueing reason is the bilateral limit.
        BilateralLimitExceeded => "BilateralLimitExceeded",
        /// S9: the queueing reason is the multilateral limit.
        MultilateralLimitExceeded => "MultilateralLimitExceeded",
        /// Any queue pass settled a Q2 payment.
        Queue2LiquidityRelease => "Queue2LiquidityRelease",
        /// S8: WithdrawFromRtgs.
        RtgsWithdrawal => "RtgsWithdrawal",
        /// S8: ResubmitToRtgs.
        RtgsResubmission => "RtgsResubmission",
        /// §7.5: entry-disposition offset (group summary).
        EntryDispositionOffset => "EntryDispositionOffset",
        /// §7.1: settled bilateral pair (group summary).
        LsmBilateralOffset => "LsmBilateralOffset",
        /// §7.2: settled cycle (group summary).
        LsmCycleSettlement => "LsmCycleSettlement",
        /// Each payment of an offset group.
        OffsetSettlement => "OffsetSettlement",
        /// One algorithm run under `algorithm_sequencing`.
        AlgorithmExecution => "AlgorithmExecution",
        /// After the settlement event of an overdue payment.
        OverdueTransactionSettled => "OverdueTransactionSettled",
        /// After the settlement of a split family's last child.
        SplitParentSettled => "SplitParentSettled",
        /// S4/S12: policy collateral post.
        CollateralPost => "CollateralPost",
        /// S4/S12: policy collateral withdrawal.
        CollateralWithdraw => "CollateralWithdraw",
        /// S6: a collateral timer withdrew something.
        CollateralTimerWithdrawn => "CollateralTimerWithdrawn",
        /// S6: a collateral timer could withdraw nothing.
        CollateralTimerBlocked => "CollateralTimerBlocked",
        /// S5, EOD reset, policy change.
        StateRegisterSet => "StateRegisterSet",
        /// S5: SetReleaseBudget.
        BankBudgetSet => "BankBudgetSet",
        /// S13: deferred credits applied.
        DeferredCreditApplied => "DeferredCreditApplied",
        /// S14: a payment became overdue.
        TransactionWentOverdue => "TransactionWentOverdue",
        /// S14: costs booked this tick, if non-zero.
        CostAccrual => "CostAccrual",
        /// S2: a scenario event ran.
        ScenarioEventExecuted => "ScenarioEventExecuted",
        /// PolicyChange or `set_policy`.
        PolicyReplaced => "PolicyReplaced",
        /// A computed action value was adjusted (POLICY_DSL.md §6.1).
        PolicyWarning => "PolicyWarning",
        /// A policy evaluation error under `on_policy_error: hold`.
        PolicyEvaluationError => "PolicyEvaluationError",
        /// S1: pool liquidity allocated.
        LiquidityAllocation => "LiquidityAllocation",
        /// S15: pool liquidity returned.
        LiquidityReturn => "LiquidityReturn",
        /// S15: last event of the day.
        EndOfDay => "EndOfDay",
        /// docs/lsm.md §3–§4: settled multilateral or partial group (group summary).
        LsmMultilateralSettlement => "LsmMultilateralSettlement",
    }
}

impl EventType {
    /// The settlement-class events of §12.2: exactly one per settled payment,
    /// `ag` pays `cp` the `amount`. Balance reconstruction sums these.
    pub const fn is_settlement_class(self) -> bool {
        matches!(
            self,
            EventType::RtgsImmediateSettlement
                | EventType::Queue2LiquidityRelease
                | EventType::OffsetSettlement
        )
    }
}

named_enum! {
    /// Every details key used by the catalogue (ENGINE.md §12.1), plus the
    /// effect keys of `ScenarioEventExecuted` (§10: the scenario event's own
    /// parameters and its outcome). Grouped by the event that introduces them;
    /// keys shared by several events appear once.
    pub enum Key [118, "detail key"] {
        // SimulationStarted
        ConfigHash => "config_hash",
        EngineVersion => "engine_version",
        Seed => "seed",
        TicksPerDay => "ticks_per_day",
        NumDays => "num_days",
        NumAgents => "num_agents",
        // AgentOpened
        UnsecuredCap => "unsecured_cap",
        PostedCollateral => "posted_collateral",
        CollateralHaircut => "collateral_haircut",
        AllowedOverdraftLimit => "allowed_overdraft_limit",
        LiquidityPool => "liquidity_pool",
        // Arrival
        DeadlineTick => "deadline_tick",
        Priority => "priority",
        Divisible => "divisible",
        RtgsPriority => "rtgs_priority",
        Source => "source",
        // PriorityEscalated, TransactionReprioritized
        OldPriority => "old_priority",
        NewPriority => "new_priority",
        TicksToDeadline => "ticks_to_deadline",
        // policy events
        DecisionPath => "decision_path",
        Reason => "reason",
        Message => "message",
        DropPenalty => "drop_penalty",
        // PolicySplit
        NumSplits => "num_splits",
        ChildIds => "child_ids",
        ChildAmounts => "child_amounts",
        DueTicks => "due_ticks",
        FrictionCost => "friction_cost",
        // RtgsSubmission, RtgsImmediateSettlement
        Scheduled => "scheduled",
        SenderBalanceAfter => "sender_balance_after",
        Deferred => "deferred",
        // limits
        CurrentOutflow => "current_outflow",
        Limit => "limit",
        // Queue2LiquidityRelease
        QueueWaitTicks => "queue_wait_ticks",
        Pass => "pass",
        // RtgsResubmission
        OldRtgsPriority => "old_rtgs_priority",
        NewRtgsPriority => "new_rtgs_priority",
        // EntryDispositionOffset
        QueuedTxId => "queued_tx_id",
        IncomingAmount => "incoming_amount",
        QueuedAmount => "queued_amount",
        NetPayer => "net_payer",
        Net => "net",
        // LsmBilateralOffset, LsmCycleSettlement
        AmountAb => "amount_ab",
        AmountBa => "amount_ba",
        TxIds => "tx_ids",
        Agents => "agents",
        EdgeAmounts => "edge_amounts",
        NetPositions => "net_positions",
        // OffsetSettlement
        Mechanism => "mechanism",
        GroupSeq => "group_seq",
        // AlgorithmExecution
        Algorithm => "algorithm",
        SettledCount => "settled_count",
        SettledValue => "settled_value",
        // OverdueTransactionSettled, SplitParentSettled
        OverdueSince => "overdue_since",
        TicksLate => "ticks_late",
        NumChildren => "num_children",
        // collateral
        Requested => "requested",
        Layer => "layer",
        NewTotal => "new_total",
        AutoWithdrawTick => "auto_withdraw_tick",
        OriginalReason => "original_reason",
        PostedAt => "posted_at",
        // StateRegisterSet (`key` is the register name)
        RegisterKey => "key",
        OldValue => "old_value",
        NewValue => "new_value",
        // BankBudgetSet
        FocusCounterparties => "focus_counterparties",
        MaxPerCounterparty => "max_per_counterparty",
        // DeferredCreditApplied, TransactionWentOverdue
        SourceCount => "source_count",
        DeadlinePenalty => "deadline_penalty",
        // CostAccrual (with DeadlinePenalty, DropPenalty)
        Overdraft => "overdraft",
        Delay => "delay",
        Collateral => "collateral",
        Liquidity => "liquidity",
        EodPenalty => "eod_penalty",
        SplitFriction => "split_friction",
        // ScenarioEventExecuted
        EventIndex => "event_index",
        EventType => "event_type",
        FromAgent => "from_agent",
        ToAgent => "to_agent",
        Amount => "amount",
        Agent => "agent",
        Counterparty => "counterparty",
        Delta => "delta",
        RequestedDelta => "requested_delta",
        AppliedDelta => "applied_delta",
        Settled => "settled",
        Multiplier => "multiplier",
        NewWeight => "new_weight",
        MinTicksMultiplier => "min_ticks_multiplier",
        MaxTicksMultiplier => "max_ticks_multiplier",
        StartTick => "start_tick",
        EndTick => "end_tick",
        Phase => "phase",
        Deadline => "deadline",
        IsDivisible => "is_divisible",
        // PolicyReplaced
        OldPolicyId => "old_policy_id",
        NewPolicyId => "new_policy_id",
        PolicySha256 => "policy_sha256",
        // PolicyWarning, PolicyEvaluationError
        Code => "code",
        Tree => "tree",
        NodeId => "node_id",
        Value => "value",
        Kind => "kind",
        PolicyId => "policy_id",
        Pointer => "pointer",
        // LiquidityAllocation, LiquidityReturn
        Day => "day",
        Fraction => "fraction",
        BalanceAfter => "balance_after",
        // EndOfDay
        UnsettledCount => "unsettled_count",
        UnsettledValue => "unsettled_value",
        OverdueCount => "overdue_count",
        DayCost => "day_cost",
        // scenario-event parameters not covered above
        ParameterOverrides => "parameter_overrides",
        Interval => "interval",
        Tick => "tick",
        TxId => "tx_id",
        Total => "total",
        // LsmMultilateralSettlement (with Algorithm, SettledCount, Agents, NetPositions)
        RemovedCount => "removed_count",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_positions_and_names_round_trip() {
        for (i, t) in EventType::ALL.iter().enumerate() {
            assert_eq!(usize::from(t.code()), i);
            assert_eq!(EventType::from_code(t.code()), Some(*t));
            assert_eq!(EventType::from_name(t.as_str()), Some(*t));
            assert_eq!(t.as_str().parse::<EventType>(), Ok(*t));
            assert_eq!(t.to_string(), t.as_str());
        }
        for (i, k) in Key::ALL.iter().enumerate() {
            assert_eq!(usize::from(k.code()), i);
            assert_eq!(Key::from_code(k.code()), Some(*k));
            assert_eq!(k.as_str().parse::<Key>(), Ok(*k));
        }
        assert_eq!(EventType::from_code(EventType::ALL.len() as u8), None);
        assert_eq!(Key::from_code(255), None);
        let err = "Nope".parse::<EventType>().unwrap_err();
        assert_eq!(err.to_string(), "unknown event type `Nope`");
    }

    #[test]
    fn names_are_unique() {
        let types: BTreeSet<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(types.len(), EventType::ALL.len());
        let keys: BTreeSet<_> = Key::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(keys.len(), Key::ALL.len());
    }

    /// The catalogue of ENGINE.md §12.1, transcribed: every event type and
    /// every details key it names must exist.
    #[test]
    fn catalogue_is_covered() {
        let catalogue: &[(&str, &[&str])] = &[
            (
                "SimulationStarted",
                &[
                    "config_hash",
                    "engine_version",
                    "seed",
                    "ticks_per_day",
                    "num_days",
                    "num_agents",
                ],
            ),
            (
                "AgentOpened",
                &[
                    "unsecured_cap",
                    "posted_collateral",
                    "collateral_haircut",
                    "allowed_overdraft_limit",
                    "liquidity_pool",
                ],
            ),
            (
                "Arrival",
                &[
                    "deadline_tick",
                    "priority",
                    "divisible",
                    "rtgs_priority",
                    "source",
                ],
            ),
            (
                "PriorityEscalated",
                &["old_priority", "new_priority", "ticks_to_deadline"],
            ),
            (
                "PolicySubmit",
                &["rtgs_priority", "priority", "decision_path"],
            ),
            ("PolicyHold", &["reason", "message", "decision_path"]),
            ("PolicyDrop", &["drop_penalty", "decision_path"]),
            (
                "PolicySplit",
                &[
                    "num_splits",
                    "child_ids",
                    "child_amounts",
                    "due_ticks",
                    "friction_cost",
                    "decision_path",
                ],
            ),
            (
                "TransactionReprioritized",
                &["old_priority", "new_priority", "decision_path"],
            ),
            (
                "RtgsSubmission",
                &["rtgs_priority", "priority", "scheduled"],
            ),
            (
                "RtgsImmediateSettlement",
                &["sender_balance_after", "deferred"],
            ),
            ("QueuedRtgs", &["reason", "rtgs_priority"]),
            ("BilateralLimitExceeded", &["current_outflow", "limit"]),
            ("MultilateralLimitExceeded", &["current_outflow", "limit"]),
            (
                "Queue2LiquidityRelease",
                &["queue_wait_ticks", "pass", "deferred"],
            ),
            ("RtgsWithdrawal", &["rtgs_priority", "decision_path"]),
            (
                "RtgsResubmission",
                &["old_rtgs_priority", "new_rtgs_priority", "decision_path"],
            ),
            (
                "EntryDispositionOffset",
                &[
                    "queued_tx_id",
                    "incoming_amount",
                    "queued_amount",
                    "net_payer",
                    "net",
                ],
            ),
            (
                "LsmBilateralOffset",
                &["amount_ab", "amount_ba", "tx_ids", "net_payer", "net"],
            ),
            (
                "LsmCycleSettlement",
                &["agents", "edge_amounts", "net_positions", "tx_ids"],
            ),
            ("OffsetSettlement", &["mechanism", "group_seq", "deferred"]),
            (
                "AlgorithmExecution",
                &["algorithm", "settled_count", "settled_value"],
            ),
            (
                "OverdueTransactionSettled",
                &["deadline_tick", "overdue_since", "ticks_late"],
            ),
            ("SplitParentSettled", &["num_children"]),
            (
                "CollateralPost",
                &[
                    "requested",
                    "layer",
                    "reason",
                    "new_total",
                    "auto_withdraw_tick",
                    "decision_path",
                ],
            ),
            (
                "CollateralWithdraw",
                &[
                    "requested",
                    "layer",
                    "reason",
                    "new_total",
                    "auto_withdraw_tick",
                    "decision_path",
                ],
            ),
            (
                "CollateralTimerWithdrawn",
                &["requested", "original_reason", "posted_at", "new_total"],
            ),
            (
                "CollateralTimerBlocked",
                &["requested", "original_reason", "posted_at", "new_total"],
            ),
            (
                "StateRegisterSet",
                &["key", "old_value", "new_value", "reason", "decision_path"],
            ),
            (
                "BankBudgetSet",
                &[
                    "focus_counterparties",
                    "max_per_counterparty",
                    "decision_path",
                ],
            ),
            ("DeferredCreditApplied", &["source_count"]),
            (
                "TransactionWentOverdue",
                &["deadline_tick", "deadline_penalty"],
            ),
            (
                "CostAccrual",
                &[
                    "overdraft",
                    "delay",
                    "collateral",
                    "liquidity",
                    "deadline_penalty",
                    "eod_penalty",
                    "drop_penalty",
                    "split_friction",
                ],
            ),
            (
                "ScenarioEventExecuted",
                &[
                    "event_index",
                    "event_type",
                    "settled",
                    "requested",
                    "applied_delta",
                    "phase",
                ],
            ),
            (
                "PolicyReplaced",
                &["old_policy_id", "new_policy_id", "policy_sha256", "source"],
            ),
            (
                "PolicyWarning",
                &["code", "tree", "node_id", "value", "message"],
            ),
            (
                "PolicyEvaluationError",
                &["kind", "policy_id", "tree", "node_id", "pointer", "message"],
            ),
            ("LiquidityAllocation", &["day", "fraction", "balance_after"]),
            ("LiquidityReturn", &["day", "fraction", "balance_after"]),
            (
                "EndOfDay",
                &[
                    "day",
                    "unsettled_count",
                    "unsettled_value",
                    "overdue_count",
                    "day_cost",
                ],
            ),
            (
                "LsmMultilateralSettlement",
                &[
                    "algorithm",
                    "settled_count",
                    "removed_count",
                    "agents",
                    "net_positions",
                ],
            ),
        ];
        assert_eq!(catalogue.len(), EventType::ALL.len());
        for (i, (name, keys)) in catalogue.iter().enumerate() {
            assert_eq!(EventType::ALL[i].as_str(), *name, "catalogue order");
            for key in *keys {
                assert!(Key::from_name(key).is_some(), "missing key {key} of {name}");
            }
        }
    }

    #[test]
    fn settlement_class() {
        let class: Vec<_> = EventType::ALL
            .iter()
            .filter(|t| t.is_settlement_class())
            .collect();
        assert_eq!(
            class,
            [
                &EventType::RtgsImmediateSettlement,
                &EventType::Queue2LiquidityRelease,
                &EventType::OffsetSettlement
            ]
        );
    }
}
