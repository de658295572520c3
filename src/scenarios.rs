//! The built-in scenario library: YAML files under `scenarios/`, compiled into the app.

/// One scenario: a title, what to look at, and the manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub id: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub yaml: &'static str,
}

pub const SCENARIOS: &[Scenario] = &[Scenario {
    id: "two-namespaces",
    title: "Two namespaces, deny-all ingress",
    summary: "np-test-nginx-1 accepts traffic from anywhere; a NetworkPolicy with no ingress \
              rules isolates every pod in np-test-2 (seeds/001).",
    yaml: include_str!("../scenarios/two-namespaces.yaml"),
}];

/// The scenario loaded when nothing else is asked for.
pub fn default_scenario() -> &'static Scenario {
    &SCENARIOS[0]
}
