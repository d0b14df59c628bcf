//! S9, RTGS entry: each payment of the release list, in order, settles if the RTGS rule passes;
//! otherwise it joins Q2 (`QueuedRtgs`, preceded by a limit event when a limit refused it).

use super::settle::{Path, Refusal};
use super::Engine;
use crate::events::{EventType, Key, Val};

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
}
