//! The Istio layers: who is in the mesh and how (sidecar, ambient, waypoint; SEMANTICS.md §2.1,
//! §2.5, §3.1), which wire legs a logical flow becomes (§0 table), and what each proxy decides
//! about the leg it terminates — ztunnel with istiod's conversion (§5), Envoy sidecars and
//! waypoints (§4.2–§4.3), PeerAuthentication (§4.4) — as [`LayerVerdict`]s whose reasons are
//! data. Also the exact text upstream tools print (`logs`).
//!
//! What it is not: no NetworkPolicy (that is `netpol`; the caller judges each planned leg with it
//! first), no prose (that is `explain`), no YAML (that is `parse/istio.rs`).
//!
//! Entry points for `flows`:
//! 1. [`legs::plan`] — a [`legs::MeshFlow`] to its wire legs, each with the [`legs::Proxy`] that
//!    terminates it and the [`Connection`] that proxy sees.
//! 2. [`judge`] — the terminating proxy's verdict on one planned leg (plus the tool outputs in
//!    [`Judgement`]).
//! 3. [`materialize_waypoints`] — after parsing: give every waypoint `Gateway` its pods.

pub mod envoy;
pub mod legs;
pub mod logs;
pub mod mesh;
pub mod model;
pub mod peerauth;
pub mod ztunnel;

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;

use crate::model::{Cluster, Workload, WorkloadId};
use crate::selector::Labels;
use crate::source::Span;
use crate::verdict::{Evidence, Layer, LayerVerdict, ProfileFlag};

pub use legs::{plan, MeshFlow, MeshLeg, MeshSource, MeshTarget, Proxy};

/// Mesh-wide settings that change results, with upstream defaults (SEMANTICS.md §2.5 rule 19,
/// §4.1 rules 2 and 4, §2.2 rule 5, §3 rule 4). Shown in the output next to each verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshOptions {
    /// meshConfig `rootNamespace` (default `istio-system`).
    pub root_namespace: String,
    /// meshConfig `trustDomain` (default `cluster.local`).
    pub trust_domain: String,
    /// istiod `PILOT_AUTO_ALLOW_WAYPOINT_POLICY` (default false).
    pub auto_allow_waypoint_policy: bool,
    /// istiod `AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY` (default false).
    pub ambient_dry_run: bool,
    /// istiod `ENABLE_LAYERED_WAYPOINT_AUTHORIZATION_POLICIES` (default false). Its details are
    /// UNVERIFIED (§2.5 rule 19): when on, ztunnel verdicts behind a waypoint are `Unknown`.
    pub layered_waypoint_policies: bool,
    /// istiod `PILOT_ENABLE_SENDING_HBONE` (default on when ambient is enabled): sidecars send
    /// HBONE to ambient pods (§0 table).
    pub sending_hbone: bool,
    /// istio-cni in nftables mode: the probe SNAT matches only the kubelet's uid instead of any
    /// node-local socket (§2.6 rule 20). Default false (iptables).
    pub cni_nftables: bool,
    /// Sidecar injector probe rewrite default (`sidecar.istio.io/rewriteAppHTTPProbers`, on by
    /// default, §3 rule 4).
    pub rewrite_app_probers: bool,
}

impl Default for MeshOptions {
    fn default() -> MeshOptions {
        MeshOptions {
            root_namespace: "istio-system".to_string(),
            trust_domain: "cluster.local".to_string(),
            auto_allow_waypoint_policy: false,
            ambient_dry_run: false,
            layered_waypoint_policies: false,
            sending_hbone: true,
            cni_nftables: false,
            rewrite_app_probers: true,
        }
    }
}

/// A SPIFFE identity `spiffe://<trust-domain>/ns/<ns>/sa/<sa>` (from the workload's service
/// account, §4.3 rule 15).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    pub trust_domain: String,
    pub namespace: String,
    pub service_account: String,
}

impl Identity {
    pub fn of(workload: &Workload, options: &MeshOptions) -> Identity {
        Identity {
            trust_domain: options.trust_domain.clone(),
            namespace: workload.namespace.clone(),
            service_account: workload.service_account.clone(),
        }
    }
    /// The principal as policies write it: `<td>/ns/<ns>/sa/<sa>`.
    pub fn principal(&self) -> String {
        format!(
            "{}/ns/{}/sa/{}",
            self.trust_domain, self.namespace, self.service_account
        )
    }
}

