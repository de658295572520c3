//! The NetworkPolicy decisions of the whole workload → workload flow matrix at once, as bit
//! sets: for every source workload, destination workload and declared destination port, does
//! the source's egress side allow it, and does the destination's ingress side (SEMANTICS.md §1,
//! §10.2)? Decisions only; reasons come from [`evaluate_egress`](crate::netpol::evaluate_egress)
//! / [`evaluate_ingress`](crate::netpol::evaluate_ingress), the reference, for the flows a user
//! looks at.
//!
//! How it scales: workloads are already pod classes (replicas are one workload). A "slot" is one
//! (destination workload, declared port). Per policy rule, its peers are one bit set over
//! workloads, computed once with selectors indexed by namespace (namespace selectors are
//! evaluated once per namespace); from it, per egress rule, a bit set over slots. Then
//! - egress: per source workload, the union of its isolating rules' slot sets (T bits);
//! - ingress: per slot, the union of the peer sets of the destination's isolating rules whose
//!   ports contain the slot's port, plus the node exemption (W bits).
//!
//! Time and memory are O(W × T / 64) words plus the selections: they grow with the number of
//! (source class, destination class, port) triples, never with replicas, and port sets are never
//! expanded (a rule's ports are tested against the slot's one port).
//!
//! The admin tiers (SEMANTICS.md §1.6 rule 29) fold in per source (egress) or per slot
//! (ingress): each ANP rule is a bit set (peers × covered ports), taken in priority and rule
//! order; what no ANP rule allowed or denied (passed or unmatched) goes to the NetworkPolicy
//! union when NetworkPolicy isolates the pod, else to the BANP rules, else is allowed.
//!
//! Agrees with the per-leg evaluator on every pod → pod leg of a declared port (differential
//! property test below).

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use crate::anp::{admin_order, AdminAction, AdminPeerKind, AdminRule};
use crate::iprange::{block_contains, cidr_range};
use crate::model::{Cluster, PortRef, Protocol, Workload};
use crate::netpol::{NetworkPolicy, NpProfile, PeerKind, Rule};
use crate::selector::Labels;

/// A fixed-size bit set (over workload positions or matrix slots; also the lints' sets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    pub(crate) fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }
    pub(crate) fn full(len: usize) -> Bits {
        let mut b = Bits(vec![u64::MAX; len.div_ceil(64)]);
        if len % 64 != 0 {
            if let Some(last) = b.0.last_mut() {
                *last = (1u64 << (len % 64)) - 1;
            }
        }
        b
    }
    pub(crate) fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
    pub(crate) fn unset(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }
    pub(crate) fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
    pub(crate) fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
    pub(crate) fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }
    pub(crate) fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }
    pub(crate) fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(i * 64 + bit)
            })
        })
    }
}

/// How a workload takes part at the CNI layer under the profile.
#[derive(Clone, Copy, Debug)]
struct Peer {
    /// A hostNetwork pod treated as its node (§1.3 rule 18): never selected, never isolated.
    host: bool,
    /// The address an `ipBlock` is matched against, if the profile lets blocks match it (§1.3
    /// rule 17).
    block_ip: Option<Ipv4Addr>,
}

/// [`NpMatrix`] by source: per source position, the slots its egress side allows and the slots
/// whose ingress side allows it, as contiguous bit rows.
#[derive(Clone, Debug, Default)]
pub struct BySource {
    words: usize,
    egress: Vec<u64>,
    ingress: Vec<u64>,
}

impl BySource {
    /// The egress and ingress bit rows of the source at `src` (bit `slot` of word `slot / 64`).
    pub fn rows(&self, src: usize) -> Option<(&[u64], &[u64])> {
        let range = src.checked_mul(self.words)?..src.checked_add(1)?.checked_mul(self.words)?;
        Some((self.egress.get(range.clone())?, self.ingress.get(range)?))
    }

    /// (egress, ingress) of the source at `src` on `slot` (as [`NpMatrix::sides_at`]).
    #[inline]
    pub fn sides(&self, src: usize, slot: usize) -> Option<(bool, bool)> {
        if slot / 64 >= self.words {
            return None;
        }
        let i = src.checked_mul(self.words)? + slot / 64;
        let bit = 1u64 << (slot % 64);
        Some((
            self.egress.get(i)? & bit != 0,
            self.ingress.get(i)? & bit != 0,
        ))
    }
}

/// NetworkPolicy decisions for every workload → workload flow on every declared destination
/// port. Positions are indices into `cluster.workloads`.
#[derive(Clone, Debug)]
pub struct NpMatrix {
    /// Per workload position: its slots are `slot_start[w]..slot_start[w + 1]`.
    slot_start: Vec<usize>,
    /// Per slot: (destination position, protocol, port).
    slots: Vec<(usize, Protocol, u16)>,
    /// Per source position: the slots its egress side allows (`None`: all).
    egress: Vec<Option<Bits>>,
    /// Per slot: the source positions the destination's ingress side allows (`None`: all).
    ingress: Vec<Option<Bits>>,
}

