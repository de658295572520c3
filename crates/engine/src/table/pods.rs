//! The rows from pod sources to pods and Services (the App, Service and Bypass stages: nearly
//! every row of a large table), judged from per-destination contexts.
//!
//! For one destination as addressed and one port (`TargetPort`) everything but the source is
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

use super::{CLeg, FastJudge, Layers, Plane, ProxyId, OTHER};
use crate::flows::{classify_by, Enrolment, FlowKind, FlowSource, FlowSpec, FlowTarget};
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

/// A compact verdict: decision, deciding layer, per-layer decisions.
pub(super) type Verdict = (Decision, Option<Layer>, Layers);

/// One row as [`PodRows::row`] gives it: kind, protocol, port, target id, verdict.
pub(super) type Row = (FlowKind, Protocol, u16, u32, Verdict);

/// The verdict of a flow with no legs (its target does not resolve).
pub(super) const NO_LEGS: (Decision, Option<Layer>, Layers) = (Decision::Unknown, None, Layers(0));

/// The projection columns of one proxy signature: column `2p` with the source's identity
/// (mTLS / HBONE legs), `2p + 1` without (plaintext legs); each with its number of ids.
#[derive(Clone)]
struct Projection {
    count_with_id: u32,
    count_anon: u32,
}

/// One proxy's decisions on one (destination address, port) by source projection: codes
/// in `PodRows::values[offset..]`, indexed by the source's id in projection column `column`.
#[derive(Clone)]
struct Memo {
    proxy: ProxyId,
    layer: Layer,
    column: u32,
    anon: bool,
    dst_ip: Ipv4Addr,
    dst_port: u16,
    declared_tcp: bool,
    offset: u32,
}

/// A memo value not computed yet; computed values are codes (0 no decision, 1 allow,
/// 2 unknown, 3 deny).
const NOT_COMPUTED: u8 = u8::MAX;

fn encode(d: Option<Decision>) -> u8 {
    match d {
        None => 0,
        Some(Decision::Allow) => 1,
        Some(Decision::Unknown) => 2,
        Some(Decision::Deny) => 3,
    }
}

fn decode(v: u8) -> Option<Decision> {
    match v {
        1 => Some(Decision::Allow),
        2 => Some(Decision::Unknown),
        3 => Some(Decision::Deny),
        _ => None,
    }
}

/// No proxy on the leg / no memo.
const NONE: u32 = u32::MAX;

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

/// The source-side shape of a flow at a target: the source's own leg (its NetworkPolicy
/// sides toward `to` and the proxy it ends at) and what follows it (the waypoint's leg,
/// judged once).
#[derive(Clone, Copy)]
struct Shape {
    to: WorkloadId,
    /// NetworkPolicy matrix slot of the leg (`None`: the reference evaluation).
    slot: Option<usize>,
    protocol: Protocol,
    port: u16,
    /// The proxy's memo (`usize::MAX`: no proxy on this leg).
    memo: usize,
    tail: [Option<(Layer, Decision)>; 3],
}

/// The rows of one (target, port) from sources of one data plane, asked as App or Bypass:
/// everything a row needs, in one cache line — the row's fields, where to look
/// (NetworkPolicy slot, proxy memo) and the packed verdict ([`pack`]) for every (egress,
/// ingress, proxy code) combination (index `e | i << 1 | code << 2`).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Template {
    results: [u16; 16],
    /// NetworkPolicy matrix slot of the source's leg.
    slot: u32,
    /// The proxy's memo, its offset into `PodRows::values` and its projection column
    /// (`NONE`: no proxy).
    memo: u32,
    offset: u32,
    column: u32,
    /// The table's id of the target.
    dst: u32,
    /// The target's workload id (a source does not reach itself).
    owner: u32,
    port: u16,
    state: u8,
    kind: FlowKind,
    protocol: Protocol,
}

/// Template states.
const UNBUILT: u8 = 0;
const FAST: u8 = 1;
/// The leg has no matrix slot: judged with the reference NetworkPolicy evaluation.
const SLOW: u8 = 2;
/// No row (Bypass rows are TCP only).
const SKIP: u8 = 3;

