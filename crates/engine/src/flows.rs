//! Logical flows and their verdicts: what a user asks about (`src → dst:port/proto`, maybe an
//! HTTP request), turned into wire legs, each leg judged by every enforcement layer it meets
//! (SEMANTICS.md §0), and the whole flow matrix of a cluster ([`flow_matrix`]).
//!
//! What it is: the composition of layers. A flow becomes legs in [`plan_legs`] (Service VIPs
//! resolved to an endpoint pod and its `targetPort`; kubelet probes leave from the pod's own
//! node); each leg is judged by the NetworkPolicy egress side of its source, the ingress side of
//! its destination, then the proxy that terminates it (none yet: the Istio layers extend
//! `plan_legs` and [`evaluate_leg`]). What it is not: no policy semantics of its own (those live
//! in `netpol`), no prose (that is `explain`), no parsing of user queries (that is `expect`).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::connlist::external_ranges;
use crate::iprange::Ipv4Range;
use crate::model::{
    Cluster, Container, NodeId, PortRef, Probe, ProbeAction, ProbeKind, Protocol, Service,
    Workload, WorkloadId,
};
use crate::netpol::{self, NpProfile, PeerKind};
use crate::source::Span;
use crate::verdict::{Assumption, Decision, Endpoint, Layer, LayerVerdict, Leg};

/// How flows are judged: the CNI profile (and, later, the Istio options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How the CNI implements the implementation-defined parts of NetworkPolicy (§10).
    pub np_profile: NpProfile,
    /// Include flows from and to external address ranges in [`flow_matrix`].
    pub external_flows: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            np_profile: NpProfile::default(),
            external_flows: true,
        }
    }
}

impl Options {
    /// Options with the named CNI profile (see [`cni_profile`]); `None` for an unknown name.
    pub fn with_cni(name: &str) -> Option<Options> {
        cni_profile(name).map(|np_profile| Options {
            np_profile,
            ..Options::default()
        })
    }
}

/// The CNI profiles the engine knows, by name (the CLI's `--cni`, the web app's picker), from
/// the profile table in `profiles` (SEMANTICS.md §10.1). `generic` is the cautious default of
/// §9; `netpol-analyzer` matches that tool's conventions (ipBlock never matches pods or nodes).
pub fn cni_profile_names() -> Vec<&'static str> {
    let mut names = crate::profiles::profile_names();
    for name in ["generic", "netpol-analyzer"] {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The NetworkPolicy side of the CNI profile with this name (or alias), if the engine knows it.
pub fn cni_profile(name: &str) -> Option<NpProfile> {
    match crate::profiles::profile(name) {
        Some(profile) => Some(profile.np_profile()),
        None if name == "generic" => Some(NpProfile::default()),
        None if name == "netpol-analyzer" => Some(NpProfile::netpol_analyzer()),
        None => None,
    }
}

/// What kind of traffic a flow is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowKind {
    /// Application traffic between workloads (directly or through a Service).
    App,
    /// A kubelet health probe of a container (SEMANTICS.md §2.6 once Istio is involved).
    Probe,
    /// Plaintext traffic into the mesh from a non-mesh client (Istio layers).
    Plaintext,
    /// Traffic that bypasses the proxies (Istio layers).
    Bypass,
    /// Traffic from or to an address outside the cluster model.
    External,
}

impl FlowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::App => "app",
            FlowKind::Probe => "probe",
            FlowKind::Plaintext => "plaintext",
            FlowKind::Bypass => "bypass",
            FlowKind::External => "external",
        }
    }
}

/// Who starts a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowSource {
    Workload(WorkloadId),
    /// The kubelet of a node, probing a pod on that node.
    Kubelet(NodeId),
    /// Another host process on a node (a node address given as the source).
    Node(NodeId),
    /// An address range outside the cluster model; a single address is a one-address range.
    /// The range's first address stands for all of it (ranges are atoms of the `ipBlock` cut).
    External(Ipv4Range),
}

