//! Parameter declarations (§5.1), the reserved `initial_liquidity_fraction` (§5.3) and the
//! rules for overriding values (§5.2), shared by `validate` (scenario overrides) and
//! `compile` (resolved overrides).

use std::collections::BTreeMap;

use super::ast::{Loc, ParamDecl};
use super::error::{Code, Problems};
use super::json::{join, JsonKind, JsonValue};
use super::parse::{loc, member, Reader};
use super::registry::field_by_name;
use super::suggest::suggest;

/// The parameter the engine reads itself (§5.3).
pub const INITIAL_LIQUIDITY_FRACTION: &str = "initial_liquidity_fraction";
const PARAM_KEYS: &[&str] = &["value", "min", "max", "step", "log", "kind", "description"];
/// Tolerance of the grid checks (§8.3).
const GRID_TOL: f64 = 1e-9;

/// `^[A-Za-z_][A-Za-z0-9_]{0,63}$`.
pub fn is_valid_param_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
            b.len() <= 64 && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        _ => false,
    }
}

fn on_grid(x: f64, min: f64, step: f64) -> bool {
    let k = (x - min) / step;
    (k - k.round()).abs() <= GRID_TOL
}

impl Reader<'_> {
    pub fn parameters(&mut self, v: &JsonValue, ptr: &str) -> Vec<ParamDecl> {
        let mut out = Vec::new();
        let Some(members) = self.object(v, ptr, "`parameters`") else {
            return out;
        };
        for m in members {
            let at = join(ptr, &m.key);
            let mut ok = true;
            if !is_valid_param_name(&m.key) {
                self.p.error(
                    Code::InvalidParameter,
                    m.key_offset,
                    &at,
                    format!("invalid parameter name `{}`: use letters, digits and `_`, not starting with a digit, at most 64 characters", m.key),
                );
                ok = false;
            }
            let decl = self.param_decl(&m.key, &m.value, &at, ok);
            if let Some(d) = decl {
                out.push(d);
            }
        }
        out
    }

    fn number(&mut self, v: &JsonValue, ptr: &str, what: &str) -> Option<f64> {
        match v.kind {
            JsonKind::Number(x) if x.is_finite() => Some(x),
            JsonKind::Number(_) => {
                self.p.error(
                    Code::InvalidParameter,
                    v.offset,
                    ptr,
                    format!("{what} must be a finite number"),
                );
                None
            }
            _ => {
                self.p.error(
                    Code::WrongType,
                    v.offset,
                    ptr,
                    format!("{what} must be a number, not {}", v.type_name()),
                );
                None
            }
        }
    }

    fn param_decl(
        &mut self,
        name: &str,
        v: &JsonValue,
        ptr: &str,
        mut ok: bool,
    ) -> Option<ParamDecl> {
        let mut d = ParamDecl {
            name: name.to_string(),
            loc: loc(ptr, v),
            value: 0.0,
            min: None,
            max: None,
            step: None,
            log: false,
            int: false,
            ok,
        };
        let members = match &v.kind {
            JsonKind::Number(_) => {
                d.value = self.number(v, ptr, &format!("parameter `{name}`"))?;
                self.reserved_range(&mut d);
                return Some(d);
            }
            JsonKind::Object(ms) => ms,
            _ => {
                self.p.error_s(
                    Code::WrongType,
                    v.offset,
                    ptr,
                    format!(
                        "parameter `{name}` must be a number or an object with `value`, not {}",
                        v.type_name()
                    ),
                    Some("write a number, or {\"value\": 1, \"min\": 0, \"max\": 10}".into()),
                );
                return None;
            }
        };
        self.check_keys(members, ptr, PARAM_KEYS, "a parameter declaration", &|_| {
            None
        });
        let num = |r: &mut Self, key: &str| {
            member(members, key)
                .and_then(|m| r.number(&m.value, &join(ptr, key), &format!("`{key}`")))
        };
        match member(members, "value") {
            None => {
                self.missing(v, ptr, "value", &format!("parameter `{name}`"), None);
                ok = false;
            }
            Some(_) => match num(self, "value") {
                Some(x) => d.value = x,
                None => ok = false,
            },
        }
        d.min = num(self, "min");
        d.max = num(self, "max");
        d.step = num(self, "step");
        ok &= member(members, "min").is_none() == d.min.is_none()
            && member(members, "max").is_none() == d.max.is_none()
            && member(members, "step").is_none() == d.step.is_none();
        if let Some(m) = member(members, "log") {
            match m.value.kind {
                JsonKind::Bool(b) => d.log = b,
                _ => {
                    self.p.error(
                        Code::WrongType,
                        m.value.offset,
                        &join(ptr, "log"),
                        "`log` must be true or false".into(),
                    );
                    ok = false;
                }
            }
        }
        if let Some(m) = member(members, "kind") {
            match m.value.as_str() {
                Some("int") => d.int = true,
                Some("float") => {}
                other => {
                    let sugg = other.and_then(|s| suggest(s, ["float", "int"]));
                    self.p.error_s(
                        Code::InvalidParameter,
                        m.value.offset,
                        &join(ptr, "kind"),
                        "`kind` must be \"float\" or \"int\"".into(),
                        sugg,
                    );
                    ok = false;
                }
            }
        }
        if let Some(m) = member(members, "description") {
            self.string(m, ptr, "`description`");
        }
        d.ok = ok && self.declaration_rules(&d, v.offset, ptr);
        self.reserved_range(&mut d);
        Some(d)
    }

    /// The rules of §5.1 on a well-typed declaration; false when one is broken.
    fn declaration_rules(&mut self, d: &ParamDecl, offset: usize, ptr: &str) -> bool {
        let n = &d.name;
        let bad = |p: &mut Problems, msg: String| {
            p.error(
                Code::InvalidParameter,
                offset,
                ptr,
                format!("parameter `{n}`: {msg}"),
            );
            false
        };
        let mut ok = true;
        match (d.min, d.max) {
            (Some(_), None) | (None, Some(_)) => {
                ok &= bad(self.p, "give both `min` and `max`, or neither".into())
            }
            (Some(lo), Some(hi)) => {
                if lo > hi {
                    ok &= bad(self.p, format!("`min` ({lo}) is above `max` ({hi})"));
                } else if !(lo <= d.value && d.value <= hi) {
                    ok &= bad(
                        self.p,
                        format!("`value` {} is outside [{lo}, {hi}]", d.value),
                    );
                } else if lo == hi {
                    self.p.warning(
                        Code::InvalidParameter,
                        offset,
                        ptr,
                        format!(
                            "parameter `{n}`: `min` equals `max`, so the parameter cannot move"
                        ),
                    );
                }
            }
            (None, None) => {
                if d.step.is_some() || d.log {
                    ok &= bad(self.p, "`step` and `log` need both `min` and `max`".into());
                }
            }
        }
        if let Some(s) = d.step {
            if s <= 0.0 {
                ok &= bad(self.p, "`step` must be greater than 0".into());
            }
        }
        if d.int {
            let integral = |x: Option<f64>| x.is_none_or(|x| x.fract() == 0.0);
            if !(integral(Some(d.value)) && integral(d.min) && integral(d.max) && integral(d.step))
            {
                ok &= bad(
                    self.p,
                    "`kind: int` requires integer `value`, `min`, `max` and `step`".into(),
                );
            }
        }
        if d.log {
            if d.min.is_some_and(|m| m <= 0.0) {
                ok &= bad(self.p, "`log` requires `min` > 0".into());
            }
            if d.step.is_some() && !(d.int && d.step == Some(1.0)) {
                ok &= bad(
                    self.p,
                    "`log` excludes `step` (except 1 for `kind: int`)".into(),
                );
            }
        }
        if let (true, Some(lo), Some(hi), Some(s)) = (ok, d.min, d.max, d.step) {
            if !on_grid(d.value, lo, s) {
                self.p.warning(
                    Code::ParameterOffGrid,
                    offset,
                    ptr,
                    format!(
                        "parameter `{n}`: `value` {} is not on the grid min + k·step",
                        d.value
                    ),
                );
            }
            if !on_grid(hi, lo, s) {
                self.p.warning(
                    Code::ParameterOffGrid,
                    offset,
                    ptr,
                    format!("parameter `{n}`: the range [{lo}, {hi}] is not a whole number of steps of {s}"),
                );
            }
        }
        ok
    }

    /// §5.3: `initial_liquidity_fraction` and its bounds lie in [0, 1].
    fn reserved_range(&mut self, d: &mut ParamDecl) {
        if d.name != INITIAL_LIQUIDITY_FRACTION {
            return;
        }
        let inside = |x: f64| (0.0..=1.0).contains(&x);
        if !inside(d.value) || !d.min.is_none_or(inside) || !d.max.is_none_or(inside) {
            self.p.error(
                Code::InvalidParameter,
                d.loc.offset,
                &d.loc.ptr,
                "`initial_liquidity_fraction` and its bounds must lie in [0, 1]".into(),
            );
            d.ok = false;
        }
    }
}

