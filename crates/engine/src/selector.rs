//! Kubernetes label selectors (`metav1.LabelSelector`), typed once at the parse edge
//! (SEMANTICS.md §1.4). Knows nothing about YAML.

use std::collections::BTreeMap;
use std::fmt;

use crate::source::Span;

/// Labels of an object: key → value, sorted so output is deterministic.
pub type Labels = BTreeMap<String, String>;

/// A parsed `LabelSelector`. `matchLabels` entries become `In` expressions with one value.
///
/// INVARIANT: `In`/`NotIn` carry at least one value (the parser reports an empty list and drops
/// the expression, as the API server would reject it).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LabelSelector {
    pub expressions: Vec<Expression>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expression {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl LabelSelector {
    /// The empty selector `{}`: selects everything (§1.4 rule 22).
    pub fn everything(span: Span) -> LabelSelector {
        LabelSelector {
            expressions: Vec::new(),
            span,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.expressions.is_empty()
    }

    /// All expressions are AND'ed (§1.4 rule 20).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.expressions.iter().all(|e| e.matches(labels))
    }
}

impl Expression {
    /// apimachinery `labels/selector.go` `Requirement.Matches` (§1.4 rule 21).
    pub fn matches(&self, labels: &Labels) -> bool {
        match self {
            Expression::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            // "NotIn": key absent, or value not in the set.
            Expression::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Expression::Exists(key) => labels.contains_key(key),
            Expression::DoesNotExist(key) => !labels.contains_key(key),
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Expression::In(k, _)
            | Expression::NotIn(k, _)
            | Expression::Exists(k)
            | Expression::DoesNotExist(k) => k,
        }
    }
}

/// The `kubectl -l` form: `app=web,tier in (a,b),!legacy`.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.expressions.is_empty() {
            return f.write_str("{}");
        }
        for (i, e) in self.expressions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expression::In(k, v) if v.len() == 1 => write!(f, "{k}={}", v[0]),
            Expression::In(k, v) => write!(f, "{k} in ({})", v.join(",")),
            Expression::NotIn(k, v) if v.len() == 1 => write!(f, "{k}!={}", v[0]),
            Expression::NotIn(k, v) => write!(f, "{k} notin ({})", v.join(",")),
            Expression::Exists(k) => write!(f, "{k}"),
            Expression::DoesNotExist(k) => write!(f, "!{k}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// Truth table for the four operators, including the absent-key edge (§1.4 rule 21).
    #[test]
    fn operators_truth_table() {
        let rows: &[(Expression, &[(&str, &str)], bool)] = &[
            (
                Expression::In("app".into(), s(&["web"])),
                &[("app", "web")],
                true,
            ),
            (
                Expression::In("app".into(), s(&["web"])),
                &[("app", "api")],
                false,
            ),
            (Expression::In("app".into(), s(&["web"])), &[], false),
            (
                Expression::NotIn("app".into(), s(&["web"])),
                &[("app", "web")],
                false,
            ),
            (
                Expression::NotIn("app".into(), s(&["web"])),
                &[("app", "api")],
                true,
            ),
            (Expression::NotIn("app".into(), s(&["web"])), &[], true),
            (Expression::Exists("app".into()), &[("app", "")], true),
            (Expression::Exists("app".into()), &[], false),
            (Expression::DoesNotExist("app".into()), &[], true),
            (
                Expression::DoesNotExist("app".into()),
                &[("app", "x")],
                false,
            ),
        ];
        for (expr, l, expected) in rows {
            assert_eq!(expr.matches(&labels(l)), *expected, "{expr} on {l:?}");
        }
    }

    #[test]
    fn empty_selector_matches_everything() {
        let sel = LabelSelector::everything(Span::default());
        assert!(sel.matches(&labels(&[])));
        assert!(sel.matches(&labels(&[("a", "b")])));
    }
}