/// Where a flow goes, as the client addressed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowTarget {
    /// The pod itself, on the port dialled.
    Workload(WorkloadId),
    /// A Service port (`Cluster::services[service]`), reaching one endpoint pod. A Service with
    /// several endpoints gives one flow per endpoint.
    Service {
        service: usize,
        /// The service port dialled.
        port: u16,
        endpoint: WorkloadId,
    },
    External(Ipv4Range),
}

/// An HTTP request carried by a flow, for the layers that can see HTTP (waypoint, sidecar).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
}

/// The container probe a [`FlowKind::Probe`] flow stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeRef {
    pub container: String,
    pub kind: ProbeKind,
    pub span: Span,
}

/// A logical flow as asked, before judging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowSpec {
    pub kind: FlowKind,
    pub src: FlowSource,
    pub dst: FlowTarget,
    pub protocol: Protocol,
    /// The port the client dialled (a Service port for Service targets).
    pub port: u16,
    pub http: Option<HttpRequest>,
    pub probe: Option<ProbeRef>,
}

/// A judged logical flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Position in the list it was produced in.
    pub id: usize,
    pub kind: FlowKind,
    pub src: FlowSource,
    pub dst: FlowTarget,
    pub protocol: Protocol,
    pub port: u16,
    pub http: Option<HttpRequest>,
    pub probe: Option<ProbeRef>,
    /// The wire legs in order, each with every layer's verdict.
    pub legs: Vec<LegTrace>,
    /// Deny if any layer of any leg denies; else unknown if any is unknown; else allow (§0).
    pub verdict: Decision,
    /// The first denying layer in leg order (for deny), the first unknown one (for unknown).
    pub decided_by: Option<Layer>,
    /// Every profile flag any layer relied on, sorted and unique.
    pub assumptions: Vec<Assumption>,
}

impl Flow {
    /// The flow as asked, without its verdicts.
    pub fn spec(&self) -> FlowSpec {
        FlowSpec {
            kind: self.kind,
            src: self.src,
            dst: self.dst,
            protocol: self.protocol,
            port: self.port,
            http: self.http.clone(),
            probe: self.probe.clone(),
        }
    }

    /// The verdict of one layer on the first leg it judged, if any.
    pub fn layer_verdict(&self, layer: Layer) -> Option<&LayerVerdict> {
        self.legs
            .iter()
            .flat_map(|l| l.verdicts.iter())
            .find(|v| v.layer == layer)
    }
}

/// Why a leg exists (rendered by `explain`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegRole {
    /// Client pod (or external address, or host) straight to the destination pod.
    Direct,
    /// To the endpoint pod chosen behind a Service VIP (after DNAT to `targetPort`).
    ServiceEndpoint,
    /// The kubelet's probe from the pod's own node.
    Probe,
}

/// The proxy that terminates a leg and judges it after NetworkPolicy (SEMANTICS.md §0 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proxy {
    None,
    Ztunnel(WorkloadId),
    Waypoint(WorkloadId),
    Sidecar(WorkloadId),
}

/// One wire leg of a flow, planned but not yet judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlannedLeg {
    pub leg: Leg,
    pub role: LegRole,
    pub terminated_by: Proxy,
}

/// One judged wire leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegTrace {
    /// The wire tuple the CNI sees.
    pub leg: Leg,
    pub role: LegRole,
    pub terminated_by: Proxy,
    /// In evaluation order: np-egress, np-ingress, then the terminating proxy's layer.
    pub verdicts: Vec<LayerVerdict>,
}

