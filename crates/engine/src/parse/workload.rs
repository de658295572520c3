//! Pods and pod templates → [`PodRecord`]s (one per Pod object or controller), before grouping
//! and address assignment (`finish`). Reads labels, annotations, service account, host network,
//! containers with ports and probes, and for Pods the node, status addresses and controller owner.
//! Not read: `initContainers`, volumes, env, resources.

use std::net::Ipv4Addr;

use crate::model::{Container, ContainerPort, PortRef, Probe, ProbeAction, ProbeKind, Protocol};
use crate::parse::messages;
use crate::parse::reader::{Cx, Invalid, LabelCheck};
use crate::parse::Object;
use crate::selector::Labels;
use crate::source::Span;
use crate::yaml::Node;

/// A Pod object, or the pod template of a controller.
#[derive(Clone, Debug)]
pub(crate) struct PodRecord {
    /// Workload kind: the controller's kind, the owner's kind for owned Pods, else `Pod`.
    pub kind: String,
    /// Workload name: controller, owner or Pod name.
    pub name: String,
    pub namespace: String,
    /// Grouped under a controller owner (`finish` merges identical ones).
    pub owned: bool,
    pub labels: Labels,
    pub annotations: Labels,
    pub service_account: String,
    pub containers: Vec<Container>,
    pub host_network: bool,
    pub node_name: Option<String>,
    pub host_ip: Option<Ipv4Addr>,
    /// Declared `status.podIPs` / `status.podIP` (IPv4 only).
    pub pod_ips: Vec<Ipv4Addr>,
    pub replicas: u32,
    pub span: Span,
}

pub(crate) fn read_pod(cx: &mut Cx, object: &Object) -> Option<PodRecord> {
    let metadata = object.metadata;
    let (kind, name, owned) = match controller_owner(cx, metadata) {
        Some((kind, name)) => (kind, name, true),
        None => ("Pod".to_owned(), object.name.clone(), false),
    };
    let labels = cx
        .labels(
            metadata.and_then(|m| m.get("labels")),
            "metadata.labels",
            LabelCheck::Object,
        )
        .ok()
        .flatten()
        .unwrap_or_default();
    let annotations = cx
        .labels(
            metadata.and_then(|m| m.get("annotations")),
            "metadata.annotations",
            LabelCheck::None,
        )
        .ok()
        .flatten()
        .unwrap_or_default();
    let spec = cx.map(object.get("spec"), "spec").ok().flatten();
    let pod_spec = read_pod_spec(cx, spec, "spec");
    let status = cx.map(object.get("status"), "status").ok().flatten();
    let mut pod_ips = Vec::new();
    if let Ok(Some(items)) = cx.seq(status.and_then(|s| s.get("podIPs")), "status.podIPs") {
        for (i, item) in items.iter().enumerate() {
            let path = format!("status.podIPs[{i}].ip");
            if let Some(ip) = read_ip(cx, item.get("ip"), &path) {
                pod_ips.push(ip);
            }
        }
    }
    if pod_ips.is_empty() {
        pod_ips.extend(read_ip(
            cx,
            status.and_then(|s| s.get("podIP")),
            "status.podIP",
        ));
    }
    let host_ip = read_ip(cx, status.and_then(|s| s.get("hostIP")), "status.hostIP");
    Some(PodRecord {
        kind,
        name,
        namespace: object.namespace.clone(),
        owned,
        labels,
        annotations,
        service_account: pod_spec.service_account,
        containers: pod_spec.containers,
        host_network: pod_spec.host_network,
        node_name: pod_spec.node_name,
        host_ip,
        pod_ips,
        replicas: 1,
        span: object.span,
    })
}

/// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job: `spec.template`.
pub(crate) fn read_controller(cx: &mut Cx, object: &Object) -> Option<PodRecord> {
    let spec = cx.map(object.get("spec"), "spec").ok().flatten();
    let replicas_field = if object.kind == "Job" {
        "parallelism"
    } else {
        "replicas"
    };
    let replicas = read_replicas(cx, spec, &format!("spec.{replicas_field}"), replicas_field);
    read_template(
        cx,
        object,
        spec.and_then(|s| s.get("template")),
        "spec.template",
        replicas,
    )
}

/// CronJob: `spec.jobTemplate.spec.template`.
pub(crate) fn read_cron_job(cx: &mut Cx, object: &Object) -> Option<PodRecord> {
    let spec = cx.map(object.get("spec"), "spec").ok().flatten();
    let job = cx
        .map(spec.and_then(|s| s.get("jobTemplate")), "spec.jobTemplate")
        .ok()
        .flatten();
    let job_spec = cx
        .map(job.and_then(|j| j.get("spec")), "spec.jobTemplate.spec")
        .ok()
        .flatten();
    let replicas = read_replicas(
        cx,
        job_spec,
        "spec.jobTemplate.spec.parallelism",
        "parallelism",
    );
    read_template(
        cx,
        object,
        job_spec.and_then(|s| s.get("template")),
        "spec.jobTemplate.spec.template",
        replicas,
    )
}

