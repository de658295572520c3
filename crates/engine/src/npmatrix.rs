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
//! Agrees with the per-leg evaluator on every pod → pod leg of a declared port (differential
//! property test below).

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use crate::iprange::block_contains;
use crate::model::{Cluster, PortRef, Protocol, Workload};
use crate::netpol::{NetworkPolicy, NpProfile, PeerKind, Rule};
use crate::selector::Labels;

/// A fixed-size bit set.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }
    fn full(len: usize) -> Bits {
        let mut b = Bits(vec![u64::MAX; len.div_ceil(64)]);
        if len % 64 != 0 {
            if let Some(last) = b.0.last_mut() {
                *last = (1u64 << (len % 64)) - 1;
            }
        }
        b
    }
    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
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
        let workloads = &cluster.workloads;
        let n = workloads.len();
        let mut slot_start = Vec::with_capacity(n + 1);
        let mut slots = Vec::new();
        for (i, w) in workloads.iter().enumerate() {
            slot_start.push(slots.len());
            slots.extend(declared_ports(w).into_iter().map(|(p, port)| (i, p, port)));
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

        // ---- egress: per rule a slot set (computed on first use), per source the union.
        let mut egress_masks: HashMap<(usize, usize), Bits> = HashMap::new();
        let mut egress = Vec::with_capacity(n);
        for s in 0..n {
            let policies = isolating(s, false);
            if policies.is_empty() {
                egress.push(None);
                continue;
            }
            let mut allowed = Bits::new(t);
            for p in policies {
                let policy = &cluster.network_policies[p];
                for (r, rule) in policy.egress.iter().enumerate() {
                    let mask = egress_masks.entry((p, r)).or_insert_with(|| {
                        let mut mask = Bits::new(t);
                        for d in rule_peers(policy, rule).ones() {
                            let dst = &workloads[d];
                            let is_host = peers[d].host;
                            for slot in slot_start[d]..slot_start[d + 1] {
                                let (_, proto, port) = slots[slot];
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
            egress.push(Some(allowed));
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
        for d in 0..n {
            let policies = isolating(d, true);
            if policies.is_empty() {
                continue;
            }
            let dst = &workloads[d];
            let exempt = hosts_on_node.get(&dst.node).unwrap_or(&no_hosts);
            for slot in slot_start[d]..slot_start[d + 1] {
                let (_, proto, port) = slots[slot];
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
            let c = random_cluster(&mut rng);
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
