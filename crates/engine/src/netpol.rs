//! Kubernetes NetworkPolicy (`networking.k8s.io/v1`): the typed model, and evaluation of one
//! wire leg per direction (SEMANTICS.md §1) under a CNI profile (§10), both as a verdict with
//! reasons ([`evaluate_egress`], [`evaluate_ingress`]) and as allowed port sets for whole maps
//! ([`NpIndex`]). The same layers apply the admin tiers around NetworkPolicy (§1.6 rule 29):
//! AdminNetworkPolicy (by priority, first matching rule wins; `Pass` skips to NetworkPolicy),
//! then NetworkPolicy, then — only for pods no NetworkPolicy isolates — the
//! BaselineAdminNetworkPolicy, then default allow. A CNI profile that does not enforce
//! NetworkPolicy enforces none of them. Knows nothing about Istio, YAML or rendering; does not turn flows into legs
//! (Service VIPs, ambient 15008, probes are the caller's job) and never evaluates reply traffic.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::IpNet;

use crate::anp::{admin_order, AdminAction, AdminPeerKind, AdminRule, PeerView};
use crate::iprange::block_contains;
use crate::model::{Cluster, NodeId, PortRef, Protocol, Workload, WorkloadId};
use crate::portset::PortSet;
use crate::selector::{LabelSelector, Labels};
use crate::source::Span;
use crate::verdict::{
    AdminPolicyKind, AdminRuleRef, Assumption, Decision, Direction, Endpoint, Layer, LayerVerdict,
    Leg, PolicyRef, ProfileFlag, Reason, RuleRef, PROBE_SNAT_IP,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub name: String,
    pub namespace: String,
    /// Selects pods in `namespace` only (§1.1 rule 1).
    pub pod_selector: LabelSelector,
    /// After apiserver defaulting (§1.1 rule 2).
    pub policy_types: PolicyTypes,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    /// The whole object.
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PolicyTypes {
    pub ingress: bool,
    pub egress: bool,
}

/// One `ingress` or `egress` entry: peers AND ports (§1.2 rule 10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `from` / `to`. Empty = all peers (§1.2 rule 11).
    pub peers: Vec<Peer>,
    /// Empty = all ports and protocols.
    pub ports: Vec<PolicyPort>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerKind {
    /// `podSelector` and/or `namespaceSelector` in one element: AND (§1.3 rules 13–15).
    /// `namespace_selector: None` means the policy's own namespace.
    Pods {
        namespace_selector: Option<LabelSelector>,
        pod_selector: Option<LabelSelector>,
    },
    /// `ipBlock` (§1.3 rule 16). INVARIANT: every `except` lies inside `cidr` (same family).
    /// IPv6 blocks are kept (they match no IPv4 address) so a rule never silently widens.
    IpBlock { cidr: IpNet, except: Vec<IpNet> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub kind: PeerKind,
    pub span: Span,
}

/// One `ports` entry (§1.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyPort {
    /// Defaults to TCP (§1.5 rule 23).
    pub protocol: Protocol,
    /// `None`: all ports of `protocol`.
    pub port: Option<PortRef>,
    /// Inclusive; INVARIANT: only with a numeric `port`, and `end_port >= port`.
    pub end_port: Option<u16>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// Evaluation (SEMANTICS.md §1, §10.2)
// ---------------------------------------------------------------------------------------------

/// How the CNI implements the implementation-defined parts of NetworkPolicy
/// (SEMANTICS.md §1.1 rule 9, §1.3 rules 17–18, §1.5 rule 25, §10.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpProfile {
    /// Shown in [`Reason::NotEnforcedByCni`].
    pub name: String,
    /// `false` for CNIs without a policy agent (flannel alone): both NP layers allow everything.
    pub enforces_network_policy: bool,
    /// An `ipBlock` covering a pod's IP matches that pod (§1.3 rule 17).
    pub ipblock_matches_pods: bool,
    /// An `ipBlock` covering a node's IP matches traffic from/to that node.
    pub ipblock_matches_nodes: bool,
    /// The ambient probe source 169.254.7.127, originated on the pod's own node, counts as the
    /// node for the ingress node exemption (§1.1 rule 9, §2.6, §10.2 rule 1).
    pub probe_snat_counts_as_node: bool,
    /// `endPort` is honoured; else only `port` is (§1.5 rule 25).
    pub end_port_supported: bool,
    /// A hostNetwork pod is its node: never selected by `podSelector`/`namespaceSelector`, its
    /// traffic is node traffic (§1.3 rule 18).
    pub host_network_is_node: bool,
}

/// The cautious generic profile of SEMANTICS.md §9: node exemption only for the pod's own node,
/// probe SNAT not recognised, ipBlock matched purely by wire IP, endPort supported.
impl Default for NpProfile {
    fn default() -> NpProfile {
        NpProfile {
            name: "generic".to_string(),
            enforces_network_policy: true,
            ipblock_matches_pods: true,
            ipblock_matches_nodes: true,
            probe_snat_counts_as_node: false,
            end_port_supported: true,
            host_network_is_node: true,
        }
    }
}

impl NpProfile {
    /// netpol-analyzer's conventions (conformance README): ipBlock matches external addresses
    /// only, never pods or nodes; every workload is an ordinary pod.
    pub fn netpol_analyzer() -> NpProfile {
        NpProfile {
            name: "netpol-analyzer".to_string(),
            ipblock_matches_pods: false,
            ipblock_matches_nodes: false,
            host_network_is_node: false,
            ..NpProfile::default()
        }
    }
}

/// Effective isolation: which directions of a pod some policy isolates (§1.1 rule 3).
pub fn is_isolated(
    cluster: &Cluster,
    workload: &Workload,
    direction: Direction,
    profile: &NpProfile,
) -> bool {
    !isolating_policies(cluster, workload, direction, profile).is_empty()
}

/// Judge the egress side of a leg: the source pod's egress policies (§1.1, §1.2, §1.3, §1.5).
pub fn evaluate_egress(cluster: &Cluster, leg: &Leg, profile: &NpProfile) -> LayerVerdict {
    evaluate_egress_with(cluster, leg, profile, None)
}

/// The isolating policies of every workload (by position), both directions, computed once for
/// callers that judge many legs ([`evaluate_egress_with`], [`evaluate_ingress_with`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Isolation {
    /// Per workload position: [ingress, egress] isolating policy indices.
    by_position: Vec<[Vec<usize>; 2]>,
}

