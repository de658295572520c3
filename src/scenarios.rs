//! The built-in scenario library: YAML files under `scenarios/`, compiled into the app, each
//! with a title, what to look at, and expectations in the CLI's `check` format
//! (`SRC -> DST:PORT[/PROTO] [METHOD PATH] allow|deny|unknown [at LAYER]`).
//!
//! The expectations are what we believe SEMANTICS.md implies under the default (`generic`) CNI
//! profile; the engine computes the real verdicts and the Expectations pane compares them live.

/// One scenario: a title, what to look at, expectations, and the manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub id: &'static str,
    pub title: &'static str,
    /// What to look at (a workshop can run from this text).
    pub summary: &'static str,
    pub expectations: &'static str,
    pub yaml: &'static str,
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "two-namespaces",
        title: "Two namespaces, deny-all ingress",
        summary: "np-test-nginx-1 accepts traffic from anywhere; a NetworkPolicy with no ingress \
                  rules isolates every pod in np-test-2 (seeds/001). The node drops the traffic \
                  before the sidecar ever sees it, so there is no Envoy RBAC log line.",
        expectations: "\
# deny-all at the CNI: np-test-2 accepts nothing
np-test-1/np-test-nginx-1 -> np-test-2/svc/svc-np-test-nginx-2:80 deny at np-ingress
np-test-1/np-test-nginx-1 -> np-test-2/np-test-nginx-2:80 deny at np-ingress
# the other direction is open
np-test-2/np-test-nginx-2 -> np-test-1/svc/svc-np-test-nginx-1:80 allow
",
        yaml: include_str!("../scenarios/two-namespaces.yaml"),
    },
    Scenario {
        id: "two-namespaces-authz",
        title: "Two namespaces, DENY AuthorizationPolicy with rules: [{}]",
        summary: "The same two sidecar-injected namespaces, now protected by an Istio DENY \
                  policy whose single empty rule matches everything (seeds/001). From the \
                  outside it looks exactly like the NetworkPolicy version; the trace shows the \
                  sidecar deciding, with the Envoy line `rbac_access_denied_matched_policy\
                  [ns[np-test-2]-policy[deny-all-ingress-using-authorizationpolicy]-rule[0]]`.",
        expectations: "\
np-test-1/np-test-nginx-1 -> np-test-2/svc/svc-np-test-nginx-2:80 deny at sidecar
np-test-1/np-test-nginx-1 -> np-test-2/svc/svc-np-test-nginx-2:80 GET / deny at sidecar
np-test-2/np-test-nginx-2 -> np-test-1/svc/svc-np-test-nginx-1:80 allow
",
        yaml: include_str!("../scenarios/two-namespaces-authz.yaml"),
    },
    Scenario {
        id: "ambient-15008",
        title: "Ambient: NetworkPolicy blocks HBONE on 15008",
        summary: "demo is enrolled in ambient (istio.io/dataplane-mode=ambient). Mesh traffic \
                  between pods travels as HBONE to TCP 15008, so the CNI never sees port 9090 \
                  and the policy that allows only 9090 drops it (seeds/000). Plaintext from the \
                  non-mesh legacy/curl still gets through on 9090. Fix: add port 15008 to the \
                  policy, and watch the first two lines turn green only after you update them.",
        expectations: "\
# mesh traffic arrives on 15008, which the policy does not allow
demo/client -> demo/svc/my-app:80 deny at np-ingress
demo/client -> demo/my-app:9090 deny at np-ingress
# plaintext from outside the mesh uses the app port
legacy/curl -> demo/my-app:9090 allow
# ambient probes come from 169.254.7.127 on 9090, which any source may reach
kubelet -> demo/my-app:9090 allow
",
        yaml: include_str!("../scenarios/ambient-15008.yaml"),
    },
    Scenario {
        id: "ambient-probes",
        title: "Ambient: kubelet probes vs default-deny",
        summary: "After enrolment, kubelet probes reach the pod from the link-local address \
                  169.254.7.127 instead of the node IP (seeds/000). Under the generic, Cilium, \
                  Calico eBPF, AWS and OVN-Kubernetes profiles a default-deny ingress policy \
                  now drops them and the pod never becomes Ready; Calico iptables, kube-router \
                  and Antrea still exempt them. Switch the CNI profile in Settings, then \
                  uncomment Istio's fix at the end of the YAML.",
        expectations: "\
# generic profile: the SNATed probe source is not the node
kubelet -> shop/my-app:8080 deny at np-ingress
shop/frontend -> shop/my-app:8080 deny at np-ingress
shop/my-app -> shop/frontend:80 allow
",
        yaml: include_str!("../scenarios/ambient-probes.yaml"),
    },
    Scenario {
        id: "sidecar-bypass",
        title: "Sidecars: a compromised pod bypasses its own sidecar",
        summary: "The frontend's app container shares its network namespace with Envoy, so once \
                  compromised it can send plaintext around its own sidecar (seeds/002). Istio \
                  still protects payments (its sidecar wants the frontend's identity), but \
                  nothing in the mesh protects legacy/db or the internet: only the host-enforced \
                  egress NetworkPolicy does. Look at the bypass flows and the layer that stops them.",
        expectations: "\
shop/frontend -> shop/payments:8080 allow
# bypass attempts stopped on the node
shop/frontend -> legacy/db:5432 deny at np-egress
shop/frontend -> 203.0.113.10:443 deny at np-egress
# plaintext without identity is refused by the payments sidecar
legacy/db -> shop/payments:8080 deny at sidecar
shop/payments -> legacy/db:5432 allow
",
        yaml: include_str!("../scenarios/sidecar-bypass.yaml"),
    },
    Scenario {
        id: "stray-dash",
        title: "NetworkPolicy pitfall: a stray dash turns AND into OR",
        summary: "The author meant \"app=web pods in team=fe namespaces\". The dash before \
                  podSelector makes it a second peer, so the rule admits every pod in fe OR \
                  every app=web pod in be. Delete the dash and the two surprising allows turn \
                  into denies.",
        expectations: "\
fe/web -> be/db:5432 allow
# surprises caused by the dash
fe/other -> be/db:5432 allow
be/web-debug -> be/db:5432 allow
203.0.113.9 -> be/db:5432 deny at np-ingress
",
        yaml: include_str!("../scenarios/stray-dash.yaml"),
    },
    Scenario {
        id: "empty-selectors",
        title: "NetworkPolicy pitfall: empty selectors vs missing fields",
        summary: "`podSelector: {}` in a peer means every pod of the policy's own namespace; \
                  `namespaceSelector: {}` means every pod of every namespace but no outside \
                  address; a rule with no `from` admits every source, the internet included. \
                  Compare who reaches api, worker and web.",
        expectations: "\
app/worker -> app/api:8080 allow
monitoring/prometheus -> app/api:8080 deny at np-ingress
monitoring/prometheus -> app/worker:9100 allow
203.0.113.7 -> app/worker:9100 deny at np-ingress
203.0.113.7 -> app/web:80 allow
monitoring/prometheus -> app/web:80 allow
",
        yaml: include_str!("../scenarios/empty-selectors.yaml"),
    },
    Scenario {
        id: "egress-no-dns",
        title: "NetworkPolicy pitfall: egress default-deny without DNS",
        summary: "web may reach api:8080, but it must resolve the api's name first: UDP 53 to \
                  kube-dns, which the egress policy does not allow, so in practice nothing \
                  works. Uncomment the DNS rule (UDP and TCP 53) to fix it.",
        expectations: "\
shop/web -> shop/api:8080 allow
shop/web -> kube-system/svc/kube-dns:53/UDP deny at np-egress
shop/web -> kube-system/coredns:53/UDP deny at np-egress
shop/api -> kube-system/svc/kube-dns:53/UDP allow
",
        yaml: include_str!("../scenarios/egress-no-dns.yaml"),
    },
];

