//! Every diagnostic the YAML and parse layers emit, in one voice (STYLE.md §4 rule 4):
//! lowercase, no final period, user input in backticks, advice in `help`.
//! Codes: PP1xxx input/parse, PP2xxx NetworkPolicy validity. Not a place for logic.

use crate::diagnostics::Diagnostic;
use crate::source::Span;

const DROP_RULE_HELP: &str =
    "the API server would reject this NetworkPolicy; the engine ignores this whole rule, so it allows nothing";

// ---- PP10xx: YAML -----------------------------------------------------------------------------

pub(crate) fn yaml_syntax(info: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP1001", format!("invalid YAML: {info}"), span)
        .with_help("this document is skipped; the other documents are still read")
}

pub(crate) fn yaml_quoted_indent(span: Span) -> Diagnostic {
    Diagnostic::warning(
        "PP1018",
        "continuation lines of this quoted string are not indented",
        span,
    )
    .with_help("`kubectl` accepts this, strict YAML parsers do not; indent the lines past the key")
}

pub(crate) fn yaml_too_deep(max: usize, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP1007",
        format!("YAML nested deeper than {max} levels"),
        span,
    )
    .with_help("the nested part is read as `null`")
}

pub(crate) fn yaml_duplicate_key(key: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("PP1006", format!("duplicate key `{key}`"), span)
        .with_help("the last value is used; `kubectl apply` may reject the object")
}

pub(crate) fn yaml_unknown_alias(span: Span) -> Diagnostic {
    Diagnostic::error("PP1008", "alias to an unknown anchor", span)
        .with_help("define the anchor (`&name`) before using `*name`")
}

pub(crate) fn yaml_alias_too_large(max: usize, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP1008",
        format!("alias expansion exceeds {max} nodes"),
        span,
    )
    .with_help("the alias is read as `null`")
}

// ---- PP100x–PP101x: objects -------------------------------------------------------------------

pub(crate) fn missing_kind(span: Span) -> Diagnostic {
    Diagnostic::error("PP1002", "object has no `kind`", span)
        .with_help("add `kind:` (for example `kind: Pod`); the object is skipped")
}

pub(crate) fn ignored_kind(kind: &str, name: &str, span: Span) -> Diagnostic {
    Diagnostic::info(
        "PP1003",
        format!("`{kind}` `{name}` is not modelled and was ignored"),
        span,
    )
}

pub(crate) fn ignored_api_version(
    kind: &str,
    api_version: &str,
    name: &str,
    span: Span,
) -> Diagnostic {
    Diagnostic::info(
        "PP1003",
        format!("`{kind}` `{name}` of `{api_version}` is not modelled and was ignored"),
        span,
    )
    .with_help(format!("only the Kubernetes `{kind}` API group is read"))
}

pub(crate) fn missing_api_version(kind: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("PP1004", format!("`{kind}` has no `apiVersion`"), span).with_help(
        "the API server rejects objects without `apiVersion`; the engine reads it anyway",
    )
}

pub(crate) fn not_an_object(found: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("PP1005", format!("document is not a Kubernetes object (found {found})"), span)
        .with_help("a manifest is a mapping with `apiVersion`, `kind` and `metadata`; this document is skipped")
}

pub(crate) fn wrong_type(expected: &str, path: &str, found: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP1009",
        format!("expected {expected} for `{path}`, found {found}"),
        span,
    )
}

pub(crate) fn scalar_not_string(path: &str, found: &str, text: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP1009",
        format!("expected a string for `{path}`, found {found}"),
        span,
    )
    .with_help(format!(
        "quote it: `\"{text}\"`; the engine reads it as that string"
    ))
}

pub(crate) fn missing_name(kind: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP1010", format!("`{kind}` has no `metadata.name`"), span)
        .with_help("the object is skipped")
}

pub(crate) fn missing_field(path: &str, skipped: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP1010", format!("missing `{path}`"), span)
        .with_help(format!("the {skipped} is skipped"))
}

pub(crate) fn duplicate_object(kind: &str, qualified_name: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP1011", format!("`{kind}` `{qualified_name}` is defined more than once"), span)
        .with_help("only one object of a kind can have a given name; the engine keeps this later definition, as `kubectl apply` would")
}

pub(crate) fn invalid_port_number(path: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP1012",
        format!("invalid port `{value}` in `{path}`"),
        span,
    )
    .with_help("a port is a number from 1 to 65535")
}

pub(crate) fn invalid_protocol(path: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP1012",
        format!("invalid protocol `{value}` in `{path}`"),
        span,
    )
    .with_help("use one of `TCP`, `UDP`, `SCTP`")
}

pub(crate) fn invalid_ip(path: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "PP1013",
        format!("invalid IP address `{value}` in `{path}`"),
        span,
    )
    .with_help("the address is ignored; the engine assigns one")
}

pub(crate) fn owner_pods_differ(owner: &str, groups: usize, span: Span) -> Diagnostic {
    Diagnostic::warning("PP1014", format!("pods owned by `{owner}` differ in labels or ports"), span).with_help(format!(
        "they are modelled as {groups} workloads with the same name; netpol-analyzer refuses this input when a policy selector separates them"
    ))
}

