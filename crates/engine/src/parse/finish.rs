//! From what was read to the [`Cluster`]: implicit namespaces, nodes, grouping of owned pods,
//! and deterministic address assignment. The defaults are listed in `parse.rs`'s header.
//! No YAML here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use crate::diagnostics::Diagnostic;
use crate::model::{Cluster, Namespace, Node, NodeId, Workload, WorkloadId};
use crate::parse::messages;
use crate::parse::workload::PodRecord;
use crate::parse::Collected;
use crate::selector::Labels;

/// First implicit node address (`10.0.0.0/24`).
const NODE_BASE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// First assigned pod address (`10.244.0.0/16`).
const POD_BASE: Ipv4Addr = Ipv4Addr::new(10, 244, 0, 1);

pub(crate) fn build(collected: Collected, diagnostics: &mut Vec<Diagnostic>) -> Cluster {
    let Collected {
        namespaces,
        nodes: declared_nodes,
        pods,
        services,
        policies,
        ignored,
        first_object,
        ..
    } = collected;

    // Addresses already taken: declared pod IPs and node IPs.
    let mut used: HashSet<Ipv4Addr> = pods
        .iter()
        .flat_map(|p| p.pod_ips.iter().copied())
        .collect();
    used.extend(declared_nodes.iter().filter_map(|n| n.ip));
    used.extend(pods.iter().filter_map(|p| p.host_ip));

    // ---- nodes --------------------------------------------------------------------------------
    let mut node_names: Vec<String> = Vec::new();
    let mut node_ips: Vec<Option<Ipv4Addr>> = Vec::new();
    for node in &declared_nodes {
        node_names.push(node.name.clone());
        node_ips.push(node.ip);
    }
    let mut pod_nodes: Vec<Option<usize>> = Vec::with_capacity(pods.len());
    for pod in &pods {
        let index = match (&pod.node_name, pod.host_ip) {
            (Some(name), host_ip) => Some(match node_names.iter().position(|n| n == name) {
                Some(i) => {
                    if let (Some(slot), Some(ip)) = (node_ips.get_mut(i), host_ip) {
                        slot.get_or_insert(ip);
                    }
                    i
                }
                None => {
                    node_names.push(name.clone());
                    node_ips.push(host_ip.filter(|ip| !node_ips.contains(&Some(*ip))));
                    node_names.len() - 1
                }
            }),
            (None, Some(ip)) => Some(match node_ips.iter().position(|n| *n == Some(ip)) {
                Some(i) => i,
                None => {
                    node_names.push(format!("node-{ip}"));
                    node_ips.push(Some(ip));
                    node_names.len() - 1
                }
            }),
            (None, None) => None,
        };
        pod_nodes.push(index);
    }
    if node_names.is_empty() {
        node_names.push("node-1".to_owned());
        node_ips.push(None);
    }
    let mut next_node_ip = u32::from(NODE_BASE);
    let nodes: Vec<Node> = node_names
        .into_iter()
        .zip(node_ips)
        .map(|(name, ip)| {
            let ip = ip.unwrap_or_else(|| next_free(&mut next_node_ip, &mut used));
            Node { name, ip }
        })
        .collect();

    // ---- workloads ----------------------------------------------------------------------------
    // Owned pods: (namespace, owner kind, owner name) → groups of identical pods, in order.
    let mut groups: Vec<Group> = Vec::new();
    let mut owner_groups: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (pod, node) in pods.into_iter().zip(pod_nodes) {
        if !pod.owned {
            groups.push(Group {
                pods: vec![(pod, node)],
            });
            continue;
        }
        let key = (pod.namespace.clone(), pod.kind.clone(), pod.name.clone());
        let candidates = owner_groups.entry(key).or_default();
        let same = candidates.iter().copied().find(|&g| {
            groups
                .get(g)
                .and_then(|g| g.pods.first())
                .is_some_and(|(p, _)| same_class(p, &pod))
        });
        match same.and_then(|g| groups.get_mut(g)) {
            Some(group) => group.pods.push((pod, node)),
            None => {
                candidates.push(groups.len());
                groups.push(Group {
                    pods: vec![(pod, node)],
                });
            }
        }
    }
    // Report owners whose pods differ (modelled as several workloads with one display name).
    let mut reported: Vec<&Vec<usize>> = owner_groups.values().filter(|g| g.len() > 1).collect();
    reported.sort();
    for indices in reported {
        if let Some((pod, _)) = indices
            .first()
            .and_then(|&g| groups.get(g))
            .and_then(|g| g.pods.first())
        {
            let owner = format!("{}/{}[{}]", pod.namespace, pod.name, pod.kind);
            diagnostics.push(messages::owner_pods_differ(&owner, indices.len(), pod.span));
        }
    }

    let mut next_pod_ip = u32::from(POD_BASE);
    let mut workloads = Vec::with_capacity(groups.len());
    for (i, group) in groups.into_iter().enumerate() {
        let Some((first, node)) = group.pods.first() else {
            continue;
        };
        // Workloads without a known node go to the first node (the implicit `node-1` if none).
        let node_index = node.unwrap_or(0);
        let node_ip = nodes
            .get(node_index)
            .map_or(Ipv4Addr::UNSPECIFIED, |n| n.ip);
        let mut ips: Vec<Ipv4Addr> = Vec::new();
        if first.host_network {
            // §1.3 rule 18: a hostNetwork pod is its node's address.
            ips.push(node_ip);
        } else {
            for (pod, _) in &group.pods {
                for ip in &pod.pod_ips {
                    if !ips.contains(ip) {
                        ips.push(*ip);
                    }
                }
            }
            if ips.is_empty() {
                ips.push(next_free(&mut next_pod_ip, &mut used));
            }
        }
        let replicas = if first.owned {
            u32::try_from(group.pods.len()).unwrap_or(u32::MAX)
        } else {
            first.replicas
        };
        let first = first.clone();
        workloads.push(Workload {
            id: WorkloadId(u32::try_from(i).unwrap_or(u32::MAX)),
            kind: first.kind,
            name: first.name,
            namespace: first.namespace,
            labels: first.labels,
            annotations: first.annotations,
            service_account: first.service_account,
            containers: first.containers,
            host_network: first.host_network,
            node: NodeId(u32::try_from(node_index).unwrap_or(0)),
            ips,
            replicas,
            span: first.span,
        });
    }

    // ---- namespaces ---------------------------------------------------------------------------
    let mut namespaces = namespaces;
    let referenced = workloads
        .iter()
        .map(|w| &w.namespace)
        .chain(services.iter().map(|s| &s.namespace))
        .chain(policies.iter().map(|p| &p.namespace));
    let mut known: HashSet<String> = namespaces.iter().map(|n| n.name.clone()).collect();
    let mut implicit = Vec::new();
    for name in referenced {
        if known.insert(name.clone()) {
            let mut labels = Labels::new();
            labels.insert("kubernetes.io/metadata.name".to_owned(), name.clone());
            implicit.push(Namespace {
                name: name.clone(),
                labels,
                span: None,
            });
        }
    }
    namespaces.extend(implicit);

    if workloads.is_empty() {
        if let Some(span) = first_object {
            // Zero-width at the first object: the whole input is concerned, not one object.
            diagnostics.push(messages::no_workloads(crate::source::Span {
                end: span.start,
                ..span
            }));
        }
    }

    Cluster {
        namespaces,
        nodes,
        workloads,
        services,
        network_policies: policies,
        ignored,
        ..Cluster::default()
    }
}

struct Group {
    pods: Vec<(PodRecord, Option<usize>)>,
}

/// Same labels and the same container ports: one class of pods.
fn same_class(a: &PodRecord, b: &PodRecord) -> bool {
    fn ports(p: &PodRecord) -> BTreeMap<(u16, &'static str), Option<&str>> {
        p.containers
            .iter()
            .flat_map(|c| c.ports.iter())
            .map(|port| ((port.port, port.protocol.as_str()), port.name.as_deref()))
            .collect()
    }
    a.labels == b.labels && a.host_network == b.host_network && ports(a) == ports(b)
}

/// The next address from `*next` not in `used`; marks it used. Wraps at the end of the space
/// (never panics; unreachable in practice).
fn next_free(next: &mut u32, used: &mut HashSet<Ipv4Addr>) -> Ipv4Addr {
    loop {
        let ip = Ipv4Addr::from(*next);
        *next = next.wrapping_add(1);
        if used.insert(ip) {
            return ip;
        }
    }
}
