//! CNI profile names and their one-line explanations for the Settings pane.
//!
//! The selectable names and their one-line summaries are the engine's (`engine::profiles`,
//! SEMANTICS.md §10); the static list below is a fallback text for names the engine does not
//! describe, and any name it does not model at all is shown disabled.

/// One selectable profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileInfo {
    pub name: &'static str,
    pub explanation: &'static str,
}

pub const DEFAULT_PROFILE: &str = "generic";

pub const PROFILES: &[ProfileInfo] = &[
    ProfileInfo {
        name: "generic",
        explanation: "Cautious default: only the pod's own node is exempt, ambient probes from \
                      169.254.7.127 are policed, ipBlock matches by wire address.",
    },
    ProfileInfo {
        name: "netpol-analyzer",
        explanation: "np-guard netpol-analyzer's conventions: ipBlock matches external addresses \
                      only, never pods or nodes.",
    },
    ProfileInfo {
        name: "calico-iptables",
        explanation: "Host-originated traffic is never policed, so ambient probes pass a \
                      default-deny; ipBlock matches pod IPs.",
    },
    ProfileInfo {
        name: "calico-nftables",
        explanation: "Same decisions as calico-iptables, rendered as nftables rules.",
    },
    ProfileInfo {
        name: "calico-ebpf",
        explanation: "Node exemption by local-host source address: the probe SNAT source is \
                      external, so default-deny blocks ambient probes.",
    },
    ProfileInfo {
        name: "cilium",
        explanation: "Node traffic has the host identity; 169.254.7.127 is `world` (blocked by \
                      default-deny); ipBlock never matches pods or nodes.",
    },
    ProfileInfo {
        name: "kube-router",
        explanation: "Also k3s's default: packets from a local node address are accepted first, \
                      before the probe SNAT, so ambient probes pass.",
    },
    ProfileInfo {
        name: "flannel",
        explanation: "Flannel alone enforces no NetworkPolicy at all: every NP layer allows.",
    },
    ProfileInfo {
        name: "aws-vpc-cni",
        explanation: "Network policy agent allows only the node's primary IP; the probe SNAT \
                      source is blocked by default-deny.",
    },
    ProfileInfo {
        name: "antrea",
        explanation: "Host-local traffic is marked before SNAT and skips ingress rules (Linux), \
                      so ambient probes pass.",
    },
    ProfileInfo {
        name: "ovn-kubernetes",
        explanation: "Only the management-port IP is exempt; default-deny blocks ambient probes \
                      (reported for OpenShift).",
    },
];

/// Every name to show: the engine's profile table first, then names documented here that
/// the engine does not know (shown disabled), each with whether the engine can analyse with it.
pub fn choices() -> Vec<(&'static str, bool)> {
    let mut res: Vec<(&'static str, bool)> = engine::profiles::profile_names()
        .into_iter()
        .map(|n| (n, true))
        .collect();
    for n in engine::flows::cni_profile_names() {
        if !res.iter().any(|(m, _)| *m == n) {
            res.push((n, true));
        }
    }
    for p in PROFILES {
        if !res.iter().any(|(m, _)| *m == p.name) {
            res.push((p.name, false));
        }
    }
    res
}

/// The explanation of a name: the engine's one-line summary, else ours (empty if none).
pub fn explanation(name: &str) -> &'static str {
    engine::profiles::profile(name)
        .map(|p| p.summary)
        .filter(|s| !s.is_empty())
        .or_else(|| find(name).map(|p| p.explanation))
        .unwrap_or("")
}

/// The profile with this name, if it is one we list.
pub fn find(name: &str) -> Option<&'static ProfileInfo> {
    PROFILES.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_default_is_listed() {
        let mut names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROFILES.len());
        assert!(find(DEFAULT_PROFILE).is_some());
        let choices = choices();
        assert!(choices.contains(&(DEFAULT_PROFILE, true)), "{choices:?}");
        for (name, _) in choices {
            assert!(!explanation(name).is_empty(), "{name} has no explanation");
        }
    }
}
