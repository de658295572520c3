//! Expectations: the one-line-per-flow format of `policy-playground check` and of the web app's
//! live expectations, its parser (errors are [`Diagnostic`]s with spans into the expectations
//! text), the resolution of names to flows, and the check itself.
//!
//! ```text
//! # comment
//! SRC -> DST:PORT[/PROTO] [METHOD PATH] allow|deny|unknown [at LAYER]
//! fe/web -> be/api:8080 deny at np-ingress
//! fe/web -> be/svc/api:80 allow
//! kubelet -> be/api:8080 allow
//! 172.17.2.5 -> be/api[Pod]:8080/TCP allow
//! fe/web -> be/api:8080 GET /healthz allow
//! ```
//!
//! - `ns/name` or `ns/name[Kind]`: a workload as named in the manifest (Deployment name, Pod
//!   name, owner name for owned pods), addressed directly on the pod. Several workloads sharing
//!   the name (pods of one owner with different labels) are all checked.
//! - `ns/svc/name`: through a Service, on the service port; one flow per endpoint pod.
//! - an IPv4 address: a node's address is that node (a host process, SEMANTICS.md §1.1 rule 9),
//!   a pod's address is that pod, anything else is external.
//! - `kubelet` (source only): the kubelet probe of a destination container probe on that port.
//! - `ns/name!bypass` (source only): that workload bypassing its own sidecar or ztunnel
//!   redirection (a compromised pod: plaintext from its pod IP, no identity; SEMANTICS.md §3
//!   rule 6).
//! - `METHOD PATH`: the HTTP request the sidecar or waypoint sees; without it Envoy layers judge
//!   "any request" (`unknown` when the verdict depends on it).
//! - LAYER: `np-egress`, `np-ingress`, `ztunnel`, `waypoint`, `sidecar`.
//!
//! An expectation passes when every flow it resolves to has the expected verdict (and, with
//! `at LAYER`, was decided by that layer). Names that resolve to nothing make a failing result
//! with a message, never a panic. What it is not: no evaluation (that is `flows`), no prose about
//! verdicts (that is `explain`).

use std::net::Ipv4Addr;

use crate::diagnostics::Diagnostic;
use crate::flows::{
    self, node_by_ip, probe_flows, service_endpoints, workload_by_ip, Flow, FlowKind, FlowSource,
    FlowSpec, FlowTarget, HttpRequest, Options,
};
use crate::iprange::Ipv4Range;
use crate::model::{Cluster, Protocol, WorkloadId};
use crate::source::{SourceId, Span};
use crate::verdict::{Decision, Layer};

/// One side of an expectation or query, as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EndpointSpec {
    /// `ns/name` or `ns/name[Kind]`.
    Workload {
        namespace: String,
        name: String,
        kind: Option<String>,
    },
    /// `ns/svc/name`.
    Service {
        namespace: String,
        name: String,
    },
    Ip(Ipv4Addr),
    Kubelet,
    /// `ns/name!bypass` or `ns/name[Kind]!bypass` (source only): the workload bypassing its own
    /// proxy (SEMANTICS.md §3 rule 6).
    Bypass {
        namespace: String,
        name: String,
        kind: Option<String>,
    },
}

/// A flow to look up: `SRC -> DST:PORT/PROTO [METHOD PATH]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    pub src: EndpointSpec,
    pub dst: EndpointSpec,
    pub protocol: Protocol,
    pub port: u16,
    pub http: Option<HttpRequest>,
}

/// One parsed expectation line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// 1-based line in the expectations text.
    pub line: u32,
    /// The expectation without comment and surrounding blanks.
    pub text: String,
    pub span: Span,
    pub query: Query,
    pub verdict: Decision,
    /// `at LAYER`: the layer that must have decided (a deny or unknown).
    pub layer: Option<Layer>,
}

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectationResult {
    pub expectation: Expectation,
    /// The flows the expectation resolved to (several for a Service with several endpoints, or
    /// a name shared by several workloads). Empty when the names did not resolve.
    pub flows: Vec<Flow>,
    pub pass: bool,
    /// Why it failed, when it did: `expected deny at np-ingress, got allow`, or a name that did
    /// not resolve.
    pub message: Option<String>,
}