/// Every flow of the cluster, judged (ids are positions). In this order:
/// 1. workload → every other workload, on each declared container port (deduplicated per
///    protocol and port);
/// 2. workload → every Service port with a selector, one flow per endpoint pod other than the
///    source (the endpoint must have the `targetPort`: a named one must resolve on it);
/// 3. kubelet → each container probe that uses the network (`httpGet`, `tcpSocket`, `grpc`; not
///    `exec`), from the pod's own node;
/// 4. with `options.external_flows`: every external source range (the IPv4 space cut by the
///    ingress `ipBlock`s) → every workload's container ports, and every workload → every external
///    destination range (cut by the egress `ipBlock`s) on the ports egress rules name (numeric
///    `port`s and both ends of `endPort` ranges), or TCP 443 as a representative when no egress
///    rule names a port.
///
/// Workloads that declare no container port receive no workload or external flows (use
/// `connlist` for whole port sets). hostNetwork pods are included as ordinary workloads; the
/// profile decides whether they count as their node (§1.3 rule 18).
pub fn flow_matrix(cluster: &Cluster, options: &Options) -> Vec<Flow> {
    let mut specs = Vec::new();
    for src in &cluster.workloads {
        for dst in &cluster.workloads {
            if src.id == dst.id {
                continue;
            }
            for (protocol, port) in declared_ports(dst) {
                specs.push(FlowSpec {
                    kind: FlowKind::App,
                    src: FlowSource::Workload(src.id),
                    dst: FlowTarget::Workload(dst.id),
                    protocol,
                    port,
                    http: None,
                    probe: None,
                });
            }
        }
    }
    for (index, service) in cluster.services.iter().enumerate() {
        for service_port in &service.ports {
            for (endpoint, _) in service_endpoints(cluster, index, service_port.port) {
                for src in &cluster.workloads {
                    if src.id == endpoint {
                        continue;
                    }
                    specs.push(FlowSpec {
                        kind: FlowKind::App,
                        src: FlowSource::Workload(src.id),
                        dst: FlowTarget::Service {
                            service: index,
                            port: service_port.port,
                            endpoint,
                        },
                        protocol: service_port.protocol,
                        port: service_port.port,
                        http: None,
                        probe: None,
                    });
                }
            }
        }
    }
    for w in &cluster.workloads {
        specs.extend(probe_flows(w));
    }
    if options.external_flows {
        let (sources, destinations) = external_ranges(cluster);
        for range in &sources {
            for dst in &cluster.workloads {
                for (protocol, port) in declared_ports(dst) {
                    specs.push(FlowSpec {
                        kind: FlowKind::External,
                        src: FlowSource::External(*range),
                        dst: FlowTarget::Workload(dst.id),
                        protocol,
                        port,
                        http: None,
                        probe: None,
                    });
                }
            }
        }
        let ports = external_destination_ports(cluster);
        for src in &cluster.workloads {
            for range in &destinations {
                for &(protocol, port) in &ports {
                    specs.push(FlowSpec {
                        kind: FlowKind::External,
                        src: FlowSource::Workload(src.id),
                        dst: FlowTarget::External(*range),
                        protocol,
                        port,
                        http: None,
                        probe: None,
                    });
                }
            }
        }
    }
    specs
        .into_iter()
        .enumerate()
        .map(|(id, spec)| evaluate(cluster, id, spec, options))
        .collect()
}

