//! Mesh enrolment: whether a workload runs with no proxy, a sidecar (and which revision), in
//! ambient mode, or is a waypoint (SEMANTICS.md §2.1, §3 rule 1), and which waypoint — if any —
//! serves a Service or a workload (§2.5 rules 13–16). Labels in, facts out; no policy here.

use std::borrow::Cow;

use crate::model::{Cluster, Service, Workload};
use crate::selector::Labels;

use super::model::Waypoint;
use super::MeshOptions;

pub const DATAPLANE_MODE_LABEL: &str = "istio.io/dataplane-mode";
pub const USE_WAYPOINT_LABEL: &str = "istio.io/use-waypoint";
pub const USE_WAYPOINT_NAMESPACE_LABEL: &str = "istio.io/use-waypoint-namespace";
pub const WAYPOINT_FOR_LABEL: &str = "istio.io/waypoint-for";
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";
pub const INJECT_LABEL: &str = "sidecar.istio.io/inject";
pub const INJECTION_NS_LABEL: &str = "istio-injection";
pub const REV_LABEL: &str = "istio.io/rev";
pub const SIDECAR_STATUS_ANNOTATION: &str = "sidecar.istio.io/status";
pub const REWRITE_PROBES_ANNOTATION: &str = "sidecar.istio.io/rewriteAppHTTPProbers";

/// How a workload takes part in the mesh.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataPlane {
    /// No proxy: plain pod (also every hostNetwork pod, §2.1 rule 2).
    None,
    /// Sidecar-injected; `revision` is `None` for the default revision (§3 rule 1).
    Sidecar { revision: Option<String> },
    /// Captured by istio-cni and ztunnel (§2.1 rule 1).
    Ambient,
    /// A waypoint's own pod: `Cluster::waypoints[index]`. Speaks HBONE itself (§2.1 rule 3).
    Waypoint(usize),
}

impl DataPlane {
    pub fn as_str(&self) -> &'static str {
        match self {
            DataPlane::None => "none",
            DataPlane::Sidecar { .. } => "sidecar",
            DataPlane::Ambient => "ambient",
            DataPlane::Waypoint(_) => "waypoint",
        }
    }
}

/// The data plane of a workload (§2.1, §3 rule 1).
pub fn dataplane(cluster: &Cluster, workload: &Workload) -> DataPlane {
    if let Some(index) = waypoint_of_pod(cluster, workload) {
        return DataPlane::Waypoint(index);
    }
    // "Never enrolled regardless of labels: hostNetwork: true pods" (§2.1 rule 2); the injector
    // skips hostNetwork pods too.
    if workload.host_network {
        return DataPlane::None;
    }
    if let Some(revision) = sidecar_revision(cluster, workload) {
        return DataPlane::Sidecar { revision };
    }
    let ns = namespace_labels(cluster, &workload.namespace);
    let pod_mode = workload
        .labels
        .get(DATAPLANE_MODE_LABEL)
        .map(String::as_str);
    let ns_mode = ns.get(DATAPLANE_MODE_LABEL).map(String::as_str);
    // "(pod label istio.io/dataplane-mode=ambient) OR (namespace label
    // istio.io/dataplane-mode=ambient AND pod label istio.io/dataplane-mode NotIn [none])".
    if pod_mode == Some("ambient") || (ns_mode == Some("ambient") && pod_mode != Some("none")) {
        DataPlane::Ambient
    } else {
        DataPlane::None
    }
}

/// `Some(revision)` when the pod is (or would be) sidecar-injected (§3 rule 1): already injected
/// (`sidecar.istio.io/status` annotation or an `istio-proxy` container), or selected by the
/// default / revision webhooks. The injector's policy order starts with the pod annotation, so
/// annotation `sidecar.istio.io/inject: "false"` also prevents it.
fn sidecar_revision(cluster: &Cluster, workload: &Workload) -> Option<Option<String>> {
    let pod_rev = workload.labels.get(REV_LABEL).cloned();
    if workload.annotations.contains_key(SIDECAR_STATUS_ANNOTATION)
        || workload.containers.iter().any(|c| c.name == "istio-proxy")
    {
        return Some(pod_rev);
    }
    if workload.annotations.get(INJECT_LABEL).map(String::as_str) == Some("false") {
        return None;
    }
    let ns = namespace_labels(cluster, &workload.namespace);
    let pod_inject = workload.labels.get(INJECT_LABEL).map(String::as_str);
    let not_false = pod_inject != Some("false");
    match (
        ns.get(INJECTION_NS_LABEL).map(String::as_str),
        ns.get(REV_LABEL),
    ) {
        // "namespace istio-injection=enabled and pod sidecar.istio.io/inject != false".
        (Some("enabled"), _) => not_false.then_some(None),
        // "istio-injection=disabled ⇒ no injection" (any other value also blocks the rules
        // that need the label absent).
        (Some(_), _) => None,
        // "namespace istio.io/rev=<rev> (and no istio-injection label) and pod inject != false".
        (None, Some(rev)) => not_false.then(|| Some(rev.clone())),
        (None, None) => match pod_rev {
            // "pod label istio.io/rev=<rev> in an unlabeled namespace ⇒ inject".
            Some(rev) => not_false.then_some(Some(rev)),
            // "pod sidecar.istio.io/inject=true and no pod istio.io/rev ⇒ inject".
            None => (pod_inject == Some("true")).then_some(None),
        },
    }
}

