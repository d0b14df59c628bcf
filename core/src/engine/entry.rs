//! S9, RTGS entry: each payment of the release list, in order, settles if the RTGS rule passes;
//! otherwise, with `entry_disposition_offsetting`, it may settle against a queued payment in the
//! opposite direction (§7.5); otherwise it joins Q2 (`QueuedRtgs`, preceded by a limit event
//! when a limit refused it).

use super::offset::{Leg, Mechanism};
use super::settle::{Path, Refusal};
use super::Engine;
use crate::events::{EventType, Key, Val};
use crate::state::Slot;

/// How many queued payments in the opposite direction entry offsetting examines (§7.5): the
/// bound keeps S9 cheap when one direction of a pair has a long queue.
const ENTRY_OFFSET_SCAN: usize = 64;

impl Engine {
    /// S9: each released payment settles at once if the RTGS rule passes, else joins Q2.
    pub(super) fn rtgs_entry(&mut self) {
        let release = std::mem::take(&mut self.scratch.release);
        for slot in release.iter().copied() {
            let Some(p) = self.st.payments.get(slot) else {
                continue;
            };
            let (key, s, r, x, rtgs) = (p.key, p.sender, p.receiver, p.remaining, p.rtgs);
            match self.rtgs_check(s, r, x) {
                Ok(()) => self.settle(slot, Path::Rtgs),
                Err(why) => {
                    // A limit refusal also refuses the offset (the incoming leg is checked
                    // against the same limits), so only a liquidity shortfall is worth trying.
                    if why == Refusal::InsufficientLiquidity
                        && self.setup.cfg.settlement.entry_disposition_offsetting
                        && self.entry_offset(slot)
                    {
                        continue;
                    }
                    match why {
                        Refusal::BilateralLimit { outflow, limit } => {
                            self.emit(
                                EventType::BilateralLimitExceeded,
                                Some(key),
                                Some(s),
                                Some(r),
                                Some(x),
                                &[
                                    (Key::CurrentOutflow, Val::I64(outflow)),
                                    (Key::Limit, Val::I64(limit)),
                                ],
                            );
                        }
                        Refusal::MultilateralLimit { outflow, limit } => {
                            self.emit(
                                EventType::MultilateralLimitExceeded,
                                Some(key),
                                Some(s),
                                Some(r),
                                Some(x),
                                &[
                                    (Key::CurrentOutflow, Val::I64(outflow)),
                                    (Key::Limit, Val::I64(limit)),
                                ],
                            );
                        }
                        Refusal::InsufficientLiquidity => {}
                    }
                    self.q2_insert(slot);
                    self.emit(
                        EventType::QueuedRtgs,
                        Some(key),
                        Some(s),
                        Some(r),
                        Some(x),
                        &[
                            (Key::Reason, Val::Str(why.as_str())),
                            (Key::RtgsPriority, Val::Str(rtgs.as_str())),
                        ],
                    );
                }
            }
        }
        self.scratch.release = release;
    }

    /// §7.5: settles the incoming payment `slot` (`s → r`, amount `a`) together with the first
    /// of the first 64 Q2 payments `r → s`, in Q2 order, with which settling both is feasible
    /// → `EntryDispositionOffset`, then `OffsetSettlement` for the incoming payment and the
    /// queued one. Returns false, changing nothing, when none qualifies.
    fn entry_offset(&mut self, slot: Slot) -> bool {
        let Some(p) = self.st.payments.get(slot) else {
            return false;
        };
        let (key, s, r, a) = (p.key, p.sender, p.receiver, p.remaining);
        if !self.st.pair_q2.contains_key(&(r, s)) {
            return false;
        }
        let mut queued = std::mem::take(&mut self.scratch.group);
        queued.clear();
        queued.extend(
            self.st
                .q2_by_pair
                .range((r, s, (0, 0))..=(r, s, (u8::MAX, u64::MAX)))
                .take(ENTRY_OFFSET_SCAN)
                .map(|(_, q)| *q),
        );
        let mut found = None;
        for &q in queued.iter() {
            let Some(qp) = self.st.payments.get(q) else {
                continue;
            };
            let (q_key, b) = (qp.key, qp.remaining);
            let legs = [
                Leg {
                    from: s,
                    to: r,
                    total: a,
                },
                Leg {
                    from: r,
                    to: s,
                    total: b,
                },
            ];
            if self.offset_feasible(&legs) {
                found = Some((q, q_key, legs));
                break;
            }
        }
        self.scratch.group = queued;
        let Some((q, q_key, legs)) = found else {
            return false;
        };
        let b = legs[1].total;
        let net_payer = match a.cmp(&b) {
            std::cmp::Ordering::Greater => Val::Agent(s),
            std::cmp::Ordering::Less => Val::Agent(r),
            std::cmp::Ordering::Equal => Val::Null,
        };
        let group_seq = self.emit(
            EventType::EntryDispositionOffset,
            Some(key),
            Some(s),
            Some(r),
            Some(a.saturating_add(b)),
            &[
                (Key::QueuedTxId, Val::Tx(q_key)),
                (Key::IncomingAmount, Val::I64(a)),
                (Key::QueuedAmount, Val::I64(b)),
                (Key::NetPayer, net_payer),
                (Key::Net, Val::I64(a.abs_diff(b) as i64)),
            ],
        );
        self.settle_offset_group(&legs, &[slot, q], Mechanism::Entry, group_seq);
        true
    }
}
