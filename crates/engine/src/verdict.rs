//! Layer-agnostic verdict data: wire legs and their endpoints, what one enforcement layer decided
//! about a leg, why (as data), and which CNI-profile assumptions the decision relied on
//! (SEMANTICS.md §0 "Evaluation order per leg", §10.2).
//!
//! Shared by the NetworkPolicy layers and (later) the Istio layers (ztunnel, waypoint, sidecar).
//! Holds no evaluation logic and no prose: `explain` turns reasons into sentences.

use std::fmt;
use std::net::Ipv4Addr;

use crate::model::{NodeId, Protocol, WorkloadId};
use crate::source::Span;

/// The address kubelet probes leave from in Istio ambient mode (SEMANTICS.md §2.6).
pub const PROBE_SNAT_IP: Ipv4Addr = Ipv4Addr::new(169, 254, 7, 127);

/// One end of a wire leg, as the CNI sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// A pod of a workload (its first address is the wire address).
    Pod(WorkloadId),
    /// A node itself: kubelet or another host process (SEMANTICS.md §1.1 rule 9).
    Node(NodeId),
    /// An address outside the modelled cluster.
    External(Ipv4Addr),
    /// Traffic originated on `node` and SNATed to [`PROBE_SNAT_IP`] (ambient kubelet probes).
    ProbeSnat(NodeId),
}

/// A wire leg: what one CNI hop sees (SEMANTICS.md §0). Reply traffic is never a leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Leg {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub protocol: Protocol,
    pub port: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny,
    /// The engine cannot decide; the reasons and assumptions say why.
    Unknown,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Unknown => "unknown",
        }
    }
}

/// An enforcement layer, in the evaluation order of one leg (SEMANTICS.md §0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    NpEgress,
    NpIngress,
    Ztunnel,
    Waypoint,
    Sidecar,
}

impl Layer {
    pub const ALL: [Layer; 5] = [
        Layer::NpEgress,
        Layer::NpIngress,
        Layer::Ztunnel,
        Layer::Waypoint,
        Layer::Sidecar,
    ];

    /// The CLI name: `np-egress`, `np-ingress`, `ztunnel`, `waypoint`, `sidecar`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::NpEgress => "np-egress",
            Layer::NpIngress => "np-ingress",
            Layer::Ztunnel => "ztunnel",
            Layer::Waypoint => "waypoint",
            Layer::Sidecar => "sidecar",
        }
    }

    pub fn parse(s: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Traffic direction relative to the pod a policy selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// A policy object, by position in its cluster list (e.g. `Cluster::network_policies`) and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PolicyRef {
    pub index: usize,
    pub namespace: String,
    pub name: String,
    pub span: Span,
}

/// One rule of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleRef {
    pub policy: PolicyRef,
    pub direction: Direction,
    /// Position in the policy's `ingress` / `egress` list.
    pub rule: usize,
    pub span: Span,
}

