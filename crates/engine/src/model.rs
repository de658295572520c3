//! Cluster facts the layers judge: namespaces, nodes, workloads (pod classes), services,
//! ports, probes. Built by `parse`; read by `netpol`, `flows` and the UI. No policy semantics here.

use std::net::Ipv4Addr;

use crate::anp::{AdminNetworkPolicy, BaselineAdminNetworkPolicy};
use crate::istio::model::{AuthorizationPolicy, PeerAuthentication, Waypoint};
use crate::netpol::NetworkPolicy;
use crate::selector::Labels;
use crate::source::Span;

/// The whole input, as the engine understands it.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    pub namespaces: Vec<Namespace>,
    pub nodes: Vec<Node>,
    pub workloads: Vec<Workload>,
    pub services: Vec<Service>,
    pub network_policies: Vec<NetworkPolicy>,
    /// `AdminNetworkPolicy` objects (SEMANTICS.md §1.6), input order; evaluation order is
    /// [`crate::anp::admin_order`].
    pub admin_network_policies: Vec<AdminNetworkPolicy>,
    /// The `BaselineAdminNetworkPolicy` (named `default`; at most one, §1.6 rule 28).
    pub baseline_admin_network_policy: Option<BaselineAdminNetworkPolicy>,
    /// Istio `AuthorizationPolicy` objects (`security.istio.io` v1 / v1beta1), input order.
    pub authorization_policies: Vec<AuthorizationPolicy>,
    /// Istio `PeerAuthentication` objects, input order.
    pub peer_authentications: Vec<PeerAuthentication>,
    /// Gateway API `Gateway`s with `gatewayClassName: istio-waypoint` (SEMANTICS.md §2.5).
    pub waypoints: Vec<Waypoint>,
    /// Objects of kinds the engine does not model (listed, never silently dropped).
    pub ignored: Vec<IgnoredObject>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    /// Always includes `kubernetes.io/metadata.name: <name>` (the API server adds it).
    pub labels: Labels,
    /// `None` when the namespace was not declared but is referenced (it exists implicitly).
    pub span: Option<Span>,
}

/// A Kubernetes node. Nodes are modelled so the "pod's own node" exemption can be judged
/// (SEMANTICS.md §1.1 rule 9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub ip: Ipv4Addr,
}

/// One class of identical pods: a bare Pod, or the pod template of a controller
/// (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob), or
/// Pod objects grouped under their controller owner. Replicas stay one workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub id: WorkloadId,
    /// `Deployment`, `Pod`, `ReplicaSet`, ... (for owned Pods: the owner's kind).
    pub kind: String,
    /// Object name (for owned Pods: the owner's name).
    pub name: String,
    pub namespace: String,
    /// Pod labels (the template's labels for controllers).
    pub labels: Labels,
    /// Pod annotations.
    pub annotations: Labels,
    /// `spec.serviceAccountName`, `default` when unset.
    pub service_account: String,
    pub containers: Vec<Container>,
    pub host_network: bool,
    pub node: NodeId,
    /// One address per modelled pod (from `status.podIPs`/`podIP`, else assigned from the pod
    /// CIDR, deterministically).
    pub ips: Vec<Ipv4Addr>,
    /// `spec.replicas` for controllers (1 for Pods and unset fields).
    pub replicas: u32,
    /// The whole object in its source.
    pub span: Span,
}

impl Workload {
    /// `ns/name[Kind]`, netpol-analyzer's naming.
    pub fn display_name(&self) -> String {
        format!("{}/{}[{}]", self.namespace, self.name, self.kind)
    }

    /// The first address (every workload has at least one).
    pub fn ip(&self) -> Ipv4Addr {
        self.ips.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    pub fn container_ports(&self) -> impl Iterator<Item = &ContainerPort> {
        self.containers.iter().flat_map(|c| c.ports.iter())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub ports: Vec<ContainerPort>,
    pub probes: Vec<Probe>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
    pub span: Span,
}

/// `IntOrString` as used by ports: a number or a name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeAction {
    HttpGet { port: PortRef, path: String },
    TcpSocket { port: PortRef },
    Grpc { port: u16 },
    Exec,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub kind: ProbeKind,
    pub action: ProbeAction,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    /// `None` when the Service has no selector (endpoints managed elsewhere).
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePort>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    /// Defaults to `port` when unset.
    pub target_port: PortRef,
    pub protocol: Protocol,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredObject {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub span: Span,
}

impl Cluster {
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }
    pub fn workload(&self, id: WorkloadId) -> &Workload {
        &self.workloads[id.0 as usize]
    }
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0 as usize)
    }
}
