//! Conversion of an action's computed parameters into a decision (§6.1): truncation to
//! integers, clamping of counts, ticks and priorities, and the rules for negative amounts.
//! Adjustments are reported as [`ConversionWarning`]s for the engine's `PolicyWarning`.

use super::ast::fits_i64;
use super::compiled::{CompiledPolicy, NumArg, Template};
use super::decision::{
    BankDecision, CollateralDecision, ConversionWarning, ConversionWarningKind, EvalContext,
    PaymentDecision, Warnings,
};
use super::error::EvalErrorKind;
use super::eval::{fault, Fault, What};

impl CompiledPolicy {
    /// A numeric parameter's value: finite, else `NonFiniteActionValue`.
    pub(super) fn value(&self, a: &NumArg, ctx: &EvalContext) -> Result<f64, Fault> {
        let x = self.run(a.code, ctx)?;
        if x.is_finite() {
            Ok(x)
        } else {
            Err(fault(
                EvalErrorKind::NonFiniteActionValue,
                a.src,
                What::NonFinite(x),
            ))
        }
    }

    /// Truncated toward zero to an i64, else `OutOfRange`.
    pub(super) fn int(&self, a: &NumArg, ctx: &EvalContext) -> Result<(i64, f64), Fault> {
        let x = self.value(a, ctx)?;
        let t = x.trunc();
        if !fits_i64(t) {
            return Err(fault(EvalErrorKind::OutOfRange, a.src, What::BeyondI64(x)));
        }
        Ok((t as i64, x))
    }

    /// A count, ticks or priority clamped into `lo..=hi`, with a warning when adjusted.
    pub(super) fn clamped(
        &self,
        a: &NumArg,
        lo: i64,
        hi: i64,
        ctx: &EvalContext,
        w: &mut Warnings,
    ) -> Result<i64, Fault> {
        let (n, x) = self.int(a, ctx)?;
        let c = n.clamp(lo, hi.max(lo));
        if c != n {
            w.push(ConversionWarning {
                parameter: a.name,
                value: x,
                kind: ConversionWarningKind::Clamped { to: c },
            });
        }
        Ok(c)
    }

    pub(super) fn opt<T>(
        &self,
        a: &Option<NumArg>,
        f: impl FnOnce(&NumArg) -> Result<T, Fault>,
    ) -> Result<Option<T>, Fault> {
        a.as_ref().map(f).transpose()
    }

    pub(super) fn splits(
        &self,
        a: &NumArg,
        ctx: &EvalContext,
        w: &mut Warnings,
    ) -> Result<Option<u32>, Fault> {
        let (n, x) = self.int(a, ctx)?;
        let kind = match n {
            _ if n < 2 => ConversionWarningKind::SplitBelowTwo,
            101.. => ConversionWarningKind::Clamped { to: 100 },
            _ => return Ok(Some(n as u32)),
        };
        w.push(ConversionWarning {
            parameter: a.name,
            value: x,
            kind,
        });
        Ok((n > 100).then_some(100))
    }