/// Why a layer decided as it did. Data only; `explain` renders it.
///
/// Istio layers add their own variants (DENY/ALLOW policy matches, identity, bypasses).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The CNI profile does not enforce NetworkPolicy at all (SEMANTICS.md §10.2 rule 5).
    NotEnforcedByCni { profile: String },
    /// The endpoint this layer would judge is not a pod (external address, node, hostNetwork pod,
    /// probe SNAT source), so no NetworkPolicy selects it in this direction.
    NotSubjectToPolicy {
        endpoint: Endpoint,
        direction: Direction,
    },
    /// No policy selects the pod with this policy type (SEMANTICS.md §1.1 rule 4).
    NotIsolated { direction: Direction },
    /// Ingress from the destination pod's own node is always allowed (SEMANTICS.md §1.1 rule 9).
    NodeExempt { node: NodeId },
    /// This rule matches the leg (SEMANTICS.md §1.1 rule 5).
    AllowedBy(RuleRef),
    /// Isolated, and no rule of these policies matches (SEMANTICS.md §1.1 rule 5).
    NoRuleAllows { isolated_by: Vec<PolicyRef> },
    /// A named port in this rule did not resolve on the destination (SEMANTICS.md §1.5 rule 24).
    NamedPortUnresolved { rule: RuleRef, name: String },
    /// The leg names a workload or node the cluster does not have.
    UnknownEndpoint { endpoint: Endpoint },
    /// An AdminNetworkPolicy `Allow` rule matched first: allowed whatever NetworkPolicy says
    /// (SEMANTICS.md §1.6 rules 27, 29).
    AdminAllowed(AdminRuleRef),
    /// An AdminNetworkPolicy `Deny` rule matched first: denied before NetworkPolicy
    /// (SEMANTICS.md §1.6 rules 27, 29).
    AdminDenied(AdminRuleRef),
    /// An AdminNetworkPolicy `Pass` rule matched first: the other ANP rules were skipped and
    /// NetworkPolicy (else the BaselineAdminNetworkPolicy) decided (SEMANTICS.md §1.6 rule 27).
    /// Context only: listed after the reasons of the tier that decided.
    AdminPassed(AdminRuleRef),
    /// No AdminNetworkPolicy decided and no NetworkPolicy isolates the pod: a
    /// BaselineAdminNetworkPolicy `Allow` rule matched (SEMANTICS.md §1.6 rules 28–29).
    BaselineAllowed(AdminRuleRef),
    /// As [`Reason::BaselineAllowed`], with a `Deny` rule.
    BaselineDenied(AdminRuleRef),

    // --- Istio layers (ztunnel, waypoint, sidecar): SEMANTICS.md §4, §5 ---------------------
    /// A DENY rule matched (§4.2 rule 6, §5.3 step 1).
    AuthzDenied(AuthzRuleRef),
    /// An ALLOW rule matched (§4.2 rule 8, §5.3 step 3).
    AuthzAllowed(AuthzRuleRef),
    /// No ALLOW policy applies to the workload at this enforcement point (§4.2 rule 7, §5.3 step 2).
    AuthzNoAllowPolicies,
    /// ALLOW policies exist and none matched (§4.2 rule 9, §5.3 step 4).
    AuthzNoAllowMatched { checked: Vec<AuthzPolicyRef> },
    /// A CUSTOM rule matched: the external authorizer decides, which the engine cannot know
    /// (§4.2 rule 5). The decision is `Unknown`.
    AuthzCustom(AuthzRuleRef),
    /// A dry-run (`istio.io/dry-run`) rule matched: logged as a shadow result only (§4.1 rule 4).
    AuthzShadow { rule: AuthzRuleRef, deny: bool },
    /// A policy that applies by scope was not used by this enforcement point (targetRefs at
    /// ztunnel, selector policy at a waypoint, unsupported action at ztunnel, dry-run not sent).
    AuthzNotEnforcedHere {
        policy: AuthzPolicyRef,
        why: AuthzIgnored,
    },
    /// A rule's outcome depends on something the engine does not model (a `when` key such as
    /// `connection.sni` or `experimental.*`); the decision is `Unknown`.
    AuthzUndecidable { rule: AuthzRuleRef, key: String },
    /// PeerAuthentication STRICT at a sidecar: the plaintext connection is rejected before
    /// authorization (§4.4 rule 24). `policy` is the PeerAuthentication that made it STRICT.
    MtlsRequired { policy: Option<PolicyRef> },
    /// The leg never reaches the proxy that would judge it (§0 table, §2.6, §3 rule 4/6).
    ProxyBypassed { bypass: Bypass },
    /// No proxy terminates this leg (plain pod, external destination, uncaptured protocol).
    NoProxy,
    /// An Envoy proxy (sidecar, waypoint) judged a connection whose HTTP request was not given,
    /// and the outcome depends on it: `denied` is what the most restrictive request gets (also a
    /// raw TCP client, §4.3 rule 20), `allowed` what the most permissive one gets. The decision
    /// is `Unknown`.
    DependsOnHttpRequest {
        denied: Box<Reason>,
        allowed: Box<Reason>,
    },
}

/// One rule of an AdminNetworkPolicy or of the BaselineAdminNetworkPolicy (SEMANTICS.md §1.6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AdminRuleRef {
    /// `AdminNetworkPolicy` (`index` into `Cluster::admin_network_policies`) or
    /// `BaselineAdminNetworkPolicy` (`Cluster::baseline_admin_network_policy`, index 0).
    pub kind: AdminPolicyKind,
    pub index: usize,
    /// Policy name (cluster-scoped: no namespace).
    pub name: String,
    /// ANP priority; `None` for the BANP.
    pub priority: Option<u32>,
    pub direction: Direction,
    /// Position in the policy's `ingress` / `egress` list.
    pub rule: usize,
    /// The rule's `name` (may be empty).
    pub rule_name: String,
    /// The rule in its source.
    pub span: Span,
}