/// Checks overrides against the declarations (§5.2) and returns the resolved values.
/// Unknown names and values breaking `kind` or the reserved range are errors; values outside
/// the declared range are warnings (the range is the search space, not a validity bound).
pub fn resolve(
    decls: &[ParamDecl],
    overrides: &BTreeMap<String, f64>,
    params_loc: Option<&Loc>,
    p: &mut Problems,
) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = decls.iter().map(|d| (d.name.clone(), d.value)).collect();
    let (at, off) = params_loc.map_or(("", 0), |l| (l.ptr.as_str(), l.offset));
    for (name, &x) in overrides {
        let Some(d) = decls.iter().find(|d| &d.name == name) else {
            let sugg = suggest(name, decls.iter().map(|d| d.name.as_str())).or_else(|| {
                field_by_name(name).map(|_| format!("`{name}` is a context field, not a parameter"))
            });
            p.error_s(
                Code::UnknownParameterOverride,
                off,
                at,
                format!("override of `{name}`, which the policy does not declare"),
                sugg,
            );
            continue;
        };
        let ptr = &d.loc.ptr;
        if !x.is_finite() {
            p.error(
                Code::InvalidParameter,
                d.loc.offset,
                ptr,
                format!("override of `{name}` is not a finite number"),
            );
            continue;
        }
        if d.int && x.fract() != 0.0 {
            p.error(
                Code::InvalidParameter,
                d.loc.offset,
                ptr,
                format!(
                    "override {x} of `{name}` is not an integer, but the parameter has `kind: int`"
                ),
            );
            continue;
        }
        if d.name == INITIAL_LIQUIDITY_FRACTION && !(0.0..=1.0).contains(&x) {
            p.error(
                Code::InvalidParameter,
                d.loc.offset,
                ptr,
                format!("override {x} of `{name}` is outside [0, 1]"),
            );
            continue;
        }
        if let (Some(lo), Some(hi)) = (d.min, d.max) {
            if x < lo || x > hi {
                p.warning(
                    Code::ParameterOverrideOutOfRange,
                    d.loc.offset,
                    ptr,
                    format!("override {x} of `{name}` is outside its declared range [{lo}, {hi}]"),
                );
            }
        }
        out.insert(name.clone(), x);
    }
    out
}
