//! Verdicts into words: the ONLY place verdict prose is made (STYLE.md house rule 1), shared by
//! the CLI and the web app.
//!
//! What it is: names for endpoints and flows (`fe/web[Pod]`, `10.244.1.10 → 10.244.2.20:8080/TCP`),
//! one sentence per [`Reason`], and the layer-by-layer walk of one flow ([`explain`]) as plain
//! data ([`Explanation`]) that front ends lay out, plus a plain-text layout ([`render_text`]).
//! Policies and rules are named `ns/name` and `spec.ingress[0]` (0-based, like Envoy's RBAC log),
//! with `file:line:col` when a [`Locator`] is given. What it is not: no evaluation.

use std::fmt::Write as _;

use crate::flows::{Flow, FlowKind, FlowSource, FlowTarget, LegRole, LegTrace, Proxy};
use crate::model::{Cluster, NodeId, ProbeKind, WorkloadId};
use crate::source::{LineCol, LineIndex, Source, Span};
use crate::verdict::{
    Assumption, AuthzIgnored, AuthzPolicyRef, Bypass, Decision, Direction, Endpoint, Layer,
    LayerVerdict, Leg, PolicyRef, Reason, RuleRef, PROBE_SNAT_IP,
};

/// Finds `file:line:col` for spans (line indexes built once).
#[derive(Clone, Debug)]
pub struct Locator<'a> {
    sources: &'a [Source],
    indexes: Vec<LineIndex>,
}

impl<'a> Locator<'a> {
    pub fn new(sources: &'a [Source]) -> Locator<'a> {
        Locator {
            sources,
            indexes: sources.iter().map(|s| LineIndex::new(&s.text)).collect(),
        }
    }

    /// File name and 1-based line/column of a span's start; `None` for an unknown source.
    pub fn locate(&self, span: Span) -> Option<(&'a str, LineCol)> {
        let i = span.source.0 as usize;
        let source = self.sources.get(i)?;
        let index = self.indexes.get(i)?;
        Some((
            source.name.as_str(),
            index.line_col(&source.text, span.start),
        ))
    }

    /// `file:line:col`.
    pub fn position(&self, span: Span) -> Option<String> {
        self.locate(span).map(|(file, lc)| format!("{file}:{lc}"))
    }
}

/// The walk through the layers for one flow, ready to lay out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// `fe/web[Pod] → be/api[Pod]:8080/TCP`.
    pub title: String,
    pub verdict: Decision,
    pub decided_by: Option<Layer>,
    /// One line: `deny at np-ingress: be/api[Pod] is isolated for ingress by …`.
    pub summary: String,
    pub legs: Vec<LegExplanation>,
    /// `probeSnatCountsAsNode = false`, one per profile flag relied on.
    pub assumptions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegExplanation {
    /// `10.244.1.10 → 10.244.2.20:8080/TCP`.
    pub tuple: String,
    /// `fe/web[Pod] → be/api[Pod], service endpoint, no proxy`.
    pub description: String,
    pub steps: Vec<Step>,
}

/// One layer's decision on one leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub layer: Layer,
    pub decision: Decision,
    /// One sentence per reason.
    pub sentences: Vec<String>,
    /// The policies and rules the sentences name (for highlighting and links).
    pub refs: Vec<PolicyRuleRef>,
    pub assumptions: Vec<String>,
}

/// A policy, or one rule of it, named by a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRuleRef {
    pub namespace: String,
    pub name: String,
    /// `Some((direction, index))` for a rule.
    pub rule: Option<(Direction, usize)>,
    /// The rule's span, else the policy's.
    pub span: Span,
    /// `file:line:col` of `span` when a locator was given.
    pub position: Option<String>,
}

