//! MySQL GTID sets: `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,...`, with MySQL 8.4+ tags
//! (`uuid:tag:1-5`, or `uuid:1-5:tag:1-3` for both in one entry).
//!
//! Text in, canonical text out (lower case, UUIDs sorted, untagged before tagged, tags sorted,
//! ranges merged); binary in the two encodings of PREVIOUS_GTIDS and COM_BINLOG_DUMP_GTID.

use super::interval::IntervalSet;
use super::varint;
use super::GtidError;
use crate::codec::Reader;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case), or 32 hex digits.
    pub fn parse(s: &str) -> Option<Uuid> {
        let hex: Vec<u8> = match s.len() {
            36 => {
                let b = s.as_bytes();
                if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
                    return None;
                }
                b.iter().copied().filter(|&c| c != b'-').collect()
            }
            32 => s.as_bytes().to_vec(),
            _ => return None,
        };
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for i in 0..16 {
            let hi = (hex[2 * i] as char).to_digit(16)?;
            let lo = (hex[2 * i + 1] as char).to_digit(16)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Some(Uuid(out))
    }

    /// binraft's stable server UUID for a server_id: `xxxxxxxx-0000-4000-8000-xxxxxxxxxxxx`, the
    /// id in the first and last groups. What it answers for @@server_uuid and sends upstream as
    /// @slave_uuid, the same across restarts.
    pub fn of_server_id(id: u32) -> Uuid {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&id.to_be_bytes());
        b[6] = 0x40;
        b[8] = 0x80;
        b[12..16].copy_from_slice(&id.to_be_bytes());
        Uuid(b)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = crate::codec::hex(&self.0);
        write!(f, "{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    }
}

/// A GTID tag (MySQL 8.4+): up to 32 characters of `[a-z0-9_]`, not starting with a digit; empty
/// for an untagged GTID. Stored in lower case, as MySQL normalises it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tag(String);

impl Tag {
    pub const MAX_LEN: usize = 32;

    pub fn parse(s: &str) -> Option<Tag> {
        let t = s.to_ascii_lowercase();
        let ok = t.len() <= Self::MAX_LEN
            && t.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
            && !t.starts_with(|c: char| c.is_ascii_digit());
        ok.then_some(Tag(t))
    }

    pub fn untagged() -> Tag {
        Tag(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_untagged(&self) -> bool {
        self.0.is_empty()
    }
}

/// One MySQL GTID: `uuid[:tag]:gno`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gtid {
    pub uuid: Uuid,
    pub tag: Tag,
    pub gno: u64,
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tag.is_untagged() {
            write!(f, "{}:{}", self.uuid, self.gno)
        } else {
            write!(f, "{}:{}:{}", self.uuid, self.tag.0, self.gno)
        }
    }
}

/// Which binary layout a set was read from, so that it can be written back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryFormat {
    /// `n_sids` as 8 bytes, no tags (MySQL 5.6 to 8.3).
    #[default]
    Untagged,
    /// Format byte 1, `n_sids` in 6 bytes, format byte again; a tag after each UUID.
    Tagged,
}

/// A MySQL GTID set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GtidSet {
    sets: BTreeMap<(Uuid, Tag), IntervalSet>,
}

/// Ranges gathered per (uuid, tag) while reading a set, made into sets once at the end (see
/// [`IntervalSet::from_ranges`]).
#[derive(Default)]
struct Gathered(BTreeMap<(Uuid, Tag), Vec<(u64, u64)>>);

impl Gathered {
    fn ranges(&mut self, uuid: Uuid, tag: Tag) -> &mut Vec<(u64, u64)> {
        self.0.entry((uuid, tag)).or_default()
    }

    fn into_set(self) -> GtidSet {
        let sets = self.0.into_iter().map(|(k, r)| (k, IntervalSet::from_ranges(r))).filter(|(_, s)| !s.is_empty()).collect();
        GtidSet { sets }
    }
}

/// The largest transaction number MySQL accepts (2^63 - 1).
pub const GNO_MAX: u64 = i64::MAX as u64;

