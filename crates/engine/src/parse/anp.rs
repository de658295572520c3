//! `policy.networking.k8s.io/v1alpha1` AdminNetworkPolicy and BaselineAdminNetworkPolicy
//! manifests → [`AdminNetworkPolicy`] / [`BaselineAdminNetworkPolicy`], with the API server's
//! validation (SEMANTICS.md §1.6) reported as PP21xx diagnostics. No evaluation here.
//!
//! Error recovery: a (B)ANP the API server would reject is reported (every problem, not just
//! the first) and then ignored as a whole. Unlike NetworkPolicy, whose rules only allow, an
//! (B)ANP rule can deny or pass, so dropping a bad rule or peer could widen or narrow what
//! flows: no partial reading is neutral, and a rejected object does not exist in a cluster.
//!
//! Accepted but not modelled, as netpol-analyzer does: IPv6 `networks` entries (warning, the
//! entry matches nothing) and `nodes` peers (warning, the peer matches nothing). A `pods` peer
//! or subject without `namespaceSelector` / `podSelector` reads the missing one as `{}`
//! (netpol-analyzer's reading).

use ipnet::IpNet;

use crate::anp::{
    AdminAction, AdminNetworkPolicy, AdminPeer, AdminPeerKind, AdminPort, AdminPortKind, AdminRule,
    BaselineAdminNetworkPolicy, Subject, MAX_PRIORITY,
};
use crate::diagnostics::Diagnostic;
use crate::model::Protocol;
use crate::parse::messages;
use crate::parse::netpol::read_selector;
use crate::parse::reader::{self, Cx, Invalid};
use crate::parse::Object;
use crate::selector::LabelSelector;
use crate::yaml::Node;

const ANP: &str = "AdminNetworkPolicy";
const BANP: &str = "BaselineAdminNetworkPolicy";

pub(crate) fn read_admin_network_policy(
    cx: &mut Cx,
    object: &Object,
) -> Option<AdminNetworkPolicy> {
    let mut ok = true;
    let spec = read_spec(cx, object, ANP, &mut ok);
    let priority_node = spec.and_then(|s| s.get("priority"));
    let priority = match cx.int(priority_node, "spec.priority") {
        Ok(Some(p)) if (0..=MAX_PRIORITY).contains(&p) => u32::try_from(p).ok(),
        Ok(Some(p)) => {
            cx.report(messages::admin_priority(
                &object.name,
                &p.to_string(),
                priority_node.map_or(object.span, |n| n.span),
            ));
            None
        }
        Ok(None) => {
            cx.report(messages::admin_missing(
                ANP,
                "spec.priority",
                spec.map_or(object.span, |n| n.span),
            ));
            None
        }
        Err(Invalid) => None,
    };
    let body = read_body(cx, spec, ANP, &mut ok);
    match (priority, body) {
        (Some(priority), Some((subject, ingress, egress))) if ok => Some(AdminNetworkPolicy {
            name: object.name.clone(),
            priority,
            subject,
            ingress,
            egress,
            span: object.span,
        }),
        _ => None,
    }
}

pub(crate) fn read_baseline_admin_network_policy(
    cx: &mut Cx,
    object: &Object,
) -> Option<BaselineAdminNetworkPolicy> {
    let mut ok = true;
    if object.name != "default" {
        let span = object
            .metadata
            .and_then(|m| m.get("name"))
            .map_or(object.span, |n| n.span);
        cx.report(messages::banp_name(&object.name, span));
        ok = false;
    }
    let spec = read_spec(cx, object, BANP, &mut ok);
    let body = read_body(cx, spec, BANP, &mut ok);
    match body {
        Some((subject, ingress, egress)) if ok => Some(BaselineAdminNetworkPolicy {
            name: object.name.clone(),
            subject,
            ingress,
            egress,
            span: object.span,
        }),
        _ => None,
    }
}

/// AdminNetworkPolicies sharing a priority: their order is undefined (§1.6 rule 27). Warns on
/// each later one.
pub(crate) fn check_priorities(policies: &[AdminNetworkPolicy], diagnostics: &mut Vec<Diagnostic>) {
    for (i, p) in policies.iter().enumerate() {
        if let Some(first) = policies[..i].iter().find(|q| q.priority == p.priority) {
            diagnostics.push(messages::admin_same_priority(
                &p.name,
                &first.name,
                p.priority,
                p.span,
            ));
        }
    }
}