/// Parse an expectations text. Lines with errors are reported and skipped; the others are kept.
pub fn parse(source: SourceId, text: &str) -> (Vec<Expectation>, Vec<Diagnostic>) {
    let mut expectations = Vec::new();
    let mut diagnostics = Vec::new();
    let mut offset = 0usize;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let tokens = tokenize(raw, offset);
        offset += raw.len() + 1;
        if tokens.is_empty() {
            continue;
        }
        match parse_line(source, line_no, &tokens) {
            Ok(e) => expectations.push(e),
            Err(d) => diagnostics.push(d),
        }
    }
    (expectations, diagnostics)
}

/// Parse one side: `ns/name`, `ns/name[Kind]`, `ns/svc/name`, an IPv4 address, `kubelet`.
pub fn parse_endpoint(text: &str) -> Result<EndpointSpec, (String, Option<String>)> {
    if text == "kubelet" {
        return Ok(EndpointSpec::Kubelet);
    }
    if let Ok(ip) = text.parse::<Ipv4Addr>() {
        return Ok(EndpointSpec::Ip(ip));
    }
    if let Some(workload) = text.strip_suffix("!bypass") {
        return match parse_endpoint(workload) {
            Ok(EndpointSpec::Workload {
                namespace,
                name,
                kind,
            }) => Ok(EndpointSpec::Bypass {
                namespace,
                name,
                kind,
            }),
            _ => Err((
                format!("cannot read `{text}` as a bypassing workload"),
                Some("write `ns/name!bypass` (a workload bypassing its own proxy)".into()),
            )),
        };
    }
    let parts: Vec<&str> = text.split('/').collect();
    let valid = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    match parts.as_slice() {
        [namespace, "svc", name] if valid(namespace) && valid(name) => Ok(EndpointSpec::Service {
            namespace: (*namespace).to_string(),
            name: (*name).to_string(),
        }),
        [namespace, name] if valid(namespace) && valid(name) => {
            let (name, kind) = match name.split_once('[') {
                Some((n, rest)) => match rest.strip_suffix(']') {
                    Some(kind) if !kind.is_empty() && !n.is_empty() => (n, Some(kind.to_string())),
                    _ => return Err(bad_endpoint(text)),
                },
                None => (*name, None),
            };
            Ok(EndpointSpec::Workload {
                namespace: (*namespace).to_string(),
                name: name.to_string(),
                kind,
            })
        }
        _ => Err(bad_endpoint(text)),
    }
}

/// Parse a destination with its port: `DST:PORT[/PROTO]` (protocol defaults to TCP).
pub fn parse_target(text: &str) -> Result<(EndpointSpec, u16, Protocol), (String, Option<String>)> {
    let Some((endpoint, port)) = text.rsplit_once(':') else {
        return Err((
            format!("missing port in `{text}`"),
            Some(
                "write the destination as `DST:PORT`, e.g. `be/api:8080` or `be/api:53/UDP`".into(),
            ),
        ));
    };
    let (port, protocol) = match port.split_once('/') {
        Some((p, proto)) => match Protocol::parse(&proto.to_ascii_uppercase()) {
            Some(protocol) => (p, protocol),
            None => {
                return Err((
                    format!("unknown protocol `{proto}`"),
                    Some("use `TCP`, `UDP` or `SCTP`".into()),
                ))
            }
        },
        None => (port, Protocol::Tcp),
    };
    let port = match port.parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => {
            return Err((
                format!("invalid port `{port}`"),
                Some("a port is a number from 1 to 65535".into()),
            ))
        }
    };
    let endpoint = parse_endpoint(endpoint)?;
    Ok((endpoint, port, protocol))
}