impl Isolation {
    pub(crate) fn new(cluster: &Cluster, profile: &NpProfile) -> Isolation {
        Isolation {
            by_position: cluster
                .workloads
                .iter()
                .map(|w| {
                    [
                        isolating_policies(cluster, w, Direction::Ingress, profile),
                        isolating_policies(cluster, w, Direction::Egress, profile),
                    ]
                })
                .collect(),
        }
    }

    /// The policies isolating the workload at `position` for ingress (cached), if any.
    pub(crate) fn ingress_at(&self, position: usize) -> Option<&[usize]> {
        self.by_position.get(position).map(|v| v[0].as_slice())
    }

    /// The cached list for this pod (the same object as in `cluster.workloads`), if any.
    fn get<'a>(
        cache: Option<&'a Isolation>,
        cluster: &Cluster,
        pod: &Workload,
        direction: Direction,
    ) -> Option<&'a [usize]> {
        let i = pod.id.0 as usize;
        let same = cluster
            .workloads
            .get(i)
            .is_some_and(|w| std::ptr::eq(w, pod));
        if !same {
            return None;
        }
        cache?
            .by_position
            .get(i)
            .map(|v| v[dir_index(direction)].as_slice())
    }

    fn policies<'a>(
        cache: Option<&'a Isolation>,
        cluster: &Cluster,
        pod: &Workload,
        direction: Direction,
        profile: &NpProfile,
    ) -> Cow<'a, [usize]> {
        match Isolation::get(cache, cluster, pod, direction) {
            Some(v) => Cow::Borrowed(v),
            None => Cow::Owned(isolating_policies(cluster, pod, direction, profile)),
        }
    }
}

/// [`evaluate_egress`] with the isolating policies precomputed (`cache` must come from
/// [`Isolation::new`] on the same cluster and profile).
pub(crate) fn evaluate_egress_with(
    cluster: &Cluster,
    leg: &Leg,
    profile: &NpProfile,
    cache: Option<&Isolation>,
) -> LayerVerdict {
    let layer = Layer::NpEgress;
    if !profile.enforces_network_policy {
        return not_enforced(layer, profile);
    }
    let mut notes = Vec::new();
    let src = resolve(cluster, leg.src, profile, &mut notes);
    let dst = resolve(cluster, leg.dst, profile, &mut notes);
    let res = match (&src, &dst) {
        (Resolved::Unknown, _) => unknown(layer, leg.src),
        (_, Resolved::Unknown) => unknown(layer, leg.dst),
        (Resolved::Pod(pod), _) => {
            let policies = Isolation::policies(cache, cluster, pod, Direction::Egress, profile);
            let tier = Tier {
                subject: pod,
                policies: &policies,
                direction: Direction::Egress,
                node_exempt: None,
            };
            tiered(cluster, &tier, &dst, &dst, leg, profile, &mut notes)
        }
        _ => LayerVerdict::allow(
            layer,
            Reason::NotSubjectToPolicy {
                endpoint: leg.src,
                direction: Direction::Egress,
            },
        ),
    };
    with_notes(res, notes)
}

/// Judge the ingress side of a leg: the destination pod's ingress policies and the node
/// exemption (§1.1 rule 9).
pub fn evaluate_ingress(cluster: &Cluster, leg: &Leg, profile: &NpProfile) -> LayerVerdict {
    evaluate_ingress_with(cluster, leg, profile, None)
}