/// A verdict in 15 bits: decision (2), deciding layer + 1 (3), per-layer decisions (10).
fn pack((verdict, decided_by, layers): (Decision, Option<Layer>, Layers)) -> u16 {
    let v = match verdict {
        Decision::Allow => 0,
        Decision::Unknown => 1,
        Decision::Deny => 2,
    };
    let l = decided_by.map_or(0, |l| super::layer_index(l) + 1);
    v | l << 2 | layers.0 << 5
}

const LAYERS: [Layer; 5] = [
    Layer::NpEgress,
    Layer::NpIngress,
    Layer::Ztunnel,
    Layer::Waypoint,
    Layer::Sidecar,
];

fn unpack(p: u16) -> (Decision, Option<Layer>, Layers) {
    let verdict = match p & 3 {
        0 => Decision::Allow,
        1 => Decision::Unknown,
        _ => Decision::Deny,
    };
    let decided_by = match (p >> 2) & 7 {
        0 => None,
        l => LAYERS.get(usize::from(l - 1)).copied(),
    };
    (verdict, decided_by, Layers(p >> 5))
}

/// A destination as addressed (a workload or a Service endpoint) with one port: its
/// resolution and, per template, the shape behind it (for the slow path).
#[derive(Clone)]
struct TargetPort {
    target: FlowTarget,
    protocol: Protocol,
    resolved: Option<Resolved>,
    shapes: [Option<Shape>; 8],
}

/// A list of targets with their templates: `hot[index][k]` is the template of target `k`
/// for template index `index` (source data plane `Plane as usize`, + 4 for Bypass), so a
/// source's walk over the list reads one contiguous array.
#[derive(Clone, Default)]
pub(super) struct TargetList {
    cold: Vec<TargetPort>,
    hot: [Vec<Template>; 8],
}

impl TargetList {
    pub(super) fn len(&self) -> usize {
        self.cold.len()
    }
}