fn read_replicas(cx: &mut Cx, spec: Option<&Node>, path: &str, field: &str) -> u32 {
    match cx.int(spec.and_then(|s| s.get(field)), path) {
        Ok(Some(n)) => u32::try_from(n).unwrap_or(0),
        _ => 1,
    }
}

fn read_template(
    cx: &mut Cx,
    object: &Object,
    template: Option<&Node>,
    path: &str,
    replicas: u32,
) -> Option<PodRecord> {
    let template = match cx.map(template, path) {
        Ok(Some(t)) => t,
        Ok(None) => {
            cx.report(messages::missing_field(path, "object", object.span));
            return None;
        }
        Err(Invalid) => return None,
    };
    let metadata = cx
        .map(template.get("metadata"), &format!("{path}.metadata"))
        .ok()
        .flatten();
    let labels = cx
        .labels(
            metadata.and_then(|m| m.get("labels")),
            &format!("{path}.metadata.labels"),
            LabelCheck::Object,
        )
        .ok()
        .flatten()
        .unwrap_or_default();
    let annotations = cx
        .labels(
            metadata.and_then(|m| m.get("annotations")),
            &format!("{path}.metadata.annotations"),
            LabelCheck::None,
        )
        .ok()
        .flatten()
        .unwrap_or_default();
    let spec_path = format!("{path}.spec");
    let spec = cx.map(template.get("spec"), &spec_path).ok().flatten();
    let pod_spec = read_pod_spec(cx, spec, &spec_path);
    Some(PodRecord {
        kind: object.kind.clone(),
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        owned: false,
        labels,
        annotations,
        service_account: pod_spec.service_account,
        containers: pod_spec.containers,
        host_network: pod_spec.host_network,
        node_name: pod_spec.node_name,
        host_ip: None,
        pod_ips: Vec::new(),
        replicas,
        span: object.span,
    })
}

/// The `ownerReferences` entry with `controller: true`, unless it is a `Node` (static pods).
fn controller_owner(cx: &mut Cx, metadata: Option<&Node>) -> Option<(String, String)> {
    let owners = cx
        .seq(
            metadata.and_then(|m| m.get("ownerReferences")),
            "metadata.ownerReferences",
        )
        .ok()
        .flatten()?;
    for (i, owner) in owners.iter().enumerate() {
        let path = format!("metadata.ownerReferences[{i}]");
        let Ok(Some(owner)) = cx.map(Some(owner), &path) else {
            continue;
        };
        if cx
            .boolean(owner.get("controller"), &format!("{path}.controller"))
            .ok()
            .flatten()
            != Some(true)
        {
            continue;
        }
        let kind = cx
            .string(owner.get("kind"), &format!("{path}.kind"))
            .ok()
            .flatten()
            .unwrap_or_default();
        let name = cx
            .string(owner.get("name"), &format!("{path}.name"))
            .ok()
            .flatten()
            .unwrap_or_default();
        if kind == "Node" || name.is_empty() {
            return None;
        }
        // netpol-analyzer prints an owner without `kind` as `[Pod]`.
        let kind = if kind.is_empty() {
            "Pod".to_owned()
        } else {
            kind
        };
        return Some((kind, name));
    }
    None
}

struct PodSpec {
    service_account: String,
    containers: Vec<Container>,
    host_network: bool,
    node_name: Option<String>,
}

