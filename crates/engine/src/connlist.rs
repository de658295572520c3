//! netpol-analyzer's `list` output: the allowed connections between every ordered pair of peers
//! (workloads and external IPv4 ranges), as lines `src => dst : conns` or as JSON
//! (conformance README "What an expected file says").
//!
//! Uses [`NpProfile::netpol_analyzer`] by default: `ipBlock` matches external ranges only.
//! Not a general flow matrix: no Istio layers, no Service VIPs, no probes, no nodes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::anp::AdminPeerKind;
use crate::iprange::{block_ranges, partition, Ipv4Range};
use crate::model::{Cluster, WorkloadId};
use crate::netpol::{NpIndex, NpProfile, PeerKind, Rule};
use crate::portset::PortSet;
use crate::verdict::Endpoint;

/// One output line: `src => dst : conn`. `conn` is never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnLine {
    pub src: String,
    pub dst: String,
    pub conn: PortSet,
}

/// The connectivity list under netpol-analyzer's conventions.
pub fn connlist(cluster: &Cluster) -> Vec<ConnLine> {
    connlist_with(cluster, &NpProfile::netpol_analyzer())
}

/// The connectivity list under any profile. Lines are sorted byte-wise by `src`, then `dst`.
///
/// - Peers are workloads, named `ns/name[Kind]`; workloads sharing a name are one peer (union).
/// - Workload → workload: egress(src) ∩ ingress(dst) (SEMANTICS.md §1.1 rule 7). No self-loops.
/// - External ranges: sources are cut by the ingress `ipBlock`s and judged by ingress rules only;
///   destinations are cut by the egress `ipBlock`s (and ANP/BANP `networks`) and judged by egress
///   rules only.
/// - The NetworkPolicy layers include the admin tiers (ANP → NetworkPolicy → BANP, §1.6).
///   No external → external lines.
pub fn connlist_with(cluster: &Cluster, profile: &NpProfile) -> Vec<ConnLine> {
    let index = NpIndex::new(cluster, profile);
    let mut peers: BTreeMap<String, Vec<WorkloadId>> = BTreeMap::new();
    for w in &cluster.workloads {
        peers.entry(w.display_name()).or_default().push(w.id);
    }
    let (sources, destinations) = external_ranges(cluster);
    let mut res = Vec::new();
    let mut push = |src: String, dst: String, conn: PortSet| {
        if !conn.is_empty() {
            res.push(ConnLine { src, dst, conn });
        }
    };
    for (src_name, src_ids) in &peers {
        for (dst_name, dst_ids) in &peers {
            if src_name == dst_name {
                continue;
            }
            let mut conn = PortSet::empty();
            for &src in src_ids {
                for &dst in dst_ids {
                    let egress = index.allowed_egress(src, Endpoint::Pod(dst));
                    conn.add(&egress.intersection(&index.allowed_ingress(Endpoint::Pod(src), dst)));
                }
            }
            push(src_name.clone(), dst_name.clone(), conn);
        }
        for range in &destinations {
            let mut conn = PortSet::empty();
            for &src in src_ids {
                // Ranges are atoms of the cut, so their first address stands for all of them.
                conn.add(&index.allowed_egress(src, Endpoint::External(range.first())));
            }
            push(src_name.clone(), range.external_name(), conn);
        }
    }
    for range in &sources {
        for (dst_name, dst_ids) in &peers {
            let mut conn = PortSet::empty();
            for &dst in dst_ids {
                conn.add(&index.allowed_ingress(Endpoint::External(range.first()), dst));
            }
            push(range.external_name(), dst_name.clone(), conn);
        }
    }
    res.sort_by(|a, b| {
        (a.src.as_bytes(), a.dst.as_bytes()).cmp(&(b.src.as_bytes(), b.dst.as_bytes()))
    });
    res
}