impl GtidSet {
    pub fn new() -> Self {
        GtidSet::default()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The (uuid, tag) entries with their intervals, in canonical order.
    pub fn entries(&self) -> impl Iterator<Item = (&Uuid, &Tag, &IntervalSet)> {
        self.sets.iter().map(|((u, t), s)| (u, t, s))
    }

    pub fn add_range(&mut self, uuid: Uuid, tag: Tag, start: u64, end: u64) {
        if start == 0 || start > end {
            return;
        }
        self.sets.entry((uuid, tag)).or_default().insert_range(start, end);
    }

    pub fn add(&mut self, gtid: &Gtid) {
        self.add_range(gtid.uuid, gtid.tag.clone(), gtid.gno, gtid.gno);
    }

    pub fn contains(&self, gtid: &Gtid) -> bool {
        self.sets.get(&(gtid.uuid, gtid.tag.clone())).is_some_and(|s| s.contains(gtid.gno))
    }

    pub fn union(&self, other: &GtidSet) -> GtidSet {
        let mut out = self.clone();
        for (k, s) in &other.sets {
            let e = out.sets.entry(k.clone()).or_default();
            *e = e.union(s);
        }
        out
    }

    pub fn subtract(&self, other: &GtidSet) -> GtidSet {
        let mut out = GtidSet::new();
        for (k, s) in &self.sets {
            let d = match other.sets.get(k) {
                Some(o) => s.subtract(o),
                None => s.clone(),
            };
            if !d.is_empty() {
                out.sets.insert(k.clone(), d);
            }
        }
        out
    }

    pub fn intersect(&self, other: &GtidSet) -> GtidSet {
        let mut out = GtidSet::new();
        for (k, s) in &self.sets {
            if let Some(o) = other.sets.get(k) {
                let i = s.intersect(o);
                if !i.is_empty() {
                    out.sets.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// Whether every GTID of `self` is in `other`.
    pub fn is_subset(&self, other: &GtidSet) -> bool {
        self.subtract(other).is_empty()
    }

    /// The GTID a server with this `gtid_executed` assigns next for `uuid` and `tag`.
    pub fn next_gtid(&self, uuid: Uuid, tag: Tag) -> Gtid {
        let gno = self.sets.get(&(uuid, tag.clone())).map_or(1, |s| s.next_free());
        Gtid { uuid, tag, gno }
    }

    /// Parses MySQL's text form. Whitespace (MySQL prints newlines after commas) is ignored; an
    /// empty string is the empty set.
    pub fn parse(text: &str) -> Result<GtidSet, GtidError> {
        let err = |at: usize, reason: &'static str| GtidError::Syntax { text: text.to_string(), at, reason };
        let mut out = Gathered::default();
        let mut at = 0usize;
        for entry in text.split(',') {
            let entry_at = at;
            at += entry.len() + 1;
            let e = entry.trim();
            if e.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(err(entry_at, "empty entry"));
            }
            let mut parts = e.split(':');
            let uuid_text = parts.next().unwrap_or("").trim();
            let uuid = Uuid::parse(uuid_text).ok_or_else(|| err(entry_at, "bad UUID"))?;
            let mut tag = Tag::untagged();
            let mut any = false;
            for p in parts {
                let p = p.trim();
                if p.starts_with(|c: char| c.is_ascii_digit()) {
                    let (a, b) = match p.split_once('-') {
                        Some((a, b)) => (a, b),
                        None => (p, p),
                    };
                    let a: u64 = a.trim().parse().map_err(|_| err(entry_at, "bad interval"))?;
                    let b: u64 = b.trim().parse().map_err(|_| err(entry_at, "bad interval"))?;
                    if a == 0 || b < a || b > GNO_MAX {
                        return Err(err(entry_at, "interval out of range"));
                    }
                    out.ranges(uuid, tag.clone()).push((a, b));
                    any = true;
                } else {
                    tag = Tag::parse(p).filter(|t| !t.is_untagged()).ok_or_else(|| err(entry_at, "bad tag"))?;
                }
            }
            if !any {
                return Err(err(entry_at, "UUID without intervals"));
            }
        }
        Ok(out.into_set())
    }

    /// Reads the binary form of PREVIOUS_GTIDS and COM_BINLOG_DUMP_GTID, either layout.
    pub fn decode(bytes: &[u8]) -> Result<(GtidSet, BinaryFormat), GtidError> {
        let berr = |e: crate::codec::Short| GtidError::Binary { reason: format!("short at {}", e.field) };
        let mut r = Reader::new(bytes);
        let head = r.u64("n_sids").map_err(berr)?;
        let (format, n_sids) = if head.to_le_bytes()[0] == 1 && head.to_le_bytes()[7] == 1 {
            (BinaryFormat::Tagged, (head >> 8) & 0xffff_ffff_ffff)
        } else {
            (BinaryFormat::Untagged, head)
        };
        let mut out = Gathered::default();
        for _ in 0..n_sids {
            let uuid = Uuid(r.array::<16>("uuid").map_err(berr)?);
            let tag = if format == BinaryFormat::Tagged {
                let n = varint::read_u64(&mut r, "tag_len").map_err(berr)?;
                let t = r.take(usize::try_from(n).unwrap_or(usize::MAX), "tag").map_err(berr)?;
                let s = std::str::from_utf8(t).ok().and_then(Tag::parse);
                s.ok_or_else(|| GtidError::Binary { reason: "bad tag".into() })?
            } else {
                Tag::untagged()
            };
            let n = r.u64("n_intervals").map_err(berr)?;
            if n > r.remaining() as u64 / 16 {
                return Err(GtidError::Binary { reason: format!("{n} intervals in {} bytes", r.remaining()) });
            }
            let ranges = out.ranges(uuid, tag);
            for _ in 0..n {
                let a = r.u64("start").map_err(berr)?;
                let b = r.u64("end").map_err(berr)?;
                if a == 0 || b <= a || b - 1 > GNO_MAX {
                    return Err(GtidError::Binary { reason: format!("interval {a}-{b}") });
                }
                ranges.push((a, b - 1));
            }
        }
        if !r.is_empty() {
            return Err(GtidError::Binary { reason: format!("{} bytes after the set", r.remaining()) });
        }
        Ok((out.into_set(), format))
    }

    /// The binary form, in the given layout. Tags need [`BinaryFormat::Tagged`]: an untagged
    /// layout leaves tagged entries out, as a server talking to an old replica must.
    pub fn encode(&self, format: BinaryFormat, out: &mut Vec<u8>) {
        let entries: Vec<_> =
            self.sets.iter().filter(|((_, t), _)| format == BinaryFormat::Tagged || t.is_untagged()).collect();
        match format {
            BinaryFormat::Untagged => out.extend_from_slice(&(entries.len() as u64).to_le_bytes()),
            BinaryFormat::Tagged => {
                out.push(1);
                out.extend_from_slice(&(entries.len() as u64).to_le_bytes()[..6]);
                out.push(1);
            }
        }
        for ((uuid, tag), s) in entries {
            out.extend_from_slice(&uuid.0);
            if format == BinaryFormat::Tagged {
                varint::write_u64(out, tag.0.len() as u64);
                out.extend_from_slice(tag.0.as_bytes());
            }
            out.extend_from_slice(&(s.ranges().len() as u64).to_le_bytes());
            for &(a, b) in s.ranges() {
                out.extend_from_slice(&a.to_le_bytes());
                out.extend_from_slice(&(b + 1).to_le_bytes());
            }
        }
    }
}

impl fmt::Display for GtidSet {
    /// Canonical text: `uuid:1-5:7,uuid:tag:1-3`; one entry per UUID, tags after the untagged
    /// ranges.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last: Option<Uuid> = None;
        for ((uuid, tag), s) in &self.sets {
            if last != Some(*uuid) {
                if last.is_some() {
                    f.write_str(",")?;
                }
                write!(f, "{uuid}")?;
                last = Some(*uuid);
            }
            if !tag.is_untagged() {
                write!(f, ":{}", tag.0)?;
            }
            for &(a, b) in s.ranges() {
                if a == b {
                    write!(f, ":{a}")?;
                } else {
                    write!(f, ":{a}-{b}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gtid::interval::work;

    /// At most 4 n log2 n elements compared or moved for n intervals.
    fn n_log_n_bound(n: u64) -> u64 {
        4 * n * u64::from(64 - n.leading_zeros())
    }

    #[test]
    fn decoding_200k_decreasing_intervals_is_n_log_n() {
        let n = 200_000u64;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&1u64.to_le_bytes());
        bytes.extend_from_slice(&[0x11; 16]);
        bytes.extend_from_slice(&n.to_le_bytes());
        for i in (0..n).rev() {
            // [2i+1, 2i+1], gaps between, so that nothing merges; the end is exclusive.
            bytes.extend_from_slice(&(2 * i + 1).to_le_bytes());
            bytes.extend_from_slice(&(2 * i + 2).to_le_bytes());
        }
        work::take();
        let (set, _) = GtidSet::decode(&bytes).unwrap();
        let work = work::take();
        let (_, _, ranges) = set.entries().next().unwrap();
        assert_eq!((ranges.ranges().len(), ranges.ranges()[0], ranges.max()), (n as usize, (1, 1), Some(2 * n - 1)));
        assert!(work <= n_log_n_bound(n), "{work} elements compared or moved for {n} intervals");
    }

    #[test]
    fn parsing_200k_decreasing_intervals_is_n_log_n() {
        let n = 200_000u64;
        let mut text = String::from("11111111-1111-1111-1111-111111111111");
        for i in (0..n).rev() {
            text.push_str(&format!(":{}", 2 * i + 1));
        }
        work::take();
        let set = GtidSet::parse(&text).unwrap();
        let work = work::take();
        assert_eq!(set.entries().next().unwrap().2.ranges().len(), n as usize);
        assert!(work <= n_log_n_bound(n), "{work} elements compared or moved for {n} intervals");
    }
}
