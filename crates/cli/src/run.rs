//! One function per subcommand: load the inputs, call the engine, print through `render`, and
//! return the exit status. Input diagnostics (warnings and errors) go to stderr before the
//! result; an error in the input makes the status 1 even though the result is printed.

use std::fs;
use std::path::{Path, PathBuf};

use engine::connlist::{connlist_with, render_json, render_text};
use engine::expect::{self, Query};
use engine::flows::{self, Flow, FlowKind, Options};
use engine::istio::MeshOptions;
use engine::{Analysis, AnalyzeOptions, Severity, Source, SourceId};

use crate::render::{self, Files};
use crate::{load, ConnlistFormat, ExplainFormat, FlowsFormat, MeshArgs, ProfileArgs};

/// Which flows `flows` prints, and how.
pub struct FlowsSelection {
    pub external: bool,
    /// Kind names (empty: all).
    pub kinds: Vec<String>,
    /// Profiles to compare side by side (empty: one profile, `--cni`).
    pub compare: Vec<String>,
    /// With `compare`: only flows whose verdicts differ.
    pub differences: bool,
}

/// The process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    Failed = 1,
    Usage = 2,
}

pub fn lint(paths: &[PathBuf], json: bool, mesh: &MeshArgs) -> Status {
    let Some(sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let options = Options {
        mesh: mesh_options(mesh),
        ..Options::default()
    };
    let analysis = analyze(&sources, options, false);
    let files = Files::new(&sources);
    if json {
        println!(
            "{}",
            render::diagnostics_json(&files, &analysis.diagnostics)
        );
    } else {
        for d in &analysis.diagnostics {
            print!("{}", render::diagnostic_text(&files, d));
        }
        let n = |s: Severity| {
            analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity == s)
                .count()
        };
        println!(
            "{} errors, {} warnings, {} notes",
            n(Severity::Error),
            n(Severity::Warning),
            n(Severity::Info)
        );
    }
    input_status(&analysis)
}

