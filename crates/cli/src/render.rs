//! Turning engine data into terminal text and JSON: diagnostics in the rustc style
//! (`error[PP1001]: message`, ` --> file:line:col`, the source line and a caret underline), the
//! flow table (text, CSV, Markdown), the flows/explain JSON documents (docs/cli.md), and `check`
//! reports. Layout only: every sentence about a verdict comes from `engine::explain`.

use std::fmt::Write as _;

use engine::expect::ExpectationResult;
use engine::explain::{self, Explanation, Locator};
use engine::flows::{Flow, FlowSource, FlowTarget, Options, Proxy};
use engine::model::Cluster;
use engine::verdict::{Decision, Layer, LayerVerdict};
use engine::{Diagnostic, LineIndex, Source};

use crate::json::Json;
use crate::FlowsFormat;

/// Line indexes for every source, built once.
pub struct Files<'a> {
    pub sources: &'a [Source],
    indexes: Vec<LineIndex>,
}

impl<'a> Files<'a> {
    pub fn new(sources: &'a [Source]) -> Files<'a> {
        Files {
            sources,
            indexes: sources.iter().map(|s| LineIndex::new(&s.text)).collect(),
        }
    }

    pub fn locator(&self) -> Locator<'a> {
        Locator::new(self.sources)
    }

    /// `(file name, line, col)` of a span's start; `("?", 0, 0)` for an unknown source.
    pub fn position(&self, span: engine::Span) -> (&str, u32, u32) {
        let i = span.source.0 as usize;
        match (self.sources.get(i), self.indexes.get(i)) {
            (Some(source), Some(index)) => {
                let lc = index.line_col(&source.text, span.start);
                (source.name.as_str(), lc.line, lc.col)
            }
            _ => ("?", 0, 0),
        }
    }

    /// The text of the 1-based line `line` of the span's source, without its newline.
    fn line_text(&self, span: engine::Span, line: u32) -> &str {
        let i = span.source.0 as usize;
        let (Some(source), Some(index)) = (self.sources.get(i), self.indexes.get(i)) else {
            return "";
        };
        let start = index.line_start(line) as usize;
        let rest = source.text.get(start..).unwrap_or("");
        rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
    }
}

