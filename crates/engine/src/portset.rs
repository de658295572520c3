//! Sets of `(protocol, port)` pairs: per protocol (SCTP, TCP, UDP), sorted disjoint inclusive
//! port intervals within `1..=65535`. Set algebra never loops over individual ports.
//!
//! Displays in netpol-analyzer's connection form (`All Connections`, `TCP 8080,9090,UDP 53`;
//! conformance README "Connections") and parses that form back. Knows nothing about policies.

use std::fmt;
use std::str::FromStr;

use crate::model::Protocol;

/// Lowest and highest port a set can hold.
pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = 65535;

/// An inclusive port interval `start..=end` with `MIN_PORT <= start <= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

/// A set of `(protocol, port)` pairs.
///
/// INVARIANT: each protocol's intervals are sorted, non-empty, within `1..=65535`, disjoint and
/// non-adjacent (`a.end + 1 < b.start`), so equal sets are structurally equal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    /// Indexed by [`proto_index`]: SCTP, TCP, UDP (display order).
    by_proto: [Vec<PortRange>; 3],
}

fn proto_index(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Sctp => 0,
        Protocol::Tcp => 1,
        Protocol::Udp => 2,
    }
}

const FULL: PortRange = PortRange {
    start: MIN_PORT,
    end: MAX_PORT,
};

impl PortSet {
    /// The empty set (`No Connections`).
    pub fn empty() -> PortSet {
        PortSet::default()
    }

    /// Every port of every protocol (`All Connections`).
    pub fn all() -> PortSet {
        PortSet {
            by_proto: [vec![FULL], vec![FULL], vec![FULL]],
        }
    }

    /// Every port of one protocol.
    pub fn all_of(protocol: Protocol) -> PortSet {
        PortSet::range(protocol, MIN_PORT, MAX_PORT)
    }

    /// One port. Port 0 gives the empty set.
    pub fn single(protocol: Protocol, port: u16) -> PortSet {
        PortSet::range(protocol, port, port)
    }

    /// `start..=end`, clamped to `1..=65535`; empty when `end < start` (or both are 0).
    pub fn range(protocol: Protocol, start: u16, end: u16) -> PortSet {
        let mut res = PortSet::empty();
        let start = start.max(MIN_PORT);
        if start <= end {
            if let Some(v) = res.by_proto.get_mut(proto_index(protocol)) {
                v.push(PortRange { start, end });
            }
        }
        res
    }

    /// The intervals of one protocol, ascending.
    pub fn ranges(&self, protocol: Protocol) -> &[PortRange] {
        self.by_proto
            .get(proto_index(protocol))
            .map_or(&[], |v| v.as_slice())
    }

    pub fn is_empty(&self) -> bool {
        self.by_proto.iter().all(|v| v.is_empty())
    }

    pub fn is_all(&self) -> bool {
        self.by_proto.iter().all(|v| v.as_slice() == [FULL])
    }

    /// True when the protocol's every port is in the set.
    pub fn covers_protocol(&self, protocol: Protocol) -> bool {
        self.ranges(protocol) == [FULL]
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        let ranges = self.ranges(protocol);
        // First range whose end is >= port.
        let i = ranges.partition_point(|r| r.end < port);
        ranges.get(i).is_some_and(|r| r.start <= port)
    }

    /// True when every pair of `self` is in `other`.
    pub fn is_subset(&self, other: &PortSet) -> bool {
        self.difference(other).is_empty()
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        self.zip(other, union_ranges)
    }

    pub fn intersection(&self, other: &PortSet) -> PortSet {
        self.zip(other, intersect_ranges)
    }

    /// `self \ other`.
    pub fn difference(&self, other: &PortSet) -> PortSet {
        self.zip(other, |a, b| intersect_ranges(a, &complement_ranges(b)))
    }

    /// In-place union.
    pub fn add(&mut self, other: &PortSet) {
        *self = self.union(other);
    }

    fn zip(
        &self,
        other: &PortSet,
        f: impl Fn(&[PortRange], &[PortRange]) -> Vec<PortRange>,
    ) -> PortSet {
        let [a0, a1, a2] = &self.by_proto;
        let [b0, b1, b2] = &other.by_proto;
        PortSet {
            by_proto: [f(a0, b0), f(a1, b1), f(a2, b2)],
        }
    }
}

