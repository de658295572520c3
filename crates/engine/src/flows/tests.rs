//! Unit tests for flow planning, the matrix and the combination of layer verdicts.

use super::*;
use crate::source::Source;

const TOPOLOGY: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 10.0.0.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status: {addresses: [{type: InternalIP, address: 10.0.0.12}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: fe, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: web}]}
status: {podIP: 10.244.1.10}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: be, labels: {app: api}}
spec:
  nodeName: n2
  containers:
    - name: api
      ports: [{name: http, containerPort: 8080}]
      readinessProbe: {httpGet: {path: /healthz, port: http}}
      livenessProbe: {exec: {command: [true]}}
status: {podIP: 10.244.2.20}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: be}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: be}
spec:
  ports: [{port: 443}]
"#;

const DENY_ALL: &str = r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: be}
spec: {podSelector: {}, policyTypes: [Ingress]}
"#;

fn cluster(extra: &str) -> Cluster {
    let analysis = crate::analyze_with(
        &[Source::new("t.yaml", format!("{TOPOLOGY}{extra}"))],
        &crate::AnalyzeOptions {
            flows: false,
            ..crate::AnalyzeOptions::default()
        },
    );
    analysis.cluster
}

fn id(cluster: &Cluster, name: &str) -> WorkloadId {
    cluster
        .workloads
        .iter()
        .find(|w| w.name == name)
        .map(|w| w.id)
        .expect("workload in the topology")
}

fn spec(src: FlowSource, dst: FlowTarget, port: u16) -> FlowSpec {
    FlowSpec {
        kind: FlowKind::App,
        src,
        dst,
        protocol: Protocol::Tcp,
        port,
        http: None,
        probe: None,
    }
}

#[test]
fn service_port_resolves_named_target_port_on_the_endpoint() {
    let c = cluster("");
    let (web, api) = (id(&c, "web"), id(&c, "api"));
    assert_eq!(service_endpoints(&c, 0, 80), vec![(api, 8080)]);
    assert!(
        service_endpoints(&c, 1, 443).is_empty(),
        "no selector, no endpoints"
    );
    let flow = evaluate(
        &c,
        0,
        spec(
            FlowSource::Workload(web),
            FlowTarget::Service {
                service: 0,
                port: 80,
                endpoint: api,
            },
            80,
        ),
        &Options::default(),
    );
    assert_eq!(flow.legs.len(), 1);
    assert_eq!(flow.legs[0].leg.port, 8080);
    assert_eq!(flow.legs[0].leg.dst, Endpoint::Pod(api));
    assert_eq!(flow.legs[0].role, LegRole::ServiceEndpoint);
    assert_eq!(flow.verdict, Decision::Allow);
    assert_eq!(flow.decided_by, None);
}

#[test]
fn deny_names_the_first_denying_layer() {
    let c = cluster(DENY_ALL);
    let (web, api) = (id(&c, "web"), id(&c, "api"));
    let flow = evaluate(
        &c,
        7,
        spec(FlowSource::Workload(web), FlowTarget::Workload(api), 8080),
        &Options::default(),
    );
    assert_eq!(flow.id, 7);
    assert_eq!(flow.verdict, Decision::Deny);
    assert_eq!(flow.decided_by, Some(Layer::NpIngress));
    let layers: Vec<(Layer, Decision)> = flow.legs[0]
        .verdicts
        .iter()
        .map(|v| (v.layer, v.decision))
        .collect();
    assert_eq!(
        layers,
        [
            (Layer::NpEgress, Decision::Allow),
            (Layer::NpIngress, Decision::Deny)
        ]
    );
}

#[test]
fn probes_leave_from_the_pods_own_node_and_exec_has_no_flow() {
    let c = cluster(DENY_ALL);
    let api = id(&c, "api");
    let w = c.workload(api);
    let probes = probe_flows(w);
    assert_eq!(probes.len(), 1, "the exec liveness probe uses no network");
    let probe = &probes[0];
    assert_eq!(probe.port, 8080, "named port `http` resolved");
    assert_eq!(probe.src, FlowSource::Kubelet(w.node));
    assert_eq!(
        probe.http,
        Some(HttpRequest {
            method: "GET".into(),
            path: "/healthz".into()
        })
    );
    let flow = evaluate(&c, 0, probe.clone(), &Options::default());
    assert_eq!(flow.legs[0].leg.src, Endpoint::Node(w.node));
    assert_eq!(flow.legs[0].role, LegRole::Probe);
    assert_eq!(
        flow.verdict,
        Decision::Allow,
        "node exemption (§1.1 rule 9)"
    );
}

#[test]
fn another_nodes_host_process_is_not_exempt() {
    let c = cluster(DENY_ALL);
    let api = id(&c, "api");
    let n1 = node_by_ip(&c, Ipv4Addr::new(10, 0, 0, 11)).expect("n1");
    let flow = evaluate(
        &c,
        0,
        spec(FlowSource::Node(n1), FlowTarget::Workload(api), 8080),
        &Options::default(),
    );
    assert_eq!(flow.verdict, Decision::Deny);
    assert_eq!(workload_by_ip(&c, Ipv4Addr::new(10, 244, 2, 20)), Some(api));
}

