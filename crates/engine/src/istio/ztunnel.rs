//! ztunnel's L4 authorization, exactly as upstream computes it: istiod's conversion of an
//! `AuthorizationPolicy` into ztunnel's `Authorization` with its status message (SEMANTICS.md
//! §5.1, `pilot/pkg/serviceregistry/ambient/authorization.go` `convertAuthorizationPolicy`,
//! `handleRule`), the matcher (§5.2, ztunnel `src/rbac.rs`), the candidate policies of a
//! destination workload and the decision (§5.3, ztunnel `src/state.rs` `assert_rbac`).
//!
//! Shaped like ztunnel's `rbac.rs` with every level named: [`Authorization`] → [`Group`] (one per
//! policy rule, any matches) → [`Clause`] (all must match) → [`Match`] (any non-empty one).

use std::net::Ipv4Addr;

use ipnet::IpNet;

use crate::model::{Cluster, Workload};
use crate::selector::Labels;
use crate::source::Span;
use crate::verdict::{
    AuthzIgnored, AuthzOrigin, AuthzPolicyRef, AuthzRuleRef, Decision, Layer, LayerVerdict,
    ProfileFlag, Reason,
};

use super::legs::MeshLeg;
use super::mesh::{self, match_labels};
use super::model::{Action, AuthorizationPolicy, Rule, StringMatch, Target, L4_WHEN_KEYS};
use super::{ap_ref, peerauth, Connection, Identity, Judgement, MeshOptions};

/// ztunnel's policy scope (§5.1 step 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Namespace,
    WorkloadSelector,
}

/// ztunnel's actions: L4 only knows ALLOW and DENY.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZAction {
    Allow,
    Deny,
}

/// A converted policy as ztunnel holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub name: String,
    pub namespace: String,
    pub scope: Scope,
    pub action: ZAction,
    /// One per surviving policy rule (ALLOW rules with HTTP attributes are dropped).
    pub groups: Vec<Group>,
    pub dry_run: bool,
    /// `selector.matchLabels` for WORKLOAD_SELECTOR scope.
    pub selector: Option<Labels>,
    pub origin: AuthzOrigin,
}

/// One policy rule: every clause must match. No clauses ⇒ matches everything (`rules: [{}]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub clauses: Vec<Clause>,
    /// Index of the policy rule it came from (0-based).
    pub rule: usize,
    pub span: Option<Span>,
}

/// `to`, `from`, or one `when`: any non-empty match must match.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Clause {
    pub matches: Vec<Match>,
}

/// ztunnel `RbacMatch`: paired positive / negative lists, all `Default`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Match {
    pub namespaces: Vec<StringMatch>,
    pub not_namespaces: Vec<StringMatch>,
    pub service_accounts: Vec<ServiceAccountMatch>,
    pub not_service_accounts: Vec<ServiceAccountMatch>,
    pub principals: Vec<StringMatch>,
    pub not_principals: Vec<StringMatch>,
    pub source_ips: Vec<IpNet>,
    pub not_source_ips: Vec<IpNet>,
    pub destination_ips: Vec<IpNet>,
    pub not_destination_ips: Vec<IpNet>,
    pub destination_ports: Vec<u16>,
    pub not_destination_ports: Vec<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceAccountMatch {
    pub namespace: String,
    pub service_account: String,
}

/// istiod's `StatusMessage` on the AuthorizationPolicy (§6.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessage {
    /// Always `UnsupportedValue` here.
    pub reason: &'static str,
    pub message: String,
}

/// The result of converting one policy for ztunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversion {
    /// `None`: not sent to ztunnel.
    pub authorization: Option<Authorization>,
    pub status: Option<StatusMessage>,
    /// Why it was not sent, when it was not.
    pub not_sent: Option<AuthzIgnored>,
}

/// Why ztunnel rejected a connection (`src/proxy.rs` `AuthorizationRejectionError`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// `explicitly denied by: <ns>/<name>`.
    ExplicitlyDenied { namespace: String, name: String },
    /// `allow policies exist, but none allowed`.
    NotAllowed,
}

