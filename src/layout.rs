//! Topology geometry: places groups (namespaces, the nodes, external ranges) as boxes and their
//! members as fixed-size cards inside, and routes flow edges between cards. Pure and
//! deterministic (same input, same output), no Yew, no engine semantics: the caller says what
//! the groups and cards are. Units are SVG user units; the view scales them.
//!
//! Invariants (tested): cards never overlap, every card lies inside its group, groups never
//! overlap, and the picture stays within `MAX_ROW_WIDTH` wide for any number of cards.

/// Card size and spacing.
pub const NODE_W: f64 = 176.0;
pub const NODE_H: f64 = 58.0;
pub const NODE_GAP: f64 = 14.0;
pub const GROUP_PAD: f64 = 12.0;
pub const GROUP_HEADER: f64 = 24.0;
pub const GROUP_GAP: f64 = 28.0;
pub const MARGIN: f64 = 12.0;
/// Groups wrap to a new row beyond this width.
pub const MAX_ROW_WIDTH: f64 = 1000.0;
/// Space below the picture for edges that pass under cards.
pub const EDGE_ROOM: f64 = 36.0;
/// Most cards per row inside one group.
pub const MAX_COLS: usize = 4;
/// Characters that fit on a card line at the view's font size.
pub const LABEL_CHARS: usize = 22;
pub const DETAIL_CHARS: usize = 26;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    Namespace,
    /// Nodes and their kubelets.
    Infra,
    /// Addresses outside the cluster.
    External,
}

/// What to draw: a group and its members, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSpec {
    pub key: String,
    pub title: String,
    pub kind: GroupKind,
    pub nodes: Vec<NodeSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    /// Stable key (selection, edges).
    pub key: String,
    pub label: String,
    /// Second line: ports, an address.
    pub detail: String,
    /// Mesh badge text (`none`, `sidecar`, `ambient`, `waypoint`), or empty for no badge.
    pub badge: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn center(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupBox {
    pub key: String,
    pub title: String,
    pub kind: GroupKind,
    pub rect: Rect,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    pub key: String,
    /// Index into `Layout::groups`.
    pub group: usize,
    pub rect: Rect,
    /// Full texts (for hover details) and fitted texts (for the card).
    pub label: String,
    pub detail: String,
    pub badge: String,
    pub short_label: String,
    pub short_detail: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub groups: Vec<GroupBox>,
    pub nodes: Vec<NodeBox>,
}

/// A routed edge: an SVG path and where its label goes.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeGeom {
    pub d: String,
    pub label_x: f64,
    pub label_y: f64,
}

/// Places the groups in rows (left to right, wrapping at [`MAX_ROW_WIDTH`]) and their cards
/// in a grid of at most [`MAX_COLS`] columns.
pub fn layout(groups: &[GroupSpec]) -> Layout {
    layout_within(groups, MAX_ROW_WIDTH)
}

/// [`layout`] with another row width (compact embeds use a narrower one).
pub fn layout_within(groups: &[GroupSpec], max_row_width: f64) -> Layout {
    let max_row_width = max_row_width.max(2.0 * MARGIN + NODE_W + 2.0 * GROUP_PAD);
    let mut res = Layout::default();
    let mut x = MARGIN;
    let mut y = MARGIN;
    let mut row_height: f64 = 0.0;
    let mut width: f64 = 0.0;
    for spec in groups {
        let n = spec.nodes.len();
        let cols = columns(n);
        let rows = n.div_ceil(cols).max(1);
        let w = 2.0 * GROUP_PAD + cols as f64 * NODE_W + (cols as f64 - 1.0) * NODE_GAP;
        let h = GROUP_HEADER + GROUP_PAD + rows as f64 * NODE_H + (rows as f64 - 1.0) * NODE_GAP;
        if x > MARGIN && x + w > max_row_width - MARGIN {
            x = MARGIN;
            y += row_height + GROUP_GAP;
            row_height = 0.0;
        }
        let group_index = res.groups.len();
        res.groups.push(GroupBox {
            key: spec.key.clone(),
            title: fit(&spec.title, (w / 7.5) as usize),
            kind: spec.kind,
            rect: Rect { x, y, w, h },
        });
        for (i, node) in spec.nodes.iter().enumerate() {
            let (row, col) = (i / cols, i % cols);
            res.nodes.push(NodeBox {
                key: node.key.clone(),
                group: group_index,
                rect: Rect {
                    x: x + GROUP_PAD + col as f64 * (NODE_W + NODE_GAP),
                    y: y + GROUP_HEADER + row as f64 * (NODE_H + NODE_GAP),
                    w: NODE_W,
                    h: NODE_H,
                },
                short_label: fit(&node.label, LABEL_CHARS - node.badge.len().min(9)),
                short_detail: fit(&node.detail, DETAIL_CHARS),
                label: node.label.clone(),
                detail: node.detail.clone(),
                badge: node.badge.clone(),
            });
        }
        row_height = row_height.max(h);
        width = width.max(x + w);
        x += w + GROUP_GAP;
    }
    res.width = (width + MARGIN).max(2.0 * MARGIN + NODE_W);
    // Room below the last row for edges routed under the cards.
    res.height = y + row_height + MARGIN + EDGE_ROOM;
    res
}