/// Explain one judged flow.
pub fn explain(cluster: &Cluster, flow: &Flow, locator: Option<&Locator<'_>>) -> Explanation {
    let legs: Vec<LegExplanation> = flow
        .legs
        .iter()
        .map(|trace| explain_leg(cluster, trace, locator))
        .collect();
    Explanation {
        title: flow_title(cluster, flow),
        verdict: flow.verdict,
        decided_by: flow.decided_by,
        summary: summary(cluster, flow, locator),
        legs,
        assumptions: flow.assumptions.iter().map(assumption_text).collect(),
    }
}

/// The plain-text layout of an explanation (the CLI's `explain`, failures of `check`).
pub fn render_text(explanation: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flow: {}", explanation.title);
    let _ = writeln!(
        out,
        "verdict: {}",
        verdict_text(explanation.verdict, explanation.decided_by)
    );
    if explanation.legs.is_empty() {
        let _ = writeln!(out, "  (no wire leg: {})", explanation.summary);
    }
    let n = explanation.legs.len();
    for (i, leg) in explanation.legs.iter().enumerate() {
        let _ = writeln!(
            out,
            "leg {}/{n}: {}  ({})",
            i + 1,
            leg.tuple,
            leg.description
        );
        for step in &leg.steps {
            let mark = match step.decision {
                Decision::Allow => "allow  ",
                Decision::Deny => "DENY   ",
                Decision::Unknown => "unknown",
            };
            let mut sentences = step.sentences.iter();
            let first = sentences.next().map_or("", String::as_str);
            let _ = writeln!(out, "  {:<11} {mark}  {first}", step.layer.as_str());
            for s in sentences {
                let _ = writeln!(out, "  {:<11} {:<7}  {s}", "", "");
            }
        }
    }
    if explanation.assumptions.is_empty() {
        let _ = writeln!(
            out,
            "assumptions: none (no CNI-specific behaviour involved)"
        );
    } else {
        let _ = writeln!(
            out,
            "assumptions (CNI profile): {}",
            explanation.assumptions.join(", ")
        );
    }
    out
}

/// `deny at np-ingress`, `allow`, `unknown at np-egress`.
pub fn verdict_text(decision: Decision, decided_by: Option<Layer>) -> String {
    match decided_by {
        Some(layer) if decision != Decision::Allow => format!("{} at {layer}", decision.as_str()),
        _ => decision.as_str().to_string(),
    }
}

/// One line for a flow's outcome: `deny at np-ingress: <the deciding layer's first sentence>`,
/// or `allow` followed by what allowed the destination side.
pub fn summary(cluster: &Cluster, flow: &Flow, locator: Option<&Locator<'_>>) -> String {
    let head = verdict_text(flow.verdict, flow.decided_by);
    if flow.legs.is_empty() {
        return format!(
            "{head}: the destination has no wire leg (the Service port no longer resolves)"
        );
    }
    let deciding = flow.legs.iter().find_map(|trace| {
        trace
            .verdicts
            .iter()
            .find(|v| Some(v.layer) == flow.decided_by)
            .map(|v| (trace, v))
    });
    match deciding {
        Some((trace, verdict)) => {
            let text = verdict
                .reasons
                .first()
                .map(|r| reason_sentence(cluster, &trace.leg, verdict.layer, r, locator))
                .unwrap_or_default();
            format!("{head}: {text}")
        }
        None => head,
    }
}

/// `fe/web[Pod] → be/api[Pod]:8080/TCP`, `fe/web[Pod] → be/api[Service]:80/TCP (endpoint
/// be/api[Pod])`, `kubelet on n2 → be/api[Pod]:8080/TCP (readiness probe of container `api`, GET
/// /healthz)`.
pub fn flow_title(cluster: &Cluster, flow: &Flow) -> String {
    let mut out = format!(
        "{} → {}:{}/{}",
        source_name(cluster, &flow.src),
        target_name(cluster, &flow.dst),
        flow.port,
        flow.protocol.as_str()
    );
    if let FlowTarget::Service { endpoint, .. } = flow.dst {
        let _ = write!(out, " (endpoint {})", workload_name(cluster, endpoint));
    }
    match (&flow.probe, &flow.http) {
        (Some(probe), http) => {
            let _ = write!(
                out,
                " ({} probe of container `{}`{})",
                probe_kind(probe.kind),
                probe.container,
                http.as_ref()
                    .map(|h| format!(", {} {}", h.method, h.path))
                    .unwrap_or_default()
            );
        }
        (None, Some(http)) => {
            let _ = write!(out, " {} {}", http.method, http.path);
        }
        (None, None) => {}
    }
    out
}

