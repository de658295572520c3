//! `networking.k8s.io/v1` NetworkPolicy manifests → [`NetworkPolicy`], with the API server's
//! validation (SEMANTICS.md §1) reported as PP2xxx diagnostics. No evaluation here.
//!
//! Error recovery never widens what the policy allows:
//! - invalid peer, port, or selector inside a peer → the whole rule is dropped (allows nothing);
//!   `from: [bad]` never becomes `from: []` (= all peers) and `ports: [bad]` never `ports: []`;
//! - invalid `spec.podSelector` → the policy selects every pod of its namespace and keeps no rules;
//! - invalid `policyTypes` entry → every direction not validly listed is isolated with no rules;
//! - `ingress`/`egress` of the wrong type → that direction keeps its isolation but no rules
//!   (and counts as non-empty for the `policyTypes` default).
//!
//! A syntactically odd but meaningful value is kept as written: a label key or value that the API
//! server would refuse (`app@b`) is reported and the selector still compares it literally, so it
//! matches no valid label.

use ipnet::IpNet;

use crate::model::{PortRef, Protocol};
use crate::netpol::{NetworkPolicy, Peer, PeerKind, PolicyPort, PolicyTypes, Rule};
use crate::parse::messages;
use crate::parse::reader::{self, Cx, IntOrString, Invalid, LabelCheck};
use crate::parse::Object;
use crate::selector::{Expression, LabelSelector};
use crate::yaml::Node;

pub(crate) fn read_network_policy(cx: &mut Cx, object: &Object) -> Option<NetworkPolicy> {
    let spec = match cx.map(object.get("spec"), "spec") {
        Ok(spec) => spec,
        // A non-mapping `spec`: nothing readable; isolate the namespace for ingress, allow nothing.
        Err(Invalid) => {
            return Some(NetworkPolicy {
                name: object.name.clone(),
                namespace: object.namespace.clone(),
                pod_selector: LabelSelector::everything(object.span),
                policy_types: PolicyTypes {
                    ingress: true,
                    egress: false,
                },
                ingress: Vec::new(),
                egress: Vec::new(),
                span: object.span,
            })
        }
    };
    let field = |key: &str| spec.and_then(|s| s.get(key));

    // §1.1 rule 1: `{}` or omitted selects all pods of the namespace.
    let selector_node = field("podSelector");
    let (pod_selector, selector_ok) = match cx.map(selector_node, "spec.podSelector") {
        Ok(Some(node)) => match read_selector(cx, node, "spec.podSelector") {
            Ok(selector) => (selector, true),
            Err(Invalid) => (LabelSelector::everything(node.span), false),
        },
        Ok(None) => (
            LabelSelector::everything(selector_node.map_or(object.span, |n| n.span)),
            true,
        ),
        Err(Invalid) => (
            LabelSelector::everything(selector_node.map_or(object.span, |n| n.span)),
            false,
        ),
    };
    if !selector_ok {
        cx.report(messages::invalid_pod_selector(
            selector_node.map_or(object.span, |n| n.span),
        ));
    }

    let ingress = read_rules(cx, field("ingress"), "spec.ingress", "from");
    let egress = read_rules(cx, field("egress"), "spec.egress", "to");

    // §1.1 rule 2: absent/empty policyTypes → [Ingress] + Egress iff `egress` is non-empty;
    // an explicit list is taken verbatim.
    let types = read_policy_types(cx, field("policyTypes"));
    let (mut policy_types, invalid_types) = match types {
        Some(Listed {
            ingress: i,
            egress: e,
            invalid,
        }) if i || e || invalid => (
            PolicyTypes {
                ingress: i,
                egress: e,
            },
            invalid,
        ),
        _ => (
            PolicyTypes {
                ingress: true,
                egress: egress.present,
            },
            false,
        ),
    };
    let mut ingress_rules = ingress.rules;
    let mut egress_rules = egress.rules;
    if invalid_types {
        // Every direction not validly listed: isolated, no rules.
        if !policy_types.ingress {
            policy_types.ingress = true;
            ingress_rules.clear();
        }
        if !policy_types.egress {
            policy_types.egress = true;
            egress_rules.clear();
        }
    }
    if !selector_ok {
        ingress_rules.clear();
        egress_rules.clear();
    }
    Some(NetworkPolicy {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        pod_selector,
        policy_types,
        ingress: ingress_rules,
        egress: egress_rules,
        span: object.span,
    })
}

