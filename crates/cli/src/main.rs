//! `policy-playground`: the engine as a command-line tool for CI.
//!
//! Exit status: 0 clean, 1 an expectation failed or an input has errors (the result is still
//! printed), 2 bad usage or unreadable input. Every subcommand is one function in `run`;
//! formatting lives in `render` (text) and `json` (JSON); docs/cli.md is the reference.

mod json;
mod load;
mod render;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// The allowed connections at the NetworkPolicy layer, in netpol-analyzer's `list` format.
    Connlist {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ConnlistFormat::Txt)]
        format: ConnlistFormat,
        /// CNI profile (`generic`, `netpol-analyzer`, …).
        #[arg(long, default_value = "netpol-analyzer")]
        cni: String,
    },
    /// Every flow (workload to workload, through Services, kubelet probes, external ranges),
    /// with each layer's verdict and the final verdict.
    Flows {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = FlowsFormat::Text)]
        format: FlowsFormat,
        /// CNI profile (`generic`, `netpol-analyzer`, …).
        #[arg(long, default_value = "generic")]
        cni: String,
        /// Leave out flows from and to external address ranges.
        #[arg(long)]
        no_external: bool,
    },
    /// Walk one flow through the layers, naming the policy and rule that decided at each.
    Explain {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// `ns/workload`, `ns/workload[Kind]`, an IPv4 address, or `kubelet`.
        #[arg(long)]
        from: String,
        /// `DST:PORT[/PROTO]` with DST `ns/workload`, `ns/svc/name` or an IPv4 address.
        #[arg(long)]
        to: String,
        /// An HTTP request for the layers that see HTTP, e.g. `GET /api`.
        #[arg(long)]
        http: Option<String>,
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
        /// CNI profile (`generic`, `netpol-analyzer`, …).
        #[arg(long, default_value = "generic")]
        cni: String,
    },
    /// Check expectations (one per line: `SRC -> DST:PORT[/PROTO] [METHOD PATH]
    /// allow|deny|unknown [at LAYER]`); failures are printed with their explanation.
    Check {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The expectations file.
        #[arg(long)]
        expect: PathBuf,
        /// CNI profile (`generic`, `netpol-analyzer`, …).
        #[arg(long, default_value = "generic")]
        cni: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConnlistFormat {
    Txt,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowsFormat {
    Text,
    Json,
    Csv,
    Md,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
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
    let res = match cli.command {
        Command::Lint { paths, format } => run::lint(&paths, matches!(format, LintFormat::Json)),
        Command::Connlist { paths, format, cni } => run::connlist(&paths, format, &cni),
        Command::Flows {
            paths,
            format,
            cni,
            no_external,
        } => run::flows(&paths, format, &cni, !no_external),
        Command::Explain {
            paths,
            from,
            to,
            http,
            format,
            cni,
        } => run::explain(&paths, &from, &to, http.as_deref(), format, &cni),
        Command::Check { paths, expect, cni } => run::check(&paths, &expect, &cni),
    };
    ExitCode::from(res as u8)
}
