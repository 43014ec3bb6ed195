//! The small predicate language of `when` and `expect`.
//!
//! ```toml
//! expect = { fact = "sysctl.runtime.net.ipv4.ip_forward", equals = "1" }
//! expect = { fact = "cpu.count", at_least = 2 }
//! expect = { fact = "cgroup.mode", one_of = ["v2"] }
//! expect = { fact = "kernel.config.missing_required", equals = [] }
//! expect = { fact = "module.overlay.persisted", present = true }
//! expect = { fact = "kubelet.cgroup_driver", equals_fact = "cgroup.recommended_driver" }
//! expect = { all = [ {...}, {...} ] }   # also any = [...], not = {...}
//! ```
//!
//! Evaluation is three-valued: a predicate over a fact that could not be read is neither
//! true nor false, and the check reports `error` with the fact's reason.

use std::cmp::Ordering;
use std::fmt;

use serde::Deserialize;

use crate::facts::{FactSet, FactState, Provenance, Value};
use crate::version::compare_loose;

/// A literal a fact is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Str(s) => f.write_str(s),
            Literal::List(l) if l.is_empty() => f.write_str("(none)"),
            Literal::List(l) => f.write_str(&l.join(", ")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    Equals(Literal),
    OneOf(Vec<Literal>),
    AtLeast(Literal),
    Below(Literal),
    Present(bool),
    Contains(Literal),
    EqualsFact(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Predicate {
    Fact { fact: String, test: Comparison },
    All(Vec<Predicate>),
    Any(Vec<Predicate>),
    Not(Box<Predicate>),
}

/// The TOML shape, before it is checked to be exactly one predicate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPredicate {
    fact: Option<String>,
    equals: Option<toml::Value>,
    one_of: Option<Vec<toml::Value>>,
    at_least: Option<toml::Value>,
    below: Option<toml::Value>,
    present: Option<bool>,
    contains: Option<toml::Value>,
    equals_fact: Option<String>,
    all: Option<Vec<RawPredicate>>,
    any: Option<Vec<RawPredicate>>,
    not: Option<Box<RawPredicate>>,
}

impl RawPredicate {
    pub fn build(self) -> Result<Predicate, String> {
        let combinators = [self.all.is_some(), self.any.is_some(), self.not.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        let mut tests = Vec::new();
        if let Some(v) = self.equals {
            tests.push(Comparison::Equals(literal(v)?));
        }
        if let Some(vs) = self.one_of {
            tests.push(Comparison::OneOf(
                vs.into_iter().map(literal).collect::<Result<_, _>>()?,
            ));
        }
        if let Some(v) = self.at_least {
            tests.push(Comparison::AtLeast(scalar(v)?));
        }
        if let Some(v) = self.below {
            tests.push(Comparison::Below(scalar(v)?));
        }
        if let Some(p) = self.present {
            tests.push(Comparison::Present(p));
        }
        if let Some(v) = self.contains {
            tests.push(Comparison::Contains(scalar(v)?));
        }
        if let Some(other) = self.equals_fact {
            tests.push(Comparison::EqualsFact(other));
        }
        match (self.fact, combinators, tests.len()) {
            (Some(fact), 0, 1) => Ok(Predicate::Fact {
                fact,
                test: tests.remove(0),
            }),
            (Some(_), 0, 0) => Err("a `fact` needs one test: equals, one_of, at_least, below, present, contains or equals_fact".into()),
            (Some(_), 0, _) => Err("a predicate has one test; combine several with `all`".into()),
            (None, 1, 0) => {
                if let Some(all) = self.all {
                    Ok(Predicate::All(build_all(all)?))
                } else if let Some(any) = self.any {
                    Ok(Predicate::Any(build_all(any)?))
                } else if let Some(not) = self.not {
                    Ok(Predicate::Not(Box::new(not.build()?)))
                } else {
                    Err("empty predicate".into())
                }
            }
            (None, 0, 0) => Err("empty predicate: give `fact` and a test, or all/any/not".into()),
            (None, 0, _) => Err("a test needs the `fact` it applies to".into()),
            _ => Err("a predicate is either a fact test or one of all/any/not".into()),
        }
    }
}

fn build_all(raw: Vec<RawPredicate>) -> Result<Vec<Predicate>, String> {
    if raw.is_empty() {
        return Err("all/any need at least one predicate".into());
    }
    raw.into_iter().map(RawPredicate::build).collect()
}

fn literal(v: toml::Value) -> Result<Literal, String> {
    match v {
        toml::Value::Array(items) => items
            .into_iter()
            .map(|i| match scalar(i)? {
                Literal::Str(s) => Ok(s),
                other => Ok(other.to_string()),
            })
            .collect::<Result<_, String>>()
            .map(Literal::List),
        other => scalar(other),
    }
}

fn scalar(v: toml::Value) -> Result<Literal, String> {
    match v {
        toml::Value::Boolean(b) => Ok(Literal::Bool(b)),
        toml::Value::Integer(i) => Ok(Literal::Int(i)),
        toml::Value::String(s) => Ok(Literal::Str(s)),
        other => Err(format!(
            "unsupported value {other}: use a string, integer, boolean or list"
        )),
    }
}

impl Predicate {
    /// Every fact name the predicate reads.
    pub fn facts(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_facts(&mut out);
        out
    }

    fn collect_facts<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Predicate::Fact { fact, test } => {
                out.push(fact);
                if let Comparison::EqualsFact(other) = test {
                    out.push(other);
                }
            }
            Predicate::All(ps) | Predicate::Any(ps) => ps.iter().for_each(|p| p.collect_facts(out)),
            Predicate::Not(p) => p.collect_facts(out),
        }
    }
}

