//! The lint catalogue: one unit struct per lint whose rustdoc is the user documentation
//! (`## What it does`, `## Why is this bad?`, `## Example`, `## Fix`, as ruff writes its rules).
//! The same text is kept at runtime in [`CATALOGUE`] so `docs/lints.md` is generated from it
//! ([`super::catalogue_markdown`]). Codes are stable: never renumber, only add.

use crate::diagnostics::Severity;

/// A lint's fixed facts and documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LintInfo {
    /// `PP4001`, ...
    pub code: &'static str,
    /// The rule's name in the code (`NetworkPolicyBlocksHboneIngress`).
    pub name: &'static str,
    /// The usual severity (a lint may lower it, e.g. to info when the input has no workloads).
    pub severity: Severity,
    /// One line: what the lint says.
    pub summary: &'static str,
    /// The rustdoc of the rule (markdown).
    pub docs: &'static str,
}

macro_rules! lints {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident = $code:literal, $severity:ident, $summary:literal;
    )+) => {
        $(
            $(#[doc = $doc])+
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub struct $name;

            impl $name {
                pub const INFO: LintInfo = LintInfo {
                    code: $code,
                    name: stringify!($name),
                    severity: Severity::$severity,
                    summary: $summary,
                    docs: concat!($($doc, "\n"),+),
                };
            }
        )+

        /// Every lint, in code order.
        pub const CATALOGUE: &[LintInfo] = &[$($name::INFO),+];
    };
}

