//! PeerAuthentication (SEMANTICS.md §4.4): which policy decides a workload's mTLS mode
//! (workload > namespace > mesh, oldest wins, root-namespace selector policies ignored), the
//! sidecar's effective mode per port, and the ztunnel form istiod builds for ambient workloads:
//! the static `istio-system/istio_converted_static_strict` DENY and the converted port-level
//! policy `converted_peer_authentication_<name>`
//! (`pilot/pkg/serviceregistry/ambient/authorization.go` `convertedSelectorPeerAuthentications`,
//! `convertPeerAuthentication`). DISABLE is ignored in ambient (§4.4 rule 25).

use crate::model::{Cluster, Workload};
use crate::verdict::{AuthzOrigin, PolicyRef};

use super::mesh::match_labels;
use super::model::{MtlsMode, PeerAuthentication, StringMatch};
use super::ztunnel::{Authorization, Clause, Group, Match, Scope, ZAction};
use super::MeshOptions;

/// `staticStrictPolicyName` ("use '_' character since those are illegal in k8s names").
pub const STATIC_STRICT_POLICY_NAME: &str = "istio_converted_static_strict";
/// `model.GetAmbientPolicyConfigName` prefix for converted PeerAuthentications.
pub const CONVERTED_PREFIX: &str = "converted_peer_authentication_";

/// The PeerAuthentications that apply to a workload, one per level (§4.4 rule 23).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applicable {
    pub mesh: Option<usize>,
    pub namespace: Option<usize>,
    pub workload: Option<usize>,
}

/// "Precedence: workload (selector) > namespace (no selector) > mesh (root ns, no selector).
/// Multiple candidates at one level: oldest creationTimestamp wins. Selector policies in the root
/// namespace are ignored."
pub fn applicable(cluster: &Cluster, options: &MeshOptions, workload: &Workload) -> Applicable {
    let mut res = Applicable::default();
    let older = |a: usize, b: Option<usize>| -> bool {
        let Some(b) = b else { return true };
        let key = |i: usize| {
            cluster
                .peer_authentications
                .get(i)
                .map(|p| (p.creation_timestamp.is_none(), p.creation_timestamp.clone()))
        };
        key(a) < key(b)
    };
    for (i, pa) in cluster.peer_authentications.iter().enumerate() {
        let root = pa.namespace == options.root_namespace;
        let slot = match &pa.selector {
            None if root => &mut res.mesh,
            None if pa.namespace == workload.namespace => &mut res.namespace,
            Some(sel)
                if !root
                    && pa.namespace == workload.namespace
                    && match_labels(sel, &workload.labels) =>
            {
                &mut res.workload
            }
            _ => continue,
        };
        if older(i, *slot) {
            *slot = Some(i);
        }
    }
    res
}

/// A workload's effective mode on one port, and the PeerAuthentication that set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective {
    /// Never `Unset` ("top-level default = PERMISSIVE").
    pub mode: MtlsMode,
    pub decided_by: Option<usize>,
}

/// The sidecar view: port-level (workload policy) > workload > namespace > mesh; `UNSET`
/// inherits (§4.4 rules 22–23).
pub fn effective(
    cluster: &Cluster,
    options: &MeshOptions,
    workload: &Workload,
    port: u16,
) -> Effective {
    let a = applicable(cluster, options, workload);
    let get =
        |i: Option<usize>| i.and_then(|i| cluster.peer_authentications.get(i).map(|p| (i, p)));
    if let Some((i, pa)) = get(a.workload) {
        if let Some((_, mode)) = pa.port_level.iter().find(|(p, _)| *p == port) {
            if *mode != MtlsMode::Unset {
                return Effective {
                    mode: *mode,
                    decided_by: Some(i),
                };
            }
        }
    }
    for level in [a.workload, a.namespace, a.mesh] {
        if let Some((i, pa)) = get(level) {
            if pa.mode != MtlsMode::Unset {
                return Effective {
                    mode: pa.mode,
                    decided_by: Some(i),
                };
            }
        }
    }
    Effective {
        mode: MtlsMode::Permissive,
        decided_by: None,
    }
}

/// The policies istiod attaches to an ambient workload for PeerAuthentication (§4.4 rule 25):
/// the static STRICT policy when the effective policy is STRICT, and/or the converted workload
/// policy carrying port-level exceptions.
pub fn ztunnel_policies(
    cluster: &Cluster,
    options: &MeshOptions,
    workload: &Workload,
) -> Vec<Authorization> {
    let a = applicable(cluster, options, workload);
    let get = |i: Option<usize>| i.and_then(|i| cluster.peer_authentications.get(i));
    let (mesh, ns, wl) = (get(a.mesh), get(a.namespace), get(a.workload));
    let is = |p: Option<&PeerAuthentication>, m: MtlsMode| p.is_some_and(|p| p.mode == m);
    let unset = |p: Option<&PeerAuthentication>| p.is_none_or(|p| p.mode == MtlsMode::Unset);

    // "Process in mesh, namespace, workload order to resolve inheritance (UNSET)".
    let mut strict = is(mesh, MtlsMode::Strict);
    let mut decided_by = a.mesh.filter(|_| strict);
    if !unset(ns) {
        strict = is(ns, MtlsMode::Strict);
        decided_by = a.namespace.filter(|_| strict);
    }
    let mut port_level: Option<usize> = None;
    if let Some(w) = wl {
        if w.mode == MtlsMode::Strict {
            strict = true;
            decided_by = a.workload;
        }
        if matches!(w.mode, MtlsMode::Permissive | MtlsMode::Disable) {
            strict = false;
        }
        if !w.port_level.is_empty() {
            let any = |f: &dyn Fn(MtlsMode) -> bool| w.port_level.iter().any(|(_, m)| f(*m));
            match w.mode {
                MtlsMode::Strict => {
                    if any(&|m| matches!(m, MtlsMode::Permissive | MtlsMode::Disable)) {
                        port_level = a.workload;
                        strict = false;
                    }
                }
                MtlsMode::Permissive | MtlsMode::Disable => {
                    if any(&|m| m == MtlsMode::Strict) {
                        port_level = a.workload;
                    }
                }
                MtlsMode::Unset => {
                    if strict {
                        if any(&|m| m == MtlsMode::Permissive) {
                            port_level = a.workload;
                            strict = false;
                        }
                    } else if any(&|m| m == MtlsMode::Strict) {
                        port_level = a.workload;
                    }
                }
            }
        }
    }
    let mut res = Vec::new();
    if strict {
        res.push(static_strict(
            options,
            decided_by.and_then(|i| pa_ref(cluster, i)),
        ));
    }
    if let Some(i) = port_level {
        if let Some(p) = convert(cluster, i, ns, mesh) {
            res.push(p);
        }
    }
    res
}