impl Predicate {
    /// What is expected, in words, without repeating the fact when there is only one:
    /// `1`, `at least 2`, `one of systemd, cgroupfs`; a combination is described whole.
    pub fn expectation(&self) -> String {
        match self {
            Predicate::Fact { test, .. } => match test {
                Comparison::Equals(v) => v.to_string(),
                Comparison::OneOf(vs) => {
                    let vs: Vec<String> = vs.iter().map(ToString::to_string).collect();
                    format!("one of {}", vs.join(", "))
                }
                Comparison::AtLeast(v) => format!("at least {v}"),
                Comparison::Below(v) => format!("below {v}"),
                Comparison::Present(true) => "present".to_string(),
                Comparison::Present(false) => "absent".to_string(),
                Comparison::Contains(v) => format!("to contain {v}"),
                Comparison::EqualsFact(other) => format!("the same as {other}"),
            },
            Predicate::Not(inner) => match inner.as_ref() {
                Predicate::Fact {
                    test: Comparison::Equals(v),
                    ..
                } => format!("other than {v}"),
                _ => self.to_string(),
            },
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Predicate {
    /// What the predicate expects, in words: `sysctl.runtime.net.ipv4.ip_forward = 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Fact { fact, test } => match test {
                Comparison::Equals(v) => write!(f, "{fact} = {v}"),
                Comparison::OneOf(vs) => {
                    let vs: Vec<String> = vs.iter().map(ToString::to_string).collect();
                    write!(f, "{fact} one of {}", vs.join(", "))
                }
                Comparison::AtLeast(v) => write!(f, "{fact} >= {v}"),
                Comparison::Below(v) => write!(f, "{fact} < {v}"),
                Comparison::Present(true) => write!(f, "{fact} present"),
                Comparison::Present(false) => write!(f, "{fact} absent"),
                Comparison::Contains(v) => write!(f, "{fact} contains {v}"),
                Comparison::EqualsFact(other) => write!(f, "{fact} = {other}"),
            },
            Predicate::All(ps) => join(f, ps, " and "),
            Predicate::Any(ps) => join(f, ps, " or "),
            Predicate::Not(p) => write!(f, "not ({p})"),
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, ps: &[Predicate], sep: &str) -> fmt::Result {
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        match p {
            Predicate::All(_) | Predicate::Any(_) => write!(f, "({p})")?,
            _ => write!(f, "{p}")?,
        }
    }
    Ok(())
}

/// The outcome of evaluating a predicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Fails,
    /// Cannot be decided; the reason names the fact and why it is unknown.
    Unknown(String),
}

/// One fact a predicate looked at, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub fact: String,
    /// The value as text, `absent`, or `unknown`.
    pub value: String,
    pub provenance: Provenance,
}

pub struct Evaluation {
    pub verdict: Verdict,
    pub observations: Vec<Observation>,
}

impl Predicate {
    /// The part of a false predicate that makes it false: for `all`, the first branch that
    /// is false (recursively); otherwise the predicate itself. Lets a skip say only the
    /// condition that did not hold.
    pub fn deciding_failure<'a>(&'a self, facts: &FactSet) -> &'a Predicate {
        if let Predicate::All(ps) = self {
            for p in ps {
                if eval(p, facts, &mut Vec::new()) == Verdict::Fails {
                    return p.deciding_failure(facts);
                }
            }
        }
        self
    }
}

