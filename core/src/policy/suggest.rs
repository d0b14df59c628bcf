//! "Did you mean" suggestions (POLICY_DSL.md §8.2): the nearest known names of the right
//! category within edit distance 3, at most three, closest first.

/// Most edits for a name to be suggested.
pub const MAX_DISTANCE: usize = 3;
/// Most names in one suggestion.
pub const MAX_SUGGESTIONS: usize = 3;

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions, which are
/// the commonest typo), over characters. Returns `None` once it must exceed `limit`.
pub fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let w = b.len() + 1;
    // Three rolling rows: the one before last is needed for transpositions.
    let mut prev2 = vec![0usize; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut cur = vec![0usize; w];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = i;
        for j in 1..w {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= limit).then_some(d)
}

/// The nearest candidates, closest first, ties in candidate order. A candidate differing only
/// in letter case counts as distance 0, so `release` finds `Release` first.
pub fn nearest<'a, I>(name: &str, candidates: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let mut found: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .filter(|(_, c)| *c != name)
        .filter_map(|(i, c)| {
            let d = if c.to_lowercase() == lower {
                0
            } else {
                edit_distance(name, c, MAX_DISTANCE)?
            };
            Some((d, i, c))
        })
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.2 == b.2);
    found
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|t| t.2)
        .collect()
}

/// "did you mean `a`?", "did you mean `a` or `b`?", "did you mean `a`, `b` or `c`?".
pub fn did_you_mean(names: &[&str]) -> Option<String> {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        [init @ .., last] => Some(format!("did you mean {} or {last}?", init.join(", "))),
    }
}

/// Suggestion for `name` among `candidates`, if any is close.
pub fn suggest<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    did_you_mean(&nearest(name, candidates))
}
