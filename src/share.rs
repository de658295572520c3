//! Share links: the whole editor state in a URL fragment, compressed and versioned.
//!
//! Format `v1.<payload>`: `payload` is base64url (no padding; padding is tolerated on decode) of
//! raw DEFLATE of a record list. Each record is `key:len:value\n`, where `len` is the value's
//! byte length, so values may hold any text. Unknown keys are skipped, which lets later versions
//! add fields without a new version tag; a new tag is only for incompatible changes, and `v1`
//! must stay decodable forever. Decoding never panics on any input and bounds the inflated size.
//! Pure: no web APIs (the same encoding is used for autosave).
//!
//! Records: `yaml`, `scenario`, `profile`, `flow`, `node`, `expect`, and (added after the first
//! v1 links, so older links simply lack them and open with the upstream defaults) the mesh-wide
//! options as `mesh.<name>` ([`MESH_KEYS`]), booleans as `true`/`false`.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use engine::istio::MeshOptions;

/// What a link (or the autosave slot) holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub yaml: String,
    /// The scenario the text came from (for the picker and Reset); empty when unknown.
    pub scenario: String,
    /// CNI profile name.
    pub profile: String,
    /// Selected flow id, if any.
    pub flow: Option<String>,
    /// Selected topology node key, if any.
    pub node: Option<String>,
    /// The expectations text.
    pub expectations: String,
    /// Mesh-wide options (the upstream defaults when a link predates them).
    pub mesh: MeshOptions,
}

/// The record keys of the mesh options, in the order they are written.
pub const MESH_KEYS: [&str; 8] = [
    "mesh.root_namespace",
    "mesh.trust_domain",
    "mesh.auto_allow_waypoint_policy",
    "mesh.ambient_dry_run",
    "mesh.layered_waypoint_policies",
    "mesh.sending_hbone",
    "mesh.cni_nftables",
    "mesh.rewrite_app_probers",
];

/// The mesh option a record key names, as text.
fn mesh_value(mesh: &MeshOptions, key: &str) -> Option<String> {
    let b = |v: bool| Some(v.to_string());
    match key {
        "mesh.root_namespace" => Some(mesh.root_namespace.clone()),
        "mesh.trust_domain" => Some(mesh.trust_domain.clone()),
        "mesh.auto_allow_waypoint_policy" => b(mesh.auto_allow_waypoint_policy),
        "mesh.ambient_dry_run" => b(mesh.ambient_dry_run),
        "mesh.layered_waypoint_policies" => b(mesh.layered_waypoint_policies),
        "mesh.sending_hbone" => b(mesh.sending_hbone),
        "mesh.cni_nftables" => b(mesh.cni_nftables),
        "mesh.rewrite_app_probers" => b(mesh.rewrite_app_probers),
        _ => None,
    }
}

/// Sets the mesh option a record key names; an unknown key or a bad boolean changes nothing
/// (the option keeps its default). Returns whether the key is a mesh key.
fn set_mesh_value(mesh: &mut MeshOptions, key: &str, value: &str) -> bool {
    let flag = match key {
        "mesh.root_namespace" => {
            if !value.is_empty() {
                mesh.root_namespace = value.to_string();
            }
            return true;
        }
        "mesh.trust_domain" => {
            if !value.is_empty() {
                mesh.trust_domain = value.to_string();
            }
            return true;
        }
        "mesh.auto_allow_waypoint_policy" => &mut mesh.auto_allow_waypoint_policy,
        "mesh.ambient_dry_run" => &mut mesh.ambient_dry_run,
        "mesh.layered_waypoint_policies" => &mut mesh.layered_waypoint_policies,
        "mesh.sending_hbone" => &mut mesh.sending_hbone,
        "mesh.cni_nftables" => &mut mesh.cni_nftables,
        "mesh.rewrite_app_probers" => &mut mesh.rewrite_app_probers,
        _ => return false,
    };
    match value {
        "true" | "1" => *flag = true,
        "false" | "0" => *flag = false,
        _ => (),
    }
    true
}

