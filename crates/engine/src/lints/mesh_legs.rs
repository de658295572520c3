//! PP4001, PP4002, PP4009: the NetworkPolicy verdicts on the HBONE legs of every mesh flow:
//! from each meshed (ambient or sidecar) workload to every other meshed workload on each of its
//! declared TCP ports, and to the Service-addressed targets whose legs differ from the
//! pod-addressed ones (a waypoint serves the Service or the pod, SEMANTICS.md §2.5 rule 15).
//!
//! Complete at every size: the flows are not planned and judged one by one (that took seconds at
//! 2,000 pods and was capped). Instead
//! - the legs of a flow depend on its source only through the source's data plane (SEMANTICS.md
//!   §0 table: ambient → HBONE to 15008 or the two waypoint legs, sidecar → HBONE to ambient
//!   pods; a meshed source is never hostNetwork, §2.1 rule 2), so `istio::plan` runs once per
//!   target and source data plane, with a representative source;
//! - the ingress side of a destination is judged for all sources at once, as bit sets over
//!   workload positions: the AdminNetworkPolicy tier's first match (§1.6 rules 27, 29), then per
//!   rule of the destination's isolating policies (§1.1 rules 3–5) the sources its peers select
//!   (§1.3 rules 13–17) if its ports open the port toward the destination (§1.5);
//! - the egress side is judged per class of sources with the same isolating policies and
//!   AdminNetworkPolicy subjects (the egress verdict reads nothing else of the source), and only
//!   toward destinations some rule of the class selects.
//!
//! The findings are the same keys, with the same sources, destinations and ports, as judging
//! every flow with `netpol::evaluate_*` on the legs of `istio::plan`: the per-flow reference is
//! kept in the tests and compared on random inputs. The waypoint's second leg is still judged by
//! `netpol::evaluate_ingress` (once per leg), since its source is the waypoint pod.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::anp::{AdminAction, PeerView};
use crate::iprange::block_contains;
use crate::istio::legs::{LegRole, HBONE_PORT};
use crate::istio::mesh::{self, DataPlane};
use crate::istio::{self, MeshFlow, MeshSource, MeshTarget};
use crate::model::{Cluster, PortRef, Protocol, Workload, WorkloadId};
use crate::netpol::{self, NetworkPolicy, PeerKind, Rule};
use crate::selector::Labels;
use crate::verdict::{Direction, Endpoint, Leg};

use super::catalogue::{
    NetworkPolicyBlocksHboneEgress, NetworkPolicyBlocksHboneIngress, NetworkPolicyBlocksWaypointLeg,
};
use super::edit::Y;
use super::network::{anchor, first_isolating, ports_text, spec_edit, wname};
use super::{fix, qualified, quoted_list, Cx};
use crate::npmatrix::Bits;

#[cfg(test)]
mod tests;

/// Source kinds: the data planes whose flows have HBONE legs (SEMANTICS.md §0 table).
const AMBIENT: usize = 0;
const SIDECAR: usize = 1;

fn kind_of(plane: &DataPlane) -> Option<usize> {
    match plane {
        DataPlane::Ambient => Some(AMBIENT),
        DataPlane::Sidecar { .. } => Some(SIDECAR),
        DataPlane::None | DataPlane::Waypoint(_) => None,
    }
}

const INGRESS: usize = 0;
const EGRESS: usize = 1;

/// Who was hit, for one finding: workload positions and target ports.
struct Hits {
    srcs: Bits,
    dsts: Bits,
    ports: BTreeSet<u16>,
}

impl Hits {
    fn new(n: usize) -> Hits {
        Hits {
            srcs: Bits::new(n),
            dsts: Bits::new(n),
            ports: BTreeSet::new(),
        }
    }

    fn add(&mut self, srcs: &Bits, dst: usize, port: u16) {
        self.srcs.or(srcs);
        self.dsts.set(dst);
        self.ports.insert(port);
    }
}

/// `ns/name` of every workload, and the positions in the order of the quoted names.
struct Names {
    names: Vec<String>,
    sorted: Vec<usize>,
}

impl Names {
    fn new(cluster: &Cluster) -> Names {
        let names: Vec<String> = cluster.workloads.iter().map(wname).collect();
        let mut sorted: Vec<usize> = (0..names.len()).collect();
        let key = |i: &usize| names.get(*i).map_or("", String::as_str);
        // As quoted strings (see `quoted_list`): a + "`" against b + "`".
        sorted.sort_by(|a, b| {
            key(a)
                .bytes()
                .chain(Some(b'`'))
                .cmp(key(b).bytes().chain(Some(b'`')))
        });
        Names { names, sorted }
    }

    /// The hit workloads as `ns/name` in backticks, as `network::quoted` of their names.
    fn quoted(&self, bits: &Bits) -> String {
        quoted_list(
            self.sorted
                .iter()
                .filter(|&&i| bits.get(i))
                .filter_map(|&i| self.names.get(i))
                .map(String::as_str),
        )
    }
}

/// The legs into one meshed destination, per source kind.
#[derive(Default)]
struct DestLegs {
    /// Target ports of the HBONE legs (client → destination:15008).
    hbone: [BTreeSet<u16>; 2],
    /// The waypoint's second legs: (waypoint index, wire leg waypoint pod → destination, target
    /// port).
    via: [Vec<(usize, Leg, u16)>; 2],
}