pub fn connlist(paths: &[PathBuf], format: ConnlistFormat, cni: &str) -> Status {
    let options = match cni_or_report(cni) {
        Ok(options) => options,
        Err(status) => return status,
    };
    let Some(sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let analysis = analyze(&sources, options.clone(), false);
    report_input(&sources, &analysis);
    let lines = connlist_with(&analysis.cluster, &options.np_profile);
    match format {
        ConnlistFormat::Txt => print!("{}", render_text(&lines)),
        ConnlistFormat::Json => println!("{}", render_json(&lines)),
    }
    input_status(&analysis)
}

pub fn flows(
    paths: &[PathBuf],
    format: FlowsFormat,
    profile: &ProfileArgs,
    selection: &FlowsSelection,
) -> Status {
    let mut options = match options_or_report(profile) {
        Ok(options) => options,
        Err(status) => return status,
    };
    options.external_flows = selection.external;
    let mut kinds = Vec::new();
    for k in &selection.kinds {
        match FlowKind::parse(k) {
            Some(kind) => kinds.push(kind),
            None => {
                let names: Vec<String> = FlowKind::ALL
                    .iter()
                    .map(|k| format!("`{}`", k.as_str()))
                    .collect();
                eprintln!(
                    "error: unknown flow kind `{k}`\n  = help: use one of {}",
                    names.join(", ")
                );
                return Status::Usage;
            }
        }
    }
    let mut compared = Vec::new();
    for name in &selection.compare {
        let profile = ProfileArgs {
            cni: name.clone(),
            mesh: profile.mesh.clone(),
        };
        match options_or_report(&profile) {
            Ok(mut o) => {
                o.external_flows = selection.external;
                compared.push(o);
            }
            Err(status) => return status,
        }
    }
    let Some(sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let keep = |f: &Flow| kinds.is_empty() || kinds.contains(&f.kind);
    if !compared.is_empty() {
        let first = analyze(&sources, compared[0].clone(), false);
        report_input(&sources, &first);
        let cluster = &first.cluster;
        let columns: Vec<Vec<Flow>> = compared
            .iter()
            .map(|o| flows::flow_matrix(cluster, o))
            .collect();
        let mut rows: Vec<Vec<&Flow>> = Vec::new();
        if let Some(base) = columns.first() {
            for (i, f) in base.iter().enumerate() {
                if !keep(f) {
                    continue;
                }
                let row: Vec<&Flow> = columns.iter().filter_map(|c| c.get(i)).collect();
                let differs = row
                    .iter()
                    .any(|g| (g.verdict, g.decided_by) != (f.verdict, f.decided_by));
                if selection.differences && !differs {
                    continue;
                }
                rows.push(row);
            }
        }
        let out = match format {
            FlowsFormat::Json => render::compare_json(cluster, &compared, &rows).pretty() + "\n",
            _ => render::compare_table(cluster, &compared, &rows, format),
        };
        print!("{out}");
        return input_status(&first);
    }
    let analysis = analyze(&sources, options.clone(), true);
    report_input(&sources, &analysis);
    let cluster = &analysis.cluster;
    // Print from the table; details only for the flows printed.
    let shown: Vec<Flow> = analysis
        .table
        .iter()
        .filter(|(_, row)| kinds.is_empty() || kinds.contains(&row.kind))
        .filter_map(|(id, _)| analysis.flow_detail(id, &options))
        .collect();
    let header = engine::explain::options_header(&options);
    let out = match format {
        FlowsFormat::Text => format!("{header}\n{}", render::flows_text(cluster, &shown)),
        FlowsFormat::Csv => render::flows_csv(cluster, &shown),
        FlowsFormat::Md => format!("_{header}_\n\n{}", render::flows_md(cluster, &shown)),
        FlowsFormat::Json => {
            render::flows_json(cluster, &shown, &options, &Files::new(&sources)).pretty() + "\n"
        }
    };
    print!("{out}");
    input_status(&analysis)
}

pub fn explain(
    paths: &[PathBuf],
    from: &str,
    to: &str,
    http: Option<&str>,
    format: ExplainFormat,
    profile: &ProfileArgs,
) -> Status {
    let options = match options_or_report(profile) {
        Ok(options) => options,
        Err(status) => return status,
    };
    let query = match parse_query(from, to, http) {
        Ok(q) => q,
        Err(message) => {
            eprintln!("error: {message}");
            return Status::Usage;
        }
    };
    let Some(sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let analysis = analyze(&sources, options.clone(), false);
    report_input(&sources, &analysis);
    let flows = match expect::resolve(&analysis.cluster, &query, &options) {
        Ok(flows) => flows,
        Err(message) => {
            eprintln!("error: {message}");
            return Status::Usage;
        }
    };
    let files = Files::new(&sources);
    let locator = files.locator();
    let explanations: Vec<_> = flows
        .iter()
        .map(|f| engine::explain::explain(&analysis.cluster, f, Some(&locator)))
        .collect();
    match format {
        ExplainFormat::Text => {
            let texts: Vec<String> = explanations
                .iter()
                .map(engine::explain::render_text)
                .collect();
            println!("{}\n", engine::explain::options_header(&options));
            print!("{}", texts.join("\n"));
        }
        ExplainFormat::Json => println!(
            "{}",
            render::explanations_json(&analysis.cluster, &flows, &explanations, &options).pretty()
        ),
    }
    input_status(&analysis)
}

pub fn check(paths: &[PathBuf], expect_path: &Path, profile: &ProfileArgs) -> Status {
    let options = match options_or_report(profile) {
        Ok(options) => options,
        Err(status) => return status,
    };
    let Some(mut sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let text = match fs::read(expect_path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!(
                "error: cannot read `{}`: {}",
                expect_path.display(),
                load::io_message(&e)
            );
            return Status::Usage;
        }
    };
    let analysis = analyze(&sources, options.clone(), false);
    // The expectations text becomes one more source, so its spans render like the manifests'.
    let expect_id = SourceId(u32::try_from(sources.len()).unwrap_or(u32::MAX));
    sources.push(Source::new(expect_path.display().to_string(), text));
    let (expectations, expect_diagnostics) = match sources.last() {
        Some(source) => expect::parse(expect_id, &source.text),
        None => (Vec::new(), Vec::new()),
    };
    report_input(&sources, &analysis);
    let files = Files::new(&sources);
    for d in &expect_diagnostics {
        eprint!("{}", render::diagnostic_text(&files, d));
    }
    let results = expect::check(&analysis.cluster, &expectations, &options);
    println!("{}", engine::explain::options_header(&options));
    print!(
        "{}",
        render::check_text(
            &analysis.cluster,
            &results,
            &files,
            &expect_path.display().to_string()
        )
    );
    let failed = results.iter().filter(|r| !r.pass).count();
    if !expect_diagnostics.is_empty() {
        println!(
            "{} invalid expectation lines (see the errors above)",
            expect_diagnostics.len()
        );
    }
    if failed > 0 || !expect_diagnostics.is_empty() {
        Status::Failed
    } else {
        input_status(&analysis)
    }
}

// --- helpers --------------------------------------------------------------------------------

fn analyze(sources: &[Source], flow_options: Options, with_flows: bool) -> Analysis {
    engine::analyze_with(
        sources,
        &AnalyzeOptions {
            flows: with_flows,
            flow_options,
        },
    )
}

fn load_or_report(paths: &[PathBuf]) -> Option<Vec<Source>> {
    match load::load_paths(paths) {
        Ok(sources) => Some(sources),
        Err(e) => {
            eprintln!("error: cannot read `{}`: {}", e.path.display(), e.message);
            None
        }
    }
}

/// The options for `--cni` and the mesh flags; `Err` with the exit status for `--cni help`
/// (the list on stdout, 0) or an unknown profile (the list on stderr, 2).
fn options_or_report(profile: &ProfileArgs) -> Result<Options, Status> {
    let mut options = cni_or_report(&profile.cni)?;
    options.mesh = mesh_options(&profile.mesh);
    Ok(options)
}

fn cni_or_report(cni: &str) -> Result<Options, Status> {
    if cni == "help" {
        print!("{}", profile_list());
        return Err(Status::Ok);
    }
    match Options::with_cni(cni) {
        Some(options) => Ok(options),
        None => {
            eprint!(
                "error: unknown CNI profile `{cni}`\n  = help: use one of:\n{}",
                profile_list()
                    .lines()
                    .map(|l| format!("      {l}\n"))
                    .collect::<String>()
            );
            Err(Status::Usage)
        }
    }
}

/// Every profile name with its one-line summary and the probe-SNAT split (SEMANTICS.md §10.0).
fn profile_list() -> String {
    let profiles = engine::profiles::all();
    let width = profiles.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for name in flows::cni_profile_names() {
        let Some(p) = engine::profiles::profile(name) else {
            continue;
        };
        let snat = match p
            .cell(engine::verdict::ProfileFlag::ProbeSnatCountsAsNode)
            .and_then(|c| c.value.map(|v| (v, c.evidence)))
        {
            Some((true, e)) => format!(
                "; ambient probes exempt as node traffic ({})",
                engine::explain::evidence_word(e)
            ),
            Some((false, e)) => format!(
                "; default-deny blocks ambient probes ({})",
                engine::explain::evidence_word(e)
            ),
            None => String::new(),
        };
        let aliases = if p.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also `{}`)", p.aliases.join("`, `"))
        };
        out.push_str(&format!(
            "{:<width$}  {}{aliases}{snat}\n",
            p.name, p.summary
        ));
    }
    out
}

fn mesh_options(mesh: &MeshArgs) -> MeshOptions {
    let d = MeshOptions::default();
    MeshOptions {
        root_namespace: mesh.root_namespace.clone(),
        trust_domain: mesh.trust_domain.clone(),
        auto_allow_waypoint_policy: mesh.auto_allow_waypoint_policy,
        ambient_dry_run: mesh.ambient_dry_run,
        layered_waypoint_policies: mesh.layered_waypoint_policies,
        sending_hbone: d.sending_hbone && !mesh.no_sending_hbone,
        cni_nftables: mesh.cni_nftables,
        rewrite_app_probers: d.rewrite_app_probers && !mesh.no_rewrite_app_probers,
    }
}

/// `istioctl x authz check POD` for one pod (`ns/name` or `name.ns`).
pub fn authz_check(paths: &[PathBuf], pod: &str, mesh: &MeshArgs) -> Status {
    let (namespace, name) = match pod.split_once('/') {
        Some((ns, name)) => (ns, name),
        None => match pod.rsplit_once('.') {
            Some((name, ns)) => (ns, name),
            None => {
                eprintln!(
                    "error: cannot read `{pod}` as a pod\n  = help: write `ns/name` or `name.ns`"
                );
                return Status::Usage;
            }
        },
    };
    let Some(sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let options = Options {
        mesh: mesh_options(mesh),
        ..Options::default()
    };
    let analysis = analyze(&sources, options.clone(), false);
    report_input(&sources, &analysis);
    let cluster = &analysis.cluster;
    let found: Vec<&engine::model::Workload> = cluster
        .workloads
        .iter()
        .filter(|w| w.namespace == namespace && w.name == name)
        .collect();
    let Some(workload) = found.first() else {
        eprintln!("error: no workload `{namespace}/{name}` in the input");
        return Status::Usage;
    };
    let plane = engine::istio::mesh::dataplane(cluster, workload);
    if !matches!(plane, engine::istio::mesh::DataPlane::Sidecar { .. }) {
        eprintln!(
            "note: {} is {} (no sidecar): istioctl reads a sidecar's Envoy listeners and would find none; the table shows the policies a sidecar would enforce",
            workload.display_name(),
            plane.as_str()
        );
    }
    print!(
        "{}",
        engine::istio::logs::authz_check(cluster, &options.mesh, workload)
    );
    input_status(&analysis)
}

fn parse_query(from: &str, to: &str, http: Option<&str>) -> Result<Query, String> {
    let with_help = |(m, h): (String, Option<String>)| match h {
        Some(h) => format!("{m}\n  = help: {h}"),
        None => m,
    };
    let src = expect::parse_endpoint(from).map_err(with_help)?;
    let (dst, port, protocol) = expect::parse_target(to).map_err(with_help)?;
    let http = match http {
        None => None,
        Some(s) => match s.split_once(' ') {
            Some((method, path)) if path.starts_with('/') => Some(flows::HttpRequest {
                method: method.to_string(),
                path: path.trim().to_string(),
            }),
            _ => {
                return Err(format!(
                    "cannot read `{s}` as an HTTP request\n  = help: write `METHOD /path`, e.g. `GET /api`"
                ))
            }
        },
    };
    Ok(Query {
        src,
        dst,
        protocol,
        port,
        http,
    })
}

/// Warnings and errors to stderr; unmodelled kinds as one note.
fn report_input(sources: &[Source], analysis: &Analysis) {
    let files = Files::new(sources);
    let mut infos = 0;
    for d in &analysis.diagnostics {
        if d.severity == Severity::Info {
            infos += 1;
        } else {
            eprint!("{}", render::diagnostic_text(&files, d));
        }
    }
    if infos > 0 {
        let mut kinds: Vec<&str> = analysis
            .cluster
            .ignored
            .iter()
            .map(|o| o.kind.as_str())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let kinds: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
        if kinds.is_empty() {
            eprintln!("note: {infos} notes about the input (run `lint` to see them)");
        } else {
            let n = analysis.cluster.ignored.len();
            eprintln!(
                "note: {n} {} ignored (kinds {}); run `lint` for details",
                if n == 1 { "object was" } else { "objects were" },
                kinds.join(", ")
            );
        }
    }
}

fn input_status(analysis: &Analysis) -> Status {
    if analysis
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        Status::Failed
    } else {
        Status::Ok
    }
}
