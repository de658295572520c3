//! The rows from pod sources to pods and Services (the App, Service and Bypass stages: nearly
//! every row of a large table), judged from per-destination contexts.
//!
//! For one destination as addressed and one port ([`TargetPort`]) everything but the source is
//! fixed: the target resolution, the NetworkPolicy slots, the waypoint, the leg from the
//! waypoint to the destination (source-independent, judged once) and the proxies the legs
//! end at. A row then costs a few bit tests ([`NpMatrix`] slots) and one array look-up per
//! proxy: a source counts at a proxy only through its projection (the namespaces, principals
//! and service accounts the proxy's policies name, and its address when a policy matches
//! addresses; [`Projection`]), so each (target, port, proxy) keeps one decision per
//! projection ([`Memo`]). The leg shapes mirror `istio::legs::plan` (SEMANTICS §0) exactly as
//! [`FastJudge::plan`] does; the differential tests in `tests.rs` compare every row with the
//! reference evaluator.
//!
//! Sources on the host network (their address is the node's, and their probe-like legs take
//! the SNAT path) and clusters whose workload ids are not positions go through
//! [`FastJudge::judge`].

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::{CLeg, FastJudge, Layers, LegProxy, Plane, ProxyId, OTHER};
use crate::flows::{FlowKind, FlowSpec, FlowTarget};
use crate::istio::legs::HBONE_PORT;
use crate::istio::model::MtlsMode;
use crate::istio::Connection;
use crate::model::{PortRef, Protocol, WorkloadId};
use crate::verdict::{Decision, Endpoint, Layer, Leg};

/// Worst-first accumulation of layer decisions over a flow's legs (as `FastJudge::combine`).
#[derive(Default)]
pub(super) struct Acc {
    layers: Layers,
    deny: Option<Layer>,
    unknown: Option<Layer>,
}

impl Acc {
    fn note(&mut self, layer: Layer, d: Decision) {
        self.layers.add(layer, d);
        match d {
            Decision::Deny => {
                self.deny.get_or_insert(layer);
            }
            Decision::Unknown => {
                self.unknown.get_or_insert(layer);
            }
            Decision::Allow => {}
        }
    }

    fn finish(self) -> (Decision, Option<Layer>, Layers) {
        match (self.deny, self.unknown) {
            (Some(l), _) => (Decision::Deny, Some(l), self.layers),
            (None, Some(l)) => (Decision::Unknown, Some(l), self.layers),
            (None, None) => (Decision::Allow, None, self.layers),
        }
    }
}

/// The verdict of a flow with no legs (its target does not resolve).
pub(super) const NO_LEGS: (Decision, Option<Layer>, Layers) = (Decision::Unknown, None, Layers(0));

/// Source positions → projection ids at one proxy (shared by proxies whose policies name the
/// same things).
struct Projection {
    /// With the source's identity (mTLS / HBONE legs).
    with_id: Vec<u32>,
    /// Without an identity (plaintext legs).
    anon: Vec<u32>,
    count_with_id: u32,
    count_anon: u32,
}

/// One proxy's decisions on one (destination address, port) by source projection.
struct Memo {
    proxy: ProxyId,
    layer: Layer,
    projection: usize,
    anon: bool,
    dst_ip: Ipv4Addr,
    dst_port: u16,
    declared_tcp: bool,
    /// By projection id: 0 not computed, 1 no decision (no proxy layer), 2 + decision.
    values: Vec<u8>,
}

const NOT_COMPUTED: u8 = 0;
const NO_DECISION: u8 = 1;

fn encode(d: Option<Decision>) -> u8 {
    match d {
        None => NO_DECISION,
        Some(Decision::Allow) => 2,
        Some(Decision::Unknown) => 3,
        Some(Decision::Deny) => 4,
    }
}

fn decode(v: u8) -> Option<Decision> {
    match v {
        2 => Some(Decision::Allow),
        3 => Some(Decision::Unknown),
        4 => Some(Decision::Deny),
        _ => None,
    }
}