/// One side of the NetworkPolicy layer on one (destination, port), for a set of sources.
struct Stage {
    /// The sources for which NetworkPolicy decides (no AdminNetworkPolicy rule allowed or
    /// denied: unmatched or passed, §1.6 rule 29).
    reached: Bits,
    /// The sources allowed (by an ANP rule, or by a NetworkPolicy rule when reached).
    allow: Bits,
    /// The (policy, rule) pairs whose ports open the port; a reached source is allowed by those
    /// whose peers select it (the `AllowedBy` reasons of `netpol::evaluate_ingress`).
    rules: Vec<(usize, usize)>,
}

/// One (class, destination, port) of the egress side.
struct EgressStage {
    reached: bool,
    allow: bool,
    /// The (policy, rule) pairs that allow it (peers select the destination, ports open it).
    rules: Vec<(usize, usize)>,
}

/// A finding of the family.
#[derive(Clone, Copy)]
enum Finding {
    /// (policy, rule) of an ingress / egress rule.
    Ingress,
    Egress,
    /// (policy, waypoint).
    Waypoint,
}

/// A finding, its key ((policy, rule) or (policy, waypoint)) and who was hit.
type FindingHits = (Finding, (usize, usize), Hits);

/// A reported finding costs about as much as this many units of [`MeshLegs::units`].
const FINDING_COST: usize = 4;

/// PP4001, PP4002, PP4009, resumable: [`MeshLegs::new`] computes the per-workload facts,
/// [`MeshLegs::step`] handles a few destinations (ingress, waypoint legs), then a few source
/// classes (egress), then reports the findings.
pub(super) struct MeshLegs {
    /// Workloads in all.
    n: usize,
    /// `ns/name` of each workload (made when there are findings to report).
    names: Option<Names>,
    /// Units done (set-up, destinations, sources), see [`MeshLegs::units`].
    at: usize,
    /// Per position: the source kind of a meshed workload.
    kind: Vec<Option<usize>>,
    /// Meshed workloads by kind.
    members: [Bits; 2],
    /// A workload of each kind: the legs of a flow depend on its source only through the kind.
    reps: [Option<WorkloadId>; 2],
    /// Per position of a meshed workload: the NetworkPolicies isolating it, [ingress, egress]
    /// (§1.1 rules 1, 3).
    isolating: Vec<[Vec<usize>; 2]>,
    /// Per position of a meshed workload: the AdminNetworkPolicies with rules in the direction
    /// whose subject selects it, in evaluation order (§1.6 rule 27).
    admin: Vec<[Vec<usize>; 2]>,
    /// Namespaces of meshed workloads: (name, labels, meshed positions).
    namespaces: Vec<(String, Labels, Vec<usize>)>,
    /// Peers of NetworkPolicy rules, (policy, direction, rule) → the meshed workloads selected.
    np_peers: HashMap<(usize, usize, usize), Bits>,
    /// Peers of AdminNetworkPolicy rules, same keys.
    admin_peers: HashMap<(usize, usize, usize), Bits>,
    /// Per position: the Service-addressed targets with that endpoint whose legs differ from the
    /// pod-addressed ones, (service, port).
    service_targets: Vec<Vec<(usize, u16)>>,
    /// Per position: the legs into it (filled by the destination units).
    legs: Vec<DestLegs>,
    /// Per position: its egress class (meshed and egress-isolated workloads).
    class_of: Vec<Option<usize>>,
    /// Egress classes: (first member, members).
    classes: Vec<(usize, Bits)>,
    /// NetworkPolicy ingress verdict of the waypoint legs: (allowed, first isolating policy).
    waypoint_verdicts: HashMap<Leg, (bool, Option<usize>)>,
    ingress: BTreeMap<(usize, usize), Hits>,
    egress: BTreeMap<(usize, usize), Hits>,
    waypoint: BTreeMap<(usize, usize), Hits>,
    /// Once every unit is done: the findings still to report, last first.
    findings: Option<Vec<FindingHits>>,
    done: bool,
}

impl MeshLegs {
    /// Units in all: the set-up, one per destination, one per source, the report.
    pub(super) fn units(cluster: &Cluster) -> usize {
        2 * cluster.workloads.len() + 2
    }

