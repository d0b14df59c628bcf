//! `inject_arrivals` (ENGINE.md §9.3) for columnar batches: the one validator of injected
//! arrivals, whatever form they came in. Rows name agents and RTGS classes by codes into short
//! name lists, so a batch of a million payments resolves each distinct name once instead of
//! once per row, and the records are staged per tick run rather than per row.

use super::{Engine, InjectRecord, Injected};
use crate::config::RtgsPriority;
use crate::error::{EngineError, EngineResult, InjectError};

/// A batch of arrivals as columns of one length. A code indexes its name list; a code outside
/// the list (such as `-1`) is a missing value. `None` for an optional column means the column
/// is absent (engine defaults: priority 5, not divisible, `Normal`); a validity byte of 0 marks
/// one missing value.
#[derive(Clone, Copy, Debug, Default)]
pub struct InjectColumns<'a> {
    pub tick: &'a [i64],
    pub sender_names: &'a [String],
    pub sender: &'a [i32],
    pub receiver_names: &'a [String],
    pub receiver: &'a [i32],
    pub amount: &'a [i64],
    pub deadline_tick: &'a [i64],
    pub priority: Option<&'a [i64]>,
    pub priority_valid: Option<&'a [u8]>,
    pub divisible: Option<&'a [u8]>,
    pub divisible_valid: Option<&'a [u8]>,
    pub rtgs_names: &'a [String],
    pub rtgs_priority: Option<&'a [i32]>,
}

/// Owned columns built from row records (the JSON form of `inject_arrivals`).
#[derive(Debug, Default)]
pub struct OwnedColumns {
    tick: Vec<i64>,
    names: Vec<String>,
    sender: Vec<i32>,
    receiver: Vec<i32>,
    amount: Vec<i64>,
    deadline_tick: Vec<i64>,
    priority: Vec<i64>,
    priority_valid: Vec<u8>,
    divisible: Vec<u8>,
    divisible_valid: Vec<u8>,
    rtgs_names: Vec<String>,
    rtgs: Vec<i32>,
}

impl OwnedColumns {
    pub fn from_records(records: &[InjectRecord]) -> Self {
        let mut c = OwnedColumns::default();
        for (i, r) in records.iter().enumerate() {
            let code = i32::try_from(2 * i).unwrap_or(i32::MAX - 1);
            c.tick.push(r.tick);
            c.names.push(r.sender.clone());
            c.names.push(r.receiver.clone());
            c.sender.push(code);
            c.receiver.push(code.saturating_add(1));
            c.amount.push(r.amount);
            c.deadline_tick.push(r.deadline_tick);
            c.priority.push(r.priority.unwrap_or(0));
            c.priority_valid.push(u8::from(r.priority.is_some()));
            c.divisible.push(u8::from(r.divisible.unwrap_or(false)));
            c.divisible_valid.push(u8::from(r.divisible.is_some()));
            match &r.rtgs_priority {
                Some(name) => {
                    c.rtgs.push(i32::try_from(c.rtgs_names.len()).unwrap_or(-1));
                    c.rtgs_names.push(name.clone());
                }
                None => c.rtgs.push(-1),
            }
        }
        c
    }

    pub fn view(&self) -> InjectColumns<'_> {
        InjectColumns {
            tick: &self.tick,
            sender_names: &self.names,
            sender: &self.sender,
            receiver_names: &self.names,
            receiver: &self.receiver,
            amount: &self.amount,
            deadline_tick: &self.deadline_tick,
            priority: Some(&self.priority),
            priority_valid: Some(&self.priority_valid),
            divisible: Some(&self.divisible),
            divisible_valid: Some(&self.divisible_valid),
            rtgs_names: &self.rtgs_names,
            rtgs_priority: Some(&self.rtgs),
        }
    }
}

fn at<T: Copy>(column: Option<&[T]>, valid: Option<&[u8]>, i: usize) -> Option<T> {
    let present = valid.is_none_or(|v| v.get(i).is_some_and(|&b| b != 0));
    column.and_then(|c| c.get(i).copied()).filter(|_| present)
}

fn coded<'n, T: Copy>(
    codes: &[i32],
    i: usize,
    names: &'n [String],
    resolved: &[T],
) -> Coded<'n, T> {
    match codes.get(i).and_then(|&c| usize::try_from(c).ok()) {
        Some(k) if k < names.len() => Coded::Known(&names[k], resolved[k]),
        _ => Coded::Missing,
    }
}

enum Coded<'n, T> {
    Known(&'n str, T),
    Missing,
}

