//! Kubernetes manifests → the typed cluster model ([`Cluster`]) and NetworkPolicies.
//!
//! What it is: reads every YAML document of every source (via `yaml`), dispatches on
//! `apiVersion`/`kind`, and builds namespaces, nodes, workloads, services and NetworkPolicies,
//! reporting every bad field with its span. What it is not: no policy evaluation, no IO.
//!
//! Kinds read: `Namespace`, `Node`, `Pod`, `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`,
//! `ReplicationController`, `Job`, `CronJob` (`spec.jobTemplate.spec.template`), `Service`,
//! `NetworkPolicy` (`networking.k8s.io`), `AdminNetworkPolicy` / `BaselineAdminNetworkPolicy`
//! (`policy.networking.k8s.io`, `parse/anp.rs`), Istio `AuthorizationPolicy` /
//! `PeerAuthentication` and waypoint `Gateway`s (`parse/istio.rs`), and `List` / any `*List`
//! (`items`). Every other kind,
//! and known kinds of another API group (a Calico `NetworkPolicy`), get an info diagnostic and an
//! [`IgnoredObject`](crate::model::IgnoredObject) entry. Adding a kind is one arm in
//! [`read_object`] and one function.
//!
//! Defaults (documented here because the model has no "unknown"):
//! - missing `metadata.namespace` → `default`; namespaces that are referenced but not declared
//!   exist implicitly (span `None`); every namespace carries `kubernetes.io/metadata.name=<name>`.
//! - nodes come from `Node` objects (first IPv4 `InternalIP`), from pod `spec.nodeName` and from
//!   pod `status.hostIP`. With no node at all, one implicit node `node-1` at `10.0.0.1` holds every
//!   workload; otherwise workloads without a node go to the first node. Nodes without a known
//!   address get one from `10.0.0.0/24` (`10.0.0.1`, `.2`, … skipping used addresses) in order of
//!   first appearance. A node known only by `hostIP` is named `node-<ip>`.
//! - pod addresses: the first IPv4 of `status.podIPs`/`status.podIP`, else one assigned from
//!   `10.244.0.0/16` (from `10.244.0.1`) in input order, skipping addresses already used.
//!   `hostNetwork` pods use their node's address. Controllers get ONE address per workload;
//!   `replicas` keeps `spec.replicas` (`spec.parallelism` for Jobs; DaemonSets: 1).
//! - Pods with an owner reference `controller: true` (and an owner kind other than `Node`) are
//!   grouped as `ns/<owner name>[<owner kind>]`, as netpol-analyzer prints them. Pods of one owner
//!   with identical labels and container ports become one workload (`ips` = all their addresses);
//!   if they differ, each distinct group is its own workload with the same display name and a
//!   PP1014 warning is reported.
//! - an object defined twice (same kind, namespace, name) is an error; the later definition wins,
//!   as with `kubectl apply`.
//!
//! NetworkPolicy error recovery (see `parse/netpol.rs`): an invalid field never widens what a
//! policy allows. An invalid peer, port or peer selector drops its whole rule (an `ingress`/`egress`
//! entry), which then allows nothing — never `from: [bad]` → `from: []`. An invalid
//! `spec.podSelector` makes the policy select every pod of its namespace with no rules; an invalid
//! `policyTypes` entry isolates every direction not validly listed, with no rules for it.

mod anp;
mod finish;
mod istio;
pub(crate) mod messages;
mod netpol;
mod reader;
mod workload;

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::diagnostics::Diagnostic;
use crate::model::{Cluster, IgnoredObject, Namespace, Service, ServicePort};
use crate::netpol::NetworkPolicy;
use crate::selector::Labels;
use crate::source::{Source, SourceId, Span};
use crate::yaml::{self, Node, Value};
use reader::{Cx, Invalid, LabelCheck};
use workload::PodRecord;

/// Read all sources. Never fails; every problem is a diagnostic.
pub fn parse(sources: &[Source]) -> (Cluster, Vec<Diagnostic>) {
    let trees: Vec<(Vec<yaml::Document>, Vec<Diagnostic>)> = sources
        .iter()
        .enumerate()
        .map(|(i, source)| yaml::parse_documents(source_id(i), &source.text))
        .collect();
    parse_trees(sources, &trees)
}

