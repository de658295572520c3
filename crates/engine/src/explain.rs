//! Verdicts into words: the ONLY place verdict prose is made (STYLE.md house rule 1), shared by
//! the CLI and the web app.
//!
//! What it is: names for endpoints and flows (`fe/web[Pod]`, `10.244.1.10 → 10.244.2.20:8080/TCP`),
//! one sentence per [`Reason`], and the layer-by-layer walk of one flow ([`explain`]) as plain
//! data ([`Explanation`]) that front ends lay out, plus a plain-text layout ([`render_text`]).
//! Policies and rules are named `ns/name` and `spec.ingress[0]` (0-based, like Envoy's RBAC log),
//! with `file:line:col` when a [`Locator`] is given. What it is not: no evaluation.

use std::fmt::Write as _;

use crate::flows::{
    AssumptionNote, Flow, FlowKind, FlowSource, FlowTarget, LegRole, LegTrace, Options, Proxy,
};
use crate::istio::logs::{self, AccessLog, AccessLogPeer};
use crate::istio::{Denial, MeshOptions};
use crate::model::{Cluster, NodeId, ProbeKind, WorkloadId};
use crate::source::{LineCol, LineIndex, Source, Span};
use crate::verdict::{
    Assumption, AuthzIgnored, AuthzOrigin, AuthzPolicyRef, Bypass, Decision, Direction, Endpoint,
    Evidence, Layer, LayerVerdict, Leg, PolicyRef, Reason, RuleRef, PROBE_SNAT_IP,
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
    /// One per flag relied on, with its grade and source:
    /// `probeSnatCountsAsNode=true for calico-iptables (INFERRED: SEMANTICS.md §10.0: …)`.
    pub assumptions: Vec<String>,
    /// The assumptions the verdict rests on that are not VERIFIED, short:
    /// `probeSnatCountsAsNode=true for calico-iptables (INFERRED)`.
    pub rests_on: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegExplanation {
    /// `10.244.1.10 → 10.244.2.20:8080/TCP`.
    pub tuple: String,
    /// `fe/web[Pod] → be/api[Pod], service endpoint, no proxy`.
    pub description: String,
    /// What the terminating proxy evaluates: `ztunnel of be/api[Pod] sees peer 10.244.1.10,
    /// identity spiffe://…, port 8080, no HTTP`; `None` without a proxy.
    pub seen: Option<String>,
    /// Why no proxy judges this leg, when one would otherwise (probe SNAT, 15020 rewrite, …).
    pub bypass: Option<String>,
    pub steps: Vec<Step>,
    /// What the tools would print about the proxy's decision.
    pub tools: Vec<ToolLine>,
}

/// One line a tool would print (Envoy RBAC debug log, the client's view, ztunnel's access log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolLine {
    /// `envoy rbac`, `client`, `ztunnel access log`.
    pub tool: &'static str,
    pub text: String,
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
    /// The AuthorizationPolicy rule (0-based, Envoy's `rule[N]`) for Istio policies.
    pub authz_rule: Option<usize>,
    /// The rule's span, else the policy's.
    pub span: Span,
    /// `file:line:col` of `span` when a locator was given.
    pub position: Option<String>,
}

/// Explain one judged flow.
pub fn explain(cluster: &Cluster, flow: &Flow, locator: Option<&Locator<'_>>) -> Explanation {
    let mut blocked = false;
    let legs: Vec<LegExplanation> = flow
        .legs
        .iter()
        .map(|trace| {
            let mut leg = explain_leg(cluster, trace, locator);
            if blocked {
                // An earlier leg was denied: this one is never opened, so no tool sees it.
                leg.tools = vec![ToolLine {
                    tool: "note",
                    text: "this leg is never opened: an earlier leg was denied".to_string(),
                }];
            }
            blocked |= trace.verdicts.iter().any(|v| v.decision == Decision::Deny);
            leg
        })
        .collect();
    Explanation {
        title: flow_title(cluster, flow),
        verdict: flow.verdict,
        decided_by: flow.decided_by,
        summary: summary(cluster, flow, locator),
        legs,
        assumptions: flow
            .assumption_notes
            .iter()
            .map(assumption_note_text)
            .collect(),
        rests_on: flow
            .weak_assumptions()
            .map(|n| format!("{} ({})", assumption_head(n), evidence_word(n.evidence)))
            .collect(),
    }
}