impl Engine {
    /// Queues a columnar batch of externally supplied arrivals; validated as a whole (one bad
    /// row rejects the batch, `InjectError{index, field}`), then staged in row order.
    pub fn inject_columns(&mut self, c: &InjectColumns<'_>) -> EngineResult<()> {
        let n = c.tick.len();
        let lengths = [
            c.sender.len(),
            c.receiver.len(),
            c.amount.len(),
            c.deadline_tick.len(),
        ];
        if let Some(pos) = lengths.iter().position(|&l| l != n) {
            let field = ["sender", "receiver", "amount", "deadline_tick"][pos];
            return Err(EngineError::Inject(InjectError {
                index: n.min(lengths[pos]),
                field,
                message: format!("column of {} rows in a batch of {n}", lengths[pos]),
            }));
        }
        let t_total = i64::from(self.setup.total_ticks);
        let now = i64::from(self.st.tick);
        let agent = |names: &[String]| -> Vec<Option<u32>> {
            names
                .iter()
                .map(|s| self.setup.index.get(s).copied())
                .collect()
        };
        let (senders, receivers) = (agent(c.sender_names), agent(c.receiver_names));
        let classes: Vec<Option<RtgsPriority>> = c
            .rtgs_names
            .iter()
            .map(|s| match s.as_str() {
                "Normal" => Some(RtgsPriority::Normal),
                "Urgent" => Some(RtgsPriority::Urgent),
                "HighlyUrgent" => Some(RtgsPriority::HighlyUrgent),
                _ => None,
            })
            .collect();
        let mut staged = Vec::with_capacity(n);
        for index in 0..n {
            let bad = |field: &'static str, message: String| {
                EngineError::Inject(InjectError {
                    index,
                    field,
                    message,
                })
            };
            let tick = c.tick[index];
            if tick < now || tick >= t_total {
                return Err(bad(
                    "tick",
                    format!("expected {now} ≤ tick < {t_total}, found {tick}"),
                ));
            }
            let s = match coded(c.sender, index, c.sender_names, &senders) {
                Coded::Known(_, Some(s)) => s,
                Coded::Known(name, None) => {
                    return Err(bad("sender", format!("unknown agent `{name}`")))
                }
                Coded::Missing => return Err(bad("sender", "missing".into())),
            };
            let rc = match coded(c.receiver, index, c.receiver_names, &receivers) {
                Coded::Known(_, Some(r)) => r,
                Coded::Known(name, None) => {
                    return Err(bad("receiver", format!("unknown agent `{name}`")))
                }
                Coded::Missing => return Err(bad("receiver", "missing".into())),
            };
            if s == rc {
                return Err(bad("receiver", "sender and receiver must differ".into()));
            }
            let amount = c.amount[index];
            if !(1..=1_000_000_000_000_000).contains(&amount) {
                return Err(bad(
                    "amount",
                    format!("expected 1..10^15 cents, found {amount}"),
                ));
            }
            let deadline = c.deadline_tick[index];
            if deadline < tick {
                return Err(bad(
                    "deadline_tick",
                    "the deadline is before the arrival tick".into(),
                ));
            }
            let priority = at(c.priority, c.priority_valid, index).unwrap_or(5);
            if !(0..=10).contains(&priority) {
                return Err(bad("priority", format!("expected 0..10, found {priority}")));
            }
            let rtgs = match c
                .rtgs_priority
                .map(|r| coded(r, index, c.rtgs_names, &classes))
            {
                None | Some(Coded::Missing) => RtgsPriority::Normal,
                Some(Coded::Known(_, Some(class))) => class,
                Some(Coded::Known(other, None)) => {
                    return Err(bad(
                        "rtgs_priority",
                        format!("expected HighlyUrgent, Urgent or Normal, found `{other}`"),
                    ))
                }
            };
            staged.push((
                tick as u32,
                Injected {
                    sender: s,
                    receiver: rc,
                    amount,
                    deadline: deadline.min(i64::from(u32::MAX)) as u32,
                    priority: priority as u8,
                    divisible: at(c.divisible, c.divisible_valid, index).is_some_and(|d| d != 0),
                    rtgs_priority: rtgs,
                },
            ));
        }
        // Rows usually come in tick order: one map entry per run of equal ticks.
        let mut rows = staged.into_iter().peekable();
        while let Some((tick, first)) = rows.next() {
            let slot = self.st.injected.entry(tick).or_default();
            slot.push(first);
            while let Some((_, next)) = rows.next_if(|(t, _)| *t == tick) {
                slot.push(next);
            }
        }
        Ok(())
    }
}
