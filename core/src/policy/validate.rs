//! `validate`: the one validation function (POLICY_DSL.md §8).
//!
//! Reading happens in three stages: `json` (syntax, size, duplicate keys), `parse` (shapes,
//! into the typed document) and the semantic checks here, which need the whole document:
//! unique node ids, names resolved against the registry and the declared parameters,
//! registers, constant conditions and divisions, and the scenario-aware checks. Every stage
//! reports into one [`Problems`] sink; the report sorts it into document order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::actions::{ActionKind, ArgType};
use super::ast::{
    const_cond, const_value, fits_i64, reads_field, Action, ArgValue, CompOp, Cond, CondKind, Doc,
    Expr, ExprKind, Loc, Node, NodeKind, ParamDecl, EPS,
};
use super::error::{Code, Problems, ValidationReport};
use super::json::{self, JsonErrorKind};
use super::params::{self, INITIAL_LIQUIDITY_FRACTION};
use super::parse;
use super::registry::{field_by_name, is_valid_register_name, Pin, Tree, FIELDS, REGISTER_PREFIX};
use super::suggest::suggest;

/// Most distinct state registers a document may name (§6.3).
pub const MAX_REGISTERS: usize = 10;

/// What the scenario-aware checks of §8.1 need to know about a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScenarioInfo {
    pub agent_ids: Vec<String>,
    /// Can any payment of the scenario be divisible?
    pub any_divisible: bool,
    pub lsm_enabled: bool,
    /// Does the scenario configure bilateral or multilateral limits?
    pub has_limits: bool,
    /// Does any agent have a liquidity pool?
    pub has_pools: bool,
    /// Are the deadline, end-of-day and drop penalties rate rules?
    pub rate_penalties: bool,
    /// The agent's `policy_parameters`.
    pub parameter_overrides: BTreeMap<String, f64>,
}

/// Everything `compile` needs from a validation run.
pub(super) struct Analysis {
    pub doc: Option<Doc>,
    pub problems: Problems,
    pub text: String,
}

/// Checks a policy document, optionally against a scenario.
pub fn validate(doc: &[u8], scenario: Option<&ScenarioInfo>) -> ValidationReport {
    let a = analyse(doc, scenario);
    let id = a.doc.as_ref().and_then(|d| d.policy_id.clone());
    ValidationReport::from_problems(id, a.problems)
}

pub(super) fn analyse(bytes: &[u8], scenario: Option<&ScenarioInfo>) -> Analysis {
    let mut p = Problems::default();
    let parsed = match json::parse(bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = match e.kind {
                JsonErrorKind::TooLarge => Code::DocumentTooLarge,
                JsonErrorKind::Invalid => Code::InvalidJson,
                JsonErrorKind::TooDeep => Code::NestingTooDeep,
            };
            p.error(code, e.offset, &e.pointer, e.message);
            return Analysis {
                doc: None,
                problems: p,
                text: String::new(),
            };
        }
    };
    for d in &parsed.duplicates {
        p.error(
            Code::DuplicateKey,
            d.offset,
            &d.pointer,
            format!("key `{}` appears more than once in this object", d.key),
        );
    }
    let doc = parse::document(&parsed.value, &mut p);
    check(&doc, scenario, &mut p);
    Analysis {
        doc: Some(doc),
        problems: p,
        text: parsed.text,
    }
}

struct Checker<'a> {
    p: &'a mut Problems,
    params: &'a [ParamDecl],
    scenario: Option<&'a ScenarioInfo>,
    tree: Tree,
    used: BTreeSet<String>,
    ids: Vec<(String, Loc)>,
    reads: Vec<(String, Loc)>,
    writes: Vec<(String, Loc)>,
}

fn check(doc: &Doc, scenario: Option<&ScenarioInfo>, p: &mut Problems) {
    let mut c = Checker {
        p,
        params: &doc.params,
        scenario,
        tree: Tree::Payment,
        used: BTreeSet::new(),
        ids: Vec::new(),
        reads: Vec::new(),
        writes: Vec::new(),
    };
    for t in &doc.trees {
        c.tree = t.tree;
        c.node(&t.root, false);
    }
    c.finish(doc);
}

