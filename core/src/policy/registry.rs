//! The one registry of context fields (POLICY_DSL.md §7).
//!
//! `define_fields!` declares every field once; it generates the `FieldId` enum, the
//! [`FIELDS`] table (indexed by `FieldId as usize`), `FIELD_COUNT` and lookup by name. The
//! validator, compiler, JSON Schema and docs all read this table, so a field cannot be known
//! to one of them and unknown to another. Actions live beside it in `actions.rs`.

/// The four trees of a policy document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tree {
    Payment,
    Bank,
    StrategicCollateral,
    EndOfTickCollateral,
}

impl Tree {
    pub const ALL: [Tree; 4] = [
        Tree::Payment,
        Tree::Bank,
        Tree::StrategicCollateral,
        Tree::EndOfTickCollateral,
    ];

    /// The document key of the tree.
    pub fn json_name(self) -> &'static str {
        match self {
            Tree::Payment => "payment_tree",
            Tree::Bank => "bank_tree",
            Tree::StrategicCollateral => "strategic_collateral_tree",
            Tree::EndOfTickCollateral => "end_of_tick_collateral_tree",
        }
    }

    pub fn from_json_name(name: &str) -> Option<Tree> {
        Tree::ALL.into_iter().find(|t| t.json_name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn is_collateral(self) -> bool {
        matches!(self, Tree::StrategicCollateral | Tree::EndOfTickCollateral)
    }
}

/// A set of trees, as a bit mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TreeSet(u8);

impl TreeSet {
    pub const P: TreeSet = TreeSet(1);
    pub const BANK: TreeSet = TreeSet(2);
    pub const COLLATERAL: TreeSet = TreeSet(4 | 8);
    pub const ALL: TreeSet = TreeSet(15);

    pub fn contains(self, t: Tree) -> bool {
        self.0 & t.bit() != 0
    }

    pub fn trees(self) -> impl Iterator<Item = Tree> {
        Tree::ALL.into_iter().filter(move |t| self.contains(*t))
    }

    /// "payment_tree" or "strategic_collateral_tree, end_of_tick_collateral_tree".
    pub fn names(self) -> String {
        self.trees()
            .map(Tree::json_name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Short form used in docs: `P`, `all`, ...
    pub fn short(self) -> &'static str {
        match self.0 {
            1 => "P",
            2 => "B",
            12 => "S, E",
            15 => "all",
            _ => "?",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Number,
    Bool,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Number => "number",
            FieldType::Bool => "bool",
        }
    }
}

/// Units of §7.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Cents,
    Ticks,
    Fraction,
    Count,
    Bps,
    Rate,
    Level,
    Id,
    Bool,
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Cents => "cents",
            Unit::Ticks => "ticks",
            Unit::Fraction => "fraction",
            Unit::Count => "count",
            Unit::Bps => "bps",
            Unit::Rate => "rate",
            Unit::Level => "level",
            Unit::Id => "id",
            Unit::Bool => "bool",
            Unit::None => "—",
        }
    }
}

/// Scenario settings that can pin a field to one value (`FIELD_CONSTANT_IN_SCENARIO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pin {
    None,
    /// Constant with the LSM off.
    Lsm,
    /// `+∞` without limits.
    Limits,
    /// 0 without a liquidity pool.
    Pools,
    /// 0 outside the payment tree under rate penalty rules.
    RatePenalty,
}

/// Flags beyond type, unit and trees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldFlags {
    /// Documented as constant (`CONSTANT_FIELD`).
    pub constant: bool,
    /// May read `+∞` (documented in §7.2).
    pub infinite: bool,
    pub pin: Pin,
    /// Available in every tree, but in the payment tree its value is the payment's own (the
    /// per-payment penalties of §7.2). Fields available only in the payment tree need no flag:
    /// they depend on the payment by definition (§7.1). See [`FieldSpec::payment_dependent`].
    pub per_payment: bool,
}