/// The client of a flow: `fe/web[Pod]`, `kubelet on n2`, `node n1`, `203.0.113.5`,
/// `0.0.0.0-9.255.255.255`.
pub fn source_name(cluster: &Cluster, src: &FlowSource) -> String {
    match src {
        FlowSource::Workload(id) => workload_name(cluster, *id),
        FlowSource::Kubelet(node) => format!("kubelet on {}", node_name(cluster, *node)),
        FlowSource::Node(node) => format!("node {}", node_name(cluster, *node)),
        FlowSource::External(range) if range.start == range.end => range.first().to_string(),
        FlowSource::External(range) => range.to_string(),
    }
}

/// The destination of a flow as addressed: `be/api[Pod]`, `be/api[Service]`, `203.0.113.5`.
pub fn target_name(cluster: &Cluster, dst: &FlowTarget) -> String {
    match dst {
        FlowTarget::Workload(id) => workload_name(cluster, *id),
        FlowTarget::Service { service, .. } => cluster.services.get(*service).map_or_else(
            || format!("service#{service}"),
            |s| format!("{}/{}[Service]", s.namespace, s.name),
        ),
        FlowTarget::External(range) if range.start == range.end => range.first().to_string(),
        FlowTarget::External(range) => range.to_string(),
    }
}

/// `ns/name[Kind]`, or `workload#N` for an id the cluster does not have.
pub fn workload_name(cluster: &Cluster, id: WorkloadId) -> String {
    cluster
        .workloads
        .iter()
        .find(|w| w.id == id)
        .map_or_else(|| format!("workload#{}", id.0), |w| w.display_name())
}

pub fn node_name(cluster: &Cluster, id: NodeId) -> String {
    cluster
        .node(id)
        .map_or_else(|| format!("node#{}", id.0), |n| n.name.clone())
}

/// Who a wire endpoint is: `fe/web[Pod]`, `node n2`, `203.0.113.5`,
/// `probe SNAT address of node n2`.
pub fn endpoint_name(cluster: &Cluster, endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Pod(id) => workload_name(cluster, *id),
        Endpoint::Node(node) => format!("node {}", node_name(cluster, *node)),
        Endpoint::External(ip) => ip.to_string(),
        Endpoint::ProbeSnat(node) => {
            format!("probe SNAT address of node {}", node_name(cluster, *node))
        }
    }
}

/// The wire address of an endpoint.
pub fn endpoint_address(cluster: &Cluster, endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Pod(id) => cluster
            .workloads
            .iter()
            .find(|w| w.id == *id)
            .map_or_else(|| "?".to_string(), |w| w.ip().to_string()),
        Endpoint::Node(node) => cluster
            .node(*node)
            .map_or_else(|| "?".to_string(), |n| n.ip.to_string()),
        Endpoint::External(ip) => ip.to_string(),
        Endpoint::ProbeSnat(_) => PROBE_SNAT_IP.to_string(),
    }
}

/// `10.244.1.10 → 10.244.2.20:8080/TCP`.
pub fn leg_tuple(cluster: &Cluster, leg: &Leg) -> String {
    format!(
        "{} → {}:{}/{}",
        endpoint_address(cluster, &leg.src),
        endpoint_address(cluster, &leg.dst),
        leg.port,
        leg.protocol.as_str()
    )
}

/// `probeSnatCountsAsNode = false`.
pub fn assumption_text(assumption: &Assumption) -> String {
    format!("{} = {}", assumption.flag.as_str(), assumption.value)
}