fn read_spec<'n>(cx: &mut Cx, object: &Object<'n>, kind: &str, ok: &mut bool) -> Option<&'n Node> {
    match cx.map(object.node.get("spec"), "spec") {
        Ok(Some(spec)) => Some(spec),
        Ok(None) => {
            cx.report(messages::admin_missing(kind, "spec", object.span));
            *ok = false;
            None
        }
        Err(Invalid) => {
            *ok = false;
            None
        }
    }
}

type Body = (Subject, Vec<AdminRule>, Vec<AdminRule>);

/// `subject`, `ingress`, `egress`. Reports every problem; `ok` turns false on any error.
fn read_body(cx: &mut Cx, spec: Option<&Node>, kind: &str, ok: &mut bool) -> Option<Body> {
    let spec = spec?;
    let subject = read_subject(cx, spec, kind, ok);
    let ingress = read_rules(cx, spec, "ingress", kind, ok);
    let egress = read_rules(cx, spec, "egress", kind, ok);
    Some((subject?, ingress, egress))
}

fn read_subject(cx: &mut Cx, spec: &Node, kind: &str, ok: &mut bool) -> Option<Subject> {
    let node = spec.get("subject");
    let map = match cx.map(node, "spec.subject") {
        Ok(Some(map)) => map,
        Ok(None) => {
            cx.report(messages::admin_subject_fields(
                kind,
                node.map_or(spec.span, |n| n.span),
            ));
            *ok = false;
            return None;
        }
        Err(Invalid) => {
            *ok = false;
            return None;
        }
    };
    let namespaces = cx.map(map.get("namespaces"), "spec.subject.namespaces");
    let pods = cx.map(map.get("pods"), "spec.subject.pods");
    let res = match (namespaces, pods) {
        (Ok(Some(ns)), Ok(None)) => read_selector(cx, ns, "spec.subject.namespaces")
            .ok()
            .map(Subject::Namespaces),
        (Ok(None), Ok(Some(pods))) => read_namespaced_pod(cx, pods, "spec.subject.pods").ok().map(
            |(namespace_selector, pod_selector)| Subject::Pods {
                namespace_selector,
                pod_selector,
            },
        ),
        (Ok(_), Ok(_)) => {
            cx.report(messages::admin_subject_fields(kind, map.span));
            None
        }
        _ => None,
    };
    if res.is_none() {
        *ok = false;
    }
    res
}

/// `NamespacedPod`: `namespaceSelector` AND `podSelector`; a missing one reads as `{}`.
fn read_namespaced_pod(
    cx: &mut Cx,
    node: &Node,
    path: &str,
) -> Result<(LabelSelector, LabelSelector), Invalid> {
    let one = |cx: &mut Cx, key: &str| -> Result<LabelSelector, Invalid> {
        let sub = format!("{path}.{key}");
        match cx.map(node.get(key), &sub)? {
            Some(sel) => read_selector(cx, sel, &sub),
            None => Ok(LabelSelector::everything(node.span)),
        }
    };
    let ns = one(cx, "namespaceSelector");
    let pods = one(cx, "podSelector");
    Ok((ns?, pods?))
}

fn read_rules(cx: &mut Cx, spec: &Node, key: &str, kind: &str, ok: &mut bool) -> Vec<AdminRule> {
    let path = format!("spec.{key}");
    let items = match cx.seq(spec.get(key), &path) {
        Ok(items) => items.unwrap_or_default(),
        Err(Invalid) => {
            *ok = false;
            return Vec::new();
        }
    };
    let egress = key == "egress";
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match read_rule(cx, item, &format!("{path}[{i}]"), egress, kind) {
            Ok(rule) => rules.push(rule),
            Err(Invalid) => *ok = false,
        }
    }
    rules
}