    /// Units done, at most [`MeshLegs::units`] − 1 until done.
    pub(super) fn position(&self) -> usize {
        self.at
    }

    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    pub(super) fn new(cx: &Cx) -> MeshLegs {
        let cluster = cx.cluster;
        let n = cluster.workloads.len();
        let mut kind = vec![None; n];
        let mut members = [Bits::new(n), Bits::new(n)];
        let mut reps = [None, None];
        for ((i, w), slot) in cluster.workloads.iter().enumerate().zip(kind.iter_mut()) {
            // A meshed workload is never hostNetwork (§2.1 rule 2), so the NetworkPolicy
            // layers see it as a pod (§1.3 rule 18 does not apply).
            let k = cx.plane_at(i).and_then(kind_of).filter(|_| !w.host_network);
            let Some(k) = k else { continue };
            if let (Some(m), Some(r)) = (members.get_mut(k), reps.get_mut(k)) {
                m.set(i);
                *slot = Some(k);
                r.get_or_insert(w.id);
            }
        }

        // Namespace labels, once per namespace (§1.3 rule 19).
        let mut namespaces: Vec<(String, Labels, Vec<usize>)> = Vec::new();
        let mut ns_index: HashMap<&str, usize> = HashMap::new();
        for (i, (w, k)) in cluster.workloads.iter().zip(&kind).enumerate() {
            if k.is_none() {
                continue;
            }
            let at = *ns_index.entry(w.namespace.as_str()).or_insert_with(|| {
                namespaces.push((
                    w.namespace.clone(),
                    cx.namespace_labels(&w.namespace).into_owned(),
                    Vec::new(),
                ));
                namespaces.len() - 1
            });
            if let Some(ns) = namespaces.get_mut(at) {
                ns.2.push(i);
            }
        }

        // Isolation (§1.1 rules 1, 3) and the admin subjects (§1.6 rule 27), per meshed workload.
        let mut isolating = vec![[Vec::new(), Vec::new()]; n];
        let mut admin = vec![[Vec::new(), Vec::new()]; n];
        for (((w, k), iso), adm) in cluster
            .workloads
            .iter()
            .zip(&kind)
            .zip(&mut isolating)
            .zip(&mut admin)
        {
            if k.is_none() {
                continue;
            }
            for (d, direction) in [(INGRESS, Direction::Ingress), (EGRESS, Direction::Egress)] {
                iso[d] = cx.isolating(w, direction);
                adm[d] = cx.admin_subjects(w, direction);
            }
        }

        // Egress classes: the egress verdict reads the source only through its isolating
        // policies and admin subjects.
        let mut class_of = vec![None; n];
        let mut classes: Vec<(usize, Bits)> = Vec::new();
        let mut class_index: HashMap<(&[usize], &[usize]), usize> = HashMap::new();
        for (i, (((iso, adm), k), slot)) in isolating
            .iter()
            .zip(&admin)
            .zip(&kind)
            .zip(&mut class_of)
            .enumerate()
        {
            if k.is_none() || iso[EGRESS].is_empty() {
                continue;
            }
            let c = *class_index
                .entry((iso[EGRESS].as_slice(), adm[EGRESS].as_slice()))
                .or_insert_with(|| {
                    classes.push((i, Bits::new(n)));
                    classes.len() - 1
                });
            if let Some((_, m)) = classes.get_mut(c) {
                m.set(i);
            }
            *slot = Some(c);
        }

        // Service-addressed traffic differs from pod-addressed traffic only when a waypoint
        // serves the Service or the pod (§2.5 rule 15); otherwise its legs are the same. Only
        // meshed endpoints matter (the others get no HBONE leg).
        let pod_waypoint: Vec<bool> = cluster
            .workloads
            .iter()
            .zip(&kind)
            .map(|(w, k)| k.is_some() && mesh::workload_waypoint(cluster, w).is_some())
            .collect();
        let mut service_targets = vec![Vec::new(); n];
        for (index, service) in cluster.services.iter().enumerate() {
            let in_namespace: &[usize] = ns_index
                .get(service.namespace.as_str())
                .and_then(|&at| namespaces.get(at))
                .map_or(&[][..], |ns| ns.2.as_slice());
            if in_namespace.is_empty() {
                continue;
            }
            let service_waypoint = mesh::service_waypoint(cluster, service).is_some();
            if !service_waypoint
                && !in_namespace
                    .iter()
                    .any(|&i| pod_waypoint.get(i).copied().unwrap_or(false))
            {
                continue;
            }
            for sp in service.ports.iter().filter(|p| p.protocol == Protocol::Tcp) {
                for endpoint in service_endpoints(cluster, index, sp.port, in_namespace) {
                    let differs =
                        service_waypoint || pod_waypoint.get(endpoint).copied().unwrap_or(false);
                    if let (true, Some(list)) = (differs, service_targets.get_mut(endpoint)) {
                        list.push((index, sp.port));
                    }
                }
            }
        }

        MeshLegs {
            n,
            names: None,
            at: 1,
            kind,
            members,
            reps,
            isolating,
            admin,
            namespaces,
            np_peers: HashMap::new(),
            admin_peers: HashMap::new(),
            service_targets,
            legs: (0..n).map(|_| DestLegs::default()).collect(),
            class_of,
            classes,
            waypoint_verdicts: HashMap::new(),
            ingress: BTreeMap::new(),
            egress: BTreeMap::new(),
            waypoint: BTreeMap::new(),
            findings: None,
            done: false,
        }
    }

    /// Handle about `count` (at least 1) units, then report the findings, a few per step
    /// ([`FINDING_COST`] units each).
    pub(super) fn step(&mut self, cx: &mut Cx, count: usize) {
        if self.done {
            return;
        }
        let Some(findings) = &mut self.findings else {
            let n = self.n;
            for _ in 0..count.max(1) {
                let unit = self.at;
                if unit > 2 * n {
                    break;
                }
                if unit <= n {
                    self.destination(cx, unit - 1);
                } else {
                    self.source_class(cx, unit - 1 - n);
                }
                self.at += 1;
            }
            if self.at > 2 * n {
                let ingress = std::mem::take(&mut self.ingress);
                let egress = std::mem::take(&mut self.egress);
                let waypoint = std::mem::take(&mut self.waypoint);
                let mut all: Vec<FindingHits> = Vec::new();
                all.extend(ingress.into_iter().map(|(k, h)| (Finding::Ingress, k, h)));
                all.extend(egress.into_iter().map(|(k, h)| (Finding::Egress, k, h)));
                all.extend(waypoint.into_iter().map(|(k, h)| (Finding::Waypoint, k, h)));
                // Reported from the back.
                all.reverse();
                self.done = all.is_empty();
                if !all.is_empty() {
                    self.names = Some(Names::new(cx.cluster));
                }
                self.findings = Some(all);
            }
            return;
        };
        for _ in 0..(count / FINDING_COST).max(1) {
            let Some((finding, key, hits)) = findings.pop() else {
                break;
            };
            if let Some(names) = &self.names {
                report(cx, names, finding, key, &hits);
            }
        }
        self.done = findings.is_empty();
    }

