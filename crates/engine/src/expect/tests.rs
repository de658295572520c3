//! Unit tests for the expectations parser and check.

use super::*;
use crate::source::{LineIndex, Source};

fn parse_ok(text: &str) -> Vec<Expectation> {
    let (res, diagnostics) = parse(SourceId(9), text);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    res
}

/// `line:col message` of the first diagnostic.
fn parse_err(text: &str) -> String {
    let (_, diagnostics) = parse(SourceId(9), text);
    let d = diagnostics.first().expect("a diagnostic");
    assert_eq!(d.span.source, SourceId(9));
    let lc = LineIndex::new(text).line_col(text, d.span.start);
    format!("{lc} {}", d.message)
}

#[test]
fn full_line_with_every_part() {
    let e = parse_ok("# c\n\n  fe/web -> be/svc/api:80/udp GET /x deny at np-ingress # why\n");
    assert_eq!(e.len(), 1);
    let e = &e[0];
    assert_eq!(e.line, 3);
    assert_eq!(
        e.text,
        "fe/web -> be/svc/api:80/udp GET /x deny at np-ingress"
    );
    assert_eq!(
        e.query.src,
        EndpointSpec::Workload {
            namespace: "fe".into(),
            name: "web".into(),
            kind: None
        }
    );
    assert_eq!(
        e.query.dst,
        EndpointSpec::Service {
            namespace: "be".into(),
            name: "api".into()
        }
    );
    assert_eq!((e.query.port, e.query.protocol), (80, Protocol::Udp));
    assert_eq!(
        e.query.http,
        Some(HttpRequest {
            method: "GET".into(),
            path: "/x".into()
        })
    );
    assert_eq!(
        (e.verdict, e.layer),
        (Decision::Deny, Some(Layer::NpIngress))
    );
}

#[test]
fn endpoint_forms() {
    let e = parse_ok("kubelet -> be/api[Deployment]:8080 allow\n10.0.0.1 -> 1.2.3.4:443 unknown");
    assert_eq!(e[0].query.src, EndpointSpec::Kubelet);
    assert_eq!(
        e[0].query.dst,
        EndpointSpec::Workload {
            namespace: "be".into(),
            name: "api".into(),
            kind: Some("Deployment".into())
        }
    );
    assert_eq!(e[1].query.src, EndpointSpec::Ip(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(e[1].query.dst, EndpointSpec::Ip(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!(e[1].verdict, Decision::Unknown);
}

#[test]
fn errors_point_at_the_bad_word() {
    assert_eq!(
        parse_err("a/b => c/d:1 allow"),
        "1:5 expected `->`, found `=>`"
    );
    assert_eq!(parse_err("\na/b -> c/d allow"), "2:8 missing port in `c/d`");
    assert_eq!(parse_err("a/b -> c/d:0 allow"), "1:8 invalid port `0`");
    assert_eq!(
        parse_err("a/b -> c/d:1/icmp allow"),
        "1:8 unknown protocol `icmp`"
    );
    assert_eq!(parse_err("a/b -> c/d:1 alow"), "1:14 missing verdict");
    assert_eq!(
        parse_err("a/b -> c/d:1 maybe so"),
        "1:14 `maybe` is not a verdict or an HTTP method"
    );
    assert_eq!(
        parse_err("a/b -> c/d:1 deny at l7"),
        "1:22 unknown layer `l7`"
    );
    assert_eq!(
        parse_err("a/b -> c/d:1 allow at ztunnel"),
        "1:20 `at LAYER` names the layer that denied; an `allow` has none"
    );
    assert_eq!(
        parse_err("a/b/c/d -> c/d:1 allow"),
        "1:1 cannot read `a/b/c/d` as a source or destination"
    );
    assert_eq!(
        parse_err("a/b -> c/d:1 deny at np-egress x"),
        "1:32 unexpected `x` after the verdict"
    );
    // Good lines around a bad one are kept.
    let (ok, bad) = parse(SourceId(0), "a/b -> c/d:1 allow\nnope\na/b -> c/d:2 deny\n");
    assert_eq!((ok.len(), bad.len()), (2, 1));
}

const CLUSTER: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: fe, labels: {app: web}}
spec: {containers: [{name: web}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: be}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: be}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: be}
spec: {podSelector: {}, policyTypes: [Ingress]}
"#;

fn run(expectations: &str) -> Vec<ExpectationResult> {
    let analysis = crate::analyze(&[Source::new("c.yaml", CLUSTER)]);
    check(
        &analysis.cluster,
        &parse_ok(expectations),
        &Options::default(),
    )
}

#[test]
fn check_passes_and_fails_with_reasons() {
    let res = run("fe/web -> be/api:8080 deny at np-ingress\n\
                   fe/web -> be/api[Deployment]:8080 deny\n\
                   fe/web -> be/svc/api:80 allow\n\
                   fe/web -> be/api:8080 deny at np-egress\n");
    let pass: Vec<bool> = res.iter().map(|r| r.pass).collect();
    assert_eq!(pass, [true, true, false, false]);
    assert_eq!(
        res[2].message.as_deref(),
        Some("expected allow, got deny at np-ingress")
    );
    assert_eq!(res[2].flows.len(), 1);
    assert_eq!(
        res[3].message.as_deref(),
        Some("expected deny at np-egress, got deny at np-ingress")
    );
}

#[test]
fn unknown_names_fail_with_a_message() {
    let res = run("fe/nope -> be/api:8080 deny\n\
                   fe/web -> be/svc/nope:80 deny\n\
                   fe/web -> be/svc/api:81 deny\n\
                   be/svc/api -> fe/web:80 deny\n\
                   kubelet -> be/api:8080 allow\n\
                   fe/web -> kubelet:1 allow\n\
                   fe/web -> be/api[Pod]:8080 deny\n");
    let messages: Vec<&str> = res
        .iter()
        .map(|r| r.message.as_deref().unwrap_or(""))
        .collect();
    assert!(res.iter().all(|r| !r.pass && r.flows.is_empty()));
    assert_eq!(
        messages,
        [
            "no workload `fe/nope` in the input (namespace `fe` has `fe/web[Pod]`)",
            "no Service `be/nope` in the input",
            "Service `be/api` has no port 81/TCP (it has 80/TCP)",
            "a Service cannot be a source: `be/svc/api` (name a workload instead)",
            "`be/api` has no httpGet, tcpSocket or grpc probe on port 8080/TCP",
            "`kubelet` can only be a source",
            "no workload `be/api[Pod]` in the input (namespace `be` has `be/api[Deployment]`)",
        ]
    );
}

#[test]
fn addresses_map_to_pods_and_externals() {
    let analysis = crate::analyze(&[Source::new("c.yaml", CLUSTER)]);
    let web_ip = analysis.cluster.workloads[0].ip();
    let text = format!("{web_ip} -> be/api:8080 deny\n203.0.113.9 -> be/api:8080 deny\nfe/web -> 203.0.113.9:443 allow\n");
    let res = check(&analysis.cluster, &parse_ok(&text), &Options::default());
    assert!(res.iter().all(|r| r.pass), "{res:?}");
    assert_eq!(
        res[0].flows[0].src,
        FlowSource::Workload(analysis.cluster.workloads[0].id)
    );
    assert_eq!(res[1].flows[0].kind, FlowKind::External);
}