/// `spiffe://<td>/ns/<ns>/sa/<sa>`.
impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spiffe://{}", self.principal())
    }
}

/// An HTTP request as a proxy sees it (only sidecars and waypoints parse HTTP).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    /// `:authority`, when known.
    pub host: Option<String>,
    pub headers: Vec<(String, String)>,
}

/// The connection facts the terminating proxy evaluates (ztunnel's `Connection`, §5.2):
/// TCP peer address, mTLS peer identity (none for plaintext, §4.3 rule 19), destination address
/// and the port policies match (the real target port at ztunnel and sidecars; the Service port
/// at a waypoint for Service-addressed traffic, §10.4 (a)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Connection {
    pub src_ip: Ipv4Addr,
    pub src_identity: Option<Identity>,
    pub dst_ip: Ipv4Addr,
    pub dst_port: u16,
    /// `Some` when the proxy sees HTTP on this connection (Envoy only); `None` = TCP.
    pub http: Option<HttpRequest>,
}

/// How a denial looks to the client (§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Denial {
    /// HTTP `403` with body `RBAC: access denied` (sidecar, waypoint).
    Http403,
    /// Connection closed / reset, no status (ztunnel; Envoy network RBAC; sidecar STRICT
    /// rejecting plaintext).
    Reset,
}

/// What the terminating proxy decided, plus what the tools would print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: LayerVerdict,
    /// How the client experiences a deny.
    pub denial: Option<Denial>,
    /// ztunnel's rejection (access-log `error=` text via [`logs::ztunnel_error`]).
    pub ztunnel: Option<ztunnel::Rejection>,
    /// Envoy RBAC debug log data ([`logs::envoy_rbac_line`]).
    pub rbac_log: Vec<envoy::RbacLog>,
}

/// The verdict of the proxy that terminates `leg`; `None` when no proxy does.
pub fn judge(cluster: &Cluster, options: &MeshOptions, leg: &MeshLeg) -> Option<Judgement> {
    let conn = leg.seen.as_ref()?;
    match leg.terminated_by {
        Proxy::None => None,
        Proxy::Ztunnel(id) => {
            let workload = find_workload(cluster, id)?;
            Some(ztunnel::judge(cluster, options, workload, conn, leg))
        }
        Proxy::Sidecar(id) => {
            let workload = find_workload(cluster, id)?;
            Some(envoy::judge_sidecar(cluster, options, workload, conn))
        }
        Proxy::Waypoint(_) => {
            let waypoint = leg.waypoint?;
            Some(envoy::judge_waypoint(
                cluster,
                options,
                waypoint,
                leg.service,
                conn,
            ))
        }
    }
}

/// The layer a proxy's verdict is reported under.
pub fn layer_of(proxy: Proxy) -> Option<Layer> {
    match proxy {
        Proxy::None => None,
        Proxy::Ztunnel(_) => Some(Layer::Ztunnel),
        Proxy::Waypoint(_) => Some(Layer::Waypoint),
        Proxy::Sidecar(_) => Some(Layer::Sidecar),
    }
}

/// Evidence and source for the Istio-side flags a verdict may rely on (SEMANTICS.md §10.4, §3);
/// `None` for CNI flags (see `profiles`).
pub fn mesh_evidence(flag: ProfileFlag) -> Option<(Evidence, &'static str)> {
    Some(match flag {
        ProfileFlag::WaypointPortIsServicePort => (
            Evidence::Inferred,
            "SEMANTICS.md §10.4 (a): istio/istio pilot/pkg/networking/core/listener_waypoint.go buildWaypointInternal",
        ),
        ProfileFlag::WaypointSeesClientIp => (
            Evidence::Inferred,
            "SEMANTICS.md §10.4 (b): pilot/pkg/xds/filters/filters.go original_dst.remote_ip filter state",
        ),
        ProfileFlag::SidecarMtlsOnTargetPort => (
            Evidence::Inferred,
            "SEMANTICS.md §3 rule 3: inbound capture on all ports; NP docs require 15008 only for ambient senders",
        ),
        ProfileFlag::WaypointToNonAmbientBackend => (
            Evidence::Inferred,
            "SEMANTICS.md §2.5 rule 17: two-tunnel data path; backend enrolment decides the second leg",
        ),
        ProfileFlag::AutoMtlsHonoursDisable => (
            Evidence::Inferred,
            "Istio auto mTLS sends plaintext to a destination whose PeerAuthentication is DISABLE",
        ),
        ProfileFlag::WaypointAllowAttachment => (
            Evidence::Inferred,
            "SEMANTICS.md §2.5 rule 19: istio_allow_waypoint_<ns>_<name> on each workload using the waypoint",
        ),
        _ => return None,
    })
}

