//! Reading action parameters by their declared type (§6.1): numeric ones are value
//! expressions; strings, enums, register keys and agent lists take a literal only.

use super::actions::{ActionSpec, ArgType, ACTIONS};
use super::ast::ArgValue;
use super::error::Code;
use super::json::{join, JsonKind, JsonValue, Member};
use super::parse::{loc, valid_id, Reader};
use super::registry::is_valid_register_name;
use super::suggest::suggest;

impl Reader<'_> {
    pub(super) fn unknown_arg(&mut self, spec: &ActionSpec, m: &Member, at: &str) {
        let sugg = suggest(&m.key, spec.params.iter().map(|p| p.name)).or_else(|| {
            ACTIONS
                .iter()
                .find(|a| a.params.iter().any(|p| p.name == m.key))
                .map(|a| {
                    format!(
                        "`{}` is a parameter of `{}`, not of `{}`",
                        m.key, a.name, spec.name
                    )
                })
        });
        let sugg = sugg.or_else(|| {
            (spec.params.is_empty()).then(|| format!("`{}` takes no parameters", spec.name))
        });
        self.p.error_s(
            Code::UnknownActionParameter,
            m.key_offset,
            at,
            format!("unknown parameter `{}` for action `{}`", m.key, spec.name),
            sugg,
        );
    }

    /// One action parameter, read by its declared type.
    pub(super) fn arg(&mut self, ty: ArgType, name: &str, v: &JsonValue, ptr: &str) -> ArgValue {
        if ty.is_numeric() {
            return ArgValue::Num(self.value(v, ptr, 0));
        }
        let example = match ty {
            ArgType::AgentList => "[\"BANK_B\"]",
            ArgType::Enum(e) => e.values.first().copied().unwrap_or(""),
            _ => "...",
        };
        let literal = v.as_object().and_then(|ms| match ms {
            [m] if m.key == "value" => Some(&m.value),
            _ => None,
        });
        let Some(lit) = literal else {
            let ex = if ty == ArgType::AgentList {
                example.to_string()
            } else {
                format!("\"{example}\"")
            };
            self.p.error_s(
                Code::InvalidActionParameter,
                v.offset,
                ptr,
                format!("`{name}` takes a literal {} only", ty.name()),
                Some(format!("write {{\"value\": {ex}}}")),
            );
            return ArgValue::Invalid;
        };
        let lptr = join(ptr, "value");
        let lit_loc = loc(&lptr, lit);
        match (ty, &lit.kind) {
            (ArgType::AgentList, JsonKind::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let iptr = join(&lptr, &i.to_string());
                    match item.as_str() {
                        Some(s) => out.push((s.to_string(), loc(&iptr, item))),
                        None => self.p.error(
                            Code::InvalidActionParameter,
                            item.offset,
                            &iptr,
                            format!(
                                "`{name}` lists agent ids (strings), not {}",
                                item.type_name()
                            ),
                        ),
                    }
                }
                ArgValue::List(out)
            }
            (ArgType::Enum(e), JsonKind::String(s)) => {
                let found = e.values.iter().find(|c| {
                    if e.any_case {
                        c.eq_ignore_ascii_case(s)
                    } else {
                        *c == s
                    }
                });
                match found {
                    Some(c) => ArgValue::Text(c.to_string(), lit_loc),
                    None => {
                        self.p.error_s(
                            Code::InvalidActionParameter,
                            lit.offset,
                            &lptr,
                            format!(
                                "`{s}` is not a valid `{name}`: expected one of {}",
                                e.values.join(", ")
                            ),
                            suggest(s, e.values.iter().copied()),
                        );
                        ArgValue::Invalid
                    }
                }
            }
            (ArgType::Reason, JsonKind::String(s)) => {
                if valid_id(s) {
                    ArgValue::Text(s.clone(), lit_loc)
                } else {
                    self.p.error(
                        Code::InvalidActionParameter,
                        lit.offset,
                        &lptr,
                        format!("`{name}` must be 1..128 printable characters"),
                    );
                    ArgValue::Invalid
                }
            }
            (ArgType::RegisterKey, JsonKind::String(s)) => {
                if is_valid_register_name(s) {
                    ArgValue::Text(s.clone(), lit_loc)
                } else {
                    self.p.error_s(
                        Code::InvalidRegisterName,
                        lit.offset,
                        &lptr,
                        format!("invalid register name `{s}`: registers are named bank_state_[A-Za-z0-9_]{{1,64}}"),
                        Some(format!("write \"bank_state_{}\"", sanitize(s))),
                    );
                    ArgValue::Invalid
                }
            }
            _ => {
                self.p.error(
                    Code::InvalidActionParameter,
                    lit.offset,
                    &lptr,
                    format!("`{name}` must be a {}, not {}", ty.name(), lit.type_name()),
                );
                ArgValue::Invalid
            }
        }
    }
}

/// A register name built from `s`, for suggestions.
fn sanitize(s: &str) -> String {
    let base = s.strip_prefix("bank_state_").unwrap_or(s);
    let t: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if t.is_empty() {
        "name".into()
    } else {
        t
    }
}