    /// The peers of NetworkPolicy rules, computed once: `keys` are (policy, direction, rule).
    fn ensure_np_peers(&mut self, cx: &Cx, keys: &[(usize, usize, usize)]) {
        let cluster = cx.cluster;
        for &key in keys {
            if self.np_peers.contains_key(&key) {
                continue;
            }
            let (p, d, r) = key;
            let Some(policy) = cluster.network_policies.get(p) else {
                continue;
            };
            let rules = if d == INGRESS {
                &policy.ingress
            } else {
                &policy.egress
            };
            let Some(rule) = rules.get(r) else { continue };
            let bits = self.rule_peers(cx, policy, rule);
            self.np_peers.insert(key, bits);
        }
    }

    /// The meshed workloads a rule's peers select (§1.2 rule 11, §1.3 rules 13–17): the same
    /// matching as `netpol`'s `peer_matches` for a pod endpoint.
    fn rule_peers(&self, cx: &Cx, policy: &NetworkPolicy, rule: &Rule) -> Bits {
        let cluster = cx.cluster;
        let mut bits = Bits::new(self.n);
        if rule.peers.is_empty() {
            for m in &self.members {
                bits.or(m);
            }
            return bits;
        }
        for peer in &rule.peers {
            match &peer.kind {
                PeerKind::Pods {
                    namespace_selector,
                    pod_selector,
                } => {
                    for (name, labels, positions) in &self.namespaces {
                        // Rule 13: no namespaceSelector ⇒ the policy's namespace; 14–15: AND.
                        let ns_ok = match namespace_selector {
                            None => *name == policy.namespace,
                            Some(sel) => sel.matches(labels),
                        };
                        if !ns_ok {
                            continue;
                        }
                        for &i in positions {
                            let selected = pod_selector.as_ref().is_none_or(|s| {
                                cluster
                                    .workloads
                                    .get(i)
                                    .is_some_and(|w| s.matches(&w.labels))
                            });
                            if selected {
                                bits.set(i);
                            }
                        }
                    }
                }
                // Rule 17: by wire IP, when the profile lets blocks match pods.
                PeerKind::IpBlock { cidr, except } => {
                    if !cx.np.ipblock_matches_pods {
                        continue;
                    }
                    for m in &self.members {
                        for i in m.ones() {
                            if cluster
                                .workloads
                                .get(i)
                                .is_some_and(|w| block_contains(cidr, except, w.ip()))
                            {
                                bits.set(i);
                            }
                        }
                    }
                }
            }
        }
        bits
    }

    /// The peers of AdminNetworkPolicy rules (§1.6), computed once, for the meshed workloads:
    /// `keys` are (policy, direction, rule).
    fn ensure_admin_peers(&mut self, cx: &Cx, keys: &[(usize, usize, usize)]) {
        let cluster = cx.cluster;
        for &key in keys {
            if self.admin_peers.contains_key(&key) {
                continue;
            }
            let (a, d, r) = key;
            let direction = if d == INGRESS {
                Direction::Ingress
            } else {
                Direction::Egress
            };
            let Some(rule) = cluster
                .admin_network_policies
                .get(a)
                .and_then(|p| p.rules(direction).get(r))
            else {
                continue;
            };
            let mut bits = Bits::new(self.n);
            for (_, labels, positions) in &self.namespaces {
                for &i in positions {
                    let Some(w) = cluster.workloads.get(i) else {
                        continue;
                    };
                    // As `netpol`'s `admin_peer_matches` for a pod: its labels and namespace
                    // labels, and its address when the profile lets blocks match pods.
                    let view = PeerView {
                        pod: Some((labels, &w.labels)),
                        ip: cx.np.ipblock_matches_pods.then(|| w.ip()),
                    };
                    if rule.peers_match(view) {
                        bits.set(i);
                    }
                }
            }
            self.admin_peers.insert(key, bits);
        }
    }