fn read_rule(
    cx: &mut Cx,
    item: &Node,
    path: &str,
    egress: bool,
    kind: &str,
) -> Result<AdminRule, Invalid> {
    let Some(map) = cx.map(Some(item), path)? else {
        cx.report(messages::admin_missing(
            kind,
            &format!("{path}.action"),
            item.span,
        ));
        return Err(Invalid);
    };
    let mut ok = true;
    let name = cx
        .string(map.get("name"), &format!("{path}.name"))
        .unwrap_or_else(|Invalid| {
            ok = false;
            None
        })
        .unwrap_or_default();
    let action_node = map.get("action");
    let action = match cx.string(action_node, &format!("{path}.action")) {
        Ok(Some(a)) => match (a.as_str(), kind) {
            ("Allow", _) => Some(AdminAction::Allow),
            ("Deny", _) => Some(AdminAction::Deny),
            ("Pass", ANP) => Some(AdminAction::Pass),
            _ => {
                cx.report(messages::admin_action(
                    kind,
                    &a,
                    action_node.map_or(map.span, |n| n.span),
                ));
                None
            }
        },
        Ok(None) => {
            cx.report(messages::admin_missing(
                kind,
                &format!("{path}.action"),
                map.span,
            ));
            None
        }
        Err(Invalid) => None,
    };
    let peers_key = if egress { "to" } else { "from" };
    let peers_path = format!("{path}.{peers_key}");
    let peers_node = map.get(peers_key);
    let mut peers = Vec::new();
    match cx.seq(peers_node, &peers_path) {
        Ok(Some(items)) if !items.is_empty() => {
            for (i, peer) in items.iter().enumerate() {
                match read_peer(cx, peer, &format!("{peers_path}[{i}]"), egress, kind) {
                    Ok(peer) => peers.push(peer),
                    Err(Invalid) => ok = false,
                }
            }
        }
        Ok(_) => {
            cx.report(messages::admin_no_peers(
                kind,
                &peers_path,
                peers_node.map_or(map.span, |n| n.span),
            ));
            ok = false;
        }
        Err(Invalid) => ok = false,
    }
    let ports_path = format!("{path}.ports");
    let ports = match cx.seq(map.get("ports"), &ports_path) {
        Ok(None) => None,
        Ok(Some(items)) => {
            let mut ports = Vec::new();
            for (i, port) in items.iter().enumerate() {
                match read_port(cx, port, &format!("{ports_path}[{i}]"), kind) {
                    Ok(port) => ports.push(port),
                    Err(Invalid) => ok = false,
                }
            }
            Some(ports)
        }
        Err(Invalid) => {
            ok = false;
            None
        }
    };
    match action {
        Some(action) if ok => Ok(AdminRule {
            name,
            action,
            peers,
            ports,
            span: item.span,
        }),
        _ => Err(Invalid),
    }
}

/// One `from` / `to` item: exactly one of `namespaces`, `pods` (and, for egress, `networks`,
/// `nodes`).
fn read_peer(
    cx: &mut Cx,
    item: &Node,
    path: &str,
    egress: bool,
    kind: &str,
) -> Result<AdminPeer, Invalid> {
    let fields = if egress {
        "`namespaces`, `pods`, `networks`, `nodes`"
    } else {
        "`namespaces`, `pods`"
    };
    let Some(map) = cx.map(Some(item), path)? else {
        cx.report(messages::admin_peer_fields(kind, fields, item.span));
        return Err(Invalid);
    };
    let keys: &[&str] = if egress {
        &["namespaces", "pods", "networks", "nodes"]
    } else {
        &["namespaces", "pods"]
    };
    let set: Vec<(&str, &Node)> = keys
        .iter()
        .filter_map(|k| match map.get(k) {
            Some(n) if !matches!(n.value, crate::yaml::Value::Null) => Some((*k, n)),
            _ => None,
        })
        .collect();
    let [(key, node)] = set.as_slice() else {
        cx.report(messages::admin_peer_fields(kind, fields, map.span));
        return Err(Invalid);
    };
    let sub = format!("{path}.{key}");
    let kind_of = match *key {
        "namespaces" => {
            let sel = cx.map(Some(node), &sub)?.ok_or(Invalid)?;
            AdminPeerKind::Namespaces(read_selector(cx, sel, &sub)?)
        }
        "pods" => {
            let pods = cx.map(Some(node), &sub)?.ok_or(Invalid)?;
            let (namespace_selector, pod_selector) = read_namespaced_pod(cx, pods, &sub)?;
            AdminPeerKind::Pods {
                namespace_selector,
                pod_selector,
            }
        }
        "nodes" => {
            let sel = cx.map(Some(node), &sub)?.ok_or(Invalid)?;
            read_selector(cx, sel, &sub)?;
            cx.report(messages::admin_nodes_peer(node.span));
            AdminPeerKind::Nodes
        }
        _ => {
            let items = cx.seq(Some(node), &sub)?.unwrap_or_default();
            let mut nets = Vec::new();
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let Some(text) = cx.string(Some(item), &format!("{sub}[{i}]"))? else {
                    cx.report(messages::admin_cidr(kind, "", item.span));
                    ok = false;
                    continue;
                };
                match text.parse::<IpNet>() {
                    Err(_) => {
                        cx.report(messages::admin_cidr(kind, &text, item.span));
                        ok = false;
                    }
                    Ok(IpNet::V6(_)) => cx.report(messages::admin_ipv6_network(&text, item.span)),
                    Ok(net) => nets.push(net.trunc()),
                }
            }
            if !ok {
                return Err(Invalid);
            }
            AdminPeerKind::Networks(nets)
        }
    };
    Ok(AdminPeer {
        kind: kind_of,
        span: item.span,
    })
}

