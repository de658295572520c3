//! From a logical flow to its wire legs (SEMANTICS.md §0 table): plain, sidecar mTLS on the
//! target port, ambient HBONE to 15008, the two waypoint legs, kubelet probes (ambient SNAT to
//! 169.254.7.127 bypassing ztunnel; sidecar rewrite to 15020 from the node), plaintext from
//! out-of-mesh sources, UDP/SCTP (never captured), and the compromised pod that bypasses its own
//! proxy. Each leg names the proxy that terminates it and the [`Connection`] that proxy sees.
//!
//! What it is not: no policy evaluation (NetworkPolicy judges [`MeshLeg::leg`], then
//! [`super::judge`] the proxy).

use std::net::Ipv4Addr;

use crate::model::{Cluster, NodeId, PortRef, Protocol, Workload, WorkloadId};
use crate::verdict::{Bypass, Endpoint, Leg, ProfileFlag};

use super::mesh::{self, DataPlane};
use super::{find_workload, peerauth, Connection, HttpRequest, Identity, MeshOptions};

/// HBONE port (§2.2 rule 4).
pub const HBONE_PORT: u16 = 15008;
/// pilot-agent status port, target of rewritten sidecar probes (§3 rule 4).
pub const STATUS_PORT: u16 = 15020;

/// Who starts a flow (mirrors `flows::FlowSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeshSource {
    Workload(WorkloadId),
    /// The kubelet of a node, probing a pod on it.
    Kubelet(NodeId),
    /// Another host process on a node.
    Node(NodeId),
    External(Ipv4Addr),
}

/// Where a flow goes, as the client addressed it (mirrors `flows::FlowTarget`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeshTarget {
    /// The pod itself, on the port dialled.
    Workload(WorkloadId),
    /// `Cluster::services[service]` port `port`, reaching `endpoint`.
    Service {
        service: usize,
        port: u16,
        endpoint: WorkloadId,
    },
    External(Ipv4Addr),
}

/// A logical flow (§0 "A logical flow is what the user asks about").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MeshFlow {
    pub src: MeshSource,
    pub dst: MeshTarget,
    pub protocol: Protocol,
    /// The port dialled (a Service port for Service targets, the probe port for probes).
    pub port: u16,
    /// The HTTP request, when the client speaks HTTP (only Envoy sees it).
    pub http: Option<HttpRequest>,
    /// The source pod bypasses its own sidecar / ztunnel redirection (§3 rule 6): plaintext from
    /// the pod IP on the original port, no identity. Only meaningful for workload sources.
    pub bypass: bool,
}

/// The proxy that terminates a leg (same shape as `flows::Proxy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proxy {
    None,
    Ztunnel(WorkloadId),
    Waypoint(WorkloadId),
    Sidecar(WorkloadId),
}

/// Why a leg looks the way it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegRole {
    /// No proxy on either end: the original tuple.
    Plain,
    /// Sidecar → sidecar mTLS on the target port (§3 rule 3).
    SidecarMtls,
    /// HBONE to the destination pod's 15008 (ambient or sidecar destination).
    Hbone,
    /// Leg 1 via a waypoint: client → waypoint pod 15008.
    ToWaypoint,
    /// Leg 2 via a waypoint: waypoint pod → destination.
    FromWaypoint,
    /// Out-of-mesh (or bypassing) client, plaintext on the target port into a proxy.
    Plaintext,
    /// Ambient probe: SNAT to 169.254.7.127, ACCEPTed before redirection (§2.6).
    ProbeSnat,
    /// Sidecar probe rewritten to 15020 from the node (§3 rule 4).
    ProbeRewrite,
    /// Probe from the node on the original port (no Istio rewrite applies).
    Probe,
    /// UDP / SCTP: never captured (§2.2 rule 5, §3 rule 2).
    NotCaptured,
}

/// One wire leg with what its terminating proxy sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshLeg {
    /// What the CNI sees (NetworkPolicy judges this).
    pub leg: Leg,
    pub role: LegRole,
    pub terminated_by: Proxy,
    /// The connection facts at the terminating proxy (`None` when there is none).
    pub seen: Option<Connection>,
    /// `Cluster::waypoints` index for waypoint legs.
    pub waypoint: Option<usize>,
    /// The Service the client addressed (for waypoint `targetRefs: Service`).
    pub service: Option<usize>,
    /// A proxy that would otherwise judge this traffic and does not.
    pub bypassed: Option<Bypass>,
    /// Istio-side inferences this leg's shape relies on.
    pub assumptions: Vec<ProfileFlag>,
}