/// Why a fragment could not be opened. Shown to the user, so the wording is plain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// Not a `vN.` fragment at all.
    NotALink,
    /// A version this build does not know (a link from a newer playground).
    UnknownVersion(String),
    Base64,
    Inflate,
    TooLarge,
    Malformed,
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareError::NotALink => f.write_str("the link holds no playground state"),
            ShareError::UnknownVersion(v) => {
                write!(
                    f,
                    "the link uses format `{v}`, which this playground does not know"
                )
            }
            ShareError::Base64 => f.write_str("the link is damaged (not base64url)"),
            ShareError::Inflate => f.write_str("the link is damaged (cannot be decompressed)"),
            ShareError::TooLarge => f.write_str("the link holds more than 8 MiB of state"),
            ShareError::Malformed => f.write_str("the link is damaged (bad record list)"),
        }
    }
}

/// The current format tag.
pub const VERSION: &str = "v1";

/// Upper bound on the inflated payload: a share link can never make the page allocate more.
pub const MAX_INFLATED: usize = 8 << 20;

/// `v1.<payload>` for a snapshot (no leading `#`).
pub fn encode(snapshot: &Snapshot) -> String {
    let mut records = String::with_capacity(snapshot.yaml.len() + 128);
    push_record(&mut records, "yaml", &snapshot.yaml);
    push_record(&mut records, "scenario", &snapshot.scenario);
    push_record(&mut records, "profile", &snapshot.profile);
    if let Some(flow) = &snapshot.flow {
        push_record(&mut records, "flow", flow);
    }
    if let Some(node) = &snapshot.node {
        push_record(&mut records, "node", node);
    }
    push_record(&mut records, "expect", &snapshot.expectations);
    for key in MESH_KEYS {
        if let Some(value) = mesh_value(&snapshot.mesh, key) {
            push_record(&mut records, key, &value);
        }
    }
    let compressed = miniz_oxide::deflate::compress_to_vec(records.as_bytes(), 9);
    format!("{VERSION}.{}", BASE64URL.encode(compressed))
}

/// Reads a fragment (with or without the leading `#`). Never panics.
pub fn decode(fragment: &str) -> Result<Snapshot, ShareError> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment).trim();
    let Some((version, payload)) = fragment.split_once('.') else {
        return Err(ShareError::NotALink);
    };
    let is_version_tag = version.len() >= 2
        && version.starts_with('v')
        && version.bytes().skip(1).all(|b| b.is_ascii_digit());
    if !is_version_tag {
        return Err(ShareError::NotALink);
    }
    match version {
        "v1" => decode_v1(payload),
        other => Err(ShareError::UnknownVersion(other.to_string())),
    }
}

/// True when the fragment looks like a share link (so the app should try to open it).
pub fn is_share_fragment(fragment: &str) -> bool {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    fragment.starts_with('v') && fragment.contains('.')
}

fn decode_v1(payload: &str) -> Result<Snapshot, ShareError> {
    let compressed = BASE64URL
        .decode(payload.trim_end_matches('='))
        .map_err(|_| ShareError::Base64)?;
    let inflated = miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, MAX_INFLATED)
        .map_err(|e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => ShareError::TooLarge,
            _ => ShareError::Inflate,
        })?;
    let mut res = Snapshot::default();
    let mut rest: &[u8] = &inflated;
    while !rest.is_empty() {
        let (key, value, tail) = split_record(rest).ok_or(ShareError::Malformed)?;
        let value = std::str::from_utf8(value).map_err(|_| ShareError::Malformed)?;
        match key {
            b"yaml" => res.yaml = normalize_newlines(value),
            b"scenario" => res.scenario = value.to_string(),
            b"profile" => res.profile = value.to_string(),
            b"flow" => res.flow = Some(value.to_string()),
            b"node" => res.node = Some(value.to_string()),
            b"expect" => res.expectations = normalize_newlines(value),
            // Mesh options, then fields added by later builds: skipped, never an error.
            other => {
                if let Ok(key) = std::str::from_utf8(other) {
                    set_mesh_value(&mut res.mesh, key, value);
                }
            }
        }
        rest = tail;
    }
    Ok(res)
}

/// Text areas hold `\n` only; keeping state in the same form keeps spans and caret stable.
pub fn normalize_newlines(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    }
}

