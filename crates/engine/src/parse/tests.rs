//! Unit tests for the parse layer: one helper, one input per test.
#![allow(clippy::panic, reason = "tests fail by panicking")]

use super::*;
use crate::diagnostics::Severity;
use crate::model::{PortRef, ProbeAction, Protocol};
use crate::netpol::PeerKind;
use crate::selector::Expression;

fn run(text: &str) -> (Cluster, Vec<Diagnostic>) {
    parse(&[Source::new("test.yaml", text)])
}

fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code).collect()
}

fn has(diags: &[Diagnostic], code: &str, severity: Severity) -> bool {
    diags
        .iter()
        .any(|d| d.code == code && d.severity == severity)
}

#[track_caller]
fn policy(text: &str) -> (NetworkPolicy, Vec<Diagnostic>) {
    let full = format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: ns}}\nspec:\n{text}");
    let (cluster, mut diags) = run(&full);
    diags.retain(|d| d.code != "PP1015");
    let p = cluster.network_policies.into_iter().next();
    match p {
        Some(p) => (p, diags),
        None => panic!("no policy: {diags:?}"),
    }
}

#[test]
fn deployment_becomes_one_workload_with_template_data() {
    let (c, d) = run(r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: web}
      annotations: {sidecar.istio.io/inject: "true"}
    spec:
      serviceAccountName: web-sa
      containers:
      - name: app
        ports:
        - {containerPort: 8080, name: http}
        - {containerPort: 53, protocol: UDP}
        readinessProbe: {httpGet: {port: http, path: /ready}}
        livenessProbe: {tcpSocket: {port: 8080}}
        startupProbe: {exec: {command: [true]}}
"#);
    assert!(d.is_empty(), "{d:?}");
    let w = &c.workloads[0];
    assert_eq!(w.display_name(), "shop/web[Deployment]");
    assert_eq!(w.replicas, 3);
    assert_eq!(w.service_account, "web-sa");
    assert_eq!(w.labels.get("app").map(String::as_str), Some("web"));
    assert_eq!(
        w.annotations
            .get("sidecar.istio.io/inject")
            .map(String::as_str),
        Some("true")
    );
    let ports: Vec<_> = w
        .container_ports()
        .map(|p| (p.port, p.protocol, p.name.clone()))
        .collect();
    assert_eq!(
        ports,
        [
            (8080, Protocol::Tcp, Some("http".into())),
            (53, Protocol::Udp, None)
        ]
    );
    let probes = &w.containers[0].probes;
    assert_eq!(probes.len(), 3);
    assert_eq!(
        probes[0].action,
        ProbeAction::TcpSocket {
            port: PortRef::Number(8080)
        }
    );
    assert_eq!(
        probes[1].action,
        ProbeAction::HttpGet {
            port: PortRef::Name("http".into()),
            path: "/ready".into()
        }
    );
    assert_eq!(probes[2].action, ProbeAction::Exec);
    assert_eq!(w.ips, [Ipv4Addr::new(10, 244, 0, 1)]);
    assert_eq!(c.nodes.len(), 1);
    assert_eq!(
        (c.nodes[0].name.as_str(), c.nodes[0].ip),
        ("node-1", Ipv4Addr::new(10, 0, 0, 1))
    );
    assert_eq!(c.namespaces.len(), 1);
    assert_eq!(c.namespaces[0].span, None);
    assert_eq!(
        c.namespaces[0]
            .labels
            .get("kubernetes.io/metadata.name")
            .map(String::as_str),
        Some("shop")
    );
}

#[test]
fn every_controller_kind_is_a_workload() {
    let text = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: a}
