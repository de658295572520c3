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

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use crate::connlist::external_ranges;
use crate::iprange::Ipv4Range;
use crate::istio::envoy::{NoRequest, RbacLog};
use crate::istio::legs::{self as mesh_legs, MeshFlow, MeshLeg, MeshSource, MeshTarget};
use crate::istio::mesh::{self, DataPlane};
use crate::istio::ztunnel::Rejection;
use crate::istio::{self, Connection, Denial, MeshOptions};
use crate::model::{
    Cluster, Container, NodeId, PortRef, Probe, ProbeAction, ProbeKind, Protocol, Service,
    Workload, WorkloadId,
};
use crate::netpol::{self, NpProfile, PeerKind};
use crate::profiles::{self, CniProfile};
use crate::source::Span;
use crate::verdict::{
    Assumption, Bypass, Decision, Endpoint, Evidence, Layer, LayerVerdict, Leg, Reason,
};

/// How flows are judged: the CNI profile and the mesh-wide Istio settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How the CNI implements the implementation-defined parts of NetworkPolicy (§10). Always
    /// `cni.np_profile()` when built by [`Options::with_cni`] / [`Options::with_profile`].
    pub np_profile: NpProfile,
    /// The whole CNI profile (§10.1 row): flag values with their evidence grades and sources.
    pub cni: CniProfile,
    /// Mesh-wide Istio settings (root namespace, trust domain, istiod flags; §2.5, §4.1).
    pub mesh: MeshOptions,
    /// Include flows from and to external address ranges in [`flow_matrix`].
    pub external_flows: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options::with_profile(generic_profile())
    }
}

impl Options {
    /// Options with the named CNI profile or alias (see [`profiles::profile`]); `None` for an
    /// unknown name.
    pub fn with_cni(name: &str) -> Option<Options> {
        profiles::profile(name).map(Options::with_profile)
    }

    /// Options with this CNI profile and the default mesh settings.
    pub fn with_profile(cni: CniProfile) -> Options {
        Options {
            np_profile: cni.np_profile(),
            cni,
            mesh: MeshOptions::default(),
            external_flows: true,
        }
    }
}

/// The `generic` profile (the cautious default, §9).
fn generic_profile() -> CniProfile {
    profiles::profile("generic").unwrap_or_else(|| CniProfile {
        name: "generic",
        aliases: &[],
        summary: "unknown CNI: the cautious answer",
        node_exemption: "only traffic whose wire source is the destination pod's own node",
        cells: Vec::new(),
    })
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
    /// Application traffic between workloads (directly or through a Service), each side as
    /// its data plane sends and receives it (plain, sidecar mTLS, HBONE, waypoint).
    App,
    /// A kubelet health probe of a container (ambient SNAT to 169.254.7.127, sidecar rewrite to
    /// 15020, SEMANTICS.md §2.6, §3 rule 4).
    Probe,
    /// Plaintext into the mesh from a client outside it (a pod with no proxy), §2.4 rule 11.
    Plaintext,
    /// A meshed source pod that bypasses its own sidecar or ztunnel redirection and sends
    /// plaintext from its pod IP with no identity (§3 rule 6).
    Bypass,
    /// UDP between workloads: never captured by a sidecar or ztunnel (§2.2 rule 5, §3 rule 2).
    Udp,
    /// Traffic from or to an address outside the cluster model.
    External,
}

impl FlowKind {
    /// Every kind, in matrix order.
    pub const ALL: [FlowKind; 6] = [
        FlowKind::App,
        FlowKind::Probe,
        FlowKind::Plaintext,
        FlowKind::Bypass,
        FlowKind::Udp,
        FlowKind::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlowKind::App => "app",
            FlowKind::Probe => "probe",
            FlowKind::Plaintext => "plaintext",
            FlowKind::Bypass => "bypass",
            FlowKind::Udp => "udp",
            FlowKind::External => "external",
        }
    }

    pub fn parse(s: &str) -> Option<FlowKind> {
        FlowKind::ALL.into_iter().find(|k| k.as_str() == s)
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
    /// [`FlowKind::Bypass`] makes the source bypass its own proxy; the other kinds describe the
    /// flow ([`classify`]) and do not change how it is judged.
    pub kind: FlowKind,
    pub src: FlowSource,
    pub dst: FlowTarget,
    pub protocol: Protocol,
    /// The port the client dialled (a Service port for Service targets).
    pub port: u16,
    /// `None`: no request given. Envoy layers then judge "any request": a verdict that does not
    /// depend on the request stands, one that does is `unknown` ([`Reason::DependsOnHttpRequest`]).
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
    /// Every profile flag any layer (or a leg's shape) relied on, sorted and unique.
    pub assumptions: Vec<Assumption>,
    /// The same assumptions with their evidence grade and source (SEMANTICS.md §10 legend), in
    /// the same order.
    pub assumption_notes: Vec<AssumptionNote>,
}

