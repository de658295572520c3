//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`,
//! SEMANTICS.md §1.6): the typed model and the matching of one rule against one peer and port.
//! The tiered evaluation (ANP → NetworkPolicy → BANP → default allow, §1.6 rule 29) lives with
//! the NetworkPolicy layers in `netpol` and `npmatrix`. Knows nothing about YAML.
//!
//! Rules are read as written: unlike NetworkPolicy, an (B)ANP isolates nothing; traffic no rule
//! matches falls through to the next tier.

use std::net::Ipv4Addr;

use ipnet::IpNet;

use crate::iprange::cidr_range;
use crate::model::{Protocol, Workload};
use crate::portset::PortSet;
use crate::selector::{LabelSelector, Labels};
use crate::source::Span;

/// The highest ANP priority; the lowest is 0 (§1.6 rule 27).
pub const MAX_PRIORITY: i64 = 1000;

/// One AdminNetworkPolicy (cluster-scoped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminNetworkPolicy {
    pub name: String,
    /// 0–1000; lower is evaluated first (§1.6 rule 27).
    pub priority: u32,
    pub subject: Subject,
    /// In written order; the first matching rule wins.
    pub ingress: Vec<AdminRule>,
    pub egress: Vec<AdminRule>,
    /// The whole object.
    pub span: Span,
}

/// The one BaselineAdminNetworkPolicy (always named `default`, §1.6 rule 28).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineAdminNetworkPolicy {
    pub name: String,
    pub subject: Subject,
    /// In written order; actions are `Allow` / `Deny` only.
    pub ingress: Vec<AdminRule>,
    pub egress: Vec<AdminRule>,
    pub span: Span,
}

/// `spec.subject`: exactly one of `namespaces` / `pods`. Selects pods only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Every pod in the namespaces matching the selector.
    Namespaces(LabelSelector),
    /// Pods matching `pod_selector` in namespaces matching `namespace_selector`.
    Pods {
        namespace_selector: LabelSelector,
        pod_selector: LabelSelector,
    },
}

impl Subject {
    /// Does the subject select a pod with these labels in a namespace with these labels?
    pub fn selects(&self, namespace_labels: &Labels, pod_labels: &Labels) -> bool {
        match self {
            Subject::Namespaces(ns) => ns.matches(namespace_labels),
            Subject::Pods {
                namespace_selector,
                pod_selector,
            } => namespace_selector.matches(namespace_labels) && pod_selector.matches(pod_labels),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminAction {
    /// Allowed, whatever NetworkPolicy says.
    Allow,
    /// Denied before NetworkPolicy is consulted.
    Deny,
    /// ANP only: skip the remaining ANP rules; NetworkPolicy (else the BANP) decides.
    Pass,
}

impl AdminAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::Allow => "Allow",
            AdminAction::Deny => "Deny",
            AdminAction::Pass => "Pass",
        }
    }
}