/// `be/deny-all`.
pub fn policy_name(policy: &PolicyRef) -> String {
    format!("{}/{}", policy.namespace, policy.name)
}

/// `spec.ingress[0]`.
pub fn rule_path(direction: Direction, index: usize) -> String {
    format!("spec.{}[{index}]", direction.as_str())
}

/// One sentence for one reason of the verdict `layer` gave on `leg`.
pub fn reason_sentence(
    cluster: &Cluster,
    leg: &Leg,
    layer: Layer,
    reason: &Reason,
    locator: Option<&Locator<'_>>,
) -> String {
    // The pod the layer judges: the leg source for egress, its destination for ingress.
    let subject = match layer {
        Layer::NpEgress => leg.src,
        _ => leg.dst,
    };
    let peer = match layer {
        Layer::NpEgress => leg.dst,
        _ => leg.src,
    };
    let subject_name = endpoint_name(cluster, &subject);
    let at = |span: Span| -> String {
        locator
            .and_then(|l| l.position(span))
            .map(|p| format!(" ({p})"))
            .unwrap_or_default()
    };
    match reason {
        Reason::NotEnforcedByCni { profile } => {
            format!("the CNI profile `{profile}` does not enforce NetworkPolicy")
        }
        Reason::NotSubjectToPolicy {
            endpoint,
            direction,
        } => match endpoint {
            Endpoint::Pod(_) => format!(
                "{} uses the host network and counts as its node, which no NetworkPolicy selects for {}",
                endpoint_name(cluster, endpoint),
                direction.as_str()
            ),
            _ => format!(
                "{} is not a pod, so no NetworkPolicy governs its {}",
                endpoint_name(cluster, endpoint),
                direction.as_str()
            ),
        },
        Reason::NotIsolated { direction } => format!(
            "{subject_name} is not isolated for {}: no NetworkPolicy selecting it has `{}` in its policyTypes",
            direction.as_str(),
            policy_type(*direction)
        ),
        Reason::NodeExempt { node } => format!(
            "the source is {subject_name}'s own node {}, and traffic from a pod's own node is always allowed",
            node_name(cluster, *node)
        ),
        Reason::AllowedBy(rule) => format!(
            "allowed by {} {}{}",
            policy_name(&rule.policy),
            rule_path(rule.direction, rule.rule),
            at(rule.span)
        ),
        Reason::NoRuleAllows { isolated_by } => {
            let direction = match layer {
                Layer::NpEgress => Direction::Egress,
                _ => Direction::Ingress,
            };
            let rules: usize = isolated_by
                .iter()
                .filter_map(|p| cluster.network_policies.get(p.index))
                .map(|p| match direction {
                    Direction::Ingress => p.ingress.len(),
                    Direction::Egress => p.egress.len(),
                })
                .sum();
            let policies: Vec<String> = isolated_by
                .iter()
                .map(|p| format!("{}{}", policy_name(p), at(p.span)))
                .collect();
            let traffic = match direction {
                Direction::Egress => format!(
                    "traffic to {} on port {}/{}",
                    endpoint_name(cluster, &peer),
                    leg.port,
                    leg.protocol.as_str()
                ),
                Direction::Ingress => format!(
                    "traffic from {} on port {}/{}",
                    endpoint_name(cluster, &peer),
                    leg.port,
                    leg.protocol.as_str()
                ),
            };
            let (has, its) = if isolated_by.len() == 1 {
                ("which has", "its")
            } else {
                ("which together have", "their")
            };
            if rules == 0 {
                format!(
                    "{subject_name} is isolated for {d} by {}, {has} no {d} rules, so {traffic} is denied",
                    policies.join(", "),
                    d = direction.as_str()
                )
            } else if rules == 1 {
                format!(
                    "{subject_name} is isolated for {d} by {}, and {its} only {d} rule does not allow {traffic}",
                    policies.join(", "),
                    d = direction.as_str()
                )
            } else {
                format!(
                    "{subject_name} is isolated for {d} by {}, and none of {its} {rules} {d} rules allows {traffic}",
                    policies.join(", "),
                    d = direction.as_str()
                )
            }
        }
        Reason::NamedPortUnresolved { rule, name } => format!(
            "named port `{name}` in {} {}{} does not resolve on {}, so that rule matches nothing here",
            policy_name(&rule.policy),
            rule_path(rule.direction, rule.rule),
            at(rule.span),
            endpoint_name(cluster, &leg.dst)
        ),
        Reason::UnknownEndpoint { endpoint } => format!(
            "{} is not in the cluster model",
            endpoint_name(cluster, endpoint)
        ),
        // --- Istio layers (SEMANTICS.md §4, §5; Envoy/ztunnel log wording in §6) -------------
        Reason::AuthzDenied(rule) => format!(
            "explicitly denied by {} rule[{}]{}",
            authz_name(&rule.policy),
            rule.rule,
            rule.span.map(at).unwrap_or_default()
        ),
        Reason::AuthzAllowed(rule) => format!(
            "allowed by {} rule[{}]{}",
            authz_name(&rule.policy),
            rule.rule,
            rule.span.map(at).unwrap_or_default()
        ),
        Reason::AuthzNoAllowPolicies => format!(
            "no ALLOW authorization policy applies to {subject_name} here, so no DENY match means allow"
        ),
        Reason::AuthzNoAllowMatched { checked } => format!(
            "allow policies exist, but none allowed (checked {})",
            checked.iter().map(authz_name).collect::<Vec<_>>().join(", ")
        ),
        Reason::AuthzCustom(rule) => format!(
            "CUSTOM policy {} rule[{}] matched: the external authorizer decides, which the engine cannot know",
            authz_name(&rule.policy),
            rule.rule
        ),
        Reason::AuthzShadow { rule, deny } => format!(
            "dry-run policy {} rule[{}] matched (logged as shadow {}, not enforced)",
            authz_name(&rule.policy),
            rule.rule,
            if *deny { "denied" } else { "allowed" }
        ),
        Reason::AuthzNotEnforcedHere { policy, why } => format!(
            "{} is not enforced here: {}",
            authz_name(policy),
            match why {
                AuthzIgnored::TargetRefsAtZtunnel => "ztunnel ignores policies with `targetRefs`",
                AuthzIgnored::SelectorAtWaypoint => "waypoints ignore `selector` policies",
                AuthzIgnored::UnsupportedActionAtZtunnel => "ztunnel does not support this action",
                AuthzIgnored::DryRunNotSent => "dry-run policies are not sent to ztunnel",
                AuthzIgnored::Audit => "AUDIT never affects the decision",
            }
        ),
        Reason::AuthzUndecidable { rule, key } => format!(
            "{} rule[{}] depends on `{key}`, which the engine does not model",
            authz_name(&rule.policy),
            rule.rule
        ),
        Reason::MtlsRequired { policy } => match policy {
            Some(p) => format!(
                "PeerAuthentication {}{} requires mTLS (STRICT) and this connection is plaintext",
                policy_name(p),
                at(p.span)
            ),
            None => "mTLS is required (STRICT) and this connection is plaintext".to_string(),
        },
        Reason::ProxyBypassed { bypass } => match bypass {
            Bypass::ProbeSnat => "the kubelet probe is SNATed to 169.254.7.127 and bypasses ztunnel".to_string(),
            Bypass::ProbeRewrite => "the probe is rewritten to port 15020, which the sidecar does not capture".to_string(),
            Bypass::NotCaptured => "this protocol is not captured by the proxy".to_string(),
            Bypass::OwnProxyBypassed => "the source bypasses its own proxy".to_string(),
            Bypass::WaypointSkipped => "clients outside the mesh do not use the waypoint and reach the pod directly".to_string(),
        },
        Reason::NoProxy => "no proxy terminates this leg".to_string(),
        #[allow(
            unreachable_patterns,
            reason = "reasons added by another layer render generically until worded here"
        )]
        other => format!("{other:?}"),
    }
}

