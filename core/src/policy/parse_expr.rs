//! Reading conditions (§3), values and computations (§4).
//!
//! `nest` counts the conditions and computations enclosing a construct, itself included; a
//! construct beyond [`MAX_NESTING`] is reported once and not entered, which also bounds the
//! recursion of this reader.

use super::actions::{compute_operands, CONDITION_OPS};
use super::ast::{CmpOp, CompOp, Compute, Cond, CondKind, Expr, ExprKind};
use super::error::Code;
use super::json::{join, JsonKind, JsonValue, Member};
use super::parse::{loc, member, Reader, MAX_NESTING};
use super::registry::field_by_name;
use super::suggest::suggest;

const VALUE_KEYS: &[&str] = &["field", "param", "value", "compute"];

impl Reader<'_> {
    fn too_deep(&mut self, v: &JsonValue, ptr: &str, nest: usize) -> bool {
        if nest > MAX_NESTING {
            self.p.error(
                Code::NestingTooDeep,
                v.offset,
                ptr,
                format!("conditions and computations nest deeper than {MAX_NESTING} levels here"),
            );
        }
        nest > MAX_NESTING
    }

    /// A condition at nesting level `nest`.
    pub fn condition(&mut self, v: &JsonValue, ptr: &str, nest: usize) -> Cond {
        let kind = self.condition_kind(v, ptr, nest);
        Cond {
            loc: loc(ptr, v),
            kind,
        }
    }

    fn condition_kind(&mut self, v: &JsonValue, ptr: &str, nest: usize) -> CondKind {
        if self.too_deep(v, ptr, nest) {
            return CondKind::Invalid;
        }
        let Some(members) = v.as_object() else {
            let sugg = matches!(v.kind, JsonKind::Bool(_)).then(|| {
                "a condition is an object such as {\"op\": \"==\", \"left\": {\"value\": 1}, \"right\": {\"value\": 1}}".to_string()
            });
            self.p.error_s(
                Code::WrongType,
                v.offset,
                ptr,
                format!("a condition must be an object, not {}", v.type_name()),
                sugg,
            );
            return CondKind::Invalid;
        };
        let Some(opm) = member(members, "op") else {
            let sugg = VALUE_KEYS.iter().any(|k| member(members, k).is_some()).then(|| {
                "this is a value; a condition compares values: {\"op\": \"==\", \"left\": ..., \"right\": {\"value\": true}}".to_string()
            });
            self.missing(v, ptr, "op", "a condition", sugg);
            return CondKind::Invalid;
        };
        let Some(op) = self.string(opm, ptr, "`op`") else {
            return CondKind::Invalid;
        };
        let optr = join(ptr, "op");
        if let Some(cmp) = CmpOp::parse(op) {
            self.check_keys(
                members,
                ptr,
                &["op", "left", "right"],
                "a comparison",
                &|_| None,
            );
            let l = self.operand(v, members, ptr, "left", nest);
            let r = self.operand(v, members, ptr, "right", nest);
            return match (l, r) {
                (Some(l), Some(r)) => CondKind::Cmp(cmp, l, r),
                _ => CondKind::Invalid,
            };
        }
        match op {
            "and" | "or" => {
                self.check_keys(
                    members,
                    ptr,
                    &["op", "conditions"],
                    "an `and`/`or` condition",
                    &|_| None,
                );
                let Some(list) = member(members, "conditions") else {
                    self.missing(v, ptr, "conditions", "an `and`/`or` condition", None);
                    return CondKind::Invalid;
                };
                let lptr = join(ptr, "conditions");
                let JsonKind::Array(items) = &list.value.kind else {
                    self.p.error(
                        Code::WrongType,
                        list.value.offset,
                        &lptr,
                        format!(
                            "`conditions` must be a list, not {}",
                            list.value.type_name()
                        ),
                    );
                    return CondKind::Invalid;
                };
                let conds = items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.condition(c, &join(&lptr, &i.to_string()), nest + 1))
                    .collect();
                if op == "and" {
                    CondKind::And(conds)
                } else {
                    CondKind::Or(conds)
                }
            }
            "not" => {
                self.check_keys(
                    members,
                    ptr,
                    &["op", "condition"],
                    "a `not` condition",
                    &|_| None,
                );
                match member(members, "condition") {
                    Some(m) => CondKind::Not(Box::new(self.condition(
                        &m.value,
                        &join(ptr, "condition"),
                        nest + 1,
                    ))),
                    None => {
                        self.missing(v, ptr, "condition", "a `not` condition", None);
                        CondKind::Invalid
                    }
                }
            }
            _ => {
                let sugg = match op {
                    "=" => Some("did you mean `==`?".to_string()),
                    "&&" => Some("did you mean `and`?".to_string()),
                    "||" => Some("did you mean `or`?".to_string()),
                    "!" => Some("did you mean `not`?".to_string()),
                    _ if CompOp::parse(op).is_some() => Some(format!(
                        "`{op}` is a computation: write it inside a value, {{\"compute\": {{\"op\": \"{op}\", ...}}}}, and compare the result"
                    )),
                    _ => suggest(op, CONDITION_OPS.iter().map(|(o, _)| *o)),
                };
                self.p.error_s(
                    Code::UnknownOperator,
                    opm.value.offset,
                    &optr,
                    format!("unknown condition operator `{op}`"),
                    sugg,
                );
                CondKind::Invalid
            }
        }
    }

    /// A required operand `key` of the object `v`.
    fn operand(
        &mut self,
        v: &JsonValue,
        members: &[Member],
        ptr: &str,
        key: &str,
        nest: usize,
    ) -> Option<Expr> {
        match member(members, key) {
            Some(m) => Some(self.value(&m.value, &join(ptr, key), nest)),
            None => {
                self.missing(v, ptr, key, "this expression", None);
                None
            }
        }
    }

    /// A value object inside a construct at nesting level `nest`.
    pub fn value(&mut self, v: &JsonValue, ptr: &str, nest: usize) -> Expr {
        let kind = self.value_kind(v, ptr, nest);
        Expr {
            loc: loc(ptr, v),
            kind,
        }
    }

    fn value_kind(&mut self, v: &JsonValue, ptr: &str, nest: usize) -> ExprKind {
        let Some(members) = v.as_object() else {
            let sugg = match &v.kind {
                JsonKind::Number(n) => Some(format!("write {{\"value\": {n}}}")),
                JsonKind::Bool(b) => Some(format!("write {{\"value\": {b}}}")),
                JsonKind::String(s) if field_by_name(s).is_some() => {
                    Some(format!("write {{\"field\": \"{s}\"}}"))
                }
                _ => None,
            };
            self.p.error_s(
                Code::WrongType,
                v.offset,
                ptr,
                format!(
                    "a value must be an object with one of `field`, `param`, `value`, `compute`, not {}",
                    v.type_name()
                ),
                sugg,
            );
            return ExprKind::Invalid;
        };
        self.check_keys(members, ptr, VALUE_KEYS, "a value", &|_| None);
        let present: Vec<&Member> = members
            .iter()
            .filter(|m| VALUE_KEYS.contains(&m.key.as_str()))
            .collect();
        let m = match present.as_slice() {
            [m] => *m,
            [] => {
                if members.is_empty()
                    || members.iter().all(|m| VALUE_KEYS.contains(&m.key.as_str()))
                {
                    self.p.error(
                        Code::WrongType,
                        v.offset,
                        ptr,
                        "a value needs exactly one of `field`, `param`, `value`, `compute`".into(),
                    );
                }
                return ExprKind::Invalid;
            }
            several => {
                let names: Vec<String> = several.iter().map(|m| format!("`{}`", m.key)).collect();
                self.p.error(
                    Code::WrongType,
                    v.offset,
                    ptr,
                    format!(
                        "a value has exactly one of `field`, `param`, `value`, `compute`; found {}",
                        names.join(" and ")
                    ),
                );
                return ExprKind::Invalid;
            }
        };
        let at = join(ptr, &m.key);
        match m.key.as_str() {
            "field" | "param" => {
                let Some(name) = self.string(m, ptr, &format!("`{}`", m.key)) else {
                    return ExprKind::Invalid;
                };
                let l = loc(&at, &m.value);
                if m.key == "field" {
                    ExprKind::Field(name.to_string(), l)
                } else {
                    ExprKind::Param(name.to_string(), l)
                }
            }
            "value" => match m.value.kind {
                JsonKind::Number(x) if x.is_finite() => ExprKind::Lit(x),
                JsonKind::Bool(b) => ExprKind::Lit(if b { 1.0 } else { 0.0 }),
                _ => {
                    let what = match m.value.kind {
                        JsonKind::Number(_) => "a number too large to represent",
                        _ => m.value.type_name(),
                    };
                    self.p.error(
                        Code::InvalidLiteral,
                        m.value.offset,
                        &at,
                        format!("a number or true/false is required here, not {what}"),
                    );
                    ExprKind::Invalid
                }
            },
            _ => self.compute(&m.value, &at, nest + 1),
        }
    }

    fn compute(&mut self, v: &JsonValue, ptr: &str, nest: usize) -> ExprKind {
        if self.too_deep(v, ptr, nest) {
            return ExprKind::Invalid;
        }
        let Some(members) = self.object(v, ptr, "a computation") else {
            return ExprKind::Invalid;
        };
        let Some(opm) = member(members, "op") else {
            self.missing(v, ptr, "op", "a computation", None);
            return ExprKind::Invalid;
        };
        let Some(op_name) = self.string(opm, ptr, "`op`") else {
            return ExprKind::Invalid;
        };
        let (Some(op), Some(operands)) = (CompOp::parse(op_name), compute_operands(op_name)) else {
            let sugg = if CmpOp::parse(op_name).is_some() || matches!(op_name, "and" | "or" | "not")
            {
                Some(format!(
                    "`{op_name}` is a condition operator; a computation yields a number"
                ))
            } else {
                suggest(
                    op_name,
                    super::actions::COMPUTE_OPS.iter().map(|(o, _, _)| *o),
                )
            };
            self.p.error_s(
                Code::UnknownOperator,
                opm.value.offset,
                &join(ptr, "op"),
                format!("unknown computation operator `{op_name}`"),
                sugg,
            );
            return ExprKind::Invalid;
        };
        let mut allowed = vec!["op"];
        allowed.extend_from_slice(operands);
        self.check_keys(
            members,
            ptr,
            &allowed,
            &format!("a `{op_name}` computation"),
            &|_| None,
        );
        let mut args = Vec::new();
        let mut ok = true;
        if matches!(op, CompOp::Min | CompOp::Max) {
            let Some(list) = member(members, "values") else {
                self.missing(
                    v,
                    ptr,
                    "values",
                    &format!("a `{op_name}` computation"),
                    None,
                );
                return ExprKind::Invalid;
            };
            let lptr = join(ptr, "values");
            let JsonKind::Array(items) = &list.value.kind else {
                self.p.error(
                    Code::WrongType,
                    list.value.offset,
                    &lptr,
                    format!("`values` must be a list, not {}", list.value.type_name()),
                );
                return ExprKind::Invalid;
            };
            if items.is_empty() {
                self.p.error(
                    Code::EmptyList,
                    list.value.offset,
                    &lptr,
                    format!("`{op_name}` needs at least one value"),
                );
                ok = false;
            }
            for (i, item) in items.iter().enumerate() {
                args.push(self.value(item, &join(&lptr, &i.to_string()), nest));
            }
        } else {
            for key in operands {
                match self.operand(v, members, ptr, key, nest) {
                    Some(e) => args.push(e),
                    None => ok = false,
                }
            }
        }
        if !ok {
            return ExprKind::Invalid;
        }
        ExprKind::Compute(Box::new(Compute {
            loc: loc(ptr, v),
            op,
            args,
        }))
    }
}