/// [`evaluate_ingress`] with the isolating policies precomputed (see [`evaluate_egress_with`]).
pub(crate) fn evaluate_ingress_with(
    cluster: &Cluster,
    leg: &Leg,
    profile: &NpProfile,
    cache: Option<&Isolation>,
) -> LayerVerdict {
    let layer = Layer::NpIngress;
    if !profile.enforces_network_policy {
        return not_enforced(layer, profile);
    }
    let mut notes = Vec::new();
    let src = resolve(cluster, leg.src, profile, &mut notes);
    let dst = resolve(cluster, leg.dst, profile, &mut notes);
    let res = match (&src, &dst) {
        (Resolved::Unknown, _) => unknown(layer, leg.src),
        (_, Resolved::Unknown) => unknown(layer, leg.dst),
        (_, Resolved::Pod(pod)) => {
            let policies = Isolation::policies(cache, cluster, pod, Direction::Ingress, profile);
            // The node exemption is part of NetworkPolicy isolation (§1.1 rule 9).
            let node_exempt = if policies.is_empty() {
                None
            } else {
                node_exempt(&src, pod, profile, &mut notes)
            };
            let tier = Tier {
                subject: pod,
                policies: &policies,
                direction: Direction::Ingress,
                node_exempt,
            };
            tiered(cluster, &tier, &src, &dst, leg, profile, &mut notes)
        }
        _ => LayerVerdict::allow(
            layer,
            Reason::NotSubjectToPolicy {
                endpoint: leg.dst,
                direction: Direction::Ingress,
            },
        ),
    };
    with_notes(res, notes)
}

/// Set-based NetworkPolicy evaluation for whole connectivity maps: selections are computed once
/// per policy, rule and peer; queries return every allowed `(protocol, port)` at once.
///
/// Agrees with [`evaluate_egress`] / [`evaluate_ingress`] on every leg (property-tested).
/// Unknown workload ids allow nothing.
#[derive(Clone, Debug)]
pub struct NpIndex<'c> {
    cluster: &'c Cluster,
    profile: NpProfile,
    /// Workload id → position in `cluster.workloads`.
    positions: HashMap<WorkloadId, usize>,
    /// Per workload position: indices of the policies isolating it for ingress, for egress.
    isolating: Vec<[Vec<usize>; 2]>,
    /// Per policy: per direction, per rule, per peer: does it match the workload at each position
    /// (as a pod).
    peer_pods: Vec<[Vec<Vec<Vec<bool>>>; 2]>,
    /// Per workload position: the ANPs selecting it with ingress, egress rules, in evaluation
    /// order (§1.6 rule 27).
    admin_subjects: Vec<[Vec<usize>; 2]>,
    /// Per workload position: does the BANP select it with ingress, egress rules (§1.6 rule 28)?
    baseline_subjects: Vec<[bool; 2]>,
}

