//! Typed reads of YAML fields with "expected X for `path`, found Y" diagnostics, plus the label
//! and port-name syntax checks the API server applies. Knows no Kubernetes kinds.
//!
//! Convention: a read returns `Ok(None)` when the field is absent or `null`, `Ok(Some(_))` when
//! it is usable, and `Err(Invalid)` after reporting a wrong type. A non-string scalar where a
//! string is expected (`version: 1` in labels) is reported but read as its written text.

use crate::diagnostics::Diagnostic;
use crate::model::PortRef;
use crate::parse::messages;
use crate::selector::Labels;
use crate::yaml::{Node, Value};

/// A field was invalid and has been reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Invalid;

pub(crate) type Got<T> = Result<Option<T>, Invalid>;

/// Where labels come from, for the right diagnostic code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelCheck {
    /// Object labels (PP1016).
    Object,
    /// Selector `matchLabels` (PP2005).
    Selector,
    /// Annotations: any string keys and values.
    None,
}

/// Parse context for one source.
pub(crate) struct Cx<'t, 'd> {
    pub text: &'t str,
    pub diagnostics: &'d mut Vec<Diagnostic>,
}

impl Cx<'_, '_> {
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub fn map<'n>(&mut self, node: Option<&'n Node>, path: &str) -> Got<&'n Node> {
        match node {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Null => Ok(None),
                Value::Map(_) => Ok(Some(n)),
                other => {
                    self.report(messages::wrong_type(
                        "a mapping",
                        path,
                        other.kind_name(),
                        n.span,
                    ));
                    Err(Invalid)
                }
            },
        }
    }

    pub fn seq<'n>(&mut self, node: Option<&'n Node>, path: &str) -> Got<&'n [Node]> {
        match node {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Null => Ok(None),
                Value::Seq(items) => Ok(Some(items)),
                other => {
                    self.report(messages::wrong_type(
                        "a sequence",
                        path,
                        other.kind_name(),
                        n.span,
                    ));
                    Err(Invalid)
                }
            },
        }
    }

    pub fn string(&mut self, node: Option<&Node>, path: &str) -> Got<String> {
        match node {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Null => Ok(None),
                Value::Str(s) => Ok(Some(s.clone())),
                Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                    let text = n.scalar_text(self.text).unwrap_or_default().to_owned();
                    self.report(messages::scalar_not_string(
                        path,
                        n.value.kind_name(),
                        &text,
                        n.span,
                    ));
                    Ok(Some(text))
                }
                other => {
                    self.report(messages::wrong_type(
                        "a string",
                        path,
                        other.kind_name(),
                        n.span,
                    ));
                    Err(Invalid)
                }
            },
        }
    }

    pub fn int(&mut self, node: Option<&Node>, path: &str) -> Got<i64> {
        match node {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Null => Ok(None),
                Value::Int(i) => Ok(Some(*i)),
                other => {
                    self.report(messages::wrong_type(
                        "an integer",
                        path,
                        other.kind_name(),
                        n.span,
                    ));
                    Err(Invalid)
                }
            },
        }
    }

    pub fn boolean(&mut self, node: Option<&Node>, path: &str) -> Got<bool> {
        match node {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Null => Ok(None),
                Value::Bool(b) => Ok(Some(*b)),
                other => {
                    self.report(messages::wrong_type(
                        "a boolean",
                        path,
                        other.kind_name(),
                        n.span,
                    ));
                    Err(Invalid)
                }
            },
        }
    }

    /// A `map[string]string` (labels, annotations, `matchLabels`, Service `selector`).
    /// Bad keys/values are reported per `check` and kept as written.
    pub fn labels(&mut self, node: Option<&Node>, path: &str, check: LabelCheck) -> Got<Labels> {
        let Some(map) = self.map(node, path)? else {
            return Ok(None);
        };
        let mut labels = Labels::new();
        for (key, value) in map.as_map().unwrap_or_default() {
            let Some(k) = key.scalar_text(self.text).map(str::to_owned) else {
                self.report(messages::wrong_type(
                    "a string",
                    path,
                    key.value.kind_name(),
                    key.span,
                ));
                continue;
            };
            let value_path = format!("{path}.{k}");
            let v = match self.string(Some(value), &value_path) {
                Ok(v) => v.unwrap_or_default(),
                Err(Invalid) => continue,
            };
            match check {
                LabelCheck::None => {}
                LabelCheck::Object | LabelCheck::Selector => {
                    let selector = check == LabelCheck::Selector;
                    if !valid_label_key(&k) {
                        self.report(if selector {
                            messages::selector_label_key(path, &k, key.span)
                        } else {
                            messages::invalid_label_key(path, &k, key.span)
                        });
                    }
                    if !valid_label_value(&v) {
                        self.report(if selector {
                            messages::selector_label_value(path, &v, value.span)
                        } else {
                            messages::invalid_label_value(path, &v, value.span)
                        });
                    }
                }
            }
            labels.insert(k, v);
        }
        Ok(Some(labels))
    }

    /// `IntOrString` port: numbers are range-checked by the caller.
    pub fn int_or_string(&mut self, node: Option<&Node>, path: &str) -> Got<IntOrString> {
        match node {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Null => Ok(None),
                Value::Int(i) => Ok(Some(IntOrString::Int(*i))),
                Value::Str(s) => Ok(Some(IntOrString::Str(s.clone()))),
                other => {
                    self.report(messages::wrong_type(
                        "a number or a name",
                        path,
                        other.kind_name(),
                        n.span,
                    ));
                    Err(Invalid)
                }
            },
        }
    }

    /// A container/probe/Service port reference: 1..=65535 or a name. Reports bad numbers.
    pub fn port_ref(&mut self, node: Option<&Node>, path: &str) -> Got<PortRef> {
        let Some(value) = self.int_or_string(node, path)? else {
            return Ok(None);
        };
        let span = node.map(|n| n.span).unwrap_or_default();
        match value {
            IntOrString::Int(i) => match port_number(i) {
                Some(p) => Ok(Some(PortRef::Number(p))),
                None => {
                    self.report(messages::invalid_port_number(path, &i.to_string(), span));
                    Err(Invalid)
                }
            },
            IntOrString::Str(s) => Ok(Some(PortRef::Name(s))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IntOrString {
    Int(i64),
    Str(String),
}

/// 1..=65535.
pub(crate) fn port_number(i: i64) -> Option<u16> {
    u16::try_from(i).ok().filter(|p| *p != 0)
}

/// apimachinery `IsQualifiedName`: `[prefix/]name`.
pub(crate) fn valid_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    prefix.is_none_or(valid_dns_subdomain) && !name.is_empty() && valid_label_value(name)
}

/// apimachinery `IsValidLabelValue`: empty, or ≤63 of `[A-Za-z0-9_.-]` starting and ending
/// with an alphanumeric.
pub(crate) fn valid_label_value(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let bytes = value.as_bytes();
    value.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// RFC 1123 subdomain: ≤253, dot-separated labels of `[a-z0-9-]`, alphanumeric at both ends.
pub(crate) fn valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.first()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && b.last()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// apimachinery `IsValidPortName` (IANA service name): 1–15 of `[a-z0-9-]`, at least one letter,
/// no leading, trailing or double `-`.
pub(crate) fn valid_port_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 15
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.iter().any(u8::is_ascii_lowercase)
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_syntax_table() {
        let keys = [
            ("app", true),
            ("app.kubernetes.io/name", true),
            ("kubernetes.io/metadata.name", true),
            ("app@b", false),
            ("", false),
            ("-app", false),
            ("Example.com/app", false),
            ("a/b/c", false),
            (&"x".repeat(64), false),
        ];
        for (k, ok) in keys {
            assert_eq!(valid_label_key(k), ok, "key {k:?}");
        }
        let values = [
            ("", true),
            ("web", true),
            ("v1.2_3-x", true),
            ("$backendservice", false),
            ("-a", false),
            ("a b", false),
        ];
        for (v, ok) in values {
            assert_eq!(valid_label_value(v), ok, "value {v:?}");
        }
    }

    #[test]
    fn port_name_table() {
        let names = [
            ("http", true),
            ("http-alt", true),
            ("h2", true),
            ("80", false),
            ("a--b", false),
            ("-a", false),
            ("HTTP", false),
            ("abcdefghijklmnop", false),
        ];
        for (n, ok) in names {
            assert_eq!(valid_port_name(n), ok, "{n:?}");
        }
    }
}