/// The waypoint on a target's path (`istio::legs::plan`, ambient source).
#[derive(Clone, Copy)]
struct Waypoint {
    id: WorkloadId,
    /// NetworkPolicy slot of (waypoint pod, TCP, 15008).
    slot: Option<usize>,
    /// The waypoint's decision on the source's HBONE leg (memo index).
    memo: usize,
    /// The second leg (waypoint → destination), judged once: up to three layer decisions.
    leg2: [Option<(Layer, Decision)>; 3],
}

/// A target resolved: what every source's row needs.
#[derive(Clone, Copy)]
struct Resolved {
    dst_id: WorkloadId,
    protocol: Protocol,
    /// The port on the pod (a Service's target port).
    t_port: u16,
    dst_plane: Plane,
    /// NetworkPolicy slots of (destination, protocol, target port) and (destination, TCP,
    /// 15008).
    slot: Option<usize>,
    hbone: Option<usize>,
    waypoint: Option<Waypoint>,
    /// PeerAuthentication DISABLE on a sidecar destination's port.
    mtls_disabled: bool,
    /// The destination's proxy (ztunnel or sidecar) with the source's identity / without
    /// one (memo indices; `usize::MAX` when the destination has no proxy).
    m_id: usize,
    m_anon: usize,
}

/// A destination as addressed (a workload or a Service endpoint) with one port.
#[derive(Clone, Copy)]
pub(super) struct TargetPort {
    pub(super) target: FlowTarget,
    pub(super) protocol: Protocol,
    pub(super) port: u16,
    resolved: Option<Resolved>,
    /// The table's id of `target`, once interned.
    pub(super) dst_id: Option<u32>,
}

/// Projections and memos of the pod-source rows.
#[derive(Default)]
pub(super) struct PodRows {
    projections: Vec<Projection>,
    by_signature: HashMap<(Vec<u32>, bool, bool), usize>,
    of_proxy: HashMap<ProxyId, usize>,
    memos: Vec<Memo>,
}

impl PodRows {
    /// The projection of `proxy` (its policies cached), computed once per signature.
    fn projection(&mut self, judge: &mut FastJudge, proxy: ProxyId) -> Option<usize> {
        if let Some(&p) = self.of_proxy.get(&proxy) {
            return Some(p);
        }
        judge.ensure_proxy(proxy);
        let info = judge.proxy_info(proxy)?;
        let mut mentioned: Vec<u32> = info.mentioned.iter().copied().collect();
        mentioned.sort_unstable();
        let signature = (mentioned, info.full_identity, info.by_address);
        if let Some(&p) = self.by_signature.get(&signature) {
            self.of_proxy.insert(proxy, p);
            return Some(p);
        }
        let (full, by_address) = (info.full_identity, info.by_address);
        let project = |name: u32| {
            if full || info.mentioned.contains(&name) {
                name
            } else {
                OTHER
            }
        };
        let n = judge.cluster.workloads.len();
        let mut ids: HashMap<(Option<(u32, u32)>, u32), u32> = HashMap::new();
        let mut with_id = Vec::with_capacity(n);
        let mut anon = Vec::with_capacity(n);
        let mut count_anon = 0u32;
        let mut anon_ids: HashMap<u32, u32> = HashMap::new();
        for (i, w) in judge.cluster.workloads.iter().enumerate() {
            let ip = if by_address { u32::from(w.ip()) } else { 0 };
            let identity = judge
                .names
                .get(i)
                .map(|&(ns, sa)| (project(ns), project(sa)));
            let next = ids.len() as u32;
            with_id.push(*ids.entry((identity, ip)).or_insert(next));
            let next = count_anon;
            let a = *anon_ids.entry(ip).or_insert(next);
            if a == next {
                count_anon += 1;
            }
            anon.push(a);
        }
        let p = self.projections.len();
        self.projections.push(Projection {
            with_id,
            anon,
            count_with_id: ids.len() as u32,
            count_anon,
        });
        self.by_signature.insert(signature, p);
        self.of_proxy.insert(proxy, p);
        Some(p)
    }