/// The external source ranges (cut by ingress `ipBlock`s) and destination ranges (cut by egress
/// `ipBlock`s and the `networks` of ANP/BANP egress rules, SEMANTICS.md §1.6), each a partition
/// of the whole IPv4 space.
pub fn external_ranges(cluster: &Cluster) -> (Vec<Ipv4Range>, Vec<Ipv4Range>) {
    let blocks = |rules: fn(&crate::netpol::NetworkPolicy) -> &[Rule]| {
        cluster
            .network_policies
            .iter()
            .flat_map(|p| rules(p).iter())
            .flat_map(|r| r.peers.iter())
            .flat_map(|peer| match &peer.kind {
                PeerKind::IpBlock { cidr, except } => block_ranges(cidr, except),
                PeerKind::Pods { .. } => Vec::new(),
            })
            .collect::<Vec<_>>()
    };
    let admin_egress = cluster
        .admin_network_policies
        .iter()
        .flat_map(|p| p.egress.iter())
        .chain(
            cluster
                .baseline_admin_network_policy
                .iter()
                .flat_map(|b| b.egress.iter()),
        );
    let networks = admin_egress
        .flat_map(|r| r.peers.iter())
        .flat_map(|peer| match &peer.kind {
            AdminPeerKind::Networks(nets) => {
                nets.iter().flat_map(|n| block_ranges(n, &[])).collect()
            }
            _ => Vec::new(),
        });
    let mut egress = blocks(|p| &p.egress);
    egress.extend(networks);
    (partition(blocks(|p| &p.ingress)), partition(egress))
}

/// Text form: one `src => dst : conn` line each, newline-terminated.
pub fn render_text(lines: &[ConnLine]) -> String {
    let mut out = String::new();
    for l in lines {
        let _ = writeln!(out, "{} => {} : {}", l.src, l.dst, l.conn);
    }
    out
}

/// JSON form: `[{"src": …, "dst": …, "conn": …}, …]`, same order as the text form.
pub fn render_json(lines: &[ConnLine]) -> String {
    let mut out = String::from("[");
    for (i, l) in lines.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let _ = write!(
            out,
            "  {{\n    \"src\": {},\n    \"dst\": {},\n    \"conn\": {}\n  }}",
            json_string(&l.src),
            json_string(&l.dst),
            json_string(&l.conn.to_string())
        );
    }
    out.push_str(if lines.is_empty() { "]" } else { "\n]" });
    out
}