// ---------------------------------------------------------------------------------------------
// Conversion (§5.1)
// ---------------------------------------------------------------------------------------------

/// `convertAuthorizationPolicy`: the policy as ztunnel receives it, and istiod's status.
pub fn convert(
    policy: &AuthorizationPolicy,
    index: usize,
    cluster: &Cluster,
    options: &MeshOptions,
) -> Conversion {
    let not_sent = |why, status: Option<String>| Conversion {
        authorization: None,
        status: status.map(|message| StatusMessage {
            reason: "UnsupportedValue",
            message,
        }),
        not_sent: Some(why),
    };
    // "Dry-run annotation without the feature flag ⇒ not sent (status UnsupportedValue)."
    if policy.dry_run && !options.ambient_dry_run {
        return not_sent(
            AuthzIgnored::DryRunNotSent,
            Some(super::logs::dry_run_status(&policy.namespace, &policy.name)),
        );
    }
    // "Policy has targetRef/targetRefs ⇒ not sent to ztunnel (no status)."
    let selector = match &policy.target {
        Target::TargetRefs(_) => return not_sent(AuthzIgnored::TargetRefsAtZtunnel, None),
        Target::Selector(labels) => Some(labels.clone()),
        Target::Namespace => None,
    };
    // "Action AUDIT/CUSTOM ⇒ not sent; status `ztunnel does not support the <X> action`."
    let action = match policy.action {
        Action::Allow => ZAction::Allow,
        Action::Deny => ZAction::Deny,
        Action::Audit | Action::Custom => {
            return not_sent(
                AuthzIgnored::UnsupportedActionAtZtunnel,
                Some(super::logs::unsupported_action_status(policy.action)),
            )
        }
    };
    // "Scope: selector present ⇒ WORKLOAD_SELECTOR; no selector ⇒ NAMESPACE; no selector in
    // root ns ⇒ GLOBAL."
    let scope = match (&selector, policy.namespace == options.root_namespace) {
        (Some(_), _) => Scope::WorkloadSelector,
        (None, true) => Scope::Global,
        (None, false) => Scope::Namespace,
    };
    let mut groups = Vec::new();
    let mut http_found: Vec<String> = Vec::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let (clauses, found) = handle_rule(action, rule, &policy.namespace);
        for f in found {
            if !http_found.contains(&f) {
                http_found.push(f);
            }
        }
        if let Some(clauses) = clauses {
            groups.push(Group {
                clauses,
                rule: i,
                span: Some(rule.span),
            });
        }
    }
    let status = (!http_found.is_empty()).then(|| {
        http_found.sort();
        let outcome = match action {
            ZAction::Deny if !has_effective_rules(&groups) => HttpOutcome::DenyNoEffect,
            ZAction::Deny => HttpOutcome::DenyMixed,
            ZAction::Allow => HttpOutcome::AllowRulesOmitted,
        };
        StatusMessage {
            reason: "UnsupportedValue",
            message: super::logs::http_attributes_status(&http_found, outcome),
        }
    });
    Conversion {
        authorization: Some(Authorization {
            name: policy.name.clone(),
            namespace: policy.namespace.clone(),
            scope,
            action,
            groups,
            dry_run: policy.dry_run,
            selector,
            origin: AuthzOrigin::AuthorizationPolicy(ap_ref_or_default(cluster, index, policy)),
        }),
        status,
        not_sent: None,
    }
}

/// Which boilerplate istiod appends after the list of HTTP attributes (§5.1 steps 7–8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpOutcome {
    AllowRulesOmitted,
    DenyNoEffect,
    DenyMixed,
}