/// [`parse`] from documents already parsed: `trees[i]` is [`yaml::parse_documents`] of
/// `sources[i]` (its documents and YAML diagnostics).
pub fn parse_trees(
    sources: &[Source],
    trees: &[(Vec<yaml::Document>, Vec<Diagnostic>)],
) -> (Cluster, Vec<Diagnostic>) {
    let mut parser = Parser::new();
    for (source, (documents, yaml_diagnostics)) in sources.iter().zip(trees) {
        parser.diagnostics(yaml_diagnostics.iter().cloned());
        for document in documents {
            parser.read_document(&source.text, document);
        }
    }
    parser.finish()
}

/// The id of the `i`-th source.
pub fn source_id(i: usize) -> SourceId {
    SourceId(u32::try_from(i).unwrap_or(u32::MAX))
}

/// An incremental [`parse`]: feed each source's YAML diagnostics, then its documents, source by
/// source in order ([`Parser::diagnostics`], [`Parser::read_document`]); [`Parser::finish`]
/// builds the cluster. Fed in that order, the result equals [`parse`].
#[derive(Default)]
pub struct Parser {
    diagnostics: Vec<Diagnostic>,
    collected: Collected,
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Add diagnostics (a source's YAML diagnostics, before its documents).
    pub fn diagnostics(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(diagnostics);
    }

    /// Read one document of the source whose text is `text`.
    pub fn read_document(&mut self, text: &str, document: &yaml::Document) {
        if let Some(root) = &document.root {
            let mut cx = Cx {
                text,
                diagnostics: &mut self.diagnostics,
            };
            read_document(&mut cx, &mut self.collected, root);
        }
    }

    /// Defaults, grouping and cross-object checks: the cluster and every diagnostic.
    pub fn finish(self) -> (Cluster, Vec<Diagnostic>) {
        let Parser {
            mut diagnostics,
            mut collected,
        } = self;
        let authorization_policies = std::mem::take(&mut collected.authorization_policies);
        let peer_authentications = std::mem::take(&mut collected.peer_authentications);
        let waypoints = std::mem::take(&mut collected.waypoints);
        let admin_network_policies = std::mem::take(&mut collected.admin_network_policies);
        let baseline = std::mem::take(&mut collected.baseline_admin_network_policies);
        anp::check_priorities(&admin_network_policies, &mut diagnostics);
        let mut cluster = finish::build(collected, &mut diagnostics);
        cluster.admin_network_policies = admin_network_policies;
        // Only `default` is accepted and duplicates replace each other, so there is at most one.
        cluster.baseline_admin_network_policy = baseline.into_iter().next_back();
        cluster.authorization_policies = authorization_policies;
        cluster.peer_authentications = peer_authentications;
        cluster.waypoints = waypoints;
        crate::istio::materialize_waypoints(&mut cluster);
        (cluster, diagnostics)
    }
}

/// Everything read from the documents, before defaults and grouping (`finish`).
#[derive(Default)]
pub(crate) struct Collected {
    pub namespaces: Vec<Namespace>,
    pub nodes: Vec<DeclaredNode>,
    /// Bare pods, owned pods and pod templates, in input order.
    pub pods: Vec<PodRecord>,
    pub services: Vec<Service>,
    pub policies: Vec<NetworkPolicy>,
    pub admin_network_policies: Vec<crate::anp::AdminNetworkPolicy>,
    pub baseline_admin_network_policies: Vec<crate::anp::BaselineAdminNetworkPolicy>,
    pub authorization_policies: Vec<crate::istio::model::AuthorizationPolicy>,
    pub peer_authentications: Vec<crate::istio::model::PeerAuthentication>,
    pub waypoints: Vec<crate::istio::model::Waypoint>,
    pub ignored: Vec<IgnoredObject>,
    /// The first object read (anchor for whole-input diagnostics).
    pub first_object: Option<Span>,
    /// (kind, namespace, name) → index in the vector of that kind, for duplicate detection.
    seen: HashMap<(String, String, String), usize>,
}

pub(crate) struct DeclaredNode {
    pub name: String,
    pub ip: Option<Ipv4Addr>,
}

/// The header every object shares.
pub(crate) struct Object<'n> {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `default` when unset (ignored for cluster-scoped kinds).
    pub namespace: String,
    pub node: &'n Node,
    pub metadata: Option<&'n Node>,
    pub span: Span,
}

impl Object<'_> {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.node.get(key)
    }
}

/// `List` nesting limit (a `List` whose items are lists ...).
const MAX_LIST_DEPTH: usize = 4;