/// Which admin policy kind a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminPolicyKind {
    Admin,
    Baseline,
}

impl AdminPolicyKind {
    /// The Kubernetes kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminPolicyKind::Admin => "AdminNetworkPolicy",
            AdminPolicyKind::Baseline => "BaselineAdminNetworkPolicy",
        }
    }
}

/// An Istio authorization policy as an enforcement point names it: the namespace and name the
/// proxy logs, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuthzPolicyRef {
    pub namespace: String,
    pub name: String,
    pub origin: AuthzOrigin,
}

/// Where an enforced authorization policy comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AuthzOrigin {
    /// `Cluster::authorization_policies[index]`.
    AuthorizationPolicy(PolicyRef),
    /// istiod's conversion of a workload PeerAuthentication with port-level mTLS (§4.4 rule 25),
    /// `Cluster::peer_authentications[index]`.
    PeerAuthentication(PolicyRef),
    /// istiod's static `istio_converted_static_strict` (§4.4 rule 25); `decided_by` is the
    /// PeerAuthentication that made the workload STRICT.
    StaticStrict { decided_by: Option<PolicyRef> },
    /// istiod's implicit waypoint ALLOW (`PILOT_AUTO_ALLOW_WAYPOINT_POLICY`, §2.5 rule 19);
    /// `Cluster::waypoints[index]`.
    WaypointAllow(PolicyRef),
}

/// One rule of an enforced authorization policy (0-based, as Envoy's `rule[N]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuthzRuleRef {
    pub policy: AuthzPolicyRef,
    pub rule: usize,
    /// The rule in its source, when it has one.
    pub span: Option<Span>,
}

/// Why a policy in scope was not enforced by this proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthzIgnored {
    /// ztunnel ignores every policy with `targetRefs` (§4.1 rule 3, §5.1 step 1).
    TargetRefsAtZtunnel,
    /// Waypoints ignore `selector` policies (§2.5 rule 18).
    SelectorAtWaypoint,
    /// `AUDIT` / `CUSTOM` are not sent to ztunnel (§5.1 step 2).
    UnsupportedActionAtZtunnel,
    /// Dry-run policy without `AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY` (§5.1 step 3).
    DryRunNotSent,
    /// AUDIT never affects the decision (§4.2 rule 10).
    Audit,
}

/// How a leg avoids the proxy that would otherwise judge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bypass {
    /// Ambient kubelet probe SNATed to 169.254.7.127, ACCEPTed before redirection (§2.6 rule 21).
    ProbeSnat,
    /// Sidecar probe rewritten to 15020, which is excluded from capture (§3 rule 4).
    ProbeRewrite,
    /// UDP (other than DNS) and SCTP are never captured (§2.2 rule 5, §3 rule 2).
    NotCaptured,
    /// The source pod bypassed its own sidecar or ztunnel redirection (§3 rule 6).
    OwnProxyBypassed,
    /// Out-of-mesh clients do not know about waypoints and go straight to the pod (§2.5 rule 16).
    WaypointSkipped,
}

/// Evidence grade of a rule or CNI-profile cell (SEMANTICS.md §10 legend).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Evidence {
    /// Primary source read (code at a named commit, or official docs).
    Verified,
    /// Issue / PR / vendor-doc report, not checked in code.
    Reported,
    /// Follows from verified facts; no source says it in so many words.
    Inferred,
    /// Not verified.
    Unverified,
}

impl Evidence {
    /// `V`, `R`, `I`, `U`.
    pub fn letter(self) -> char {
        match self {
            Evidence::Verified => 'V',
            Evidence::Reported => 'R',
            Evidence::Inferred => 'I',
            Evidence::Unverified => 'U',
        }
    }
}

