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