fn read_document(cx: &mut Cx, collected: &mut Collected, root: &Node) {
    match &root.value {
        Value::Null => {}
        Value::Map(_) => read_object(cx, collected, root, 0),
        other => cx.report(messages::not_an_object(other.kind_name(), root.span)),
    }
}

/// The API group of an `apiVersion` (`""` for the core group `v1`).
fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn read_object(cx: &mut Cx, collected: &mut Collected, node: &Node, depth: usize) {
    let Some(object) = read_header(cx, node) else {
        return;
    };
    collected.first_object.get_or_insert(object.span);
    let group = api_group(&object.api_version);
    let group = if object.api_version.is_empty() {
        default_group(&object.kind)
    } else {
        group
    };
    match (group, object.kind.as_str()) {
        ("", "Namespace") => read_namespace(cx, collected, &object),
        ("", "Node") => read_node(cx, collected, &object),
        ("", "Pod") => {
            if let Some(pod) = workload::read_pod(cx, &object) {
                let key = Some(("Pod", object.namespace.as_str(), object.name.as_str()));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.pods,
                    key,
                    pod,
                    &object,
                );
            }
        }
        ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("", "ReplicationController")
        | ("batch", "Job") => {
            if let Some(pod) = workload::read_controller(cx, &object) {
                let key = Some((
                    object.kind.as_str(),
                    object.namespace.as_str(),
                    object.name.as_str(),
                ));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.pods,
                    key,
                    pod,
                    &object,
                );
            }
        }
        ("batch", "CronJob") => {
            if let Some(pod) = workload::read_cron_job(cx, &object) {
                let key = Some(("CronJob", object.namespace.as_str(), object.name.as_str()));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.pods,
                    key,
                    pod,
                    &object,
                );
            }
        }
        ("", "Service") => {
            if let Some(service) = read_service(cx, &object) {
                let key = Some(("Service", object.namespace.as_str(), object.name.as_str()));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.services,
                    key,
                    service,
                    &object,
                );
            }
        }
        ("networking.k8s.io" | "extensions", "NetworkPolicy") => {
            if let Some(policy) = netpol::read_network_policy(cx, &object) {
                let key = Some((
                    "NetworkPolicy",
                    object.namespace.as_str(),
                    object.name.as_str(),
                ));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.policies,
                    key,
                    policy,
                    &object,
                );
            }
        }
        ("policy.networking.k8s.io", "AdminNetworkPolicy") => {
            if let Some(policy) = anp::read_admin_network_policy(cx, &object) {
                let key = Some(("AdminNetworkPolicy", "", object.name.as_str()));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.admin_network_policies,
                    key,
                    policy,
                    &object,
                );
            }
        }
        ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy") => {
            if let Some(policy) = anp::read_baseline_admin_network_policy(cx, &object) {
                let key = Some(("BaselineAdminNetworkPolicy", "", object.name.as_str()));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.baseline_admin_network_policies,
                    key,
                    policy,
                    &object,
                );
            }
        }
        (_, kind) if kind == "List" || kind.ends_with("List") => {
            read_list(cx, collected, &object, depth)
        }
        ("security.istio.io", "AuthorizationPolicy") => {
            if let Some(policy) = istio::read_authorization_policy(cx, &object) {
                let key = Some((
                    "AuthorizationPolicy",
                    object.namespace.as_str(),
                    object.name.as_str(),
                ));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.authorization_policies,
                    key,
                    policy,
                    &object,
                );
            }
        }
        ("security.istio.io", "PeerAuthentication") => {
            if let Some(policy) = istio::read_peer_authentication(cx, &object) {
                let key = Some((
                    "PeerAuthentication",
                    object.namespace.as_str(),
                    object.name.as_str(),
                ));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.peer_authentications,
                    key,
                    policy,
                    &object,
                );
            }
        }
        ("gateway.networking.k8s.io", "Gateway") => match istio::read_waypoint(cx, &object) {
            Some(waypoint) => {
                let key = Some(("Gateway", object.namespace.as_str(), object.name.as_str()));
                push_unique(
                    cx,
                    &mut collected.seen,
                    &mut collected.waypoints,
                    key,
                    waypoint,
                    &object,
                );
            }
            None => ignore(cx, collected, &object, false),
        },
        // A modelled kind name from another API group (e.g. Calico's `NetworkPolicy`).
        (
            _,
            "Namespace"
            | "Node"
            | "Pod"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job"
            | "CronJob"
            | "Service"
            | "NetworkPolicy",
        ) => ignore(cx, collected, &object, true),
        _ => ignore(cx, collected, &object, false),
    }
}