impl NpMatrix {
    pub fn new(cluster: &Cluster, profile: &NpProfile) -> NpMatrix {
        NpMatrix::with_ports(cluster, profile, |_, w| declared_ports(w))
    }

    /// As [`NpMatrix::new`], with the destination ports of each workload (position, workload)
    /// given by `ports` instead of its declared ports (e.g. plus HBONE 15008 and Service target
    /// ports, for the wire legs of the mesh). Duplicates are removed.
    pub fn with_ports(
        cluster: &Cluster,
        profile: &NpProfile,
        ports: impl Fn(usize, &Workload) -> Vec<(Protocol, u16)>,
    ) -> NpMatrix {
        let workloads = &cluster.workloads;
        let n = workloads.len();
        let mut slot_start = Vec::with_capacity(n + 1);
        let mut slots = Vec::new();
        for (i, w) in workloads.iter().enumerate() {
            slot_start.push(slots.len());
            let mut list = ports(i, w);
            list.sort_unstable();
            list.dedup();
            slots.extend(list.into_iter().map(|(p, port)| (i, p, port)));
        }
        slot_start.push(slots.len());
        let t = slots.len();
        if !profile.enforces_network_policy {
            return NpMatrix {
                slot_start,
                slots,
                egress: vec![None; n],
                ingress: vec![None; t],
            };
        }

        let peers: Vec<Peer> = workloads
            .iter()
            .map(|w| {
                let host = w.host_network && profile.host_network_is_node;
                let block_ip = if host {
                    // As `netpol::resolve`: the node's address, else the pod's first one.
                    profile
                        .ipblock_matches_nodes
                        .then(|| {
                            cluster
                                .node(w.node)
                                .map(|n| n.ip)
                                .or(w.ips.first().copied())
                        })
                        .flatten()
                } else {
                    profile.ipblock_matches_pods.then(|| w.ip())
                };
                Peer { host, block_ip }
            })
            .collect();

        // The slots of the workload at `d`: (slot index, protocol, port).
        let slots_of = |d: usize| {
            let start = slot_start.get(d).copied().unwrap_or(0);
            let end = slot_start.get(d + 1).copied().unwrap_or(start);
            slots
                .get(start..end)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .map(move |(i, &(_, proto, port))| (start + i, proto, port))
        };

        // Selector indexes: workloads by namespace, namespace labels by name.
        let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, w) in workloads.iter().enumerate() {
            if !peers[i].host {
                by_namespace
                    .entry(w.namespace.as_str())
                    .or_default()
                    .push(i);
            }
        }
        let mut ns_labels: HashMap<&str, Labels> = HashMap::new();
        for name in by_namespace.keys() {
            let labels = match cluster.namespaces.iter().find(|ns| ns.name == *name) {
                Some(ns) => ns.labels.clone(),
                None => Labels::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    (*name).to_string(),
                )]),
            };
            ns_labels.insert(name, labels);
        }
        let mut namespaces: Vec<&str> = by_namespace.keys().copied().collect();
        namespaces.sort_unstable();

        // The peers of one rule, as a bit set over workload positions.
        let rule_peers = |policy: &NetworkPolicy, rule: &Rule| -> Bits {
            if rule.peers.is_empty() {
                return Bits::full(n);
            }
            let mut bits = Bits::new(n);
            for peer in &rule.peers {
                match &peer.kind {
                    PeerKind::Pods {
                        namespace_selector,
                        pod_selector,
                    } => {
                        let mut mark = |ns: &str| {
                            for &i in by_namespace.get(ns).map_or(&[][..], |v| v.as_slice()) {
                                if pod_selector
                                    .as_ref()
                                    .is_none_or(|s| s.matches(&workloads[i].labels))
                                {
                                    bits.set(i);
                                }
                            }
                        };
                        match namespace_selector {
                            None => mark(&policy.namespace),
                            Some(sel) => {
                                for ns in &namespaces {
                                    if ns_labels.get(ns).is_some_and(|l| sel.matches(l)) {
                                        mark(ns);
                                    }
                                }
                            }
                        }
                    }
                    PeerKind::IpBlock { cidr, except } => {
                        for (i, p) in peers.iter().enumerate() {
                            if p.block_ip
                                .is_some_and(|ip| block_contains(cidr, except, ip))
                            {
                                bits.set(i);
                            }
                        }
                    }
                }
            }
            bits
        };

        // Isolating policies per workload, through the policies of its namespace (§1.1 rule 1, 3).
        let mut policies_by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, p) in cluster.network_policies.iter().enumerate() {
            policies_by_ns
                .entry(p.namespace.as_str())
                .or_default()
                .push(i);
        }
        let isolating = |w: usize, ingress: bool| -> Vec<usize> {
            if peers[w].host {
                return Vec::new();
            }
            let workload = &workloads[w];
            policies_by_ns
                .get(workload.namespace.as_str())
                .map_or(&[][..], |v| v.as_slice())
                .iter()
                .copied()
                .filter(|&i| {
                    let p = &cluster.network_policies[i];
                    (if ingress {
                        p.policy_types.ingress
                    } else {
                        p.policy_types.egress
                    }) && p.pod_selector.matches(&workload.labels)
                })
                .collect()
        };

        // ---- admin tiers (§1.6): subjects, rule peers.
        let order = admin_order(&cluster.admin_network_policies);
        let workload_ns =
            |w: usize| -> Option<&Labels> { ns_labels.get(workloads[w].namespace.as_str()) };
        let admin_subjects = |w: usize, ingress: bool| -> Vec<usize> {
            let Some(ns) = workload_ns(w).filter(|_| !peers[w].host) else {
                return Vec::new();
            };
            order
                .iter()
                .copied()
                .filter(|&i| {
                    let p = &cluster.admin_network_policies[i];
                    let rules = if ingress { &p.ingress } else { &p.egress };
                    !rules.is_empty() && p.subject.selects(ns, &workloads[w].labels)
                })
                .collect()
        };
        let banp_selects = |w: usize, ingress: bool| -> bool {
            let Some(ns) = workload_ns(w).filter(|_| !peers[w].host) else {
                return false;
            };
            cluster
                .baseline_admin_network_policy
                .as_ref()
                .is_some_and(|b| {
                    let rules = if ingress { &b.ingress } else { &b.egress };
                    !rules.is_empty() && b.subject.selects(ns, &workloads[w].labels)
                })
        };
        // The peers of one admin rule over workload positions (hosts are never pods).
        let admin_peers = |rule: &AdminRule| -> Bits {
            let mut bits = Bits::new(n);
            for peer in &rule.peers {
                match &peer.kind {
                    AdminPeerKind::Namespaces(sel) => {
                        for ns in &namespaces {
                            if ns_labels.get(ns).is_some_and(|l| sel.matches(l)) {
                                for &i in by_namespace.get(ns).map_or(&[][..], |v| v.as_slice()) {
                                    bits.set(i);
                                }
                            }
                        }
                    }
                    AdminPeerKind::Pods {
                        namespace_selector,
                        pod_selector,
                    } => {
                        for ns in &namespaces {
                            if ns_labels
                                .get(ns)
                                .is_some_and(|l| namespace_selector.matches(l))
                            {
                                for &i in by_namespace.get(ns).map_or(&[][..], |v| v.as_slice()) {
                                    if pod_selector.matches(&workloads[i].labels) {
                                        bits.set(i);
                                    }
                                }
                            }
                        }
                    }
                    AdminPeerKind::Networks(nets) => {
                        for (i, p) in peers.iter().enumerate() {
                            if p.block_ip.is_some_and(|ip| {
                                nets.iter()
                                    .any(|net| cidr_range(net).is_some_and(|r| r.contains(ip)))
                            }) {
                                bits.set(i);
                            }
                        }
                    }
                    AdminPeerKind::Nodes => {}
                }
            }
            bits
        };
        // One admin egress rule as a slot set: peer destinations × covered ports.
        let admin_egress_mask = |rule: &AdminRule| -> Bits {
            let mut mask = Bits::new(t);
            for d in admin_peers(rule).ones() {
                let dst = (!peers[d].host).then(|| &workloads[d]);
                for (slot, proto, port) in slots_of(d) {
                    if rule.covers(dst, proto, port) {
                        mask.set(slot);
                    }
                }
            }
            mask
        };
        // First-match fold of ordered rule masks (§1.6 rules 27–28): allowed | (next ∩ open),
        // where open = passed ∪ unmatched.
        let fold =
            |masks: &mut dyn Iterator<Item = (AdminAction, Bits)>, next: Bits, len: usize| {
                let mut allowed = Bits::new(len);
                let mut decided = Bits::new(len);
                let mut passed = Bits::new(len);
                for (action, mut m) in masks {
                    m.and_not(&decided);
                    match action {
                        AdminAction::Allow => allowed.or(&m),
                        AdminAction::Deny => {}
                        AdminAction::Pass => passed.or(&m),
                    }
                    decided.or(&m);
                }
                let mut open = Bits::full(len);
                open.and_not(&decided);
                open.or(&passed);
                open.and(&next);
                allowed.or(&open);
                allowed
            };
        let banp_rules = |ingress: bool| -> &[AdminRule] {
            cluster
                .baseline_admin_network_policy
                .as_ref()
                .map_or(&[][..], |b| if ingress { &b.ingress } else { &b.egress })
        };

        // ---- egress: per rule a slot set (computed on first use), per source the union.
        let mut egress_masks: HashMap<(usize, usize), Bits> = HashMap::new();
        // The NetworkPolicy union of a source's isolating policies' egress rules (§1.1 rule 5).
        let np_egress = |policies: &[usize], egress_masks: &mut HashMap<(usize, usize), Bits>| {
            let mut allowed = Bits::new(t);
            for &p in policies {
                let policy = &cluster.network_policies[p];
                for (r, rule) in policy.egress.iter().enumerate() {
                    let mask = egress_masks.entry((p, r)).or_insert_with(|| {
                        let mut mask = Bits::new(t);
                        for d in rule_peers(policy, rule).ones() {
                            let dst = &workloads[d];
                            let is_host = peers[d].host;
                            for (slot, proto, port) in slots_of(d) {
                                if rule_allows(rule, dst, is_host, profile, proto, port) {
                                    mask.set(slot);
                                }
                            }
                        }
                        mask
                    });
                    allowed.or(mask);
                }
            }
            allowed
        };
        let mut admin_egress_masks: HashMap<(usize, usize), Bits> = HashMap::new();
        let mut banp_egress: Option<Bits> = None;
        let mut egress = Vec::with_capacity(n);
        for s in 0..n {
            let policies = isolating(s, false);
            let anps = admin_subjects(s, false);
            let banp = policies.is_empty() && banp_selects(s, false);
            let np = if policies.is_empty() {
                None
            } else {
                Some(np_egress(&policies, &mut egress_masks))
            };
            let next = match np {
                Some(np) => np,
                None if banp => banp_egress
                    .get_or_insert_with(|| {
                        let mut masks = banp_rules(false)
                            .iter()
                            .filter(|r| r.action != AdminAction::Pass)
                            .map(|r| (r.action, admin_egress_mask(r)));
                        fold(&mut masks, Bits::full(t), t)
                    })
                    .clone(),
                None if anps.is_empty() => {
                    egress.push(None);
                    continue;
                }
                None => Bits::full(t),
            };
            if anps.is_empty() {
                egress.push(Some(next));
                continue;
            }
            let mut masks = Vec::new();
            for &a in &anps {
                let policy = &cluster.admin_network_policies[a];
                for (r, rule) in policy.egress.iter().enumerate() {
                    let mask = admin_egress_masks
                        .entry((a, r))
                        .or_insert_with(|| admin_egress_mask(rule));
                    masks.push((rule.action, mask.clone()));
                }
            }
            egress.push(Some(fold(&mut masks.into_iter(), next, t)));
        }

        // ---- ingress: per slot, the union of matching rules' peers plus the node exemption.
        let mut peer_cache: HashMap<(usize, usize), Bits> = HashMap::new();
        // §1.1 rule 9: traffic from the pod's own node (or a hostNetwork pod on it) is exempt.
        let mut hosts_on_node: HashMap<crate::model::NodeId, Bits> = HashMap::new();
        for (i, w) in workloads.iter().enumerate() {
            if peers[i].host {
                hosts_on_node
                    .entry(w.node)
                    .or_insert_with(|| Bits::new(n))
                    .set(i);
            }
        }
        let no_hosts = Bits::new(n);
        let mut ingress = vec![None; t];
        let mut admin_peer_cache: HashMap<(bool, usize, usize), Bits> = HashMap::new();
        for (d, dst) in workloads.iter().enumerate() {
            let policies = isolating(d, true);
            let anps = admin_subjects(d, true);
            let banp = policies.is_empty() && banp_selects(d, true);
            if policies.is_empty() && anps.is_empty() && !banp {
                continue;
            }
            let exempt = hosts_on_node.get(&dst.node).unwrap_or(&no_hosts);
            for (slot, proto, port) in slots_of(d) {
                // The admin rules covering this slot's port, as (action, source set), in order.
                let mut admin_masks =
                    |rules: &mut dyn Iterator<Item = (bool, usize, usize, &AdminRule)>| {
                        rules
                            .filter(|(_, _, _, rule)| rule.covers(Some(dst), proto, port))
                            .map(|(b, a, r, rule)| {
                                let bits = admin_peer_cache
                                    .entry((b, a, r))
                                    .or_insert_with(|| admin_peers(rule));
                                (rule.action, bits.clone())
                            })
                            .collect::<Vec<_>>()
                    };
                let next = if !policies.is_empty() {
                    let mut allowed = exempt.clone();
                    for &p in &policies {
                        let policy = &cluster.network_policies[p];
                        for (r, rule) in policy.ingress.iter().enumerate() {
                            if rule_allows(rule, dst, false, profile, proto, port) {
                                let bits = peer_cache
                                    .entry((p, r))
                                    .or_insert_with(|| rule_peers(policy, rule));
                                allowed.or(bits);
                            }
                        }
                    }
                    allowed
                } else if banp {
                    let masks = admin_masks(
                        &mut banp_rules(true)
                            .iter()
                            .enumerate()
                            .filter(|(_, r)| r.action != AdminAction::Pass)
                            .map(|(r, rule)| (true, 0, r, rule)),
                    );
                    fold(&mut masks.into_iter(), Bits::full(n), n)
                } else {
                    Bits::full(n)
                };
                let allowed = if anps.is_empty() {
                    next
                } else {
                    let masks = admin_masks(&mut anps.iter().flat_map(|&a| {
                        cluster.admin_network_policies[a]
                            .ingress
                            .iter()
                            .enumerate()
                            .map(move |(r, rule)| (false, a, r, rule))
                    }));
                    fold(&mut masks.into_iter(), next, n)
                };
                if let Some(s) = ingress.get_mut(slot) {
                    *s = Some(allowed);
                }
            }
        }
        NpMatrix {
            slot_start,
            slots,
            egress,
            ingress,
        }
    }

    /// Number of workloads.
    pub fn workloads(&self) -> usize {
        self.egress.len()
    }

    /// The declared ports of the workload at `dst` (sorted, unique): the columns of its slots.
    pub fn ports(&self, dst: usize) -> impl Iterator<Item = (Protocol, u16)> + '_ {
        let range = match (self.slot_start.get(dst), self.slot_start.get(dst + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        };
        self.slots
            .get(range)
            .unwrap_or(&[])
            .iter()
            .map(|&(_, p, port)| (p, port))
    }

    fn slot(&self, dst: usize, protocol: Protocol, port: u16) -> Option<usize> {
        let (&a, &b) = (self.slot_start.get(dst)?, self.slot_start.get(dst + 1)?);
        let i = self
            .slots
            .get(a..b)?
            .binary_search_by(|&(_, p, q)| (p, q).cmp(&(protocol, port)))
            .ok()?;
        Some(a + i)
    }

    /// Does the egress side of `src` allow `src → dst` on `(protocol, port)`? `None` when `port`
    /// is not a declared port of `dst` or a position is out of range.
    pub fn egress_allows(
        &self,
        src: usize,
        dst: usize,
        protocol: Protocol,
        port: u16,
    ) -> Option<bool> {
        let slot = self.slot(dst, protocol, port)?;
        Some(self.egress.get(src)?.as_ref().is_none_or(|b| b.get(slot)))
    }

    /// Does the ingress side of `dst` allow `src → dst` on `(protocol, port)`? `None` as above.
    pub fn ingress_allows(
        &self,
        src: usize,
        dst: usize,
        protocol: Protocol,
        port: u16,
    ) -> Option<bool> {
        let slot = self.slot(dst, protocol, port)?;
        if src >= self.egress.len() {
            return None;
        }
        Some(self.ingress.get(slot)?.as_ref().is_none_or(|b| b.get(src)))
    }

    /// (egress, ingress) of `src → dst` on `(protocol, port)` with one slot lookup; `None` as
    /// for [`NpMatrix::egress_allows`].
    pub fn sides(
        &self,
        src: usize,
        dst: usize,
        protocol: Protocol,
        port: u16,
    ) -> Option<(bool, bool)> {
        let slot = self.slot(dst, protocol, port)?;
        let egress = self.egress.get(src)?.as_ref().is_none_or(|b| b.get(slot));
        let ingress = self.ingress.get(slot)?.as_ref().is_none_or(|b| b.get(src));
        Some((egress, ingress))
    }

    /// The slot of `(protocol, port)` at `dst`, for repeated [`NpMatrix::sides_at`] look-ups;
    /// `None` when `port` is not one of `dst`'s columns.
    pub fn slot_of(&self, dst: usize, protocol: Protocol, port: u16) -> Option<usize> {
        self.slot(dst, protocol, port)
    }

    /// (egress, ingress) of the source at `src` on `slot` (as [`NpMatrix::sides`]).
    pub fn sides_at(&self, src: usize, slot: usize) -> Option<(bool, bool)> {
        let egress = self.egress.get(src)?.as_ref().is_none_or(|b| b.get(slot));
        let ingress = self.ingress.get(slot)?.as_ref().is_none_or(|b| b.get(src));
        Some((egress, ingress))
    }

    /// Both sides of every slot by source, each source's bits contiguous (for walking one
    /// source's row of the matrix: the per-slot ingress sets are transposed).
    pub fn by_source(&self) -> BySource {
        let n = self.egress.len();
        let words = self.slots.len().div_ceil(64);
        let mut egress = vec![0u64; n * words];
        let mut ingress = vec![0u64; n * words];
        for (s, e) in self.egress.iter().enumerate() {
            let Some(row) = egress.get_mut(s * words..(s + 1) * words) else {
                continue;
            };
            let full;
            let bits = match e {
                Some(bits) => bits,
                None => {
                    full = Bits::full(self.slots.len());
                    &full
                }
            };
            for (r, b) in row.iter_mut().zip(&bits.0) {
                *r = *b;
            }
        }
        for (slot, allowed) in self.ingress.iter().enumerate() {
            let (word, bit) = (slot / 64, 1u64 << (slot % 64));
            for s in 0..n {
                if allowed.as_ref().is_none_or(|b| b.get(s)) {
                    if let Some(w) = ingress.get_mut(s * words + word) {
                        *w |= bit;
                    }
                }
            }
        }
        BySource {
            words,
            egress,
            ingress,
        }
    }

    /// Both sides (§1.1 rule 7).
    pub fn allows(&self, src: usize, dst: usize, protocol: Protocol, port: u16) -> Option<bool> {
        Some(
            self.egress_allows(src, dst, protocol, port)?
                && self.ingress_allows(src, dst, protocol, port)?,
        )
    }

    /// Number of allowed (source, destination ≠ source, declared port) flows.
    pub fn count_allowed(&self) -> usize {
        let n = self.egress.len();
        let mut count = 0;
        for (slot, &(d, _, _)) in self.slots.iter().enumerate() {
            for s in 0..n {
                if s != d
                    && self.egress[s].as_ref().is_none_or(|b| b.get(slot))
                    && self.ingress[slot].as_ref().is_none_or(|b| b.get(s))
                {
                    count += 1;
                }
            }
        }
        count
    }
}

