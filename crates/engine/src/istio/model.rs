//! Typed Istio objects the engine judges: `AuthorizationPolicy` and `PeerAuthentication`
//! (`security.istio.io` v1 / v1beta1, identical schema, SEMANTICS.md §4) and waypoint
//! `Gateway`s (`gatewayClassName: istio-waypoint`, §2.5), plus the string matcher every string
//! field uses (§4.3 rule 18). Built by `parse/istio.rs`; no evaluation here beyond matchers.

use crate::model::WorkloadId;
use crate::selector::Labels;
use crate::source::Span;

/// An `AuthorizationPolicy` (SEMANTICS.md §4.1–§4.3). Fields keep the API's names and its raw
/// strings where Istio itself parses late (ports, IPs are skipped one by one when invalid,
/// `stringToPort` / `stringToIP` in istiod).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationPolicy {
    pub name: String,
    pub namespace: String,
    pub target: Target,
    /// Default `ALLOW` (§4.2 rule 10).
    pub action: Action,
    /// `provider.name` of a CUSTOM policy.
    pub provider: Option<String>,
    /// Absent `rules` and `rules: []` are both empty and never match (§4.3 rule 11).
    pub rules: Vec<Rule>,
    /// Annotation `istio.io/dry-run` parsed like Go's `strconv.ParseBool`.
    pub dry_run: bool,
    pub span: Span,
}

/// What a policy attaches to (§4.1 rules 1–3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// No `selector`, no `targetRefs`: the namespace (mesh-wide in the root namespace).
    Namespace,
    /// `selector.matchLabels` (present, possibly empty: istiod then still uses
    /// WORKLOAD_SELECTOR scope, and an empty label set matches every workload).
    Selector(Labels),
    /// `targetRef` / `targetRefs` (waypoints only; ztunnel ignores the policy).
    TargetRefs(Vec<TargetRef>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Deny,
    Audit,
    Custom,
}

impl Action {
    /// The API spelling (`ALLOW`, ...), as istiod prints it in status messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "ALLOW",
            Action::Deny => "DENY",
            Action::Audit => "AUDIT",
            Action::Custom => "CUSTOM",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRef {
    /// `""` for core (`Service`).
    pub group: String,
    pub kind: String,
    pub name: String,
    pub span: Span,
}

/// One rule: `from` (any) AND `to` (any) AND every `when` (§4.3 rule 13).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Rule {
    pub from: Vec<Source>,
    pub to: Vec<Operation>,
    pub when: Vec<Condition>,
    pub span: Span,
}

/// `rules[].from[].source` (§4.3 rule 15). All set fields AND'ed, values OR'ed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Source {
    pub principals: Vec<String>,
    pub not_principals: Vec<String>,
    pub request_principals: Vec<String>,
    pub not_request_principals: Vec<String>,
    pub namespaces: Vec<String>,
    pub not_namespaces: Vec<String>,
    pub service_accounts: Vec<String>,
    pub not_service_accounts: Vec<String>,
    pub ip_blocks: Vec<String>,
    pub not_ip_blocks: Vec<String>,
    pub remote_ip_blocks: Vec<String>,
    pub not_remote_ip_blocks: Vec<String>,
    pub trust_domains: Vec<String>,
    pub not_trust_domains: Vec<String>,
    pub span: Span,
}

/// `rules[].to[].operation` (§4.3 rule 16).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Operation {
    pub hosts: Vec<String>,
    pub not_hosts: Vec<String>,
    pub ports: Vec<String>,
    pub not_ports: Vec<String>,
    pub methods: Vec<String>,
    pub not_methods: Vec<String>,
    pub paths: Vec<String>,
    pub not_paths: Vec<String>,
    pub span: Span,
}

/// `rules[].when[]` (§4.3 rule 17).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Condition {
    pub key: String,
    pub values: Vec<String>,
    pub not_values: Vec<String>,
    pub span: Span,
}

impl Source {
    /// The HTTP-only fields that are set, in API order (istiod `httpSources`, §5.1 step 6).
    pub fn http_fields(&self) -> Vec<&'static str> {
        let mut res = Vec::new();
        for (name, v) in [
            ("remoteIpBlocks", &self.remote_ip_blocks),
            ("notRemoteIpBlocks", &self.not_remote_ip_blocks),
            ("requestPrincipals", &self.request_principals),
            ("notRequestPrincipals", &self.not_request_principals),
        ] {
            if !v.is_empty() {
                res.push(name);
            }
        }
        res
    }
}

impl Operation {
    /// The HTTP-only fields that are set (istiod `httpOperations`, §5.1 step 6).
    pub fn http_fields(&self) -> Vec<&'static str> {
        let mut res = Vec::new();
        for (name, v) in [
            ("hosts", &self.hosts),
            ("notHosts", &self.not_hosts),
            ("methods", &self.methods),
            ("notMethods", &self.not_methods),
            ("paths", &self.paths),
            ("notPaths", &self.not_paths),
        ] {
            if !v.is_empty() {
                res.push(name);
            }
        }
        res
    }
}

/// The five `when` keys ztunnel understands (istiod `l4WhenAttributes`, §5.1 step 5).
pub const L4_WHEN_KEYS: [&str; 5] = [
    "source.ip",
    "source.namespace",
    "source.principal",
    "destination.ip",
    "destination.port",
];