fn read_pod_spec(cx: &mut Cx, spec: Option<&Node>, path: &str) -> PodSpec {
    let field = |key: &str| spec.and_then(|s| s.get(key));
    let service_account = cx
        .string(
            field("serviceAccountName"),
            &format!("{path}.serviceAccountName"),
        )
        .ok()
        .flatten()
        .or_else(|| {
            cx.string(field("serviceAccount"), &format!("{path}.serviceAccount"))
                .ok()
                .flatten()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let host_network = cx
        .boolean(field("hostNetwork"), &format!("{path}.hostNetwork"))
        .ok()
        .flatten()
        .unwrap_or(false);
    let node_name = cx
        .string(field("nodeName"), &format!("{path}.nodeName"))
        .ok()
        .flatten()
        .filter(|s| !s.is_empty());
    let mut containers = Vec::new();
    if let Ok(Some(items)) = cx.seq(field("containers"), &format!("{path}.containers")) {
        for (i, item) in items.iter().enumerate() {
            if let Some(container) = read_container(cx, item, &format!("{path}.containers[{i}]")) {
                containers.push(container);
            }
        }
    }
    PodSpec {
        service_account,
        containers,
        host_network,
        node_name,
    }
}

fn read_container(cx: &mut Cx, item: &Node, path: &str) -> Option<Container> {
    let item = cx.map(Some(item), path).ok().flatten()?;
    let name = cx
        .string(item.get("name"), &format!("{path}.name"))
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut ports = Vec::new();
    if let Ok(Some(items)) = cx.seq(item.get("ports"), &format!("{path}.ports")) {
        for (i, port) in items.iter().enumerate() {
            if let Some(port) = read_container_port(cx, port, &format!("{path}.ports[{i}]")) {
                ports.push(port);
            }
        }
    }
    let mut probes = Vec::new();
    for (key, kind) in [
        ("livenessProbe", ProbeKind::Liveness),
        ("readinessProbe", ProbeKind::Readiness),
        ("startupProbe", ProbeKind::Startup),
    ] {
        if let Some(probe) = read_probe(cx, item.get(key), &format!("{path}.{key}"), kind) {
            probes.push(probe);
        }
    }
    Some(Container {
        name,
        ports,
        probes,
    })
}

/// An invalid container port is reported and dropped (the rest of the pod is kept).
fn read_container_port(cx: &mut Cx, item: &Node, path: &str) -> Option<ContainerPort> {
    let item = cx.map(Some(item), path).ok().flatten()?;
    let port_path = format!("{path}.containerPort");
    let port_node = item.get("containerPort");
    let port = match cx.int(port_node, &port_path) {
        Ok(Some(i)) => match crate::parse::reader::port_number(i) {
            Some(p) => p,
            None => {
                cx.report(messages::invalid_port_number(
                    &port_path,
                    &i.to_string(),
                    port_node.map_or(item.span, |n| n.span),
                ));
                return None;
            }
        },
        Ok(None) => {
            cx.report(messages::missing_field(
                &port_path,
                "container port",
                item.span,
            ));
            return None;
        }
        Err(Invalid) => return None,
    };
    let name = cx
        .string(item.get("name"), &format!("{path}.name"))
        .ok()
        .flatten()
        .filter(|n| !n.is_empty());
    let protocol = read_protocol(cx, item.get("protocol"), &format!("{path}.protocol"))?;
    Some(ContainerPort {
        name,
        port,
        protocol,
        span: item.span,
    })
}

/// `TCP` when absent; `None` (reported) when invalid.
pub(crate) fn read_protocol(cx: &mut Cx, node: Option<&Node>, path: &str) -> Option<Protocol> {
    match cx.string(node, path) {
        Ok(None) => Some(Protocol::Tcp),
        Ok(Some(s)) => {
            let protocol = Protocol::parse(&s);
            if protocol.is_none() {
                cx.report(messages::invalid_protocol(
                    path,
                    &s,
                    node.map(|n| n.span).unwrap_or_default(),
                ));
            }
            protocol
        }
        Err(Invalid) => None,
    }
}

fn read_probe(cx: &mut Cx, node: Option<&Node>, path: &str, kind: ProbeKind) -> Option<Probe> {
    let probe = cx.map(node, path).ok().flatten()?;
    let action = if let Some(http) = cx
        .map(probe.get("httpGet"), &format!("{path}.httpGet"))
        .ok()
        .flatten()
    {
        let port = cx
            .port_ref(http.get("port"), &format!("{path}.httpGet.port"))
            .ok()
            .flatten()?;
        let path_value = cx
            .string(http.get("path"), &format!("{path}.httpGet.path"))
            .ok()
            .flatten()
            .unwrap_or_else(|| "/".to_owned());
        ProbeAction::HttpGet {
            port,
            path: path_value,
        }
    } else if let Some(tcp) = cx
        .map(probe.get("tcpSocket"), &format!("{path}.tcpSocket"))
        .ok()
        .flatten()
    {
        ProbeAction::TcpSocket {
            port: cx
                .port_ref(tcp.get("port"), &format!("{path}.tcpSocket.port"))
                .ok()
                .flatten()?,
        }
    } else if let Some(grpc) = cx
        .map(probe.get("grpc"), &format!("{path}.grpc"))
        .ok()
        .flatten()
    {
        match cx
            .port_ref(grpc.get("port"), &format!("{path}.grpc.port"))
            .ok()
            .flatten()?
        {
            PortRef::Number(port) => ProbeAction::Grpc { port },
            PortRef::Name(name) => {
                let span = grpc.get("port").map_or(grpc.span, |n| n.span);
                cx.report(messages::wrong_type(
                    "an integer",
                    &format!("{path}.grpc.port"),
                    "a string",
                    span,
                ));
                let _ = name;
                return None;
            }
        }
    } else if probe.get("exec").is_some() {
        ProbeAction::Exec
    } else {
        return None;
    };
    Some(Probe {
        kind,
        action,
        span: probe.span,
    })
}

/// An IPv4 address; IPv6 addresses are skipped silently (the model is IPv4), junk is reported.
fn read_ip(cx: &mut Cx, node: Option<&Node>, path: &str) -> Option<Ipv4Addr> {
    let text = cx.string(node, path).ok().flatten()?;
    if text.is_empty() {
        return None;
    }
    match text.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => Some(ip),
        Ok(std::net::IpAddr::V6(_)) => None,
        Err(_) => {
            cx.report(messages::invalid_ip(
                path,
                &text,
                node.map(|n| n.span).unwrap_or_default(),
            ));
            None
        }
    }
}
