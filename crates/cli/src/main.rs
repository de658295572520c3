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

use clap::{Args, Parser, Subcommand, ValueEnum};

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

/// The CNI profile and the mesh-wide Istio settings a result depends on (shown in the output
/// header). Defaults are upstream's.
#[derive(Args, Clone, Debug)]
pub struct ProfileArgs {
    /// CNI profile (`generic`, `cilium`, `calico-iptables`, …; `--cni help` lists them all).
    #[arg(long, default_value = "generic")]
    pub cni: String,
    #[command(flatten)]
    pub mesh: MeshArgs,
}

/// Mesh-wide Istio settings (SEMANTICS.md §2.5, §4.1; upstream defaults).
#[derive(Args, Clone, Debug)]
pub struct MeshArgs {
    /// meshConfig `rootNamespace`.
    #[arg(long, default_value = "istio-system")]
    pub root_namespace: String,
    /// meshConfig `trustDomain`.
    #[arg(long, default_value = "cluster.local")]
    pub trust_domain: String,
    /// istiod `PILOT_AUTO_ALLOW_WAYPOINT_POLICY=true`.
    #[arg(long)]
    pub auto_allow_waypoint_policy: bool,
    /// istiod `AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY=true`.
    #[arg(long)]
    pub ambient_dry_run: bool,
    /// istiod `ENABLE_LAYERED_WAYPOINT_AUTHORIZATION_POLICIES=true` (details unverified).
    #[arg(long)]
    pub layered_waypoint_policies: bool,
    /// istiod `PILOT_ENABLE_SENDING_HBONE=false`: sidecars send plaintext to ambient pods.
    #[arg(long)]
    pub no_sending_hbone: bool,
    /// istio-cni in nftables mode: the probe SNAT matches only the kubelet's uid.
    #[arg(long)]
    pub cni_nftables: bool,
    /// Sidecar injector without probe rewriting (`rewriteAppHTTPProbers` off by default).
    #[arg(long)]
    pub no_rewrite_app_probers: bool,
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
        #[command(flatten)]
        mesh: MeshArgs,
    },
    /// The allowed connections at the NetworkPolicy layer, in netpol-analyzer's `list` format.
    Connlist {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ConnlistFormat::Txt)]
        format: ConnlistFormat,
        /// CNI profile (`generic`, `netpol-analyzer`, …; `--cni help` lists them all).
        #[arg(long, default_value = "netpol-analyzer")]
        cni: String,
    },
    /// Every flow (workload to workload, through Services, kubelet probes, plaintext into the
    /// mesh, pods bypassing their own proxy, UDP, external ranges), with each layer's verdict.
    Flows {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = FlowsFormat::Text)]
        format: FlowsFormat,
        #[command(flatten)]
        profile: ProfileArgs,
        /// Leave out flows from and to external address ranges.
        #[arg(long)]
        no_external: bool,
        /// Only these kinds: comma-separated `app`, `probe`, `plaintext`, `bypass`, `udp`,
        /// `external`.
        #[arg(long, value_delimiter = ',')]
        kind: Vec<String>,
        /// The same flows side by side under several CNI profiles (comma-separated), e.g.
        /// `generic,cilium,calico-iptables`; replaces `--cni`.
        #[arg(long, value_delimiter = ',', alias = "cni-matrix")]
        compare_cni: Vec<String>,
        /// With `--compare-cni`: only the flows whose verdict differs between profiles.
        #[arg(long)]
        differences: bool,
    },
    /// Walk one flow through the layers, naming the policy and rule that decided at each and
    /// what Envoy, ztunnel and the client would print.
    Explain {
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// `ns/workload`, `ns/workload[Kind]`, `ns/workload!bypass`, an IPv4 address, or
        /// `kubelet`.
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
        #[command(flatten)]
        profile: ProfileArgs,
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
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// `istioctl x authz check POD`: the AuthorizationPolicies a pod's sidecar enforces, as
    /// istioctl's table (`ACTION  AuthorizationPolicy  RULES`).
    AuthzCheck {
        /// The pod: `ns/name` or istioctl's `name.ns`.
        pod: String,
        /// Manifest files or directories (walked for *.yaml, *.yml, *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        mesh: MeshArgs,
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
        Command::Lint {
            paths,
            format,
            mesh,
        } => run::lint(&paths, matches!(format, LintFormat::Json), &mesh),
        Command::Connlist { paths, format, cni } => run::connlist(&paths, format, &cni),
        Command::Flows {
            paths,
            format,
            profile,
            no_external,
            kind,
            compare_cni,
            differences,
        } => run::flows(
            &paths,
            format,
            &profile,
            &run::FlowsSelection {
                external: !no_external,
                kinds: kind,
                compare: compare_cni,
                differences,
            },
        ),
        Command::Explain {
            paths,
            from,
            to,
            http,
            format,
            profile,
        } => run::explain(&paths, &from, &to, http.as_deref(), format, &profile),
        Command::Check {
            paths,
            expect,
            profile,
        } => run::check(&paths, &expect, &profile),
        Command::AuthzCheck { pod, paths, mesh } => run::authz_check(&paths, &pod, &mesh),
    };
    ExitCode::from(res as u8)
}
