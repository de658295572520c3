//! What-if rewrites of a parsed cluster, for the "Compare modes" view (PRODUCT.md): the same
//! YAML as no mesh, sidecar, ambient, or ambient with a waypoint per namespace.
//!
//! [`with_mesh_mode`] rewrites the enrolment labels the parser kept (namespace and pod labels
//! `istio.io/dataplane-mode`, `istio-injection`, `istio.io/rev`, `sidecar.istio.io/inject`,
//! `istio.io/use-waypoint`, the inject annotation and injected `istio-proxy` containers) and,
//! for ambient + waypoint, adds one waypoint `Gateway` per application namespace exactly as the
//! parser represents one ([`Waypoint`], its pod added by [`istio::materialize_waypoints`]).
//! Existing workloads keep their ids, so a [`crate::flows::FlowSpec`] of the original cluster
//! means the same flow in the rewritten one. System namespaces are left alone.

use crate::istio::model::{Waypoint, WaypointFor};
use crate::istio::{self, mesh};
use crate::model::Cluster;
use crate::selector::Labels;

/// How every application namespace takes part in the mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeshMode {
    NoMesh,
    Sidecar,
    Ambient,
    AmbientWaypoint,
}

impl MeshMode {
    pub const ALL: [MeshMode; 4] = [
        MeshMode::NoMesh,
        MeshMode::Sidecar,
        MeshMode::Ambient,
        MeshMode::AmbientWaypoint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeshMode::NoMesh => "no mesh",
            MeshMode::Sidecar => "sidecar",
            MeshMode::Ambient => "ambient",
            MeshMode::AmbientWaypoint => "ambient + waypoint",
        }
    }
}

/// Namespaces the rewrite leaves alone (the mesh and the cluster's own).
const SYSTEM_NAMESPACES: [&str; 4] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "istio-system",
];

/// The name of the waypoint added per namespace when none exists.
pub const WAYPOINT_NAME: &str = "waypoint";

fn strip(labels: &mut Labels) {
    for key in [
        mesh::DATAPLANE_MODE_LABEL,
        mesh::INJECTION_NS_LABEL,
        mesh::REV_LABEL,
        mesh::INJECT_LABEL,
        mesh::USE_WAYPOINT_LABEL,
        mesh::USE_WAYPOINT_NAMESPACE_LABEL,
    ] {
        labels.remove(key);
    }
}

fn set(labels: &mut Labels, key: &str, value: &str) {
    labels.insert(key.to_string(), value.to_string());
}

/// The cluster with every application namespace enrolled as `mode` (see the module header).
pub fn with_mesh_mode(cluster: &Cluster, mode: MeshMode) -> Cluster {
    let mut res = cluster.clone();
    let app_ns = |name: &str| !SYSTEM_NAMESPACES.contains(&name);
    // Waypoint pods stay what they are.
    let waypoint_pods: Vec<_> = res
        .workloads
        .iter()
        .filter(|w| matches!(mesh::dataplane(cluster, w), mesh::DataPlane::Waypoint(_)))
        .map(|w| w.id)
        .collect();
    for ns in res.namespaces.iter_mut().filter(|ns| app_ns(&ns.name)) {
        strip(&mut ns.labels);
        match mode {
            MeshMode::NoMesh => {}
            MeshMode::Sidecar => set(&mut ns.labels, mesh::INJECTION_NS_LABEL, "enabled"),
            MeshMode::Ambient | MeshMode::AmbientWaypoint => {
                set(&mut ns.labels, mesh::DATAPLANE_MODE_LABEL, "ambient");
            }
        }
    }
    for w in res
        .workloads
        .iter_mut()
        .filter(|w| app_ns(&w.namespace) && !waypoint_pods.contains(&w.id))
    {
        strip(&mut w.labels);
        w.annotations.remove(mesh::INJECT_LABEL);
        w.annotations.remove(mesh::SIDECAR_STATUS_ANNOTATION);
        w.containers.retain(|c| c.name != "istio-proxy");
    }
    for s in res.services.iter_mut().filter(|s| app_ns(&s.namespace)) {
        strip(&mut s.labels);
    }
    if mode == MeshMode::AmbientWaypoint {
        let namespaces: Vec<String> = res
            .namespaces
            .iter()
            .filter(|ns| app_ns(&ns.name))
            .map(|ns| ns.name.clone())
            .collect();
        for ns in namespaces {
            let existing = res
                .waypoints
                .iter()
                .find(|wp| {
                    wp.namespace == ns
                        && matches!(wp.waypoint_for, WaypointFor::All | WaypointFor::Workload)
                })
                .map(|wp| wp.name.clone());
            let name = match existing {
                Some(name) => name,
                None => {
                    let mut name = WAYPOINT_NAME.to_string();
                    while res
                        .waypoints
                        .iter()
                        .any(|wp| wp.namespace == ns && wp.name == name)
                    {
                        name.push('x');
                    }
                    res.waypoints.push(Waypoint {
                        name: name.clone(),
                        namespace: ns.clone(),
                        waypoint_for: WaypointFor::All,
                        labels: Labels::new(),
                        workload: None,
                        span: Default::default(),
                    });
                    name
                }
            };
            if let Some(n) = res.namespaces.iter_mut().find(|n| n.name == ns) {
                set(&mut n.labels, mesh::USE_WAYPOINT_LABEL, &name);
            }
        }
        istio::materialize_waypoints(&mut res);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::{self, FlowKind, FlowTarget, Options};
    use crate::verdict::{Decision, Layer};
    use crate::Source;

    /// TV-14: a NetworkPolicy that allows only the app port from the client.
    const TV14: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo, labels: {app: client}}
spec:
  containers: [{name: c, image: curl}]
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: demo, labels: {app: server}}
spec:
  containers: [{name: s, image: srv, ports: [{containerPort: 9090}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-client, namespace: demo}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: 9090}]