pub fn evaluate(predicate: &Predicate, facts: &FactSet) -> Evaluation {
    let mut observations = Vec::new();
    let verdict = eval(predicate, facts, &mut observations);
    Evaluation {
        verdict,
        observations,
    }
}

fn observe(
    name: &str,
    facts: &FactSet,
    out: &mut Vec<Observation>,
) -> Result<Option<Value>, String> {
    let Some(fact) = facts.get(name) else {
        return Err(format!("{name} was not gathered"));
    };
    let (value, result) = match &fact.state {
        FactState::Known(v) => (v.to_string(), Ok(Some(v.clone()))),
        FactState::Absent => ("absent".to_string(), Ok(None)),
        FactState::Unknown(reason) => ("unknown".to_string(), Err(format!("{name}: {reason}"))),
    };
    if !out.iter().any(|o| o.fact == name) {
        out.push(Observation {
            fact: name.to_string(),
            value,
            provenance: fact.provenance.clone(),
        });
    }
    result
}

fn eval(predicate: &Predicate, facts: &FactSet, out: &mut Vec<Observation>) -> Verdict {
    match predicate {
        Predicate::Fact { fact, test } => {
            let value = match observe(fact, facts, out) {
                Ok(v) => v,
                Err(reason) => return Verdict::Unknown(reason),
            };
            let holds = match (test, &value) {
                (Comparison::Present(want), v) => v.is_some() == *want,
                (_, None) => false,
                (Comparison::Equals(lit), Some(v)) => equals(v, lit),
                (Comparison::OneOf(lits), Some(v)) => lits.iter().any(|l| equals(v, l)),
                (Comparison::AtLeast(lit), Some(v)) => match compare(v, lit) {
                    Some(o) => o != Ordering::Less,
                    None => return incomparable(fact, v, lit),
                },
                (Comparison::Below(lit), Some(v)) => match compare(v, lit) {
                    Some(o) => o == Ordering::Less,
                    None => return incomparable(fact, v, lit),
                },
                (Comparison::Contains(lit), Some(v)) => match v {
                    Value::Str(s) => s.contains(&lit.to_string()),
                    Value::List(items) => items.iter().any(|i| *i == lit.to_string()),
                    _ => false,
                },
                (Comparison::EqualsFact(other), Some(v)) => match observe(other, facts, out) {
                    Ok(Some(w)) => v == &w || v.to_string() == w.to_string(),
                    Ok(None) => false,
                    Err(reason) => return Verdict::Unknown(reason),
                },
            };
            if holds {
                Verdict::Holds
            } else {
                Verdict::Fails
            }
        }
        Predicate::All(ps) => {
            let verdicts: Vec<Verdict> = ps.iter().map(|p| eval(p, facts, out)).collect();
            if verdicts.contains(&Verdict::Fails) {
                Verdict::Fails
            } else {
                verdicts
                    .into_iter()
                    .find(|v| matches!(v, Verdict::Unknown(_)))
                    .unwrap_or(Verdict::Holds)
            }
        }
        Predicate::Any(ps) => {
            let verdicts: Vec<Verdict> = ps.iter().map(|p| eval(p, facts, out)).collect();
            if verdicts.contains(&Verdict::Holds) {
                Verdict::Holds
            } else {
                verdicts
                    .into_iter()
                    .find(|v| matches!(v, Verdict::Unknown(_)))
                    .unwrap_or(Verdict::Fails)
            }
        }
        Predicate::Not(p) => match eval(p, facts, out) {
            Verdict::Holds => Verdict::Fails,
            Verdict::Fails => Verdict::Holds,
            unknown => unknown,
        },
    }
}

fn incomparable(fact: &str, v: &Value, lit: &Literal) -> Verdict {
    Verdict::Unknown(format!("{fact} = {v} cannot be compared with {lit}"))
}

fn equals(v: &Value, lit: &Literal) -> bool {
    match (v, lit) {
        (Value::Bool(a), Literal::Bool(b)) => a == b,
        (Value::Int(a), Literal::Int(b)) => a == b,
        (Value::Str(a), Literal::Str(b)) => a == b,
        // Kernel parameters are text: "1" equals 1.
        (Value::Str(a), Literal::Int(b)) => a.trim() == b.to_string(),
        (Value::Int(a), Literal::Str(b)) => a.to_string() == b.trim(),
        (Value::List(a), Literal::List(b)) => a == b,
        _ => false,
    }
}