/// One `ingress` / `egress` rule: peers AND ports, then the action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRule {
    /// `name` (may be empty).
    pub name: String,
    pub action: AdminAction,
    /// `from` / `to`: never empty (validation). Items are OR'ed.
    pub peers: Vec<AdminPeer>,
    /// `None`: every port and protocol. `Some(empty)` (`ports: []`) matches nothing.
    pub ports: Option<Vec<AdminPort>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminPeerKind {
    /// Every pod in the namespaces matching the selector.
    Namespaces(LabelSelector),
    /// Pods matching `pod_selector` in namespaces matching `namespace_selector`.
    Pods {
        namespace_selector: LabelSelector,
        pod_selector: LabelSelector,
    },
    /// Egress only: addresses inside any of these IPv4 CIDRs (IPv6 entries are dropped by the
    /// parser with a warning, as netpol-analyzer does).
    Networks(Vec<IpNet>),
    /// Egress only: `nodes` is not modelled and matches nothing (reported by the parser, as
    /// netpol-analyzer does).
    Nodes,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminPeer {
    pub kind: AdminPeerKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminPortKind {
    /// `portNumber` (protocol defaults to TCP).
    Number { protocol: Protocol, port: u16 },
    /// `namedPort`: resolved on the destination pod's container ports by name; the protocol is
    /// the container port's.
    Named(String),
    /// `portRange`, inclusive. INVARIANT: `1 <= start <= end`.
    Range {
        protocol: Protocol,
        start: u16,
        end: u16,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminPort {
    pub kind: AdminPortKind,
    pub span: Span,
}

/// How a peer endpoint looks to a rule: a pod (with its namespace's labels) and/or the address
/// `networks` are matched against (per the CNI profile), or neither.
#[derive(Clone, Copy, Debug)]
pub struct PeerView<'a> {
    pub pod: Option<(&'a Labels, &'a Labels)>,
    pub ip: Option<Ipv4Addr>,
}

impl AdminPeerKind {
    /// Does this peer match the endpoint (`pod`: namespace labels, pod labels)?
    pub fn matches(&self, view: PeerView<'_>) -> bool {
        match self {
            AdminPeerKind::Namespaces(ns) => view.pod.is_some_and(|(n, _)| ns.matches(n)),
            AdminPeerKind::Pods {
                namespace_selector,
                pod_selector,
            } => view
                .pod
                .is_some_and(|(n, p)| namespace_selector.matches(n) && pod_selector.matches(p)),
            AdminPeerKind::Networks(nets) => view.ip.is_some_and(|ip| {
                nets.iter()
                    .any(|net| cidr_range(net).is_some_and(|r| r.contains(ip)))
            }),
            AdminPeerKind::Nodes => false,
        }
    }
}

impl AdminRule {
    /// Does any peer match (items OR'ed)?
    pub fn peers_match(&self, view: PeerView<'_>) -> bool {
        self.peers.iter().any(|p| p.kind.matches(view))
    }

    /// The ports this rule covers toward `dst` (`None` when the destination is not a pod, so
    /// named ports cannot resolve). Also returns the named ports that did not resolve.
    pub fn port_set(&self, dst: Option<&Workload>) -> (PortSet, Vec<String>) {
        let Some(ports) = &self.ports else {
            return (PortSet::all(), Vec::new());
        };
        let mut res = PortSet::empty();
        let mut unresolved = Vec::new();
        for port in ports {
            match &port.kind {
                AdminPortKind::Number { protocol, port } => {
                    res.add(&PortSet::single(*protocol, *port))
                }
                AdminPortKind::Range {
                    protocol,
                    start,
                    end,
                } => res.add(&PortSet::range(*protocol, *start, *end)),
                AdminPortKind::Named(name) => match resolve_named(dst, name) {
                    Some((protocol, p)) => res.add(&PortSet::single(protocol, p)),
                    None => unresolved.push(name.clone()),
                },
            }
        }
        (res, unresolved)
    }

    /// Does the rule cover `(protocol, port)` toward `dst` (as [`AdminRule::port_set`])?
    pub fn covers(&self, dst: Option<&Workload>, protocol: Protocol, port: u16) -> bool {
        let Some(ports) = &self.ports else {
            return true;
        };
        ports.iter().any(|p| match &p.kind {
            AdminPortKind::Number {
                protocol: q,
                port: n,
            } => *q == protocol && *n == port,
            AdminPortKind::Range {
                protocol: q,
                start,
                end,
            } => *q == protocol && (*start..=*end).contains(&port),
            AdminPortKind::Named(name) => resolve_named(dst, name) == Some((protocol, port)),
        })
    }
}

/// A named port on the destination pod: its first container port with that name.
fn resolve_named(dst: Option<&Workload>, name: &str) -> Option<(Protocol, u16)> {
    dst?.container_ports()
        .find(|cp| cp.name.as_deref() == Some(name))
        .map(|cp| (cp.protocol, cp.port))
}

/// Evaluation order of the ANPs: by priority (lower first), then by name, then input position.
/// Same-priority ANPs are undefined upstream (§1.6 rule 27); the parser warns about them and
/// this order makes the engine deterministic.
pub fn admin_order(policies: &[AdminNetworkPolicy]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..policies.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&policies[a], &policies[b]);
        (pa.priority, &pa.name, a).cmp(&(pb.priority, &pb.name, b))
    });
    order
}

/// The rules of a policy in one direction.
fn rules_of<'p>(
    ingress: &'p [AdminRule],
    egress: &'p [AdminRule],
    direction: crate::verdict::Direction,
) -> &'p [AdminRule] {
    match direction {
        crate::verdict::Direction::Ingress => ingress,
        crate::verdict::Direction::Egress => egress,
    }
}

impl AdminNetworkPolicy {
    pub fn rules(&self, direction: crate::verdict::Direction) -> &[AdminRule] {
        rules_of(&self.ingress, &self.egress, direction)
    }
}

impl BaselineAdminNetworkPolicy {
    pub fn rules(&self, direction: crate::verdict::Direction) -> &[AdminRule] {
        rules_of(&self.ingress, &self.egress, direction)
    }
}