/// The string matcher of every string field (§4.3 rule 18): exact `abc`, prefix `abc*`, suffix
/// `*abc`, presence `*` (non-empty). istiod's `stringToMatch` checks `*` alone, then a leading
/// `*`, then a trailing `*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StringMatch {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Presence,
}

impl StringMatch {
    pub fn parse(v: &str) -> StringMatch {
        if v == "*" {
            StringMatch::Presence
        } else if let Some(rest) = v.strip_prefix('*') {
            StringMatch::Suffix(rest.to_string())
        } else if let Some(rest) = v.strip_suffix('*') {
            StringMatch::Prefix(rest.to_string())
        } else {
            StringMatch::Exact(v.to_string())
        }
    }

    /// ztunnel `StringMatch::matches`: presence means non-empty.
    pub fn matches(&self, check: &str) -> bool {
        match self {
            StringMatch::Exact(s) => s == check,
            StringMatch::Prefix(s) => check.starts_with(s.as_str()),
            StringMatch::Suffix(s) => check.ends_with(s.as_str()),
            StringMatch::Presence => !check.is_empty(),
        }
    }

    /// ASCII case-insensitive variant (Envoy `hosts`, §4.3 rule 16).
    pub fn matches_ignore_case(&self, check: &str) -> bool {
        let check = check.to_ascii_lowercase();
        match self {
            StringMatch::Exact(s) => s.to_ascii_lowercase() == check,
            StringMatch::Prefix(s) => check.starts_with(&s.to_ascii_lowercase()),
            StringMatch::Suffix(s) => check.ends_with(&s.to_ascii_lowercase()),
            StringMatch::Presence => !check.is_empty(),
        }
    }
}

/// `PeerAuthentication` (§4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerAuthentication {
    pub name: String,
    pub namespace: String,
    /// `selector.matchLabels`; `None` when absent or empty (istiod treats both as
    /// namespace/mesh level).
    pub selector: Option<Labels>,
    /// `mtls.mode`; `Unset` when absent.
    pub mode: MtlsMode,
    /// `portLevelMtls`: workload port → mode, sorted by port.
    pub port_level: Vec<(u16, MtlsMode)>,
    /// `metadata.creationTimestamp` as written (RFC 3339 sorts as text); oldest wins (§4.4
    /// rule 23). Missing sorts after every given one, then input order.
    pub creation_timestamp: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MtlsMode {
    Unset,
    Disable,
    Permissive,
    Strict,
}

impl MtlsMode {
    pub fn parse(s: &str) -> Option<MtlsMode> {
        match s {
            "UNSET" => Some(MtlsMode::Unset),
            "DISABLE" => Some(MtlsMode::Disable),
            "PERMISSIVE" => Some(MtlsMode::Permissive),
            "STRICT" => Some(MtlsMode::Strict),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MtlsMode::Unset => "UNSET",
            MtlsMode::Disable => "DISABLE",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Strict => "STRICT",
        }
    }
}

/// A waypoint: a Gateway API `Gateway` with `gatewayClassName: istio-waypoint` (§2.5 rule 13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waypoint {
    pub name: String,
    pub namespace: String,
    /// `istio.io/waypoint-for` label (default `service`).
    pub waypoint_for: WaypointFor,
    /// The Gateway's labels (e.g. `istio.io/use-waypoint` on the waypoint itself).
    pub labels: Labels,
    /// The waypoint's pods: a workload labelled `gateway.networking.k8s.io/gateway-name: <name>`
    /// in the same namespace, or the one the engine adds for it (`istio::materialize_waypoints`).
    pub workload: Option<WorkloadId>,
    pub span: Span,
}

/// `istio.io/waypoint-for` (§2.5 rule 13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaypointFor {
    Service,
    Workload,
    All,
    None,
}

impl WaypointFor {
    pub fn parse(s: &str) -> Option<WaypointFor> {
        match s {
            "service" => Some(WaypointFor::Service),
            "workload" => Some(WaypointFor::Workload),
            "all" => Some(WaypointFor::All),
            "none" => Some(WaypointFor::None),
            _ => None,
        }
    }
    pub fn handles_service(self) -> bool {
        matches!(self, WaypointFor::Service | WaypointFor::All)
    }
    pub fn handles_workload(self) -> bool {
        matches!(self, WaypointFor::Workload | WaypointFor::All)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §4.3 rule 18, ztunnel's `test_case` rows including the empty-string edge of each kind.
    #[test]
    fn string_match_table() {
        let rows = [
            ("abc", "abc", true, "exact"),
            ("abc", "abcd", false, "exact mismatch"),
            ("abc", "", false, "exact empty"),
            ("abc*", "abcd", true, "prefix"),
            ("abc*", "xabc", false, "prefix mismatch"),
            ("abc*", "", false, "prefix empty"),
            ("*abc", "xabc", true, "suffix"),
            ("*abc", "abcx", false, "suffix mismatch"),
            ("*abc", "", false, "suffix empty"),
            ("*", "x", true, "presence"),
            ("*", "", false, "presence empty"),
            ("*abc*", "xabc*", true, "leading star wins: suffix `abc*`"),
        ];
        for (pattern, input, expected, name) in rows {
            assert_eq!(
                StringMatch::parse(pattern).matches(input),
                expected,
                "{name}"
            );
        }
        assert!(StringMatch::parse("API.example.com").matches_ignore_case("api.EXAMPLE.com"));
    }
}
