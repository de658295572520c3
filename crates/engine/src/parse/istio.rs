//! Istio manifests → typed Istio objects: `AuthorizationPolicy` and `PeerAuthentication`
//! (`security.istio.io` v1 / v1beta1) and waypoint `Gateway`s (`gateway.networking.k8s.io`,
//! `gatewayClassName: istio-waypoint`), with Istio's validation reported as PP3xxx diagnostics
//! (SEMANTICS.md §4, §2.5). No evaluation here.
//!
//! Error recovery: an object Istio's admission would reject (`selector` with `targetRefs`,
//! an unknown `action`, an unknown mTLS mode) is reported and skipped — it would not exist in the
//! cluster. A bad value inside a list is reported and kept as written (istiod itself skips
//! unparsable ports and addresses when it uses them).

use crate::diagnostics::Diagnostic;
use crate::istio::model::{
    Action, AuthorizationPolicy, Condition, MtlsMode, Operation, PeerAuthentication, Rule, Source,
    Target, TargetRef, Waypoint, WaypointFor,
};
use crate::parse::reader::{Cx, Invalid, LabelCheck};
use crate::parse::Object;
use crate::selector::Labels;
use crate::source::Span;
use crate::yaml::Node;

pub(crate) fn read_authorization_policy(
    cx: &mut Cx,
    object: &Object,
) -> Option<AuthorizationPolicy> {
    let spec = cx.map(object.get("spec"), "spec").ok()?;
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let selector = match cx.map(get("selector"), "spec.selector").ok()? {
        Some(sel) => Some(
            cx.labels(
                sel.get("matchLabels"),
                "spec.selector.matchLabels",
                LabelCheck::Selector,
            )
            .ok()?
            .unwrap_or_default(),
        ),
        None => None,
    };
    let mut refs = Vec::new();
    if let Some(r) = cx.map(get("targetRef"), "spec.targetRef").ok()? {
        refs.extend(read_target_ref(cx, r, "spec.targetRef"));
    }
    if let Some(items) = cx.seq(get("targetRefs"), "spec.targetRefs").ok()? {
        for (i, r) in items.iter().enumerate() {
            refs.extend(read_target_ref(cx, r, &format!("spec.targetRefs[{i}]")));
        }
    }
    let target = match (selector, refs.is_empty()) {
        (Some(_), false) => {
            cx.report(selector_and_target_refs(object.span));
            return None;
        }
        (Some(labels), true) => Target::Selector(labels),
        (None, false) => Target::TargetRefs(refs),
        (None, true) => Target::Namespace,
    };
    let action = match cx.string(get("action"), "spec.action").ok()? {
        None => Action::Allow,
        Some(a) => match a.as_str() {
            "ALLOW" => Action::Allow,
            "DENY" => Action::Deny,
            "AUDIT" => Action::Audit,
            "CUSTOM" => Action::Custom,
            _ => {
                cx.report(unknown_action(
                    &a,
                    get("action").map_or(object.span, |n| n.span),
                ));
                return None;
            }
        },
    };
    let provider = cx
        .map(get("provider"), "spec.provider")
        .ok()
        .flatten()
        .and_then(|p| {
            cx.string(p.get("name"), "spec.provider.name")
                .ok()
                .flatten()
        });
    if action == Action::Custom && provider.is_none() {
        cx.report(custom_without_provider(object.span));
    }
    let mut rules = Vec::new();
    if let Ok(Some(items)) = cx.seq(get("rules"), "spec.rules") {
        for (i, item) in items.iter().enumerate() {
            rules.push(read_rule(cx, item, &format!("spec.rules[{i}]")));
        }
    }
    let annotations = cx
        .labels(
            object.metadata.and_then(|m| m.get("annotations")),
            "metadata.annotations",
            LabelCheck::None,
        )
        .ok()
        .flatten()
        .unwrap_or_default();
    // Go `strconv.ParseBool`.
    let dry_run = matches!(
        annotations.get("istio.io/dry-run").map(String::as_str),
        Some("1" | "t" | "T" | "TRUE" | "true" | "True")
    );
    Some(AuthorizationPolicy {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        target,
        action,
        provider,
        rules,
        dry_run,
        span: object.span,
    })
}