/// The group assumed when `apiVersion` is missing (reported by `read_header`).
fn default_group(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps",
        "Job" | "CronJob" => "batch",
        "NetworkPolicy" => "networking.k8s.io",
        _ => "",
    }
}

fn read_header<'n>(cx: &mut Cx, node: &'n Node) -> Option<Object<'n>> {
    let kind = match cx.string(node.get("kind"), "kind") {
        Ok(Some(kind)) if !kind.is_empty() => kind,
        Ok(_) => {
            cx.report(messages::missing_kind(node.span));
            return None;
        }
        Err(Invalid) => return None,
    };
    let api_version = match cx.string(node.get("apiVersion"), "apiVersion") {
        Ok(Some(v)) => v,
        Ok(None) => {
            cx.report(messages::missing_api_version(&kind, node.span));
            String::new()
        }
        Err(Invalid) => String::new(),
    };
    let metadata = cx.map(node.get("metadata"), "metadata").ok().flatten();
    let name = cx
        .string(metadata.and_then(|m| m.get("name")), "metadata.name")
        .ok()
        .flatten()
        .unwrap_or_default();
    let is_list = kind == "List" || kind.ends_with("List");
    if name.is_empty() && !is_list {
        cx.report(messages::missing_name(&kind, node.span));
        return None;
    }
    let namespace = cx
        .string(
            metadata.and_then(|m| m.get("namespace")),
            "metadata.namespace",
        )
        .ok()
        .flatten()
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    Some(Object {
        api_version,
        kind,
        name,
        namespace,
        node,
        metadata,
        span: node.span,
    })
}

/// Append `item`, or replace an earlier object with the same key (reported: PP1011).
fn push_unique<T>(
    cx: &mut Cx,
    seen: &mut HashMap<(String, String, String), usize>,
    items: &mut Vec<T>,
    key: Option<(&str, &str, &str)>,
    item: T,
    object: &Object,
) {
    let Some((kind, namespace, name)) = key else {
        items.push(item);
        return;
    };
    let key = (kind.to_owned(), namespace.to_owned(), name.to_owned());
    match seen.get(&key).and_then(|&i| items.get_mut(i)) {
        Some(slot) => {
            let qualified = if namespace.is_empty() || kind == "Namespace" || kind == "Node" {
                name.to_owned()
            } else {
                format!("{namespace}/{name}")
            };
            cx.report(messages::duplicate_object(kind, &qualified, object.span));
            *slot = item;
        }
        None => {
            seen.insert(key, items.len());
            items.push(item);
        }
    }
}

fn ignore(cx: &mut Cx, collected: &mut Collected, object: &Object, other_group: bool) {
    cx.report(if other_group {
        messages::ignored_api_version(&object.kind, &object.api_version, &object.name, object.span)
    } else {
        messages::ignored_kind(&object.kind, &object.name, object.span)
    });
    collected.ignored.push(IgnoredObject {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        name: object.name.clone(),
        span: object.span,
    });
}

fn read_list(cx: &mut Cx, collected: &mut Collected, object: &Object, depth: usize) {
    if depth >= MAX_LIST_DEPTH {
        cx.report(messages::list_too_deep(object.span));
        return;
    }
    let Ok(Some(items)) = cx.seq(object.get("items"), "items") else {
        return;
    };
    // `kubectl get pods -o json` gives a `PodList` whose items have no `kind`/`apiVersion`.
    let item_kind = object.kind.strip_suffix("List").filter(|k| !k.is_empty());
    for (i, item) in items.iter().enumerate() {
        match (&item.value, item_kind) {
            (Value::Map(entries), Some(kind)) if item.get("kind").is_none() => {
                let mut entries = entries.clone();
                let scalar = |text: &str| Node {
                    value: Value::Str(text.to_owned()),
                    span: item.span,
                    style: None,
                };
                entries.push((scalar("kind"), scalar(kind)));
                if item.get("apiVersion").is_none() && !object.api_version.is_empty() {
                    entries.push((scalar("apiVersion"), scalar(&object.api_version)));
                }
                let typed = Node {
                    value: Value::Map(entries),
                    span: item.span,
                    style: None,
                };
                read_object(cx, collected, &typed, depth + 1);
            }
            (Value::Map(_), _) => read_object(cx, collected, item, depth + 1),
            (other, _) => cx.report(messages::wrong_type(
                "a mapping",
                &format!("items[{i}]"),
                other.kind_name(),
                item.span,
            )),
        }
    }
}

