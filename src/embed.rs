//! Embed mode: what `?embed=1&panes=editor,topology&readonly=1` asks for, and the iframe
//! snippet that produces such a URL. Pure: the app reads `location.search` and passes it in.
//!
//! Invariant (enforced in `app.rs`/`storage.rs`): in embed mode nothing touches browser storage.

/// A pane the page can show. The order here is the order they are laid out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pane {
    Editor,
    Diagnostics,
    Topology,
    Matrix,
    Trace,
    Expectations,
    Scenario,
    Settings,
    Summary,
}

impl Pane {
    pub const ALL: [Pane; 9] = [
        Pane::Editor,
        Pane::Diagnostics,
        Pane::Topology,
        Pane::Matrix,
        Pane::Trace,
        Pane::Expectations,
        Pane::Scenario,
        Pane::Settings,
        Pane::Summary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Pane::Editor => "editor",
            Pane::Diagnostics => "diagnostics",
            Pane::Topology => "topology",
            Pane::Matrix => "matrix",
            Pane::Trace => "trace",
            Pane::Expectations => "expectations",
            Pane::Scenario => "scenario",
            Pane::Settings => "settings",
            Pane::Summary => "summary",
        }
    }

    pub fn parse(s: &str) -> Option<Pane> {
        Pane::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The embed flags of the page URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedFlags {
    pub enabled: bool,
    /// Panes to show, in layout order, no duplicates. Never empty when `enabled`.
    pub panes: Vec<Pane>,
    pub readonly: bool,
    /// `scenario=<id>`: start from a library scenario (when no fragment is given).
    pub scenario: Option<String>,
}

impl Default for EmbedFlags {
    fn default() -> EmbedFlags {
        EmbedFlags {
            enabled: false,
            panes: Pane::ALL.to_vec(),
            readonly: false,
            scenario: None,
        }
    }
}

/// Panes an embed shows when `panes=` is missing or names nothing known.
pub const DEFAULT_EMBED_PANES: [Pane; 3] = [Pane::Editor, Pane::Diagnostics, Pane::Topology];

impl EmbedFlags {
    /// Reads a query string (`?a=b&c=d`, leading `?` optional). Unknown keys and panes are ignored.
    pub fn from_query(query: &str) -> EmbedFlags {
        let mut res = EmbedFlags::default();
        let mut panes: Option<Vec<Pane>> = None;
        let query = query.strip_prefix('?').unwrap_or(query);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match percent_decode(key).as_str() {
                "embed" => res.enabled = truthy(&value),
                "readonly" => res.readonly = truthy(&value),
                "panes" => {
                    let mut list: Vec<Pane> = value
                        .split(',')
                        .filter_map(|p| Pane::parse(p.trim()))
                        .collect();
                    list.sort();
                    list.dedup();
                    panes = Some(list);
                }
                "scenario" if !value.is_empty() => res.scenario = Some(value),
                _ => (),
            }
        }
        if res.enabled {
            res.panes = match panes {
                Some(list) if !list.is_empty() => list,
                _ => DEFAULT_EMBED_PANES.to_vec(),
            };
        } else {
            res.readonly = false;
        }
        res
    }

    pub fn shows(&self, pane: Pane) -> bool {
        self.panes.contains(&pane)
    }

    /// The query string for these flags (`?embed=1&panes=...`), for snippets.
    pub fn to_query(&self) -> String {
        let panes: Vec<&str> = self.panes.iter().map(|p| p.as_str()).collect();
        let mut res = format!("?embed=1&panes={}", panes.join(","));
        if self.readonly {
            res.push_str("&readonly=1");
        }
        res
    }
}

/// The `<iframe>` HTML for embedding `page_url` (no query, no fragment) with the given flags
/// and share fragment (`v1....`). Attribute values are escaped.
pub fn iframe_snippet(page_url: &str, flags: &EmbedFlags, fragment: &str, title: &str) -> String {
    let src = format!("{page_url}{}#{fragment}", flags.to_query());
    format!(
        "<iframe src=\"{}\" title=\"{}\" width=\"100%\" height=\"520\" loading=\"lazy\" \
         style=\"border:1px solid #d8dce3;border-radius:6px\"></iframe>",
        escape_attr(&src),
        escape_attr(&format!("Policy Playground: {title}")),
    )
}

fn truthy(v: &str) -> bool {
    matches!(v, "1" | "true" | "yes" | "on" | "")
}

fn escape_attr(s: &str) -> String {
    let mut res = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => res.push_str("&amp;"),
            '"' => res.push_str("&quot;"),
            '<' => res.push_str("&lt;"),
            '>' => res.push_str("&gt;"),
            _ => res.push(c),
        }
    }
    res
}

/// `%XX` and `+` decoding; invalid escapes are kept literally, invalid UTF-8 is replaced.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'+' {
            out.push(b' ');
        } else if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(b);
        } else {
            out.push(b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_query_is_the_full_app() {
        let f = EmbedFlags::from_query("");
        assert!(!f.enabled && !f.readonly);
        assert_eq!(f.panes, Pane::ALL.to_vec());
    }

    #[test]
    fn embed_with_panes_and_readonly() {
        let f = EmbedFlags::from_query("?embed=1&panes=topology,editor,bogus,editor&readonly=1");
        assert!(f.enabled && f.readonly);
        assert_eq!(f.panes, vec![Pane::Editor, Pane::Topology]);
        let f = EmbedFlags::from_query("embed=true&panes=matrix%2Ctrace");
        assert_eq!(f.panes, vec![Pane::Matrix, Pane::Trace]);
        assert!(!f.readonly);
    }

    #[test]
    fn embed_without_known_panes_gets_defaults() {
        assert_eq!(
            EmbedFlags::from_query("embed=1&panes=nope").panes,
            DEFAULT_EMBED_PANES.to_vec()
        );
        assert_eq!(
            EmbedFlags::from_query("embed").panes,
            DEFAULT_EMBED_PANES.to_vec()
        );
    }

    #[test]
    fn readonly_needs_embed() {
        assert!(!EmbedFlags::from_query("readonly=1").readonly);
        assert!(!EmbedFlags::from_query("embed=0&readonly=1").enabled);
    }

    #[test]
    fn garbage_query_is_harmless() {
        for q in [
            "%",
            "%%%",
            "embed=%zz",
            "&&&",
            "=",
            "panes=,,,",
            "embed=1&panes=%E2%82",
        ] {
            let _ = EmbedFlags::from_query(q);
        }
        assert_eq!(
            EmbedFlags::from_query("scenario=ambient-15008")
                .scenario
                .as_deref(),
            Some("ambient-15008")
        );
    }

    #[test]
    fn snippet_escapes_and_round_trips_flags() {
        let f = EmbedFlags::from_query("embed=1&panes=editor,topology&readonly=1");
        let html = iframe_snippet("https://x.test/pp/", &f, "v1.abc", "A \"quoted\" <title>");
        assert!(html.starts_with("<iframe src=\"https://x.test/pp/?embed=1&amp;panes=editor,topology&amp;readonly=1#v1.abc\""), "{html}");
        assert!(html.contains("A &quot;quoted&quot; &lt;title&gt;"));
        assert_eq!(EmbedFlags::from_query(&f.to_query()), f);
    }
}