spec: {template: {metadata: {labels: {x: a}}, spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: b}
spec: {template: {spec: {hostNetwork: true, containers: []}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: c}
spec: {replicas: 2, template: {}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: d}
spec: {template: {}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: e}
spec: {parallelism: 4, template: {}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: f}
spec: {jobTemplate: {spec: {template: {metadata: {labels: {cron: "yes"}}}}}}
"#;
    let (c, d) = run(text);
    assert!(d.is_empty(), "{d:?}");
    let names: Vec<_> = c.workloads.iter().map(|w| w.display_name()).collect();
    assert_eq!(
        names,
        [
            "default/a[StatefulSet]",
            "default/b[DaemonSet]",
            "default/c[ReplicaSet]",
            "default/d[ReplicationController]",
            "default/e[Job]",
            "default/f[CronJob]"
        ]
    );
    // hostNetwork uses the node's address (§1.3 rule 18); others get pod CIDR addresses.
    assert_eq!(c.workloads[1].ips, [Ipv4Addr::new(10, 0, 0, 1)]);
    assert_eq!(c.workloads[2].replicas, 2);
    assert_eq!(c.workloads[4].replicas, 4);
    assert_eq!(
        c.workloads[5].labels.get("cron").map(String::as_str),
        Some("yes")
    );
    assert_eq!(c.workloads[2].ips, [Ipv4Addr::new(10, 244, 0, 2)]);
}

#[test]
fn pods_group_under_their_controller_owner() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata:
  name: cart-1
  labels: {app: cart}
  ownerReferences: [{kind: ReplicaSet, name: cart-74f56fd4b, controller: true}]
spec: {nodeName: n1, containers: [{name: c, ports: [{containerPort: 7070}]}]}
status: {podIP: 10.1.0.5, hostIP: 192.168.1.10}
---
apiVersion: v1
kind: Pod
metadata:
  name: cart-2
  labels: {app: cart}
  ownerReferences: [{kind: ReplicaSet, name: cart-74f56fd4b, controller: true}]
spec: {nodeName: n2, containers: [{name: c, ports: [{containerPort: 7070}]}]}
status: {podIPs: [{ip: "fd00::1"}, {ip: 10.1.0.6}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: cart-3
  labels: {app: cart, canary: "true"}
  ownerReferences: [{kind: ReplicaSet, name: cart-74f56fd4b, controller: true}]
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: static
  ownerReferences: [{kind: Node, name: n1, controller: true}]
spec: {nodeName: n1}
---
apiVersion: v1
kind: Pod
metadata:
  name: loose
  ownerReferences: [{kind: ReplicaSet, name: x}]
"#;
    let (c, d) = run(text);
    assert_eq!(codes(&d), ["PP1014"], "{d:?}");
    let names: Vec<_> = c.workloads.iter().map(|w| w.display_name()).collect();
    assert_eq!(
        names,
        [
            "default/cart-74f56fd4b[ReplicaSet]",
            "default/cart-74f56fd4b[ReplicaSet]",
            "default/static[Pod]",
            "default/loose[Pod]"
        ]
    );
    assert_eq!(
        c.workloads[0].ips,
        [Ipv4Addr::new(10, 1, 0, 5), Ipv4Addr::new(10, 1, 0, 6)]
    );
    assert_eq!(c.workloads[0].replicas, 2);
    // Nodes: n1 (hostIP 192.168.1.10), n2 (assigned from 10.0.0.0/24).
    let nodes: Vec<_> = c.nodes.iter().map(|n| (n.name.as_str(), n.ip)).collect();
    assert_eq!(
        nodes,
        [
            ("n1", Ipv4Addr::new(192, 168, 1, 10)),
            ("n2", Ipv4Addr::new(10, 0, 0, 1))
        ]
    );
    assert_eq!(
        c.workload(crate::model::WorkloadId(2)).node,
        crate::model::NodeId(0)
    );
}

#[test]
fn declared_nodes_and_namespaces() {
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: worker}
status: {addresses: [{type: Hostname, address: worker}, {type: InternalIP, address: 172.18.0.3}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {team: a, kubernetes.io/metadata.name: wrong}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: prod}
spec: {hostNetwork: true}
"#;
    let (c, d) = run(text);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        c.nodes,
        [crate::model::Node {
            name: "worker".into(),
            ip: Ipv4Addr::new(172, 18, 0, 3)
        }]
    );
    assert_eq!(c.workloads[0].ips, [Ipv4Addr::new(172, 18, 0, 3)]);
    let ns = c.namespace("prod").cloned();
    let labels = ns.map(|n| n.labels).unwrap_or_default();
    assert_eq!(
        labels
            .get("kubernetes.io/metadata.name")
            .map(String::as_str),
        Some("prod")
    );
    assert_eq!(labels.get("team").map(String::as_str), Some("a"));
}

#[test]
fn assigned_addresses_skip_declared_ones() {
    let text = "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n---\nkind: Pod\napiVersion: v1\nmetadata: {name: b}\nstatus: {podIP: 10.244.0.2}\n---\nkind: Pod\napiVersion: v1\nmetadata: {name: c}\n";
    let (c, _) = run(text);
    let ips: Vec<_> = c.workloads.iter().map(|w| w.ip()).collect();
    assert_eq!(
        ips,
        [
            Ipv4Addr::new(10, 244, 0, 1),
            Ipv4Addr::new(10, 244, 0, 2),
            Ipv4Addr::new(10, 244, 0, 3)
        ]
    );
}

#[test]
fn service_ports_and_selector() {
    let (c, d) = run(r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {port: 53, protocol: UDP}
  - {port: 70000}
---
apiVersion: v1
kind: Service
metadata: {name: external}
spec: {ports: [{port: 443, targetPort: 8443}]}
"#);
    assert_eq!(codes(&d), ["PP1012", "PP1015"], "{d:?}");
    let s = &c.services[0];
    assert_eq!(
        s.selector
            .as_ref()
            .and_then(|l| l.get("app"))
            .map(String::as_str),
        Some("web")
    );
    assert_eq!(s.ports.len(), 2);
    assert_eq!(s.ports[0].target_port, PortRef::Name("http".into()));
    assert_eq!(
        (
            s.ports[1].port,
            s.ports[1].protocol,
            s.ports[1].target_port.clone()
        ),
        (53, Protocol::Udp, PortRef::Number(53))
    );
    assert_eq!(c.services[1].selector, None);
    assert_eq!(c.services[1].ports[0].target_port, PortRef::Number(8443));
}

#[test]
fn lists_are_read_and_unknown_kinds_ignored() {
    let (c, d) = run(r#"
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: a}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}}
- {apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: vs}}
- {apiVersion: projectcalico.org/v3, kind: NetworkPolicy, metadata: {name: calico}}
"#);
    assert_eq!(c.workloads.len(), 1);
    assert_eq!(c.ignored.len(), 3);
    assert!(
        d.iter()
            .all(|d| d.severity == Severity::Info && d.code == "PP1003"),
        "{d:?}"
    );
    assert_eq!(
        d[0].message,
        "`ConfigMap` `cfg` is not modelled and was ignored"
    );
}

