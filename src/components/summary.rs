//! What the engine found: namespaces, workloads, services and NetworkPolicies.

use engine::Analysis;
use yew::prelude::*;

use crate::state::Shared;

#[derive(Properties, PartialEq)]
pub struct SummaryProps {
    pub analysis: Shared<Analysis>,
}

#[component]
pub fn Summary(props: &SummaryProps) -> Html {
    let cluster = &props.analysis.cluster;
    html! {
        <div class="summary" id="summary">
            <h2>{ format!("Namespaces ({})", cluster.namespaces.len()) }</h2>
            <ul class="namespaces">
                for ns in cluster.namespaces.iter() {
                    <li class="namespace">
                        <span class="name">{ &ns.name }</span>
                        if ns.span.is_none() { <span class="badge">{ "implicit" }</span> }
                        for (k, v) in ns.labels.iter().filter(|(k, _)| *k != "kubernetes.io/metadata.name") {
                            <span class="label">{ format!("{k}={v}") }</span>
                        }
                    </li>
                }
            </ul>
            <h2>{ format!("Workloads ({})", cluster.workloads.len()) }</h2>
            <ul class="workloads">
                for w in cluster.workloads.iter() {
                    <li class="workload">
                        <span class="name">{ w.display_name() }</span>
                        <span class="ip">{ w.ip().to_string() }</span>
                        for p in w.container_ports() {
                            <span class="port">{ format!("{}/{}", p.port, p.protocol.as_str()) }</span>
                        }
                    </li>
                }
            </ul>
            <h2>{ format!("Services ({})", cluster.services.len()) }</h2>
            <ul class="services">
                for s in cluster.services.iter() {
                    <li class="service">
                        <span class="name">{ format!("{}/{}", s.namespace, s.name) }</span>
                        for p in s.ports.iter() {
                            <span class="port">{ format!("{}→{}", p.port, match &p.target_port {
                                engine::model::PortRef::Number(n) => n.to_string(),
                                engine::model::PortRef::Name(n) => n.clone(),
                            }) }</span>
                        }
                    </li>
                }
            </ul>
            <h2>{ format!("NetworkPolicies ({})", cluster.network_policies.len()) }</h2>
            <ul class="policies">
                for p in cluster.network_policies.iter() {
                    <li class="policy">
                        <span class="name">{ format!("{}/{}", p.namespace, p.name) }</span>
                        <span class="selector">{ format!("podSelector: {}", p.pod_selector) }</span>
                        if p.policy_types.ingress { <span class="badge">{ format!("Ingress ({} rules)", p.ingress.len()) }</span> }
                        if p.policy_types.egress { <span class="badge">{ format!("Egress ({} rules)", p.egress.len()) }</span> }
                    </li>
                }
            </ul>
            if !cluster.ignored.is_empty() {
                <h2>{ format!("Ignored ({})", cluster.ignored.len()) }</h2>
                <ul class="ignored">
                    for o in cluster.ignored.iter() {
                        <li>{ format!("{} {}", o.kind, o.name) }</li>
                    }
                </ul>
            }
        </div>
    }
}