/// `istio-system/istio_converted_static_strict`: DENY when `notPrincipals: ["*"]` (no identity).
pub fn static_strict(options: &MeshOptions, decided_by: Option<PolicyRef>) -> Authorization {
    Authorization {
        name: STATIC_STRICT_POLICY_NAME.to_string(),
        namespace: options.root_namespace.clone(),
        scope: Scope::Global,
        action: ZAction::Deny,
        groups: vec![Group {
            clauses: vec![no_identity()],
            rule: 0,
            span: None,
        }],
        dry_run: false,
        selector: None,
        origin: AuthzOrigin::StaticStrict { decided_by },
    }
}

fn no_identity() -> Clause {
    Clause {
        matches: vec![Match {
            not_principals: vec![StringMatch::Presence],
            ..Match::default()
        }],
    }
}

/// `convertPeerAuthentication` for a workload policy with port-level mTLS.
fn convert(
    cluster: &Cluster,
    index: usize,
    ns: Option<&PeerAuthentication>,
    root: Option<&PeerAuthentication>,
) -> Option<Authorization> {
    let pa = cluster.peer_authentications.get(index)?;
    if pa.selector.is_none() || pa.port_level.is_empty() {
        return None;
    }
    let strict = |p: Option<&PeerAuthentication>| p.is_some_and(|p| p.mode == MtlsMode::Strict);
    let unset = |p: Option<&PeerAuthentication>| p.is_none_or(|p| p.mode == MtlsMode::Unset);
    let mut rules: Vec<Clause> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    if pa.mode == MtlsMode::Strict {
        rules.push(no_identity());
    }
    let mut found_non_strict = false;
    for (port, mode) in &pa.port_level {
        match mode {
            MtlsMode::Strict => {
                // Enforced by the parent policy already (cases #1–#3).
                if pa.mode == MtlsMode::Strict
                    || (pa.mode == MtlsMode::Unset && strict(ns))
                    || (unset(ns) && strict(root))
                {
                    continue;
                }
                groups.push(Group {
                    clauses: vec![Clause {
                        matches: vec![Match {
                            not_principals: vec![StringMatch::Presence],
                            destination_ports: vec![*port],
                            ..Match::default()
                        }],
                    }],
                    rule: groups.len(),
                    span: Some(pa.span),
                });
            }
            MtlsMode::Permissive | MtlsMode::Disable => {
                if matches!(pa.mode, MtlsMode::Permissive | MtlsMode::Disable) {
                    continue;
                }
                if pa.mode == MtlsMode::Unset
                    && ((ns.is_some() && !strict(ns))
                        || (ns.is_none() && root.is_some() && !strict(root))
                        || (ns.is_none() && root.is_none()))
                {
                    continue;
                }
                found_non_strict = true;
                // "if the incoming connection does not match this port, deny".
                rules.push(Clause {
                    matches: vec![Match {
                        not_destination_ports: vec![*port],
                        ..Match::default()
                    }],
                });
            }
            MtlsMode::Unset => {}
        }
    }
    if pa.mode == MtlsMode::Strict && !found_non_strict {
        return None;
    }
    if rules.is_empty() && groups.is_empty() {
        return None;
    }
    let merge_strict = (strict(root) && (ns.is_none() || unset(ns) || strict(ns))) || strict(ns);
    if merge_strict && found_non_strict {
        rules.push(no_identity());
    }
    if !rules.is_empty() {
        groups.push(Group {
            clauses: rules,
            rule: groups.len(),
            span: Some(pa.span),
        });
    }
    Some(Authorization {
        name: format!("{CONVERTED_PREFIX}{}", pa.name),
        namespace: pa.namespace.clone(),
        scope: Scope::WorkloadSelector,
        action: ZAction::Deny,
        groups,
        dry_run: false,
        selector: pa.selector.clone(),
        origin: AuthzOrigin::PeerAuthentication(pa_ref(cluster, index)?),
    })
}

pub(crate) fn pa_ref(cluster: &Cluster, index: usize) -> Option<PolicyRef> {
    cluster.peer_authentications.get(index).map(|p| PolicyRef {
        index,
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        span: p.span,
    })
}
