//! Fact expectations: `binary.static: true`, `binary.max_glibc: "<= 2.31"`,
//! `elf.float_abi: soft`, `probe.goarch: "~ ^arm"`.
//!
//! `<`, `<=`, `>`, `>=` compare dotted versions (`2.31`, `go1.22.3`, `v3`)
//! part by part as numbers, else plain numbers. `==` and `!=` compare a
//! bool fact with true/false (YAML's `true` arrives as `1`), a number
//! numerically, anything else as text. `~` is a regex over the fact as text.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct FactExpr {
    /// As the matrix wrote it, for messages and reports.
    pub text: String,
    op: Op,
    operand: String,
    regex: Option<Regex>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
}

impl FactExpr {
    pub fn parse(text: &str) -> Result<FactExpr, BadFactExpr> {
        let t = text.trim();
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("~", Op::Match),
        ];
        let (op, operand) = ops
            .iter()
            .find_map(|(s, op)| t.strip_prefix(s).map(|rest| (*op, rest.trim())))
            .unwrap_or((Op::Eq, t));
        if operand.is_empty() && op != Op::Eq {
            return Err(BadFactExpr::NoOperand);
        }
        let regex = match op {
            Op::Match => Some(Regex::new(operand).map_err(|e| {
                let d = e.to_string();
                BadFactExpr::Regex(d.lines().last().unwrap_or("").trim().to_string())
            })?),
            _ => None,
        };
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge)
            && version(operand).is_none()
            && operand.parse::<f64>().is_err()
        {
            return Err(BadFactExpr::Unordered(operand.to_string()));
        }
        Ok(FactExpr {
            text: t.to_string(),
            op,
            operand: operand.to_string(),
            regex,
        })
    }

    /// Ok when the fact satisfies the expression, Err with why not.
    pub fn eval(&self, actual: &Value) -> Result<(), Missed> {
        let ok = match self.op {
            Op::Eq => equal(actual, &self.operand),
            Op::Ne => !equal(actual, &self.operand),
            Op::Match => self
                .regex
                .as_ref()
                .is_some_and(|r| r.is_match(&as_text(actual))),
            op => match order(actual, &self.operand) {
                None => {
                    return Err(Missed::Unordered {
                        actual: show(actual),
                        operand: self.operand.clone(),
                    })
                }
                Some(o) => match op {
                    Op::Lt => o == Ordering::Less,
                    Op::Le => o != Ordering::Greater,
                    Op::Gt => o == Ordering::Greater,
                    Op::Ge => o != Ordering::Less,
                    _ => unreachable!("equality and match are handled above"),
                },
            },
        };
        if ok {
            Ok(())
        } else {
            Err(Missed::Got(show(actual)))
        }
    }
}

/// Why a fact expectation cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadFactExpr {
    #[error("the operator has nothing to compare with")]
    NoOperand,
    /// The regex's own complaint, its last line.
    #[error("invalid regex: {0}")]
    Regex(String),
    #[error("{0:?} is neither a number nor a version, so it cannot be ordered")]
    Unordered(String),
}

/// How a fact missed its expectation: said after "got".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Missed {
    /// The fact as JSON.
    #[error("{0}")]
    Got(String),
    #[error("{actual} cannot be ordered against {operand:?}")]
    Unordered { actual: String, operand: String },
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn show(v: &Value) -> String {
    v.to_string()
}

fn equal(actual: &Value, operand: &str) -> bool {
    match actual {
        Value::Bool(b) => match operand {
            "true" | "1" | "yes" => *b,
            "false" | "0" | "no" => !*b,
            _ => false,
        },
        Value::Number(n) => operand.parse::<f64>().is_ok_and(|x| n.as_f64() == Some(x)),
        other => as_text(other) == operand,
    }
}

fn order(actual: &Value, operand: &str) -> Option<Ordering> {
    let a = as_text(actual);
    if let (Some(x), Some(y)) = (version(&a), version(operand)) {
        return Some(cmp_versions(&x, &y));
    }
    let (x, y) = (a.parse::<f64>().ok()?, operand.parse::<f64>().ok()?);
    x.partial_cmp(&y)
}

/// `go1.22.3` → [1, 22, 3]; `2.31` → [2, 31]; `v3` → [3].
fn version(s: &str) -> Option<Vec<u64>> {
    let s = s.trim().trim_start_matches("go").trim_start_matches('v');
    if s.is_empty() || !s.contains(|c: char| c.is_ascii_digit()) {
        return None;
    }
    s.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

fn cmp_versions(a: &[u64], b: &[u64]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(expr: &str, v: Value) -> bool {
        FactExpr::parse(expr).unwrap().eval(&v).is_ok()
    }

    #[test]
    fn comparisons() {
        assert!(ok("<= 2.31", json!("2.31")));
        assert!(ok("<= 2.31", json!("2.17")));
        assert!(!ok("<= 2.31", json!("2.34")));
        assert!(
            !ok("< 2.4", json!("2.17")),
            "2.17 is newer than 2.4 as a version"
        );
        assert!(ok(">= go1.21", json!("go1.26.8")));
        assert!(ok("> 4", json!(8)));
        assert!(ok("1", json!(true)));
        assert!(ok("true", json!(true)));
        assert!(ok("false", json!(false)));
        assert!(ok("0", json!("0")));
        assert!(ok("soft", json!("soft")));
        assert!(!ok("!= soft", json!("soft")));
        assert!(ok("~ ^arm", json!("arm64")));
        assert!(ok("8", json!(8)));
    }

    #[test]
    fn refusals() {
        assert!(FactExpr::parse("< banana").is_err());
        assert!(FactExpr::parse("~ (").is_err());
        assert!(FactExpr::parse("<=").is_err());
        let e = FactExpr::parse("< 2").unwrap();
        assert!(e.eval(&json!("x")).is_err());
    }
}