struct Listed {
    ingress: bool,
    egress: bool,
    invalid: bool,
}

fn read_policy_types(cx: &mut Cx, node: Option<&Node>) -> Option<Listed> {
    let items = match cx.seq(node, "spec.policyTypes") {
        Ok(items) => items?,
        Err(Invalid) => {
            return Some(Listed {
                ingress: false,
                egress: false,
                invalid: true,
            })
        }
    };
    let mut listed = Listed {
        ingress: false,
        egress: false,
        invalid: false,
    };
    for (i, item) in items.iter().enumerate() {
        match cx.string(Some(item), &format!("spec.policyTypes[{i}]")) {
            Ok(Some(s)) if s == "Ingress" => listed.ingress = true,
            Ok(Some(s)) if s == "Egress" => listed.egress = true,
            Ok(Some(s)) => {
                cx.report(messages::invalid_policy_type(&s, item.span));
                listed.invalid = true;
            }
            Ok(None) => {
                cx.report(messages::invalid_policy_type("null", item.span));
                listed.invalid = true;
            }
            Err(Invalid) => listed.invalid = true,
        }
    }
    Some(listed)
}

struct Rules {
    rules: Vec<Rule>,
    /// The list is non-empty (or unreadable), for the `policyTypes` default.
    present: bool,
}

fn read_rules(cx: &mut Cx, node: Option<&Node>, path: &str, peers_key: &str) -> Rules {
    let items = match cx.seq(node, path) {
        Ok(Some(items)) => items,
        Ok(None) => {
            return Rules {
                rules: Vec::new(),
                present: false,
            }
        }
        Err(Invalid) => {
            cx.report(messages::invalid_rules_list(
                path,
                node.map(|n| n.span).unwrap_or_default(),
            ));
            return Rules {
                rules: Vec::new(),
                present: true,
            };
        }
    };
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        // An invalid rule is dropped: it allows nothing.
        if let Ok(rule) = read_rule(cx, item, &format!("{path}[{i}]"), peers_key) {
            rules.push(rule);
        }
    }
    Rules {
        rules,
        present: !items.is_empty(),
    }
}

/// One `ingress`/`egress` entry (§1.2 rule 10). `Err` = drop the whole rule.
fn read_rule(cx: &mut Cx, item: &Node, path: &str, peers_key: &str) -> Result<Rule, Invalid> {
    // `- ` (null) decodes to an empty rule, as in the API server.
    let Some(map) = cx.map(Some(item), path)? else {
        return Ok(Rule {
            peers: Vec::new(),
            ports: Vec::new(),
            span: item.span,
        });
    };
    let mut ok = true;
    let mut peers = Vec::new();
    let peers_path = format!("{path}.{peers_key}");
    if let Some(items) = cx.seq(map.get(peers_key), &peers_path)? {
        for (i, peer) in items.iter().enumerate() {
            // Keep reading after an error so every problem is reported; drop the rule at the end.
            match read_peer(cx, peer, &format!("{peers_path}[{i}]")) {
                Ok(peer) => peers.push(peer),
                Err(Invalid) => ok = false,
            }
        }
    }
    let mut ports = Vec::new();
    let ports_path = format!("{path}.ports");
    if let Some(items) = cx.seq(map.get("ports"), &ports_path)? {
        for (i, port) in items.iter().enumerate() {
            match read_port(cx, port, &format!("{ports_path}[{i}]")) {
                Ok(port) => ports.push(port),
                Err(Invalid) => ok = false,
            }
        }
    }
    if !ok {
        return Err(Invalid);
    }
    // §1.5 rule 24: a named port never matches a non-pod destination.
    if peers
        .iter()
        .any(|p| matches!(p.kind, PeerKind::IpBlock { .. }))
    {
        for port in &ports {
            if let Some(PortRef::Name(name)) = &port.port {
                cx.report(messages::named_port_ip_block(name, port.span));
            }
        }
    }
    Ok(Rule {
        peers,
        ports,
        span: item.span,
    })
}