/// `probeSnatCountsAsNode=true for calico-iptables`, `waypointSeesClientIp=true`.
fn assumption_head(note: &AssumptionNote) -> String {
    let a = note.assumption;
    match note.profile {
        Some(p) => format!("{}={} for {p}", a.flag.as_str(), a.value),
        None => format!("{}={}", a.flag.as_str(), a.value),
    }
}

/// `probeSnatCountsAsNode=true for calico-iptables (INFERRED: SEMANTICS.md §10.0: …)`.
pub fn assumption_note_text(note: &AssumptionNote) -> String {
    format!(
        "{} ({}: {})",
        assumption_head(note),
        evidence_word(note.evidence),
        note.source
    )
}

/// `VERIFIED`, `REPORTED`, `INFERRED`, `UNVERIFIED` (SEMANTICS.md §10 legend).
pub fn evidence_word(evidence: Evidence) -> &'static str {
    match evidence {
        Evidence::Verified => "VERIFIED",
        Evidence::Reported => "REPORTED",
        Evidence::Inferred => "INFERRED",
        Evidence::Unverified => "UNVERIFIED",
    }
}

/// The settings a result depends on, for output headers: `assuming CNI generic, root namespace
/// istio-system, trust domain cluster.local`, plus every istiod / istio-cni setting that differs
/// from upstream's default.
pub fn options_header(options: &Options) -> String {
    let mut out = format!(
        "assuming CNI {}, {}",
        options.cni.name,
        mesh_settings(&options.mesh)
    );
    if options.np_profile.name != options.cni.name {
        let _ = write!(out, " (NetworkPolicy as {})", options.np_profile.name);
    }
    out
}

/// `root namespace istio-system, trust domain cluster.local[, PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true…]`.
pub fn mesh_settings(mesh: &MeshOptions) -> String {
    let d = MeshOptions::default();
    let mut out = format!(
        "root namespace {}, trust domain {}",
        mesh.root_namespace, mesh.trust_domain
    );
    let flags = [
        (
            "PILOT_AUTO_ALLOW_WAYPOINT_POLICY",
            mesh.auto_allow_waypoint_policy,
            d.auto_allow_waypoint_policy,
        ),
        (
            "AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY",
            mesh.ambient_dry_run,
            d.ambient_dry_run,
        ),
        (
            "ENABLE_LAYERED_WAYPOINT_AUTHORIZATION_POLICIES",
            mesh.layered_waypoint_policies,
            d.layered_waypoint_policies,
        ),
        (
            "PILOT_ENABLE_SENDING_HBONE",
            mesh.sending_hbone,
            d.sending_hbone,
        ),
        ("istio-cni nftables mode", mesh.cni_nftables, d.cni_nftables),
        (
            "rewriteAppHTTPProbers",
            mesh.rewrite_app_probers,
            d.rewrite_app_probers,
        ),
    ];
    for (name, value, default) in flags {
        if value != default {
            let _ = write!(out, ", {name}={value}");
        }
    }
    out
}