impl FieldFlags {
    pub const NONE: FieldFlags = FieldFlags {
        constant: false,
        infinite: false,
        pin: Pin::None,
        per_payment: false,
    };
    pub const CONSTANT: FieldFlags = FieldFlags {
        constant: true,
        ..Self::NONE
    };
    pub const INFINITE: FieldFlags = FieldFlags {
        infinite: true,
        ..Self::NONE
    };
    pub const LIMIT: FieldFlags = FieldFlags {
        infinite: true,
        pin: Pin::Limits,
        ..Self::NONE
    };
    pub const LSM: FieldFlags = FieldFlags {
        pin: Pin::Lsm,
        ..Self::NONE
    };
    pub const POOLS: FieldFlags = FieldFlags {
        pin: Pin::Pools,
        ..Self::NONE
    };
    /// The per-payment penalties: the rule applied to this payment in the payment tree, to 0
    /// elsewhere (hence pinned to 0 outside it under rate rules).
    pub const PENALTY: FieldFlags = FieldFlags {
        pin: Pin::RatePenalty,
        per_payment: true,
        ..Self::NONE
    };
}

/// One registry entry.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub id: FieldId,
    pub name: &'static str,
    pub ty: FieldType,
    pub unit: Unit,
    pub trees: TreeSet,
    pub group: &'static str,
    pub aliases: &'static [&'static str],
    pub flags: FieldFlags,
    pub description: &'static str,
}

macro_rules! define_fields {
    ($($variant:ident = $name:literal, $ty:ident, $unit:ident, $trees:ident, $group:literal,
       [$($alias:literal),*], $flags:ident, $desc:literal;)*) => {
        /// A context field; `as usize` indexes [`FIELDS`] and `EvalContext::fields`.
        #[repr(u16)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FieldId { $($variant,)* }

        /// Every field, in registry order (the order of §7.2).
        pub const FIELDS: &[FieldSpec] = &[$(FieldSpec {
            id: FieldId::$variant,
            name: $name,
            ty: FieldType::$ty,
            unit: Unit::$unit,
            trees: TreeSet::$trees,
            group: $group,
            aliases: &[$($alias),*],
            flags: FieldFlags::$flags,
            description: $desc,
        },)*];
    };
}

/// Number of fields: the length `EvalContext::fields` must have.
pub const FIELD_COUNT: usize = FIELDS.len();

/// Prefix of state-register names; such fields are resolved to register slots, not `FieldId`s.
pub const REGISTER_PREFIX: &str = "bank_state_";

impl FieldSpec {
    /// Does this field's value in the payment tree depend on the payment being decided?
    ///
    /// True for every field available only in the payment tree (§7.1: `P` fields depend on the
    /// payment) and for every field flagged [`FieldFlags::per_payment`]. A payment tree that
    /// reads none of them gives every payment of a bank the same decision in a tick, so the
    /// engine may evaluate it once per bank (ENGINE.md §14); one that reads any of them must be
    /// evaluated per payment. This is the only place that decides it.
    pub fn payment_dependent(&self) -> bool {
        self.trees == TreeSet::P || self.flags.per_payment
    }
}

impl FieldId {
    pub fn spec(self) -> &'static FieldSpec {
        // `FIELDS` is generated in declaration order, so the discriminant is the index.
        &FIELDS[self as usize]
    }
    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

/// A field by name or alias.
pub fn field_by_name(name: &str) -> Option<FieldId> {
    FIELDS
        .iter()
        .find(|f| f.name == name || f.aliases.contains(&name))
        .map(|f| f.id)
}