const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn push_record(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push(':');
    out.push_str(&value.len().to_string());
    out.push(':');
    out.push_str(value);
    out.push('\n');
}

/// `key:len:value\n` → (key, value, rest).
fn split_record(input: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let key_end = input.iter().position(|&b| b == b':')?;
    let key = input.get(..key_end)?;
    let after_key = input.get(key_end + 1..)?;
    let len_end = after_key.iter().position(|&b| b == b':')?;
    let len_text = std::str::from_utf8(after_key.get(..len_end)?).ok()?;
    if len_text.is_empty() || len_text.len() > 10 || !len_text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: usize = len_text.parse().ok()?;
    let body = after_key.get(len_end + 1..)?;
    let value = body.get(..len)?;
    let tail = body.get(len..)?;
    let tail = tail.strip_prefix(b"\n")?;
    Some((key, value, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            yaml: "kind: Namespace\nmetadata:\n  name: ü-ns # ünïcode 🚀\n---\n".repeat(20),
            scenario: "two-namespaces".into(),
            profile: "calico-iptables".into(),
            flow: Some("app:np-test-1/a->np-test-2/b:80/TCP".into()),
            node: Some("w:np-test-1/a".into()),
            expectations: "a/b -> c/d:80 deny at np-ingress\n# comment: with colons 1:2:\n".into(),
            mesh: MeshOptions {
                root_namespace: "mesh-root".into(),
                trust_domain: "example.org".into(),
                auto_allow_waypoint_policy: true,
                ambient_dry_run: true,
                layered_waypoint_policies: true,
                sending_hbone: false,
                cni_nftables: true,
                rewrite_app_probers: false,
            },
        }
    }

    #[test]
    fn round_trip_restores_exactly() {
        let s = sample();
        let link = encode(&s);
        assert!(link.starts_with("v1."), "{link}");
        assert!(
            link.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
            "{link}"
        );
        assert_eq!(decode(&link), Ok(s.clone()));
        assert_eq!(decode(&format!("#{link}")), Ok(s));
    }

    #[test]
    fn round_trip_of_empty_and_none_fields() {
        let s = Snapshot::default();
        assert_eq!(decode(&encode(&s)), Ok(s));
    }

    #[test]
    fn compresses_repetitive_yaml() {
        let mut s = sample();
        s.yaml = s.yaml.repeat(10);
        assert!(encode(&s).len() < s.yaml.len() / 3);
    }

    #[test]
    fn padding_is_tolerated() {
        let link = encode(&sample());
        let pad = (4 - (link.len() - 3) % 4) % 4;
        let padded = format!("{link}{}", "=".repeat(pad));
        assert_eq!(decode(&padded), Ok(sample()));
    }

    #[test]
    fn crlf_is_normalised() {
        let mut s = sample();
        s.yaml = "a: 1\r\nb: 2\r\n".into();
        assert_eq!(
            decode(&encode(&s)).map(|s| s.yaml),
            Ok("a: 1\nb: 2\n".into())
        );
    }

    #[test]
    fn unknown_keys_are_skipped() {
        let mut records = String::new();
        push_record(&mut records, "future-field", "x:y\nz");
        push_record(&mut records, "yaml", "kind: Pod\n");
        let payload =
            BASE64URL.encode(miniz_oxide::deflate::compress_to_vec(records.as_bytes(), 6));
        let s = decode(&format!("v1.{payload}")).expect("decodes");
        assert_eq!(s.yaml, "kind: Pod\n");
    }

    #[test]
    fn garbage_never_panics_and_is_an_error() {
        let cases = [
            "",
            "#",
            "v1",
            "v1.",
            "v1.!!!!",
            "v1.AAAA",
            "v1.____",
            "v2.abc",
            "v99.abc",
            "x1.abc",
            "hello",
            "#section-2",
            "v.abc",
            "v1.%20",
            "v1.🚀",
        ];
        for c in cases {
            assert!(decode(c).is_err(), "{c:?} decoded");
        }
        assert_eq!(
            decode("v7.abc"),
            Err(ShareError::UnknownVersion("v7".into()))
        );
        // Valid deflate of an invalid record list.
        for records in [
            "yaml",
            "yaml:",
            "yaml:5:ab\n",
            "yaml:2:ab",
            "yaml:x:ab\n",
            "yaml:99999999999:a\n",
        ] {
            let payload =
                BASE64URL.encode(miniz_oxide::deflate::compress_to_vec(records.as_bytes(), 6));
            assert_eq!(
                decode(&format!("v1.{payload}")),
                Err(ShareError::Malformed),
                "{records}"
            );
        }
        // Invalid UTF-8 inside a record.
        let mut bytes = b"yaml:2:".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let payload = BASE64URL.encode(miniz_oxide::deflate::compress_to_vec(&bytes, 6));
        assert_eq!(decode(&format!("v1.{payload}")), Err(ShareError::Malformed));
    }

    #[test]
    fn pseudo_random_garbage_never_panics() {
        // A fixed xorshift stream: deterministic, no extra dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.#v1";
        for len in 0..400 {
            let mut s = String::from("v1.");
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(char::from(alphabet[(x % alphabet.len() as u64) as usize]));
            }
            let _ = decode(&s);
        }
        // Mutations of a valid link.
        let link = encode(&sample()).into_bytes();
        for i in 3..link.len() {
            let mut m = link.clone();
            m[i] = if m[i] == b'A' { b'B' } else { b'A' };
            let _ = decode(&String::from_utf8_lossy(&m));
            let _ = decode(&String::from_utf8_lossy(&link[..i]));
        }
    }

    #[test]
    fn zip_bomb_is_bounded() {
        let records = format!(
            "yaml:{}:{}\n",
            MAX_INFLATED + 10,
            "a".repeat(MAX_INFLATED + 10)
        );
        let payload =
            BASE64URL.encode(miniz_oxide::deflate::compress_to_vec(records.as_bytes(), 9));
        assert_eq!(decode(&format!("v1.{payload}")), Err(ShareError::TooLarge));
    }

    /// A v1 link made by this build, pinned so later builds must keep opening it.
    #[test]
    fn pinned_v1_link_still_opens() {
        let s = Snapshot {
            yaml: "kind: Namespace\nmetadata: {name: pinned}\n".into(),
            scenario: "two-namespaces".into(),
            profile: "generic".into(),
            flow: None,
            node: None,
            expectations: String::new(),
            mesh: MeshOptions::default(),
        };
        let link = encode(&s);
        assert_eq!(decode(&link), Ok(s.clone()));
        assert_eq!(decode(PINNED_V1), Ok(s));
    }

    /// A link made by the build before mesh options were shared (the ambient-probes scenario,
    /// `cilium`, a selected flow and edited expectations, from the release app's Copy link): it
    /// still opens, exactly, with the upstream mesh defaults.
    #[test]
    fn link_from_before_mesh_options_opens_with_defaults() {
        let s = decode(PINNED_V1_BEFORE_MESH).expect("an old link decodes");
        assert_eq!(s.scenario, "ambient-probes");
        assert_eq!(s.profile, "cilium");
        assert_eq!(
            s.flow.as_deref(),
            Some("app|shop/my-app[Deployment] → shop/frontend[Deployment]:80/TCP")
        );
        assert_eq!(
            s.expectations,
            "kubelet -> shop/my-app:8080 deny at np-ingress\n# old link ü\n"
        );
        assert_eq!(s.yaml, include_str!("../scenarios/ambient-probes.yaml"));
        assert_eq!(s.mesh, MeshOptions::default());
        // Re-encoding it adds the mesh records and keeps everything else.
        assert_eq!(decode(&encode(&s)), Ok(s));
    }

    #[test]
    fn mesh_options_round_trip_and_bad_values_keep_defaults() {
        let s = sample();
        assert_eq!(decode(&encode(&s)).map(|d| d.mesh), Ok(s.mesh.clone()));
        let mut records = String::new();
        push_record(&mut records, "yaml", "a: 1\n");
        push_record(&mut records, "mesh.sending_hbone", "maybe");
        push_record(&mut records, "mesh.root_namespace", "");
        push_record(&mut records, "mesh.ambient_dry_run", "true");
        push_record(&mut records, "mesh.future_flag", "true");
        let payload =
            BASE64URL.encode(miniz_oxide::deflate::compress_to_vec(records.as_bytes(), 6));
        let d = decode(&format!("v1.{payload}")).expect("decodes");
        assert_eq!(
            d.mesh,
            MeshOptions {
                ambient_dry_run: true,
                ..MeshOptions::default()
            }
        );
    }

    const PINNED_V1_BEFORE_MESH: &str = "v1.pVXNjtMwEL7nKUbKATgkbZalLUZCWhYJrYSqSl1xQRzcZNpYdWwrdretxJkH4Hm48SY8CePEbdMfYNH21Hhmvvnmx5-3vJIsG2VDFsNNNROoHCxXM5TowNR6hhYeLHAocM5X0iUFqi0ItajRWhijW-t6OdFS5Ft4bhEL2-v3-y9SuFPAA1ylCwRXYhSD8n-n45t7e5rEacgGr9OrV9fpMM2uhm9gXSIF1ae5TZvMOiElEID10BVhu7LWq0VJ3gZVYUErb4Hb8R08n6JzRNrCr2_fmxPKOhcSPVFC0s8sFDpfVUQXC5iLDQgLua7CgV45SsBdA0jgDFYqWEE44KqANXd52dibgmAu9TqNuBGfsLZCKwYPWbQUPnbMK7SG5xhV6HjBHWcRgKJTBrbUhj4kp-ZYfwzEhAimQve8p5FcYeI7ynb9jZIkOUrEjbG9fbb3aKTeeqoX0lXbhLzDZ8MpULAGc-9maUa503VLpfJFfuxwA58s9aOsFTq0nuYJssOKSDsMCB0K_iePwB4BR5QCNf_LtXJcKKp8d5KEynbeTQcrvqCjRZnXHhE3nChhr8VkWdrfexpduw6bHVjp3AGtk3VC7gxG_dEBoUZekMnaiV8D1onyIB_QdY8oIXclg56P2h4bGuijxFI84EVkl5upzpdn2Ad2T1iReU3V0s4_cUmOgP57J46iH7sCa5ydroBaCLWhiV8N_zzys-medU-1skeCki5HzZIe7nZXES9000tYEuTzLx01upg--ea1Snm_NdjEJKTJbd4YfEUkaP-qKYZLVcWdicVwqbKES5K_JEh8UiKXrmyFfh_RLTsOE43hpPQYzoqPH6cU3i2waWMSv0LVLj4BYd5JujQHQFolUdTs-BnqvbyKIpuj4rXQLLtmQXSTUE14R9iA5UKKVRV53WcD8jPmq68tqMznwx370jxCjW231F0rG_V797eTCDfUEscGGdu9lMlb6CAyf7GbrvuHSZn9VsWgZUFioZbw80cU_QY";

    const PINNED_V1: &str = "v1.NctBCoMwEAXQ_ZwiFygoCIV_CO8wJL8yaCYhCdhSeve6cfvgfTQfWGbs5glh1cxeNVIyhyYdivD1CxGquTP9RHqka7OCecE4y8Pv06W28rKDeGKjs1kUvivjwAT5Aw";
}

#[cfg(test)]
mod embed_example {
    use super::*;

    /// `static/embed-example.html` embeds a scenario through a share fragment made outside this
    /// crate (Python's zlib); it must keep opening, and keep matching the scenario file.
    #[test]
    fn embed_example_fragment_opens_the_scenario() {
        let html = include_str!("../static/embed-example.html");
        let start = html
            .find("readonly=1#v1.")
            .map(|i| i + "readonly=1#".len())
            .unwrap_or(0);
        let end = html[start..].find('"').map_or(html.len(), |i| start + i);
        let snapshot = decode(&html[start..end]).expect("the example's fragment decodes");
        assert_eq!(snapshot.scenario, "ambient-15008");
        assert_eq!(
            snapshot.yaml,
            include_str!("../scenarios/ambient-15008.yaml")
        );
        assert!(snapshot.expectations.contains("demo/client"));
    }
}