lints! {
    /// ## What it does
    /// Finds NetworkPolicy ingress rules that allow an application port to a pod in the ambient
    /// mesh (or a sidecar pod receiving from ambient clients) from mesh clients, but not the
    /// HBONE port TCP 15008.
    ///
    /// ## Why is this bad?
    /// In ambient mode ztunnel tunnels pod-to-pod traffic as HBONE: the CNI sees
    /// `clientPodIP → serverPodIP:15008`, never the application port (SEMANTICS.md §2.3). A rule
    /// that lists only `port: 9090` therefore denies all mesh traffic to that pod, which is what
    /// Istio's "Ambient and Kubernetes NetworkPolicy" page warns about.
    ///
    /// ## Example
    /// ```yaml
    /// ingress:
    /// - ports:
    ///   - port: 9090
    ///     protocol: TCP
    /// ```
    ///
    /// ## Fix
    /// Add TCP 15008 to the rule's ports (and see PP4004 for what that opens):
    /// ```yaml
    /// ingress:
    /// - ports:
    ///   - port: 9090
    ///     protocol: TCP
    ///   - port: 15008
    ///     protocol: TCP
    /// ```
    NetworkPolicyBlocksHboneIngress = "PP4001", Warning,
        "NetworkPolicy ingress allows the app port but not HBONE 15008, so ambient traffic is denied";

    /// ## What it does
    /// Finds NetworkPolicy egress rules that allow a mesh client to reach an ambient (or
    /// sidecar) destination on its application port, but not on TCP 15008.
    ///
    /// ## Why is this bad?
    /// The client's ztunnel sends the connection as HBONE to `serverPodIP:15008`; the CNI on the
    /// client's node judges that tuple against the client's egress policies (SEMANTICS.md §2.3
    /// rule 9), so an egress rule naming only the app port denies the traffic.
    ///
    /// ## Example
    /// ```yaml
    /// egress:
    /// - to:
    ///   - podSelector:
    ///       matchLabels:
    ///         app: api
    ///   ports:
    ///   - port: 8080
    /// ```
    ///
    /// ## Fix
    /// Add `- port: 15008` with `protocol: TCP` to the rule's ports.
    NetworkPolicyBlocksHboneEgress = "PP4002", Warning,
        "NetworkPolicy egress allows the app port but not HBONE 15008 to an ambient destination";

    /// ## What it does
    /// Finds ambient pods with network probes (`httpGet`, `tcpSocket`, `grpc`) that are isolated
    /// for ingress with no rule admitting `169.254.7.127`, under a CNI profile whose
    /// `probeSnatCountsAsNode` flag is false.
    ///
    /// ## Why is this bad?
    /// istio-cni SNATs kubelet probes of ambient pods to `169.254.7.127` (SEMANTICS.md §2.6).
    /// CNIs that recognise node traffic by its source address after that SNAT (Cilium, Calico
    /// eBPF, AWS, OVN-Kubernetes) no longer exempt the probe, so a default-deny ingress policy
    /// fails the probes and the pod never becomes ready. The message names the profile flag
    /// and its evidence grade (V/R/I/U).
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   podSelector:
    ///     matchLabels:
    ///       app: my-app
    ///   policyTypes:
    ///   - Ingress
    /// ```
    ///
    /// ## Fix
    /// Istio's documented rule, added to the isolating policy:
    /// ```yaml
    ///   ingress:
    ///   - from:
    ///     - ipBlock:
    ///         cidr: 169.254.7.127/32
    /// ```
    DefaultDenyBlocksAmbientProbes = "PP4003", Warning,
        "default-deny ingress blocks ambient kubelet probes (SNAT 169.254.7.127) under this CNI";

    /// ## What it does
    /// Finds NetworkPolicy ingress rules that allow TCP 15008 next to specific application ports
    /// for ambient pods that no L4 AuthorizationPolicy narrows back to those ports.
    ///
    /// ## Why is this bad?
    /// An HBONE tunnel on 15008 can carry a connection to any port of the pod (istio/istio#56659):
    /// once 15008 is allowed, the NetworkPolicy's port list no longer restricts which ports mesh
    /// clients reach. Only ztunnel, which sees the real target port, can restrict it again.
    ///
    /// ## Example
    /// ```yaml
    /// ingress:
    /// - ports:
    ///   - port: 9090
    ///   - port: 15008
    /// ```
    ///
    /// ## Fix
    /// Append an L4 AuthorizationPolicy for the same pods that allows only the ports the
    /// NetworkPolicy meant:
    /// ```yaml
    /// apiVersion: security.istio.io/v1
    /// kind: AuthorizationPolicy
    /// spec:
    ///   selector:
    ///     matchLabels:
    ///       app: my-app
    ///   action: ALLOW
    ///   rules:
    ///   - to:
    ///     - operation:
    ///         ports: ["9090"]
    /// ```
    HbonePortWidensExposure = "PP4004", Warning,
        "allowing 15008 lets mesh clients reach every port of the pod, not just the listed ones";

    /// ## What it does
    /// Finds ALLOW AuthorizationPolicies with HTTP fields (`methods`, `paths`, `hosts`,
    /// `requestPrincipals`, `remoteIpBlocks`, HTTP `when` keys) that ztunnel enforces because no
    /// waypoint is bound to them.
    ///
    /// ## Why is this bad?
    /// ztunnel only sees L4. istiod drops every ALLOW rule that uses an HTTP attribute
    /// (SEMANTICS.md §5.1 step 7), so the policy allows less than written: it fails closed. The
    /// message quotes istiod's own status text.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   selector:
    ///     matchLabels:
    ///       app: api
    ///   rules:
    ///   - to:
    ///     - operation:
    ///         methods: ["GET"]
    /// ```
    ///
    /// ## Fix
    /// When the pods are behind a Service with a waypoint, bind the policy to that Service with
    /// `targetRefs: [{kind: Service, group: "", name: api}]` instead of `selector`, so the
    /// waypoint enforces the HTTP rules. Otherwise deploy a waypoint first.
    HttpAllowAtZtunnel = "PP4005", Warning,
        "ALLOW policy with HTTP fields is enforced by ztunnel: those rules are dropped (fails closed)";

    /// ## What it does
    /// Finds DENY AuthorizationPolicies with HTTP fields that ztunnel enforces because no
    /// waypoint is bound to them.
    ///
    /// ## Why is this bad?
    /// istiod strips the HTTP fields of DENY rules for ztunnel (SEMANTICS.md §5.1 step 8). A rule
    /// with an L4 remainder then denies more than written (every method, not only `DELETE`); a
    /// rule made only of HTTP fields has no effect at all. The message quotes istiod's status.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   action: DENY
    ///   rules:
    ///   - to:
    ///     - operation:
    ///         methods: ["DELETE"]
    /// ```
    ///
    /// ## Fix
    /// Bind the policy to a waypoint (`targetRefs`), or scope the DENY to L4 fields only.
    HttpDenyAtZtunnel = "PP4006", Warning,
        "DENY policy with HTTP fields is enforced by ztunnel: it loses its HTTP part or has no effect";

    /// ## What it does
    /// Finds AuthorizationPolicies attached with `targetRefs` to a Service that no waypoint
    /// serves.
    ///
    /// ## Why is this bad?
    /// ztunnel ignores every policy with `targetRefs`, and sidecars ignore `kind: Service`
    /// targets (SEMANTICS.md §4.1 rule 3). Without a waypoint in the path nothing enforces the
    /// policy: a DENY denies nothing and an ALLOW restricts nothing.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   targetRefs:
    ///   - kind: Service
    ///     group: ""
    ///     name: api
    ///   action: DENY
    /// ```
    ///
    /// ## Fix
    /// Enrol the Service in a waypoint: label it `istio.io/use-waypoint: <waypoint>` (the fix
    /// does this when the namespace has exactly one waypoint for services).
    TargetRefsWithoutWaypoint = "PP4007", Warning,
        "`targetRefs` policy has no waypoint in the path: nothing enforces it";

    /// ## What it does
    /// Finds `selector` AuthorizationPolicies on ambient pods reached through a waypoint whose
    /// rules name client identities (`principals`, `namespaces`, `serviceAccounts`,
    /// `source.principal`, `source.namespace`).
    ///
    /// ## Why is this bad?
    /// A waypoint does not impersonate the client: the destination ztunnel sees the waypoint's
    /// SPIFFE identity (SEMANTICS.md §2.5 rule 17, §5.4). A rule allowing
    /// `cluster.local/ns/fe/sa/web` never matches traffic that went through the waypoint.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   selector:
    ///     matchLabels:
    ///       app: api
    ///   rules:
    ///   - from:
    ///     - source:
    ///         principals: ["cluster.local/ns/fe/sa/web"]
    /// ```
    ///
    /// ## Fix
    /// Attach the policy to the Service the waypoint serves, so the waypoint (which sees the
    /// client) enforces it:
    /// ```yaml
    ///   targetRefs:
    ///   - kind: Service
    ///     group: ""
    ///     name: api
    /// ```
    SelectorBehindWaypoint = "PP4008", Warning,
        "selector policy behind a waypoint sees the waypoint's identity, not the client's";

    /// ## What it does
    /// Finds NetworkPolicies on a destination that admit the mesh client but not the second
    /// waypoint leg (waypoint pod → destination pod on TCP 15008).
    ///
    /// ## Why is this bad?
    /// Through a waypoint a flow is two HBONE tunnels; the destination's CNI sees the
    /// **waypoint pod** as the source (SEMANTICS.md §2.3 rule 9), so a `from` that lists only the
    /// client's pods blocks the flow.
    ///
    /// ## Example
    /// ```yaml
    /// ingress:
    /// - from:
    ///   - podSelector:
    ///       matchLabels:
    ///         app: web
    ///   ports:
    ///   - port: 15008
    /// ```
    ///
    /// ## Fix
    /// Add a rule admitting the waypoint's pods on 15008:
    /// ```yaml
    /// - from:
    ///   - podSelector:
    ///       matchLabels:
    ///         gateway.networking.k8s.io/gateway-name: waypoint
    ///   ports:
    ///   - port: 15008
    ///     protocol: TCP
    /// ```
    NetworkPolicyBlocksWaypointLeg = "PP4009", Warning,
        "NetworkPolicy on the destination does not allow the waypoint's leg (15008 from the waypoint pods)";

    /// ## What it does
    /// Finds NetworkPolicies and AuthorizationPolicies whose selector selects no workload of the
    /// input, NetworkPolicy peers that match no pod (or no namespace), and `targetRefs` naming
    /// an object that is not in the input.
    ///
    /// ## Why is this bad?
    /// A selector that matches nothing is usually a typo in a label, or a policy in the wrong
    /// namespace: the policy silently does nothing (or a rule allows nothing). It is reported as
    /// info when the input has no workloads at all (a policy-only file).
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   podSelector:
    ///     matchLabels:
    ///       app: apii
    /// ```
    ///
    /// ## Fix
    /// Correct the labels, or the policy's namespace.
    SelectsNothing = "PP4010", Warning,
        "policy, rule peer or target selects nothing in the input";

    /// ## What it does
    /// Finds namespaces and service accounts named in rules that do not exist in the input:
    /// AuthorizationPolicy `namespaces`, `principals`, `serviceAccounts` (and their `not`
    /// forms, and `source.namespace` / `source.principal` conditions), and NetworkPolicy
    /// `namespaceSelector`s on `kubernetes.io/metadata.name`. Well-known namespaces
    /// (`default`, `kube-system`, `kube-public`, `kube-node-lease`, the mesh root namespace) are
    /// assumed to exist.
    ///
    /// ## Why is this bad?
    /// Identities and namespace names are compared as strings; a typo never matches, so an ALLOW
    /// rule allows nobody and a DENY rule denies nobody.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    /// - from:
    ///   - source:
    ///       namespaces: ["fornt-end"]
    /// ```
    ///
    /// ## Fix
    /// When a known name is within two edits, replace the name with it.
    UnknownNamespaceOrServiceAccount = "PP4011", Warning,
        "namespace or service account named in a rule does not exist in the input";

    /// ## What it does
    /// Finds a NetworkPolicy `from`/`to` list of exactly two peers where one has only a
    /// `namespaceSelector` and the other only a `podSelector`.
    ///
    /// ## Why is this bad?
    /// Two list elements are OR'ed: this admits every pod of the selected namespaces, plus the
    /// selected pods of the policy's own namespace. The usual intent is one element with both
    /// selectors (AND): the selected pods in the selected namespaces (SEMANTICS.md §1.3
    /// rule 15). One stray dash makes the difference.
    ///
    /// ## Example
    /// ```yaml
    /// from:
    /// - namespaceSelector:
    ///     matchLabels:
    ///       team: fe
    /// - podSelector:
    ///     matchLabels:
    ///       app: web
    /// ```
    ///
    /// ## Fix
    /// Remove the second dash so both selectors are in one peer:
    /// ```yaml
    /// from:
    /// - namespaceSelector:
    ///     matchLabels:
    ///       team: fe
    ///   podSelector:
    ///     matchLabels:
    ///       app: web
    /// ```
    StrayDash = "PP4012", Warning,
        "`namespaceSelector` and `podSelector` in two list elements are OR'ed, not AND'ed";

    /// ## What it does
    /// Finds pods isolated for egress where no rule allows UDP 53 to the cluster DNS
    /// (`k8s-app: kube-dns` pods when the input has them, else any destination).
    ///
    /// ## Why is this bad?
    /// Every name lookup fails, so the pod cannot reach even the destinations its rules allow
    /// by name. Ambient pods need it too: ztunnel's DNS proxy forwards queries from inside the
    /// pod's network namespace (SEMANTICS.md §2.3 rule 9).
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   podSelector:
    ///     matchLabels:
    ///       app: web
    ///   policyTypes:
    ///   - Egress
    /// ```
    ///
    /// ## Fix
    /// Add an egress rule for DNS:
    /// ```yaml
    ///   egress:
    ///   - to:
    ///     - namespaceSelector:
    ///         matchLabels:
    ///           kubernetes.io/metadata.name: kube-system
    ///       podSelector:
    ///         matchLabels:
    ///           k8s-app: kube-dns
    ///     ports:
    ///     - port: 53
    ///       protocol: UDP
    ///     - port: 53
    ///       protocol: TCP
    /// ```
    EgressWithoutDns = "PP4013", Warning,
        "egress default-deny without DNS: no rule allows UDP 53 to kube-dns";
}
