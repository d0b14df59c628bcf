//! Reading a parsed JSON value into the typed [`Doc`]: the document, node and action shapes
//! (conditions and values are in `parse_expr.rs`, action parameters in `parse_args.rs`,
//! parameter declarations in `params.rs`).
//!
//! Shape problems are reported where they occur and reading goes on, so one pass finds every
//! problem. The walk is recursive but bounded: a node deeper than the tree-depth limit and a
//! construct nested beyond the nesting limit are reported and not entered.

use super::actions::{action_by_name, actions_in, ActionSpec};
use super::ast::{Action, Arg, Doc, Loc, Node, NodeKind, TreeRoot};
use super::error::{Code, Problems};
use super::json::{join, JsonKind, JsonValue, Member};
use super::registry::{field_by_name, Tree};
use super::simcash;
use super::suggest::suggest;

/// Deepest tree (root = 1).
pub const MAX_TREE_DEPTH: usize = 100;
/// Most nodes in one document, all trees together.
pub const MAX_NODES: usize = 10_000;
/// Deepest nesting of conditions and computations inside one condition or action parameter.
pub const MAX_NESTING: usize = 64;
/// Longest `policy_id`, `node_id` and `reason`, in characters.
pub const MAX_ID_CHARS: usize = 128;

const DOC_KEYS: &[&str] = &[
    "version",
    "policy_id",
    "description",
    "parameters",
    "payment_tree",
    "bank_tree",
    "strategic_collateral_tree",
    "end_of_tick_collateral_tree",
    "metadata",
];
const CONDITION_NODE_KEYS: &[&str] = &[
    "type",
    "node_id",
    "description",
    "comment",
    "condition",
    "on_true",
    "on_false",
];
const ACTION_NODE_KEYS: &[&str] = &[
    "type",
    "node_id",
    "description",
    "comment",
    "action",
    "parameters",
];

/// State of one read: the problem sink and the counters behind the document-wide limits.
pub(super) struct Reader<'p> {
    pub p: &'p mut Problems,
    pub nodes: usize,
    pub tree: Tree,
    pub deep_reported: bool,
}

pub(super) fn loc(ptr: &str, v: &JsonValue) -> Loc {
    Loc {
        ptr: ptr.to_string(),
        offset: v.offset,
    }
}

pub(super) fn member<'v>(members: &'v [Member], key: &str) -> Option<&'v Member> {
    members.iter().find(|m| m.key == key)
}

/// Is `s` a valid id: 1..128 characters, none of them control characters?
pub(super) fn valid_id(s: &str) -> bool {
    let n = s.chars().count();
    (1..=MAX_ID_CHARS).contains(&n) && !s.chars().any(char::is_control)
}

impl Reader<'_> {
    /// The members of `v`, or a `WRONG_TYPE` problem.
    pub fn object<'v>(&mut self, v: &'v JsonValue, ptr: &str, what: &str) -> Option<&'v [Member]> {
        let m = v.as_object();
        if m.is_none() {
            self.p.error(
                Code::WrongType,
                v.offset,
                ptr,
                format!("{what} must be an object, not {}", v.type_name()),
            );
        }
        m
    }

    /// Reports every key of `members` not in `allowed`.
    pub fn check_keys(
        &mut self,
        members: &[Member],
        ptr: &str,
        allowed: &[&str],
        what: &str,
        hint: &dyn Fn(&str) -> Option<String>,
    ) {
        for m in members
            .iter()
            .filter(|m| !allowed.contains(&m.key.as_str()))
        {
            let sugg = hint(&m.key).or_else(|| suggest(&m.key, allowed.iter().copied()));
            self.p.error_s(
                Code::UnknownKey,
                m.key_offset,
                &join(ptr, &m.key),
                format!("unknown key `{}` in {what}", m.key),
                sugg,
            );
        }
    }

    pub fn missing(
        &mut self,
        v: &JsonValue,
        ptr: &str,
        key: &str,
        what: &str,
        sugg: Option<String>,
    ) {
        self.p.error_s(
            Code::MissingKey,
            v.offset,
            ptr,
            format!("{what} is missing the required key `{key}`"),
            sugg,
        );
    }

    /// A string member, or `WRONG_TYPE`.
    pub fn string<'v>(&mut self, m: &'v Member, ptr: &str, what: &str) -> Option<&'v str> {
        let s = m.value.as_str();
        if s.is_none() {
            self.p.error(
                Code::WrongType,
                m.value.offset,
                &join(ptr, &m.key),
                format!("{what} must be a string, not {}", m.value.type_name()),
            );
        }
        s
    }
}