/// The plain-text layout of an explanation (the CLI's `explain`, failures of `check`).
pub fn render_text(explanation: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flow: {}", explanation.title);
    let verdict = verdict_text(explanation.verdict, explanation.decided_by);
    if explanation.rests_on.is_empty() {
        let _ = writeln!(out, "verdict: {verdict}");
    } else {
        let _ = writeln!(
            out,
            "verdict: {verdict} (rests on {})",
            explanation.rests_on.join(", ")
        );
    }
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
        if let Some(seen) = &leg.seen {
            let _ = writeln!(out, "  {:<11} {:<7}  {seen}", "sees", "");
        }
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
        if let Some(bypass) = &leg.bypass {
            let _ = writeln!(out, "  {:<11} {:<7}  {bypass}", "proxy", "-");
        }
        for tool in &leg.tools {
            let _ = writeln!(out, "  {:<19}  {}", format!("{}:", tool.tool), tool.text);
        }
    }
    if explanation.assumptions.is_empty() {
        let _ = writeln!(
            out,
            "assumptions: none (no CNI-specific behaviour involved)"
        );
    } else {
        let _ = writeln!(out, "assumptions:");
        for a in &explanation.assumptions {
            let _ = writeln!(out, "  assumes {a}");
        }
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
        Reason::NodeExempt { node } if matches!(leg.src, Endpoint::ProbeSnat(_)) => format!(
            "the source {PROBE_SNAT_IP} is the probe SNAT of {subject_name}'s own node {}, which this CNI still recognises as node traffic (probeSnatCountsAsNode), and traffic from a pod's own node is always allowed",
            node_name(cluster, *node)
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
        // --- AdminNetworkPolicy / BaselineAdminNetworkPolicy (SEMANTICS.md §1.6) -------------
        Reason::AdminAllowed(r)
        | Reason::AdminDenied(r)
        | Reason::AdminPassed(r)
        | Reason::BaselineAllowed(r)
        | Reason::BaselineDenied(r) => {
            let rule = format!(
                "{} `{}`{} {}{}{}",
                r.kind.as_str(),
                r.name,
                r.priority
                    .map(|p| format!(" (priority {p})"))
                    .unwrap_or_default(),
                rule_path(r.direction, r.rule),
                if r.rule_name.is_empty() {
                    String::new()
                } else {
                    format!(" `{}`", r.rule_name)
                },
                at(r.span)
            );
            match reason {
                Reason::AdminAllowed(_) => format!(
                    "allowed by {rule}, before any NetworkPolicy is consulted"
                ),
                Reason::AdminDenied(_) => format!(
                    "denied by {rule}, before any NetworkPolicy is consulted"
                ),
                Reason::AdminPassed(_) => format!(
                    "{rule} passed this traffic on, skipping the remaining AdminNetworkPolicy rules, so NetworkPolicy (or, if none isolates {subject_name}, the BaselineAdminNetworkPolicy) decided"
                ),
                Reason::BaselineAllowed(_) => format!(
                    "no AdminNetworkPolicy decided and no NetworkPolicy isolates {subject_name}, so {rule} allows it"
                ),
                _ => format!(
                    "no AdminNetworkPolicy decided and no NetworkPolicy isolates {subject_name}, so {rule} denies it"
                ),
            }
        }
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
        Reason::DependsOnHttpRequest { denied, allowed } => format!(
            "depends on the HTTP request, which was not given (ask with `METHOD PATH`): some requests (and raw TCP) are denied — {}; others are allowed — {}",
            reason_sentence(cluster, leg, layer, denied, locator),
            reason_sentence(cluster, leg, layer, allowed, locator)
        ),
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
        authz_rule: None,
        span: rule.span,
        position: locator.and_then(|l| l.position(rule.span)),
    };
    let authz_ref = |policy: &AuthzPolicyRef, rule: Option<usize>, span: Option<Span>| {
        let policy_span = match &policy.origin {
            AuthzOrigin::AuthorizationPolicy(p)
            | AuthzOrigin::PeerAuthentication(p)
            | AuthzOrigin::WaypointAllow(p) => Some(p.span),
            AuthzOrigin::StaticStrict { decided_by } => decided_by.as_ref().map(|p| p.span),
        };
        span.or(policy_span).map(|span| PolicyRuleRef {
            namespace: policy.namespace.clone(),
            name: policy.name.clone(),
            rule: None,
            authz_rule: rule,
            span,
            position: locator.and_then(|l| l.position(span)),
        })
    };
    match reason {
        Reason::AllowedBy(rule) | Reason::NamedPortUnresolved { rule, .. } => vec![rule_ref(rule)],
        Reason::NoRuleAllows { isolated_by } => isolated_by
            .iter()
            .map(|p| PolicyRuleRef {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                rule: None,
                authz_rule: None,
                span: p.span,
                position: locator.and_then(|l| l.position(p.span)),
            })
            .collect(),
        Reason::AuthzDenied(r)
        | Reason::AuthzAllowed(r)
        | Reason::AuthzCustom(r)
        | Reason::AuthzShadow { rule: r, .. }
        | Reason::AuthzUndecidable { rule: r, .. } => authz_ref(&r.policy, Some(r.rule), r.span)
            .into_iter()
            .collect(),
        Reason::AuthzNoAllowMatched { checked } => checked
            .iter()
            .filter_map(|p| authz_ref(p, None, None))
            .collect(),
        Reason::AuthzNotEnforcedHere { policy, .. } => {
            authz_ref(policy, None, None).into_iter().collect()
        }
        Reason::MtlsRequired { policy: Some(p) } => vec![PolicyRuleRef {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            rule: None,
            authz_rule: None,
            span: p.span,
            position: locator.and_then(|l| l.position(p.span)),
        }],
        Reason::DependsOnHttpRequest { denied, allowed } => {
            let mut refs = reason_refs(denied, locator);
            refs.extend(reason_refs(allowed, locator));
            refs
        }
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
    let role = leg_role_text(trace.role);
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

/// A leg's role in words: `direct`, `HBONE to 15008`, `probe SNATed to 169.254.7.127`, ….
pub fn leg_role_text(role: LegRole) -> &'static str {
    match role {
        LegRole::Direct => "direct",
        LegRole::ServiceEndpoint => "service endpoint after DNAT",
        LegRole::Probe => "kubelet probe",
        LegRole::SidecarMtls => "sidecar mTLS on the target port",
        LegRole::Hbone => "HBONE tunnel to 15008",
        LegRole::ToWaypoint => "HBONE to the waypoint",
        LegRole::FromWaypoint => "from the waypoint to the destination",
        LegRole::Plaintext => "plaintext into the proxy, no identity",
        LegRole::ProbeSnat => "kubelet probe SNATed to 169.254.7.127",
        LegRole::ProbeRewrite => "kubelet probe rewritten to 15020",
        LegRole::NotCaptured => "not captured by the mesh",
    }
}

/// The JSON name of a leg's role: `direct`, `service-endpoint`, `probe`, `sidecar-mtls`,
/// `hbone`, `to-waypoint`, `from-waypoint`, `plaintext`, `probe-snat`, `probe-rewrite`,
/// `not-captured`.
pub fn leg_role_name(role: LegRole) -> &'static str {
    match role {
        LegRole::Direct => "direct",
        LegRole::ServiceEndpoint => "service-endpoint",
        LegRole::Probe => "probe",
        LegRole::SidecarMtls => "sidecar-mtls",
        LegRole::Hbone => "hbone",
        LegRole::ToWaypoint => "to-waypoint",
        LegRole::FromWaypoint => "from-waypoint",
        LegRole::Plaintext => "plaintext",
        LegRole::ProbeSnat => "probe-snat",
        LegRole::ProbeRewrite => "probe-rewrite",
        LegRole::NotCaptured => "not-captured",
    }
}