/// The waypoint whose pod this workload is.
fn waypoint_of_pod(cluster: &Cluster, workload: &Workload) -> Option<usize> {
    if let Some(i) = cluster
        .waypoints
        .iter()
        .position(|wp| wp.workload == Some(workload.id))
    {
        return Some(i);
    }
    let name = workload.labels.get(GATEWAY_NAME_LABEL)?;
    cluster
        .waypoints
        .iter()
        .position(|wp| &wp.name == name && wp.namespace == workload.namespace)
}

/// The `istio.io/use-waypoint` decision for one object (§2.5 rule 14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UseWaypoint {
    /// No label on the object or its namespace.
    Unset,
    /// Value `none` on the object: opted out.
    OptedOut,
    /// Names a waypoint `namespace/name`.
    Named { namespace: String, name: String },
}

/// "Object label beats namespace label; value `none` on the object opts it out."
pub fn use_waypoint(cluster: &Cluster, labels: &Labels, namespace: &str) -> UseWaypoint {
    let ns = namespace_labels(cluster, namespace);
    let (source, value) = match (labels.get(USE_WAYPOINT_LABEL), ns.get(USE_WAYPOINT_LABEL)) {
        (Some(v), _) => (labels, v.clone()),
        (None, Some(v)) => (ns.as_ref(), v.clone()),
        (None, None) => return UseWaypoint::Unset,
    };
    if value == "none" {
        return UseWaypoint::OptedOut;
    }
    let wp_ns = source
        .get(USE_WAYPOINT_NAMESPACE_LABEL)
        .cloned()
        .unwrap_or_else(|| namespace.to_string());
    UseWaypoint::Named {
        namespace: wp_ns,
        name: value,
    }
}

/// The waypoint serving traffic addressed to this Service (§2.5 rules 14–15): named by the
/// Service or its namespace, existing, and handling `service` / `all`.
pub fn service_waypoint(cluster: &Cluster, service: &Service) -> Option<usize> {
    match use_waypoint(cluster, &service.labels, &service.namespace) {
        UseWaypoint::Named { namespace, name } => find_waypoint(cluster, &namespace, &name)
            .filter(|&i| waypoint(cluster, i).is_some_and(|w| w.waypoint_for.handles_service())),
        _ => None,
    }
}

/// The waypoint serving traffic addressed to this pod's IP (§2.5 rules 14–15): named by the pod
/// or its namespace, existing, and handling `workload` / `all`.
pub fn workload_waypoint(cluster: &Cluster, workload: &Workload) -> Option<usize> {
    match use_waypoint(cluster, &workload.labels, &workload.namespace) {
        UseWaypoint::Named { namespace, name } => find_waypoint(cluster, &namespace, &name)
            .filter(|&i| waypoint(cluster, i).is_some_and(|w| w.waypoint_for.handles_workload())),
        _ => None,
    }
}

/// Every waypoint a workload is reached through: its own, and those of the Services selecting it.
pub fn waypoints_in_front_of(cluster: &Cluster, workload: &Workload) -> Vec<usize> {
    let mut res: Vec<usize> = workload_waypoint(cluster, workload).into_iter().collect();
    for service in &cluster.services {
        if service_selects(service, workload) {
            if let Some(i) = service_waypoint(cluster, service) {
                if !res.contains(&i) {
                    res.push(i);
                }
            }
        }
    }
    res
}

pub fn find_waypoint(cluster: &Cluster, namespace: &str, name: &str) -> Option<usize> {
    cluster
        .waypoints
        .iter()
        .position(|w| w.namespace == namespace && w.name == name)
}

pub fn waypoint(cluster: &Cluster, index: usize) -> Option<&Waypoint> {
    cluster.waypoints.get(index)
}

/// A Service selects a pod of its namespace whose labels contain its (non-empty) selector.
pub fn service_selects(service: &Service, workload: &Workload) -> bool {
    service.namespace == workload.namespace
        && service.selector.as_ref().is_some_and(|sel| {
            !sel.is_empty() && sel.iter().all(|(k, v)| workload.labels.get(k) == Some(v))
        })
}

/// Does a sidecar rewrite this pod's HTTP/TCP/gRPC probes to 15020 (§3 rule 4)?
pub fn rewrites_probes(workload: &Workload, options: &MeshOptions) -> bool {
    match workload
        .annotations
        .get(REWRITE_PROBES_ANNOTATION)
        .map(String::as_str)
    {
        Some("false") => false,
        Some("true") => true,
        _ => options.rewrite_app_probers,
    }
}

/// Labels of a namespace; an undeclared one has just `kubernetes.io/metadata.name`.
pub(crate) fn namespace_labels<'c>(cluster: &'c Cluster, name: &str) -> Cow<'c, Labels> {
    match cluster.namespace(name) {
        Some(ns) => Cow::Borrowed(&ns.labels),
        None => Cow::Owned(Labels::from([(
            "kubernetes.io/metadata.name".to_string(),
            name.to_string(),
        )])),
    }
}

/// A matchLabels map selects labels that contain every entry (empty selects everything).
pub(crate) fn match_labels(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