/// An assumption with the evidence behind it: a CNI-profile cell (`profile` is its name) or an
/// Istio-side inference (`profile` is `None`, `istio::mesh_evidence`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumptionNote {
    pub assumption: Assumption,
    pub profile: Option<&'static str>,
    pub evidence: Evidence,
    pub source: &'static str,
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

    /// The assumptions whose evidence is not VERIFIED (REPORTED, INFERRED, UNVERIFIED).
    pub fn weak_assumptions(&self) -> impl Iterator<Item = &AssumptionNote> {
        self.assumption_notes
            .iter()
            .filter(|n| n.evidence != Evidence::Verified)
    }
}

/// Why a leg exists and what it looks like on the wire (rendered by `explain`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegRole {
    /// Client pod (or external address, or host) straight to the destination pod, no proxy.
    Direct,
    /// To the endpoint pod chosen behind a Service VIP (after DNAT to `targetPort`), no proxy.
    ServiceEndpoint,
    /// The kubelet's probe from the pod's own node on the original port.
    Probe,
    /// Sidecar → sidecar mTLS on the target port (§3 rule 3).
    SidecarMtls,
    /// HBONE to the destination pod's 15008 (§2.2 rule 6).
    Hbone,
    /// Leg 1 via a waypoint: client → waypoint pod 15008 (§2.5 rule 17).
    ToWaypoint,
    /// Leg 2 via a waypoint: waypoint pod → destination.
    FromWaypoint,
    /// Plaintext on the target port into a proxy (out-of-mesh or bypassing client).
    Plaintext,
    /// Ambient kubelet probe SNATed to 169.254.7.127, ACCEPTed before redirection (§2.6).
    ProbeSnat,
    /// Sidecar probe rewritten to 15020 from the node (§3 rule 4).
    ProbeRewrite,
    /// UDP / SCTP next to a proxy that does not capture it (§2.2 rule 5, §3 rule 2).
    NotCaptured,
}

/// The proxy that terminates a leg and judges it after NetworkPolicy (SEMANTICS.md §0 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proxy {
    None,
    Ztunnel(WorkloadId),
    Waypoint(WorkloadId),
    Sidecar(WorkloadId),
}

/// What the tools would show for a leg's proxy decision (data; `istio::logs` renders it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyOutput {
    /// How the client experiences a deny (`None` when allowed or undecided).
    pub denial: Option<Denial>,
    /// No HTTP request was given and the port may carry HTTP: a deny is a 403 for HTTP clients
    /// and a reset for raw TCP ones.
    pub request_unknown: bool,
    /// ztunnel's rejection (its access-log `error=` text).
    pub ztunnel: Option<Rejection>,
    /// Envoy RBAC debug log lines (sidecar, waypoint).
    pub rbac_log: Vec<RbacLog>,
    /// The SPIFFE identity of the workload whose proxy decided (ztunnel's `dst.identity`).
    pub dst_identity: Option<istio::Identity>,
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
    /// The connection facts the terminating proxy evaluates (peer IP, identity, the port its
    /// policies match, HTTP); `None` without a proxy.
    pub seen: Option<Connection>,
    /// The Service the client addressed, if any (`Cluster::services` index).
    pub service: Option<usize>,
    /// `Cluster::waypoints` index for waypoint legs.
    pub waypoint: Option<usize>,
    /// A proxy that would otherwise judge this traffic and does not (probe SNAT, 15020 rewrite,
    /// UDP, own-proxy bypass, waypoint skipped by an out-of-mesh client).
    pub bypassed: Option<Bypass>,
    /// What the tools print about the proxy's decision; `None` without a proxy verdict.
    pub output: Option<ProxyOutput>,
    /// Istio-side inferences the leg's shape relies on (value `true`), sorted.
    pub assumptions: Vec<Assumption>,
}

