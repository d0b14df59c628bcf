//! The cycle search of ENGINE.md §7.2 on the graph of Q2 pair sums, as a pure computation.
//!
//! The search works on pairs, never on payments: a vertex per agent, an edge `u → v` weighted
//! by the summed remaining amount of Q2's `u → v` payments. Because the work caps make the
//! result depend on the visiting order, the order is part of the spec and this module follows
//! it literally:
//!
//! 1. Vertices outside every strongly connected component of size ≥ 3 are removed, with their
//!    edges (no simple cycle of length ≥ 3 can use them). Edges between two kept vertices stay,
//!    even when the vertices lie in different components, since the spec removes vertices only.
//! 2. For each start vertex `s` in ascending index, a depth-first search over vertices with an
//!    index greater than `s`, successors in ascending index, on paths of at most `max_len`
//!    vertices; an edge back to `s` from a path of at least 3 vertices records a cycle.
//! 3. One *edge expansion* is the examination of one outgoing edge of the path's last vertex,
//!    whatever comes of it (extension, a recorded cycle, or nothing because the target is
//!    below `s`, already on the path, or the path is full). The search stops before the
//!    expansion that would exceed `CYCLE_SEARCH_STEP_LIMIT`, or right after recording the
//!    `CYCLE_CANDIDATE_LIMIT`-th cycle, keeping what it found.
//! 4. Candidates are ordered by total value descending, then vertex sequence ascending.
//!
//! All buffers live in the struct and are reused, so a search allocates nothing once they have
//! grown to the size of the graph.

/// Edge expansions after which the search stops (§7.2).
pub const CYCLE_SEARCH_STEP_LIMIT: u32 = 100_000;
/// Recorded cycles after which the search stops (§7.2).
pub const CYCLE_CANDIDATE_LIMIT: usize = 10_000;

const UNVISITED: u32 = u32::MAX;

/// One recorded cycle: its vertices are `verts[start .. start + len]` (rooted at the smallest
/// index) and its edges `edges[start .. start + len]`, edge `i` leaving vertex `i`.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    start: u32,
    len: u32,
    total: i128,
}

/// A cycle search and its results, with every buffer kept for the next search.
#[derive(Debug, Default)]
pub struct CycleSearch {
    // The whole graph in compressed sparse rows: out-edges of `v` are `off[v] .. off[v + 1]`.
    off: Vec<u32>,
    dst: Vec<u32>,
    wt: Vec<i64>,
    // Tarjan's strongly connected components (iterative).
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    calls: Vec<(u32, u32)>,
    keep: Vec<bool>,
    // The pruned graph, same layout; edge ids below are positions in `p_dst`.
    p_off: Vec<u32>,
    p_dst: Vec<u32>,
    p_wt: Vec<i64>,
    // Depth-first search state.
    on_path: Vec<bool>,
    path: Vec<u32>,
    path_edges: Vec<u32>,
    next: Vec<u32>,
    // Results.
    verts: Vec<u32>,
    edges: Vec<u32>,
    candidates: Vec<Candidate>,
    order: Vec<u32>,
    /// Edge expansions spent by the last search.
    pub steps: u32,
    /// Whether the last search stopped at a work cap (so cycles may be missing).
    pub truncated: bool,
}

impl CycleSearch {
    /// Searches the graph on vertices `0..n` whose edges `edges` come sorted by
    /// `(from, to)`, distinct and without self-loops (the order of a `BTreeMap` of pairs).
    pub fn run(&mut self, n: usize, edges: impl Iterator<Item = (u32, u32, i64)>, max_len: usize) {
        self.build(n, edges);
        self.prune(n);
        self.enumerate(n, max_len);
        self.sort();
    }

    /// Number of candidates found.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// The `i`-th candidate in spec order: (vertices, edge ids, total value).
    pub fn candidate(&self, i: usize) -> (&[u32], &[u32], i128) {
        let c = self.candidates[self.order[i] as usize];
        let (a, b) = (c.start as usize, (c.start + c.len) as usize);
        (&self.verts[a..b], &self.edges[a..b], c.total)
    }

    /// Weight of an edge of the pruned graph.
    pub fn weight(&self, edge: u32) -> i64 {
        self.p_wt[edge as usize]
    }

    /// Number of edges of the pruned graph (edge ids are `0..edge_count()`).
    pub fn edge_count(&self) -> usize {
        self.p_dst.len()
    }

    fn build(&mut self, n: usize, edges: impl Iterator<Item = (u32, u32, i64)>) {
        self.off.clear();
        self.dst.clear();
        self.wt.clear();
        self.off.push(0);
        for (from, to, w) in edges {
            while self.off.len() <= from as usize {
                self.off.push(self.dst.len() as u32);
            }
            self.dst.push(to);
            self.wt.push(w);
        }
        while self.off.len() <= n {
            self.off.push(self.dst.len() as u32);
        }
    }