impl Layout {
    pub fn node(&self, key: &str) -> Option<&NodeBox> {
        self.nodes.iter().find(|n| n.key == key)
    }

    /// The path of an edge between two cards. `lane` separates parallel edges between the same
    /// pair (0, 1, 2, ...). `None` when a key is unknown.
    pub fn edge(&self, from: &str, to: &str, lane: usize) -> Option<EdgeGeom> {
        let a = self.node(from)?.rect;
        let b = self.node(to)?.rect;
        let spread = lane as f64 * 10.0;
        if from == to {
            // A loop on the card's right edge.
            let (x, y) = (a.right(), a.y + a.h / 2.0);
            let r = 22.0 + spread;
            return Some(EdgeGeom {
                d: format!(
                    "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                    x,
                    y - 8.0,
                    x + r * 1.6,
                    y - r,
                    x + r * 1.6,
                    y + r,
                    x,
                    y + 8.0
                ),
                label_x: x + r * 1.25,
                label_y: y,
            });
        }
        let (ax, ay) = a.center();
        let (bx, by) = b.center();
        // Cards on one line with others between them: pass under, not through, the cards.
        if (ay - by).abs() < 1.0 && (bx - ax).abs() > NODE_W + 2.0 * NODE_GAP + 1.0 {
            let depth = 26.0 + ((bx - ax).abs() / 10.0).min(30.0) + spread;
            let (sx, ex) = (ax + spread - 12.0, bx + spread - 12.0);
            let (sy, ey) = (a.bottom(), b.bottom());
            let (c1, c2) = ((sx, sy + depth), (ex, ey + depth));
            return Some(EdgeGeom {
                d: format!(
                    "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                    sx, sy, c1.0, c1.1, c2.0, c2.1, ex, ey
                ),
                label_x: (sx + ex) / 2.0,
                label_y: sy + depth * 0.75 + 4.0,
            });
        }
        // Leave from the side facing the target; vertical neighbours use top/bottom.
        let horizontal = (bx - ax).abs() >= (by - ay).abs() * 0.8 || (bx - ax).abs() > NODE_W;
        let (p0, p3, c1, c2) = if horizontal {
            let (sx, ex) = if bx >= ax {
                (a.right(), b.x)
            } else {
                (a.x, b.right())
            };
            let bend = ((ex - sx).abs() / 2.0).max(40.0) * if bx >= ax { 1.0 } else { -1.0 };
            let (sy, ey) = (ay + spread - 6.0, by + spread - 6.0);
            ((sx, sy), (ex, ey), (sx + bend, sy), (ex - bend, ey))
        } else {
            let (sy, ey) = if by >= ay {
                (a.bottom(), b.y)
            } else {
                (a.y, b.bottom())
            };
            let bend = ((ey - sy).abs() / 2.0).max(30.0) * if by >= ay { 1.0 } else { -1.0 };
            let (sx, ex) = (ax + spread - 10.0, bx + spread - 10.0);
            ((sx, sy), (ex, ey), (sx, sy + bend), (ex, ey - bend))
        };
        let mid = |i: fn(&(f64, f64)) -> f64| (i(&p0) + 3.0 * i(&c1) + 3.0 * i(&c2) + i(&p3)) / 8.0;
        Some(EdgeGeom {
            d: format!(
                "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                p0.0, p0.1, c1.0, c1.1, c2.0, c2.1, p3.0, p3.1
            ),
            label_x: mid(|p| p.0),
            label_y: mid(|p| p.1),
        })
    }
}

/// Columns for a group of `n` cards: one row up to 3, then a near-square grid, at most
/// [`MAX_COLS`].
fn columns(n: usize) -> usize {
    match n {
        0 | 1 => 1,
        2 | 3 => n,
        4 => 2,
        _ => {
            let mut c = 1;
            while c * c < n {
                c += 1;
            }
            c.clamp(3, MAX_COLS)
        }
    }
}