#[test]
fn matrix_covers_pods_services_probes_and_externals() {
    let c = cluster(DENY_ALL);
    let flows = flow_matrix(&c, &Options::default());
    let count = |kind: FlowKind| flows.iter().filter(|f| f.kind == kind).count();
    // web → api:8080, web → api Service :80; api → web has no declared port.
    assert_eq!(count(FlowKind::App), 2);
    assert_eq!(count(FlowKind::Probe), 1);
    // 0.0.0.0/0 → api:8080; web and api → 0.0.0.0/0 on the representative TCP 443.
    assert_eq!(count(FlowKind::External), 3);
    assert!(flows.iter().enumerate().all(|(i, f)| f.id == i));
    let no_external = flow_matrix(
        &c,
        &Options {
            external_flows: false,
            ..Options::default()
        },
    );
    assert_eq!(no_external.len(), 3);
}

#[test]
fn cni_profiles_resolve_by_name() {
    for name in cni_profile_names() {
        assert_eq!(cni_profile(name).map(|p| p.name), Some(name.to_string()));
    }
    assert!(Options::with_cni("nope").is_none());
}

const AMBIENT: &str = r#"
---
apiVersion: v1
kind: Namespace
metadata: {name: be, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: fe, labels: {istio.io/dataplane-mode: ambient}}
"#;

#[test]
fn ambient_flows_ride_hbone_and_probes_are_snated() {
    let c = cluster(&format!("{AMBIENT}{DENY_ALL}"));
    let (web, api) = (id(&c, "web"), id(&c, "api"));
    let flow = evaluate(
        &c,
        0,
        spec(FlowSource::Workload(web), FlowTarget::Workload(api), 8080),
        &Options::default(),
    );
    assert_eq!(flow.legs[0].role, LegRole::Hbone);
    assert_eq!(flow.legs[0].leg.port, 15008);
    assert_eq!(flow.decided_by, Some(Layer::NpIngress));
    let probe = probe_flows(c.workloads.iter().find(|w| w.id == api).expect("api"))
        .into_iter()
        .next()
        .expect("readiness probe");
    for (cni, verdict) in [
        ("generic", Decision::Deny),
        ("calico-iptables", Decision::Allow),
    ] {
        let options = Options::with_cni(cni).expect("profile");
        let flow = evaluate(&c, 0, probe.clone(), &options);
        assert_eq!(flow.legs[0].role, LegRole::ProbeSnat, "{cni}");
        assert_eq!(flow.verdict, verdict, "{cni}");
    }
    let options = Options::with_cni("calico-iptables").expect("profile");
    let flow = evaluate(&c, 0, probe, &options);
    let note = flow
        .assumption_notes
        .iter()
        .find(|n| n.assumption.flag == crate::verdict::ProfileFlag::ProbeSnatCountsAsNode)
        .expect("the SNAT flag is an assumption");
    assert_eq!(note.evidence, Evidence::Inferred);
    assert_eq!(note.profile, Some("calico-iptables"));
}

#[test]
fn envoy_without_a_request_is_unknown_only_when_the_request_matters() {
    let sidecar = r#"
---
apiVersion: v1
kind: Namespace
metadata: {name: be, labels: {istio-injection: enabled}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: be}
spec:
  action: ALLOW
  rules: [{to: [{operation: {methods: [GET]}}]}]
"#;
    let c = cluster(sidecar);
    let (web, api) = (id(&c, "web"), id(&c, "api"));
    let mut s = spec(FlowSource::Workload(web), FlowTarget::Workload(api), 8080);
    let flow = evaluate(&c, 0, s.clone(), &Options::default());
    assert_eq!(flow.verdict, Decision::Unknown);
    assert!(matches!(
        flow.legs[0].verdicts.last().map(|v| &v.reasons[0]),
        Some(Reason::DependsOnHttpRequest { .. })
    ));
    s.http = Some(HttpRequest {
        method: "POST".into(),
        path: "/".into(),
    });
    let flow = evaluate(&c, 0, s.clone(), &Options::default());
    assert_eq!(flow.decided_by, Some(Layer::Sidecar));
    assert_eq!(
        flow.legs[0].output.as_ref().and_then(|o| o.denial),
        Some(Denial::Http403)
    );
    // A DENY of everything does not depend on the request.
    let c = cluster(&sidecar.replace(
        "action: ALLOW\n  rules: [{to: [{operation: {methods: [GET]}}]}]",
        "action: DENY\n  rules: [{}]",
    ));
    s.http = None;
    let flow = evaluate(&c, 0, s, &Options::default());
    assert_eq!(flow.verdict, Decision::Deny);
}