    /// Marks in `keep` the vertices of strongly connected components of size ≥ 3 (Tarjan's
    /// algorithm, iterative so that deep graphs cannot overflow the call stack), then builds
    /// the pruned graph from the edges between kept vertices.
    fn prune(&mut self, n: usize) {
        reset(&mut self.index, n, UNVISITED);
        reset(&mut self.low, n, 0);
        reset(&mut self.on_stack, n, false);
        reset(&mut self.keep, n, false);
        self.stack.clear();
        let mut counter = 0u32;
        for root in 0..n as u32 {
            if self.index[root as usize] != UNVISITED {
                continue;
            }
            self.visit(root, &mut counter);
            while let Some(&(v, e)) = self.calls.last() {
                let vi = v as usize;
                if e < self.off[vi + 1] {
                    if let Some(top) = self.calls.last_mut() {
                        top.1 += 1;
                    }
                    let w = self.dst[e as usize];
                    if self.index[w as usize] == UNVISITED {
                        self.visit(w, &mut counter);
                    } else if self.on_stack[w as usize] {
                        self.low[vi] = self.low[vi].min(self.index[w as usize]);
                    }
                    continue;
                }
                self.calls.pop();
                if let Some(&(u, _)) = self.calls.last() {
                    self.low[u as usize] = self.low[u as usize].min(self.low[vi]);
                }
                if self.low[vi] == self.index[vi] {
                    let pos = self.stack.iter().rposition(|&x| x == v).unwrap_or(0);
                    let big = self.stack.len() - pos >= 3;
                    for &x in &self.stack[pos..] {
                        self.on_stack[x as usize] = false;
                        self.keep[x as usize] = big;
                    }
                    self.stack.truncate(pos);
                }
            }
        }
        self.p_off.clear();
        self.p_dst.clear();
        self.p_wt.clear();
        for v in 0..n {
            self.p_off.push(self.p_dst.len() as u32);
            if !self.keep[v] {
                continue;
            }
            for e in self.off[v] as usize..self.off[v + 1] as usize {
                if self.keep[self.dst[e] as usize] {
                    self.p_dst.push(self.dst[e]);
                    self.p_wt.push(self.wt[e]);
                }
            }
        }
        self.p_off.push(self.p_dst.len() as u32);
    }

    fn visit(&mut self, v: u32, counter: &mut u32) {
        self.index[v as usize] = *counter;
        self.low[v as usize] = *counter;
        *counter += 1;
        self.stack.push(v);
        self.on_stack[v as usize] = true;
        self.calls.push((v, self.off[v as usize]));
    }

    /// The depth-first enumeration of step 2, with both work caps.
    fn enumerate(&mut self, n: usize, max_len: usize) {
        self.verts.clear();
        self.edges.clear();
        self.candidates.clear();
        self.steps = 0;
        self.truncated = false;
        reset(&mut self.on_path, n, false);
        'starts: for s in 0..n as u32 {
            let si = s as usize;
            if self.p_off[si] == self.p_off[si + 1] {
                continue;
            }
            self.path.clear();
            self.path_edges.clear();
            self.next.clear();
            self.path.push(s);
            self.next.push(self.p_off[si]);
            self.on_path[si] = true;
            while let Some(&v) = self.path.last() {
                let depth = self.path.len() - 1;
                let e = self.next[depth];
                if e == self.p_off[v as usize + 1] {
                    self.on_path[v as usize] = false;
                    self.path.pop();
                    self.next.pop();
                    self.path_edges.pop();
                    continue;
                }
                if self.steps == CYCLE_SEARCH_STEP_LIMIT {
                    self.truncated = true;
                    break 'starts;
                }
                self.steps += 1;
                self.next[depth] = e + 1;
                let w = self.p_dst[e as usize];
                if w == s {
                    if self.path.len() >= 3 {
                        self.record(e);
                        if self.candidates.len() == CYCLE_CANDIDATE_LIMIT {
                            self.truncated = true;
                            break 'starts;
                        }
                    }
                    continue;
                }
                if w < s || self.on_path[w as usize] || self.path.len() == max_len {
                    continue;
                }
                self.path.push(w);
                self.path_edges.push(e);
                self.next.push(self.p_off[w as usize]);
                self.on_path[w as usize] = true;
            }
        }
    }

    /// Records the current path closed by edge `closing` back to its start.
    fn record(&mut self, closing: u32) {
        let start = self.verts.len() as u32;
        self.verts.extend_from_slice(&self.path);
        self.edges.extend_from_slice(&self.path_edges);
        self.edges.push(closing);
        let total = self.edges[start as usize..]
            .iter()
            .map(|&e| i128::from(self.p_wt[e as usize]))
            .sum();
        self.candidates.push(Candidate {
            start,
            len: self.path.len() as u32,
            total,
        });
    }

    /// Step 3's order: total value descending, then vertex sequence ascending.
    fn sort(&mut self) {
        self.order.clear();
        self.order.extend(0..self.candidates.len() as u32);
        let (cands, verts) = (&self.candidates, &self.verts);
        let seq = |c: &Candidate| &verts[c.start as usize..(c.start + c.len) as usize];
        self.order.sort_unstable_by(|&a, &b| {
            let (ca, cb) = (&cands[a as usize], &cands[b as usize]);
            cb.total.cmp(&ca.total).then_with(|| seq(ca).cmp(seq(cb)))
        });
    }
}