/// After parsing: link each waypoint to its pods (a workload in the Gateway's namespace labelled
/// `gateway.networking.k8s.io/gateway-name: <name>`), or add one as istiod's deployment
/// controller would: a `Deployment` named after the Gateway, service account of the same name,
/// labels `gateway.networking.k8s.io/gateway-name`, `istio.io/dataplane-mode: none`,
/// `sidecar.istio.io/inject: "false"` (§2.1 rule 3), on the first node, with the next free
/// address from `10.244.0.0/16`.
pub fn materialize_waypoints(cluster: &mut Cluster) {
    let mut used: HashSet<Ipv4Addr> = cluster
        .workloads
        .iter()
        .flat_map(|w| w.ips.iter().copied())
        .chain(cluster.nodes.iter().map(|n| n.ip))
        .collect();
    let mut next = u32::from(Ipv4Addr::new(10, 244, 0, 1));
    for i in 0..cluster.waypoints.len() {
        let Some(wp) = cluster.waypoints.get(i) else {
            continue;
        };
        let existing = cluster.workloads.iter().find(|w| {
            w.namespace == wp.namespace
                && w.labels.get(mesh::GATEWAY_NAME_LABEL).map(String::as_str)
                    == Some(wp.name.as_str())
        });
        let id = match existing {
            Some(w) => w.id,
            None => {
                let id = WorkloadId(u32::try_from(cluster.workloads.len()).unwrap_or(u32::MAX));
                let ip = loop {
                    let ip = Ipv4Addr::from(next);
                    next = next.wrapping_add(1);
                    if used.insert(ip) {
                        break ip;
                    }
                };
                let labels: Labels = [
                    (mesh::GATEWAY_NAME_LABEL, wp.name.as_str()),
                    (mesh::DATAPLANE_MODE_LABEL, "none"),
                    (mesh::INJECT_LABEL, "false"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
                let workload = Workload {
                    id,
                    kind: "Deployment".to_string(),
                    name: wp.name.clone(),
                    namespace: wp.namespace.clone(),
                    labels,
                    annotations: Labels::new(),
                    service_account: wp.name.clone(),
                    containers: Vec::new(),
                    host_network: false,
                    node: crate::model::NodeId(0),
                    ips: vec![ip],
                    replicas: 1,
                    span: wp.span,
                };
                cluster.workloads.push(workload);
                id
            }
        };
        if let Some(wp) = cluster.waypoints.get_mut(i) {
            wp.workload = Some(id);
        }
    }
}

/// A workload by id (positions usually equal ids).
pub(crate) fn find_workload(cluster: &Cluster, id: WorkloadId) -> Option<&Workload> {
    match cluster.workloads.get(id.0 as usize) {
        Some(w) if w.id == id => Some(w),
        _ => cluster.workloads.iter().find(|w| w.id == id),
    }
}

/// `PolicyRef` of `Cluster::authorization_policies[index]`.
pub(crate) fn ap_ref(cluster: &Cluster, index: usize) -> Option<crate::verdict::PolicyRef> {
    cluster
        .authorization_policies
        .get(index)
        .map(|p| crate::verdict::PolicyRef {
            index,
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            span: p.span,
        })
}

/// Span of an optional rule.
pub(crate) fn rule_span(policy: &model::AuthorizationPolicy, rule: usize) -> Option<Span> {
    policy.rules.get(rule).map(|r| r.span)
}

#[cfg(test)]
mod tests;