/// `handleRule`: the clauses of one rule (`None` = dropped) and the HTTP attributes found.
/// "ALLOW rule containing any L7 attribute ⇒ the whole rule is dropped"; DENY keeps the L4
/// remainder, and an L7-only entry leaves an empty Match that never matches (§5.1 steps 7–8).
/// `trustDomains` / `notTrustDomains` are silently not copied (§10.4 (c)).
fn handle_rule(
    action: ZAction,
    rule: &Rule,
    rule_namespace: &str,
) -> (Option<Vec<Clause>>, Vec<String>) {
    let mut found: Vec<String> = Vec::new();
    let to: Vec<Match> = rule
        .to
        .iter()
        .map(|op| {
            found.extend(op.http_fields().into_iter().map(str::to_string));
            Match {
                destination_ports: to_ports(&op.ports),
                not_destination_ports: to_ports(&op.not_ports),
                ..Match::default()
            }
        })
        .collect();
    let from: Vec<Match> = rule
        .from
        .iter()
        .map(|s| {
            found.extend(s.http_fields().into_iter().map(str::to_string));
            Match {
                source_ips: to_ips(&s.ip_blocks),
                not_source_ips: to_ips(&s.not_ip_blocks),
                namespaces: to_matches(&s.namespaces),
                not_namespaces: to_matches(&s.not_namespaces),
                service_accounts: to_service_accounts(&s.service_accounts, rule_namespace),
                not_service_accounts: to_service_accounts(&s.not_service_accounts, rule_namespace),
                principals: to_matches(&s.principals),
                not_principals: to_matches(&s.not_principals),
                ..Match::default()
            }
        })
        .collect();
    let mut clauses = Vec::new();
    if !to.is_empty() {
        clauses.push(Clause { matches: to });
    }
    if !from.is_empty() {
        clauses.push(Clause { matches: from });
    }
    for when in &rule.when {
        if !L4_WHEN_KEYS.contains(&when.key.as_str()) {
            found.push(when.key.clone());
        }
        let values = |invert: bool| {
            if invert {
                &when.not_values
            } else {
                &when.values
            }
        };
        let key = when.key.as_str();
        let mut m = Match::default();
        match key {
            "source.namespace" => {
                m.namespaces = to_matches(values(false));
                m.not_namespaces = to_matches(values(true));
            }
            "source.principal" => {
                m.principals = to_matches(values(false));
                m.not_principals = to_matches(values(true));
            }
            "source.ip" => {
                m.source_ips = to_ips(values(false));
                m.not_source_ips = to_ips(values(true));
            }
            "destination.port" => {
                m.destination_ports = to_ports(values(false));
                m.not_destination_ports = to_ports(values(true));
            }
            "destination.ip" => {
                m.destination_ips = to_ips(values(false));
                m.not_destination_ips = to_ips(values(true));
            }
            _ => {}
        }
        clauses.push(Clause { matches: vec![m] });
    }
    if action == ZAction::Allow && !found.is_empty() {
        // "L7 policies never match for ALLOW".
        return (None, found);
    }
    (Some(clauses), found)
}

/// istiod `hasEffectiveRules`: some group has no clauses, or every clause has a non-empty match.
pub fn has_effective_rules(groups: &[Group]) -> bool {
    groups.iter().any(|g| {
        g.clauses.is_empty()
            || g.clauses
                .iter()
                .all(|c| c.matches.iter().any(|m| !m.is_empty()))
    })
}

/// `stringToPort`: invalid values are skipped.
fn to_ports(values: &[String]) -> Vec<u16> {
    values
        .iter()
        .filter_map(|v| v.parse::<u16>().ok())
        .collect()
}

/// `stringToIP`: a bare address is a host prefix; invalid values are skipped.
pub(crate) fn to_ips(values: &[String]) -> Vec<IpNet> {
    values
        .iter()
        .filter_map(|v| {
            if v.contains('/') {
                v.parse::<IpNet>().ok()
            } else {
                v.parse::<std::net::IpAddr>().ok().map(IpNet::from)
            }
        })
        .collect()
}

fn to_matches(values: &[String]) -> Vec<StringMatch> {
    values.iter().map(|v| StringMatch::parse(v)).collect()
}

/// `stringToServiceAccountMatch`: `<ns>/<sa>`, or a bare `<sa>` in the policy's namespace.
fn to_service_accounts(values: &[String], rule_namespace: &str) -> Vec<ServiceAccountMatch> {
    values
        .iter()
        .map(|v| match v.split_once('/') {
            Some((ns, sa)) => ServiceAccountMatch {
                namespace: ns.to_string(),
                service_account: sa.to_string(),
            },
            None => ServiceAccountMatch {
                namespace: rule_namespace.to_string(),
                service_account: v.clone(),
            },
        })
        .collect()
}