fn read_target_ref(cx: &mut Cx, node: &Node, path: &str) -> Option<TargetRef> {
    let node = cx.map(Some(node), path).ok().flatten()?;
    let field = |cx: &mut Cx, k: &str| {
        cx.string(node.get(k), &format!("{path}.{k}"))
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    Some(TargetRef {
        group: field(cx, "group"),
        kind: field(cx, "kind"),
        name: field(cx, "name"),
        span: node.span,
    })
}

fn read_rule(cx: &mut Cx, node: &Node, path: &str) -> Rule {
    let mut rule = Rule {
        span: node.span,
        ..Rule::default()
    };
    let Ok(Some(map)) = cx.map(Some(node), path) else {
        return rule;
    };
    if let Ok(Some(items)) = cx.seq(map.get("from"), &format!("{path}.from")) {
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}.from[{i}].source");
            let src = cx.map(item.get("source"), &p).ok().flatten();
            let mut source = Source {
                span: item.span,
                ..Source::default()
            };
            if let Some(src) = src {
                let mut list = |k: &str| strings(cx, src.get(k), &format!("{p}.{k}"));
                source.principals = list("principals");
                source.not_principals = list("notPrincipals");
                source.request_principals = list("requestPrincipals");
                source.not_request_principals = list("notRequestPrincipals");
                source.namespaces = list("namespaces");
                source.not_namespaces = list("notNamespaces");
                source.service_accounts = list("serviceAccounts");
                source.not_service_accounts = list("notServiceAccounts");
                source.ip_blocks = list("ipBlocks");
                source.not_ip_blocks = list("notIpBlocks");
                source.remote_ip_blocks = list("remoteIpBlocks");
                source.not_remote_ip_blocks = list("notRemoteIpBlocks");
                source.trust_domains = list("trustDomains");
                source.not_trust_domains = list("notTrustDomains");
            }
            rule.from.push(source);
        }
    }
    if let Ok(Some(items)) = cx.seq(map.get("to"), &format!("{path}.to")) {
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}.to[{i}].operation");
            let op = cx.map(item.get("operation"), &p).ok().flatten();
            let mut operation = Operation {
                span: item.span,
                ..Operation::default()
            };
            if let Some(op) = op {
                let mut list = |k: &str| strings(cx, op.get(k), &format!("{p}.{k}"));
                operation.hosts = list("hosts");
                operation.not_hosts = list("notHosts");
                operation.ports = list("ports");
                operation.not_ports = list("notPorts");
                operation.methods = list("methods");
                operation.not_methods = list("notMethods");
                operation.paths = list("paths");
                operation.not_paths = list("notPaths");
                for port in operation.ports.iter().chain(&operation.not_ports) {
                    if port.parse::<u16>().is_err() {
                        cx.report(invalid_port(port, item.span));
                    }
                }
            }
            rule.to.push(operation);
        }
    }
    if let Ok(Some(items)) = cx.seq(map.get("when"), &format!("{path}.when")) {
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}.when[{i}]");
            let Ok(Some(c)) = cx.map(Some(item), &p) else {
                continue;
            };
            let key = cx
                .string(c.get("key"), &format!("{p}.key"))
                .ok()
                .flatten()
                .unwrap_or_default();
            let values = strings(cx, c.get("values"), &format!("{p}.values"));
            let not_values = strings(cx, c.get("notValues"), &format!("{p}.notValues"));
            if values.is_empty() && not_values.is_empty() {
                cx.report(condition_without_values(&key, item.span));
            }
            rule.when.push(Condition {
                key,
                values,
                not_values,
                span: item.span,
            });
        }
    }
    rule
}

fn strings(cx: &mut Cx, node: Option<&Node>, path: &str) -> Vec<String> {
    let Ok(Some(items)) = cx.seq(node, path) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| cx.string(Some(n), &format!("{path}[{i}]")).ok().flatten())
        .collect()
}

pub(crate) fn read_peer_authentication(cx: &mut Cx, object: &Object) -> Option<PeerAuthentication> {
    let spec = cx.map(object.get("spec"), "spec").ok()?;
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let selector = match cx.map(get("selector"), "spec.selector").ok()? {
        Some(sel) => cx
            .labels(
                sel.get("matchLabels"),
                "spec.selector.matchLabels",
                LabelCheck::Selector,
            )
            .ok()?
            .filter(|l: &Labels| !l.is_empty()),
        None => None,
    };
    let mode = match cx.map(get("mtls"), "spec.mtls").ok()? {
        Some(m) => read_mode(cx, m.get("mode"), "spec.mtls.mode")?,
        None => MtlsMode::Unset,
    };
    let mut port_level = Vec::new();
    if let Some(ports) = cx.map(get("portLevelMtls"), "spec.portLevelMtls").ok()? {
        for (key, value) in ports.as_map().unwrap_or_default() {
            let text = key.scalar_text(cx.text).unwrap_or_default().to_string();
            let Ok(port) = text.parse::<u16>() else {
                cx.report(invalid_port(&text, key.span));
                continue;
            };
            let path = format!("spec.portLevelMtls.{text}");
            let m = match cx.map(Some(value), &path) {
                Ok(Some(m)) => read_mode(cx, m.get("mode"), &format!("{path}.mode"))?,
                _ => MtlsMode::Unset,
            };
            port_level.push((port, m));
        }
        if selector.is_none() && !port_level.is_empty() {
            // "portLevelMtls ... requires a selector" (§4.4 rule 23).
            cx.report(port_level_without_selector(object.span));
            port_level.clear();
        }
    }
    port_level.sort_by_key(|(p, _)| *p);
    let creation_timestamp = cx
        .string(
            object.metadata.and_then(|m| m.get("creationTimestamp")),
            "metadata.creationTimestamp",
        )
        .ok()
        .flatten();
    Some(PeerAuthentication {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        selector,
        mode,
        port_level,
        creation_timestamp,
        span: object.span,
    })
}