/// The scenario loaded when nothing else is asked for.
pub fn default_scenario() -> &'static Scenario {
    &SCENARIOS[0]
}

/// The scenario with this id.
pub fn find(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_parses_without_errors() {
        for s in SCENARIOS {
            let analysis = engine::analyze(&[engine::Source::new(s.id, s.yaml)]);
            let errors: Vec<_> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity == engine::Severity::Error)
                .map(|d| &d.message)
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", s.id);
            assert!(!analysis.cluster.workloads.is_empty(), "{}", s.id);
        }
    }

    #[test]
    fn ids_are_unique_and_expectations_are_well_formed() {
        let mut ids: Vec<_> = SCENARIOS.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), SCENARIOS.len());
        for s in SCENARIOS {
            let lines: Vec<_> = s
                .expectations
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .collect();
            assert!(!lines.is_empty(), "{}", s.id);
            for l in lines {
                assert!(l.contains(" -> "), "{}: {l}", s.id);
                let verdict_ok = [" allow", " deny", " unknown"]
                    .iter()
                    .any(|v| l.ends_with(v) || l.contains(&format!("{v} at ")));
                assert!(verdict_ok, "{}: {l}", s.id);
                if let Some((_, layer)) = l.split_once(" at ") {
                    assert!(engine::verdict::Layer::parse(layer.trim()).is_some(), "{l}");
                }
            }
        }
    }
}