/// A JSON string literal (RFC 8259 escaping).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, PortRef, Protocol};
    use crate::netpol::tests::{cport, ip_block, pods, policy, rule, sel, tcp, workload};
    use crate::netpol::PolicyPort;
    use crate::source::Span;

    fn deployment(id: u32, name: &str, app: &str, port: u16) -> crate::model::Workload {
        let mut w = workload(
            id,
            "default",
            name,
            &[("app", app)],
            [10, 244, 0, id as u8 + 1],
            0,
        );
        w.kind = "Deployment".into();
        w.containers.push(Container {
            name: "server".into(),
            ports: vec![cport("http", port, Protocol::Tcp)],
            probes: Vec::new(),
        });
        w
    }

    /// `netpol-analysis-example-minimal` from the conformance corpus, built in code.
    fn example_minimal() -> Cluster {
        let udp53 = PolicyPort {
            protocol: Protocol::Udp,
            port: Some(PortRef::Number(53)),
            end_port: None,
            span: Span::default(),
        };
        Cluster {
            workloads: vec![
                deployment(0, "backend", "backendservice", 9090),
                deployment(1, "frontend", "frontend", 8080),
            ],
            network_policies: vec![
                policy(
                    "default",
                    "backend-netpol",
                    sel(&[("app", "backendservice")]),
                    Some(vec![rule(
                        vec![pods(None, Some(sel(&[("app", "frontend")])))],
                        vec![tcp(9090)],
                    )]),
                    Some(vec![]),
                ),
                policy(
                    "default",
                    "frontend-netpol",
                    sel(&[("app", "frontend")]),
                    Some(vec![rule(vec![], vec![tcp(8080)])]),
                    Some(vec![
                        rule(
                            vec![pods(None, Some(sel(&[("app", "backendservice")])))],
                            vec![tcp(9090)],
                        ),
                        rule(vec![], vec![udp53]),
                    ]),
                ),
                policy(
                    "default",
                    "default-deny-in-namespace",
                    sel(&[]),
                    Some(vec![]),
                    Some(vec![]),
                ),
            ],
            ..Cluster::default()
        }
    }

    #[test]
    fn example_minimal_matches_upstream_text() {
        let lines = connlist(&example_minimal());
        assert_eq!(
            render_text(&lines),
            "0.0.0.0-255.255.255.255[External] => default/frontend[Deployment] : TCP 8080\n\
             default/frontend[Deployment] => 0.0.0.0-255.255.255.255[External] : UDP 53\n\
             default/frontend[Deployment] => default/backend[Deployment] : TCP 9090\n"
        );
    }

    #[test]
    fn no_policies_everything_but_self_loops_and_ip_to_ip() {
        let c = Cluster {
            workloads: vec![deployment(0, "a", "a", 80), deployment(1, "b", "b", 80)],
            ..Cluster::default()
        };
        let text = render_text(&connlist(&c));
        assert_eq!(
            text,
            "0.0.0.0-255.255.255.255[External] => default/a[Deployment] : All Connections\n\
             0.0.0.0-255.255.255.255[External] => default/b[Deployment] : All Connections\n\
             default/a[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
             default/a[Deployment] => default/b[Deployment] : All Connections\n\
             default/b[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
             default/b[Deployment] => default/a[Deployment] : All Connections\n"
        );
    }

    #[test]
    fn ip_blocks_cut_sources_and_never_match_pods() {
        // b admits 10.0.0.0/8 except 10.1.0.0/16 only; a's IP is inside but a is a pod.
        let mut c = Cluster {
            workloads: vec![deployment(0, "a", "a", 80), deployment(1, "b", "b", 80)],
            ..Cluster::default()
        };
        c.network_policies.push(policy(
            "default",
            "p",
            sel(&[("app", "b")]),
            Some(vec![rule(
                vec![ip_block("10.0.0.0/8", &["10.1.0.0/16"])],
                vec![],
            )]),
            None,
        ));
        let text = render_text(&connlist(&c));
        assert_eq!(
            text,
            "0.0.0.0-9.255.255.255[External] => default/a[Deployment] : All Connections\n\
             10.0.0.0-10.0.255.255[External] => default/a[Deployment] : All Connections\n\
             10.0.0.0-10.0.255.255[External] => default/b[Deployment] : All Connections\n\
             10.1.0.0-10.1.255.255[External] => default/a[Deployment] : All Connections\n\
             10.2.0.0-10.255.255.255[External] => default/a[Deployment] : All Connections\n\
             10.2.0.0-10.255.255.255[External] => default/b[Deployment] : All Connections\n\
             11.0.0.0-255.255.255.255[External] => default/a[Deployment] : All Connections\n\
             default/a[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
             default/b[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
             default/b[Deployment] => default/a[Deployment] : All Connections\n"
        );
    }

    #[test]
    fn same_display_name_is_one_peer() {
        // Two pods of one ReplicaSet with different labels: the union is reported, no self-loop.
        let mut a1 = deployment(0, "rs", "x", 80);
        let mut a2 = deployment(1, "rs", "y", 80);
        let b = deployment(2, "b", "b", 80);
        a1.kind = "ReplicaSet".into();
        a2.kind = "ReplicaSet".into();
        let c = Cluster {
            workloads: vec![a1, a2, b],
            network_policies: vec![policy(
                "default",
                "p",
                sel(&[("app", "b")]),
                Some(vec![rule(
                    vec![pods(None, Some(sel(&[("app", "y")])))],
                    vec![tcp(80)],
                )]),
                None,
            )],
            ..Cluster::default()
        };
        let lines = connlist(&c);
        let to_b: Vec<_> = lines
            .iter()
            .filter(|l| l.dst == "default/b[Deployment]")
            .map(|l| (l.src.as_str(), l.conn.to_string()))
            .collect();
        assert_eq!(to_b, [("default/rs[ReplicaSet]", "TCP 80".to_string())]);
        assert!(lines.iter().all(|l| l.src != l.dst));
    }

    #[test]
    fn json_escaping() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(render_json(&[]), "[]");
        let lines = [ConnLine {
            src: "a".into(),
            dst: "b".into(),
            conn: PortSet::all(),
        }];
        assert_eq!(render_json(&lines), "[\n  {\n    \"src\": \"a\",\n    \"dst\": \"b\",\n    \"conn\": \"All Connections\"\n  }\n]");
        assert_eq!(render_text(&lines), "a => b : All Connections\n");
    }
}