/// One `AdminNetworkPolicyPort`: exactly one of `portNumber`, `namedPort`, `portRange`.
fn read_port(cx: &mut Cx, item: &Node, path: &str, kind: &str) -> Result<AdminPort, Invalid> {
    let Some(map) = cx.map(Some(item), path)? else {
        cx.report(messages::admin_port_fields(kind, item.span));
        return Err(Invalid);
    };
    let set: Vec<(&str, &Node)> = ["portNumber", "namedPort", "portRange"]
        .iter()
        .filter_map(|k| match map.get(k) {
            Some(n) if !matches!(n.value, crate::yaml::Value::Null) => Some((*k, n)),
            _ => None,
        })
        .collect();
    let [(key, node)] = set.as_slice() else {
        cx.report(messages::admin_port_fields(kind, map.span));
        return Err(Invalid);
    };
    let sub = format!("{path}.{key}");
    let port_kind = match *key {
        "namedPort" => {
            let name = cx.string(Some(node), &sub)?.unwrap_or_default();
            if !reader::valid_port_name(&name) {
                cx.report(messages::admin_port(kind, &name, node.span));
                return Err(Invalid);
            }
            AdminPortKind::Named(name)
        }
        "portNumber" => {
            let m = cx.map(Some(node), &sub)?.ok_or(Invalid)?;
            let protocol = read_protocol(cx, m, &sub, kind)?;
            let port_node = m.get("port");
            let port = match cx.int(port_node, &format!("{sub}.port"))? {
                Some(p) => match reader::port_number(p) {
                    Some(p) => p,
                    None => {
                        cx.report(messages::admin_port(
                            kind,
                            &p.to_string(),
                            port_node.map_or(m.span, |n| n.span),
                        ));
                        return Err(Invalid);
                    }
                },
                None => {
                    cx.report(messages::admin_missing(
                        kind,
                        &format!("{sub}.port"),
                        m.span,
                    ));
                    return Err(Invalid);
                }
            };
            AdminPortKind::Number { protocol, port }
        }
        _ => {
            let m = cx.map(Some(node), &sub)?.ok_or(Invalid)?;
            let protocol = read_protocol(cx, m, &sub, kind)?;
            let bound = |cx: &mut Cx, key: &str| -> Result<i64, Invalid> {
                match cx.int(m.get(key), &format!("{sub}.{key}"))? {
                    Some(v) => Ok(v),
                    None => {
                        cx.report(messages::admin_missing(
                            kind,
                            &format!("{sub}.{key}"),
                            m.span,
                        ));
                        Err(Invalid)
                    }
                }
            };
            let (start, end) = (bound(cx, "start")?, bound(cx, "end")?);
            match (reader::port_number(start), reader::port_number(end)) {
                (Some(s), Some(e)) if s <= e => AdminPortKind::Range {
                    protocol,
                    start: s,
                    end: e,
                },
                _ => {
                    cx.report(messages::admin_port_range(kind, start, end, m.span));
                    return Err(Invalid);
                }
            }
        }
    };
    Ok(AdminPort {
        kind: port_kind,
        span: item.span,
    })
}