    /// A memo for `proxy` deciding connections to (`dst_ip`, `dst_port`); `usize::MAX` when
    /// the proxy has no cached policies.
    #[allow(clippy::too_many_arguments, reason = "the fields of one memo key")]
    fn memo(
        &mut self,
        judge: &mut FastJudge,
        proxy: ProxyId,
        layer: Layer,
        anon: bool,
        dst_ip: Ipv4Addr,
        dst_port: u16,
        declared_tcp: bool,
    ) -> usize {
        let Some(projection) = self.projection(judge, proxy) else {
            return usize::MAX;
        };
        let len = self.projections.get(projection).map_or(0, |p| {
            if anon {
                p.count_anon
            } else {
                p.count_with_id
            }
        });
        self.memos.push(Memo {
            proxy,
            layer,
            projection,
            anon,
            dst_ip,
            dst_port,
            declared_tcp,
            values: vec![NOT_COMPUTED; len as usize],
        });
        self.memos.len() - 1
    }

    /// The decision of memo `m` for the source at position `s` (computed on first use).
    fn decide(&mut self, judge: &FastJudge, m: usize, s: usize) -> Option<(Layer, Decision)> {
        let memo = self.memos.get_mut(m)?;
        let projection = self.projections.get(memo.projection)?;
        let key = if memo.anon {
            projection.anon.get(s)
        } else {
            projection.with_id.get(s)
        };
        let slot = memo.values.get_mut(*key? as usize)?;
        if *slot == NOT_COMPUTED {
            let w = judge.cluster.workloads.get(s)?;
            let conn = Connection {
                src_ip: w.ip(),
                src_identity: if memo.anon {
                    None
                } else {
                    judge.identities.get(s).cloned()
                },
                dst_ip: memo.dst_ip,
                dst_port: memo.dst_port,
                http: None,
            };
            *slot = encode(judge.decide(memo.proxy, &conn, memo.declared_tcp));
        }
        decode(*slot).map(|d| (memo.layer, d))
    }

    /// The context of `target` on (`protocol`, `port`).
    pub(super) fn target_port(
        &mut self,
        judge: &mut FastJudge,
        target: FlowTarget,
        protocol: Protocol,
        port: u16,
    ) -> TargetPort {
        let resolved = self.resolve(judge, target, protocol, port);
        TargetPort {
            target,
            protocol,
            port,
            resolved,
            dst_id: None,
        }
    }