/// One `NetworkPolicyPeer` (§1.3 rules 13–16).
fn read_peer(cx: &mut Cx, item: &Node, path: &str) -> Result<Peer, Invalid> {
    let Some(map) = cx.map(Some(item), path)? else {
        cx.report(messages::empty_peer(item.span));
        return Err(Invalid);
    };
    let pod_path = format!("{path}.podSelector");
    let ns_path = format!("{path}.namespaceSelector");
    let pod_selector = match cx.map(map.get("podSelector"), &pod_path)? {
        Some(node) => Some(read_selector(cx, node, &pod_path)?),
        None => None,
    };
    let namespace_selector = match cx.map(map.get("namespaceSelector"), &ns_path)? {
        Some(node) => Some(read_selector(cx, node, &ns_path)?),
        None => None,
    };
    // `podSelector: null` is "not specified" (§1.4 rule 22); `{}` is an empty selector.
    let ip_block = cx.map(map.get("ipBlock"), &format!("{path}.ipBlock"))?;
    match ip_block {
        Some(block) => {
            if pod_selector.is_some() || namespace_selector.is_some() {
                cx.report(messages::ip_block_with_selector(item.span));
                return Err(Invalid);
            }
            let kind = read_ip_block(cx, block, &format!("{path}.ipBlock"))?;
            Ok(Peer {
                kind,
                span: item.span,
            })
        }
        None if pod_selector.is_none() && namespace_selector.is_none() => {
            cx.report(messages::empty_peer(item.span));
            Err(Invalid)
        }
        None => Ok(Peer {
            kind: PeerKind::Pods {
                namespace_selector,
                pod_selector,
            },
            span: item.span,
        }),
    }
}

fn read_ip_block(cx: &mut Cx, block: &Node, path: &str) -> Result<PeerKind, Invalid> {
    let cidr_path = format!("{path}.cidr");
    let cidr_node = block.get("cidr");
    let cidr_text = match cx.string(cidr_node, &cidr_path)? {
        Some(text) => text,
        None => {
            cx.report(messages::invalid_cidr(
                "",
                cidr_node.map_or(block.span, |n| n.span),
            ));
            return Err(Invalid);
        }
    };
    let Ok(cidr) = cidr_text.parse::<IpNet>() else {
        cx.report(messages::invalid_cidr(
            &cidr_text,
            cidr_node.map_or(block.span, |n| n.span),
        ));
        return Err(Invalid);
    };
    let mut except = Vec::new();
    let mut ok = true;
    if let Some(items) = cx.seq(block.get("except"), &format!("{path}.except"))? {
        for (i, item) in items.iter().enumerate() {
            let Some(text) = cx.string(Some(item), &format!("{path}.except[{i}]"))? else {
                cx.report(messages::invalid_cidr("", item.span));
                ok = false;
                continue;
            };
            match text.parse::<IpNet>() {
                Err(_) => {
                    cx.report(messages::invalid_cidr(&text, item.span));
                    ok = false;
                }
                // §1.3 rule 16: `except` entries must lie inside `cidr`.
                Ok(net) if !cidr.contains(&net) || net.prefix_len() <= cidr.prefix_len() => {
                    cx.report(messages::except_outside_cidr(&text, &cidr_text, item.span));
                    ok = false;
                }
                Ok(net) => except.push(net.trunc()),
            }
        }
    }
    if !ok {
        return Err(Invalid);
    }
    Ok(PeerKind::IpBlock {
        cidr: cidr.trunc(),
        except,
    })
}

/// One `NetworkPolicyPort` (§1.5).
fn read_port(cx: &mut Cx, item: &Node, path: &str) -> Result<PolicyPort, Invalid> {
    let Some(map) = cx.map(Some(item), path)? else {
        // `- ` (null) decodes to `{}`: TCP, all ports.
        return Ok(PolicyPort {
            protocol: Protocol::Tcp,
            port: None,
            end_port: None,
            span: item.span,
        });
    };
    // §1.5 rule 23: protocol defaults to TCP.
    let protocol_node = map.get("protocol");
    let protocol = match cx.string(protocol_node, &format!("{path}.protocol"))? {
        None => Protocol::Tcp,
        Some(text) => match Protocol::parse(&text) {
            Some(p) => p,
            None => {
                cx.report(messages::policy_protocol(
                    &text,
                    protocol_node.map_or(map.span, |n| n.span),
                ));
                return Err(Invalid);
            }
        },
    };
    let port_node = map.get("port");
    let port_span = port_node.map_or(map.span, |n| n.span);
    let port = match cx.int_or_string(port_node, &format!("{path}.port"))? {
        None => None,
        Some(IntOrString::Int(i)) => match reader::port_number(i) {
            Some(p) => Some(PortRef::Number(p)),
            None => {
                cx.report(messages::policy_port(&i.to_string(), port_span));
                return Err(Invalid);
            }
        },
        Some(IntOrString::Str(name)) => {
            if !reader::valid_port_name(&name) {
                cx.report(messages::policy_port(&name, port_span));
                return Err(Invalid);
            }
            Some(PortRef::Name(name))
        }
    };
    // §1.5 rule 25: `endPort` needs a numeric `port` and `endPort >= port`.
    let end_node = map.get("endPort");
    let end_port = match cx.int(end_node, &format!("{path}.endPort"))? {
        None => None,
        Some(end) => {
            let end_span = end_node.map_or(map.span, |n| n.span);
            match &port {
                Some(PortRef::Number(start)) => match u16::try_from(end) {
                    Ok(e) if e >= *start => Some(e),
                    _ => {
                        cx.report(messages::end_port_range(*start, end, end_span));
                        return Err(Invalid);
                    }
                },
                _ => {
                    cx.report(messages::end_port_needs_number(end_span));
                    return Err(Invalid);
                }
            }
        }
    };
    Ok(PolicyPort {
        protocol,
        port,
        end_port,
        span: item.span,
    })
}