/// The wire legs of a flow, in order. Empty when the flow does not resolve (unknown workload,
/// a Service port the endpoint does not have, a probe of a non-pod).
pub fn plan(cluster: &Cluster, options: &MeshOptions, flow: &MeshFlow) -> Vec<MeshLeg> {
    let Some(target) = resolve_target(cluster, flow) else {
        return Vec::new();
    };
    let dst_plane = target.workload.map(|w| mesh::dataplane(cluster, w));
    // UDP / SCTP: "UDP (non-DNS) from/to ambient pod: unchanged, original port; none".
    if flow.protocol != Protocol::Tcp {
        let Some((src, _)) = source_endpoint(cluster, flow.src) else {
            return Vec::new();
        };
        let src_in_mesh = match flow.src {
            MeshSource::Workload(id) => find_workload(cluster, id)
                .is_some_and(|w| mesh::dataplane(cluster, w) != DataPlane::None),
            _ => false,
        };
        let dst_in_mesh = dst_plane.as_ref().is_some_and(|p| *p != DataPlane::None);
        let captured = src_in_mesh || dst_in_mesh;
        return vec![MeshLeg {
            leg: leg(src, target.endpoint, flow.protocol, target.port),
            role: if captured {
                LegRole::NotCaptured
            } else {
                LegRole::Plain
            },
            terminated_by: Proxy::None,
            seen: None,
            waypoint: None,
            service: target.service,
            bypassed: captured.then_some(Bypass::NotCaptured),
            assumptions: Vec::new(),
        }];
    }
    match flow.src {
        MeshSource::External(ip) => {
            inbound_plaintext(cluster, options, flow, &target, Endpoint::External(ip), ip)
        }
        MeshSource::Kubelet(node) => probe(cluster, options, flow, &target, node, true),
        MeshSource::Node(node) => probe(cluster, options, flow, &target, node, false),
        MeshSource::Workload(id) => {
            let Some(src) = find_workload(cluster, id) else {
                return Vec::new();
            };
            from_workload(cluster, options, flow, &target, src)
        }
    }
}

/// The destination after Service resolution (§0 "Service VIPs").
struct Target<'c> {
    endpoint: Endpoint,
    workload: Option<&'c Workload>,
    ip: Ipv4Addr,
    /// The real target port (post-DNAT).
    port: u16,
    service: Option<usize>,
}

fn resolve_target<'c>(cluster: &'c Cluster, flow: &MeshFlow) -> Option<Target<'c>> {
    match flow.dst {
        MeshTarget::Workload(id) => {
            let w = find_workload(cluster, id)?;
            Some(Target {
                endpoint: Endpoint::Pod(id),
                workload: Some(w),
                ip: w.ip(),
                port: flow.port,
                service: None,
            })
        }
        MeshTarget::Service {
            service,
            port,
            endpoint,
        } => {
            let svc = cluster.services.get(service)?;
            let w = find_workload(cluster, endpoint)?;
            let sp = svc
                .ports
                .iter()
                .find(|p| p.port == port && p.protocol == flow.protocol)?;
            let target_port = match &sp.target_port {
                PortRef::Number(n) => *n,
                PortRef::Name(name) => {
                    w.container_ports()
                        .find(|cp| {
                            cp.protocol == sp.protocol && cp.name.as_deref() == Some(name.as_str())
                        })?
                        .port
                }
            };
            Some(Target {
                endpoint: Endpoint::Pod(endpoint),
                workload: Some(w),
                ip: w.ip(),
                port: target_port,
                service: Some(service),
            })
        }
        MeshTarget::External(ip) => Some(Target {
            endpoint: Endpoint::External(ip),
            workload: None,
            ip,
            port: flow.port,
            service: None,
        }),
    }
}

fn source_endpoint(cluster: &Cluster, src: MeshSource) -> Option<(Endpoint, Ipv4Addr)> {
    match src {
        MeshSource::Workload(id) => {
            let w = find_workload(cluster, id)?;
            let ip = if w.host_network {
                cluster.node(w.node).map_or(w.ip(), |n| n.ip)
            } else {
                w.ip()
            };
            Some((Endpoint::Pod(id), ip))
        }
        MeshSource::Kubelet(node) | MeshSource::Node(node) => {
            Some((Endpoint::Node(node), cluster.node(node)?.ip))
        }
        MeshSource::External(ip) => Some((Endpoint::External(ip), ip)),
    }
}