";

    fn cluster() -> Cluster {
        crate::parse::parse(&[Source::new("tv14.yaml", TV14)]).0
    }

    /// The client → server:9090 app flow under `mode`.
    fn verdict(mode: MeshMode) -> (Decision, Option<Layer>) {
        let c = with_mesh_mode(&cluster(), mode);
        let table = crate::table::flow_table(&c, &Options::default());
        let server = c
            .workloads
            .iter()
            .find(|w| w.name == "server")
            .map(|w| w.id);
        let client = c
            .workloads
            .iter()
            .find(|w| w.name == "client")
            .map(|w| w.id);
        let row = table
            .iter()
            .find(|(_, r)| {
                r.kind == FlowKind::App
                    && r.port == 9090
                    && matches!(table.target(r), FlowTarget::Workload(id) if Some(id) == server)
                    && matches!(table.source(r), flows::FlowSource::Workload(id) if Some(id) == client)
            })
            .map(|(_, r)| (r.verdict, r.decided_by));
        row.unwrap_or((Decision::Unknown, None))
    }

    #[test]
    fn tv14_no_mesh_allows_ambient_denies_on_15008() {
        assert_eq!(verdict(MeshMode::NoMesh).0, Decision::Allow);
        assert_eq!(verdict(MeshMode::Sidecar).0, Decision::Allow);
        assert_eq!(
            verdict(MeshMode::Ambient),
            (Decision::Deny, Some(Layer::NpIngress))
        );
    }

    #[test]
    fn modes_set_enrolment_and_waypoints() {
        let base = cluster();
        let ids: Vec<_> = base.workloads.iter().map(|w| w.id).collect();
        for mode in MeshMode::ALL {
            let c = with_mesh_mode(&base, mode);
            let client = c.workloads.iter().find(|w| w.name == "client");
            let plane = client.map(|w| mesh::dataplane(&c, w).as_str());
            let want = match mode {
                MeshMode::NoMesh => "none",
                MeshMode::Sidecar => "sidecar",
                MeshMode::Ambient | MeshMode::AmbientWaypoint => "ambient",
            };
            assert_eq!(plane, Some(want), "{mode:?}");
            // Existing workloads keep their ids.
            assert!(ids.iter().all(|id| c.workloads.iter().any(|w| w.id == *id)));
            let waypoints = c
                .waypoints
                .iter()
                .filter(|wp| wp.namespace == "demo")
                .count();
            assert_eq!(waypoints, usize::from(mode == MeshMode::AmbientWaypoint));
            if mode == MeshMode::AmbientWaypoint {
                assert!(c.waypoints.iter().all(|wp| wp.workload.is_some()));
                let server = c.workloads.iter().find(|w| w.name == "server");
                assert!(server.is_some_and(|w| mesh::workload_waypoint(&c, w).is_some()));
            }
        }
        // Ambient back to no mesh.
        let ambient = with_mesh_mode(&base, MeshMode::Ambient);
        let back = with_mesh_mode(&ambient, MeshMode::NoMesh);
        assert!(back
            .workloads
            .iter()
            .all(|w| mesh::dataplane(&back, w) == mesh::DataPlane::None));
    }
}