pub fn diagnostic_text(files: &Files<'_>, d: &Diagnostic) -> String {
    let (name, line, col) = files.position(d.span);
    let mut out = String::new();
    let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
    let _ = writeln!(out, "  --> {name}:{line}:{col}");
    if line > 0 {
        let text = files.line_text(d.span, line);
        let width = line.to_string().len();
        let (_, end_line, end_col) = files.position(engine::Span {
            start: d.span.end,
            ..d.span
        });
        let underline = if end_line == line && end_col > col {
            (end_col - col) as usize
        } else {
            1
        };
        let _ = writeln!(out, "{:width$} |", "");
        let _ = writeln!(out, "{line} | {text}");
        let _ = writeln!(
            out,
            "{:width$} | {}{}",
            "",
            " ".repeat(col.saturating_sub(1) as usize),
            "^".repeat(underline.max(1))
        );
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}

/// JSON string literal (RFC 8259 escaping); one implementation, in `json`.
pub fn json_str(s: &str) -> String {
    crate::json::quote(s)
}

/// The `lint --format json` contract (docs/cli.md): an array of
/// `{severity, code, message, help, file, line, column, start, end}`.
pub fn diagnostics_json(files: &Files<'_>, diagnostics: &[Diagnostic]) -> String {
    let items: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            let (name, line, col) = files.position(d.span);
            format!(
                "{{\"severity\":{},\"code\":{},\"message\":{},\"help\":{},\"file\":{},\"line\":{line},\"column\":{col},\"start\":{},\"end\":{}}}",
                json_str(d.severity.as_str()),
                json_str(d.code),
                json_str(&d.message),
                d.help.as_deref().map_or("null".to_string(), json_str),
                json_str(name),
                d.span.start,
                d.span.end
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

// --- flows -----------------------------------------------------------------------------------

/// The layers any flow was judged by, in evaluation order (the table's layer columns).
fn layers_present(flows: &[Flow]) -> Vec<Layer> {
    Layer::ALL
        .into_iter()
        .filter(|l| {
            flows.iter().any(|f| {
                f.legs
                    .iter()
                    .any(|g| g.verdicts.iter().any(|v| v.layer == *l))
            })
        })
        .collect()
}

/// One layer's decision over all legs of a flow: deny if any leg's is, else unknown if any,
/// else allow; `None` when no leg met the layer.
pub fn layer_decision(flow: &Flow, layer: Layer) -> Option<Decision> {
    let decisions: Vec<Decision> = flow
        .legs
        .iter()
        .flat_map(|g| g.verdicts.iter())
        .filter(|v| v.layer == layer)
        .map(|v| v.decision)
        .collect();
    if decisions.is_empty() {
        None
    } else if decisions.contains(&Decision::Deny) {
        Some(Decision::Deny)
    } else if decisions.contains(&Decision::Unknown) {
        Some(Decision::Unknown)
    } else {
        Some(Decision::Allow)
    }
}

/// The destination cell: `be/api[Pod]`, `be/api[Service] (endpoint be/api[Pod])`.
fn dst_cell(cluster: &Cluster, flow: &Flow) -> String {
    let name = explain::target_name(cluster, &flow.dst);
    match flow.dst {
        FlowTarget::Service { endpoint, .. } => {
            format!(
                "{name} (endpoint {})",
                explain::workload_name(cluster, endpoint)
            )
        }
        _ => name,
    }
}

fn http_cell(flow: &Flow) -> String {
    flow.http
        .as_ref()
        .map(|h| format!("{} {}", h.method, h.path))
        .unwrap_or_default()
}

/// Header and rows of the flow table.
fn flow_rows(cluster: &Cluster, flows: &[Flow]) -> (Vec<String>, Vec<Vec<String>>) {
    let layers = layers_present(flows);
    let with_http = flows.iter().any(|f| f.http.is_some());
    let mut header: Vec<String> = ["KIND", "SRC", "DST", "PORT"].map(String::from).to_vec();
    if with_http {
        header.push("HTTP".into());
    }
    header.extend(layers.iter().map(|l| l.as_str().to_uppercase()));
    header.push("VERDICT".into());
    let rows = flows
        .iter()
        .map(|f| {
            let mut row = vec![
                f.kind.as_str().to_string(),
                explain::source_name(cluster, &f.src),
                dst_cell(cluster, f),
                format!("{}/{}", f.port, f.protocol.as_str()),
            ];
            if with_http {
                row.push(http_cell(f));
            }
            row.extend(layers.iter().map(|l| {
                layer_decision(f, *l)
                    .map_or("-", Decision::as_str)
                    .to_string()
            }));
            row.push(explain::verdict_text(f.verdict, f.decided_by));
            row
        })
        .collect();
    (header, rows)
}

fn counts(flows: &[Flow]) -> (usize, usize, usize) {
    let n = |d: Decision| flows.iter().filter(|f| f.verdict == d).count();
    (n(Decision::Allow), n(Decision::Deny), n(Decision::Unknown))
}

/// Aligned columns, then `N flows: A allowed, D denied, U unknown`.
pub fn flows_text(cluster: &Cluster, flows: &[Flow]) -> String {
    let (header, rows) = flow_rows(cluster, flows);
    let mut out = aligned(&header, &rows);
    let (a, d, u) = counts(flows);
    let _ = writeln!(
        out,
        "{} flows: {a} allowed, {d} denied, {u} unknown",
        flows.len()
    );
    out
}

/// RFC 4180 CSV with a header row (`kind,src,dst,port,…`, lower-case names).
pub fn flows_csv(cluster: &Cluster, flows: &[Flow]) -> String {
    let (header, rows) = flow_rows(cluster, flows);
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| field(&h.to_lowercase())).collect();
    let _ = writeln!(out, "{}", header.join(","));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| field(c)).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    out
}

/// A GitHub-flavoured Markdown table, then the summary line.
pub fn flows_md(cluster: &Cluster, flows: &[Flow]) -> String {
    let (header, rows) = flow_rows(cluster, flows);
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let (a, d, u) = counts(flows);
    let _ = writeln!(
        out,
        "\n{} flows: {a} allowed, {d} denied, {u} unknown",
        flows.len()
    );
    out
}

/// The `flows --format json` document (docs/cli.md, schema `policy-playground/flows/v1`).
pub fn flows_json(cluster: &Cluster, flows: &[Flow], options: &Options, files: &Files<'_>) -> Json {
    let locator = files.locator();
    let (a, d, u) = counts(flows);
    Json::Obj(vec![
        ("schema", Json::str("policy-playground/flows/v2")),
        ("cni", Json::str(options.cni.name)),
        ("mesh", mesh_json(options)),
        (
            "flows",
            Json::Arr(
                flows
                    .iter()
                    .map(|f| flow_json(cluster, f, &locator))
                    .collect(),
            ),
        ),
        (
            "summary",
            Json::Obj(vec![
                ("flows", Json::Int(flows.len() as i64)),
                ("allow", Json::Int(a as i64)),
                ("deny", Json::Int(d as i64)),
                ("unknown", Json::Int(u as i64)),
            ]),
        ),
    ])
}

/// The `explain --format json` document (schema `policy-playground/explain/v1`): the flow
/// objects of `flows` plus `title` and `summary`.
pub fn explanations_json(
    cluster: &Cluster,
    flows: &[Flow],
    explanations: &[Explanation],
    options: &Options,
) -> Json {
    let items = flows
        .iter()
        .zip(explanations)
        .map(|(f, e)| {
            let mut fields = vec![
                ("title", Json::str(e.title.clone())),
                ("summary", Json::str(e.summary.clone())),
            ];
            if let Json::Obj(rest) = flow_json_with(cluster, f, None, Some(e)) {
                fields.extend(rest);
            }
            Json::Obj(fields)
        })
        .collect();
    Json::Obj(vec![
        ("schema", Json::str("policy-playground/explain/v2")),
        ("cni", Json::str(options.cni.name)),
        ("mesh", mesh_json(options)),
        ("flows", Json::Arr(items)),
    ])
}

/// The mesh-wide settings of a result (docs/cli.md).
fn mesh_json(options: &Options) -> Json {
    let m = &options.mesh;
    Json::Obj(vec![
        ("root_namespace", Json::str(m.root_namespace.clone())),
        ("trust_domain", Json::str(m.trust_domain.clone())),
        (
            "auto_allow_waypoint_policy",
            Json::Bool(m.auto_allow_waypoint_policy),
        ),
        ("ambient_dry_run", Json::Bool(m.ambient_dry_run)),
        (
            "layered_waypoint_policies",
            Json::Bool(m.layered_waypoint_policies),
        ),
        ("sending_hbone", Json::Bool(m.sending_hbone)),
        ("cni_nftables", Json::Bool(m.cni_nftables)),
        ("rewrite_app_probers", Json::Bool(m.rewrite_app_probers)),
    ])
}

fn flow_json(cluster: &Cluster, flow: &Flow, locator: &Locator<'_>) -> Json {
    flow_json_with(cluster, flow, Some(locator), None)
}

/// One flow object. Reason texts and references come from the explanation when given (already
/// located), else from `explain` with the locator.
fn flow_json_with(
    cluster: &Cluster,
    flow: &Flow,
    locator: Option<&Locator<'_>>,
    explanation: Option<&Explanation>,
) -> Json {
    let src_type = match flow.src {
        FlowSource::Workload(_) => "workload",
        FlowSource::Kubelet(_) => "kubelet",
        FlowSource::Node(_) => "node",
        FlowSource::External(_) => "external",
    };
    let mut dst_fields = vec![
        (
            "type",
            Json::str(match flow.dst {
                FlowTarget::Workload(_) => "workload",
                FlowTarget::Service { .. } => "service",
                FlowTarget::External(_) => "external",
            }),
        ),
        ("name", Json::str(explain::target_name(cluster, &flow.dst))),
    ];
    if let FlowTarget::Service { endpoint, .. } = flow.dst {
        dst_fields.push((
            "endpoint",
            Json::str(explain::workload_name(cluster, endpoint)),
        ));
    }
    let layers = Json::Obj(
        Layer::ALL
            .into_iter()
            .filter_map(|l| layer_decision(flow, l).map(|d| (l.as_str(), Json::str(d.as_str()))))
            .collect(),
    );
    let legs = flow
        .legs
        .iter()
        .enumerate()
        .map(|(i, trace)| {
            let proxy = match trace.terminated_by {
                Proxy::None => Json::Null,
                Proxy::Ztunnel(w) => proxy_json("ztunnel", cluster, w),
                Proxy::Waypoint(w) => proxy_json("waypoint", cluster, w),
                Proxy::Sidecar(w) => proxy_json("sidecar", cluster, w),
            };
            let verdicts = trace
                .verdicts
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    let step = explanation
                        .and_then(|e| e.legs.get(i))
                        .and_then(|l| l.steps.get(j))
                        .cloned()
                        .unwrap_or_else(|| explain::step(cluster, &trace.leg, v, locator));
                    verdict_json(v, &step)
                })
                .collect();
            let seen = trace.seen.as_ref().map_or(Json::Null, |c| {
                Json::Obj(vec![
                    ("src_ip", Json::str(c.src_ip.to_string())),
                    (
                        "identity",
                        Json::opt_str(c.src_identity.as_ref().map(|i| i.to_string())),
                    ),
                    ("port", Json::Int(i64::from(c.dst_port))),
                    (
                        "http",
                        c.http.as_ref().map_or(Json::Null, |h| {
                            Json::Obj(vec![
                                ("method", Json::str(h.method.clone())),
                                ("path", Json::str(h.path.clone())),
                            ])
                        }),
                    ),
                ])
            });
            let tools = explain::tool_lines(cluster, trace)
                .into_iter()
                .map(|t| {
                    Json::Obj(vec![
                        ("tool", Json::str(t.tool)),
                        ("text", Json::str(t.text)),
                    ])
                })
                .collect();
            Json::Obj(vec![
                ("role", Json::str(explain::leg_role_name(trace.role))),
                (
                    "src",
                    Json::Obj(vec![
                        (
                            "name",
                            Json::str(explain::endpoint_name(cluster, &trace.leg.src)),
                        ),
                        (
                            "address",
                            Json::str(explain::endpoint_address(cluster, &trace.leg.src)),
                        ),
                    ]),
                ),
                (
                    "dst",
                    Json::Obj(vec![
                        (
                            "name",
                            Json::str(explain::endpoint_name(cluster, &trace.leg.dst)),
                        ),
                        (
                            "address",
                            Json::str(explain::endpoint_address(cluster, &trace.leg.dst)),
                        ),
                    ]),
                ),
                ("protocol", Json::str(trace.leg.protocol.as_str())),
                ("port", Json::Int(i64::from(trace.leg.port))),
                ("proxy", proxy),
                ("seen", seen),
                (
                    "bypassed",
                    Json::opt_str(explain::bypass_text(cluster, trace)),
                ),
                ("verdicts", Json::Arr(verdicts)),
                ("tools", Json::Arr(tools)),
            ])
        })
        .collect();
    Json::Obj(vec![
        ("id", Json::Int(flow.id as i64)),
        ("kind", Json::str(flow.kind.as_str())),
        (
            "src",
            Json::Obj(vec![
                ("type", Json::str(src_type)),
                ("name", Json::str(explain::source_name(cluster, &flow.src))),
            ]),
        ),
        ("dst", Json::Obj(dst_fields)),
        ("protocol", Json::str(flow.protocol.as_str())),
        ("port", Json::Int(i64::from(flow.port))),
        (
            "http",
            flow.http.as_ref().map_or(Json::Null, |h| {
                Json::Obj(vec![
                    ("method", Json::str(h.method.clone())),
                    ("path", Json::str(h.path.clone())),
                ])
            }),
        ),
        (
            "probe",
            flow.probe.as_ref().map_or(Json::Null, |p| {
                Json::Obj(vec![
                    ("container", Json::str(p.container.clone())),
                    (
                        "kind",
                        Json::str(match p.kind {
                            engine::model::ProbeKind::Liveness => "liveness",
                            engine::model::ProbeKind::Readiness => "readiness",
                            engine::model::ProbeKind::Startup => "startup",
                        }),
                    ),
                ])
            }),
        ),
        ("verdict", Json::str(flow.verdict.as_str())),
        (
            "decided_by",
            Json::opt_str(flow.decided_by.map(|l| l.as_str())),
        ),
        ("layers", layers),
        ("legs", Json::Arr(legs)),
        (
            "assumptions",
            Json::Arr(
                flow.assumption_notes
                    .iter()
                    .map(|n| {
                        Json::Obj(vec![
                            ("flag", Json::str(n.assumption.flag.as_str())),
                            ("value", Json::Bool(n.assumption.value)),
                            ("profile", Json::opt_str(n.profile)),
                            ("evidence", Json::str(explain::evidence_word(n.evidence))),
                            ("source", Json::str(n.source)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

fn proxy_json(kind: &str, cluster: &Cluster, workload: engine::model::WorkloadId) -> Json {
    Json::Obj(vec![
        ("type", Json::str(kind)),
        (
            "workload",
            Json::str(explain::workload_name(cluster, workload)),
        ),
    ])
}

fn assumption_json(a: &engine::verdict::Assumption) -> Json {
    Json::Obj(vec![
        ("flag", Json::str(a.flag.as_str())),
        ("value", Json::Bool(a.value)),
    ])
}

fn verdict_json(verdict: &LayerVerdict, step: &explain::Step) -> Json {
    let refs = step
        .refs
        .iter()
        .map(|r| {
            let (file, line, column) = split_position(r.position.as_deref());
            Json::Obj(vec![
                ("policy", Json::str(format!("{}/{}", r.namespace, r.name))),
                (
                    "rule",
                    Json::opt_str(
                        r.rule
                            .map(|(d, i)| explain::rule_path(d, i))
                            .or(r.authz_rule.map(|i| format!("rule[{i}]"))),
                    ),
                ),
                ("file", Json::opt_str(file)),
                ("line", line.map_or(Json::Null, Json::Int)),
                ("column", column.map_or(Json::Null, Json::Int)),
            ])
        })
        .collect();
    Json::Obj(vec![
        ("layer", Json::str(verdict.layer.as_str())),
        ("decision", Json::str(verdict.decision.as_str())),
        (
            "reasons",
            Json::Arr(
                step.sentences
                    .iter()
                    .map(|s| Json::str(s.clone()))
                    .collect(),
            ),
        ),
        ("refs", Json::Arr(refs)),
        (
            "assumptions",
            Json::Arr(verdict.assumptions.iter().map(assumption_json).collect()),
        ),
    ])
}

/// `file:line:col` → parts (the file name may itself contain `:`).
fn split_position(position: Option<&str>) -> (Option<String>, Option<i64>, Option<i64>) {
    let Some(p) = position else {
        return (None, None, None);
    };
    let mut parts = p.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    let file = parts.next().map(str::to_string);
    (file, line, col)
}

// --- CNI comparison ----------------------------------------------------------------------------

/// The same flows side by side: `KIND SRC DST PORT [HTTP] <one verdict column per profile>
/// DIFFERS`, then `N flows, M differ between profiles`.
pub fn compare_table(
    cluster: &Cluster,
    profiles: &[Options],
    rows: &[Vec<&Flow>],
    format: FlowsFormat,
) -> String {
    let with_http = rows
        .iter()
        .any(|r| r.first().is_some_and(|f| f.http.is_some()));
    let mut header: Vec<String> = ["KIND", "SRC", "DST", "PORT"].map(String::from).to_vec();
    if with_http {
        header.push("HTTP".into());
    }
    header.extend(profiles.iter().map(|p| p.cni.name.to_uppercase()));
    header.push("DIFFERS".into());
    let mut differ = 0;
    let table: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|row| {
            let f = row.first()?;
            let mut cells = vec![
                f.kind.as_str().to_string(),
                explain::source_name(cluster, &f.src),
                dst_cell(cluster, f),
                format!("{}/{}", f.port, f.protocol.as_str()),
            ];
            if with_http {
                cells.push(http_cell(f));
            }
            let verdicts: Vec<String> = row
                .iter()
                .map(|g| explain::verdict_text(g.verdict, g.decided_by))
                .collect();
            let differs = verdicts.iter().any(|v| *v != verdicts[0]);
            if differs {
                differ += 1;
            }
            cells.extend(verdicts);
            cells.push(if differs { "*".into() } else { String::new() });
            Some(cells)
        })
        .collect();
    let names: Vec<&str> = profiles.iter().map(|p| p.cni.name).collect();
    let mesh = profiles
        .first()
        .map(|p| explain::mesh_settings(&p.mesh))
        .unwrap_or_default();
    let head = format!("comparing CNI {} ({mesh})", names.join(", "));
    let summary = format!(
        "{} {}, {differ} differ between profiles",
        table.len(),
        if table.len() == 1 { "flow" } else { "flows" }
    );
    let mut out = String::new();
    match format {
        FlowsFormat::Csv => {
            let field = |s: &str| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            };
            let h: Vec<String> = header.iter().map(|c| field(&c.to_lowercase())).collect();
            let _ = writeln!(out, "{}", h.join(","));
            for row in &table {
                let cells: Vec<String> = row.iter().map(|c| field(c)).collect();
                let _ = writeln!(out, "{}", cells.join(","));
            }
        }
        FlowsFormat::Md => {
            let _ = writeln!(out, "_{head}_\n");
            let _ = writeln!(out, "| {} |", header.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
            for row in &table {
                let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            let _ = writeln!(out, "\n{summary}");
        }
        _ => {
            let _ = writeln!(out, "{head}");
            out.push_str(&aligned(&header, &table));
            let _ = writeln!(out, "{summary}");
        }
    }
    out
}

/// The `flows --compare-cni … --format json` document (schema `policy-playground/cni-compare/v1`).
pub fn compare_json(cluster: &Cluster, profiles: &[Options], rows: &[Vec<&Flow>]) -> Json {
    let items = rows
        .iter()
        .filter_map(|row| {
            let f = row.first()?;
            let verdicts: Vec<(&Options, &&Flow)> = profiles.iter().zip(row.iter()).collect();
            let differs = row
                .iter()
                .any(|g| (g.verdict, g.decided_by) != (f.verdict, f.decided_by));
            Some(Json::Obj(vec![
                ("id", Json::Int(f.id as i64)),
                ("kind", Json::str(f.kind.as_str())),
                ("src", Json::str(explain::source_name(cluster, &f.src))),
                ("dst", Json::str(dst_cell(cluster, f))),
                ("protocol", Json::str(f.protocol.as_str())),
                ("port", Json::Int(i64::from(f.port))),
                (
                    "verdicts",
                    Json::Arr(
                        verdicts
                            .into_iter()
                            .map(|(o, g)| {
                                Json::Obj(vec![
                                    ("cni", Json::str(o.cni.name)),
                                    ("verdict", Json::str(g.verdict.as_str())),
                                    (
                                        "decided_by",
                                        Json::opt_str(g.decided_by.map(|l| l.as_str())),
                                    ),
                                    (
                                        "assumptions",
                                        Json::Arr(
                                            g.assumption_notes
                                                .iter()
                                                .map(|n| {
                                                    Json::str(explain::assumption_note_text(n))
                                                })
                                                .collect(),
                                        ),
                                    ),
                                ])
                            })
                            .collect(),
                    ),
                ),
                ("differs", Json::Bool(differs)),
            ]))
        })
        .collect();
    Json::Obj(vec![
        ("schema", Json::str("policy-playground/cni-compare/v1")),
        (
            "cni",
            Json::Arr(profiles.iter().map(|p| Json::str(p.cni.name)).collect()),
        ),
        ("mesh", profiles.first().map_or(Json::Null, mesh_json)),
        ("flows", Json::Arr(items)),
    ])
}

/// Aligned columns (two spaces apart), trailing blanks trimmed.
fn aligned(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.push_str(&" ".repeat(w.saturating_sub(cell.chars().count())));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

// --- check -----------------------------------------------------------------------------------

/// Each failure with its explanation (indented), then `N passed, M failed`.
pub fn check_text(
    cluster: &Cluster,
    results: &[ExpectationResult],
    files: &Files<'_>,
    expect_name: &str,
) -> String {
    let locator = files.locator();
    let mut out = String::new();
    for r in results.iter().filter(|r| !r.pass) {
        let e = &r.expectation;
        let _ = writeln!(out, "FAIL {expect_name}:{}: {}", e.line, e.text);
        if let Some(message) = &r.message {
            let _ = writeln!(out, "  {message}");
        }
        for flow in &r.flows {
            let text = explain::render_text(&explain::explain(cluster, flow, Some(&locator)));
            for line in text.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let failed = results.iter().filter(|r| !r.pass).count();
    let _ = writeln!(out, "{} passed, {failed} failed", results.len() - failed);
    out
}