pub(crate) fn no_workloads(span: Span) -> Diagnostic {
    Diagnostic::warning("PP1015", "no workloads found", span).with_help(
        "add Pods or workload manifests (Deployment, StatefulSet, ...) so there are flows to judge",
    )
}

pub(crate) fn invalid_label_key(path: &str, key: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP1016", format!("invalid label key `{key}` in `{path}`"), span).with_help(
        "a label key is an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters: letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit",
    )
}

pub(crate) fn invalid_label_value(path: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP1016", format!("invalid label value `{value}` in `{path}`"), span).with_help(
        "a label value is empty or at most 63 characters: letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit",
    )
}

pub(crate) fn list_too_deep(span: Span) -> Diagnostic {
    Diagnostic::error("PP1017", "lists nested too deeply", span)
        .with_help("the inner list is skipped")
}

// ---- PP2xxx: NetworkPolicy --------------------------------------------------------------------

pub(crate) fn invalid_policy_type(value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2001", format!("invalid policy type `{value}`"), span).with_help(
        "use `Ingress` and/or `Egress`; the engine isolates the pods in every direction not listed correctly, with no rules",
    )
}

pub(crate) fn invalid_pod_selector(span: Span) -> Diagnostic {
    Diagnostic::error("PP2016", "invalid `spec.podSelector`", span).with_help(
        "the API server would reject this NetworkPolicy; the engine applies it to every pod of its namespace with no rules, so it allows nothing",
    )
}

pub(crate) fn invalid_rules_list(path: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2017", format!("invalid `{path}`"), span)
        .with_help("the API server would reject this NetworkPolicy; the engine keeps the isolation but no rules of this direction")
}

pub(crate) fn unknown_operator(op: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2002", format!("unknown selector operator `{op}`"), span)
        .with_help("use one of `In`, `NotIn`, `Exists`, `DoesNotExist`")
}

pub(crate) fn operator_needs_values(op: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2003",
        format!("operator `{op}` needs a non-empty `values` list"),
        span,
    )
}

pub(crate) fn operator_forbids_values(op: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2004",
        format!("operator `{op}` must not have `values`"),
        span,
    )
}

pub(crate) fn missing_expression_key(span: Span) -> Diagnostic {
    Diagnostic::error("PP2015", "selector expression has no `key`", span)
}

pub(crate) fn selector_label_key(path: &str, key: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2005", format!("invalid label key `{key}` in selector `{path}`"), span)
        .with_help("the API server would reject this NetworkPolicy; the selector is kept as written and matches no valid label")
}

pub(crate) fn selector_label_value(path: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2005", format!("invalid label value `{value}` in selector `{path}`"), span)
        .with_help("the API server would reject this NetworkPolicy; the selector is kept as written and matches no valid label")
}

pub(crate) fn ip_block_with_selector(span: Span) -> Diagnostic {
    Diagnostic::error("PP2006", "`ipBlock` cannot be combined with `podSelector` or `namespaceSelector` in one peer", span)
        .with_help(format!("split them into two list items (`- ipBlock: ...` and `- podSelector: ...`); {DROP_RULE_HELP}"))
}

pub(crate) fn empty_peer(span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2007",
        "peer sets none of `podSelector`, `namespaceSelector`, `ipBlock`",
        span,
    )
    .with_help(format!(
        "to allow all peers, omit `from`/`to`; {DROP_RULE_HELP}"
    ))
}

pub(crate) fn invalid_cidr(value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2008", format!("invalid CIDR `{value}`"), span).with_help(format!(
        "write an address and a prefix length, like `10.0.0.0/8`; {DROP_RULE_HELP}"
    ))
}

pub(crate) fn except_outside_cidr(except: &str, cidr: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2009",
        format!("`except` entry `{except}` is not inside `{cidr}`"),
        span,
    )
    .with_help(DROP_RULE_HELP)
}

pub(crate) fn policy_protocol(value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2010", format!("invalid protocol `{value}`"), span)
        .with_help(format!("use one of `TCP`, `UDP`, `SCTP`; {DROP_RULE_HELP}"))
}

pub(crate) fn policy_port(value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2011", format!("invalid port `{value}`"), span).with_help(format!(
        "a port is a number from 1 to 65535 or a port name (at most 15 lowercase letters, digits and `-`); {DROP_RULE_HELP}"
    ))
}

pub(crate) fn end_port_needs_number(span: Span) -> Diagnostic {
    Diagnostic::error("PP2012", "`endPort` needs a numeric `port`", span).with_help(format!(
        "`endPort` cannot be used with a named port or without `port`; {DROP_RULE_HELP}"
    ))
}

pub(crate) fn end_port_range(port: u16, end_port: i64, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2013",
        format!("invalid port range `{port}-{end_port}`"),
        span,
    )
    .with_help(format!(
        "`endPort` must be at least `port` and at most 65535; {DROP_RULE_HELP}"
    ))
}