    /// The legs into the destination at position `d`, planned once per target and source kind;
    /// then its ingress side (PP4001) and its waypoint legs (PP4009).
    fn destination(&mut self, cx: &Cx, d: usize) {
        let cluster = cx.cluster;
        let (Some(dst), Some(_)) = (
            cluster.workloads.get(d),
            self.kind.get(d).copied().flatten(),
        ) else {
            return;
        };
        let ports: Vec<u16> = crate::flows::declared_ports(dst)
            .into_iter()
            .filter(|(protocol, _)| *protocol == Protocol::Tcp)
            .map(|(_, port)| port)
            .collect();
        let services = self
            .service_targets
            .get(d)
            .map_or(&[][..], |v| v.as_slice());
        let mut legs = DestLegs::default();
        for (k, rep) in self.reps.iter().enumerate() {
            let (Some(rep), Some(hbone), Some(via)) =
                (*rep, legs.hbone.get_mut(k), legs.via.get_mut(k))
            else {
                continue;
            };
            let mut add = |planned: Vec<Planned>| {
                for leg in planned {
                    match leg {
                        Planned::Hbone(port) => {
                            hbone.insert(port);
                        }
                        Planned::Via(entry) => {
                            if !via.contains(&entry) {
                                via.push(entry);
                            }
                        }
                    }
                }
            };
            // Pod-addressed: the port dialled is the target port and decides nothing else
            // about the legs (§0 table), so the first port is planned and the others follow.
            if let Some((&first, rest)) = ports.split_first() {
                let target = MeshTarget::Workload(dst.id);
                let planned = plan_legs(cx, rep, dst.id, target, first);
                if planned.iter().all(|p| p.port() == first) {
                    for &port in rest {
                        add(planned.iter().map(|p| p.with_port(port)).collect());
                    }
                } else {
                    for &port in rest {
                        add(plan_legs(cx, rep, dst.id, target, port));
                    }
                }
                add(planned);
            }
            for &(service, port) in services {
                let target = MeshTarget::Service {
                    service,
                    port,
                    endpoint: dst.id,
                };
                add(plan_legs(cx, rep, dst.id, target, port));
            }
        }
        if let Some(slot) = self.legs.get_mut(d) {
            *slot = legs;
        }
        self.ingress_side(cx, d, dst);
    }

    /// PP4001 and PP4009 for the destination at `d`.
    fn ingress_side(&mut self, cx: &Cx, d: usize, dst: &Workload) {
        let cluster = cx.cluster;
        let policies = self
            .isolating
            .get(d)
            .map_or(Vec::new(), |v| v[INGRESS].clone());
        // Only a destination NetworkPolicy isolates can have a finding: PP4001 needs isolation,
        // and the waypoint leg's verdict names an isolating policy only when it is isolated
        // (`NoRuleAllows` comes from the NetworkPolicy tier, §1.1 rule 3).
        if policies.is_empty() {
            return;
        }
        let rules: Vec<(usize, usize, usize)> = policies
            .iter()
            .filter_map(|&p| cluster.network_policies.get(p).map(|pol| (p, pol)))
            .flat_map(|(p, pol)| (0..pol.ingress.len()).map(move |r| (p, INGRESS, r)))
            .collect();
        self.ensure_np_peers(cx, &rules);
        let admin_rules: Vec<(usize, usize, usize)> = self
            .admin
            .get(d)
            .map_or(&[][..], |v| v[INGRESS].as_slice())
            .iter()
            .filter_map(|&a| cluster.admin_network_policies.get(a).map(|p| (a, p)))
            .flat_map(|(a, p)| (0..p.ingress.len()).map(move |r| (a, INGRESS, r)))
            .collect();
        self.ensure_admin_peers(cx, &admin_rules);

        let mut stages: BTreeMap<u16, Stage> = BTreeMap::new();
        let hbone = self.ingress_stage(cx, dst, &rules, &admin_rules, HBONE_PORT);
        let Some(legs) = self.legs.get(d) else { return };
        let mut found_ingress: Vec<((usize, usize), Bits, u16)> = Vec::new();
        let mut found_waypoint: Vec<((usize, usize), Bits, u16)> = Vec::new();
        for (k, members) in self.members.iter().enumerate() {
            let mut sources = members.clone();
            sources.unset(d);
            if sources.is_empty() {
                continue;
            }
            // PP4001: HBONE denied, the app port allowed by some rules.
            let mut denied = sources.clone();
            denied.and_not(&hbone.allow);
            if !denied.is_empty() {
                for &port in legs.hbone.get(k).into_iter().flatten() {
                    let stage = stages
                        .entry(port)
                        .or_insert_with(|| self.ingress_stage(cx, dst, &rules, &admin_rules, port));
                    let mut base = denied.clone();
                    base.and(&stage.reached);
                    if base.is_empty() {
                        continue;
                    }
                    for &(p, r) in &stage.rules {
                        let Some(peers) = self.np_peers.get(&(p, INGRESS, r)) else {
                            continue;
                        };
                        let mut hit = base.clone();
                        hit.and(peers);
                        if !hit.is_empty() {
                            found_ingress.push(((p, r), hit, port));
                        }
                    }
                }
            }
            // PP4009: the waypoint's leg denied where the client's own legs (to the port, or
            // HBONE) would be allowed.
            for &(wp, leg, port) in legs.via.get(k).into_iter().flatten() {
                let stage = stages
                    .entry(port)
                    .or_insert_with(|| self.ingress_stage(cx, dst, &rules, &admin_rules, port));
                let mut intended = stage.allow.clone();
                intended.or(&hbone.allow);
                intended.and(&sources);
                if intended.is_empty() {
                    continue;
                }
                let (allowed, isolated_by) =
                    *self.waypoint_verdicts.entry(leg).or_insert_with(|| {
                        let v = netpol::evaluate_ingress(cluster, &leg, &cx.np);
                        (v.is_allow(), first_isolating(&v.reasons))
                    });
                if let (false, Some(policy)) = (allowed, isolated_by) {
                    found_waypoint.push(((policy, wp), intended, port));
                }
            }
        }
        let n = self.n;
        for (key, hit, port) in found_ingress {
            self.ingress
                .entry(key)
                .or_insert_with(|| Hits::new(n))
                .add(&hit, d, port);
        }
        for (key, hit, port) in found_waypoint {
            self.waypoint
                .entry(key)
                .or_insert_with(|| Hits::new(n))
                .add(&hit, d, port);
        }
    }