fn ap_ref_or_default(
    cluster: &Cluster,
    index: usize,
    policy: &AuthorizationPolicy,
) -> crate::verdict::PolicyRef {
    ap_ref(cluster, index).unwrap_or(crate::verdict::PolicyRef {
        index,
        namespace: policy.namespace.clone(),
        name: policy.name.clone(),
        span: policy.span,
    })
}

// ---------------------------------------------------------------------------------------------
// Matching (§5.2, ztunnel src/rbac.rs)
// ---------------------------------------------------------------------------------------------

impl Authorization {
    /// The first group (policy rule) that matches; `None` if none does. "Policy with no groups ⇒
    /// false"; "matches if ANY group matches; a group matches if ALL its clauses match".
    pub fn matching_group(&self, conn: &Connection) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.clauses.iter().all(|c| c.matches(conn)))
    }

    pub fn matches(&self, conn: &Connection) -> bool {
        self.matching_group(conn).is_some()
    }

    pub fn policy_ref(&self) -> AuthzPolicyRef {
        AuthzPolicyRef {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            origin: self.origin.clone(),
        }
    }
}

impl Clause {
    /// "A clause with no Matches ⇒ true. Otherwise true if ANY non-empty Match matches
    /// (completely empty Match objects are skipped = never match)."
    pub fn matches(&self, conn: &Connection) -> bool {
        self.matches.is_empty()
            || self
                .matches
                .iter()
                .any(|m| !m.is_empty() && m.matches(conn))
    }
}

impl Match {
    pub fn is_empty(&self) -> bool {
        self == &Match::default()
    }

    /// Every pair must hold (§5.2 d).
    pub fn matches(&self, conn: &Connection) -> bool {
        let dst_ip = std::net::IpAddr::V4(conn.dst_ip);
        let src_ip = std::net::IpAddr::V4(conn.src_ip);
        let id = conn.src_identity.as_ref();
        pair(&self.destination_ips, &self.not_destination_ips, |n| {
            n.contains(&dst_ip)
        }) && pair(&self.source_ips, &self.not_source_ips, |n| {
            n.contains(&src_ip)
        }) && pair(
            &self.destination_ports,
            &self.not_destination_ports,
            |p| *p == conn.dst_port,
        )
            // "service_accounts == (identity ns, identity sa) [no identity ⇒ false; trust
            // domain ignored]"
            && pair(&self.service_accounts, &self.not_service_accounts, |sa| {
                id.is_some_and(|id| {
                    id.namespace == sa.namespace && id.service_account == sa.service_account
                })
            })
            // "principals: identity string must start with spiffe:// (stripped) then
            // string-match [no identity ⇒ false]"
            && pair(&self.principals, &self.not_principals, |m| {
                id.is_some_and(|id| m.matches(&id.principal()))
            })
            // "namespaces: identity namespace (or "" if none) string-matched"
            && pair(&self.namespaces, &self.not_namespaces, |m| {
                m.matches(id.map_or("", |id| id.namespace.as_str()))
            })
    }
}

/// ztunnel `matches_internal`: positive list empty ⇒ ok, else any value matches; negative list
/// empty ⇒ ok, else no value matches.
fn pair<T>(positive: &[T], negative: &[T], predicate: impl Fn(&T) -> bool) -> bool {
    (positive.is_empty() || positive.iter().any(&predicate))
        && (negative.is_empty() || !negative.iter().any(&predicate))
}

// ---------------------------------------------------------------------------------------------
// Candidates and decision (§5.3, ztunnel src/state.rs assert_rbac)
// ---------------------------------------------------------------------------------------------

/// What ztunnel holds for a destination workload, and what istiod did not send.
#[derive(Clone, Debug, Default)]
pub struct Candidates {
    pub policies: Vec<Authorization>,
    /// Policies in scope that ztunnel does not enforce, with why.
    pub not_enforced: Vec<(AuthzPolicyRef, AuthzIgnored)>,
    /// Istio-side inferences relied on.
    pub assumptions: Vec<ProfileFlag>,
}