fn read_namespace(cx: &mut Cx, collected: &mut Collected, object: &Object) {
    let mut labels = object_labels(cx, object);
    // The API server sets this immutable label on every namespace (§1.3 rule 19).
    labels.insert(
        "kubernetes.io/metadata.name".to_owned(),
        object.name.clone(),
    );
    let namespace = Namespace {
        name: object.name.clone(),
        labels,
        span: Some(object.span),
    };
    let key = Some(("Namespace", "", object.name.as_str()));
    push_unique(
        cx,
        &mut collected.seen,
        &mut collected.namespaces,
        key,
        namespace,
        object,
    );
}

fn read_node(cx: &mut Cx, collected: &mut Collected, object: &Object) {
    let mut ip = None;
    if let Ok(Some(addresses)) = cx.seq(
        object.get("status").and_then(|s| s.get("addresses")),
        "status.addresses",
    ) {
        for (i, address) in addresses.iter().enumerate() {
            let path = format!("status.addresses[{i}]");
            let kind = cx
                .string(address.get("type"), &format!("{path}.type"))
                .ok()
                .flatten();
            let value = cx
                .string(address.get("address"), &format!("{path}.address"))
                .ok()
                .flatten();
            if kind.as_deref() == Some("InternalIP") && ip.is_none() {
                ip = value.and_then(|v| v.parse::<Ipv4Addr>().ok());
            }
        }
    }
    let node = DeclaredNode {
        name: object.name.clone(),
        ip,
    };
    let key = Some(("Node", "", object.name.as_str()));
    push_unique(
        cx,
        &mut collected.seen,
        &mut collected.nodes,
        key,
        node,
        object,
    );
}

fn object_labels(cx: &mut Cx, object: &Object) -> Labels {
    cx.labels(
        object.metadata.and_then(|m| m.get("labels")),
        "metadata.labels",
        LabelCheck::Object,
    )
    .ok()
    .flatten()
    .unwrap_or_default()
}

fn read_service(cx: &mut Cx, object: &Object) -> Option<Service> {
    let labels = object_labels(cx, object);
    let spec = cx.map(object.get("spec"), "spec").ok().flatten();
    let selector = cx
        .labels(
            spec.and_then(|s| s.get("selector")),
            "spec.selector",
            LabelCheck::Object,
        )
        .ok()
        .flatten()
        .filter(|s| !s.is_empty());
    let mut ports = Vec::new();
    if let Ok(Some(items)) = cx.seq(spec.and_then(|s| s.get("ports")), "spec.ports") {
        for (i, item) in items.iter().enumerate() {
            let path = format!("spec.ports[{i}]");
            if let Some(port) = read_service_port(cx, item, &path) {
                ports.push(port);
            }
        }
    }
    Some(Service {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        labels,
        selector,
        ports,
        span: object.span,
    })
}

/// One Service port; an invalid one is reported and dropped.
fn read_service_port(cx: &mut Cx, item: &Node, path: &str) -> Option<ServicePort> {
    let item = cx.map(Some(item), path).ok().flatten()?;
    let name = cx
        .string(item.get("name"), &format!("{path}.name"))
        .ok()
        .flatten();
    let port_path = format!("{path}.port");
    let port = match cx.int(item.get("port"), &port_path) {
        Ok(Some(i)) => match reader::port_number(i) {
            Some(p) => p,
            None => {
                cx.report(messages::invalid_port_number(
                    &port_path,
                    &i.to_string(),
                    item.get("port").map_or(item.span, |n| n.span),
                ));
                return None;
            }
        },
        Ok(None) => {
            cx.report(messages::missing_field(
                &port_path,
                "Service port",
                item.span,
            ));
            return None;
        }
        Err(Invalid) => return None,
    };
    let target_port = cx
        .port_ref(item.get("targetPort"), &format!("{path}.targetPort"))
        .ok()?
        .unwrap_or(crate::model::PortRef::Number(port));
    let protocol = workload::read_protocol(cx, item.get("protocol"), &format!("{path}.protocol"))?;
    Some(ServicePort {
        name,
        port,
        target_port,
        protocol,
        span: item.span,
    })
}

#[cfg(test)]
mod tests;