/// `(protocol, port)` of every declared container port, deduplicated, sorted.
fn declared_ports(w: &Workload) -> Vec<(Protocol, u16)> {
    w.container_ports()
        .filter(|cp| cp.port != 0)
        .map(|cp| (cp.protocol, cp.port))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Does the rule's port list allow `(protocol, port)` toward `dst` (§1.5, as `rule_ports`):
/// named ports resolve on the destination pod's first container port of that name and
/// protocol, never on a host; `endPort` per the profile.
fn rule_allows(
    rule: &Rule,
    dst: &Workload,
    dst_is_host: bool,
    profile: &NpProfile,
    protocol: Protocol,
    port: u16,
) -> bool {
    if rule.ports.is_empty() {
        return true;
    }
    rule.ports.iter().any(|p| {
        if p.protocol != protocol {
            return false;
        }
        match (&p.port, p.end_port) {
            (None, _) => true,
            (Some(PortRef::Number(start)), Some(end)) => {
                let end = if profile.end_port_supported {
                    end
                } else {
                    *start
                };
                *start <= port && port <= end
            }
            (Some(PortRef::Number(start)), None) => *start == port,
            (Some(PortRef::Name(name)), _) => {
                !dst_is_host
                    && dst
                        .container_ports()
                        .find(|cp| cp.protocol == p.protocol && cp.name.as_deref() == Some(name))
                        .is_some_and(|cp| cp.port == port)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anp::{
        AdminNetworkPolicy, AdminPeer, AdminPort, AdminPortKind, BaselineAdminNetworkPolicy,
        Subject,
    };
    use crate::model::{Container, Namespace, Node, WorkloadId};
    use crate::netpol::tests::{
        cport, ip_block, named, namespace, pods, policy, port, rule, workload, Rng,
    };
    use crate::netpol::{evaluate_egress, evaluate_ingress, NpIndex, PolicyPort};
    use crate::selector::{Expression, LabelSelector};
    use crate::source::Span;
    use crate::verdict::{Endpoint, Leg};

    const KEYS: [&str; 2] = ["a", "b"];
    const VALUES: [&str; 2] = ["1", "2"];
    const NAMESPACES: [&str; 3] = ["n0", "n1", "n2"];
    const PORTS: [u16; 5] = [53, 80, 81, 8080, 9090];
    const NAMES: [&str; 2] = ["http", "dns"];
    const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
        items[rng.below(items.len() as u64) as usize]
    }

    fn labels(rng: &mut Rng) -> Labels {
        let mut l = Labels::new();
        for k in KEYS {
            if rng.below(2) == 0 {
                l.insert(k.into(), pick(rng, &VALUES).to_string());
            }
        }
        l
    }

    fn selector(rng: &mut Rng) -> LabelSelector {
        let expressions = (0..rng.below(3))
            .map(|_| {
                let k = pick(rng, &KEYS).to_string();
                let v = pick(rng, &VALUES).to_string();
                match rng.below(5) {
                    0 => Expression::In(k, vec![v]),
                    1 => Expression::NotIn(k, vec![v]),
                    2 => Expression::Exists(k),
                    3 => Expression::DoesNotExist(k),
                    _ => Expression::In(
                        "kubernetes.io/metadata.name".into(),
                        vec![pick(rng, &NAMESPACES).into()],
                    ),
                }
            })
            .collect();
        LabelSelector {
            expressions,
            span: Span::default(),
        }
    }

    fn random_rule(rng: &mut Rng) -> Rule {
        let peers = (0..rng.below(3))
            .map(|_| match rng.below(4) {
                0 => ip_block(
                    pick(
                        rng,
                        &["10.0.0.0/8", "10.244.0.0/16", "0.0.0.0/0", "10.0.0.0/30"],
                    ),
                    pick(
                        rng,
                        &[&[][..], &["10.244.1.0/24"][..], &["10.0.0.2/32"][..]],
                    ),
                ),
                1 => pods(None, Some(selector(rng))),
                2 => pods(Some(selector(rng)), None),
                _ => pods(Some(selector(rng)), Some(selector(rng))),
            })
            .collect();
        let ports: Vec<PolicyPort> = (0..rng.below(3))
            .map(|_| {
                let protocol = pick(rng, &PROTOCOLS);
                match rng.below(4) {
                    0 => port(protocol, None, None),
                    1 => port(protocol, Some(PortRef::Number(pick(rng, &PORTS))), None),
                    2 => port(protocol, Some(PortRef::Number(80)), Some(8080)),
                    _ => named(pick(rng, &NAMES), protocol),
                }
            })
            .collect();
        rule(peers, ports)
    }

    fn random_admin_rule(rng: &mut Rng, ingress: bool, baseline: bool) -> AdminRule {
        let action = match rng.below(if baseline { 2 } else { 3 }) {
            0 => AdminAction::Allow,
            1 => AdminAction::Deny,
            _ => AdminAction::Pass,
        };
        let peers = (0..1 + rng.below(2))
            .map(|_| AdminPeer {
                kind: match rng.below(if ingress { 2 } else { 4 }) {
                    0 => AdminPeerKind::Namespaces(selector(rng)),
                    1 => AdminPeerKind::Pods {
                        namespace_selector: selector(rng),
                        pod_selector: selector(rng),
                    },
                    2 => AdminPeerKind::Networks(vec![pick(
                        rng,
                        &["10.244.0.0/16", "10.0.0.0/30", "10.244.1.0/24"],
                    )
                    .parse()
                    .expect("test cidr")]),
                    _ => AdminPeerKind::Nodes,
                },
                span: Span::default(),
            })
            .collect();
        let ports = (rng.below(3) != 0).then(|| {
            (0..rng.below(3))
                .map(|_| {
                    let protocol = pick(rng, &PROTOCOLS);
                    AdminPort {
                        kind: match rng.below(3) {
                            0 => AdminPortKind::Number {
                                protocol,
                                port: pick(rng, &PORTS),
                            },
                            1 => AdminPortKind::Named(pick(rng, &NAMES).into()),
                            _ => AdminPortKind::Range {
                                protocol,
                                start: 80,
                                end: 8080,
                            },
                        },
                        span: Span::default(),
                    }
                })
                .collect()
        });
        AdminRule {
            name: String::new(),
            action,
            peers,
            ports,
            span: Span::default(),
        }
    }

    fn random_subject(rng: &mut Rng) -> Subject {
        if rng.below(2) == 0 {
            Subject::Namespaces(selector(rng))
        } else {
            Subject::Pods {
                namespace_selector: selector(rng),
                pod_selector: selector(rng),
            }
        }
    }

    /// ANPs (priorities collide on purpose: order by name) and maybe a BANP.
    fn random_admin(rng: &mut Rng, c: &mut Cluster) {
        let rules = |rng: &mut Rng, ingress: bool, baseline: bool| -> Vec<AdminRule> {
            (0..rng.below(3))
                .map(|_| random_admin_rule(rng, ingress, baseline))
                .collect()
        };
        c.admin_network_policies = (0..rng.below(4))
            .map(|i| AdminNetworkPolicy {
                name: format!("a{}", rng.below(3) * 10 + i),
                priority: pick(rng, &[1, 2, 2, 5]),
                subject: random_subject(rng),
                ingress: rules(rng, true, false),
                egress: rules(rng, false, false),
                span: Span::default(),
            })
            .collect();
        c.baseline_admin_network_policy = (rng.below(2) == 0).then(|| BaselineAdminNetworkPolicy {
            name: "default".into(),
            subject: random_subject(rng),
            ingress: rules(rng, true, true),
            egress: rules(rng, false, true),
            span: Span::default(),
        });
    }

    fn random_cluster(rng: &mut Rng) -> Cluster {
        let mut namespaces: Vec<Namespace> = Vec::new();
        for n in NAMESPACES {
            if rng.below(4) != 0 {
                let mut ns = namespace(n, &[]);
                ns.labels.extend(labels(rng));
                namespaces.push(ns);
            }
        }
        let workloads = (0..1 + rng.below(6) as u32)
            .map(|i| {
                let mut w = workload(
                    i,
                    pick(rng, &NAMESPACES),
                    &format!("w{i}"),
                    &[],
                    [10, 244, (i % 3) as u8, 10 + i as u8],
                    (rng.below(2)) as u32,
                );
                w.labels = labels(rng);
                w.host_network = rng.below(6) == 0;
                let ports = (0..1 + rng.below(3))
                    .map(|_| cport(pick(rng, &NAMES), pick(rng, &PORTS), pick(rng, &PROTOCOLS)))
                    .collect();
                w.containers.push(Container {
                    name: "c".into(),
                    ports,
                    probes: Vec::new(),
                });
                w
            })
            .collect();
        let network_policies = (0..rng.below(5))
            .map(|i| {
                let ingress = (rng.below(3) != 0)
                    .then(|| (0..rng.below(3)).map(|_| random_rule(rng)).collect());
                let egress = (rng.below(2) == 0)
                    .then(|| (0..rng.below(3)).map(|_| random_rule(rng)).collect());
                policy(
                    pick(rng, &NAMESPACES),
                    &format!("p{i}"),
                    selector(rng),
                    ingress,
                    egress,
                )
            })
            .collect();
        Cluster {
            namespaces,
            nodes: vec![
                Node {
                    name: "n0".into(),
                    ip: Ipv4Addr::new(10, 0, 0, 1),
                },
                Node {
                    name: "n1".into(),
                    ip: Ipv4Addr::new(10, 0, 0, 2),
                },
            ],
            workloads,
            network_policies,
            ..Cluster::default()
        }
    }

    fn profiles() -> Vec<NpProfile> {
        vec![
            NpProfile::default(),
            NpProfile::netpol_analyzer(),
            NpProfile {
                end_port_supported: false,
                ipblock_matches_nodes: false,
                ..NpProfile::default()
            },
            NpProfile {
                host_network_is_node: false,
                ..NpProfile::default()
            },
            NpProfile {
                enforces_network_policy: false,
                ..NpProfile::default()
            },
        ]
    }

    /// The fast path agrees with the reference per-leg evaluator (and with `NpIndex`) on every
    /// pod → pod leg of every declared port, per side.
    #[test]
    fn prop_matrix_agrees_with_reference() {
        let mut rng = Rng(0x0BAD_5EED_1234_5678);
        let mut allowed = 0;
        let mut denied = 0;
        for _ in 0..1500 {
            let mut c = random_cluster(&mut rng);
            if rng.below(3) != 0 {
                random_admin(&mut rng, &mut c);
            }
            for profile in profiles() {
                let m = NpMatrix::new(&c, &profile);
                let index = NpIndex::new(&c, &profile);
                for (s, src) in c.workloads.iter().enumerate() {
                    for (d, dst) in c.workloads.iter().enumerate() {
                        for (protocol, port) in declared_ports(dst) {
                            let leg = Leg {
                                src: Endpoint::Pod(src.id),
                                dst: Endpoint::Pod(dst.id),
                                protocol,
                                port,
                            };
                            let e = evaluate_egress(&c, &leg, &profile).is_allow();
                            let i = evaluate_ingress(&c, &leg, &profile).is_allow();
                            assert_eq!(
                                m.egress_allows(s, d, protocol, port),
                                Some(e),
                                "egress {leg:?} {profile:?}\n{c:#?}"
                            );
                            assert_eq!(
                                m.ingress_allows(s, d, protocol, port),
                                Some(i),
                                "ingress {leg:?} {profile:?}\n{c:#?}"
                            );
                            let set = index.allowed(leg.src, leg.dst);
                            assert_eq!(set.contains(protocol, port), e && i);
                            if e && i {
                                allowed += 1;
                            } else {
                                denied += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(
            allowed > 1000 && denied > 1000,
            "{allowed} allowed, {denied} denied"
        );
    }

    #[test]
    fn out_of_range_and_undeclared_ports_are_none() {
        let mut w = workload(0, "n0", "w", &[], [10, 244, 0, 1], 0);
        w.containers.push(Container {
            name: "c".into(),
            ports: vec![cport("http", 80, Protocol::Tcp)],
            probes: Vec::new(),
        });
        let c = Cluster {
            workloads: vec![w],
            ..Cluster::default()
        };
        let m = NpMatrix::new(&c, &NpProfile::default());
        assert_eq!(m.allows(0, 0, Protocol::Tcp, 80), Some(true));
        assert_eq!(m.allows(0, 0, Protocol::Tcp, 81), None);
        assert_eq!(m.allows(0, 1, Protocol::Tcp, 80), None);
        assert_eq!(m.allows(7, 0, Protocol::Tcp, 80), None);
        assert_eq!(m.ports(0).collect::<Vec<_>>(), [(Protocol::Tcp, 80)]);
        assert_eq!(m.ports(9).count(), 0);
        assert_eq!(m.count_allowed(), 0);
        let _ = WorkloadId(0);
    }
}