/// The flows a query names, judged under `options`; an error message when a name does not
/// resolve or the query cannot be a flow.
pub fn resolve(cluster: &Cluster, query: &Query, options: &Options) -> Result<Vec<Flow>, String> {
    let specs = resolve_specs(cluster, query)?;
    Ok(specs
        .into_iter()
        .enumerate()
        .map(|(id, spec)| flows::evaluate(cluster, id, spec, options))
        .collect())
}

/// Check every expectation.
pub fn check(
    cluster: &Cluster,
    expectations: &[Expectation],
    options: &Options,
) -> Vec<ExpectationResult> {
    expectations
        .iter()
        .map(|e| check_one(cluster, e, options))
        .collect()
}

/// Check one expectation.
pub fn check_one(
    cluster: &Cluster,
    expectation: &Expectation,
    options: &Options,
) -> ExpectationResult {
    let flows = match resolve(cluster, &expectation.query, options) {
        Ok(flows) => flows,
        Err(message) => {
            return ExpectationResult {
                expectation: expectation.clone(),
                flows: Vec::new(),
                pass: false,
                message: Some(message),
            }
        }
    };
    let meets = |f: &Flow| {
        f.verdict == expectation.verdict
            && expectation
                .layer
                .is_none_or(|layer| f.decided_by == Some(layer))
    };
    let pass = !flows.is_empty() && flows.iter().all(meets);
    let message = (!pass).then(|| {
        let expected = verdict_words(expectation.verdict, expectation.layer);
        let got: Vec<String> = flows
            .iter()
            .filter(|f| !meets(f))
            .map(|f| verdict_words(f.verdict, f.decided_by))
            .collect();
        if flows.len() > 1 {
            format!(
                "expected {expected} for all {} flows, got {} for {}",
                flows.len(),
                got.join(", "),
                if got.len() == 1 { "one" } else { "several" }
            )
        } else {
            format!("expected {expected}, got {}", got.join(", "))
        }
    });
    ExpectationResult {
        expectation: expectation.clone(),
        flows,
        pass,
        message,
    }
}

// --- resolution ----------------------------------------------------------------------------

fn resolve_specs(cluster: &Cluster, query: &Query) -> Result<Vec<FlowSpec>, String> {
    if query.dst == EndpointSpec::Kubelet {
        return Err("`kubelet` can only be a source".to_string());
    }
    if matches!(query.dst, EndpointSpec::Bypass { .. }) {
        return Err(
            "`!bypass` marks a source that bypasses its own proxy; a destination cannot"
                .to_string(),
        );
    }
    if query.src == EndpointSpec::Kubelet {
        return kubelet_specs(cluster, query);
    }
    let bypass = matches!(query.src, EndpointSpec::Bypass { .. });
    let sources: Vec<FlowSource> = match &query.src {
        EndpointSpec::Workload {
            namespace,
            name,
            kind,
        }
        | EndpointSpec::Bypass {
            namespace,
            name,
            kind,
        } => find_workloads(cluster, namespace, name, kind.as_deref())?
            .into_iter()
            .map(FlowSource::Workload)
            .collect(),
        EndpointSpec::Service { namespace, name } => {
            return Err(format!(
                "a Service cannot be a source: `{namespace}/svc/{name}` (name a workload instead)"
            ))
        }
        EndpointSpec::Ip(ip) => vec![
            match (node_by_ip(cluster, *ip), workload_by_ip(cluster, *ip)) {
                (Some(node), _) => FlowSource::Node(node),
                (None, Some(w)) => FlowSource::Workload(w),
                (None, None) => FlowSource::External(single(*ip)),
            },
        ],
        EndpointSpec::Kubelet => Vec::new(),
    };
    let targets: Vec<FlowTarget> = match &query.dst {
        EndpointSpec::Workload {
            namespace,
            name,
            kind,
        } => find_workloads(cluster, namespace, name, kind.as_deref())?
            .into_iter()
            .map(FlowTarget::Workload)
            .collect(),
        EndpointSpec::Service { namespace, name } => {
            service_targets(cluster, namespace, name, query)?
        }
        EndpointSpec::Ip(ip) => vec![match workload_by_ip(cluster, *ip) {
            Some(w) => FlowTarget::Workload(w),
            None => FlowTarget::External(single(*ip)),
        }],
        EndpointSpec::Kubelet | EndpointSpec::Bypass { .. } => Vec::new(),
    };
    let asked = if bypass {
        FlowKind::Bypass
    } else {
        FlowKind::App
    };
    let mut res = Vec::new();
    for src in &sources {
        for dst in &targets {
            res.push(FlowSpec {
                kind: flows::classify(cluster, src, dst, query.protocol, asked),
                src: *src,
                dst: *dst,
                protocol: query.protocol,
                port: query.port,
                http: query.http.clone(),
                probe: None,
            });
        }
    }
    Ok(res)
}