/// "Candidate policies = namespace-scoped policies of the destination workload's namespace +
/// global (root-ns, no selector) + policies istiod attached to the workload (selector matches,
/// synthetic strict policy, converted port-level PeerAuthentication, optional implicit waypoint
/// allow)."
pub fn candidates(cluster: &Cluster, options: &MeshOptions, workload: &Workload) -> Candidates {
    let mut res = Candidates::default();
    for (index, policy) in cluster.authorization_policies.iter().enumerate() {
        let in_scope = match &policy.target {
            Target::Namespace => {
                policy.namespace == workload.namespace || policy.namespace == options.root_namespace
            }
            Target::Selector(labels) => {
                (policy.namespace == workload.namespace
                    || policy.namespace == options.root_namespace)
                    && match_labels(labels, &workload.labels)
            }
            Target::TargetRefs(refs) => {
                policy.namespace == workload.namespace
                    && refs
                        .iter()
                        .any(|r| targets_workload(cluster, policy, r, workload))
            }
        };
        if !in_scope {
            continue;
        }
        let conversion = convert(policy, index, cluster, options);
        match (conversion.authorization, conversion.not_sent) {
            (Some(a), _) => res.policies.push(a),
            (None, Some(why)) => res.not_enforced.push((
                AuthzPolicyRef {
                    namespace: policy.namespace.clone(),
                    name: policy.name.clone(),
                    origin: AuthzOrigin::AuthorizationPolicy(ap_ref_or_default(
                        cluster, index, policy,
                    )),
                },
                why,
            )),
            (None, None) => {}
        }
    }
    res.policies
        .extend(peerauth::ztunnel_policies(cluster, options, workload));
    if options.auto_allow_waypoint_policy {
        let waypoints = mesh::waypoints_in_front_of(cluster, workload);
        if !waypoints.is_empty() {
            res.assumptions.push(ProfileFlag::WaypointAllowAttachment);
        }
        for i in waypoints {
            if let Some(a) = waypoint_allow(cluster, options, i) {
                res.policies.push(a);
            }
        }
    }
    res
}

/// Does a targetRef name this workload's Service or a waypoint in front of it (for notes only)?
fn targets_workload(
    cluster: &Cluster,
    policy: &AuthorizationPolicy,
    target: &super::model::TargetRef,
    workload: &Workload,
) -> bool {
    match target.kind.as_str() {
        "Service" => cluster.services.iter().any(|s| {
            s.namespace == policy.namespace
                && s.name == target.name
                && mesh::service_selects(s, workload)
        }),
        "Gateway" => mesh::waypoints_in_front_of(cluster, workload)
            .into_iter()
            .any(|i| {
                cluster
                    .waypoints
                    .get(i)
                    .is_some_and(|w| w.name == target.name && w.namespace == policy.namespace)
            }),
        _ => false,
    }
}

/// istiod's implicit `istio_allow_waypoint_<ns>_<name>` ALLOW for the waypoint's identity
/// (§2.5 rule 19).
fn waypoint_allow(cluster: &Cluster, options: &MeshOptions, index: usize) -> Option<Authorization> {
    let wp = cluster.waypoints.get(index)?;
    let sa = wp
        .workload
        .and_then(|id| super::find_workload(cluster, id))
        .map_or_else(|| wp.name.clone(), |w| w.service_account.clone());
    let identity = Identity {
        trust_domain: options.trust_domain.clone(),
        namespace: wp.namespace.clone(),
        service_account: sa,
    };
    Some(Authorization {
        name: format!("istio_allow_waypoint_{}_{}", wp.namespace, wp.name),
        namespace: wp.namespace.clone(),
        scope: Scope::WorkloadSelector,
        action: ZAction::Allow,
        groups: vec![Group {
            clauses: vec![Clause {
                matches: vec![Match {
                    principals: vec![StringMatch::Exact(identity.principal())],
                    ..Match::default()
                }],
            }],
            rule: 0,
            span: None,
        }],
        dry_run: false,
        selector: None,
        origin: AuthzOrigin::WaypointAllow(crate::verdict::PolicyRef {
            index,
            namespace: wp.namespace.clone(),
            name: wp.name.clone(),
            span: wp.span,
        }),
    })
}

