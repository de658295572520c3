//! `policy-playground`: the engine as a command-line tool for CI.
//!
//! Exit status: 0 clean, 1 an expectation failed or an input has errors, 2 bad usage or
//! unreadable input. Every subcommand is one function; formatting lives in `render`.

mod load;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use engine::Severity;

#[derive(Parser)]
#[command(
    name = "policy-playground",
    version,
    about = "Which flows survive NetworkPolicy and Istio policy, layer by layer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the diagnostics for the inputs (errors make the exit status 1).
    Lint {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Lint { paths, format } => lint(&paths, format),
    }
}

fn load_or_exit(paths: &[PathBuf]) -> Result<Vec<engine::Source>, ExitCode> {
    load::load_paths(paths).map_err(|e| {
        eprintln!("error: cannot read `{}`: {}", e.path.display(), e.message);
        ExitCode::from(2)
    })
}

fn lint(paths: &[PathBuf], format: LintFormat) -> ExitCode {
    let sources = match load_or_exit(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let analysis = engine::analyze(&sources);
    let files = render::Files::new(&sources);
    match format {
        LintFormat::Text => {
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
        LintFormat::Json => println!(
            "{}",
            render::diagnostics_json(&files, &analysis.diagnostics)
        ),
    }
    if analysis
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