fn kubelet_specs(cluster: &Cluster, query: &Query) -> Result<Vec<FlowSpec>, String> {
    let EndpointSpec::Workload {
        namespace,
        name,
        kind,
    } = &query.dst
    else {
        return Err("a `kubelet` source needs a workload destination (`ns/name:PORT`)".to_string());
    };
    let mut res = Vec::new();
    for id in find_workloads(cluster, namespace, name, kind.as_deref())? {
        let Some(w) = cluster.workloads.iter().find(|w| w.id == id) else {
            continue;
        };
        res.extend(
            probe_flows(w)
                .into_iter()
                .filter(|f| f.port == query.port && f.protocol == query.protocol),
        );
    }
    if res.is_empty() {
        return Err(format!(
            "`{namespace}/{name}` has no httpGet, tcpSocket or grpc probe on port {}/{}",
            query.port,
            query.protocol.as_str()
        ));
    }
    // Several probes on one port (liveness and readiness) take the same path: keep one per
    // HTTP request.
    res.dedup_by(|a, b| a.dst == b.dst && a.http == b.http);
    Ok(res)
}

fn find_workloads(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    kind: Option<&str>,
) -> Result<Vec<WorkloadId>, String> {
    let found: Vec<WorkloadId> = cluster
        .workloads
        .iter()
        .filter(|w| w.namespace == namespace && w.name == name && kind.is_none_or(|k| w.kind == k))
        .map(|w| w.id)
        .collect();
    if found.is_empty() {
        let shown = match kind {
            Some(k) => format!("{namespace}/{name}[{k}]"),
            None => format!("{namespace}/{name}"),
        };
        let in_ns: Vec<String> = cluster
            .workloads
            .iter()
            .filter(|w| w.namespace == namespace)
            .map(|w| format!("`{}`", w.display_name()))
            .collect();
        return Err(if in_ns.is_empty() {
            format!("no workload `{shown}` in the input (namespace `{namespace}` has none)")
        } else {
            format!(
                "no workload `{shown}` in the input (namespace `{namespace}` has {})",
                in_ns.join(", ")
            )
        });
    }
    Ok(found)
}

fn service_targets(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    query: &Query,
) -> Result<Vec<FlowTarget>, String> {
    let Some(index) = cluster
        .services
        .iter()
        .position(|s| s.namespace == namespace && s.name == name)
    else {
        return Err(format!("no Service `{namespace}/{name}` in the input"));
    };
    let service = &cluster.services[index];
    if !service
        .ports
        .iter()
        .any(|p| p.port == query.port && p.protocol == query.protocol)
    {
        let ports: Vec<String> = service
            .ports
            .iter()
            .map(|p| format!("{}/{}", p.port, p.protocol.as_str()))
            .collect();
        return Err(format!(
            "Service `{namespace}/{name}` has no port {}/{} (it has {})",
            query.port,
            query.protocol.as_str(),
            if ports.is_empty() {
                "none".to_string()
            } else {
                ports.join(", ")
            }
        ));
    }
    let endpoints = service_endpoints(cluster, index, query.port);
    if endpoints.is_empty() {
        return Err(format!(
            "Service `{namespace}/{name}` has no endpoint pod for port {} (no pod matches its selector and has the target port)",
            query.port
        ));
    }
    Ok(endpoints
        .into_iter()
        .map(|(endpoint, _)| FlowTarget::Service {
            service: index,
            port: query.port,
            endpoint,
        })
        .collect())
}