/// `assert_rbac`: the decision over `policies` for one connection, with reasons and the
/// rejection ztunnel reports.
pub fn decide(policies: &[Authorization], conn: &Connection) -> (LayerVerdict, Option<Rejection>) {
    let layer = Layer::Ztunnel;
    let rule_ref = |p: &Authorization, g: &Group| AuthzRuleRef {
        policy: p.policy_ref(),
        rule: g.rule,
        span: g.span,
    };
    // "Dry-run ones only log."
    let (dry, live): (Vec<&Authorization>, Vec<&Authorization>) =
        policies.iter().partition(|p| p.dry_run);
    let mut shadow: Vec<Reason> = dry
        .iter()
        .filter_map(|p| {
            p.matching_group(conn).map(|g| Reason::AuthzShadow {
                rule: rule_ref(p, g),
                deny: p.action == ZAction::Deny,
            })
        })
        .collect();
    let with_shadow = |mut reasons: Vec<Reason>, shadow: &mut Vec<Reason>| {
        reasons.append(shadow);
        reasons
    };
    // "If there are any DENY policies that match the request, deny the request."
    for p in live.iter().filter(|p| p.action == ZAction::Deny) {
        if let Some(g) = p.matching_group(conn) {
            let reasons = with_shadow(vec![Reason::AuthzDenied(rule_ref(p, g))], &mut shadow);
            return (
                LayerVerdict::new(layer, Decision::Deny, reasons),
                Some(Rejection::ExplicitlyDenied {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                }),
            );
        }
    }
    let allow: Vec<&&Authorization> = live.iter().filter(|p| p.action == ZAction::Allow).collect();
    // "If there are no ALLOW policies for the workload, allow the request."
    if allow.is_empty() {
        let reasons = with_shadow(vec![Reason::AuthzNoAllowPolicies], &mut shadow);
        return (LayerVerdict::new(layer, Decision::Allow, reasons), None);
    }
    // "If any of the ALLOW policies match the request, allow the request."
    for p in &allow {
        if let Some(g) = p.matching_group(conn) {
            let reasons = with_shadow(vec![Reason::AuthzAllowed(rule_ref(p, g))], &mut shadow);
            return (LayerVerdict::new(layer, Decision::Allow, reasons), None);
        }
    }
    // "Deny the request."
    let checked = allow.iter().map(|p| p.policy_ref()).collect();
    let reasons = with_shadow(vec![Reason::AuthzNoAllowMatched { checked }], &mut shadow);
    (
        LayerVerdict::new(layer, Decision::Deny, reasons),
        Some(Rejection::NotAllowed),
    )
}

/// The destination ztunnel's verdict on one leg (inbound HBONE or plaintext; §5.3 "Enforcement
/// point = destination (server-side) ztunnel only").
pub fn judge(
    cluster: &Cluster,
    options: &MeshOptions,
    workload: &Workload,
    conn: &Connection,
    _leg: &MeshLeg,
) -> Judgement {
    let candidates = candidates(cluster, options, workload);
    let (mut verdict, rejection) = decide(&candidates.policies, conn);
    for (policy, why) in candidates.not_enforced {
        verdict
            .reasons
            .push(Reason::AuthzNotEnforcedHere { policy, why });
    }
    for flag in candidates.assumptions {
        verdict.assume(flag, true);
    }
    Judgement {
        denial: (verdict.decision == Decision::Deny).then_some(super::Denial::Reset),
        verdict,
        ztunnel: rejection,
        rbac_log: Vec::new(),
    }
}

/// Convenience for tests and lints: the source address as an `IpNet` host.
pub fn host(ip: Ipv4Addr) -> IpNet {
    IpNet::from(std::net::IpAddr::V4(ip))
}