fn leg(src: Endpoint, dst: Endpoint, protocol: Protocol, port: u16) -> Leg {
    Leg {
        src,
        dst,
        protocol,
        port,
    }
}

fn conn(
    src_ip: Ipv4Addr,
    id: Option<Identity>,
    dst_ip: Ipv4Addr,
    port: u16,
    http: Option<&HttpRequest>,
) -> Connection {
    Connection {
        src_ip,
        src_identity: id,
        dst_ip,
        dst_port: port,
        http: http.cloned(),
    }
}

fn simple(leg: Leg, role: LegRole, service: Option<usize>) -> MeshLeg {
    MeshLeg {
        leg,
        role,
        terminated_by: Proxy::None,
        seen: None,
        waypoint: None,
        service,
        bypassed: None,
        assumptions: Vec::new(),
    }
}

/// Plaintext into the destination on the target port with no identity: "non-mesh → ambient:
/// dst ztunnel, L4 authz, no identity; never goes through a waypoint"; a sidecar destination's
/// Envoy sees plaintext too.
fn inbound_plaintext(
    cluster: &Cluster,
    _options: &MeshOptions,
    flow: &MeshFlow,
    target: &Target<'_>,
    src: Endpoint,
    src_ip: Ipv4Addr,
) -> Vec<MeshLeg> {
    let wire = leg(src, target.endpoint, flow.protocol, target.port);
    let Some(dst) = target.workload else {
        return vec![simple(wire, LegRole::Plain, target.service)];
    };
    let seen = conn(src_ip, None, target.ip, target.port, flow.http.as_ref());
    let (proxy, role) = match mesh::dataplane(cluster, dst) {
        DataPlane::Ambient => (Proxy::Ztunnel(dst.id), LegRole::Plaintext),
        DataPlane::Sidecar { .. } => (Proxy::Sidecar(dst.id), LegRole::Plaintext),
        DataPlane::None | DataPlane::Waypoint(_) => (Proxy::None, LegRole::Plain),
    };
    let skipped = target
        .service
        .and_then(|s| cluster.services.get(s))
        .and_then(|s| mesh::service_waypoint(cluster, s))
        .is_some();
    vec![MeshLeg {
        leg: wire,
        role,
        terminated_by: proxy,
        seen: (proxy != Proxy::None).then_some(seen),
        waypoint: None,
        service: target.service,
        bypassed: skipped.then_some(Bypass::WaypointSkipped),
        assumptions: Vec::new(),
    }]
}

/// Kubelet probes and other host processes (§2.6, §3 rule 4).
fn probe(
    cluster: &Cluster,
    options: &MeshOptions,
    flow: &MeshFlow,
    target: &Target<'_>,
    node: NodeId,
    kubelet: bool,
) -> Vec<MeshLeg> {
    let Some(node_ip) = cluster.node(node).map(|n| n.ip) else {
        return Vec::new();
    };
    let Some(dst) = target.workload else {
        return vec![simple(
            leg(
                Endpoint::Node(node),
                target.endpoint,
                flow.protocol,
                target.port,
            ),
            LegRole::Plain,
            None,
        )];
    };
    let local = dst.node == node;
    match mesh::dataplane(cluster, dst) {
        // "TCP, owner --socket-exists (originated by a local socket on the node), destination
        // in ipset istio-inpod-probes → SNAT 169.254.7.127"; nftables mode: kubelet uid only.
        DataPlane::Ambient if local && (kubelet || !options.cni_nftables) => vec![MeshLeg {
            bypassed: Some(Bypass::ProbeSnat),
            ..simple(
                leg(
                    Endpoint::ProbeSnat(node),
                    target.endpoint,
                    flow.protocol,
                    target.port,
                ),
                LegRole::ProbeSnat,
                target.service,
            )
        }],
        // "httpGet, tcpSocket and gRPC probes become httpGet to port 15020"; "15020 is excluded
        // from capture, so no mTLS/authz applies to it".
        DataPlane::Sidecar { .. } if kubelet && mesh::rewrites_probes(dst, options) => {
            vec![MeshLeg {
                bypassed: Some(Bypass::ProbeRewrite),
                ..simple(
                    leg(
                        Endpoint::Node(node),
                        target.endpoint,
                        flow.protocol,
                        STATUS_PORT,
                    ),
                    LegRole::ProbeRewrite,
                    None,
                )
            }]
        }
        _ => {
            let mut legs = inbound_plaintext(
                cluster,
                options,
                flow,
                target,
                Endpoint::Node(node),
                node_ip,
            );
            if kubelet {
                for l in &mut legs {
                    if l.role == LegRole::Plain {
                        l.role = LegRole::Probe;
                    }
                }
            }
            legs
        }
    }
}