impl<'c> NpIndex<'c> {
    pub fn new(cluster: &'c Cluster, profile: &NpProfile) -> NpIndex<'c> {
        let positions = cluster
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id, i))
            .collect();
        let isolating = cluster
            .workloads
            .iter()
            .map(|w| {
                let resolved = resolve(cluster, Endpoint::Pod(w.id), profile, &mut Vec::new());
                match resolved {
                    Resolved::Pod(pod) => [
                        isolating_policies(cluster, pod, Direction::Ingress, profile),
                        isolating_policies(cluster, pod, Direction::Egress, profile),
                    ],
                    _ => [Vec::new(), Vec::new()],
                }
            })
            .collect();
        let pods: Vec<Resolved<'_>> = cluster
            .workloads
            .iter()
            .map(|w| resolve(cluster, Endpoint::Pod(w.id), profile, &mut Vec::new()))
            .collect();
        let per_rules = |policy: &NetworkPolicy, rules: &[Rule]| -> Vec<Vec<Vec<bool>>> {
            rules
                .iter()
                .map(|rule| {
                    rule.peers
                        .iter()
                        .map(|peer| {
                            pods.iter()
                                .map(|ep| {
                                    peer_matches(
                                        cluster,
                                        policy,
                                        peer,
                                        ep,
                                        profile,
                                        &mut Vec::new(),
                                    )
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect()
        };
        let peer_pods = cluster
            .network_policies
            .iter()
            .map(|p| [per_rules(p, &p.ingress), per_rules(p, &p.egress)])
            .collect();
        let order = admin_order(&cluster.admin_network_policies);
        let (admin_subjects, baseline_subjects) = pods
            .iter()
            .map(|ep| {
                let Resolved::Pod(pod) = ep else {
                    return ([Vec::new(), Vec::new()], [false, false]);
                };
                let ns = namespace_labels(cluster, &pod.namespace);
                let anps = |direction: Direction| -> Vec<usize> {
                    order
                        .iter()
                        .copied()
                        .filter(|&i| {
                            let anp = &cluster.admin_network_policies[i];
                            !anp.rules(direction).is_empty()
                                && anp.subject.selects(&ns, &pod.labels)
                        })
                        .collect()
                };
                let banp = |direction: Direction| -> bool {
                    cluster
                        .baseline_admin_network_policy
                        .as_ref()
                        .is_some_and(|b| {
                            !b.rules(direction).is_empty() && b.subject.selects(&ns, &pod.labels)
                        })
                };
                (
                    [anps(Direction::Ingress), anps(Direction::Egress)],
                    [banp(Direction::Ingress), banp(Direction::Egress)],
                )
            })
            .unzip();
        NpIndex {
            cluster,
            profile: profile.clone(),
            positions,
            isolating,
            peer_pods,
            admin_subjects,
            baseline_subjects,
        }
    }

    pub fn profile(&self) -> &NpProfile {
        &self.profile
    }

    /// Is the workload isolated in this direction (§1.1 rule 3)?
    pub fn is_isolated(&self, workload: WorkloadId, direction: Direction) -> bool {
        self.positions
            .get(&workload)
            .and_then(|&i| self.isolating.get(i))
            .is_some_and(|v| !v[dir_index(direction)].is_empty())
    }

    /// Everything the source pod's egress side allows toward `dst` (§1.1 rules 3–6).
    pub fn allowed_egress(&self, src: WorkloadId, dst: Endpoint) -> PortSet {
        if !self.profile.enforces_network_policy {
            return PortSet::all();
        }
        let mut notes = Vec::new();
        let src_r = resolve(self.cluster, Endpoint::Pod(src), &self.profile, &mut notes);
        let dst_r = resolve(self.cluster, dst, &self.profile, &mut notes);
        match (&src_r, &dst_r) {
            (Resolved::Unknown, _) | (_, Resolved::Unknown) => PortSet::empty(),
            (Resolved::Pod(_), _) => self.tiered(src, Direction::Egress, &dst_r, &dst_r, false),
            _ => PortSet::all(),
        }
    }

    /// Everything the destination pod's ingress side allows from `src`, including the node
    /// exemption (§1.1 rules 3–6, 9).
    pub fn allowed_ingress(&self, src: Endpoint, dst: WorkloadId) -> PortSet {
        if !self.profile.enforces_network_policy {
            return PortSet::all();
        }
        let mut notes = Vec::new();
        let src_r = resolve(self.cluster, src, &self.profile, &mut notes);
        let dst_r = resolve(self.cluster, Endpoint::Pod(dst), &self.profile, &mut notes);
        match (&src_r, &dst_r) {
            (Resolved::Unknown, _) | (_, Resolved::Unknown) => PortSet::empty(),
            (_, Resolved::Pod(pod)) => {
                let exempt = self.is_isolated(dst, Direction::Ingress)
                    && node_exempt(&src_r, pod, &self.profile, &mut notes).is_some();
                self.tiered(dst, Direction::Ingress, &src_r, &dst_r, exempt)
            }
            _ => PortSet::all(),
        }
    }

    /// Both sides of one leg: egress of `src` (when a pod) ∩ ingress of `dst` (when a pod)
    /// (§1.1 rule 7).
    pub fn allowed(&self, src: Endpoint, dst: Endpoint) -> PortSet {
        let egress = match src {
            Endpoint::Pod(id) => self.allowed_egress(id, dst),
            _ => PortSet::all(),
        };
        let ingress = match dst {
            Endpoint::Pod(id) => self.allowed_ingress(src, id),
            _ => PortSet::all(),
        };
        egress.intersection(&ingress)
    }

    /// The admin tiers around NetworkPolicy for one subject pod (§1.6 rule 29), port by port:
    /// the ANPs selecting it in order (first matching rule wins per port); ports they neither
    /// allowed nor denied (passed or unmatched) go to NetworkPolicy when it isolates the pod
    /// (`exempt`: the node exemption applies), else to the BANP, else are allowed.
    fn tiered(
        &self,
        subject: WorkloadId,
        direction: Direction,
        peer: &Resolved<'_>,
        dst: &Resolved<'_>,
        exempt: bool,
    ) -> PortSet {
        let d = dir_index(direction);
        let pos = self.positions.get(&subject).copied();
        let next = if self.is_isolated(subject, direction) {
            if exempt {
                PortSet::all()
            } else {
                self.union_of_rules(subject, direction, peer, dst)
            }
        } else {
            self.baseline(pos, direction, peer, dst)
        };
        let anps = pos
            .and_then(|i| self.admin_subjects.get(i))
            .map_or(&[][..], |v| v[d].as_slice());
        if anps.is_empty() {
            return next;
        }
        let mut allowed = PortSet::empty();
        let mut open = PortSet::all();
        let mut passed = PortSet::empty();
        'anps: for &a in anps {
            let Some(anp) = self.cluster.admin_network_policies.get(a) else {
                continue;
            };
            for rule in anp.rules(direction) {
                if open.is_empty() {
                    break 'anps;
                }
                if !admin_peer_matches(self.cluster, rule, peer, &self.profile, &mut Vec::new()) {
                    continue;
                }
                let here = rule.port_set(dst_pod(dst)).0.intersection(&open);
                match rule.action {
                    AdminAction::Allow => allowed.add(&here),
                    AdminAction::Deny => {}
                    AdminAction::Pass => passed.add(&here),
                }
                open = open.difference(&here);
            }
        }
        let undecided = open.union(&passed);
        allowed.union(&next.intersection(&undecided))
    }

    /// The BANP tier (§1.6 rule 28): first matching rule per port; unmatched ports are allowed.
    fn baseline(
        &self,
        pos: Option<usize>,
        direction: Direction,
        peer: &Resolved<'_>,
        dst: &Resolved<'_>,
    ) -> PortSet {
        let selected = pos
            .and_then(|i| self.baseline_subjects.get(i))
            .is_some_and(|v| v[dir_index(direction)]);
        let banp = match &self.cluster.baseline_admin_network_policy {
            Some(b) if selected => b,
            _ => return PortSet::all(),
        };
        let mut allowed = PortSet::empty();
        let mut open = PortSet::all();
        for rule in banp.rules(direction) {
            if open.is_empty() {
                break;
            }
            if rule.action == AdminAction::Pass
                || !admin_peer_matches(self.cluster, rule, peer, &self.profile, &mut Vec::new())
            {
                continue;
            }
            let here = rule.port_set(dst_pod(dst)).0.intersection(&open);
            if rule.action == AdminAction::Allow {
                allowed.add(&here);
            }
            open = open.difference(&here);
        }
        allowed.union(&open)
    }

    /// Union of the matching rules' ports of the policies isolating `subject` in `direction`;
    /// everything when it is not isolated (§1.1 rules 4–5).
    fn union_of_rules(
        &self,
        subject: WorkloadId,
        direction: Direction,
        peer: &Resolved<'_>,
        dst: &Resolved<'_>,
    ) -> PortSet {
        let d = dir_index(direction);
        let Some(policies) = self
            .positions
            .get(&subject)
            .and_then(|&i| self.isolating.get(i))
            .map(|v| &v[d])
        else {
            return PortSet::empty();
        };
        if policies.is_empty() {
            return PortSet::all();
        }
        let peer_pos = match peer {
            Resolved::Pod(w) => self.positions.get(&w.id).copied(),
            _ => None,
        };
        let mut res = PortSet::empty();
        for &p in policies {
            let (Some(policy), Some(sel)) =
                (self.cluster.network_policies.get(p), self.peer_pods.get(p))
            else {
                continue;
            };
            for (rule, rule_sel) in rules_of(policy, direction).iter().zip(&sel[d]) {
                let peer_ok = rule.peers.is_empty()
                    || rule
                        .peers
                        .iter()
                        .zip(rule_sel)
                        .any(|(peer_def, pods)| match peer_pos {
                            Some(i) => pods.get(i).copied().unwrap_or(false),
                            None => peer_matches(
                                self.cluster,
                                policy,
                                peer_def,
                                peer,
                                &self.profile,
                                &mut Vec::new(),
                            ),
                        });
                if peer_ok {
                    res.add(&rule_ports(rule, dst, &self.profile, &mut Vec::new()).0);
                    if res.is_all() {
                        return res;
                    }
                }
            }
        }
        res
    }
}

// --- helpers --------------------------------------------------------------------------------

/// An endpoint looked up in the cluster and classified by the profile.
#[derive(Clone, Debug)]
enum Resolved<'c> {
    /// An ordinary pod (subject to NetworkPolicy, matched by selectors).
    Pod(&'c Workload),
    /// A node, or a hostNetwork pod treated as its node (§1.3 rule 18).
    Host {
        node: NodeId,
        ip: Option<Ipv4Addr>,
    },
    External(Ipv4Addr),
    ProbeSnat(NodeId),
    Unknown,
}

fn resolve<'c>(
    cluster: &'c Cluster,
    endpoint: Endpoint,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> Resolved<'c> {
    match endpoint {
        Endpoint::Pod(id) => match find_workload(cluster, id) {
            Some(w) if w.host_network => {
                notes.push(Assumption {
                    flag: ProfileFlag::HostNetworkIsNode,
                    value: profile.host_network_is_node,
                });
                if profile.host_network_is_node {
                    Resolved::Host {
                        node: w.node,
                        ip: cluster
                            .node(w.node)
                            .map(|n| n.ip)
                            .or(w.ips.first().copied()),
                    }
                } else {
                    Resolved::Pod(w)
                }
            }
            Some(w) => Resolved::Pod(w),
            None => Resolved::Unknown,
        },
        Endpoint::Node(node) => Resolved::Host {
            node,
            ip: cluster.node(node).map(|n| n.ip),
        },
        Endpoint::External(ip) => Resolved::External(ip),
        Endpoint::ProbeSnat(node) => Resolved::ProbeSnat(node),
    }
}

fn find_workload(cluster: &Cluster, id: WorkloadId) -> Option<&Workload> {
    match cluster.workloads.get(id.0 as usize) {
        Some(w) if w.id == id => Some(w),
        _ => cluster.workloads.iter().find(|w| w.id == id),
    }
}

fn dir_index(direction: Direction) -> usize {
    match direction {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

fn rules_of(policy: &NetworkPolicy, direction: Direction) -> &[Rule] {
    match direction {
        Direction::Ingress => &policy.ingress,
        Direction::Egress => &policy.egress,
    }
}

fn has_type(policy: &NetworkPolicy, direction: Direction) -> bool {
    match direction {
        Direction::Ingress => policy.policy_types.ingress,
        Direction::Egress => policy.policy_types.egress,
    }
}

/// Indices of the policies that select `pod` (in its own namespace, §1.1 rule 1) with this policy
/// type (§1.1 rule 3). A hostNetwork pod treated as its node is selected by none (§1.3 rule 18).
fn isolating_policies(
    cluster: &Cluster,
    pod: &Workload,
    direction: Direction,
    profile: &NpProfile,
) -> Vec<usize> {
    if pod.host_network && profile.host_network_is_node {
        return Vec::new();
    }
    cluster
        .network_policies
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            has_type(p, direction)
                && p.namespace == pod.namespace
                && p.pod_selector.matches(&pod.labels)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Labels of a namespace; an undeclared one has just `kubernetes.io/metadata.name` (§1.3 rule 19).
fn namespace_labels<'c>(cluster: &'c Cluster, name: &str) -> Cow<'c, Labels> {
    match cluster.namespace(name) {
        Some(ns) => Cow::Borrowed(&ns.labels),
        None => Cow::Owned(Labels::from([(
            "kubernetes.io/metadata.name".to_string(),
            name.to_string(),
        )])),
    }
}

/// Does one `from`/`to` element match the peer endpoint (§1.3 rules 13–17)?
fn peer_matches(
    cluster: &Cluster,
    policy: &NetworkPolicy,
    peer: &Peer,
    endpoint: &Resolved<'_>,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> bool {
    match &peer.kind {
        PeerKind::Pods {
            namespace_selector,
            pod_selector,
        } => {
            let Resolved::Pod(pod) = endpoint else {
                return false;
            };
            // Rule 13: no namespaceSelector ⇒ the policy's namespace. Rules 14–15: AND.
            let ns_ok = match namespace_selector {
                None => pod.namespace == policy.namespace,
                Some(sel) => sel.matches(&namespace_labels(cluster, &pod.namespace)),
            };
            ns_ok
                && pod_selector
                    .as_ref()
                    .is_none_or(|sel| sel.matches(&pod.labels))
        }
        PeerKind::IpBlock { cidr, except } => {
            wire_ip(endpoint, profile, notes).is_some_and(|ip| block_contains(cidr, except, ip))
        }
    }
}

/// The address an `ipBlock` (or an ANP `networks` peer) is matched against (§1.3 rule 17): by
/// wire IP, with the profile deciding whether pods and nodes are matchable.
fn wire_ip(
    endpoint: &Resolved<'_>,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> Option<Ipv4Addr> {
    match endpoint {
        Resolved::Pod(pod) => {
            notes.push(Assumption {
                flag: ProfileFlag::IpBlockMatchesPods,
                value: profile.ipblock_matches_pods,
            });
            profile.ipblock_matches_pods.then(|| pod.ip())
        }
        Resolved::Host { ip, .. } => {
            notes.push(Assumption {
                flag: ProfileFlag::IpBlockMatchesNodes,
                value: profile.ipblock_matches_nodes,
            });
            if profile.ipblock_matches_nodes {
                *ip
            } else {
                None
            }
        }
        Resolved::External(ip) => Some(*ip),
        Resolved::ProbeSnat(_) => Some(PROBE_SNAT_IP),
        Resolved::Unknown => None,
    }
}

fn dst_pod<'c>(dst: &Resolved<'c>) -> Option<&'c Workload> {
    match dst {
        Resolved::Pod(w) => Some(w),
        _ => None,
    }
}

/// Does one of an (B)ANP rule's peers match the endpoint (§1.6)? Namespace and pod peers match
/// pods only; `networks` match the wire address as an `ipBlock` would; `nodes` match nothing.
fn admin_peer_matches(
    cluster: &Cluster,
    rule: &AdminRule,
    endpoint: &Resolved<'_>,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> bool {
    let ns = match endpoint {
        Resolved::Pod(pod) => Some(namespace_labels(cluster, &pod.namespace)),
        _ => None,
    };
    let pod = match (endpoint, &ns) {
        (Resolved::Pod(pod), Some(ns)) => Some((&**ns, &pod.labels)),
        _ => None,
    };
    let networks = rule
        .peers
        .iter()
        .any(|p| matches!(p.kind, AdminPeerKind::Networks(_)));
    let ip = if networks {
        wire_ip(endpoint, profile, notes)
    } else {
        None
    };
    rule.peers_match(PeerView { pod, ip })
}

/// One policy of an admin tier: (index, name, priority, subject, rules of the direction).
type AdminTierEntry<'c> = (
    usize,
    &'c str,
    Option<u32>,
    &'c crate::anp::Subject,
    &'c [AdminRule],
);

/// The pod a layer judges and its NetworkPolicy situation.
struct Tier<'a> {
    subject: &'a Workload,
    /// NetworkPolicies isolating `subject` in `direction`.
    policies: &'a [usize],
    direction: Direction,
    /// Ingress from the subject's own node, when NetworkPolicy isolates it (§1.1 rule 9).
    node_exempt: Option<NodeId>,
}