/// The kind of a flow from its ends (SEMANTICS.md §0 rows): probes and bypasses as asked,
/// external ends, UDP between workloads, a client outside the mesh reaching a meshed
/// destination (plaintext), else app traffic.
pub fn classify(
    cluster: &Cluster,
    src: &FlowSource,
    dst: &FlowTarget,
    protocol: Protocol,
    asked: FlowKind,
) -> FlowKind {
    classify_by(
        src,
        dst,
        protocol,
        asked,
        |id| match istio::find_workload(cluster, id).map(|w| mesh::dataplane(cluster, w)) {
            None | Some(DataPlane::None) => Enrolment::Outside,
            Some(DataPlane::Ambient | DataPlane::Sidecar { .. }) => Enrolment::Meshed,
            Some(DataPlane::Waypoint(_)) => Enrolment::Waypoint,
        },
    )
}

/// A workload's enrolment as [`classify_by`] needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enrolment {
    /// No proxy (or unknown workload).
    Outside,
    /// Sidecar or ambient.
    Meshed,
    /// A waypoint's own pod.
    Waypoint,
}

/// [`classify`] with the enrolment lookup supplied by the caller (the flow table passes its
/// precomputed per-workload kinds), so the rule itself exists once.
pub(crate) fn classify_by(
    src: &FlowSource,
    dst: &FlowTarget,
    protocol: Protocol,
    asked: FlowKind,
    enrolment: impl Fn(WorkloadId) -> Enrolment,
) -> FlowKind {
    if matches!(asked, FlowKind::Probe | FlowKind::Bypass) {
        return asked;
    }
    if matches!(src, FlowSource::External(_)) || matches!(dst, FlowTarget::External(_)) {
        return FlowKind::External;
    }
    if protocol == Protocol::Udp {
        return FlowKind::Udp;
    }
    let dst_meshed = match dst {
        FlowTarget::Workload(id) | FlowTarget::Service { endpoint: id, .. } => {
            enrolment(*id) == Enrolment::Meshed
        }
        FlowTarget::External(_) => false,
    };
    let src_outside = match src {
        FlowSource::Workload(id) => enrolment(*id) == Enrolment::Outside,
        _ => false,
    };
    if dst_meshed && src_outside {
        FlowKind::Plaintext
    } else {
        FlowKind::App
    }
}

/// Is the workload in the mesh (sidecar or ambient)?
pub(crate) fn meshed(cluster: &Cluster, workload: &Workload) -> bool {
    matches!(
        mesh::dataplane(cluster, workload),
        DataPlane::Ambient | DataPlane::Sidecar { .. }
    )
}