    /// The ingress side of `dst` (NetworkPolicy-isolated) on TCP `port` for every meshed source:
    /// the ANP rules first (first match, §1.6 rules 27, 29), then the union of the isolating
    /// policies' rules (§1.1 rule 5). `rules` and `admin_rules` have their peers computed.
    fn ingress_stage(
        &self,
        cx: &Cx,
        dst: &Workload,
        rules: &[(usize, usize, usize)],
        admin_rules: &[(usize, usize, usize)],
        port: u16,
    ) -> Stage {
        let cluster = cx.cluster;
        let n = self.n;
        let mut decided = Bits::new(n);
        let mut admin_allow = Bits::new(n);
        let mut admin_deny = Bits::new(n);
        for key in admin_rules {
            let (a, _, r) = *key;
            let Some(rule) = cluster
                .admin_network_policies
                .get(a)
                .and_then(|p| p.ingress.get(r))
            else {
                continue;
            };
            if !rule.covers(Some(dst), Protocol::Tcp, port) {
                continue;
            }
            let Some(peers) = self.admin_peers.get(key) else {
                continue;
            };
            let mut matched = peers.clone();
            matched.and_not(&decided);
            match rule.action {
                AdminAction::Allow => admin_allow.or(&matched),
                AdminAction::Deny => admin_deny.or(&matched),
                AdminAction::Pass => {}
            }
            decided.or(&matched);
        }
        let mut reached = Bits::new(n);
        for m in &self.members {
            reached.or(m);
        }
        reached.and_not(&admin_allow);
        reached.and_not(&admin_deny);
        let mut allow = Bits::new(n);
        let mut open = Vec::new();
        for &(p, _, r) in rules {
            let Some(rule) = cluster
                .network_policies
                .get(p)
                .and_then(|pol| pol.ingress.get(r))
            else {
                continue;
            };
            if !rule_opens(rule, dst, &cx.np, port) {
                continue;
            }
            if let Some(peers) = self.np_peers.get(&(p, INGRESS, r)) {
                allow.or(peers);
            }
            open.push((p, r));
        }
        allow.and(&reached);
        allow.or(&admin_allow);
        Stage {
            reached,
            allow,
            rules: open,
        }
    }

    /// PP4002 for the egress class of the source at `s` (handled at its first member).
    fn source_class(&mut self, cx: &Cx, s: usize) {
        let cluster = cx.cluster;
        let Some(c) = self.class_of.get(s).copied().flatten() else {
            return;
        };
        let Some((first, class)) = self.classes.get(c) else {
            return;
        };
        if *first != s {
            return;
        }
        let class = class.clone();
        let policies = self
            .isolating
            .get(s)
            .map_or(Vec::new(), |v| v[EGRESS].clone());
        let rules: Vec<(usize, usize, usize)> = policies
            .iter()
            .filter_map(|&p| cluster.network_policies.get(p).map(|pol| (p, pol)))
            .flat_map(|(p, pol)| (0..pol.egress.len()).map(move |r| (p, EGRESS, r)))
            .collect();
        self.ensure_np_peers(cx, &rules);
        let admin_rules: Vec<(usize, usize, usize)> = self
            .admin
            .get(s)
            .map_or(&[][..], |v| v[EGRESS].as_slice())
            .iter()
            .filter_map(|&a| cluster.admin_network_policies.get(a).map(|p| (a, p)))
            .flat_map(|(a, p)| (0..p.egress.len()).map(move |r| (a, EGRESS, r)))
            .collect();
        self.ensure_admin_peers(cx, &admin_rules);
        // A finding needs a rule that allows the destination, so only destinations some rule
        // of the class selects are visited.
        let mut reach = Bits::new(self.n);
        for key in &rules {
            if let Some(peers) = self.np_peers.get(key) {
                reach.or(peers);
            }
        }
        let mut found: Vec<((usize, usize), Bits, usize, u16)> = Vec::new();
        for d in reach.ones() {
            let (Some(dst), Some(legs)) = (cluster.workloads.get(d), self.legs.get(d)) else {
                continue;
            };
            if legs.hbone.iter().all(BTreeSet::is_empty) {
                continue;
            }
            if self
                .egress_stage(cx, d, dst, &rules, &admin_rules, HBONE_PORT)
                .allow
            {
                continue;
            }
            let mut stages: BTreeMap<u16, EgressStage> = BTreeMap::new();
            for (k, members) in self.members.iter().enumerate() {
                let mut sources = class.clone();
                sources.and(members);
                sources.unset(d);
                if sources.is_empty() {
                    continue;
                }
                for &port in legs.hbone.get(k).into_iter().flatten() {
                    let stage = stages.entry(port).or_insert_with(|| {
                        self.egress_stage(cx, d, dst, &rules, &admin_rules, port)
                    });
                    if !stage.reached {
                        continue;
                    }
                    for &key in &stage.rules {
                        found.push((key, sources.clone(), d, port));
                    }
                }
            }
        }
        let n = self.n;
        for (key, hit, d, port) in found {
            self.egress
                .entry(key)
                .or_insert_with(|| Hits::new(n))
                .add(&hit, d, port);
        }
    }