/// Integers compare as numbers, text as dotted versions.
fn compare(v: &Value, lit: &Literal) -> Option<Ordering> {
    match (v, lit) {
        (Value::Int(a), Literal::Int(b)) => Some(a.cmp(b)),
        (Value::Str(a), Literal::Str(b)) => compare_loose(a, b),
        (Value::Str(a), Literal::Int(b)) => a.trim().parse::<i64>().ok().map(|a| a.cmp(b)),
        (Value::Int(a), Literal::Str(b)) => compare_loose(&a.to_string(), b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Fact;

    fn parse(text: &str) -> Result<Predicate, String> {
        #[derive(Deserialize)]
        struct W {
            p: RawPredicate,
        }
        let w: W = toml::from_str(&format!("p = {text}")).map_err(|e| e.to_string())?;
        w.p.build()
    }

    fn facts() -> FactSet {
        let mut f = FactSet::default();
        f.insert("a", Fact::known("1", Provenance::line("/etc/x", 3)));
        f.insert("n", Fact::known(4i64, Provenance::file("/proc/cpuinfo")));
        f.insert("v", Fact::known("1.30", Provenance::file("flag")));
        f.insert("gone", Fact::absent(Provenance::file("/nowhere")));
        f.insert("bad", Fact::unknown("permission denied"));
        f.insert(
            "l",
            Fact::known(Vec::<String>::new(), Provenance::default()),
        );
        f
    }

    fn verdict(text: &str) -> Verdict {
        evaluate(&parse(text).unwrap(), &facts()).verdict
    }

    #[test]
    fn comparisons() {
        assert_eq!(verdict(r#"{ fact = "a", equals = "1" }"#), Verdict::Holds);
        assert_eq!(verdict(r#"{ fact = "a", equals = 1 }"#), Verdict::Holds);
        assert_eq!(verdict(r#"{ fact = "n", at_least = 2 }"#), Verdict::Holds);
        assert_eq!(verdict(r#"{ fact = "n", below = 2 }"#), Verdict::Fails);
        assert_eq!(
            verdict(r#"{ fact = "v", at_least = "1.9" }"#),
            Verdict::Holds
        );
        assert_eq!(
            verdict(r#"{ fact = "gone", present = false }"#),
            Verdict::Holds
        );
        assert_eq!(
            verdict(r#"{ fact = "gone", equals = "1" }"#),
            Verdict::Fails
        );
        assert_eq!(verdict(r#"{ fact = "l", equals = [] }"#), Verdict::Holds);
        assert_eq!(
            verdict(r#"{ fact = "a", equals_fact = "a" }"#),
            Verdict::Holds
        );
    }

    #[test]
    fn unknown_is_neither_true_nor_false() {
        let v = verdict(r#"{ fact = "bad", equals = "1" }"#);
        assert_eq!(v, Verdict::Unknown("bad: permission denied".into()));
        assert_eq!(verdict(r#"{ not = { fact = "bad", equals = "1" } }"#), v);
        // A false branch decides `all` even when another is unknown.
        assert_eq!(
            verdict(r#"{ all = [{ fact = "bad", equals = "1" }, { fact = "a", equals = "0" }] }"#),
            Verdict::Fails
        );
        assert_eq!(
            verdict(r#"{ any = [{ fact = "bad", equals = "1" }, { fact = "a", equals = "1" }] }"#),
            Verdict::Holds
        );
    }

    #[test]
    fn malformed_predicates_are_refused() {
        assert!(parse(r#"{ fact = "a" }"#).is_err());
        assert!(parse(r#"{ equals = 1 }"#).is_err());
        assert!(parse(r#"{ fact = "a", equals = 1, below = 2 }"#).is_err());
        assert!(parse(r#"{ fact = "a", equal = 1 }"#).is_err());
        assert!(parse(r#"{ all = [] }"#).is_err());
    }

    #[test]
    fn describes_itself() {
        let p = parse(r#"{ all = [{ fact = "a", equals = "1" }, { any = [{ fact = "n", at_least = 2 }, { fact = "gone", present = true }] }] }"#).unwrap();
        assert_eq!(p.to_string(), "a = 1 and (n >= 2 or gone present)");
    }
}