pub(crate) fn named_port_ip_block(name: &str, span: Span) -> Diagnostic {
    Diagnostic::warning("PP2014", format!("named port `{name}` cannot match an `ipBlock` peer"), span)
        .with_help("a port name is resolved against pod container ports, so it never matches an address outside the cluster; use a number")
}

// ---- PP21xx: AdminNetworkPolicy / BaselineAdminNetworkPolicy (SEMANTICS.md §1.6) -----------

/// Help for every error that makes the API server reject a whole (B)ANP.
fn admin_rejected(kind: &str) -> String {
    format!("the API server would reject this {kind}; the engine ignores the whole policy (its rules can deny, so no partial reading is safe)")
}

pub(crate) fn admin_priority(name: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2101",
        format!("invalid priority `{value}` in AdminNetworkPolicy `{name}`"),
        span,
    )
    .with_help(format!(
        "a priority is a number from 0 to 1000 (lower is evaluated first); {}",
        admin_rejected("AdminNetworkPolicy")
    ))
}

pub(crate) fn admin_missing(kind: &str, path: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2102", format!("missing `{path}`"), span).with_help(admin_rejected(kind))
}

pub(crate) fn admin_subject_fields(kind: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2103",
        "`spec.subject` must set exactly one of `namespaces`, `pods`",
        span,
    )
    .with_help(admin_rejected(kind))
}

pub(crate) fn admin_peer_fields(kind: &str, fields: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2104",
        format!("a rule peer must set exactly one of {fields}"),
        span,
    )
    .with_help(format!(
        "to combine them, write one list item each; {}",
        admin_rejected(kind)
    ))
}

pub(crate) fn admin_no_peers(kind: &str, path: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2105",
        format!("`{path}` must list at least one peer"),
        span,
    )
    .with_help(format!(
        "unlike NetworkPolicy, an empty or missing `from`/`to` is not \"all peers\": use `namespaces: {{}}` for every pod; {}",
        admin_rejected(kind)
    ))
}

pub(crate) fn admin_action(kind: &str, value: &str, span: Span) -> Diagnostic {
    let allowed = if kind == "BaselineAdminNetworkPolicy" {
        "`Allow` or `Deny` (a BaselineAdminNetworkPolicy has no `Pass`)"
    } else {
        "`Allow`, `Deny` or `Pass`"
    };
    Diagnostic::error("PP2106", format!("unrecognized action `{value}`"), span)
        .with_help(format!("use {allowed}; {}", admin_rejected(kind)))
}

pub(crate) fn admin_port_fields(kind: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2107",
        "a port must set exactly one of `portNumber`, `namedPort`, `portRange`",
        span,
    )
    .with_help(admin_rejected(kind))
}

pub(crate) fn admin_port_range(kind: &str, start: i64, end: i64, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2108",
        format!("invalid port range `{start}-{end}`"),
        span,
    )
    .with_help(format!(
        "`start` and `end` are 1 to 65535 and `end` is at least `start`; {}",
        admin_rejected(kind)
    ))
}

pub(crate) fn admin_cidr(kind: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2109", format!("invalid CIDR `{value}`"), span).with_help(format!(
        "write an address and a prefix length, like `10.0.0.0/8`; {}",
        admin_rejected(kind)
    ))
}

pub(crate) fn admin_ipv6_network(value: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "PP2110",
        format!("IPv6 network `{value}` is not modelled"),
        span,
    )
    .with_help("the engine models IPv4 only; this entry matches nothing")
}

pub(crate) fn admin_nodes_peer(span: Span) -> Diagnostic {
    Diagnostic::warning("PP2111", "`nodes` peers are not modelled", span).with_help(
        "this peer matches nothing here (as in netpol-analyzer); traffic to nodes is judged by the other peers and tiers",
    )
}

pub(crate) fn banp_name(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP2112",
        format!("BaselineAdminNetworkPolicy is named `{name}`, not `default`"),
        span,
    )
    .with_help(format!(
        "there is one BaselineAdminNetworkPolicy per cluster and it must be named `default`; {}",
        admin_rejected("BaselineAdminNetworkPolicy")
    ))
}

pub(crate) fn admin_same_priority(
    name: &str,
    other: &str,
    priority: u32,
    span: Span,
) -> Diagnostic {
    Diagnostic::warning(
        "PP2113",
        format!("AdminNetworkPolicies `{other}` and `{name}` have the same priority {priority}"),
        span,
    )
    .with_help("their relative order is undefined in Kubernetes (netpol-analyzer refuses this input); the engine evaluates same-priority policies by name")
}

pub(crate) fn admin_port(kind: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2114", format!("invalid port `{value}`"), span).with_help(format!(
        "a port number is 1 to 65535 and a port name at most 15 lowercase letters, digits and `-`; {}",
        admin_rejected(kind)
    ))
}

pub(crate) fn admin_protocol(kind: &str, value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP2115", format!("invalid protocol `{value}`"), span).with_help(format!(
        "use one of `TCP`, `UDP`, `SCTP`; {}",
        admin_rejected(kind)
    ))
}