/// Is `name` a syntactically valid register name `bank_state_[A-Za-z0-9_]{1,64}`?
pub fn is_valid_register_name(name: &str) -> bool {
    name.strip_prefix(REGISTER_PREFIX).is_some_and(|rest| {
        (1..=64).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

define_fields! {
    Amount = "amount", Number, Cents, P, "Transaction", [], NONE, "Amount of this payment (of the piece, for a split piece).";
    RemainingAmount = "remaining_amount", Number, Cents, P, "Transaction", [], NONE, "Part not yet settled; equals amount for a queued payment.";
    SettledAmount = "settled_amount", Number, Cents, P, "Transaction", [], CONSTANT, "amount − remaining_amount: always 0 for a queued payment (kept for compatibility).";
    ArrivalTick = "arrival_tick", Number, Ticks, P, "Transaction", [], NONE, "Tick of arrival (a piece keeps its original's).";
    DeadlineTick = "deadline_tick", Number, Ticks, P, "Transaction", [], NONE, "Tick by which the payment should settle.";
    TicksToDeadline = "ticks_to_deadline", Number, Ticks, P, "Transaction", [], NONE, "deadline_tick − current_tick; negative once past.";
    QueueAge = "queue_age", Number, Ticks, P, "Transaction", [], NONE, "current_tick − arrival_tick.";
    Priority = "priority", Number, Level, P, "Transaction", [], NONE, "Internal priority 0..10, after escalation and Reprioritize.";
    RtgsPriority = "rtgs_priority", Number, Level, P, "Transaction", [], NONE, "0 HighlyUrgent, 1 Urgent, 2 Normal: its class in Q2, or the class it would be submitted with.";
    IsSplit = "is_split", Bool, Bool, P, "Transaction", [], NONE, "A piece created by a split.";
    IsDivisible = "is_divisible", Bool, Bool, P, "Transaction", [], NONE, "The payment may be split.";
    IsPastDeadline = "is_past_deadline", Bool, Bool, P, "Transaction", [], NONE, "current_tick > deadline_tick.";
    IsOverdue = "is_overdue", Bool, Bool, P, "Transaction", [], NONE, "The engine has marked the payment overdue.";
    OverdueDuration = "overdue_duration", Number, Ticks, P, "Transaction", [], NONE, "current_tick − the tick it was marked overdue; 0 if not overdue.";
    IsInQueue2 = "is_in_queue2", Bool, Bool, P, "Transaction", [], NONE, "1 in the Q2 pass, 0 in the Q1 pass.";
    Balance = "balance", Number, Cents, ALL, "Agent and balance", [], NONE, "Settlement balance; negative when using credit.";
    UnsecuredCap = "unsecured_cap", Number, Cents, ALL, "Agent and balance", ["credit_limit"], NONE, "Unsecured intraday credit.";
    CreditUsed = "credit_used", Number, Cents, ALL, "Agent and balance", [], NONE, "max(0, −balance).";
    CreditHeadroom = "credit_headroom", Number, Cents, ALL, "Agent and balance", [], NONE, "unsecured_cap − credit_used; negative when collateral backs part of the usage.";
    AvailableLiquidity = "available_liquidity", Number, Cents, ALL, "Agent and balance", [], NONE, "max(0, balance) + max(0, allowed_overdraft_limit − credit_used): what can be paid now.";
    EffectiveLiquidity = "effective_liquidity", Number, Cents, ALL, "Agent and balance", [], NONE, "max(0, balance) + credit_headroom: balance and unsecured credit, leaving collateral aside.";
    IsUsingCredit = "is_using_credit", Bool, Bool, ALL, "Agent and balance", [], NONE, "balance < 0.";
    LiquidityBuffer = "liquidity_buffer", Number, Cents, ALL, "Agent and balance", [], NONE, "The bank's configured liquidity_buffer.";
    LiquidityPool = "liquidity_pool", Number, Cents, ALL, "Agent and balance", [], POOLS, "The bank's configured external pool.";
    AllocatedLiquidity = "allocated_liquidity", Number, Cents, ALL, "Agent and balance", [], POOLS, "Liquidity brought in from the pool today.";
    LiquidityPressure = "liquidity_pressure", Number, Fraction, ALL, "Agent and balance", [], NONE, "1 − max(0, balance) / D, D = max(0, balance) + unsecured_cap + posted_collateral; 1 when D = 0.";
    MultilateralLimitHeadroom = "multilateral_limit_headroom", Number, Cents, ALL, "Agent and balance", [], LIMIT, "Multilateral limit minus today's gross outflow; +∞ without a limit.";
    IsOverdraftCapped = "is_overdraft_capped", Bool, Bool, ALL, "Agent and balance", [], CONSTANT, "1: settlement never takes a bank beyond its limit (constant, compatibility).";
    OutgoingQueueSize = "outgoing_queue_size", Number, Count, ALL, "Queue 1", [], NONE, "Payments in the bank's Q1, waiting staggered pieces included.";
    Queue1TotalValue = "queue1_total_value", Number, Cents, ALL, "Queue 1", [], NONE, "Sum of remaining_amount over Q1.";
    Queue1LiquidityGap = "queue1_liquidity_gap", Number, Cents, ALL, "Queue 1", [], NONE, "max(0, queue1_total_value − available_liquidity).";
    Headroom = "headroom", Number, Cents, ALL, "Queue 1", [], NONE, "available_liquidity − queue1_total_value (signed).";
    TicksToNearestQueue1Deadline = "ticks_to_nearest_queue1_deadline", Number, Ticks, ALL, "Queue 1", [], INFINITE, "Earliest deadline in Q1 minus current_tick; +∞ when Q1 is empty.";
    RtgsQueueSize = "rtgs_queue_size", Number, Count, ALL, "Queue 2 and system", ["queue2_size"], NONE, "Payments in Q2, all banks.";
    RtgsQueueValue = "rtgs_queue_value", Number, Cents, ALL, "Queue 2 and system", [], NONE, "Total value of the payments in Q2.";
    Queue2CountForAgent = "queue2_count_for_agent", Number, Count, ALL, "Queue 2 and system", [], NONE, "This bank's payments in Q2.";
    Queue2ValueForAgent = "queue2_value_for_agent", Number, Cents, ALL, "Queue 2 and system", [], NONE, "Total value of this bank's payments in Q2.";
    Queue2NearestDeadline = "queue2_nearest_deadline", Number, Ticks, ALL, "Queue 2 and system", [], INFINITE, "Earliest deadline tick among this bank's Q2 payments; +∞ when none.";
    TicksToNearestQueue2Deadline = "ticks_to_nearest_queue2_deadline", Number, Ticks, ALL, "Queue 2 and system", [], INFINITE, "queue2_nearest_deadline − current_tick; +∞ when none.";
    IncomingExpectedCount = "incoming_expected_count", Number, Count, ALL, "Queue 2 and system", [], NONE, "Payments in Q2 whose receiver is this bank.";
    IncomingExpectedValue = "incoming_expected_value", Number, Cents, ALL, "Queue 2 and system", [], NONE, "Total value of the payments in Q2 whose receiver is this bank.";
    TotalAgents = "total_agents", Number, Count, ALL, "Queue 2 and system", [], NONE, "Banks in the simulation.";
    CurrentTick = "current_tick", Number, Ticks, ALL, "Queue 2 and system", [], NONE, "The tick being processed (absolute, from 0).";
    PostedCollateral = "posted_collateral", Number, Cents, ALL, "Collateral", [], NONE, "Collateral posted now.";
    MaxCollateralCapacity = "max_collateral_capacity", Number, Cents, ALL, "Collateral", [], NONE, "Ceiling on posted collateral.";
    RemainingCollateralCapacity = "remaining_collateral_capacity", Number, Cents, ALL, "Collateral", [], NONE, "max(0, max_collateral_capacity − posted_collateral).";
    CollateralUtilization = "collateral_utilization", Number, Fraction, ALL, "Collateral", [], NONE, "posted / capacity; 0 when the capacity is 0.";
    CollateralHaircut = "collateral_haircut", Number, Fraction, ALL, "Collateral", [], NONE, "Haircut on posted collateral.";
    AllowedOverdraftLimit = "allowed_overdraft_limit", Number, Cents, ALL, "Collateral", [], NONE, "unsecured_cap + collateral_credit.";
    OverdraftHeadroom = "overdraft_headroom", Number, Cents, ALL, "Collateral", [], NONE, "allowed_overdraft_limit − credit_used (signed).";
    OverdraftUtilization = "overdraft_utilization", Number, Fraction, ALL, "Collateral", [], NONE, "credit_used / allowed_overdraft_limit; with a zero limit 1 if credit is used, else 0; above 1 beyond the limit.";
    RequiredCollateralForUsage = "required_collateral_for_usage", Number, Cents, ALL, "Collateral", [], NONE, "ceil(max(0, credit_used − unsecured_cap) / (1 − haircut)); 0 when the haircut is 1.";
    ExcessCollateral = "excess_collateral", Number, Cents, ALL, "Collateral", [], NONE, "max(0, posted_collateral − required_collateral_for_usage).";
    CostOverdraftBpsPerTick = "cost_overdraft_bps_per_tick", Number, Bps, ALL, "Cost rates", [], NONE, "Overdraft cost rate.";
    CostDelayPerTickPerCent = "cost_delay_per_tick_per_cent", Number, Rate, ALL, "Cost rates", [], NONE, "Delay cost rate.";
    CostCollateralBpsPerTick = "cost_collateral_bps_per_tick", Number, Bps, ALL, "Cost rates", [], NONE, "Collateral cost rate.";
    CostLiquidityBpsPerTick = "cost_liquidity_bps_per_tick", Number, Bps, ALL, "Cost rates", [], NONE, "Cost rate of pool liquidity brought in.";
    CostSplitFriction = "cost_split_friction", Number, Cents, ALL, "Cost rates", [], NONE, "Friction per extra piece of a split.";
    CostDeadlinePenalty = "cost_deadline_penalty", Number, Cents, ALL, "Cost rates", [], PENALTY, "P: penalty this payment incurs on becoming overdue; other trees: the rule applied to 0.";
    CostEodPenalty = "cost_eod_penalty", Number, Cents, ALL, "Cost rates", [], PENALTY, "P: end-of-day penalty for this payment if still overdue then; other trees: the rule applied to 0.";
    CostDropPenalty = "cost_drop_penalty", Number, Cents, ALL, "Cost rates", [], PENALTY, "P: penalty for dropping this payment; other trees: the rule applied to 0.";
    CostDelayThisTxOneTick = "cost_delay_this_tx_one_tick", Number, Cents, P, "Cost rates", [], NONE, "Delay cost of this payment waiting one more tick, with the multipliers in force.";
    CostOverdraftThisAmountOneTick = "cost_overdraft_this_amount_one_tick", Number, Cents, P, "Cost rates", [], NONE, "remaining_amount × cost_overdraft_bps_per_tick / 10,000.";
    SystemTicksPerDay = "system_ticks_per_day", Number, Ticks, ALL, "Time", [], NONE, "Ticks in a day.";
    SystemCurrentDay = "system_current_day", Number, Count, ALL, "Time", [], NONE, "floor(current_tick / ticks_per_day), from 0.";
    SystemTickInDay = "system_tick_in_day", Number, Ticks, ALL, "Time", [], NONE, "current_tick mod ticks_per_day.";
    TicksRemainingInDay = "ticks_remaining_in_day", Number, Ticks, ALL, "Time", [], NONE, "ticks_per_day − 1 − system_tick_in_day (0 on the last tick).";
    DayProgressFraction = "day_progress_fraction", Number, Fraction, ALL, "Time", [], NONE, "system_tick_in_day / ticks_per_day.";
    IsEodRush = "is_eod_rush", Bool, Bool, ALL, "Time", [], NONE, "day_progress_fraction ≥ the scenario's eod_rush_threshold.";
    MyQ2OutValueToCounterparty = "my_q2_out_value_to_counterparty", Number, Cents, P, "LSM-aware, toward the payment's receiver", [], NONE, "Value of this bank's Q2 payments to the receiver.";
    MyQ2InValueFromCounterparty = "my_q2_in_value_from_counterparty", Number, Cents, P, "LSM-aware, toward the payment's receiver", [], NONE, "Value of the receiver's Q2 payments to this bank.";
    MyBilateralNetQ2 = "my_bilateral_net_q2", Number, Cents, P, "LSM-aware, toward the payment's receiver", [], NONE, "Out minus in.";
    BilateralLimitHeadroom = "bilateral_limit_headroom", Number, Cents, P, "LSM-aware, toward the payment's receiver", [], LIMIT, "Bilateral limit toward the receiver minus today's gross outflow to it; +∞ without a limit.";
    ReceivedValueFromCounterpartyToday = "received_value_from_counterparty_today", Number, Cents, P, "LSM-aware, toward the payment's receiver", [], NONE, "Value received from the receiver in payments settled today.";
    TopCpty1IdHash = "top_cpty_1_id_hash", Number, Id, ALL, "LSM-aware, top counterparties", [], NONE, "The 1st ranked counterparty (hash as in tx_counterparty_id); 0 for an empty slot.";
    MyQ2OutValueTop1 = "my_q2_out_value_top_1", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "This bank's Q2 value to the 1st ranked counterparty.";
    MyQ2InValueTop1 = "my_q2_in_value_top_1", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "The 1st ranked counterparty's Q2 value to this bank.";
    MyBilateralNetQ2Top1 = "my_bilateral_net_q2_top_1", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "Out minus in, 1st ranked counterparty.";
    TopCpty2IdHash = "top_cpty_2_id_hash", Number, Id, ALL, "LSM-aware, top counterparties", [], NONE, "The 2nd ranked counterparty (hash as in tx_counterparty_id); 0 for an empty slot.";
    MyQ2OutValueTop2 = "my_q2_out_value_top_2", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "This bank's Q2 value to the 2nd ranked counterparty.";
    MyQ2InValueTop2 = "my_q2_in_value_top_2", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "The 2nd ranked counterparty's Q2 value to this bank.";
    MyBilateralNetQ2Top2 = "my_bilateral_net_q2_top_2", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "Out minus in, 2nd ranked counterparty.";
    TopCpty3IdHash = "top_cpty_3_id_hash", Number, Id, ALL, "LSM-aware, top counterparties", [], NONE, "The 3rd ranked counterparty (hash as in tx_counterparty_id); 0 for an empty slot.";
    MyQ2OutValueTop3 = "my_q2_out_value_top_3", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "This bank's Q2 value to the 3rd ranked counterparty.";
    MyQ2InValueTop3 = "my_q2_in_value_top_3", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "The 3rd ranked counterparty's Q2 value to this bank.";
    MyBilateralNetQ2Top3 = "my_bilateral_net_q2_top_3", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "Out minus in, 3rd ranked counterparty.";
    TopCpty4IdHash = "top_cpty_4_id_hash", Number, Id, ALL, "LSM-aware, top counterparties", [], NONE, "The 4th ranked counterparty (hash as in tx_counterparty_id); 0 for an empty slot.";
    MyQ2OutValueTop4 = "my_q2_out_value_top_4", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "This bank's Q2 value to the 4th ranked counterparty.";
    MyQ2InValueTop4 = "my_q2_in_value_top_4", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "The 4th ranked counterparty's Q2 value to this bank.";
    MyBilateralNetQ2Top4 = "my_bilateral_net_q2_top_4", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "Out minus in, 4th ranked counterparty.";
    TopCpty5IdHash = "top_cpty_5_id_hash", Number, Id, ALL, "LSM-aware, top counterparties", [], NONE, "The 5th ranked counterparty (hash as in tx_counterparty_id); 0 for an empty slot.";
    MyQ2OutValueTop5 = "my_q2_out_value_top_5", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "This bank's Q2 value to the 5th ranked counterparty.";
    MyQ2InValueTop5 = "my_q2_in_value_top_5", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "The 5th ranked counterparty's Q2 value to this bank.";
    MyBilateralNetQ2Top5 = "my_bilateral_net_q2_top_5", Number, Cents, ALL, "LSM-aware, top counterparties", [], NONE, "Out minus in, 5th ranked counterparty.";
    SystemQueue2PressureIndex = "system_queue2_pressure_index", Number, Fraction, ALL, "Public signals", [], NONE, "0 when Q2 is empty, else 1 / (1 + e^(−2x)), x = rtgs_queue_size / (10 × total_agents).";
    LsmRunRateLast10Ticks = "lsm_run_rate_last_10_ticks", Number, Fraction, ALL, "Public signals", [], LSM, "Share of the last min(10, current_tick) completed ticks in which the LSM settled a payment; 0 at tick 0.";
    SystemThroughputGuidanceFractionByTick = "system_throughput_guidance_fraction_by_tick", Number, Fraction, ALL, "Public signals", [], NONE, "The scenario's throughput guidance curve at this point of the day; the line from 0 to 1 when none.";
    SystemThroughputFractionToday = "system_throughput_fraction_today", Number, Fraction, ALL, "Public signals", [], NONE, "Value settled today / value due today, all banks; 1 when nothing is due.";
    MyThroughputFractionToday = "my_throughput_fraction_today", Number, Fraction, ALL, "Throughput", [], NONE, "This bank's value settled today / its value due today; 1 when nothing is due.";
    ExpectedThroughputFractionByNow = "expected_throughput_fraction_by_now", Number, Fraction, ALL, "Throughput", [], NONE, "day_progress_fraction.";
    ThroughputGap = "throughput_gap", Number, Fraction, ALL, "Throughput", [], NONE, "my_throughput_fraction_today − expected_throughput_fraction_by_now (signed).";
    TxCounterpartyId = "tx_counterparty_id", Number, Id, P, "Counterparty", [], NONE, "FNV-1a 64-bit hash of the receiver's id as f64; compare only with other id fields.";
    TxIsTopCounterparty = "tx_is_top_counterparty", Bool, Bool, P, "Counterparty", [], NONE, "The receiver holds one of the slots top_cpty_1..5.";
}