/// Merge two normalised interval lists (sorted, disjoint, non-adjacent) into one.
fn union_ranges(a: &[PortRange], b: &[PortRange]) -> Vec<PortRange> {
    let mut all: Vec<PortRange> = a.iter().chain(b.iter()).copied().collect();
    all.sort_unstable();
    let mut res: Vec<PortRange> = Vec::with_capacity(all.len());
    for r in all {
        match res.last_mut() {
            // Overlapping or adjacent: extend. `u32` so `end + 1` cannot overflow.
            Some(last) if u32::from(r.start) <= u32::from(last.end) + 1 => {
                last.end = last.end.max(r.end)
            }
            _ => res.push(r),
        }
    }
    res
}

fn intersect_ranges(a: &[PortRange], b: &[PortRange]) -> Vec<PortRange> {
    let mut res = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        let start = x.start.max(y.start);
        let end = x.end.min(y.end);
        if start <= end {
            res.push(PortRange { start, end });
        }
        if x.end < y.end {
            i += 1;
        } else {
            j += 1;
        }
    }
    res
}

fn complement_ranges(a: &[PortRange]) -> Vec<PortRange> {
    let mut res = Vec::with_capacity(a.len() + 1);
    let mut next: u32 = u32::from(MIN_PORT);
    for r in a {
        if u32::from(r.start) > next {
            res.push(PortRange {
                start: next as u16,
                end: r.start - 1,
            });
        }
        next = u32::from(r.end) + 1;
    }
    if next <= u32::from(MAX_PORT) {
        res.push(PortRange {
            start: next as u16,
            end: MAX_PORT,
        });
    }
    res
}

/// netpol-analyzer's form: `All Connections`, `No Connections`, or groups
/// `PROTO p1,p2-p3` in the order SCTP, TCP, UDP, joined by bare commas.
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut first = true;
        for protocol in Protocol::ALL {
            let ranges = self.ranges(protocol);
            if ranges.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{} ", protocol.as_str())?;
            for (i, r) in ranges.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if r.start == r.end {
                    write!(f, "{}", r.start)?;
                } else {
                    write!(f, "{}-{}", r.start, r.end)?;
                }
            }
        }
        Ok(())
    }
}

/// Error from parsing a connection string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsePortSetError(pub String);

impl fmt::Display for ParsePortSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid connection string: {}", self.0)
    }
}

impl std::error::Error for ParsePortSetError {}

/// Parses the [`Display`](fmt::Display) form. Tolerant of spaces after commas and of groups in
/// any order; ranges are merged.
impl FromStr for PortSet {
    type Err = ParsePortSetError;

