//! IPv4 address intervals and the external-address partition netpol-analyzer prints
//! (conformance README "External IP ranges"): every `ipBlock` (`cidr` minus `except`) becomes
//! intervals, and all their boundaries cut `0.0.0.0-255.255.255.255` into disjoint ranges.
//!
//! IPv4 only: IPv6 blocks contribute nothing (they can match no IPv4 address). Knows nothing about
//! which policies or rules the blocks come from.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::IpNet;

/// An inclusive IPv4 interval `start..=end` (`start <= end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Range {
    pub start: u32,
    pub end: u32,
}

impl Ipv4Range {
    /// The whole IPv4 space.
    pub const ALL: Ipv4Range = Ipv4Range {
        start: 0,
        end: u32::MAX,
    };

    pub fn new(start: Ipv4Addr, end: Ipv4Addr) -> Option<Ipv4Range> {
        let (start, end) = (u32::from(start), u32::from(end));
        (start <= end).then_some(Ipv4Range { start, end })
    }

    pub fn first(self) -> Ipv4Addr {
        Ipv4Addr::from(self.start)
    }

    pub fn last(self) -> Ipv4Addr {
        Ipv4Addr::from(self.end)
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        (self.start..=self.end).contains(&u32::from(ip))
    }

    /// netpol-analyzer's peer name: `a.b.c.d-w.x.y.z[External]` (always both ends).
    pub fn external_name(self) -> String {
        format!("{self}[External]")
    }
}

/// `a.b.c.d-w.x.y.z`.
impl fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first(), self.last())
    }
}

/// The interval a CIDR covers; `None` for IPv6.
pub fn cidr_range(net: &IpNet) -> Option<Ipv4Range> {
    match net {
        IpNet::V4(v4) => Some(Ipv4Range {
            start: u32::from(v4.network()),
            end: u32::from(v4.broadcast()),
        }),
        IpNet::V6(_) => None,
    }
}

/// `cidr` minus every `except`, as sorted disjoint intervals (§1.3 rule 16). An `except` outside
/// `cidr` (rejected by validation) removes only its overlap. IPv6 `cidr` gives nothing.
pub fn block_ranges(cidr: &IpNet, except: &[IpNet]) -> Vec<Ipv4Range> {
    let Some(whole) = cidr_range(cidr) else {
        return Vec::new();
    };
    let mut holes: Vec<Ipv4Range> = except.iter().filter_map(cidr_range).collect();
    holes.sort_unstable();
    let mut res = Vec::new();
    // Next address not yet covered or removed; u64 so `end + 1` cannot overflow.
    let mut next = u64::from(whole.start);
    for hole in holes {
        let (hs, he) = (u64::from(hole.start), u64::from(hole.end));
        if he < next || hs > u64::from(whole.end) {
            continue;
        }
        if hs > next {
            res.push(Ipv4Range {
                start: next as u32,
                end: (hs - 1) as u32,
            });
        }
        next = next.max(he + 1);
    }
    if next <= u64::from(whole.end) {
        res.push(Ipv4Range {
            start: next as u32,
            end: whole.end,
        });
    }
    res
}

/// True when `ip` is in `cidr` and in none of `except`.
pub fn block_contains(cidr: &IpNet, except: &[IpNet], ip: Ipv4Addr) -> bool {
    let inside = |net: &IpNet| cidr_range(net).is_some_and(|r| r.contains(ip));
    inside(cidr) && !except.iter().any(inside)
}

/// Cut the whole IPv4 space at every boundary of `ranges`: returns disjoint, contiguous ranges
/// covering `0.0.0.0-255.255.255.255` in ascending order, such that each input range is a union
/// of output ranges. No input gives the single whole range.
pub fn partition(ranges: impl IntoIterator<Item = Ipv4Range>) -> Vec<Ipv4Range> {
    // Every cut point is the first address of a new output range.
    let mut cuts: Vec<u64> = vec![0];
    for r in ranges {
        cuts.push(u64::from(r.start));
        cuts.push(u64::from(r.end) + 1);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let top = u64::from(u32::MAX) + 1;
    let mut res = Vec::with_capacity(cuts.len());
    for (i, &start) in cuts.iter().enumerate() {
        if start >= top {
            break;
        }
        let end = cuts.get(i + 1).copied().unwrap_or(top).min(top) - 1;
        res.push(Ipv4Range {
            start: start as u32,
            end: end as u32,
        });
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("test cidr")
    }
    fn names(v: &[Ipv4Range]) -> Vec<String> {
        v.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn block_minus_except() {
        let r = block_ranges(&net("172.17.0.0/16"), &[net("172.17.1.0/24")]);
        assert_eq!(
            names(&r),
            ["172.17.0.0-172.17.0.255", "172.17.2.0-172.17.255.255"]
        );
        let r = block_ranges(&net("0.0.0.0/0"), &[net("0.0.0.0/0")]);
        assert!(r.is_empty());
        let r = block_ranges(
            &net("10.0.0.0/8"),
            &[
                net("10.255.255.255/32"),
                net("10.0.0.0/32"),
                net("10.0.0.0/31"),
            ],
        );
        assert_eq!(names(&r), ["10.0.0.2-10.255.255.254"]);
        assert!(block_ranges(&net("::/0"), &[]).is_empty());
        assert!(block_contains(
            &net("172.17.0.0/16"),
            &[net("172.17.1.0/24")],
            Ipv4Addr::new(172, 17, 2, 5)
        ));
        assert!(!block_contains(
            &net("172.17.0.0/16"),
            &[net("172.17.1.0/24")],
            Ipv4Addr::new(172, 17, 1, 5)
        ));
    }

    #[test]
    fn partition_cuts_everything() {
        assert_eq!(names(&partition([])), ["0.0.0.0-255.255.255.255"]);
        let p = partition(block_ranges(&net("10.0.0.0/8"), &[net("10.1.0.0/16")]));
        assert_eq!(
            names(&p),
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0-10.0.255.255",
                "10.1.0.0-10.1.255.255",
                "10.2.0.0-10.255.255.255",
                "11.0.0.0-255.255.255.255"
            ]
        );
        let p = partition([Ipv4Range::ALL]);
        assert_eq!(names(&p), ["0.0.0.0-255.255.255.255"]);
        let p = partition(block_ranges(&net("49.50.0.0/32"), &[]));
        assert_eq!(
            names(&p),
            [
                "0.0.0.0-49.49.255.255",
                "49.50.0.0-49.50.0.0",
                "49.50.0.1-255.255.255.255"
            ]
        );
        assert_eq!(p[1].external_name(), "49.50.0.0-49.50.0.0[External]");
    }
}
