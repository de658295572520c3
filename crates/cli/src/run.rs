//! One function per subcommand: load the inputs, call the engine, print through `render`, and
//! return the exit status. Input diagnostics (warnings and errors) go to stderr before the
//! result; an error in the input makes the status 1 even though the result is printed.

use std::fs;
use std::path::{Path, PathBuf};

use engine::connlist::{connlist_with, render_json, render_text};
use engine::expect::{self, Query};
use engine::flows::{self, Options};
use engine::{Analysis, AnalyzeOptions, Severity, Source, SourceId};

use crate::render::{self, Files};
use crate::{load, ConnlistFormat, ExplainFormat, FlowsFormat};

/// The process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    Failed = 1,
    Usage = 2,
}

pub fn lint(paths: &[PathBuf], json: bool) -> Status {
    let Some(sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let analysis = analyze(&sources, Options::default(), false);
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
    let Some(options) = options_or_report(cni) else {
        return Status::Usage;
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

pub fn flows(paths: &[PathBuf], format: FlowsFormat, cni: &str, external: bool) -> Status {
    let Some(mut options) = options_or_report(cni) else {
        return Status::Usage;
    };
    options.external_flows = external;
    let Some(sources) = load_or_report(paths) else {
        return Status::Usage;
    };
    let analysis = analyze(&sources, options.clone(), true);
    report_input(&sources, &analysis);
    let cluster = &analysis.cluster;
    let out = match format {
        FlowsFormat::Text => render::flows_text(cluster, &analysis.flows),
        FlowsFormat::Csv => render::flows_csv(cluster, &analysis.flows),
        FlowsFormat::Md => render::flows_md(cluster, &analysis.flows),
        FlowsFormat::Json => {
            render::flows_json(cluster, &analysis.flows, &options, &Files::new(&sources)).pretty()
                + "\n"
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
    cni: &str,
) -> Status {
    let Some(options) = options_or_report(cni) else {
        return Status::Usage;
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
            print!("{}", texts.join("\n"));
        }
        ExplainFormat::Json => println!(
            "{}",
            render::explanations_json(&analysis.cluster, &flows, &explanations, &options).pretty()
        ),
    }
    input_status(&analysis)
}

pub fn check(paths: &[PathBuf], expect_path: &Path, cni: &str) -> Status {
    let Some(options) = options_or_report(cni) else {
        return Status::Usage;
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

fn options_or_report(cni: &str) -> Option<Options> {
    let res = Options::with_cni(cni);
    if res.is_none() {
        let names: Vec<String> = flows::cni_profile_names()
            .into_iter()
            .map(|n| format!("`{n}`"))
            .collect();
        eprintln!(
            "error: unknown CNI profile `{cni}`\n  = help: use one of {}",
            names.join(", ")
        );
    }
    res
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