impl Checker<'_> {
    fn node(&mut self, n: &Node, dead: bool) {
        if let Some((id, loc)) = &n.id {
            self.ids.push((id.clone(), loc.clone()));
        }
        match &n.kind {
            NodeKind::Condition {
                cond,
                on_true,
                on_false,
            } => {
                self.cond(cond);
                let constant = if dead {
                    None
                } else {
                    const_cond(cond, &|_| None)
                };
                if let Some(b) = constant {
                    let (never, key) = if b {
                        (on_false, "on_false")
                    } else {
                        (on_true, "on_true")
                    };
                    let id = n.id.as_ref().map_or("?", |(s, _)| s.as_str());
                    self.p.warning(
                        Code::UnreachableBranch,
                        never.loc.offset,
                        &never.loc.ptr,
                        format!("the condition of `{id}` uses literals only and is always {b}; `{key}` is never taken"),
                    );
                }
                self.node(on_true, dead || constant == Some(false));
                self.node(on_false, dead || constant == Some(true));
            }
            NodeKind::Action(a) => self.action(a),
            NodeKind::Invalid => {}
        }
    }

    fn cond(&mut self, c: &Cond) {
        match &c.kind {
            CondKind::Cmp(_, l, r) => {
                self.expr(l);
                self.expr(r);
            }
            CondKind::And(cs) | CondKind::Or(cs) => cs.iter().for_each(|c| self.cond(c)),
            CondKind::Not(c) => self.cond(c),
            CondKind::Invalid => {}
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Field(name, loc) => self.field(name, loc),
            ExprKind::Param(name, loc) => self.param(name, loc),
            ExprKind::Lit(_) | ExprKind::Invalid => {}
            ExprKind::Compute(c) => {
                c.args.iter().for_each(|a| self.expr(a));
                if c.op != CompOp::Div {
                    return;
                }
                let Some(den) = c.args.get(1) else { return };
                match const_value(den, &|_| None) {
                    Some(d) if d.abs() < EPS => self.p.error_s(
                        Code::DivisionByZero,
                        den.loc.offset,
                        &den.loc.ptr,
                        "division by a constant that is zero (within 1e-9)".into(),
                        Some("use `div0` with a `default`, or change the denominator".into()),
                    ),
                    _ if reads_field(den) => self.p.warning_s(
                        Code::PossibleDivisionByZero,
                        den.loc.offset,
                        &den.loc.ptr,
                        "the denominator depends on a field and may be zero at run time, an evaluation error".into(),
                        Some(
                            "use {\"op\": \"div0\", \"numerator\": ..., \"denominator\": ..., \"default\": ...}".into(),
                        ),
                    ),
                    _ => {}
                }
            }
        }
    }

    fn field(&mut self, name: &str, loc: &Loc) {
        if name.starts_with(REGISTER_PREFIX) {
            if is_valid_register_name(name) {
                self.reads.push((name.to_string(), loc.clone()));
            } else {
                self.p.error(
                    Code::InvalidRegisterName,
                    loc.offset,
                    &loc.ptr,
                    format!("invalid register name `{name}`: registers are named bank_state_[A-Za-z0-9_]{{1,64}}"),
                );
            }
            return;
        }
        let Some(id) = field_by_name(name) else {
            let sugg = if self.params.iter().any(|d| d.name == name) {
                Some(format!(
                    "`{name}` is a parameter: write {{\"param\": \"{name}\"}}"
                ))
            } else {
                let tree = self.tree;
                suggest(
                    name,
                    FIELDS
                        .iter()
                        .filter(|f| f.trees.contains(tree))
                        .map(|f| f.name),
                )
            };
            self.p.error_s(
                Code::UnknownField,
                loc.offset,
                &loc.ptr,
                format!("unknown field `{name}`"),
                sugg,
            );
            return;
        };
        let spec = id.spec();
        if !spec.trees.contains(self.tree) {
            self.p.error_s(
                Code::FieldNotInTree,
                loc.offset,
                &loc.ptr,
                format!(
                    "field `{name}` is not available in `{}`",
                    self.tree.json_name()
                ),
                Some(format!("`{name}` is available in: {}", spec.trees.names())),
            );
            return;
        }
        if spec.flags.constant {
            self.p.warning(
                Code::ConstantField,
                loc.offset,
                &loc.ptr,
                format!("field `{name}` is constant: {}", spec.description),
            );
        }
        if let Some(s) = self.scenario {
            let pinned = match spec.flags.pin {
                Pin::None => None,
                Pin::Lsm => (!s.lsm_enabled).then_some("the LSM is off"),
                Pin::Limits => {
                    (!s.has_limits).then_some("the scenario sets no limits (it reads +∞)")
                }
                Pin::Pools => (!s.has_pools).then_some("no agent has a liquidity pool"),
                Pin::RatePenalty => (s.rate_penalties && self.tree != Tree::Payment)
                    .then_some("penalties are rate rules, which give 0 outside the payment tree"),
            };
            if let Some(why) = pinned {
                self.p.warning(
                    Code::FieldConstantInScenario,
                    loc.offset,
                    &loc.ptr,
                    format!("field `{name}` is constant in this scenario: {why}"),
                );
            }
        }
    }

    fn param(&mut self, name: &str, loc: &Loc) {
        if self.params.iter().any(|d| d.name == name) {
            self.used.insert(name.to_string());
            return;
        }
        let sugg = if field_by_name(name).is_some() || name.starts_with(REGISTER_PREFIX) {
            Some(format!(
                "`{name}` is a context field: write {{\"field\": \"{name}\"}}"
            ))
        } else {
            suggest(name, self.params.iter().map(|d| d.name.as_str()))
        };
        self.p.error_s(
            Code::UnknownParameter,
            loc.offset,
            &loc.ptr,
            format!("unknown parameter `{name}`: it is not declared in `parameters`"),
            sugg,
        );
    }

    fn action(&mut self, a: &Action) {
        let Some(spec) = a.spec else { return };
        let mut literal_splits = None;
        for arg in &a.args {
            match &arg.value {
                ArgValue::Num(e) => {
                    self.expr(e);
                    if let Some(x) = const_value(e, &|_| None) {
                        self.literal_arg(arg.spec.ty, arg.spec.name, x, &arg.loc);
                        if arg.spec.name == "num_splits" {
                            literal_splits = Some(x.trunc());
                        }
                    }
                }
                ArgValue::Text(key, loc) if arg.spec.ty == ArgType::RegisterKey => {
                    self.writes.push((key.clone(), loc.clone()));
                }
                ArgValue::List(ids) => self.counterparties(ids),
                _ => {}
            }
        }
        if let (Some(n), Some(first)) = (
            literal_splits,
            a.args.iter().find(|g| g.spec.name == "stagger_first_now"),
        ) {
            if let ArgValue::Num(e) = &first.value {
                if const_value(e, &|_| None).is_some_and(|f| f.trunc() > n) {
                    self.p.error(
                        Code::InvalidActionParameter,
                        first.loc.offset,
                        &first.loc.ptr,
                        format!("`stagger_first_now` must be at most `num_splits` ({n})"),
                    );
                }
            }
        }
        let splits = matches!(
            spec.kind,
            ActionKind::Split | ActionKind::PaceAndRelease | ActionKind::StaggerSplit
        );
        if splits && self.scenario.is_some_and(|s| !s.any_divisible) {
            self.p.warning(
                Code::SplitNeverPossible,
                a.loc.offset,
                &a.loc.ptr,
                format!(
                    "no payment of the scenario is divisible, so `{}` always releases whole",
                    spec.name
                ),
            );
        }
    }

    /// A literal numeric action parameter must lie in its documented range (§6.1).
    fn literal_arg(&mut self, ty: ArgType, name: &str, x: f64, loc: &Loc) {
        let t = x.trunc();
        let problem = if !x.is_finite() || !fits_i64(t) {
            Some("is not a finite number within the 64-bit integer range".to_string())
        } else {
            match ty {
                ArgType::Cents if t < 0.0 => Some(format!("is {x}; an amount cannot be negative")),
                _ => match ty.range() {
                    Some((lo, hi)) if t < lo as f64 || t > hi as f64 => {
                        Some(format!("is {x}, outside {lo}..{hi}"))
                    }
                    _ => None,
                },
            }
        };
        if let Some(msg) = problem.filter(|_| ty != ArgType::Number || !x.is_finite()) {
            self.p.error(
                Code::InvalidActionParameter,
                loc.offset,
                &loc.ptr,
                format!("`{name}` {msg}"),
            );
        }
    }

    fn counterparties(&mut self, ids: &[(String, Loc)]) {
        let Some(s) = self.scenario else { return };
        for (id, loc) in ids.iter().filter(|(id, _)| !s.agent_ids.contains(id)) {
            self.p.error_s(
                Code::UnknownCounterparty,
                loc.offset,
                &loc.ptr,
                format!("`{id}` is not an agent of the scenario"),
                suggest(id, s.agent_ids.iter().map(String::as_str)),
            );
        }
    }

    fn finish(&mut self, doc: &Doc) {
        self.ids.sort_by_key(|(_, l)| l.offset);
        let mut first: HashMap<&str, &Loc> = HashMap::new();
        for (id, loc) in &self.ids {
            if let Some(prev) = first.get(id.as_str()) {
                self.p.error(
                    Code::DuplicateNodeId,
                    loc.offset,
                    &loc.ptr,
                    format!("node id `{id}` is already used at {}", prev.ptr),
                );
            } else {
                first.insert(id, loc);
            }
        }
        let mut all: Vec<&(String, Loc)> = self.reads.iter().chain(&self.writes).collect();
        all.sort_by_key(|(_, l)| l.offset);
        let mut distinct: Vec<&str> = Vec::new();
        for (name, loc) in all {
            if !distinct.contains(&name.as_str()) {
                distinct.push(name);
                if distinct.len() == MAX_REGISTERS + 1 {
                    self.p.error(
                        Code::TooManyRegisters,
                        loc.offset,
                        &loc.ptr,
                        format!(
                            "`{name}` is the 11th distinct state register; a policy may name at most {MAX_REGISTERS}"
                        ),
                    );
                }
            }
        }
        self.reads.sort_by_key(|(_, l)| l.offset);
        let mut warned = BTreeSet::new();
        for (name, loc) in &self.reads {
            if !self.writes.iter().any(|(w, _)| w == name) && warned.insert(name.clone()) {
                self.p.warning_s(
                    Code::RegisterNeverWritten,
                    loc.offset,
                    &loc.ptr,
                    format!("register `{name}` is read but never written by SetState/AddState: it is always 0"),
                    Some("write it in the bank tree with SetState or AddState".into()),
                );
            }
        }
        for d in doc
            .params
            .iter()
            .filter(|d| d.name != INITIAL_LIQUIDITY_FRACTION && !self.used.contains(&d.name))
        {
            self.p.warning(
                Code::UnusedParameter,
                d.loc.offset,
                &d.loc.ptr,
                format!("parameter `{}` is never used", d.name),
            );
        }
        if doc.tree_values == 0 {
            self.p.warning_s(
                Code::NoTrees,
                0,
                "",
                "the policy has no tree: every payment is released at once (FIFO)".into(),
                Some(
                    "add a `payment_tree`, or use the library policy `fifo` if this is intended"
                        .into(),
                ),
            );
        }
        if let Some(s) = self.scenario {
            params::resolve(
                &doc.params,
                &s.parameter_overrides,
                doc.params_loc.as_ref(),
                self.p,
            );
            if let Some(d) = doc
                .params
                .iter()
                .find(|d| d.name == INITIAL_LIQUIDITY_FRACTION)
                .filter(|_| !s.has_pools)
            {
                self.p.warning(
                    Code::FieldConstantInScenario,
                    d.loc.offset,
                    &d.loc.ptr,
                    "`initial_liquidity_fraction` has no effect: no agent of the scenario has a liquidity pool".into(),
                );
            }
        }
    }
}

/// The text format of §8.3.
pub fn render_text(file: &str, report: &ValidationReport) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let mut out = format!(
        "{file}: {} ({}, {})\n",
        if report.valid { "valid" } else { "invalid" },
        plural(report.errors.len(), "error"),
        plural(report.warnings.len(), "warning"),
    );
    let lines = report
        .errors
        .iter()
        .map(|p| ("error  ", p))
        .chain(report.warnings.iter().map(|p| ("warning", p)));
    for (kind, p) in lines {
        let at = if p.pointer.is_empty() {
            "(document)"
        } else {
            p.pointer.as_str()
        };
        out.push_str(&format!("  {kind} {} at {at}: {}", p.code, p.message));
        if let Some(s) = &p.suggestion {
            out.push_str("; ");
            out.push_str(s);
        }
        out.push('\n');
    }
    if report.omitted > 0 {
        let s = if report.omitted == 1 { "" } else { "s" };
        out.push_str(&format!("  ... and {} more problem{s}\n", report.omitted));
    }
    out
}