/// Projections and memos of the pod-source rows.
#[derive(Clone, Default)]
pub(super) struct PodRows {
    projections: Vec<Projection>,
    by_signature: HashMap<(Vec<u32>, bool, bool), usize>,
    of_proxy: HashMap<ProxyId, usize>,
    /// Per source position: its id in every projection column (a source's row walk reads
    /// only its own list).
    by_source: Vec<Vec<u32>>,
    memos: Vec<Memo>,
    /// Every memo's codes.
    values: Vec<u8>,
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
        if self.by_source.len() < n {
            self.by_source.resize_with(n, Vec::new);
        }
        let mut ids: HashMap<(Option<(u32, u32)>, u32), u32> = HashMap::new();
        let mut count_anon = 0u32;
        let mut anon_ids: HashMap<u32, u32> = HashMap::new();
        for (i, w) in judge.cluster.workloads.iter().enumerate() {
            let ip = if by_address { u32::from(w.ip()) } else { 0 };
            let identity = judge
                .names
                .get(i)
                .map(|&(ns, sa)| (project(ns), project(sa)));
            let next = ids.len() as u32;
            let with_id = *ids.entry((identity, ip)).or_insert(next);
            let next = count_anon;
            let anon = *anon_ids.entry(ip).or_insert(next);
            if anon == next {
                count_anon += 1;
            }
            if let Some(list) = self.by_source.get_mut(i) {
                list.push(with_id);
                list.push(anon);
            }
        }
        let p = self.projections.len();
        self.projections.push(Projection {
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
        let offset = self.values.len() as u32;
        self.values
            .extend(std::iter::repeat_n(NOT_COMPUTED, len as usize));
        self.memos.push(Memo {
            proxy,
            layer,
            column: 2 * projection as u32 + u32::from(anon),
            anon,
            dst_ip,
            dst_port,
            declared_tcp,
            offset,
        });
        self.memos.len() - 1
    }

    /// The code of memo `m` for the source at position `s` (computed on first use).
    fn code(&mut self, judge: &FastJudge, m: usize, s: usize) -> u8 {
        let Some(memo) = self.memos.get(m) else {
            return 0;
        };
        let Some(&id) = self
            .by_source
            .get(s)
            .and_then(|ids| ids.get(memo.column as usize))
        else {
            return 0;
        };
        let Some(slot) = self.values.get_mut(memo.offset as usize + id as usize) else {
            return 0;
        };
        if *slot == NOT_COMPUTED {
            *slot = encode(Self::compute(judge, memo, s));
        }
        *slot
    }

    /// A memo's proxy decision for the source at position `s`.
    fn compute(judge: &FastJudge, memo: &Memo, s: usize) -> Option<Decision> {
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
        judge.decide(memo.proxy, &conn, memo.declared_tcp)
    }

    /// The decision of memo `m` for the source at position `s`, with its layer.
    fn decide(&mut self, judge: &FastJudge, m: usize, s: usize) -> Option<(Layer, Decision)> {
        let layer = self.memos.get(m)?.layer;
        decode(self.code(judge, m, s)).map(|d| (layer, d))
    }

    /// Add `target` on (`protocol`, `port`) to `list`; `dst` is its table id, `owner` its
    /// workload.
    #[allow(clippy::too_many_arguments, reason = "a target's fields")]
    pub(super) fn add_target(
        &mut self,
        judge: &mut FastJudge,
        list: &mut TargetList,
        target: FlowTarget,
        protocol: Protocol,
        port: u16,
        (dst, owner): (u32, WorkloadId),
    ) {
        let resolved = self.resolve(judge, target, protocol, port);
        list.cold.push(TargetPort {
            target,
            protocol,
            resolved,
            shapes: [None; 8],
        });
        let template = Template {
            results: [pack(NO_LEGS); 16],
            slot: NONE,
            memo: NONE,
            offset: NONE,
            column: NONE,
            dst,
            owner: owner.0,
            port,
            state: UNBUILT,
            kind: FlowKind::App,
            protocol,
        };
        for hot in &mut list.hot {
            hot.push(template);
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
            let leg2 = super::waypoint_leg(
                (Endpoint::Pod(id), wp_ip, pos),
                (Endpoint::Pod(dst_id), t_ip, di, dst_plane),
                t_port,
                service,
            );
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

    /// The source-side shape of a flow of `kind` from a source with data plane `src_plane`
    /// to the resolved target `r` (mirrors `FastJudge::plan`, pod-network sources).
    fn shape(judge: &FastJudge, r: &Resolved, src_plane: Plane, kind: FlowKind) -> Shape {
        let wire = Shape {
            to: r.dst_id,
            slot: r.slot,
            protocol: r.protocol,
            port: r.t_port,
            memo: usize::MAX,
            tail: [None; 3],
        };
        let hbone = |memo: usize| Shape {
            slot: r.hbone,
            protocol: Protocol::Tcp,
            port: HBONE_PORT,
            memo,
            ..wire
        };
        // Plaintext on the target port with no identity (`inbound_plaintext`).
        let inbound = Shape {
            memo: r.m_anon,
            ..wire
        };
        if r.protocol != Protocol::Tcp {
            return wire;
        }
        let in_mesh = matches!(src_plane, Plane::Ambient | Plane::Sidecar);
        if kind == FlowKind::Bypass && in_mesh {
            return inbound;
        }
        match src_plane {
            Plane::Ambient => match (r.waypoint, r.dst_plane) {
                (Some(wp), _) => Shape {
                    to: wp.id,
                    slot: wp.slot,
                    protocol: Protocol::Tcp,
                    port: HBONE_PORT,
                    memo: wp.memo,
                    tail: wp.leg2,
                },
                (None, Plane::Ambient | Plane::Sidecar) => hbone(r.m_id),
                (None, Plane::None | Plane::Waypoint) => wire,
            },
            Plane::Sidecar => match r.dst_plane {
                Plane::Sidecar => Shape {
                    memo: if r.mtls_disabled { r.m_anon } else { r.m_id },
                    ..wire
                },
                Plane::Ambient if judge.options.mesh.sending_hbone => hbone(r.m_id),
                Plane::Ambient => inbound,
                Plane::None | Plane::Waypoint => wire,
            },
            Plane::None | Plane::Waypoint => inbound,
        }
    }

    /// The verdict of a shape given its NetworkPolicy sides and its proxy's decision.
    fn eval(
        shape: &Shape,
        e: Decision,
        i: Decision,
        proxy: Option<(Layer, Decision)>,
    ) -> (Decision, Option<Layer>, Layers) {
        let mut acc = Acc::default();
        acc.note(Layer::NpEgress, e);
        acc.note(Layer::NpIngress, i);
        for (layer, d) in proxy.into_iter().chain(shape.tail.into_iter().flatten()) {
            acc.note(layer, d);
        }
        acc.finish()
    }

    /// Build template `index` of target `k` of `list` (sources with data plane `plane`, flows
    /// asked as `asked`).
    fn build(
        &self,
        judge: &FastJudge,
        list: &mut TargetList,
        k: usize,
        index: usize,
        plane: Plane,
        asked: FlowKind,
    ) {
        let (Some(cold), Some(template)) = (
            list.cold.get_mut(k),
            list.hot.get_mut(index).and_then(|h| h.get_mut(k)),
        ) else {
            return;
        };
        let enrolment = |plane: Plane| match plane {
            Plane::None => Enrolment::Outside,
            Plane::Ambient | Plane::Sidecar => Enrolment::Meshed,
            Plane::Waypoint => Enrolment::Waypoint,
        };
        // The source is the sentinel id; the target's enrolment comes from its data plane.
        let sentinel = WorkloadId(u32::MAX);
        template.kind = classify_by(
            &FlowSource::Workload(sentinel),
            &cold.target,
            cold.protocol,
            asked,
            |id| {
                if id == sentinel {
                    enrolment(plane)
                } else {
                    enrolment(
                        judge
                            .workload(id)
                            .and_then(|(i, _)| judge.kinds.get(i))
                            .copied()
                            .unwrap_or(Plane::None),
                    )
                }
            },
        );
        if asked == FlowKind::Bypass && cold.protocol != Protocol::Tcp {
            template.state = SKIP;
            return;
        }
        let Some(r) = &cold.resolved else {
            // No legs: every row is `NO_LEGS` (the results as built).
            template.state = SLOW;
            return;
        };
        let shape = Self::shape(judge, r, plane, template.kind);
        let memo = self.memos.get(shape.memo);
        let layer = memo.map(|m| m.layer);
        let decisions = [Decision::Deny, Decision::Allow];
        for (index, result) in template.results.iter_mut().enumerate() {
            let e = decisions[index & 1];
            let i = decisions[(index >> 1) & 1];
            let proxy = match (index >> 2, layer) {
                (1, Some(l)) => Some((l, Decision::Allow)),
                (2, Some(l)) => Some((l, Decision::Unknown)),
                (3, Some(l)) => Some((l, Decision::Deny)),
                _ => None,
            };
            *result = pack(Self::eval(&shape, e, i, proxy));
        }
        template.state = if shape.slot.is_some() { FAST } else { SLOW };
        template.slot = shape.slot.map_or(NONE, |s| s as u32);
        template.memo = memo.map_or(NONE, |_| shape.memo as u32);
        template.offset = memo.map_or(NONE, |m| m.offset);
        template.column = memo.map_or(NONE, |m| m.column);
        if let Some(sh) = cold.shapes.get_mut(index) {
            *sh = Some(shape);
        }
    }

    /// The row of target `k` of `list` from the pod-network workload at position `s` (id
    /// `sid`), asked as `asked` (App or Bypass): (kind, protocol, port, target id, verdict),
    /// `None` when there is no such row (the target is the source, or a Bypass row that is
    /// not TCP).
    #[inline]
    pub(super) fn row(
        &mut self,
        judge: &FastJudge,
        list: &mut TargetList,
        k: usize,
        (s, sid, plane): (usize, WorkloadId, Plane),
        asked: FlowKind,
    ) -> Option<Row> {
        let index = plane as usize + if asked == FlowKind::Bypass { 4 } else { 0 };
        let state = list.hot.get(index)?.get(k)?.state;
        if state == UNBUILT {
            self.build(judge, list, k, index, plane, asked);
        }
        let t = *list.hot.get(index)?.get(k)?;
        if t.owner == sid.0 || t.state == SKIP {
            return None;
        }
        let sides = match t.state {
            FAST => judge.np_rows.sides(s, t.slot as usize),
            _ => None,
        };
        let verdict = match sides {
            Some((e, i)) => {
                let code = if t.offset == NONE {
                    0
                } else {
                    let value = self
                        .by_source
                        .get(s)
                        .and_then(|ids| ids.get(t.column as usize))
                        .and_then(|&id| self.values.get(t.offset as usize + id as usize));
                    match value {
                        Some(&v) if v != NOT_COMPUTED => v,
                        _ => self.code(judge, t.memo as usize, s),
                    }
                };
                let index = usize::from(e) | usize::from(i) << 1 | usize::from(code) << 2;
                unpack(t.results.get(index).copied().unwrap_or(pack(NO_LEGS)))
            }
            None => self.slow(judge, list, k, index, (s, sid)),
        };
        Some((t.kind, t.protocol, t.port, t.dst, verdict))
    }

    /// Every row of `list` from the pod-network workload `who` (position, id, data plane),
    /// asked as `asked` (App or Bypass), pushed to `out` with source id `src` — what
    /// [`PodRows::row`] gives for each target in turn, in one pass over the list's templates
    /// for that data plane with the source's NetworkPolicy bits and projections at hand.
    pub(super) fn source_rows(
        &mut self,
        judge: &FastJudge,
        list: &mut TargetList,
        who: (usize, WorkloadId, Plane),
        asked: FlowKind,
        src: u32,
        out: &mut Vec<super::FlowRow>,
    ) {
        let (s, sid, plane) = who;
        let index = plane as usize + if asked == FlowKind::Bypass { 4 } else { 0 };
        let len = list.hot.get(index).map_or(0, Vec::len);
        for k in 0..len {
            if list.hot.get(index).and_then(|h| h.get(k)).map(|t| t.state) == Some(UNBUILT) {
                self.build(judge, list, k, index, plane, asked);
            }
        }
        let Some((egress, ingress)) = judge.np_rows.rows(s) else {
            for k in 0..len {
                if let Some((kind, protocol, port, dst, v)) = self.row(judge, list, k, who, asked) {
                    out.push(super::FlowRow {
                        kind,
                        protocol,
                        port,
                        verdict: v.0,
                        decided_by: v.1,
                        layers: v.2,
                        src,
                        dst,
                    });
                }
            }
            return;
        };
        // The source's ids in every projection column (a copy: the memos may grow below).
        let ids: Vec<u32> = self.by_source.get(s).cloned().unwrap_or_default();
        let Some(hot) = list.hot.get(index) else {
            return;
        };
        let words = egress.len().min(ingress.len());
        for (k, t) in hot.iter().enumerate() {
            if t.owner == sid.0 || t.state == SKIP {
                continue;
            }
            let (word, shift) = (t.slot as usize / 64, t.slot % 64);
            let verdict = if t.state == FAST && word < words {
                let code = if t.offset == NONE {
                    0
                } else {
                    let value = ids
                        .get(t.column as usize)
                        .and_then(|&id| self.values.get(t.offset as usize + id as usize));
                    match value {
                        Some(&v) if v != NOT_COMPUTED => v,
                        _ => self.code(judge, t.memo as usize, s),
                    }
                };
                let e = egress.get(word).map_or(0, |w| (w >> shift & 1) as usize);
                let i = ingress.get(word).map_or(0, |w| (w >> shift & 1) as usize);
                let index = e | i << 1 | usize::from(code) << 2;
                unpack(t.results.get(index).copied().unwrap_or(pack(NO_LEGS)))
            } else {
                self.slow(judge, list, k, index, (s, sid))
            };
            out.push(super::FlowRow {
                kind: t.kind,
                protocol: t.protocol,
                port: t.port,
                verdict: verdict.0,
                decided_by: verdict.1,
                layers: verdict.2,
                src,
                dst: t.dst,
            });
        }
    }

    /// A row whose leg has no matrix slot: the reference NetworkPolicy evaluation.
    fn slow(
        &mut self,
        judge: &FastJudge,
        list: &TargetList,
        k: usize,
        index: usize,
        (s, sid): (usize, WorkloadId),
    ) -> (Decision, Option<Layer>, Layers) {
        let Some(Some(shape)) = list.cold.get(k).and_then(|c| c.shapes.get(index)).copied() else {
            return NO_LEGS;
        };
        let (e, i) = judge.np(&Leg {
            src: Endpoint::Pod(sid),
            dst: Endpoint::Pod(shape.to),
            protocol: shape.protocol,
            port: shape.port,
        });
        let proxy = self.decide(judge, shape.memo, s);
        Self::eval(&shape, e, i, proxy)
    }
}