#[cfg(test)]
mod live_check {
    use super::*;
    use crate::state::{analyze_options, Settings};

    /// Expectations the engine gets wrong, by scenario id and exact line, each with the
    /// SEMANTICS.md section that says so. They are reported by the test, never skipped silently.
    /// Empty: every scenario expectation agrees with the engine.
    const ENGINE_BUGS: &[(&str, &str, &str)] = &[];

    /// Checks a scenario's expectations under a CNI profile with the app's own analysis options;
    /// returns the failing lines with the engine's message.
    fn failures(s: &Scenario, profile: &str, expectations: &str) -> Vec<String> {
        let settings = Settings {
            cni_profile: profile.to_string(),
            ..Settings::default()
        };
        let options = analyze_options(&settings);
        let analysis = engine::analyze_with(&[engine::Source::new(s.id, s.yaml)], &options);
        let (exps, diags) = engine::expect::parse(engine::SourceId(1), expectations);
        let mut res: Vec<String> = diags
            .iter()
            .map(|d| format!("{}: parse: {}", s.id, d.message))
            .collect();
        for r in engine::expect::check(&analysis.cluster, &exps, &options.flow_options) {
            if !r.pass {
                res.push(format!(
                    "{}: {} -> {}",
                    r.expectation.text.trim(),
                    s.id,
                    r.message.unwrap_or_default()
                ));
            }
        }
        res
    }

    /// Every expectation of every scenario holds under the default profile (the Expectations
    /// pane opens all green), except the listed engine bugs, which are printed.
    #[test]
    fn every_scenario_expectation_passes() {
        let mut unexpected = Vec::new();
        for s in SCENARIOS {
            for f in failures(s, crate::profiles::DEFAULT_PROFILE, s.expectations) {
                let known = ENGINE_BUGS
                    .iter()
                    .find(|(id, line, _)| *id == s.id && f.starts_with(line));
                match known {
                    Some((_, _, section)) => {
                        println!("KNOWN ENGINE BUG ({section}): {f}");
                    }
                    None => unexpected.push(f),
                }
            }
        }
        assert!(unexpected.is_empty(), "{unexpected:#?}");
    }

    /// What the ambient-probes scenario text promises per CNI profile (SEMANTICS.md §10.0,
    /// §10.1): the SNATed probe is denied by default-deny where the probe source is not node
    /// traffic, and passes where host-originated traffic is exempt.
    #[test]
    fn ambient_probes_verdict_per_profile_matches_the_scenario_text() {
        let s = find("ambient-probes").expect("scenario");
        for profile in [
            "generic",
            "cilium",
            "calico-ebpf",
            "aws-vpc-cni",
            "ovn-kubernetes",
        ] {
            let f = failures(
                s,
                profile,
                "kubelet -> shop/my-app:8080 deny at np-ingress\n",
            );
            assert!(f.is_empty(), "{profile}: {f:?}");
        }
        for profile in ["calico-iptables", "kube-router", "antrea"] {
            let f = failures(s, profile, "kubelet -> shop/my-app:8080 allow\n");
            assert!(f.is_empty(), "{profile}: {f:?}");
        }
    }
}