/// What the terminating proxy evaluates, in words.
pub fn seen_text(cluster: &Cluster, trace: &LegTrace) -> Option<String> {
    let conn = trace.seen.as_ref()?;
    let who = match trace.terminated_by {
        Proxy::None => return None,
        Proxy::Ztunnel(id) => format!("ztunnel of {}", workload_name(cluster, id)),
        Proxy::Waypoint(id) => format!("waypoint {}", workload_name(cluster, id)),
        Proxy::Sidecar(id) => format!("sidecar of {}", workload_name(cluster, id)),
    };
    let identity = match &conn.src_identity {
        Some(id) => format!("identity {id}"),
        None => "no identity (plaintext)".to_string(),
    };
    let port = match (trace.terminated_by, trace.service) {
        (Proxy::Waypoint(_), Some(_)) => format!("port {} (the Service port)", conn.dst_port),
        (Proxy::Waypoint(_), None) => format!("port {} (as dialled)", conn.dst_port),
        _ => format!("port {} (the target port)", conn.dst_port),
    };
    let http = match (trace.terminated_by, &conn.http) {
        (Proxy::Ztunnel(_), _) => "L4 only".to_string(),
        (_, Some(h)) => format!("request {} {}", h.method, h.path),
        (_, None) if trace.output.as_ref().is_some_and(|o| o.request_unknown) => {
            "no HTTP request given: judged for any request".to_string()
        }
        (_, None) => "raw TCP (port declared `tcp`)".to_string(),
    };
    Some(format!(
        "{who} sees peer {}, {identity}, {port}, {http}",
        conn.src_ip
    ))
}