/// `protocol`, defaulting to TCP.
fn read_protocol(cx: &mut Cx, map: &Node, path: &str, kind: &str) -> Result<Protocol, Invalid> {
    let node = map.get("protocol");
    match cx.string(node, &format!("{path}.protocol"))? {
        None => Ok(Protocol::Tcp),
        Some(text) => Protocol::parse(&text).ok_or_else(|| {
            cx.report(messages::admin_protocol(
                kind,
                &text,
                node.map_or(map.span, |n| n.span),
            ));
            Invalid
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::anp::{AdminAction, AdminPeerKind, AdminPortKind, Subject};
    use crate::diagnostics::Severity;
    use crate::model::Protocol;
    use crate::source::Source;

    fn parse(text: &str) -> (crate::model::Cluster, Vec<(&'static str, Severity)>) {
        let (c, d) = crate::parse::parse(&[Source::new("t.yaml", text)]);
        (c, d.iter().map(|d| (d.code, d.severity)).collect())
    }

    const GOOD: &str = r#"
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {matchLabels: {team: be}}}}
  ingress:
  - name: r0
    action: Pass
    from: [{namespaces: {}}]
    ports: [{portNumber: {port: 80}}, {namedPort: http}, {portRange: {protocol: UDP, start: 1, end: 9}}]
  egress:
  - action: Deny
    to: [{networks: [10.0.0.1/8, "fd00::/8"]}, {nodes: {}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress: [{action: Allow, to: [{pods: {podSelector: {}}}], ports: []}]
"#;

    #[test]
    fn reads_anp_and_banp() {
        let (c, d) = parse(GOOD);
        assert!(d.iter().all(|(_, s)| *s != Severity::Error), "{d:?}");
        assert!(d.contains(&("PP2110", Severity::Warning)));
        assert!(d.contains(&("PP2111", Severity::Warning)));
        assert_eq!(c.admin_network_policies.len(), 1, "{c:?}");
        let a = &c.admin_network_policies[0];
        assert_eq!(a.priority, 10);
        assert!(
            matches!(&a.subject, Subject::Pods { pod_selector, .. } if pod_selector.is_empty())
        );
        assert_eq!(a.ingress[0].action, AdminAction::Pass);
        let ports = a.ingress[0].ports.as_deref().unwrap_or_default();
        assert!(matches!(
            ports[0].kind,
            AdminPortKind::Number {
                protocol: Protocol::Tcp,
                port: 80
            }
        ));
        assert!(matches!(&ports[1].kind, AdminPortKind::Named(n) if n == "http"));
        assert!(matches!(
            ports[2].kind,
            AdminPortKind::Range {
                protocol: Protocol::Udp,
                start: 1,
                end: 9
            }
        ));
        let peers = &a.egress[0].peers;
        assert!(
            matches!(&peers[0].kind, AdminPeerKind::Networks(n) if n.len() == 1 && n[0].to_string() == "10.0.0.0/8")
        );
        assert!(matches!(peers[1].kind, AdminPeerKind::Nodes));
        let b = c.baseline_admin_network_policy.expect("BANP");
        assert_eq!(b.egress[0].ports.as_deref().map(<[_]>::len), Some(0));
        assert!(c.ignored.is_empty());
    }

    #[test]
    fn invalid_policies_are_reported_and_ignored() {
        let bad = GOOD
            .replace("priority: 10", "priority: -1")
            .replace("name: default", "name: other");
        let (c, d) = parse(&bad);
        assert!(d.contains(&("PP2101", Severity::Error)), "{d:?}");
        assert!(d.contains(&("PP2112", Severity::Error)), "{d:?}");
        assert!(c.admin_network_policies.is_empty());
        assert!(c.baseline_admin_network_policy.is_none());
        // Several problems in one policy are all reported.
        let bad = GOOD
            .replace("action: Pass", "action: Maybe")
            .replace(
                "{portNumber: {port: 80}}",
                "{portNumber: {port: 80}, namedPort: x}",
            )
            .replace("action: Allow", "action: Pass");
        let (c, d) = parse(&bad);
        for code in ["PP2106", "PP2107"] {
            assert!(d.contains(&(code, Severity::Error)), "{code} {d:?}");
        }
        assert_eq!(d.iter().filter(|(c, _)| *c == "PP2106").count(), 2);
        assert!(c.admin_network_policies.is_empty());
        assert!(c.baseline_admin_network_policy.is_none());
    }

    #[test]
    fn same_priority_warns() {
        let two = format!("{GOOD}\n---\n{}", GOOD.replace("name: a}", "name: b}"));
        let (c, d) = parse(&two);
        assert!(d.contains(&("PP2113", Severity::Warning)), "{d:?}");
        assert_eq!(c.admin_network_policies.len(), 2);
    }
}
