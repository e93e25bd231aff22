//! MariaDB GTIDs: `domain-server-seq`. A replication position holds one GTID per domain
//! (`gtid_slave_pos`, `@slave_connect_state`); a binlog state (GTID_LIST events,
//! `gtid_binlog_state`) may hold one per domain and server.

use super::GtidError;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MariaGtid {
    pub domain: u32,
    pub server: u32,
    pub seq: u64,
}

impl MariaGtid {
    pub fn parse(text: &str) -> Result<MariaGtid, GtidError> {
        let err = |reason| GtidError::Syntax { text: text.to_string(), at: 0, reason };
        let t = text.trim();
        let mut it = t.splitn(3, '-');
        let mut next = |what| it.next().ok_or_else(|| err(what));
        let d = next("missing domain")?.parse().map_err(|_| err("bad domain"))?;
        let s = next("missing server id")?.parse().map_err(|_| err("bad server id"))?;
        let q = next("missing sequence number")?.parse().map_err(|_| err("bad sequence number"))?;
        Ok(MariaGtid { domain: d, server: s, seq: q })
    }
}

impl fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}

/// A replication position: the last GTID applied in each domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MariaGtidPos {
    domains: BTreeMap<u32, MariaGtid>,
}

impl MariaGtidPos {
    pub fn new() -> Self {
        MariaGtidPos::default()
    }

    /// Parses `0-1-42,1-2-7`. Two GTIDs in one domain are an error, as in MariaDB.
    pub fn parse(text: &str) -> Result<MariaGtidPos, GtidError> {
        let mut out = MariaGtidPos::new();
        if text.trim().is_empty() {
            return Ok(out);
        }
        let mut at = 0;
        for part in text.split(',') {
            let g = MariaGtid::parse(part).map_err(|e| match e {
                GtidError::Syntax { reason, .. } => GtidError::Syntax { text: text.to_string(), at, reason },
                other => other,
            })?;
            if out.domains.insert(g.domain, g).is_some() {
                return Err(GtidError::Syntax { text: text.to_string(), at, reason: "two GTIDs in one domain" });
            }
            at += part.len() + 1;
        }
        Ok(out)
    }

    pub fn get(&self, domain: u32) -> Option<&MariaGtid> {
        self.domains.get(&domain)
    }

    pub fn iter(&self) -> impl Iterator<Item = &MariaGtid> {
        self.domains.values()
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// Forgets `domain`'s position.
    pub fn remove(&mut self, domain: u32) -> Option<MariaGtid> {
        self.domains.remove(&domain)
    }

    /// Records that `gtid` was applied: it becomes its domain's position.
    pub fn update(&mut self, gtid: MariaGtid) {
        self.domains.insert(gtid.domain, gtid);
    }

    /// Whether a replica at this position has already applied `gtid` (same domain, sequence
    /// number not above the position's).
    pub fn contains(&self, gtid: &MariaGtid) -> bool {
        self.domains.get(&gtid.domain).is_some_and(|p| p.seq >= gtid.seq)
    }

    /// Per domain, the GTID with the higher sequence number.
    pub fn union(&self, other: &MariaGtidPos) -> MariaGtidPos {
        let mut out = self.clone();
        for g in other.domains.values() {
            match out.domains.get(&g.domain) {
                Some(mine) if mine.seq >= g.seq => {}
                _ => {
                    out.domains.insert(g.domain, *g);
                }
            }
        }
        out
    }

    /// Whether every domain of `self` is at or behind `other` in that domain.
    pub fn is_behind_or_equal(&self, other: &MariaGtidPos) -> bool {
        self.domains.values().all(|g| other.contains(g))
    }

    /// The next GTID a primary with this position writes in `domain` as `server`.
    pub fn next_gtid(&self, domain: u32, server: u32) -> MariaGtid {
        let seq = self.domains.get(&domain).map_or(1, |g| g.seq + 1);
        MariaGtid { domain, server, seq }
    }
}

impl fmt::Display for MariaGtidPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.domains.values().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{g}")?;
        }
        Ok(())
    }
}

impl FromIterator<MariaGtid> for MariaGtidPos {
    /// The last GTID of each domain wins.
    fn from_iter<I: IntoIterator<Item = MariaGtid>>(iter: I) -> Self {
        let mut out = MariaGtidPos::new();
        for g in iter {
            out.update(g);
        }
        out
    }
}