/// Why no proxy judges a leg that a proxy would otherwise see.
pub fn bypass_text(cluster: &Cluster, trace: &LegTrace) -> Option<String> {
    let dst = endpoint_name(cluster, &trace.leg.dst);
    let src = endpoint_name(cluster, &trace.leg.src);
    Some(match trace.bypassed? {
        Bypass::ProbeSnat => format!(
            "the node-local connection is SNATed to 169.254.7.127 and ACCEPTed in {dst} before redirection: no ztunnel, no AuthorizationPolicy, no PeerAuthentication (SEMANTICS.md §2.6)"
        ),
        Bypass::ProbeRewrite => format!(
            "the injector rewrote the probe to port 15020 (pilot-agent), which {dst}'s sidecar does not capture: no Envoy, no AuthorizationPolicy, no PeerAuthentication (SEMANTICS.md §3 rule 4)"
        ),
        Bypass::NotCaptured => format!(
            "{} is not captured by sidecars or ztunnel: only NetworkPolicy applies (SEMANTICS.md §2.2 rule 5, §3 rule 2)",
            trace.leg.protocol.as_str()
        ),
        Bypass::OwnProxyBypassed => format!(
            "{src} bypasses its own proxy (compromised pod removing its redirection): plaintext from its pod IP with no identity (SEMANTICS.md §3 rule 6)"
        ),
        Bypass::WaypointSkipped => "clients outside the mesh do not know about waypoints and go straight to the pod (SEMANTICS.md §2.5 rule 16)".to_string(),
    })
}