/// Reads the whole document.
pub(super) fn document(v: &JsonValue, p: &mut Problems) -> Doc {
    let mut r = Reader {
        p,
        nodes: 0,
        tree: Tree::Payment,
        deep_reported: false,
    };
    let mut doc = Doc::default();
    let Some(members) = r.object(v, "", "a policy document") else {
        return doc;
    };
    r.check_keys(members, "", DOC_KEYS, "the policy document", &|k| {
        (k == "params").then(|| "did you mean `parameters`?".to_string())
    });
    match member(members, "version") {
        None => r.missing(
            v,
            "",
            "version",
            "the policy document",
            Some("add \"version\": \"1.0\"".into()),
        ),
        Some(m) => version(&mut r, m),
    }
    match member(members, "policy_id") {
        None => r.missing(v, "", "policy_id", "the policy document", None),
        Some(m) => {
            if let Some(s) = r.string(m, "", "`policy_id`") {
                if valid_id(s) {
                    doc.policy_id = Some(s.to_string());
                } else {
                    r.p.error(
                        Code::InvalidId,
                        m.value.offset,
                        "/policy_id",
                        "`policy_id` must be 1..128 printable characters".into(),
                    );
                }
            }
        }
    }
    if let Some(m) = member(members, "description") {
        r.string(m, "", "`description`");
    }
    if let Some(m) = member(members, "metadata") {
        r.object(&m.value, "/metadata", "`metadata`");
    }
    if let Some(m) = member(members, "parameters") {
        doc.params_loc = Some(loc("/parameters", &m.value));
        doc.params = r.parameters(&m.value, "/parameters");
    }
    for m in members {
        let Some(tree) = Tree::from_json_name(&m.key) else {
            continue;
        };
        if matches!(m.value.kind, JsonKind::Null) {
            continue;
        }
        let ptr = join("", &m.key);
        doc.tree_values += 1;
        if m.value.as_object().is_none() {
            r.p.error(
                Code::WrongType,
                m.value.offset,
                &ptr,
                format!(
                    "`{}` must be a node object or null, not {}",
                    m.key,
                    m.value.type_name()
                ),
            );
            continue;
        }
        r.tree = tree;
        r.deep_reported = false;
        let root = r.node(&m.value, &ptr, 1);
        doc.trees.push(TreeRoot { tree, root });
    }
    doc
}

fn version(r: &mut Reader, m: &Member) {
    let Some(s) = r.string(m, "", "`version`") else {
        if let JsonKind::Number(_) = m.value.kind {
            if let Some(last) = r.p.errors.last_mut() {
                last.suggestion = Some("write \"version\": \"1.0\"".into());
            }
        }
        return;
    };
    let parsed = s.split_once('.').and_then(|(a, b)| {
        let ok = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
        (ok(a) && ok(b)).then(|| (a.parse::<u64>().ok(), b.parse::<u64>().ok()))
    });
    match parsed {
        Some((Some(1), Some(0))) => {}
        Some((Some(1), _)) => r.p.warning(
            Code::NewerVersion,
            m.value.offset,
            "/version",
            format!(
                "version `{s}` is newer than 1.0; features it adds are not known to this engine"
            ),
        ),
        _ => r.p.error_s(
            Code::UnsupportedVersion,
            m.value.offset,
            "/version",
            format!("unsupported version `{s}`: this engine reads version 1.x"),
            Some("write \"version\": \"1.0\"".into()),
        ),
    }
}