    fn resolve(
        &mut self,
        judge: &mut FastJudge,
        target: FlowTarget,
        protocol: Protocol,
        port: u16,
    ) -> Option<Resolved> {
        // Target resolution (`resolve_target`), as `FastJudge::plan`.
        let (di, t_port, service) = match target {
            FlowTarget::Workload(id) => (judge.workload(id)?.0, port, None),
            FlowTarget::Service {
                service,
                port: sport,
                endpoint,
            } => {
                let svc = judge.cluster.services.get(service)?;
                let (di, w) = judge.workload(endpoint)?;
                let sp = svc
                    .ports
                    .iter()
                    .find(|p| p.port == sport && p.protocol == protocol)?;
                let target = match &sp.target_port {
                    PortRef::Number(n) => Some(*n),
                    PortRef::Name(name) => w
                        .container_ports()
                        .find(|cp| {
                            cp.protocol == sp.protocol && cp.name.as_deref() == Some(name.as_str())
                        })
                        .map(|cp| cp.port),
                };
                (di, target?, Some(service))
            }
            FlowTarget::External(_) => return None,
        };
        let w = judge.cluster.workloads.get(di)?;
        let (dst_id, t_ip) = (w.id, w.ip());
        let dst_plane = judge.kinds.get(di).copied().unwrap_or(Plane::None);
        let spec = FlowSpec {
            kind: FlowKind::App,
            src: crate::flows::FlowSource::Workload(dst_id),
            dst: target,
            protocol,
            port,
            http: None,
            probe: None,
        };
        // `FastJudge::declared_tcp` for a leg ending at `to` on `dst_port`.
        let declared = |judge: &FastJudge, to: WorkloadId, dst_port: u16| {
            let leg = CLeg {
                leg: Leg {
                    src: Endpoint::Pod(dst_id),
                    dst: Endpoint::Pod(to),
                    protocol: Protocol::Tcp,
                    port: dst_port,
                },
                dst_port,
                ..super::Legs::EMPTY
            };
            judge.declared_tcp(&spec, &leg)
        };
        let (m_id, m_anon) = match dst_plane {
            Plane::Ambient | Plane::Sidecar => {
                let (proxy, layer, tcp) = if dst_plane == Plane::Ambient {
                    (ProxyId::Ztunnel(di as u32), Layer::Ztunnel, false)
                } else {
                    (
                        ProxyId::Sidecar(di as u32),
                        Layer::Sidecar,
                        declared(judge, dst_id, t_port),
                    )
                };
                (
                    self.memo(judge, proxy, layer, false, t_ip, t_port, tcp),
                    self.memo(judge, proxy, layer, true, t_ip, t_port, tcp),
                )
            }
            Plane::None | Plane::Waypoint => (usize::MAX, usize::MAX),
        };
        let mtls_disabled =
            dst_plane == Plane::Sidecar && judge.mtls_mode(di, t_port) == MtlsMode::Disable;
        let waypoint = match service {
            Some(s) => judge.service_waypoint.get(s).copied().flatten(),
            None => judge.workload_waypoint.get(di).copied().flatten(),
        };
        let waypoint = waypoint.and_then(|wp| {
            let id = judge.cluster.waypoints.get(wp)?.workload?;
            let (pos, wpw) = judge.workload(id)?;
            let wp_ip = wpw.ip();
            let memo = self.memo(
                judge,
                ProxyId::Waypoint(wp as u32, service.map_or(0, |s| s as u32 + 1)),
                Layer::Waypoint,
                false,
                t_ip,
                port,
                declared(judge, id, port),
            );
            // The leg from the waypoint, as `FastJudge::plan` builds it.
            let from_wp = |proxy: LegProxy| CLeg {
                leg: Leg {
                    src: Endpoint::Pod(id),
                    dst: Endpoint::Pod(dst_id),
                    protocol: Protocol::Tcp,
                    port: HBONE_PORT,
                },
                proxy,
                src_ip: wp_ip,
                identity: Some(pos),
                dst_ip: t_ip,
                dst_port: t_port,
                service,
            };
            let leg2 = match dst_plane {
                Plane::Ambient => from_wp(LegProxy::Ztunnel(di)),
                Plane::Sidecar => from_wp(LegProxy::Sidecar(di)),
                Plane::None | Plane::Waypoint => CLeg {
                    leg: Leg {
                        port: t_port,
                        ..from_wp(LegProxy::None).leg
                    },
                    identity: None,
                    ..from_wp(LegProxy::None)
                },
            };
            let (e, i) = judge.np(&leg2.leg);
            let p = judge.proxy(&leg2, &spec);
            Some(Waypoint {
                id,
                slot: judge.np.slot_of(pos, Protocol::Tcp, HBONE_PORT),
                memo,
                leg2: [Some((Layer::NpEgress, e)), Some((Layer::NpIngress, i)), p],
            })
        });
        Some(Resolved {
            dst_id,
            protocol,
            t_port,
            dst_plane,
            slot: judge.np.slot_of(di, protocol, t_port),
            hbone: judge.np.slot_of(di, Protocol::Tcp, HBONE_PORT),
            waypoint,
            mtls_disabled,
            m_id,
            m_anon,
        })
    }