/// `be/allow-web`, `istio-system/istio_converted_static_strict`.
pub fn authz_name(policy: &AuthzPolicyRef) -> String {
    format!("{}/{}", policy.namespace, policy.name)
}

/// The policies and rules one reason names.
pub fn reason_refs(reason: &Reason, locator: Option<&Locator<'_>>) -> Vec<PolicyRuleRef> {
    let rule_ref = |rule: &RuleRef| PolicyRuleRef {
        namespace: rule.policy.namespace.clone(),
        name: rule.policy.name.clone(),
        rule: Some((rule.direction, rule.rule)),
        span: rule.span,
        position: locator.and_then(|l| l.position(rule.span)),
    };
    match reason {
        Reason::AllowedBy(rule) | Reason::NamedPortUnresolved { rule, .. } => vec![rule_ref(rule)],
        Reason::NoRuleAllows { isolated_by } => isolated_by
            .iter()
            .map(|p| PolicyRuleRef {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                rule: None,
                span: p.span,
                position: locator.and_then(|l| l.position(p.span)),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One layer's verdict on one leg as a [`Step`].
pub fn step(
    cluster: &Cluster,
    leg: &Leg,
    verdict: &LayerVerdict,
    locator: Option<&Locator<'_>>,
) -> Step {
    Step {
        layer: verdict.layer,
        decision: verdict.decision,
        sentences: verdict
            .reasons
            .iter()
            .map(|r| reason_sentence(cluster, leg, verdict.layer, r, locator))
            .collect(),
        refs: verdict
            .reasons
            .iter()
            .flat_map(|r| reason_refs(r, locator))
            .collect(),
        assumptions: verdict.assumptions.iter().map(assumption_text).collect(),
    }
}

/// `fe/web[Pod] → be/api[Pod], direct, no proxy`.
pub fn leg_description(cluster: &Cluster, trace: &LegTrace) -> String {
    let role = match trace.role {
        LegRole::Direct => "direct",
        LegRole::ServiceEndpoint => "service endpoint after DNAT",
        LegRole::Probe => "kubelet probe",
    };
    let proxy = match trace.terminated_by {
        Proxy::None => "no proxy".to_string(),
        Proxy::Ztunnel(id) => format!(
            "terminated by the ztunnel of {}",
            workload_name(cluster, id)
        ),
        Proxy::Waypoint(id) => format!("terminated by waypoint {}", workload_name(cluster, id)),
        Proxy::Sidecar(id) => format!(
            "terminated by the sidecar of {}",
            workload_name(cluster, id)
        ),
    };
    format!(
        "{} → {}, {role}, {proxy}",
        endpoint_name(cluster, &trace.leg.src),
        endpoint_name(cluster, &trace.leg.dst)
    )
}

/// The kind of a flow in words (`app`, `probe`, …).
pub fn flow_kind(kind: FlowKind) -> &'static str {
    kind.as_str()
}

fn explain_leg(
    cluster: &Cluster,
    trace: &LegTrace,
    locator: Option<&Locator<'_>>,
) -> LegExplanation {
    LegExplanation {
        tuple: leg_tuple(cluster, &trace.leg),
        description: leg_description(cluster, trace),
        steps: trace
            .verdicts
            .iter()
            .map(|v| step(cluster, &trace.leg, v, locator))
            .collect(),
    }
}

fn policy_type(direction: Direction) -> &'static str {
    match direction {
        Direction::Ingress => "Ingress",
        Direction::Egress => "Egress",
    }
}

fn probe_kind(kind: ProbeKind) -> &'static str {
    match kind {
        ProbeKind::Liveness => "liveness",
        ProbeKind::Readiness => "readiness",
        ProbeKind::Startup => "startup",
    }
}