fn read_mode(cx: &mut Cx, node: Option<&Node>, path: &str) -> Option<MtlsMode> {
    match cx.string(node, path) {
        Ok(None) => Some(MtlsMode::Unset),
        Ok(Some(s)) => match MtlsMode::parse(&s) {
            Some(m) => Some(m),
            None => {
                cx.report(unknown_mtls_mode(
                    &s,
                    node.map_or(Span::default(), |n| n.span),
                ));
                None
            }
        },
        Err(Invalid) => None,
    }
}

/// A `Gateway`: a waypoint when `gatewayClassName: istio-waypoint`, else `None` (not modelled).
pub(crate) fn read_waypoint(cx: &mut Cx, object: &Object) -> Option<Waypoint> {
    let spec = cx.map(object.get("spec"), "spec").ok().flatten();
    let class = cx
        .string(
            spec.and_then(|s| s.get("gatewayClassName")),
            "spec.gatewayClassName",
        )
        .ok()
        .flatten();
    if class.as_deref() != Some("istio-waypoint") {
        return None;
    }
    let labels = cx
        .labels(
            object.metadata.and_then(|m| m.get("labels")),
            "metadata.labels",
            LabelCheck::Object,
        )
        .ok()
        .flatten()
        .unwrap_or_default();
    let waypoint_for = match labels.get("istio.io/waypoint-for") {
        None => WaypointFor::Service,
        Some(v) => WaypointFor::parse(v).unwrap_or_else(|| {
            cx.report(unknown_waypoint_for(v, object.span));
            WaypointFor::Service
        }),
    };
    Some(Waypoint {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        waypoint_for,
        labels,
        workload: None,
        span: object.span,
    })
}

// ---- PP30xx: Istio object validity (messages, one voice: STYLE.md §4 rule 4) ------------------

fn selector_and_target_refs(span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP3001",
        "`selector` and `targetRefs` cannot both be set",
        span,
    )
    .with_help("Istio rejects this AuthorizationPolicy; the engine ignores it")
}

fn unknown_action(action: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP3002", format!("unknown action `{action}`"), span)
        .with_help("use one of `ALLOW`, `DENY`, `AUDIT`, `CUSTOM`; the engine ignores this policy")
}

fn custom_without_provider(span: Span) -> Diagnostic {
    Diagnostic::error("PP3003", "`CUSTOM` action without `provider.name`", span)
        .with_help("name the extension provider from meshConfig `extensionProviders`")
}

fn invalid_port(value: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP3004", format!("invalid port `{value}`"), span)
        .with_help("use a number from 1 to 65535; Istio skips values it cannot read")
}

fn condition_without_values(key: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "PP3005",
        format!("condition `{key}` has neither `values` nor `notValues`"),
        span,
    )
    .with_help("Istio requires at least one of them")
}

fn unknown_mtls_mode(mode: &str, span: Span) -> Diagnostic {
    Diagnostic::error("PP3006", format!("unknown mTLS mode `{mode}`"), span)
        .with_help("use one of `UNSET`, `DISABLE`, `PERMISSIVE`, `STRICT`; the engine ignores this PeerAuthentication")
}

fn port_level_without_selector(span: Span) -> Diagnostic {
    Diagnostic::error("PP3007", "`portLevelMtls` requires a `selector`", span)
        .with_help("the port-level settings are ignored")
}

fn unknown_waypoint_for(value: &str, span: Span) -> Diagnostic {
    Diagnostic::warning(
        "PP3008",
        format!("unknown `istio.io/waypoint-for` value `{value}`"),
        span,
    )
    .with_help("use `service`, `workload`, `all` or `none`; `service` is assumed")
}