/// A `metav1.LabelSelector` (§1.4). `Err` after reporting an invalid expression.
pub(crate) fn read_selector(
    cx: &mut Cx,
    node: &Node,
    path: &str,
) -> Result<LabelSelector, Invalid> {
    let mut expressions = Vec::new();
    let labels_path = format!("{path}.matchLabels");
    if let Some(labels) = cx.labels(node.get("matchLabels"), &labels_path, LabelCheck::Selector)? {
        // `matchLabels` entries are `In` with one value (selector.rs invariant).
        expressions.extend(labels.into_iter().map(|(k, v)| Expression::In(k, vec![v])));
    }
    let exprs_path = format!("{path}.matchExpressions");
    let mut ok = true;
    if let Some(items) = cx.seq(node.get("matchExpressions"), &exprs_path)? {
        for (i, item) in items.iter().enumerate() {
            match read_expression(cx, item, &format!("{exprs_path}[{i}]")) {
                Ok(e) => expressions.push(e),
                Err(Invalid) => ok = false,
            }
        }
    }
    if !ok {
        return Err(Invalid);
    }
    Ok(LabelSelector {
        expressions,
        span: node.span,
    })
}

/// One `matchExpressions` entry (§1.4 rule 21).
fn read_expression(cx: &mut Cx, item: &Node, path: &str) -> Result<Expression, Invalid> {
    let Some(map) = cx.map(Some(item), path)? else {
        cx.report(messages::missing_expression_key(item.span));
        return Err(Invalid);
    };
    let key_node = map.get("key");
    let Some(key) = cx
        .string(key_node, &format!("{path}.key"))?
        .filter(|k| !k.is_empty())
    else {
        cx.report(messages::missing_expression_key(map.span));
        return Err(Invalid);
    };
    if !reader::valid_label_key(&key) {
        cx.report(messages::selector_label_key(
            path,
            &key,
            key_node.map_or(map.span, |n| n.span),
        ));
    }
    let op_node = map.get("operator");
    let operator = cx
        .string(op_node, &format!("{path}.operator"))?
        .unwrap_or_default();
    let op_span = op_node.map_or(map.span, |n| n.span);
    let values_node = map.get("values");
    let values_path = format!("{path}.values");
    let mut values = Vec::new();
    if let Some(items) = cx.seq(values_node, &values_path)? {
        for (i, v) in items.iter().enumerate() {
            if let Some(v_text) = cx.string(Some(v), &format!("{values_path}[{i}]"))? {
                if !reader::valid_label_value(&v_text) {
                    cx.report(messages::selector_label_value(
                        &values_path,
                        &v_text,
                        v.span,
                    ));
                }
                values.push(v_text);
            }
        }
    }
    let values_span = values_node.map_or(map.span, |n| n.span);
    match operator.as_str() {
        "In" | "NotIn" if values.is_empty() => {
            cx.report(messages::operator_needs_values(&operator, values_span));
            Err(Invalid)
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            cx.report(messages::operator_forbids_values(&operator, values_span));
            Err(Invalid)
        }
        "In" => Ok(Expression::In(key, values)),
        "NotIn" => Ok(Expression::NotIn(key, values)),
        "Exists" => Ok(Expression::Exists(key)),
        "DoesNotExist" => Ok(Expression::DoesNotExist(key)),
        _ => {
            cx.report(messages::unknown_operator(&operator, op_span));
            Err(Invalid)
        }
    }
}