fn from_workload(
    cluster: &Cluster,
    options: &MeshOptions,
    flow: &MeshFlow,
    target: &Target<'_>,
    src: &Workload,
) -> Vec<MeshLeg> {
    let Some((src_ep, src_ip)) = source_endpoint(cluster, MeshSource::Workload(src.id)) else {
        return Vec::new();
    };
    let src_plane = mesh::dataplane(cluster, src);
    // A hostNetwork client on the destination's node is a node-local socket: SNATed like a probe
    // in iptables mode (§2.6 rule 20).
    if src.host_network {
        if let Some(dst) = target.workload {
            if dst.node == src.node
                && !options.cni_nftables
                && mesh::dataplane(cluster, dst) == DataPlane::Ambient
            {
                return vec![MeshLeg {
                    bypassed: Some(Bypass::ProbeSnat),
                    ..simple(
                        leg(
                            Endpoint::ProbeSnat(src.node),
                            target.endpoint,
                            flow.protocol,
                            target.port,
                        ),
                        LegRole::ProbeSnat,
                        target.service,
                    )
                }];
            }
        }
    }
    let in_mesh = matches!(src_plane, DataPlane::Ambient | DataPlane::Sidecar { .. });
    if flow.bypass && in_mesh {
        let mut legs = inbound_plaintext(cluster, options, flow, target, src_ep, src_ip);
        for l in &mut legs {
            l.bypassed = Some(Bypass::OwnProxyBypassed);
        }
        return legs;
    }
    let Some(dst) = target.workload else {
        // Egress to an external address: passthrough, plaintext on the original port.
        return vec![simple(
            leg(src_ep, target.endpoint, flow.protocol, target.port),
            LegRole::Plain,
            None,
        )];
    };
    let dst_plane = mesh::dataplane(cluster, dst);
    let identity = Identity::of(src, options);
    match src_plane {
        DataPlane::Ambient => {
            // "The original addressing decides" (§2.5 rule 15).
            let waypoint = match target.service {
                Some(s) => cluster
                    .services
                    .get(s)
                    .and_then(|svc| mesh::service_waypoint(cluster, svc)),
                None => mesh::workload_waypoint(cluster, dst),
            };
            if let Some(wp) = waypoint {
                if let Some(legs) = via_waypoint(
                    cluster,
                    options,
                    flow,
                    target,
                    src_ep,
                    src_ip,
                    identity.clone(),
                    wp,
                ) {
                    return legs;
                }
            }
            match dst_plane {
                DataPlane::Ambient => vec![hbone(
                    src_ep,
                    src_ip,
                    Some(identity),
                    target,
                    Proxy::Ztunnel(dst.id),
                    flow,
                )],
                // "sidecar accepts HBONE on 15008".
                DataPlane::Sidecar { .. } => vec![hbone(
                    src_ep,
                    src_ip,
                    Some(identity),
                    target,
                    Proxy::Sidecar(dst.id),
                    flow,
                )],
                // "ambient → non-mesh pod / external: plaintext; none at destination".
                DataPlane::None | DataPlane::Waypoint(_) => vec![simple(
                    leg(src_ep, target.endpoint, flow.protocol, target.port),
                    LegRole::Plain,
                    target.service,
                )],
            }
        }
        DataPlane::Sidecar { .. } => match dst_plane {
            DataPlane::Sidecar { .. } => {
                // With DISABLE on the destination port, auto mTLS sends plaintext (INFERRED).
                let disabled = peerauth::effective(cluster, options, dst, target.port).mode
                    == super::model::MtlsMode::Disable;
                let mut assumptions = vec![ProfileFlag::SidecarMtlsOnTargetPort];
                if disabled {
                    assumptions.push(ProfileFlag::AutoMtlsHonoursDisable);
                }
                vec![MeshLeg {
                    leg: leg(src_ep, target.endpoint, flow.protocol, target.port),
                    role: if disabled {
                        LegRole::Plaintext
                    } else {
                        LegRole::SidecarMtls
                    },
                    terminated_by: Proxy::Sidecar(dst.id),
                    seen: Some(conn(
                        src_ip,
                        (!disabled).then_some(identity),
                        target.ip,
                        target.port,
                        flow.http.as_ref(),
                    )),
                    waypoint: None,
                    service: target.service,
                    bypassed: None,
                    assumptions,
                }]
            }
            // "sidecars send HBONE to ambient pods (PILOT_ENABLE_SENDING_HBONE)".
            DataPlane::Ambient if options.sending_hbone => vec![hbone(
                src_ep,
                src_ip,
                Some(identity),
                target,
                Proxy::Ztunnel(dst.id),
                flow,
            )],
            DataPlane::Ambient => inbound_plaintext(cluster, options, flow, target, src_ep, src_ip),
            DataPlane::None | DataPlane::Waypoint(_) => vec![simple(
                leg(src_ep, target.endpoint, flow.protocol, target.port),
                LegRole::Plain,
                target.service,
            )],
        },
        DataPlane::None | DataPlane::Waypoint(_) => {
            inbound_plaintext(cluster, options, flow, target, src_ep, src_ip)
        }
    }
}