/// The first matching rule of one admin tier for one leg: the ANPs selecting the subject in
/// priority order (§1.6 rule 27), or the BANP (rule 28). `None`: no rule matched.
#[expect(clippy::too_many_arguments, reason = "internal; one call per tier")]
fn admin_stage(
    cluster: &Cluster,
    tier: &Tier<'_>,
    kind: AdminPolicyKind,
    peer: &Resolved<'_>,
    dst: &Resolved<'_>,
    leg: &Leg,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> Option<(AdminAction, AdminRuleRef)> {
    let ns = namespace_labels(cluster, &tier.subject.namespace);
    let policies: Vec<AdminTierEntry<'_>> = match kind {
        AdminPolicyKind::Admin => admin_order(&cluster.admin_network_policies)
            .into_iter()
            .filter_map(|i| {
                cluster.admin_network_policies.get(i).map(|p| {
                    (
                        i,
                        p.name.as_str(),
                        Some(p.priority),
                        &p.subject,
                        p.rules(tier.direction),
                    )
                })
            })
            .collect(),
        AdminPolicyKind::Baseline => cluster
            .baseline_admin_network_policy
            .iter()
            .map(|p| {
                (
                    0,
                    p.name.as_str(),
                    None,
                    &p.subject,
                    p.rules(tier.direction),
                )
            })
            .collect(),
    };
    for (index, name, priority, subject, rules) in policies {
        if rules.is_empty() || !subject.selects(&ns, &tier.subject.labels) {
            continue;
        }
        for (i, rule) in rules.iter().enumerate() {
            if kind == AdminPolicyKind::Baseline && rule.action == AdminAction::Pass {
                continue;
            }
            if rule.covers(dst_pod(dst), leg.protocol, leg.port)
                && admin_peer_matches(cluster, rule, peer, profile, notes)
            {
                let rule_ref = AdminRuleRef {
                    kind,
                    index,
                    name: name.to_string(),
                    priority,
                    direction: tier.direction,
                    rule: i,
                    rule_name: rule.name.clone(),
                    span: rule.span,
                };
                return Some((rule.action, rule_ref));
            }
        }
    }
    None
}

