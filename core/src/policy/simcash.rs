//! SimCash spellings the policy reader accepts, and what each one becomes (docs/simcash.md).
//!
//! Policies written for SimCash load unchanged wherever they mean something this language
//! defines. Three of their habits need a translation, kept here in one table each so the
//! reader in `parse.rs` only asks:
//! - SimCash's names of two release-budget parameters (`focus_cpty_list`, `max_per_cpty`)
//!   are the parameters `focus_counterparties` and `max_per_counterparty`, same meaning;
//! - `comment`, like `description`, is a free-text note on a node, read and ignored;
//! - `Hold` outside the payment tree is mapped to the action of that tree nearest in meaning
//!   ("do nothing this tick"), with a `SIMCASH_FORM` warning naming the action to write.

use super::registry::Tree;

/// `(action, SimCash parameter name, parameter name of this language)`.
const PARAMETER_ALIASES: &[(&str, &str, &str)] = &[
    (
        "SetReleaseBudget",
        "focus_cpty_list",
        "focus_counterparties",
    ),
    ("SetReleaseBudget", "max_per_cpty", "max_per_counterparty"),
];

/// Free-text keys SimCash allowed on nodes besides `description`.
pub(super) const NOTE_KEYS: &[&str] = &["comment"];

/// The parameter a key of `action`'s parameters stands for: itself, or the parameter a
/// SimCash alias names.
pub(super) fn parameter_name<'k>(action: &str, key: &'k str) -> &'k str {
    PARAMETER_ALIASES
        .iter()
        .find(|(a, alias, _)| *a == action && *alias == key)
        .map_or(key, |(_, _, canonical)| canonical)
}

/// The SimCash alias of `canonical` for `action`, if it has one.
pub(super) fn parameter_alias(action: &str, canonical: &str) -> Option<&'static str> {
    PARAMETER_ALIASES
        .iter()
        .find(|(a, _, c)| *a == action && *c == canonical)
        .map(|(_, alias, _)| *alias)
}

/// The action of `tree` that a SimCash action outside its tree stands for, if any.
pub(super) fn mapped_action(tree: Tree, name: &str) -> Option<&'static str> {
    match (name, tree) {
        ("Hold", Tree::Bank) => Some("NoAction"),
        ("Hold", Tree::StrategicCollateral | Tree::EndOfTickCollateral) => Some("HoldCollateral"),
        _ => None,
    }
}

/// Parameters of the SimCash action that the mapped action does without (Hold's `reason`).
pub(super) fn dropped_parameter(name: &str, key: &str) -> bool {
    name == "Hold" && key == "reason"
}