fn single(ip: Ipv4Addr) -> Ipv4Range {
    Ipv4Range {
        start: u32::from(ip),
        end: u32::from(ip),
    }
}

fn verdict_words(decision: Decision, layer: Option<Layer>) -> String {
    match layer {
        Some(layer) if decision != Decision::Allow => format!("{} at {layer}", decision.as_str()),
        _ => decision.as_str().to_string(),
    }
}

// --- the line parser -----------------------------------------------------------------------

/// A word of a line and its byte range in the whole text.
struct Token<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

/// Words of one line up to a `#` that starts a word (a comment).
fn tokenize(line: &str, offset: usize) -> Vec<Token<'_>> {
    let mut res = Vec::new();
    let mut start = None;
    for (i, c) in line
        .char_indices()
        .chain(std::iter::once((line.len(), ' ')))
    {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                res.push(Token {
                    text: &line[s..i],
                    start: offset + s,
                    end: offset + i,
                });
            }
        } else if start.is_none() {
            if c == '#' {
                break;
            }
            start = Some(i);
        }
    }
    res
}

fn parse_line(
    source: SourceId,
    line: u32,
    tokens: &[Token<'_>],
) -> Result<Expectation, Diagnostic> {
    let span_of = |t: &Token<'_>| Span::new(source, t.start, t.end);
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return Err(messages::syntax(Span::new(source, 0, 0)));
    };
    let whole = Span::new(source, first.start, last.end);
    let src_token = first;
    let Some(arrow) = tokens.get(1) else {
        return Err(messages::syntax(whole));
    };
    if arrow.text != "->" {
        return Err(messages::expected_arrow(arrow.text, span_of(arrow)));
    }
    let Some(dst_token) = tokens.get(2) else {
        return Err(messages::syntax(whole));
    };
    let src = parse_endpoint(src_token.text)
        .map_err(|(m, h)| messages::with_help(messages::endpoint(m, span_of(src_token)), h))?;
    let (dst, port, protocol) = parse_target(dst_token.text)
        .map_err(|(m, h)| messages::with_help(messages::endpoint(m, span_of(dst_token)), h))?;
    let mut rest = tokens.get(3..).unwrap_or(&[]);
    let mut http = None;
    if let Some(method) = rest.first() {
        if parse_decision(method.text).is_none() {
            let Some(path) = rest.get(1) else {
                return Err(messages::missing_verdict(span_of(method)));
            };
            if !method.text.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(messages::bad_method(method.text, span_of(method)));
            }
            if !path.text.starts_with('/') {
                return Err(messages::bad_path(path.text, span_of(path)));
            }
            http = Some(HttpRequest {
                method: method.text.to_string(),
                path: path.text.to_string(),
            });
            rest = rest.get(2..).unwrap_or(&[]);
        }
    }
    let Some(verdict_token) = rest.first() else {
        return Err(messages::missing_verdict(Span::new(
            source, last.end, last.end,
        )));
    };
    let Some(verdict) = parse_decision(verdict_token.text) else {
        return Err(messages::bad_verdict(
            verdict_token.text,
            span_of(verdict_token),
        ));
    };
    let layer = match rest.get(1..).unwrap_or(&[]) {
        [] => None,
        [at, layer] if at.text == "at" => match Layer::parse(layer.text) {
            Some(_) if verdict == Decision::Allow => {
                return Err(messages::layer_on_allow(Span::new(
                    source, at.start, layer.end,
                )))
            }
            Some(l) => Some(l),
            None => return Err(messages::bad_layer(layer.text, span_of(layer))),
        },
        [at] if at.text == "at" => return Err(messages::missing_layer(span_of(at))),
        [at, _, extra, ..] if at.text == "at" => {
            return Err(messages::trailing(
                extra.text,
                Span::new(source, extra.start, last.end),
            ))
        }
        [extra, ..] => {
            return Err(messages::trailing(
                extra.text,
                Span::new(source, extra.start, last.end),
            ))
        }
    };
    let text = tokens.iter().map(|t| t.text).collect::<Vec<_>>().join(" ");
    Ok(Expectation {
        line,
        text,
        span: whole,
        query: Query {
            src,
            dst,
            protocol,
            port,
            http,
        },
        verdict,
        layer,
    })
}