/// One side of a leg through every tier (§1.6 rule 29): ANP, then NetworkPolicy (with the node
/// exemption, §1.1 rule 9) when it isolates the pod, else the BANP, else default allow.
/// `peer` is the other end; `dst` resolves named ports.
fn tiered(
    cluster: &Cluster,
    tier: &Tier<'_>,
    peer: &Resolved<'_>,
    dst: &Resolved<'_>,
    leg: &Leg,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> LayerVerdict {
    let direction = tier.direction;
    let layer = match direction {
        Direction::Ingress => Layer::NpIngress,
        Direction::Egress => Layer::NpEgress,
    };
    let admin = admin_stage(
        cluster,
        tier,
        AdminPolicyKind::Admin,
        peer,
        dst,
        leg,
        profile,
        notes,
    );
    let passed = match admin {
        Some((AdminAction::Allow, r)) => {
            return LayerVerdict::allow(layer, Reason::AdminAllowed(r))
        }
        Some((AdminAction::Deny, r)) => {
            return LayerVerdict::new(layer, Decision::Deny, vec![Reason::AdminDenied(r)])
        }
        Some((AdminAction::Pass, r)) => Some(r),
        None => None,
    };
    let mut verdict = if tier.policies.is_empty() {
        match admin_stage(
            cluster,
            tier,
            AdminPolicyKind::Baseline,
            peer,
            dst,
            leg,
            profile,
            notes,
        ) {
            Some((AdminAction::Deny, r)) => {
                LayerVerdict::new(layer, Decision::Deny, vec![Reason::BaselineDenied(r)])
            }
            Some((_, r)) => LayerVerdict::allow(layer, Reason::BaselineAllowed(r)),
            None => LayerVerdict::allow(layer, Reason::NotIsolated { direction }),
        }
    } else if let Some(node) = tier.node_exempt {
        LayerVerdict::allow(layer, Reason::NodeExempt { node })
    } else {
        judge(
            cluster,
            tier.policies,
            direction,
            peer,
            dst,
            leg,
            profile,
            notes,
        )
    };
    if let Some(r) = passed {
        verdict.reasons.push(Reason::AdminPassed(r));
    }
    verdict
}

/// The ports a rule allows toward `dst` (§1.5): empty list ⇒ everything (§1.2 rule 11); protocol
/// already defaulted by the parser (rule 23); named ports resolved on the destination pod's
/// container ports with the same protocol (rule 24); `endPort` inclusive (rule 25).
/// Also returns the names that did not resolve.
fn rule_ports(
    rule: &Rule,
    dst: &Resolved<'_>,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> (PortSet, Vec<String>) {
    if rule.ports.is_empty() {
        return (PortSet::all(), Vec::new());
    }
    let mut res = PortSet::empty();
    let mut unresolved = Vec::new();
    for port in &rule.ports {
        match (&port.port, port.end_port) {
            (None, _) => res.add(&PortSet::all_of(port.protocol)),
            (Some(PortRef::Number(p)), Some(end)) => {
                notes.push(Assumption {
                    flag: ProfileFlag::EndPortSupported,
                    value: profile.end_port_supported,
                });
                let end = if profile.end_port_supported { end } else { *p };
                res.add(&PortSet::range(port.protocol, *p, end));
            }
            (Some(PortRef::Number(p)), None) => res.add(&PortSet::single(port.protocol, *p)),
            (Some(PortRef::Name(name)), _) => {
                let found = match dst {
                    Resolved::Pod(pod) => pod.container_ports().find(|cp| {
                        cp.protocol == port.protocol && cp.name.as_deref() == Some(name.as_str())
                    }),
                    _ => None,
                };
                match found {
                    Some(cp) => res.add(&PortSet::single(port.protocol, cp.port)),
                    None => unresolved.push(name.clone()),
                }
            }
        }
    }
    (res, unresolved)
}

/// The ingress node exemption (§1.1 rule 9, §10.2 rule 1): the source is the destination pod's
/// own node (or a hostNetwork pod on it), or the probe SNAT address originated there when the
/// profile counts it as the node.
fn node_exempt(
    src: &Resolved<'_>,
    pod: &Workload,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> Option<NodeId> {
    match src {
        Resolved::Host { node, .. } if *node == pod.node => Some(*node),
        Resolved::ProbeSnat(node) if *node == pod.node => {
            notes.push(Assumption {
                flag: ProfileFlag::ProbeSnatCountsAsNode,
                value: profile.probe_snat_counts_as_node,
            });
            profile.probe_snat_counts_as_node.then_some(*node)
        }
        _ => None,
    }
}

fn policy_ref(cluster: &Cluster, index: usize) -> Option<PolicyRef> {
    cluster.network_policies.get(index).map(|p| PolicyRef {
        index,
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        span: p.span,
    })
}

/// Union of rules of the isolating `policies` (§1.1 rules 4–6, §1.2 rules 10–12) for one leg.
/// `peer` is the other end (destination for egress, source for ingress); `dst` resolves named
/// ports.
#[expect(
    clippy::too_many_arguments,
    reason = "internal; one call per direction"
)]
fn judge(
    cluster: &Cluster,
    policies: &[usize],
    direction: Direction,
    peer: &Resolved<'_>,
    dst: &Resolved<'_>,
    leg: &Leg,
    profile: &NpProfile,
    notes: &mut Vec<Assumption>,
) -> LayerVerdict {
    let layer = match direction {
        Direction::Ingress => Layer::NpIngress,
        Direction::Egress => Layer::NpEgress,
    };
    if policies.is_empty() {
        return LayerVerdict::allow(layer, Reason::NotIsolated { direction });
    }
    let mut allowed_by = Vec::new();
    let mut unresolved = Vec::new();
    for &index in policies {
        let (Some(policy), Some(pref)) = (
            cluster.network_policies.get(index),
            policy_ref(cluster, index),
        ) else {
            continue;
        };
        for (i, rule) in rules_of(policy, direction).iter().enumerate() {
            let peer_ok = rule.peers.is_empty()
                || rule
                    .peers
                    .iter()
                    .any(|p| peer_matches(cluster, policy, p, peer, profile, notes));
            if !peer_ok {
                continue;
            }
            let rule_ref = RuleRef {
                policy: pref.clone(),
                direction,
                rule: i,
                span: rule.span,
            };
            let (ports, names) = rule_ports(rule, dst, profile, notes);
            if ports.contains(leg.protocol, leg.port) {
                allowed_by.push(Reason::AllowedBy(rule_ref));
            } else {
                unresolved.extend(names.into_iter().map(|name| Reason::NamedPortUnresolved {
                    rule: rule_ref.clone(),
                    name,
                }));
            }
        }
    }
    if allowed_by.is_empty() {
        let isolated_by = policies
            .iter()
            .filter_map(|&i| policy_ref(cluster, i))
            .collect();
        let mut reasons = vec![Reason::NoRuleAllows { isolated_by }];
        reasons.extend(unresolved);
        LayerVerdict::new(layer, Decision::Deny, reasons)
    } else {
        LayerVerdict::new(layer, Decision::Allow, allowed_by)
    }
}

fn not_enforced(layer: Layer, profile: &NpProfile) -> LayerVerdict {
    let mut v = LayerVerdict::allow(
        layer,
        Reason::NotEnforcedByCni {
            profile: profile.name.clone(),
        },
    );
    v.assume(ProfileFlag::EnforcesNetworkPolicy, false);
    v
}

fn unknown(layer: Layer, endpoint: Endpoint) -> LayerVerdict {
    LayerVerdict::new(
        layer,
        Decision::Unknown,
        vec![Reason::UnknownEndpoint { endpoint }],
    )
}

fn with_notes(mut verdict: LayerVerdict, notes: Vec<Assumption>) -> LayerVerdict {
    for a in notes {
        verdict.assume(a.flag, a.value);
    }
    verdict
}

#[cfg(test)]
pub(crate) mod tests;