fn hbone(
    src: Endpoint,
    src_ip: Ipv4Addr,
    identity: Option<Identity>,
    target: &Target<'_>,
    proxy: Proxy,
    flow: &MeshFlow,
) -> MeshLeg {
    // "For HBONE, RBAC uses the real target port (ztunnel swaps 15008 for the upstream port
    // before evaluation)".
    MeshLeg {
        leg: leg(src, target.endpoint, Protocol::Tcp, HBONE_PORT),
        role: LegRole::Hbone,
        terminated_by: proxy,
        seen: Some(conn(
            src_ip,
            identity,
            target.ip,
            target.port,
            flow.http.as_ref(),
        )),
        waypoint: None,
        service: target.service,
        bypassed: None,
        assumptions: Vec::new(),
    }
}

/// "leg1 srcPodIP → waypointPodIP:15008; leg2 waypointPodIP → dstPodIP:15008"; the waypoint sees
/// the client identity and (INFERRED) client IP, matches `ports` against the Service port
/// (§10.4 (a)); the destination sees the waypoint's identity and IP (§2.5 rule 17, §10.4 (b)).
#[expect(clippy::too_many_arguments, reason = "internal; one call site")]
fn via_waypoint(
    cluster: &Cluster,
    options: &MeshOptions,
    flow: &MeshFlow,
    target: &Target<'_>,
    src: Endpoint,
    src_ip: Ipv4Addr,
    identity: Identity,
    index: usize,
) -> Option<Vec<MeshLeg>> {
    let wp = cluster.waypoints.get(index)?;
    let wp_workload = find_workload(cluster, wp.workload?)?;
    let dst = target.workload?;
    let mut first_assumptions = vec![ProfileFlag::WaypointSeesClientIp];
    if target.service.is_some() {
        first_assumptions.push(ProfileFlag::WaypointPortIsServicePort);
    }
    let leg1 = MeshLeg {
        leg: leg(
            src,
            Endpoint::Pod(wp_workload.id),
            Protocol::Tcp,
            HBONE_PORT,
        ),
        role: LegRole::ToWaypoint,
        terminated_by: Proxy::Waypoint(wp_workload.id),
        seen: Some(conn(
            src_ip,
            Some(identity),
            target.ip,
            flow.port,
            flow.http.as_ref(),
        )),
        waypoint: Some(index),
        service: target.service,
        bypassed: None,
        assumptions: first_assumptions,
    };
    let wp_identity = Identity::of(wp_workload, options);
    let wp_ep = Endpoint::Pod(wp_workload.id);
    let wp_ip = wp_workload.ip();
    let leg2 = match mesh::dataplane(cluster, dst) {
        DataPlane::Ambient => MeshLeg {
            role: LegRole::FromWaypoint,
            ..hbone(
                wp_ep,
                wp_ip,
                Some(wp_identity),
                target,
                Proxy::Ztunnel(dst.id),
                flow,
            )
        },
        DataPlane::Sidecar { .. } => MeshLeg {
            role: LegRole::FromWaypoint,
            assumptions: vec![ProfileFlag::WaypointToNonAmbientBackend],
            ..hbone(
                wp_ep,
                wp_ip,
                Some(wp_identity),
                target,
                Proxy::Sidecar(dst.id),
                flow,
            )
        },
        DataPlane::None | DataPlane::Waypoint(_) => MeshLeg {
            assumptions: vec![ProfileFlag::WaypointToNonAmbientBackend],
            ..simple(
                leg(wp_ep, target.endpoint, Protocol::Tcp, target.port),
                LegRole::FromWaypoint,
                target.service,
            )
        },
    };
    Some(vec![leg1, leg2])
}