fn parse_decision(s: &str) -> Option<Decision> {
    match s {
        "allow" => Some(Decision::Allow),
        "deny" => Some(Decision::Deny),
        "unknown" => Some(Decision::Unknown),
        _ => None,
    }
}

fn bad_endpoint(text: &str) -> (String, Option<String>) {
    (
        format!("cannot read `{text}` as a source or destination"),
        Some("use `ns/name`, `ns/name[Kind]`, `ns/svc/name`, an IPv4 address, `kubelet`, or `ns/name!bypass`".into()),
    )
}

/// Expectation diagnostics (`PP5xxx`), in the house voice (STYLE.md house rule 4).
mod messages {
    use crate::diagnostics::Diagnostic;
    use crate::source::Span;

    const FORMAT: &str =
        "write `SRC -> DST:PORT[/PROTO] [METHOD PATH] allow|deny|unknown [at LAYER]`";

    pub fn with_help(d: Diagnostic, help: Option<String>) -> Diagnostic {
        match help {
            Some(h) => d.with_help(h),
            None => d,
        }
    }
    pub fn syntax(span: Span) -> Diagnostic {
        Diagnostic::error("PP5001", "incomplete expectation", span).with_help(FORMAT)
    }
    pub fn expected_arrow(found: &str, span: Span) -> Diagnostic {
        Diagnostic::error("PP5001", format!("expected `->`, found `{found}`"), span)
            .with_help(FORMAT)
    }
    pub fn trailing(found: &str, span: Span) -> Diagnostic {
        Diagnostic::error(
            "PP5001",
            format!("unexpected `{found}` after the verdict"),
            span,
        )
        .with_help("only `at LAYER` may follow the verdict")
    }
    pub fn endpoint(message: String, span: Span) -> Diagnostic {
        Diagnostic::error("PP5002", message, span)
    }
    pub fn bad_method(found: &str, span: Span) -> Diagnostic {
        Diagnostic::error("PP5003", format!("`{found}` is not a verdict or an HTTP method"), span)
            .with_help("the verdict is `allow`, `deny` or `unknown`; an HTTP method is upper case, e.g. `GET /api`")
    }
    pub fn bad_path(found: &str, span: Span) -> Diagnostic {
        Diagnostic::error(
            "PP5003",
            format!("HTTP path `{found}` does not start with `/`"),
            span,
        )
    }
    pub fn missing_verdict(span: Span) -> Diagnostic {
        Diagnostic::error("PP5004", "missing verdict", span)
            .with_help("end the expectation with `allow`, `deny` or `unknown`")
    }
    pub fn bad_verdict(found: &str, span: Span) -> Diagnostic {
        Diagnostic::error("PP5004", format!("unknown verdict `{found}`"), span)
            .with_help("use `allow`, `deny` or `unknown`")
    }
    pub fn missing_layer(span: Span) -> Diagnostic {
        Diagnostic::error("PP5005", "missing layer after `at`", span)
            .with_help("use one of `np-egress`, `np-ingress`, `ztunnel`, `waypoint`, `sidecar`")
    }
    pub fn bad_layer(found: &str, span: Span) -> Diagnostic {
        Diagnostic::error("PP5005", format!("unknown layer `{found}`"), span)
            .with_help("use one of `np-egress`, `np-ingress`, `ztunnel`, `waypoint`, `sidecar`")
    }
    pub fn layer_on_allow(span: Span) -> Diagnostic {
        Diagnostic::error(
            "PP5005",
            "`at LAYER` names the layer that denied; an `allow` has none",
            span,
        )
        .with_help("drop `at …`, or expect `deny`")
    }
}

#[cfg(test)]
mod tests;