/// A CNI-profile flag a decision depended on (SEMANTICS.md §10.1 columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProfileFlag {
    EnforcesNetworkPolicy,
    IpBlockMatchesPods,
    IpBlockMatchesNodes,
    ProbeSnatCountsAsNode,
    EndPortSupported,
    HostNetworkIsNode,
    /// Named ports are resolved by the CNI (§10.1 "named ports").
    NamedPortsSupported,
    /// SCTP is enforced (§10.1 "SCTP").
    SctpSupported,
    /// Node exemption is "originated on the pod's own node" (true) rather than "wire source is
    /// one of the node's addresses" (false) (§10.2 rule 1).
    NodeExemptionByOrigin,
    // Istio-side inferences (SEMANTICS.md §10.4, §3 rule 3); see `istio::mesh_evidence`.
    /// A waypoint's `ports` match the Service port the client dialled (§10.4 (a), INFERRED).
    WaypointPortIsServicePort,
    /// A waypoint's `ipBlocks` / `source.ip` see the client pod IP (§10.4 (b), INFERRED).
    WaypointSeesClientIp,
    /// Sidecar-to-sidecar mTLS runs on the target port (§3 rule 3, INFERRED).
    SidecarMtlsOnTargetPort,
    /// The destination waypoint sends to a non-ambient backend (plaintext or sidecar HBONE)
    /// (INFERRED from the two-tunnel data path, §2.5 rule 17).
    WaypointToNonAmbientBackend,
    /// With PeerAuthentication DISABLE on a sidecar destination, client sidecars send plaintext
    /// (auto mTLS), so the destination sees no identity (INFERRED).
    AutoMtlsHonoursDisable,
    /// The implicit waypoint ALLOW attaches to workloads that use the waypoint directly or
    /// through one of their Services (§2.5 rule 19, INFERRED).
    WaypointAllowAttachment,
}

impl ProfileFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileFlag::EnforcesNetworkPolicy => "enforcesNetworkPolicy",
            ProfileFlag::IpBlockMatchesPods => "ipBlockMatchesPods",
            ProfileFlag::IpBlockMatchesNodes => "ipBlockMatchesNodes",
            ProfileFlag::ProbeSnatCountsAsNode => "probeSnatCountsAsNode",
            ProfileFlag::EndPortSupported => "endPortSupported",
            ProfileFlag::HostNetworkIsNode => "hostNetworkIsNode",
            ProfileFlag::NamedPortsSupported => "namedPortsSupported",
            ProfileFlag::SctpSupported => "sctpSupported",
            ProfileFlag::NodeExemptionByOrigin => "nodeExemptionByOrigin",
            ProfileFlag::WaypointPortIsServicePort => "waypointPortIsServicePort",
            ProfileFlag::WaypointSeesClientIp => "waypointSeesClientIp",
            ProfileFlag::SidecarMtlsOnTargetPort => "sidecarMtlsOnTargetPort",
            ProfileFlag::WaypointToNonAmbientBackend => "waypointToNonAmbientBackend",
            ProfileFlag::AutoMtlsHonoursDisable => "autoMtlsHonoursDisable",
            ProfileFlag::WaypointAllowAttachment => "waypointAllowAttachment",
        }
    }
}

/// "This verdict holds because the profile says `flag = value`."
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Assumption {
    pub flag: ProfileFlag,
    pub value: bool,
}

/// What one layer decided about one leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerVerdict {
    pub layer: Layer,
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    /// Profile flags the decision relied on, sorted and unique.
    pub assumptions: Vec<Assumption>,
}

impl LayerVerdict {
    pub fn new(layer: Layer, decision: Decision, reasons: Vec<Reason>) -> LayerVerdict {
        LayerVerdict {
            layer,
            decision,
            reasons,
            assumptions: Vec::new(),
        }
    }
    pub fn allow(layer: Layer, reason: Reason) -> LayerVerdict {
        LayerVerdict::new(layer, Decision::Allow, vec![reason])
    }
    pub fn is_allow(&self) -> bool {
        self.decision == Decision::Allow
    }
    /// Records an assumption (kept sorted and unique).
    pub fn assume(&mut self, flag: ProfileFlag, value: bool) {
        let a = Assumption { flag, value };
        if let Err(i) = self.assumptions.binary_search(&a) {
            self.assumptions.insert(i, a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_round_trip() {
        for l in Layer::ALL {
            assert_eq!(Layer::parse(l.as_str()), Some(l));
        }
        assert_eq!(Layer::parse("np-egress"), Some(Layer::NpEgress));
        assert_eq!(Layer::parse("nope"), None);
    }

    #[test]
    fn assumptions_sorted_unique() {
        let mut v = LayerVerdict::new(Layer::NpIngress, Decision::Deny, vec![]);
        v.assume(ProfileFlag::ProbeSnatCountsAsNode, false);
        v.assume(ProfileFlag::IpBlockMatchesPods, true);
        v.assume(ProfileFlag::ProbeSnatCountsAsNode, false);
        assert_eq!(v.assumptions.len(), 2);
        assert_eq!(v.assumptions[0].flag, ProfileFlag::IpBlockMatchesPods);
    }
}