    /// The egress side of a class (NetworkPolicy-isolated for egress) toward the meshed
    /// destination at `d` on TCP `port`: the ANP rules first (§1.6 rules 27, 29), then the
    /// union of the isolating policies' rules (§1.1 rule 5).
    fn egress_stage(
        &self,
        cx: &Cx,
        d: usize,
        dst: &Workload,
        rules: &[(usize, usize, usize)],
        admin_rules: &[(usize, usize, usize)],
        port: u16,
    ) -> EgressStage {
        let cluster = cx.cluster;
        let mut action = None;
        for key in admin_rules {
            let (a, _, r) = *key;
            let Some(rule) = cluster
                .admin_network_policies
                .get(a)
                .and_then(|p| p.egress.get(r))
            else {
                continue;
            };
            if rule.covers(Some(dst), Protocol::Tcp, port)
                && self.admin_peers.get(key).is_some_and(|b| b.get(d))
            {
                action = Some(rule.action);
                break;
            }
        }
        let reached = !matches!(action, Some(AdminAction::Allow | AdminAction::Deny));
        let open: Vec<(usize, usize)> = rules
            .iter()
            .filter(|key| self.np_peers.get(key).is_some_and(|b| b.get(d)))
            .filter(|(p, _, r)| {
                cluster
                    .network_policies
                    .get(*p)
                    .and_then(|pol| pol.egress.get(*r))
                    .is_some_and(|rule| rule_opens(rule, dst, &cx.np, port))
            })
            .map(|&(p, _, r)| (p, r))
            .collect();
        EgressStage {
            reached,
            allow: action == Some(AdminAction::Allow) || (reached && !open.is_empty()),
            rules: open,
        }
    }
}

/// A leg of a planned flow that the family judges, with its target port.
#[derive(Clone, Copy)]
enum Planned {
    /// Client → destination:15008 (ambient, or sidecar to ambient).
    Hbone(u16),
    /// The waypoint's second leg: (waypoint index, wire leg waypoint pod → destination, target
    /// port).
    Via((usize, Leg, u16)),
}

impl Planned {
    fn port(&self) -> u16 {
        match self {
            Planned::Hbone(port) | Planned::Via((_, _, port)) => *port,
        }
    }

    fn with_port(&self, port: u16) -> Planned {
        match *self {
            Planned::Hbone(_) => Planned::Hbone(port),
            Planned::Via((wp, leg, _)) => Planned::Via((wp, leg, port)),
        }
    }
}

/// The judged legs of the flow from `rep` to `target` on `port` that end at the pod `dst`
/// (`istio::plan`, SEMANTICS.md §0 table).
fn plan_legs(
    cx: &Cx,
    rep: WorkloadId,
    dst: WorkloadId,
    target: MeshTarget,
    port: u16,
) -> Vec<Planned> {
    let flow = MeshFlow {
        src: MeshSource::Workload(rep),
        dst: target,
        protocol: Protocol::Tcp,
        port,
        http: None,
        bypass: false,
    };
    let mut res = Vec::new();
    for l in istio::plan(cx.cluster, cx.mesh(), &flow) {
        let (Endpoint::Pod(leg_src), Endpoint::Pod(leg_dst)) = (l.leg.src, l.leg.dst) else {
            continue;
        };
        let Some(target_port) = l.seen.as_ref().map(|c| c.dst_port) else {
            continue;
        };
        // Both leg kinds end at the flow's destination pod.
        if leg_dst != dst {
            continue;
        }
        match l.role {
            LegRole::Hbone if leg_src == rep => res.push(Planned::Hbone(target_port)),
            LegRole::FromWaypoint => {
                // The second leg does not carry the index; its source pod is the waypoint.
                let wp = l.waypoint.or_else(|| {
                    workload(cx, leg_src).and_then(|w| match cx.dataplane(w) {
                        DataPlane::Waypoint(i) => Some(i),
                        _ => None,
                    })
                });
                if let Some(wp) = wp {
                    res.push(Planned::Via((wp, l.leg, target_port)));
                }
            }
            _ => {}
        }
    }
    res
}

/// Does the rule's port list open TCP `port` toward the pod `dst` (§1.5, as `netpol`'s
/// `rule_ports`): empty ⇒ every port (§1.2 rule 11); a protocol-only entry ⇒ every port of
/// it (rule 23); named ports resolve on `dst`'s first container port of that name and protocol
/// (rule 24); `endPort` per the profile (rule 25).
fn rule_opens(rule: &Rule, dst: &Workload, np: &netpol::NpProfile, port: u16) -> bool {
    rule.ports.is_empty()
        || rule.ports.iter().any(|p| {
            p.protocol == Protocol::Tcp
                && match (&p.port, p.end_port) {
                    (None, _) => true,
                    (Some(PortRef::Number(start)), Some(end)) => {
                        let end = if np.end_port_supported { end } else { *start };
                        (*start..=end).contains(&port)
                    }
                    (Some(PortRef::Number(start)), None) => *start == port,
                    (Some(PortRef::Name(name)), _) => dst
                        .container_ports()
                        .find(|cp| {
                            cp.protocol == p.protocol && cp.name.as_deref() == Some(name.as_str())
                        })
                        .is_some_and(|cp| cp.port == port),
                }
        })
}

/// The endpoints of a Service port, as `flows::service_endpoints` (pods the selector selects
/// whose target port resolves), among `candidates` (the meshed workloads of its namespace).
fn service_endpoints(
    cluster: &Cluster,
    service: usize,
    port: u16,
    candidates: &[usize],
) -> Vec<usize> {
    let Some(svc) = cluster.services.get(service) else {
        return Vec::new();
    };
    let Some(service_port) = svc.ports.iter().find(|p| p.port == port) else {
        return Vec::new();
    };
    candidates
        .iter()
        .copied()
        .filter(|&i| {
            cluster.workloads.get(i).is_some_and(|w| {
                mesh::service_selects(svc, w)
                    && match &service_port.target_port {
                        PortRef::Number(_) => true,
                        PortRef::Name(name) => w.container_ports().any(|cp| {
                            cp.protocol == service_port.protocol
                                && cp.name.as_deref() == Some(name.as_str())
                        }),
                    }
            })
        })
        .collect()
}