/// Every flow of the cluster, judged (ids are positions). In this order:
/// 1. workload → every other workload, on each declared container port (deduplicated per
///    protocol and port); kind `app`, `plaintext` (out-of-mesh client, meshed destination) or
///    `udp` ([`classify`]);
/// 2. workload → every Service port with a selector, one flow per endpoint pod other than the
///    source (the endpoint must have the `targetPort`: a named one must resolve on it);
/// 3. kubelet → each container probe that uses the network (`httpGet`, `tcpSocket`, `grpc`; not
///    `exec`), from the pod's own node;
/// 4. bypass: every meshed (sidecar or ambient) workload, bypassing its own proxy, → every other
///    workload's declared TCP ports and every Service TCP port (per endpoint);
/// 5. with `options.external_flows`: every external source range (the IPv4 space cut by the
///    ingress `ipBlock`s) → every workload's container ports, and every workload → every external
///    destination range (cut by the egress `ipBlock`s) on the ports egress rules name (numeric
///    `port`s and both ends of `endPort` ranges), or TCP 443 as a representative when no egress
///    rule names a port.
///
/// No flow carries an HTTP request except httpGet probes: Envoy verdicts that depend on the
/// request are `unknown` (ask with `explain --http` or an expectation's `METHOD PATH`).
/// Workloads that declare no container port receive no workload or external flows (use
/// `connlist` for whole port sets); waypoint pods are neither sources nor destinations (their
/// traffic is the second leg of the flows they serve). hostNetwork pods are included as ordinary workloads; the
/// profile decides whether they count as their node (§1.3 rule 18).
pub fn flow_matrix(cluster: &Cluster, options: &Options) -> Vec<Flow> {
    // Waypoint pods are infrastructure: their traffic is leg 2 of the flows they serve.
    let workloads: Vec<&Workload> = cluster
        .workloads
        .iter()
        .filter(|w| !matches!(mesh::dataplane(cluster, w), DataPlane::Waypoint(_)))
        .collect();
    let mut specs = Vec::new();
    let spec = |kind, src, dst, protocol, port| FlowSpec {
        kind: classify(cluster, &src, &dst, protocol, kind),
        src,
        dst,
        protocol,
        port,
        http: None,
        probe: None,
    };
    let service_targets = |src: WorkloadId, tcp_only: bool| {
        let mut res = Vec::new();
        for (index, service) in cluster.services.iter().enumerate() {
            for service_port in &service.ports {
                if tcp_only && service_port.protocol != Protocol::Tcp {
                    continue;
                }
                for (endpoint, _) in service_endpoints(cluster, index, service_port.port) {
                    if src == endpoint {
                        continue;
                    }
                    res.push((
                        FlowTarget::Service {
                            service: index,
                            port: service_port.port,
                            endpoint,
                        },
                        service_port.protocol,
                        service_port.port,
                    ));
                }
            }
        }
        res
    };
    for src in &workloads {
        for dst in &workloads {
            if src.id == dst.id {
                continue;
            }
            for (protocol, port) in declared_ports(dst) {
                specs.push(spec(
                    FlowKind::App,
                    FlowSource::Workload(src.id),
                    FlowTarget::Workload(dst.id),
                    protocol,
                    port,
                ));
            }
        }
    }
    // Services first by service, then by source (the order of the pre-mesh matrix).
    for (index, service) in cluster.services.iter().enumerate() {
        for service_port in &service.ports {
            for (endpoint, _) in service_endpoints(cluster, index, service_port.port) {
                for src in &workloads {
                    if src.id == endpoint {
                        continue;
                    }
                    specs.push(spec(
                        FlowKind::App,
                        FlowSource::Workload(src.id),
                        FlowTarget::Service {
                            service: index,
                            port: service_port.port,
                            endpoint,
                        },
                        service_port.protocol,
                        service_port.port,
                    ));
                }
            }
        }
    }
    for w in &workloads {
        specs.extend(probe_flows(w));
    }
    for src in workloads.iter().filter(|w| meshed(cluster, w)) {
        for dst in &workloads {
            if src.id == dst.id {
                continue;
            }
            for (protocol, port) in declared_ports(dst) {
                if protocol == Protocol::Tcp {
                    specs.push(spec(
                        FlowKind::Bypass,
                        FlowSource::Workload(src.id),
                        FlowTarget::Workload(dst.id),
                        protocol,
                        port,
                    ));
                }
            }
        }
        for (dst, protocol, port) in service_targets(src.id, true) {
            specs.push(spec(
                FlowKind::Bypass,
                FlowSource::Workload(src.id),
                dst,
                protocol,
                port,
            ));
        }
    }
    if options.external_flows {
        let (sources, destinations) = external_ranges(cluster);
        for range in &sources {
            for dst in &workloads {
                for (protocol, port) in declared_ports(dst) {
                    specs.push(spec(
                        FlowKind::External,
                        FlowSource::External(*range),
                        FlowTarget::Workload(dst.id),
                        protocol,
                        port,
                    ));
                }
            }
        }
        let ports = external_destination_ports(cluster);
        for src in &workloads {
            for range in &destinations {
                for &(protocol, port) in &ports {
                    specs.push(spec(
                        FlowKind::External,
                        FlowSource::Workload(src.id),
                        FlowTarget::External(*range),
                        protocol,
                        port,
                    ));
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
        .chain(legs.iter().flat_map(|l| l.assumptions.iter().copied()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let assumption_notes = assumptions
        .iter()
        .map(|a| assumption_note(options, *a))
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
        assumption_notes,
    }
}

/// The evidence behind one assumption: the CNI profile's cell for CNI flags, else the Istio-side
/// grade (`istio::mesh_evidence`).
pub fn assumption_note(options: &Options, assumption: Assumption) -> AssumptionNote {
    if let Some((evidence, source)) = istio::mesh_evidence(assumption.flag) {
        return AssumptionNote {
            assumption,
            profile: None,
            evidence,
            source,
        };
    }
    match options.cni.cell(assumption.flag) {
        Some(cell) => AssumptionNote {
            assumption,
            profile: Some(options.cni.name),
            evidence: cell.evidence,
            source: cell.source,
        },
        None => AssumptionNote {
            assumption,
            profile: Some(options.cni.name),
            evidence: Evidence::Unverified,
            source: "not in the profile table: engine default",
        },
    }
}

/// The logical flow as the Istio layers take it.
pub fn mesh_flow(spec: &FlowSpec) -> MeshFlow {
    MeshFlow {
        src: match spec.src {
            FlowSource::Workload(id) => MeshSource::Workload(id),
            FlowSource::Kubelet(node) => MeshSource::Kubelet(node),
            FlowSource::Node(node) => MeshSource::Node(node),
            FlowSource::External(range) => MeshSource::External(range.first()),
        },
        dst: match spec.dst {
            FlowTarget::Workload(id) => MeshTarget::Workload(id),
            FlowTarget::Service {
                service,
                port,
                endpoint,
            } => MeshTarget::Service {
                service,
                port,
                endpoint,
            },
            FlowTarget::External(range) => MeshTarget::External(range.first()),
        },
        protocol: spec.protocol,
        port: spec.port,
        http: spec.http.as_ref().map(|h| istio::HttpRequest {
            method: h.method.clone(),
            path: h.path.clone(),
            host: None,
            headers: Vec::new(),
        }),
        bypass: spec.kind == FlowKind::Bypass,
    }
}

/// The wire legs of a flow (SEMANTICS.md §0 table), from `istio::legs::plan`: a Service target
/// is resolved to its endpoint pod and `targetPort` ("Service VIPs": NetworkPolicy sees
/// post-DNAT traffic); plain pods give one leg with no proxy; sidecars mTLS on the target port;
/// ambient HBONE to 15008 (two legs through a waypoint); kubelet probes leave from the pod's own
/// node (SNATed to 169.254.7.127 for ambient pods, rewritten to 15020 for sidecars). Empty when
/// the flow does not resolve (a Service port the endpoint does not have).
pub fn plan_legs(cluster: &Cluster, flow: &FlowSpec, options: &Options) -> Vec<MeshLeg> {
    mesh_legs::plan(cluster, &options.mesh, &mesh_flow(flow))
}

/// Judge one leg: (1) egress NetworkPolicy of the leg's source, (2) ingress NetworkPolicy of the
/// leg's destination, (3) the proxy that terminates it (SEMANTICS.md §0 "Evaluation order per
/// leg"). Every layer is evaluated, even after a deny, so explanations show all of them.
pub fn evaluate_leg(
    cluster: &Cluster,
    flow: &FlowSpec,
    planned: MeshLeg,
    options: &Options,
) -> LegTrace {
    let mut verdicts = vec![
        netpol::evaluate_egress(cluster, &planned.leg, &options.np_profile),
        netpol::evaluate_ingress(cluster, &planned.leg, &options.np_profile),
    ];
    let mut output = None;
    if let Some((verdict, out)) = judge_proxy(cluster, flow, &planned, options) {
        verdicts.push(verdict);
        output = Some(out);
    }
    let assumptions = planned
        .assumptions
        .iter()
        .map(|&flag| Assumption { flag, value: true })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    LegTrace {
        leg: planned.leg,
        role: leg_role(planned.role, planned.service.is_some()),
        terminated_by: proxy(planned.terminated_by),
        verdicts,
        seen: planned.seen,
        service: planned.service,
        waypoint: planned.waypoint,
        bypassed: planned.bypassed,
        output,
        assumptions,
    }
}

fn leg_role(role: mesh_legs::LegRole, service: bool) -> LegRole {
    use mesh_legs::LegRole as R;
    match role {
        R::Plain if service => LegRole::ServiceEndpoint,
        R::Plain => LegRole::Direct,
        R::Probe => LegRole::Probe,
        R::SidecarMtls => LegRole::SidecarMtls,
        R::Hbone => LegRole::Hbone,
        R::ToWaypoint => LegRole::ToWaypoint,
        R::FromWaypoint => LegRole::FromWaypoint,
        R::Plaintext => LegRole::Plaintext,
        R::ProbeSnat => LegRole::ProbeSnat,
        R::ProbeRewrite => LegRole::ProbeRewrite,
        R::NotCaptured => LegRole::NotCaptured,
    }
}

fn proxy(p: mesh_legs::Proxy) -> Proxy {
    match p {
        mesh_legs::Proxy::None => Proxy::None,
        mesh_legs::Proxy::Ztunnel(id) => Proxy::Ztunnel(id),
        mesh_legs::Proxy::Waypoint(id) => Proxy::Waypoint(id),
        mesh_legs::Proxy::Sidecar(id) => Proxy::Sidecar(id),
    }
}

/// The terminating proxy's verdict and tool outputs. ztunnel never sees HTTP. At an Envoy
/// (sidecar, waypoint) with no request given, on a port not declared TCP (Service port name
/// `tcp` / `tcp-*`), the verdict is judged for "any request": the most restrictive reading
/// (also what a raw TCP client gets, §4.3 rule 20: ALLOW rules with HTTP fields never match,
/// DENY rules' HTTP fields count as matched) and the most permissive one (ALLOW rules' HTTP
/// fields count as matched, DENY rules with HTTP fields never match). When both agree the
/// verdict stands for every request; when the first denies and the second allows it is
/// `unknown` with [`Reason::DependsOnHttpRequest`].
fn judge_proxy(
    cluster: &Cluster,
    flow: &FlowSpec,
    leg: &MeshLeg,
    options: &Options,
) -> Option<(LayerVerdict, ProxyOutput)> {
    let judgement = istio::judge(cluster, &options.mesh, leg)?;
    let conn = leg.seen.as_ref()?;
    let envoy = matches!(
        leg.terminated_by,
        mesh_legs::Proxy::Sidecar(_) | mesh_legs::Proxy::Waypoint(_)
    );
    let dst_identity = match leg.terminated_by {
        mesh_legs::Proxy::Ztunnel(id)
        | mesh_legs::Proxy::Sidecar(id)
        | mesh_legs::Proxy::Waypoint(id) => {
            istio::find_workload(cluster, id).map(|w| istio::Identity::of(w, &options.mesh))
        }
        mesh_legs::Proxy::None => None,
    };
    let output = |j: &istio::Judgement, request_unknown: bool| ProxyOutput {
        denial: j.denial,
        request_unknown,
        ztunnel: j.ztunnel.clone(),
        rbac_log: j.rbac_log.clone(),
        dst_identity: dst_identity.clone(),
    };
    if !envoy || conn.http.is_some() || declared_tcp(cluster, flow, leg) {
        let out = output(&judgement, false);
        return Some((judgement.verdict, out));
    }
    let permissive = match leg.terminated_by {
        mesh_legs::Proxy::Sidecar(id) => {
            let w = istio::find_workload(cluster, id)?;
            istio::envoy::judge_sidecar_with(cluster, &options.mesh, w, conn, NoRequest::Permissive)
        }
        mesh_legs::Proxy::Waypoint(_) => istio::envoy::judge_waypoint_with(
            cluster,
            &options.mesh,
            leg.waypoint?,
            leg.service,
            conn,
            NoRequest::Permissive,
        ),
        _ => return None,
    };
    let (strict, loose) = (&judgement.verdict, &permissive.verdict);
    if strict.decision == loose.decision {
        let out = output(&judgement, true);
        return Some((judgement.verdict, out));
    }
    if strict.decision == Decision::Unknown {
        let out = output(&judgement, true);
        return Some((judgement.verdict, out));
    }
    if loose.decision == Decision::Unknown {
        let out = output(&permissive, true);
        return Some((permissive.verdict, out));
    }
    // strict denies, loose allows.
    let first = |v: &LayerVerdict| v.reasons.first().cloned().unwrap_or(Reason::NoProxy);
    let mut verdict = LayerVerdict::new(
        strict.layer,
        Decision::Unknown,
        vec![Reason::DependsOnHttpRequest {
            denied: Box::new(first(strict)),
            allowed: Box::new(first(loose)),
        }],
    );
    for a in strict.assumptions.iter().chain(&loose.assumptions) {
        verdict.assume(a.flag, a.value);
    }
    Some((
        verdict,
        ProxyOutput {
            denial: None,
            request_unknown: true,
            ztunnel: None,
            rbac_log: Vec::new(),
            dst_identity,
        },
    ))
}

/// Is the port the Envoy policies see declared as raw TCP (Istio protocol selection by Service
/// port name: `tcp` or `tcp-*`)? For Service-addressed traffic the Service port dialled; for
/// pod-addressed traffic any Service port of the destination's namespace that selects the pod
/// and targets the port.
pub(crate) fn declared_tcp(cluster: &Cluster, flow: &FlowSpec, leg: &MeshLeg) -> bool {
    let tcp_name = |name: &Option<String>| {
        name.as_deref()
            .is_some_and(|n| n == "tcp" || n.starts_with("tcp-"))
    };
    if let FlowTarget::Service { service, port, .. } = flow.dst {
        return cluster.services.get(service).is_some_and(|s| {
            s.ports
                .iter()
                .any(|p| p.port == port && p.protocol == Protocol::Tcp && tcp_name(&p.name))
        });
    }
    let Endpoint::Pod(id) = leg.leg.dst else {
        return false;
    };
    let Some(port) = leg.seen.as_ref().map(|c| c.dst_port) else {
        return false;
    };
    cluster.services.iter().enumerate().any(|(index, s)| {
        s.ports.iter().any(|p| {
            tcp_name(&p.name)
                && service_endpoints(cluster, index, p.port)
                    .iter()
                    .any(|(w, target)| *w == id && *target == port)
        })
    })
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
    let members: Vec<usize> = (0..cluster.workloads.len())
        .filter(|&i| cluster.workloads.get(i).is_some_and(|w| selects(svc, w)))
        .collect();
    service_endpoints_among(cluster, service, port, &members)
}

/// The workload positions each Service's selector selects, by Service index (one pass over the
/// workloads of each namespace; for callers that need the endpoints of many Services).
pub fn service_members(cluster: &Cluster) -> Vec<Vec<usize>> {
    let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, w) in cluster.workloads.iter().enumerate() {
        by_namespace
            .entry(w.namespace.as_str())
            .or_default()
            .push(i);
    }
    cluster
        .services
        .iter()
        .map(|svc| {
            by_namespace
                .get(svc.namespace.as_str())
                .map_or(&[][..], |v| v.as_slice())
                .iter()
                .copied()
                .filter(|&i| cluster.workloads.get(i).is_some_and(|w| selects(svc, w)))
                .collect()
        })
        .collect()
}

/// [`service_endpoints`] given the Service's members (positions, from [`service_members`]).
pub fn service_endpoints_among(
    cluster: &Cluster,
    service: usize,
    port: u16,
    members: &[usize],
) -> Vec<(WorkloadId, u16)> {
    let Some(svc) = cluster.services.get(service) else {
        return Vec::new();
    };
    let Some(service_port) = svc.ports.iter().find(|p| p.port == port) else {
        return Vec::new();
    };
    members
        .iter()
        .filter_map(|&i| cluster.workloads.get(i))
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
    mesh::service_selects(service, workload)
}

/// Ports egress rules name, for flows to external ranges; TCP 443 when none.
pub(crate) fn external_destination_ports(cluster: &Cluster) -> Vec<(Protocol, u16)> {
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