    /// Both NetworkPolicy sides of the leg `from → to` on (`protocol`, `port`), from the
    /// matrix slot when there is one (else the reference evaluation).
    #[allow(clippy::too_many_arguments, reason = "a leg's fields")]
    fn np(
        judge: &FastJudge,
        acc: &mut Acc,
        from: (usize, WorkloadId),
        to: WorkloadId,
        slot: Option<usize>,
        protocol: Protocol,
        port: u16,
    ) {
        let sides = slot.and_then(|slot| judge.np.sides_at(from.0, slot));
        let (e, i) = match sides {
            Some((e, i)) => {
                let d = |x: bool| if x { Decision::Allow } else { Decision::Deny };
                (d(e), d(i))
            }
            None => judge.np(&Leg {
                src: Endpoint::Pod(from.1),
                dst: Endpoint::Pod(to),
                protocol,
                port,
            }),
        };
        acc.note(Layer::NpEgress, e);
        acc.note(Layer::NpIngress, i);
    }

    fn proxy(&mut self, judge: &FastJudge, acc: &mut Acc, memo: usize, s: usize) {
        if let Some((layer, d)) = self.decide(judge, memo, s) {
            acc.note(layer, d);
        }
    }

    /// The compact verdict of the flow of `kind` from the pod-network workload at position
    /// `s` (id `sid`) to `tp` (mirrors `FastJudge::plan` + `combine`).
    pub(super) fn row(
        &mut self,
        judge: &FastJudge,
        s: usize,
        sid: WorkloadId,
        tp: &TargetPort,
        kind: FlowKind,
    ) -> (Decision, Option<Layer>, Layers) {
        let Some(r) = tp.resolved else {
            return NO_LEGS;
        };
        let mut acc = Acc::default();
        let from = (s, sid);
        let wire = |acc: &mut Acc| {
            Self::np(judge, acc, from, r.dst_id, r.slot, r.protocol, r.t_port);
        };
        let hbone = |acc: &mut Acc| {
            Self::np(
                judge,
                acc,
                from,
                r.dst_id,
                r.hbone,
                Protocol::Tcp,
                HBONE_PORT,
            );
        };
        // Plaintext on the target port with no identity (`inbound_plaintext`).
        let inbound = |rows: &mut Self, acc: &mut Acc| {
            wire(acc);
            if r.m_anon != usize::MAX {
                rows.proxy(judge, acc, r.m_anon, s);
            }
        };
        let src_plane = judge.kinds.get(s).copied().unwrap_or(Plane::None);
        if r.protocol != Protocol::Tcp {
            wire(&mut acc);
            return acc.finish();
        }
        let in_mesh = matches!(src_plane, Plane::Ambient | Plane::Sidecar);
        if kind == FlowKind::Bypass && in_mesh {
            inbound(self, &mut acc);
            return acc.finish();
        }
        match src_plane {
            Plane::Ambient => {
                if let Some(wp) = r.waypoint {
                    Self::np(
                        judge,
                        &mut acc,
                        from,
                        wp.id,
                        wp.slot,
                        Protocol::Tcp,
                        HBONE_PORT,
                    );
                    self.proxy(judge, &mut acc, wp.memo, s);
                    for (layer, d) in wp.leg2.into_iter().flatten() {
                        acc.note(layer, d);
                    }
                } else {
                    match r.dst_plane {
                        Plane::Ambient | Plane::Sidecar => {
                            hbone(&mut acc);
                            self.proxy(judge, &mut acc, r.m_id, s);
                        }
                        Plane::None | Plane::Waypoint => wire(&mut acc),
                    }
                }
            }
            Plane::Sidecar => match r.dst_plane {
                Plane::Sidecar => {
                    wire(&mut acc);
                    let m = if r.mtls_disabled { r.m_anon } else { r.m_id };
                    self.proxy(judge, &mut acc, m, s);
                }
                Plane::Ambient if judge.options.mesh.sending_hbone => {
                    hbone(&mut acc);
                    self.proxy(judge, &mut acc, r.m_id, s);
                }
                Plane::Ambient => inbound(self, &mut acc),
                Plane::None | Plane::Waypoint => wire(&mut acc),
            },
            Plane::None | Plane::Waypoint => inbound(self, &mut acc),
        }
        acc.finish()
    }
}