fn workload<'c>(cx: &Cx<'c>, id: WorkloadId) -> Option<&'c Workload> {
    let workloads = &cx.cluster.workloads;
    match workloads.get(id.0 as usize) {
        Some(w) if w.id == id => Some(w),
        _ => workloads.iter().find(|w| w.id == id),
    }
}

fn hbone_port_item() -> Y {
    Y::map(vec![
        ("port", Y::Int(i64::from(HBONE_PORT))),
        ("protocol", Y::plain("TCP")),
    ])
}

/// Report one finding.
fn report(cx: &mut Cx, names: &Names, finding: Finding, key: (usize, usize), hits: &Hits) {
    let cluster = cx.cluster;
    let srcs = names.quoted(&hits.srcs);
    let dsts = names.quoted(&hits.dsts);
    let direction = match finding {
        Finding::Ingress => Direction::Ingress,
        Finding::Egress => Direction::Egress,
        Finding::Waypoint => return report_waypoint_leg(cx, key, &srcs, &dsts),
    };
    let (pi, ri) = key;
    let Some(policy) = cluster.network_policies.get(pi) else {
        return;
    };
    let rules = match direction {
        Direction::Ingress => &policy.ingress,
        Direction::Egress => &policy.egress,
    };
    let Some(rule) = rules.get(ri) else { return };
    let rule_node = cx.node(rule.span);
    let ports_node = rule_node.and_then(|n| n.get("ports"));
    let span = ports_node.map_or(rule.span, |n| n.span);
    let edit = cx
        .doc(rule.span)
        .zip(ports_node)
        .and_then(|(d, ports)| d.append_item(ports, &hbone_port_item()));
    let fix = fix(
        "add `port: 15008` (protocol TCP) to the rule's ports",
        edit.into_iter().collect(),
    );
    let (info, message, help) = match direction {
        Direction::Ingress => (
            NetworkPolicyBlocksHboneIngress::INFO,
            format!(
                "ingress rule {ri} of NetworkPolicy {} allows {} to mesh pod {} but not HBONE port TCP 15008: ambient traffic from {} arrives on 15008 and is denied",
                qualified(&policy.namespace, &policy.name),
                ports_text(&hits.ports),
                dsts,
                srcs
            ),
            "ztunnel tunnels pod-to-pod traffic as HBONE, so the CNI sees `client → pod:15008`, never the app port (Istio docs: Ambient and Kubernetes NetworkPolicy)",
        ),
        Direction::Egress => (
            NetworkPolicyBlocksHboneEgress::INFO,
            format!(
                "egress rule {ri} of NetworkPolicy {} allows {} to {} but not HBONE port TCP 15008: traffic from ambient pod {} leaves as HBONE on 15008 and is denied",
                qualified(&policy.namespace, &policy.name),
                ports_text(&hits.ports),
                dsts,
                srcs
            ),
            "the client's ztunnel sends `client → server:15008`; egress rules toward mesh pods must allow TCP 15008",
        ),
    };
    cx.push(info, span, message, Some(help.to_string()), fix);
}

/// PP4009 (`srcs`, `dsts`: the quoted lists of names).
fn report_waypoint_leg(cx: &mut Cx, (pi, wi): (usize, usize), srcs: &str, dsts: &str) {
    let cluster = cx.cluster;
    let (Some(policy), Some(wp)) = (cluster.network_policies.get(pi), cluster.waypoints.get(wi))
    else {
        return;
    };
    let mut peer = Vec::new();
    if wp.namespace != policy.namespace {
        peer.push((
            "namespaceSelector",
            Y::match_labels(&[("kubernetes.io/metadata.name", wp.namespace.as_str())]),
        ));
    }
    peer.push((
        "podSelector",
        Y::match_labels(&[(mesh::GATEWAY_NAME_LABEL, wp.name.as_str())]),
    ));
    let rule = Y::map(vec![
        ("from", Y::Seq(vec![Y::map(peer)])),
        ("ports", Y::Seq(vec![hbone_port_item()])),
    ]);
    let span = anchor(cx, policy.span, &["ingress", "policyTypes", "podSelector"]);
    let edit = spec_edit(cx, policy.span, "ingress", &rule);
    let fix = fix(
        format!(
            "add an ingress rule admitting the waypoint `{}/{}` pods on TCP 15008",
            wp.namespace, wp.name
        ),
        edit.into_iter().collect(),
    );
    cx.push(
        NetworkPolicyBlocksWaypointLeg::INFO,
        span,
        format!(
            "NetworkPolicy {} admits {} but not waypoint {}: traffic to {} through the waypoint arrives from the waypoint's pods on TCP 15008 and is denied",
            qualified(&policy.namespace, &policy.name),
            srcs,
            qualified(&wp.namespace, &wp.name),
            dsts
        ),
        Some(
            "through a waypoint a flow is two HBONE legs; the destination's CNI sees the waypoint pod as the source"
                .to_string(),
        ),
        fix,
    );
}