/// Judge one logical flow: plan its legs, judge each, combine (SEMANTICS.md §0).
pub fn evaluate(cluster: &Cluster, id: usize, spec: FlowSpec, options: &Options) -> Flow {
    let legs: Vec<LegTrace> = plan_legs(cluster, &spec, options)
        .into_iter()
        .map(|planned| evaluate_leg(cluster, &spec, planned, options))
        .collect();
    let all = || legs.iter().flat_map(|l| l.verdicts.iter());
    let first = |d: Decision| all().find(|v| v.decision == d).map(|v| v.layer);
    // "A flow is allowed only if every leg passes every layer" (§0).
    let (verdict, decided_by) = match (first(Decision::Deny), first(Decision::Unknown)) {
        (Some(layer), _) => (Decision::Deny, Some(layer)),
        (None, Some(layer)) => (Decision::Unknown, Some(layer)),
        (None, None) if legs.is_empty() => (Decision::Unknown, None),
        (None, None) => (Decision::Allow, None),
    };
    let assumptions: Vec<Assumption> = all()
        .flat_map(|v| v.assumptions.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Flow {
        id,
        kind: spec.kind,
        src: spec.src,
        dst: spec.dst,
        protocol: spec.protocol,
        port: spec.port,
        http: spec.http,
        probe: spec.probe,
        legs,
        verdict,
        decided_by,
        assumptions,
    }
}

/// The wire legs of a flow (SEMANTICS.md §0 table). Without Istio there is always one leg with
/// no proxy: a Service target is resolved to its endpoint pod and `targetPort` first ("Service
/// VIPs": NetworkPolicy sees post-DNAT traffic); a kubelet probe leaves from the pod's own node.
/// Empty when a Service port no longer resolves on the endpoint.
pub fn plan_legs(cluster: &Cluster, flow: &FlowSpec, _options: &Options) -> Vec<PlannedLeg> {
    let src = match flow.src {
        FlowSource::Workload(id) => Endpoint::Pod(id),
        FlowSource::Kubelet(node) | FlowSource::Node(node) => Endpoint::Node(node),
        FlowSource::External(range) => Endpoint::External(range.first()),
    };
    let (dst, port, role) = match flow.dst {
        FlowTarget::Workload(id) => (Endpoint::Pod(id), flow.port, LegRole::Direct),
        FlowTarget::Service {
            service,
            port,
            endpoint,
        } => {
            let target = service_endpoints(cluster, service, port)
                .into_iter()
                .find(|(w, _)| *w == endpoint)
                .map(|(_, target)| target);
            match target {
                Some(target) => (Endpoint::Pod(endpoint), target, LegRole::ServiceEndpoint),
                None => return Vec::new(),
            }
        }
        FlowTarget::External(range) => (
            Endpoint::External(range.first()),
            flow.port,
            LegRole::Direct,
        ),
    };
    let role = if flow.kind == FlowKind::Probe {
        LegRole::Probe
    } else {
        role
    };
    vec![PlannedLeg {
        leg: Leg {
            src,
            dst,
            protocol: flow.protocol,
            port,
        },
        role,
        terminated_by: Proxy::None,
    }]
}

/// Judge one leg: (1) egress NetworkPolicy of the leg's source, (2) ingress NetworkPolicy of the
/// leg's destination, (3) the proxy that terminates it (SEMANTICS.md §0 "Evaluation order per
/// leg"). Every layer is evaluated, even after a deny, so explanations show all of them.
pub fn evaluate_leg(
    cluster: &Cluster,
    _flow: &FlowSpec,
    planned: PlannedLeg,
    options: &Options,
) -> LegTrace {
    // (3) The terminating proxy: none yet. The Istio layers push their verdict here (ztunnel
    // §5, waypoint §2.5, sidecar §3) according to `planned.terminated_by`.
    let verdicts = vec![
        netpol::evaluate_egress(cluster, &planned.leg, &options.np_profile),
        netpol::evaluate_ingress(cluster, &planned.leg, &options.np_profile),
    ];
    LegTrace {
        leg: planned.leg,
        role: planned.role,
        terminated_by: planned.terminated_by,
        verdicts,
    }
}

/// The endpoint pods of a Service port and the `targetPort` on each (SEMANTICS.md §0 "Service
/// VIPs"): pods of the Service's namespace whose labels contain its selector (a missing or empty
/// selector selects none: endpoints are managed elsewhere), that have the target port (a named
/// `targetPort` resolves on the pod's container ports with the port's protocol; a pod without it
/// is not an endpoint of that port, as the endpoints controller does).
pub fn service_endpoints(cluster: &Cluster, service: usize, port: u16) -> Vec<(WorkloadId, u16)> {
    let Some(svc) = cluster.services.get(service) else {
        return Vec::new();
    };
    let Some(service_port) = svc.ports.iter().find(|p| p.port == port) else {
        return Vec::new();
    };
    cluster
        .workloads
        .iter()
        .filter(|w| selects(svc, w))
        .filter_map(|w| {
            let target = match &service_port.target_port {
                PortRef::Number(n) => Some(*n),
                PortRef::Name(name) => w
                    .container_ports()
                    .find(|cp| {
                        cp.protocol == service_port.protocol
                            && cp.name.as_deref() == Some(name.as_str())
                    })
                    .map(|cp| cp.port),
            };
            target.map(|t| (w.id, t))
        })
        .collect()
}

/// The network-using probes of a workload as kubelet flows from its own node.
pub fn probe_flows(workload: &Workload) -> Vec<FlowSpec> {
    let mut res = Vec::new();
    for container in &workload.containers {
        for probe in &container.probes {
            let Some((port, http)) = probe_target(workload, container, probe) else {
                continue;
            };
            res.push(FlowSpec {
                kind: FlowKind::Probe,
                src: FlowSource::Kubelet(workload.node),
                dst: FlowTarget::Workload(workload.id),
                protocol: Protocol::Tcp,
                port,
                http,
                probe: Some(ProbeRef {
                    container: container.name.clone(),
                    kind: probe.kind,
                    span: probe.span,
                }),
            });
        }
    }
    res
}

/// The port a probe connects to (a named port resolves on its own container first, then on any
/// container of the pod) and its HTTP request; `None` for `exec` and unresolvable names.
pub fn probe_target(
    workload: &Workload,
    container: &Container,
    probe: &Probe,
) -> Option<(u16, Option<HttpRequest>)> {
    let resolve = |port: &PortRef| match port {
        PortRef::Number(n) => Some(*n),
        PortRef::Name(name) => container
            .ports
            .iter()
            .chain(workload.container_ports())
            .find(|cp| cp.protocol == Protocol::Tcp && cp.name.as_deref() == Some(name.as_str()))
            .map(|cp| cp.port),
    };
    match &probe.action {
        ProbeAction::HttpGet { port, path } => resolve(port).map(|p| {
            (
                p,
                Some(HttpRequest {
                    method: "GET".to_string(),
                    path: path.clone(),
                }),
            )
        }),
        ProbeAction::TcpSocket { port } => resolve(port).map(|p| (p, None)),
        ProbeAction::Grpc { port } => Some((*port, None)),
        ProbeAction::Exec => None,
    }
}

/// `(protocol, port)` of every declared container port, deduplicated, sorted.
pub fn declared_ports(workload: &Workload) -> Vec<(Protocol, u16)> {
    workload
        .container_ports()
        .filter(|cp| cp.port != 0)
        .map(|cp| (cp.protocol, cp.port))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Find the node that owns an address.
pub fn node_by_ip(cluster: &Cluster, ip: Ipv4Addr) -> Option<NodeId> {
    cluster
        .nodes
        .iter()
        .position(|n| n.ip == ip)
        .map(|i| NodeId(i as u32))
}

/// Find the (non-hostNetwork) workload that owns a pod address.
pub fn workload_by_ip(cluster: &Cluster, ip: Ipv4Addr) -> Option<WorkloadId> {
    cluster
        .workloads
        .iter()
        .find(|w| !w.host_network && w.ips.contains(&ip))
        .map(|w| w.id)
}

fn selects(service: &Service, workload: &Workload) -> bool {
    match &service.selector {
        Some(selector) if !selector.is_empty() => {
            workload.namespace == service.namespace
                && selector
                    .iter()
                    .all(|(k, v)| workload.labels.get(k) == Some(v))
        }
        _ => false,
    }
}

/// Ports egress rules name, for flows to external ranges; TCP 443 when none.
fn external_destination_ports(cluster: &Cluster) -> Vec<(Protocol, u16)> {
    let mut ports = BTreeSet::new();
    for policy in &cluster.network_policies {
        for rule in &policy.egress {
            let reaches_outside = rule.peers.is_empty()
                || rule
                    .peers
                    .iter()
                    .any(|p| matches!(p.kind, PeerKind::IpBlock { .. }));
            if !reaches_outside {
                continue;
            }
            for port in &rule.ports {
                if let Some(PortRef::Number(n)) = port.port {
                    ports.insert((port.protocol, n));
                    if let Some(end) = port.end_port {
                        ports.insert((port.protocol, end));
                    }
                }
            }
        }
    }
    if ports.is_empty() {
        ports.insert((Protocol::Tcp, 443));
    }
    ports.into_iter().collect()
}

#[cfg(test)]
mod tests;