/// What the tools would print about a leg's proxy decision: the Envoy RBAC debug lines, the
/// client's view (403 `RBAC: access denied` or a reset), ztunnel's access-log line.
pub fn tool_lines(cluster: &Cluster, trace: &LegTrace) -> Vec<ToolLine> {
    // NetworkPolicy drops the packets before any proxy sees the connection.
    if trace.verdicts.iter().any(|v| {
        matches!(v.layer, Layer::NpEgress | Layer::NpIngress) && v.decision == Decision::Deny
    }) {
        let proxy = match trace.terminated_by {
            Proxy::None => String::new(),
            Proxy::Ztunnel(_) => "; ztunnel never sees it (no access-log line)".to_string(),
            Proxy::Waypoint(_) | Proxy::Sidecar(_) => {
                "; Envoy never sees it (no RBAC log line)".to_string()
            }
        };
        return vec![ToolLine {
            tool: "client",
            text: format!(
                "connection times out: NetworkPolicy drops the packets (curl exit 28){proxy}"
            ),
        }];
    }
    let Some(out) = &trace.output else {
        return Vec::new();
    };
    let Some(verdict) = trace.verdicts.last() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for log in &out.rbac_log {
        lines.push(ToolLine {
            tool: "envoy rbac",
            text: logs::envoy_rbac_line(log),
        });
    }
    let http = format!(
        "HTTP {} `{}`",
        logs::HTTP_DENIED_STATUS,
        logs::HTTP_DENIED_BODY
    );
    let reset = "connection reset, no HTTP status (curl exit 56)";
    match (out.denial, out.request_unknown) {
        (Some(Denial::Http403), _) => lines.push(ToolLine {
            tool: "client",
            text: http,
        }),
        (Some(Denial::Reset), true)
            if matches!(trace.terminated_by, Proxy::Sidecar(_) | Proxy::Waypoint(_))
                && !verdict
                    .reasons
                    .iter()
                    .any(|r| matches!(r, Reason::MtlsRequired { .. })) =>
        {
            lines.push(ToolLine {
                tool: "client",
                text: format!("{http} for an HTTP request; {reset} for raw TCP"),
            });
        }
        (Some(Denial::Reset), _) => lines.push(ToolLine {
            tool: "client",
            text: reset.to_string(),
        }),
        (None, _) => {}
    }
    if let Proxy::Ztunnel(dst) = trace.terminated_by {
        if verdict.decision != Decision::Unknown {
            lines.push(ToolLine {
                tool: "ztunnel access log",
                text: logs::ztunnel_access_log(&access_log(cluster, trace, dst)),
            });
        }
    }
    lines
}

/// The destination ztunnel's access-log entry for a leg (the source port is not modelled and
/// is left out of `src.addr`).
fn access_log(cluster: &Cluster, trace: &LegTrace, dst: WorkloadId) -> AccessLog {
    let peer = |endpoint: &Endpoint| {
        let w = match endpoint {
            Endpoint::Pod(id) => cluster.workloads.iter().find(|w| w.id == *id),
            _ => None,
        };
        (w.map(|w| w.name.clone()), w.map(|w| w.namespace.clone()))
    };
    let (src_workload, src_namespace) = peer(&trace.leg.src);
    let (dst_workload, dst_namespace) = peer(&Endpoint::Pod(dst));
    let seen = trace.seen.as_ref();
    let dst_addr = endpoint_address(cluster, &trace.leg.dst);
    let hbone = matches!(
        trace.role,
        LegRole::Hbone | LegRole::FromWaypoint | LegRole::ToWaypoint
    ) && trace.leg.port == crate::istio::legs::HBONE_PORT;
    AccessLog {
        src: AccessLogPeer {
            addr: endpoint_address(cluster, &trace.leg.src),
            workload: src_workload,
            namespace: src_namespace,
            identity: seen.and_then(|c| c.src_identity.clone()),
        },
        dst: AccessLogPeer {
            addr: format!("{dst_addr}:{}", trace.leg.port),
            workload: dst_workload,
            namespace: dst_namespace,
            identity: trace.output.as_ref().and_then(|o| o.dst_identity.clone()),
        },
        hbone_addr: hbone
            .then(|| seen.map(|c| format!("{dst_addr}:{}", c.dst_port)))
            .flatten(),
        service: trace
            .service
            .and_then(|i| cluster.services.get(i))
            .map(|s| format!("{}.{}.svc.cluster.local", s.name, s.namespace)),
        inbound: true,
        error: trace
            .output
            .as_ref()
            .and_then(|o| o.ztunnel.as_ref())
            .map(logs::ztunnel_error),
    }
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
        seen: seen_text(cluster, trace),
        bypass: bypass_text(cluster, trace),
        steps: trace
            .verdicts
            .iter()
            .map(|v| step(cluster, &trace.leg, v, locator))
            .collect(),
        tools: tool_lines(cluster, trace),
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