/// Shortens `text` to at most `max` characters, ending with `…` when cut.
pub fn fit(text: &str, max: usize) -> String {
    let max = max.max(2);
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut res: String = text.chars().take(max - 1).collect();
    res.push('…');
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(namespaces: usize, workloads: usize) -> Vec<GroupSpec> {
        let mut groups: Vec<GroupSpec> = (0..namespaces)
            .map(|i| GroupSpec {
                key: format!("ns:{i}"),
                title: format!("namespace-{i}"),
                kind: GroupKind::Namespace,
                nodes: Vec::new(),
            })
            .collect();
        for w in 0..workloads {
            let g = &mut groups[w % namespaces];
            g.nodes.push(NodeSpec {
                key: format!("w:{}/{w}", g.key),
                label: format!("workload-with-a-long-name-{w}"),
                detail: "8080/TCP 9090/TCP 15008/TCP".into(),
                badge: "ambient".into(),
            });
        }
        groups.push(GroupSpec {
            key: "infra".into(),
            title: "nodes".into(),
            kind: GroupKind::Infra,
            nodes: vec![NodeSpec {
                key: "node:n1".into(),
                label: "n1 + kubelet".into(),
                detail: "10.0.0.11".into(),
                badge: String::new(),
            }],
        });
        groups
    }

    fn check_invariants(l: &Layout) {
        for (i, a) in l.nodes.iter().enumerate() {
            assert!(
                l.groups[a.group].rect.contains(&a.rect),
                "{} outside its group",
                a.key
            );
            for b in &l.nodes[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{} overlaps {}", a.key, b.key);
            }
            assert!(a.short_label.chars().count() <= LABEL_CHARS);
            assert!(a.short_detail.chars().count() <= DETAIL_CHARS);
        }
        for (i, a) in l.groups.iter().enumerate() {
            for b in &l.groups[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{} overlaps {}", a.key, b.key);
            }
            assert!(a.rect.right() <= l.width && a.rect.bottom() <= l.height);
        }
    }

    #[test]
    fn invariants_hold_from_2_to_40_workloads() {
        for namespaces in 1..=8 {
            for workloads in 2..=40 {
                let l = layout(&spec(namespaces, workloads));
                check_invariants(&l);
                assert!(
                    l.width <= MAX_ROW_WIDTH,
                    "{namespaces}/{workloads}: {}",
                    l.width
                );
                // Readable: no taller than a few screens even for 40 cards.
                assert!(l.height <= 1800.0, "{namespaces}/{workloads}: {}", l.height);
            }
        }
    }

    #[test]
    fn small_scenarios_are_compact() {
        let l = layout(&spec(2, 2));
        // Two namespaces and the node group fit on one row.
        assert!(
            l.groups.iter().all(|g| g.rect.y == MARGIN),
            "{:?}",
            l.groups
        );
        assert!(l.height < 200.0);
    }

    #[test]
    fn narrower_rows_wrap_sooner_and_keep_invariants() {
        for workloads in [2, 9, 40] {
            let l = layout_within(&spec(4, workloads), 640.0);
            check_invariants(&l);
            assert!(l.width <= 640.0 + NODE_W, "{}", l.width);
        }
    }

    #[test]
    fn deterministic() {
        assert_eq!(layout(&spec(3, 17)), layout(&spec(3, 17)));
    }

    #[test]
    fn empty_and_single() {
        let l = layout(&[]);
        assert!(l.nodes.is_empty() && l.width > 0.0);
        let l = layout(&spec(1, 1));
        check_invariants(&l);
    }

    #[test]
    fn edges_connect_known_cards_only() {
        let l = layout(&spec(2, 4));
        let a = &l.nodes[0].key;
        let b = &l.nodes[1].key;
        let e = l.edge(a, b, 0).expect("edge");
        assert!(e.d.starts_with('M'));
        assert!(l.edge(a, b, 1).expect("lane 1").d != e.d);
        assert!(l.edge(a, a, 0).is_some());
        assert!(l.edge(a, "nope", 0).is_none());
        assert!(e.label_x.is_finite() && e.label_y.is_finite());
    }

    #[test]
    fn fit_cuts_on_chars() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("ünïcödé-namé", 5), "ünïc…");
        assert_eq!(fit("abc", 0), "a…");
    }
}