/// Resizes `v` to `n` elements all equal to `x`, reusing its allocation.
fn reset<T: Copy>(v: &mut Vec<T>, n: usize, x: T) {
    v.clear();
    v.resize(n, x);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(n: usize, edges: &[(u32, u32, i64)], max_len: usize) -> CycleSearch {
        let mut sorted = edges.to_vec();
        sorted.sort_unstable();
        let mut s = CycleSearch::default();
        s.run(n, sorted.into_iter(), max_len);
        s
    }

    fn cycles(s: &CycleSearch) -> Vec<(Vec<u32>, i128)> {
        (0..s.len())
            .map(|i| {
                let (v, _, t) = s.candidate(i);
                (v.to_vec(), t)
            })
            .collect()
    }

    #[test]
    fn both_orientations_found_once_each_in_spec_order() {
        // Complete digraph on 3 vertices: two 3-cycles, plus three 2-cycles that never count.
        let e = [
            (0, 1, 10),
            (1, 2, 10),
            (2, 0, 10),
            (0, 2, 5),
            (2, 1, 5),
            (1, 0, 5),
        ];
        let s = search(3, &e, 4);
        assert_eq!(cycles(&s), vec![(vec![0, 1, 2], 30), (vec![0, 2, 1], 15)]);
        assert!(!s.truncated);
    }

    #[test]
    fn ties_are_broken_by_vertex_sequence() {
        let e = [
            (0, 1, 1),
            (1, 2, 1),
            (2, 0, 1),
            (0, 2, 1),
            (2, 1, 1),
            (1, 0, 1),
        ];
        let s = search(3, &e, 3);
        assert_eq!(
            cycles(&s),
            vec![(vec![0, 1, 2], 3), (vec![0, 2, 1], 3)],
            "equal totals: ascending vertex sequence"
        );
    }

    #[test]
    fn scc_pruning_removes_tails_and_two_cycles() {
        // 0→1→2→0 is a 3-cycle; 3↔4 a 2-cycle; 2→3 and 5→0 are tails.
        let e = [
            (0, 1, 1),
            (1, 2, 1),
            (2, 0, 1),
            (2, 3, 1),
            (3, 4, 1),
            (4, 3, 1),
            (5, 0, 1),
        ];
        let s = search(6, &e, 4);
        assert_eq!(s.edge_count(), 3);
        assert_eq!(cycles(&s), vec![(vec![0, 1, 2], 3)]);
        // Expansions: from 0: 0→1, 1→2, 2→0 (recorded); from 1: 1→2, 2→0 (below 1);
        // from 2: 2→0.
        assert_eq!(s.steps, 6);
    }

    #[test]
    fn max_len_bounds_the_path() {
        let ring = [(0, 1, 1), (1, 2, 1), (2, 3, 1), (3, 0, 1)];
        assert_eq!(search(4, &ring, 3).len(), 0);
        assert_eq!(search(4, &ring, 4).len(), 1);
    }

    fn complete(n: u32) -> Vec<(u32, u32, i64)> {
        let mut e = Vec::new();
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    e.push((a, b, 1 + i64::from((a * 7 + b * 13) % 17)));
                }
            }
        }
        e
    }

    #[test]
    fn work_caps_bound_a_dense_graph() {
        let s = search(60, &complete(60), 10);
        assert!(s.truncated);
        assert!(s.steps <= CYCLE_SEARCH_STEP_LIMIT);
        assert!(s.len() <= CYCLE_CANDIDATE_LIMIT);
        assert!(s.steps == CYCLE_SEARCH_STEP_LIMIT || s.len() == CYCLE_CANDIDATE_LIMIT);
    }

    #[test]
    fn every_simple_cycle_of_a_small_complete_graph() {
        // K4 has 8 directed 3-cycles and 6 directed 4-cycles.
        let s = search(4, &complete(4), 4);
        assert_eq!(s.len(), 14);
        assert!(!s.truncated);
        let mut seen: Vec<Vec<u32>> = cycles(&s).into_iter().map(|c| c.0).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 14);
        assert!(seen.iter().all(|c| c[0] == *c.iter().min().unwrap_or(&0)));
    }

    #[test]
    fn reused_buffers_give_the_same_answer() {
        let mut s = CycleSearch::default();
        s.run(5, complete(5).into_iter(), 4);
        let first = cycles(&s);
        s.run(3, [(0, 1, 1), (1, 2, 1), (2, 0, 1)].into_iter(), 4);
        assert_eq!(cycles(&s), vec![(vec![0, 1, 2], 3)]);
        s.run(5, complete(5).into_iter(), 4);
        assert_eq!(cycles(&s), first);
    }
}