    fn from_str(s: &str) -> Result<PortSet, ParsePortSetError> {
        let s = s.trim();
        if s == "All Connections" {
            return Ok(PortSet::all());
        }
        if s == "No Connections" || s.is_empty() {
            return Ok(PortSet::empty());
        }
        let err = || ParsePortSetError(s.to_string());
        let mut res = PortSet::empty();
        let mut protocol: Option<Protocol> = None;
        for item in s.split(',') {
            let item = item.trim();
            let ports = match item.split_once(' ') {
                Some((name, rest)) => {
                    protocol = Some(Protocol::parse(name.trim()).ok_or_else(err)?);
                    rest.trim()
                }
                None => item,
            };
            let protocol = protocol.ok_or_else(err)?;
            let (start, end) = match ports.split_once('-') {
                Some((a, b)) => (
                    a.trim().parse::<u16>().map_err(|_| err())?,
                    b.trim().parse::<u16>().map_err(|_| err())?,
                ),
                None => {
                    let p = ports.parse::<u16>().map_err(|_| err())?;
                    (p, p)
                }
            };
            if start == 0 || end < start {
                return Err(err());
            }
            res.add(&PortSet::range(protocol, start, end));
        }
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Protocol::{Sctp, Tcp, Udp};

    #[test]
    fn display_forms() {
        assert_eq!(PortSet::all().to_string(), "All Connections");
        assert_eq!(PortSet::empty().to_string(), "No Connections");
        let s = PortSet::single(Tcp, 9090)
            .union(&PortSet::single(Tcp, 8080))
            .union(&PortSet::single(Udp, 53));
        assert_eq!(s.to_string(), "TCP 8080,9090,UDP 53");
        let s = PortSet::all().difference(&PortSet::single(Tcp, 80));
        assert_eq!(s.to_string(), "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535");
        let s = PortSet::range(Tcp, 8080, 8090).union(&PortSet::single(Sctp, 7));
        assert_eq!(s.to_string(), "SCTP 7,TCP 8080-8090");
    }

    #[test]
    fn parse_round_trips() {
        for text in [
            "All Connections",
            "TCP 8080,9090,UDP 53",
            "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535",
            "SCTP 8956,9090",
        ] {
            let set: PortSet = text.parse().expect("valid");
            assert_eq!(set.to_string(), text);
        }
        // A full cover of all protocols is All Connections.
        let set: PortSet = "SCTP 1-65535,TCP 1-65535,UDP 1-65535"
            .parse()
            .expect("valid");
        assert!(set.is_all());
        assert!("TCP".parse::<PortSet>().is_err());
        assert!("ICMP 1".parse::<PortSet>().is_err());
        assert!("TCP 0".parse::<PortSet>().is_err());
    }

    #[test]
    fn adjacent_ranges_merge() {
        let s = PortSet::range(Tcp, 1, 10).union(&PortSet::range(Tcp, 11, 20));
        assert_eq!(s.ranges(Tcp), &[PortRange { start: 1, end: 20 }]);
        assert!(PortSet::range(Tcp, 5, 4).is_empty());
        assert!(PortSet::single(Tcp, 0).is_empty());
        assert!(PortSet::range(Tcp, 65535, 65535).contains(Tcp, 65535));
    }

    /// Tiny deterministic PRNG (xorshift64*) so property tests need no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Random sets over a small port window (plus sometimes a full protocol) so overlaps are
    /// frequent; the naive reference is a bitset over the same window.
    const WINDOW: u16 = 40;

    fn random_set(rng: &mut Rng) -> PortSet {
        let mut s = PortSet::empty();
        for _ in 0..rng.below(5) {
            let protocol = Protocol::ALL[rng.below(3) as usize];
            if rng.below(10) == 0 {
                s.add(&PortSet::all_of(protocol));
            } else {
                let a = 1 + rng.below(u64::from(WINDOW)) as u16;
                let b = a + rng.below(6) as u16;
                s.add(&PortSet::range(protocol, a, b));
            }
        }
        s
    }

    /// Bitset reference: ports 1..=WINDOW+6 plus a probe of the far range (65535).
    fn naive(s: &PortSet) -> Vec<bool> {
        let mut v = Vec::new();
        for protocol in Protocol::ALL {
            for port in (1..=WINDOW + 6).chain([1000, 65535]) {
                v.push(s.contains(protocol, port));
            }
        }
        v
    }

    fn check_invariant(s: &PortSet) {
        for protocol in Protocol::ALL {
            let r = s.ranges(protocol);
            for w in r.windows(2) {
                assert!(
                    u32::from(w[0].end) + 1 < u32::from(w[1].start),
                    "not normalised: {r:?}"
                );
            }
            for x in r {
                assert!(x.start >= 1 && x.start <= x.end);
            }
        }
    }

    #[test]
    fn algebra_matches_naive_bitset() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let (a, b, c) = (
                random_set(&mut rng),
                random_set(&mut rng),
                random_set(&mut rng),
            );
            let (na, nb) = (naive(&a), naive(&b));
            let u = a.union(&b);
            let i = a.intersection(&b);
            let d = a.difference(&b);
            for s in [&u, &i, &d] {
                check_invariant(s);
            }
            let zip = |f: fn(bool, bool) -> bool| {
                na.iter()
                    .zip(&nb)
                    .map(|(x, y)| f(*x, *y))
                    .collect::<Vec<_>>()
            };
            assert_eq!(naive(&u), zip(|x, y| x || y));
            assert_eq!(naive(&i), zip(|x, y| x && y));
            assert_eq!(naive(&d), zip(|x, y| x && !y));
            // Laws.
            assert_eq!(u, b.union(&a));
            assert_eq!(i, b.intersection(&a));
            assert_eq!(a.union(&b.union(&c)), a.union(&b).union(&c));
            assert_eq!(a.intersection(&b.union(&c)), i.union(&a.intersection(&c)));
            assert_eq!(d.union(&i), a);
            assert!(d.intersection(&b).is_empty());
            assert!(i.is_subset(&a) && a.is_subset(&u));
            assert_eq!(PortSet::all().difference(&PortSet::all().difference(&a)), a);
            assert_eq!(a.to_string().parse::<PortSet>().ok(), Some(a.clone()));
        }
    }
}
