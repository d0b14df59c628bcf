//! Reference versions of the multilateral LSM rules (docs/lsm.md §2 and §4), written from the
//! spec and the engine's public state alone, for the LSM tests to check the engine against.
//! Slow on purpose: everything is recomputed from scratch.
#![allow(dead_code)]

use paysim_core::Engine;

/// Q2 as the reference sees it: payments in Q2 order and each bank's queue `Q_i`.
#[derive(Debug, Clone)]
pub struct Q2View {
    /// `(sender, receiver, remaining amount, payment key)`, in Q2 order.
    pub payments: Vec<(u32, u32, i64, u64)>,
    /// `queues[i]` = indexes into `payments` of bank `i`'s outgoing payments, in Q2 order.
    pub queues: Vec<Vec<usize>>,
}

pub fn q2_view(e: &Engine) -> Q2View {
    let st = e.state();
    let mut payments = Vec::new();
    let mut queues = vec![Vec::new(); st.agents.len()];
    for slot in st.q2.values() {
        let p = st.payments.get(*slot).expect("a Q2 payment is live");
        queues[p.sender as usize].push(payments.len());
        payments.push((p.sender, p.receiver, p.remaining, p.key));
    }
    Q2View { payments, queues }
}

/// Whether every bank covers the selected payments (docs/lsm.md §2), from the engine's
/// current balances, overdraft limits, counters and limits.
pub fn feasible(e: &Engine, v: &Q2View, selected: &[bool]) -> bool {
    (0..v.queues.len()).all(|i| covers(e, v, selected, i))
}

/// The payments a profile selects: the first `x[i]` of every `Q_i`.
pub fn selection(v: &Q2View, x: &[usize]) -> Vec<bool> {
    let mut sel = vec![false; v.payments.len()];
    for (i, q) in v.queues.iter().enumerate() {
        for &k in &q[..x[i]] {
            sel[k] = true;
        }
    }
    sel
}

/// Every profile `0 ≤ x_i ≤ |Q_i|` (brute force; only for small queues).
pub fn all_profiles(v: &Q2View) -> Vec<Vec<usize>> {
    let mut all = vec![vec![0usize; v.queues.len()]];
    for (i, q) in v.queues.iter().enumerate() {
        all = all
            .into_iter()
            .flat_map(|x| {
                (0..=q.len()).map(move |k| {
                    let mut y = x.clone();
                    y[i] = k;
                    y
                })
            })
            .collect();
    }
    all
}

/// The partial fixpoint the slow way: while some bank with selected payments does not cover
/// the selection (smallest index first), drop its last selected payment; recompute everything
/// after each removal.
pub fn naive_fixpoint(e: &Engine, v: &Q2View) -> Vec<usize> {
    let mut x: Vec<usize> = v.queues.iter().map(Vec::len).collect();
    loop {
        let selected = selection(v, &x);
        let uncovered = (0..x.len()).find(|&i| x[i] > 0 && !covers(e, v, &selected, i));
        match uncovered {
            Some(i) => x[i] -= 1,
            None => return x,
        }
    }
}

/// Whether bank `i` covers the selection (docs/lsm.md §2).
pub fn covers(e: &Engine, v: &Q2View, selected: &[bool], i: usize) -> bool {
    let a = &e.state().agents[i];
    let (mut net, mut out) = (0i128, 0i128);
    let mut out_to = std::collections::BTreeMap::<u32, i128>::new();
    for (k, &(s, r, x, _)) in v.payments.iter().enumerate() {
        if !selected[k] {
            continue;
        }
        if s as usize == i {
            net -= i128::from(x);
            out += i128::from(x);
            *out_to.entry(r).or_insert(0) += i128::from(x);
        } else if r as usize == i {
            net += i128::from(x);
        }
    }
    if out == 0 {
        return true;
    }
    let avail = (i128::from(a.balance) + i128::from(a.limit())).max(0);
    (net >= 0 || -net <= avail)
        && a.multilateral_limit
            .is_none_or(|l| i128::from(a.out_total) + out <= i128::from(l))
        && out_to.iter().all(|(r, x)| {
            a.bilateral_limits.get(r).is_none_or(|l| {
                i128::from(a.out_to.get(r).copied().unwrap_or(0)) + x <= i128::from(*l)
            })
        })
}