#[test]
fn missing_kind_and_non_objects_do_not_stop_parsing() {
    let (c, d) = run("metadata: {name: x}\n---\n[1, 2]\n---\nhello\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n");
    assert_eq!(codes(&d), ["PP1002", "PP1005", "PP1005"], "{d:?}");
    assert_eq!(d[0].severity, Severity::Error);
    assert_eq!(c.workloads.len(), 1);
}

#[test]
fn object_diagnostics() {
    let (c, d) = run(r#"
kind: Pod
metadata: {name: a, labels: {version: 1, "bad key!": x}}
spec:
  containers:
  - name: c
    ports: {containerPort: 80}
  - name: d
    ports: [{containerPort: []}, {containerPort: 0}, {containerPort: 81, protocol: ICMP}, {name: x}]
status: {podIP: not-an-ip}
---
apiVersion: v1
kind: Pod
metadata: {}
---
apiVersion: v1
kind: Pod
metadata: {name: a}
"#);
    let got = codes(&d);
    for code in [
        "PP1004", "PP1009", "PP1016", "PP1012", "PP1010", "PP1013", "PP1011",
    ] {
        assert!(got.contains(&code), "missing {code} in {d:?}");
    }
    let wrong = d
        .iter()
        .find(|d| d.message.contains("found a mapping"))
        .map(|d| d.message.clone());
    assert_eq!(
        wrong.as_deref(),
        Some("expected a sequence for `spec.containers[0].ports`, found a mapping")
    );
    // The later duplicate wins; `version: 1` is kept as the string `1`.
    assert_eq!(c.workloads.len(), 1);
}

#[test]
fn policy_types_default_per_semantics_1_1_rule_2() {
    let (p, _) = policy("  podSelector: {}\n");
    assert_eq!(
        (p.policy_types.ingress, p.policy_types.egress),
        (true, false)
    );
    let (p, _) = policy("  podSelector: {}\n  egress: [{}]\n");
    assert_eq!(
        (p.policy_types.ingress, p.policy_types.egress),
        (true, true)
    );
    let (p, _) = policy("  podSelector: {}\n  egress: []\n");
    assert_eq!(
        (p.policy_types.ingress, p.policy_types.egress),
        (true, false)
    );
    let (p, _) = policy("  podSelector: {}\n  policyTypes: [Egress]\n  ingress: [{}]\n");
    assert_eq!(
        (p.policy_types.ingress, p.policy_types.egress),
        (false, true)
    );
    assert_eq!(
        p.ingress.len(),
        1,
        "rules are kept even when their type is not listed"
    );
    let (p, _) = policy("  podSelector: {}\n  policyTypes: []\n");
    assert_eq!(
        (p.policy_types.ingress, p.policy_types.egress),
        (true, false)
    );
}

#[test]
fn peers_selectors_and_ports() {
    let (p, d) = policy(
        r#"  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
      namespaceSelector: {matchExpressions: [{key: env, operator: In, values: [prod]}, {key: legacy, operator: DoesNotExist}]}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    - ipBlock: {cidr: "fd00::/8"}
    ports:
    - {port: 5432}
    - {port: 8000, endPort: 9000, protocol: UDP}
    - {protocol: SCTP}
    - {port: metrics}
"#,
    );
    assert_eq!(codes(&d), ["PP2014"], "{d:?}");
    assert_eq!(
        p.pod_selector.expressions,
        [Expression::In("app".into(), vec!["db".into()])]
    );
    let rule = &p.ingress[0];
    assert_eq!(rule.peers.len(), 3);
    match &rule.peers[0].kind {
        PeerKind::Pods {
            namespace_selector: Some(ns),
            pod_selector: Some(pods),
        } => {
            assert_eq!(ns.to_string(), "env=prod,!legacy");
            assert_eq!(pods.to_string(), "app=api");
        }
        other => panic!("{other:?}"),
    }
    match &rule.peers[1].kind {
        PeerKind::IpBlock { cidr, except } => {
            assert_eq!(cidr.to_string(), "10.0.0.0/8");
            assert_eq!(except.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rule.ports.len(), 4);
    assert_eq!(
        (rule.ports[1].protocol, rule.ports[1].end_port),
        (Protocol::Udp, Some(9000))
    );
    assert_eq!(rule.ports[2].port, None);
    assert_eq!(rule.ports[3].port, Some(PortRef::Name("metrics".into())));
}

/// Every invalid element drops its whole rule, so nothing becomes wider (see parse/netpol.rs).
#[test]
fn invalid_rule_elements_drop_the_whole_rule() {
    let cases: &[(&str, &str)] = &[
        ("- from: [{podSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}]", "PP2006"),
        ("- from: [{}]", "PP2007"),
        ("- from: [~]", "PP2007"),
        ("- from: [{ipBlock: {cidr: A}}]", "PP2008"),
        ("- from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]", "PP2009"),
        ("- from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]", "PP2009"),
        ("- ports: [{protocol: ICMP}]", "PP2010"),
        ("- ports: [{port: 0}]", "PP2011"),
        ("- ports: [{port: 65536}]", "PP2011"),
        ("- ports: [{port: \"80\"}]", "PP2011"),
        ("- ports: [{port: http, endPort: 90}]", "PP2012"),
        ("- ports: [{endPort: 90}]", "PP2012"),
        ("- ports: [{port: 10, endPort: 1}]", "PP2013"),
        ("- ports: [{port: 10, endPort: 70000}]", "PP2013"),
        ("- from: [{podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}}]", "PP2002"),
        ("- from: [{podSelector: {matchExpressions: [{key: a, operator: In}]}}]", "PP2003"),
        ("- from: [{podSelector: {matchExpressions: [{key: a, operator: Exists, values: [b]}]}}]", "PP2004"),
        ("- from: [{podSelector: {matchExpressions: [{operator: Exists}]}}]", "PP2015"),
        ("- from: {podSelector: {}}", "PP1009"),
        ("- from: [{podSelector: app=web}]", "PP1009"),
    ];
    for (rule, code) in cases {
        let (p, d) = policy(&format!(
            "  podSelector: {{}}\n  ingress:\n  {rule}\n  - from: [{{podSelector: {{}}}}]\n"
        ));
        assert!(
            has(&d, code, Severity::Error),
            "{rule}: expected {code}, got {d:?}"
        );
        assert_eq!(
            p.ingress.len(),
            1,
            "{rule}: the bad rule must be dropped, the good one kept"
        );
        assert!(p.policy_types.ingress);
    }
}

#[test]
fn unknown_operator_help_lists_the_four() {
    let (_, d) =
        policy("  podSelector: {matchExpressions: [{key: a, operator: in, values: [x]}]}\n");
    let diag = d.iter().find(|d| d.code == "PP2002").cloned();
    let help = diag.and_then(|d| d.help).unwrap_or_default();
    assert!(
        help.contains("`In`, `NotIn`, `Exists`, `DoesNotExist`"),
        "{help}"
    );
}

#[test]
fn invalid_pod_selector_isolates_namespace_with_no_rules() {
    let (p, d) = policy("  podSelector: {matchExpressions: [{key: a, operator: Bad}]}\n  ingress: [{}]\n  egress: [{}]\n");
    assert!(has(&d, "PP2016", Severity::Error), "{d:?}");
    assert!(p.pod_selector.is_empty());
    assert!(p.ingress.is_empty() && p.egress.is_empty());
    assert!(p.policy_types.ingress && p.policy_types.egress);
    let (p, d) = policy("  podSelector: web\n");
    assert!(
        has(&d, "PP1009", Severity::Error) && has(&d, "PP2016", Severity::Error),
        "{d:?}"
    );
    assert!(p.pod_selector.is_empty());
}

#[test]
fn invalid_policy_type_isolates_unlisted_directions() {
    let (p, d) = policy(
        "  podSelector: {}\n  policyTypes: [Ingress, Egres]\n  ingress: [{}]\n  egress: [{}]\n",
    );
    assert!(has(&d, "PP2001", Severity::Error), "{d:?}");
    assert!(p.policy_types.ingress && p.policy_types.egress);
    assert_eq!(p.ingress.len(), 1);
    assert!(p.egress.is_empty());
}

#[test]
fn invalid_rules_list_keeps_isolation() {
    let (p, d) = policy("  podSelector: {}\n  egress: {to: []}\n");
    assert!(has(&d, "PP2017", Severity::Error), "{d:?}");
    assert!(
        p.policy_types.egress,
        "a broken egress list still counts for the default"
    );
    assert!(p.egress.is_empty());
}

#[test]
fn selector_label_syntax_is_an_error_but_kept() {
    let (p, d) = policy("  podSelector: {matchLabels: {app@b: x}}\n  egress: [{to: [{podSelector: {matchLabels: {app: $x}}}]}]\n");
    assert_eq!(codes(&d), ["PP2005", "PP2005"], "{d:?}");
    assert_eq!(p.egress.len(), 1);
    assert_eq!(
        p.pod_selector.expressions,
        [Expression::In("app@b".into(), vec!["x".into()])]
    );
}

#[test]
fn duplicate_policies_keep_the_last() {
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}, policyTypes: [Egress]}\n";
    let (c, d) = run(text);
    assert!(has(&d, "PP1011", Severity::Error), "{d:?}");
    assert_eq!(c.network_policies.len(), 1);
    assert!(c.network_policies[0].policy_types.egress);
}

#[test]
fn diagnostics_spans_point_at_the_field() {
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 300.0.0.0/8}}]\n";
    let (_, d) = run(text);
    let diag = d.iter().find(|d| d.code == "PP2008").cloned();
    let span = diag.map(|d| d.span).unwrap_or_default();
    assert_eq!(text.get(span.range()), Some("300.0.0.0/8"));
}