impl Reader<'_> {
    /// One node at `depth` (root = 1).
    pub fn node(&mut self, v: &JsonValue, ptr: &str, depth: usize) -> Node {
        let invalid = |ptr: &str| Node {
            loc: loc(ptr, v),
            id: None,
            kind: NodeKind::Invalid,
        };
        if depth > MAX_TREE_DEPTH {
            if !self.deep_reported {
                self.deep_reported = true;
                self.p.error(
                    Code::TreeTooDeep,
                    v.offset,
                    ptr,
                    format!(
                        "`{}` is deeper than {MAX_TREE_DEPTH} levels (this node is at depth {depth})",
                        self.tree.json_name()
                    ),
                );
            }
            return invalid(ptr);
        }
        self.nodes += 1;
        if self.nodes == MAX_NODES + 1 {
            self.p.error(
                Code::TooManyNodes,
                v.offset,
                ptr,
                format!("the document has more than {MAX_NODES} nodes"),
            );
        }
        let Some(members) = self.object(v, ptr, "a node") else {
            return invalid(ptr);
        };
        let id = self.node_id(v, members, ptr);
        let ty = member(members, "type");
        let is_condition = match ty {
            None => {
                let guess =
                    member(members, "condition").is_some() || member(members, "on_true").is_some();
                let sugg = if guess {
                    "add \"type\": \"condition\""
                } else {
                    "add \"type\": \"action\""
                };
                self.missing(v, ptr, "type", "a node", Some(sugg.into()));
                guess
            }
            Some(m) => match m.value.as_str() {
                Some("condition") => true,
                Some("action") => false,
                other => {
                    let guess = member(members, "condition").is_some();
                    let sugg = other.and_then(|s| suggest(s, ["condition", "action"]));
                    self.p.error_s(
                        Code::WrongType,
                        m.value.offset,
                        &join(ptr, "type"),
                        "node `type` must be \"condition\" or \"action\"".into(),
                        sugg,
                    );
                    guess
                }
            },
        };
        let kind = if is_condition {
            self.condition_node(v, members, ptr, depth)
        } else {
            self.action_node(v, members, ptr)
        };
        Node {
            loc: loc(ptr, v),
            id,
            kind,
        }
    }

    fn node_id(&mut self, v: &JsonValue, members: &[Member], ptr: &str) -> Option<(String, Loc)> {
        let Some(m) = member(members, "node_id") else {
            self.missing(v, ptr, "node_id", "a node", None);
            return None;
        };
        let s = self.string(m, ptr, "`node_id`")?;
        let at = join(ptr, "node_id");
        if !valid_id(s) {
            self.p.error(
                Code::InvalidId,
                m.value.offset,
                &at,
                "`node_id` must be 1..128 printable characters".into(),
            );
            return None;
        }
        Some((s.to_string(), loc(&at, &m.value)))
    }

    fn condition_node(
        &mut self,
        v: &JsonValue,
        members: &[Member],
        ptr: &str,
        depth: usize,
    ) -> NodeKind {
        self.check_keys(members, ptr, CONDITION_NODE_KEYS, "a condition node", &|k| {
            matches!(k, "action" | "parameters").then(|| {
                format!("`{k}` belongs to action nodes; a condition node has `condition`, `on_true` and `on_false`")
            })
        });
        self.notes(members, ptr);
        let cond = match member(members, "condition") {
            Some(m) => Some(self.condition(&m.value, &join(ptr, "condition"), 1)),
            None => {
                self.missing(v, ptr, "condition", "a condition node", None);
                None
            }
        };
        let branch = |r: &mut Self, key: &str| match member(members, key) {
            Some(m) => Some(r.node(&m.value, &join(ptr, key), depth + 1)),
            None => {
                r.missing(v, ptr, key, "a condition node", None);
                None
            }
        };
        let on_true = branch(self, "on_true");
        let on_false = branch(self, "on_false");
        match (cond, on_true, on_false) {
            (Some(cond), Some(t), Some(f)) => NodeKind::Condition {
                cond,
                on_true: Box::new(t),
                on_false: Box::new(f),
            },
            _ => NodeKind::Invalid,
        }
    }

    fn action_node(&mut self, v: &JsonValue, members: &[Member], ptr: &str) -> NodeKind {
        self.check_keys(
            members,
            ptr,
            ACTION_NODE_KEYS,
            "an action node",
            &|k| match k {
                "condition" | "on_true" | "on_false" => Some(format!(
                "`{k}` belongs to condition nodes; an action node has `action` and `parameters`"
            )),
                "params" => Some("did you mean `parameters`?".into()),
                _ => None,
            },
        );
        self.notes(members, ptr);
        let Some(am) = member(members, "action") else {
            self.missing(v, ptr, "action", "an action node", None);
            return NodeKind::Invalid;
        };
        let Some(written) = self.string(am, ptr, "`action`") else {
            return NodeKind::Invalid;
        };
        let aptr = join(ptr, "action");
        let name = self.simcash_action(written, &aptr, am.value.offset);
        let spec = self.action_spec(name, &aptr, am.value.offset);
        let mut action = Action {
            loc: loc(&aptr, &am.value),
            name: name.to_string(),
            spec,
            args: Vec::new(),
        };
        let params =
            member(members, "parameters").filter(|m| !matches!(m.value.kind, JsonKind::Null));
        let pptr = join(ptr, "parameters");
        let pmembers: &[Member] = match params {
            Some(m) => match self.object(&m.value, &pptr, "action `parameters`") {
                Some(ms) => ms,
                None => return NodeKind::Invalid,
            },
            None => &[],
        };
        let Some(spec) = spec else {
            return NodeKind::Action(action);
        };
        for m in pmembers {
            let at = join(&pptr, &m.key);
            if written != name && simcash::dropped_parameter(written, &m.key) {
                continue;
            }
            let pname = simcash::parameter_name(spec.name, &m.key);
            match spec.params.iter().find(|p| p.name == pname) {
                Some(ps) if action.args.iter().any(|g| g.spec.name == ps.name) => {
                    let other = simcash::parameter_alias(spec.name, ps.name).unwrap_or(ps.name);
                    self.p.error_s(
                        Code::DuplicateKey,
                        m.key_offset,
                        &at,
                        format!(
                            "`{}` and `{other}` are the same parameter of `{}` and both are given",
                            ps.name, spec.name
                        ),
                        Some(format!("keep only `{}`", ps.name)),
                    );
                }
                Some(ps) => {
                    let value = self.arg(ps.ty, ps.name, &m.value, &at);
                    action.args.push(Arg {
                        spec: ps,
                        loc: loc(&at, &m.value),
                        value,
                    });
                }
                None => self.unknown_arg(spec, m, &at),
            }
        }
        for ps in spec.params.iter().filter(|p| p.required) {
            if !pmembers
                .iter()
                .any(|m| simcash::parameter_name(spec.name, &m.key) == ps.name)
            {
                let (at, off) = params.map_or((ptr.to_string(), v.offset), |m| {
                    (pptr.clone(), m.value.offset)
                });
                self.p.error_s(
                    Code::MissingActionParameter,
                    off,
                    &at,
                    format!("`{}` requires the parameter `{}`", spec.name, ps.name),
                    Some(format!("add \"{}\": {{\"value\": ...}}", ps.name)),
                );
            }
        }
        NodeKind::Action(action)
    }

    /// Free-text notes on a node (`description`, SimCash's `comment`): strings, ignored.
    fn notes(&mut self, members: &[Member], ptr: &str) {
        for key in std::iter::once("description").chain(simcash::NOTE_KEYS.iter().copied()) {
            if let Some(m) = member(members, key) {
                self.string(m, ptr, &format!("`{key}`"));
            }
        }
    }

    /// The action a node means: `written`, or, for a SimCash action used outside its tree,
    /// the action of this tree nearest in meaning (with a `SIMCASH_FORM` warning).
    fn simcash_action<'n>(&mut self, written: &'n str, ptr: &str, offset: usize) -> &'n str {
        let admitted = action_by_name(written).is_some_and(|a| a.trees.contains(self.tree));
        match simcash::mapped_action(self.tree, written) {
            Some(mapped) if !admitted => {
                self.p.warning_s(
                    Code::SimcashForm,
                    offset,
                    ptr,
                    format!(
                        "`{written}` is not an action of `{}`; read as `{mapped}`, the action that \
                         does nothing there (SimCash accepted `{written}` in any tree)",
                        self.tree.json_name()
                    ),
                    Some(format!("write \"{mapped}\"")),
                );
                mapped
            }
            _ => written,
        }
    }

    /// The registry entry of an action admitted by the current tree, or a problem.
    fn action_spec(&mut self, name: &str, ptr: &str, offset: usize) -> Option<&'static ActionSpec> {
        let tree = self.tree;
        match action_by_name(name) {
            Some(spec) if spec.trees.contains(tree) => Some(spec),
            Some(spec) => {
                self.p.error_s(
                    Code::ActionNotInTree,
                    offset,
                    ptr,
                    format!("action `{name}` is not allowed in `{}`", tree.json_name()),
                    Some(format!("`{name}` belongs to {}", spec.trees.names())),
                );
                Some(spec)
            }
            None => {
                let sugg = if field_by_name(name).is_some() {
                    Some(format!("`{name}` is a context field, not an action"))
                } else {
                    suggest(name, actions_in(tree).map(|a| a.name))
                };
                self.p.error_s(
                    Code::UnknownAction,
                    offset,
                    ptr,
                    format!("unknown action `{name}`"),
                    sugg,
                );
                None
            }
        }
    }
}