    pub(super) fn payment<'p>(
        &'p self,
        t: &'p Template,
        ctx: &EvalContext,
        w: &mut Warnings,
    ) -> Result<PaymentDecision<'p>, Fault> {
        Ok(match t {
            Template::Release {
                with_credit,
                priority_flag,
                timed_for_tick,
                rtgs_priority,
            } => PaymentDecision::Release {
                priority_flag: *priority_flag,
                timed_for_tick: self.opt(timed_for_tick, |a| {
                    Ok(self.int(a, ctx)?.0.max(ctx.current_tick))
                })?,
                rtgs_priority: *rtgs_priority,
                with_credit: *with_credit,
            },
            Template::Split { num_splits } => match self.splits(num_splits, ctx, w)? {
                Some(n) => PaymentDecision::Split { num_splits: n },
                None => PaymentDecision::RELEASE,
            },
            Template::StaggerSplit {
                num_splits,
                first_now,
                gap,
                boost,
            } => match self.splits(num_splits, ctx, w)? {
                Some(n) => PaymentDecision::StaggerSplit {
                    num_splits: n,
                    first_now: self.clamped(first_now, 0, i64::from(n), ctx, w)? as u32,
                    gap_ticks: self.clamped(gap, 0, 10_000, ctx, w)? as u32,
                    priority_boost: self.clamped(boost, 0, 10, ctx, w)? as u8,
                },
                None => PaymentDecision::RELEASE,
            },
            Template::Hold { reason } => PaymentDecision::Hold { reason },
            Template::Drop => PaymentDecision::Drop,
            Template::Reprioritize { new_priority } => PaymentDecision::Reprioritize {
                new_priority: self.clamped(new_priority, 0, 10, ctx, w)? as u8,
            },
            Template::WithdrawFromRtgs => PaymentDecision::WithdrawFromRtgs,
            Template::ResubmitToRtgs { rtgs_priority } => PaymentDecision::ResubmitToRtgs {
                rtgs_priority: *rtgs_priority,
            },
            _ => return Err(fault(EvalErrorKind::OutOfRange, 0, What::Machine)),
        })
    }

    /// A budget amount: negative becomes 0 (dropping it would lift the budget).
    pub(super) fn budget(
        &self,
        a: &NumArg,
        ctx: &EvalContext,
        w: &mut Warnings,
    ) -> Result<i64, Fault> {
        let (n, x) = self.int(a, ctx)?;
        if n < 0 {
            w.push(ConversionWarning {
                parameter: a.name,
                value: x,
                kind: ConversionWarningKind::NegativeBudgetZeroed,
            });
            return Ok(0);
        }
        Ok(n)
    }

    pub(super) fn bank<'p>(
        &'p self,
        t: &'p Template,
        ctx: &EvalContext,
        w: &mut Warnings,
    ) -> Result<BankDecision<'p>, Fault> {
        Ok(match t {
            Template::SetReleaseBudget {
                max_value,
                focus,
                max_per_counterparty,
            } => BankDecision::SetReleaseBudget {
                max_value: self.budget(max_value, ctx, w)?,
                focus: focus.as_deref(),
                max_per_counterparty: self.opt(max_per_counterparty, |a| self.budget(a, ctx, w))?,
            },
            Template::SetState {
                slot,
                value,
                reason,
                add,
            } => {
                let v = self.value(value, ctx)?;
                if *add {
                    let cur = ctx.registers.get(*slot as usize).copied().unwrap_or(0.0);
                    if !(cur + v).is_finite() {
                        return Err(fault(
                            EvalErrorKind::NonFiniteActionValue,
                            value.src,
                            What::RegisterOverflow,
                        ));
                    }
                    BankDecision::AddState {
                        slot: *slot,
                        value: v,
                        reason,
                    }
                } else {
                    BankDecision::SetState {
                        slot: *slot,
                        value: v,
                        reason,
                    }
                }
            }
            Template::NoAction => BankDecision::NoAction,
            _ => return Err(fault(EvalErrorKind::OutOfRange, 0, What::Machine)),
        })
    }

    /// A money amount; `None` (with a warning) when negative: the action is not carried out.
    pub(super) fn amount(
        &self,
        a: &NumArg,
        ctx: &EvalContext,
        w: &mut Warnings,
    ) -> Result<Option<i64>, Fault> {
        let (n, x) = self.int(a, ctx)?;
        if n < 0 {
            w.push(ConversionWarning {
                parameter: a.name,
                value: x,
                kind: ConversionWarningKind::NegativeNotCarriedOut,
            });
            return Ok(None);
        }
        Ok(Some(n))
    }

    pub(super) fn collateral<'p>(
        &'p self,
        t: &'p Template,
        ctx: &EvalContext,
        w: &mut Warnings,
    ) -> Result<CollateralDecision<'p>, Fault> {
        Ok(match t {
            Template::Post {
                amount,
                reason,
                auto_withdraw,
            } => match self.amount(amount, ctx, w)? {
                Some(amount) => CollateralDecision::Post {
                    amount,
                    reason,
                    auto_withdraw_after_ticks: self.opt(auto_withdraw, |a| {
                        Ok(self.clamped(a, 1, 100_000, ctx, w)? as u32)
                    })?,
                },
                None => CollateralDecision::Hold,
            },
            Template::Withdraw { amount, reason } => match self.amount(amount, ctx, w)? {
                Some(amount) => CollateralDecision::Withdraw { amount, reason },
                None => CollateralDecision::Hold,
            },
            Template::HoldCollateral => CollateralDecision::Hold,
            _ => return Err(fault(EvalErrorKind::OutOfRange, 0, What::Machine)),
        })
    }
}
