//! The Raft log on a [`Disk`]: records appended durably, read back by index, cut after an index
//! and purged up to one; beside it, the two small things Raft keeps with its log, the vote and
//! the last purged entry's id. It is storage only and knows nothing of openraft.
//!
//! In: records (an index and opaque bytes: the adapter puts a serialized entry there),
//! truncations, purges (with opaque meta: the purged entry's log id), votes. Out: the same
//! records, read from the disk (memory keeps only where each one is), and what opening found
//! ([`LogOpened`]).
//!
//! Layout. Segments `raft-log.<first index, 20 digits>` in the store's flat directory, each
//! preallocated with zeros when created (built under `.tmp`, synced, renamed, the directory
//! synced) and then written at a cursor and synced, so an append changes no file size and its
//! fdatasync commits no file-system metadata. Beside them `raft.vote` and `raft.purged`,
//! replaced whole with [`disk::write_atomically`]:
//!
//! ```text
//! segment header (32 bytes): magic "BRLS" | version u32 | first index u64 | CRC-32 of those u32 | zeros
//! record:                    magic "BRLR" | index u64 | payload length u32 | link u32 | CRC-32 u32 | payload
//! raft.vote:                 magic "BRVT" | version u32 | length u32 | vote | CRC-32 of all before u32
//! raft.purged:               magic "BRPG" | version u32 | length u32 | index u64, meta | CRC-32 of all before u32
//! ```
//!
//! A record's CRC covers its index, length, link and payload. Its link is the CRC of the record
//! before it in the segment, or the header's CRC for the first: a record is read only after the
//! very record it was written after. The rules:
//! - an append writes its records after the last one (one write, one sync per segment it
//!   touches); a record that does not fit in what is left of the segment starts a new one
//!   (the old one synced first, so a later segment never holds records an earlier one lost);
//!   a record larger than a segment gets one of its own, sized for it. A log that holds
//!   nothing starts over: its first append removes the segments left (purged records only, or
//!   a torn first record) and creates one named for its index;
//! - open reads every segment a purge does not cover, each up to the first record whose magic,
//!   index (the segment's first + its position), length, CRC or link is wrong. In the last segment that is a torn append: the tail is cut (reported in
//!   [`LogOpened::cut`] unless it is zeros) and the next append overwrites it. A gap between
//!   segments, a bad segment header, or a damaged `raft.vote` / `raft.purged` is an error: they
//!   were durable before anything came after them;
//! - a truncation removes the later segments (newest first, each durably) and then zeroes the
//!   records after the cut in its segment and syncs: a truncated record never comes back, not
//!   even after a crash and new records of the same bytes. Should the zeros not reach the disk
//!   (a crash), a stale record after a new one links to a record that is no longer there;
//! - a purge writes `raft.purged` first, then removes the segments whose records it all covers;
//!   open skips what a crash left of those;
//! - after a failed write the log takes no more ([`LogError::Broken`]): what the disk holds is
//!   known again only by opening it anew (a failed fdatasync may have lost any unsynced write).
//!   openraft treats a storage error as fatal anyway.

use crate::store::disk::{self, Disk, DiskError, DiskErrorKind, DiskFile};
use crate::store::names::{RAFT_LOG_PREFIX, RAFT_PURGED, RAFT_VOTE, TMP_SUFFIX};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

pub const SEGMENT_HEADER_LEN: usize = 32;
/// Magic, index, payload length, link, CRC.
pub const RECORD_HEAD_LEN: usize = 4 + 8 + 4 + 4 + 4;
/// The largest payload a record may have.
pub const RECORD_BYTES_MAX: usize = 1 << 30;
/// The largest vote, and the largest meta of a purge.
pub const SMALL_BYTES_MAX: usize = 64 << 10;
/// The segment size when the configuration does not say.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;
const SEGMENT_MAGIC: &[u8; 4] = b"BRLS";
const RECORD_MAGIC: &[u8; 4] = b"BRLR";
const VOTE_MAGIC: &[u8; 4] = b"BRVT";
const PURGED_MAGIC: &[u8; 4] = b"BRPG";
const VERSION: u32 = 1;
/// Magic, version, length before a small file's body; its CRC after.
const SMALL_HEAD_LEN: usize = 12;
/// Zeros are written in pieces of this size (preallocation, truncation).
const ZEROS_BYTES: usize = 1 << 20;
/// Open reads a segment in windows that start at the first size and double up to the
/// second (or take one record, when larger): a short log, the usual case after a checkpoint,
/// costs one small read rather than a megabyte.
const SCAN_WINDOW_FIRST_BYTES: usize = 64 << 10;
const SCAN_WINDOW_BYTES: usize = 1 << 20;

/// What opening the log found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogOpened {
    /// Records the log holds (after the last purge).
    pub records: usize,
    /// Segment files, including any left with purged records only.
    pub segments: usize,
    /// The last segment's torn or damaged tail: the segment and where it was cut.
    pub cut: Option<(String, u64)>,
}

/// Why the log refuses an operation, or cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogError {
    Disk(DiskError),
    /// A record is not the one the log takes next.
    NotNext { index: u64, expected: u64 },
    /// A file of the log does not read back as written: `segment` names the file (a segment,
    /// `raft.vote` or `raft.purged`), `offset` where in it. Never skipped: what it held was
    /// durable and may have been acknowledged.
    Damaged { segment: String, offset: u64, detail: String },
    /// A record's payload, a vote or a purge's meta larger than the log takes.
    TooLarge { len: usize, max: usize },
    /// A purge below the last one.
    PurgeBehind { index: u64, purged: u64 },
    /// A purge that would leave indexes between it and the first record held that are neither
    /// held nor purged.
    PurgeGap { index: u64, first: u64 },
    /// An earlier write failed (this is how): the log takes no more until it is opened again.
    Broken(DiskError),
}

impl From<DiskError> for LogError {
    fn from(e: DiskError) -> Self {
        LogError::Disk(e)
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Disk(e) => write!(f, "raft log: {e}"),
            LogError::NotNext { index, expected } => write!(f, "raft log: record {index} appended where the log takes {expected} next"),
            LogError::Damaged { segment, offset, detail } => write!(
                f,
                "raft log: {segment} is damaged at offset {offset}: {detail}. It may hold entries this node acknowledged; binraft will not start over it."
            ),
            LogError::TooLarge { len, max } => write!(f, "raft log: {len} bytes, more than the {max} a record, vote or purge may have"),
            LogError::PurgeBehind { index, purged } => write!(f, "raft log: purge up to {index}, behind the last purge up to {purged}"),
            LogError::PurgeGap { index, first } => write!(f, "raft log: purge up to {index} would leave a gap before the first record held, {first}"),
            LogError::Broken(e) => write!(f, "raft log: an earlier write failed ({e}); open the log again to learn what the disk holds"),
        }
    }
}

impl std::error::Error for LogError {}

/// The Raft log over a disk. Memory holds where each record is, never its payload.
#[derive(Debug)]
pub struct RaftLog {
    disk: Arc<dyn Disk>,
    segment_bytes: u64,
    /// Every segment file by first index, including any left holding purged records only.
    segments: BTreeMap<u64, Segment>,
    /// The index of `places[0]`.
    first: u64,
    /// Where each record the log holds is, in index order.
    places: VecDeque<Place>,
    purged: Option<(u64, Vec<u8>)>,
    vote: Option<Vec<u8>>,
    /// The write that failed: the log takes no more.
    broken: Option<DiskError>,
}

#[derive(Debug)]
struct Segment {
    name: String,
    file: Arc<dyn DiskFile>,
    size: u64,
    /// Where the next record goes: the end of the last one.
    cursor: u64,
    /// The next record's link: the last record's CRC, or the header's.
    link: u32,
}

#[derive(Debug, Clone, Copy)]
struct Place {
    /// The segment's first index.
    segment: u64,
    offset: u64,
    len: u32,
    crc: u32,
}

impl RaftLog {
    /// Opens the log on `disk` (creating nothing until the first append); new segments are
    /// preallocated to `segment_bytes` (existing ones keep their size). Reads every segment
    /// but those a purge covers: see the module doc for what is cut and what is an error. Removes leftover temporary segments (a crash while creating
    /// one).
    pub fn open(disk: Arc<dyn Disk>, segment_bytes: u64) -> Result<(RaftLog, LogOpened), LogError> {
        let names = disk.list()?;
        let purged = match read_small(disk.as_ref(), RAFT_PURGED, PURGED_MAGIC)? {
            Some(body) if body.len() >= 8 => Some((u64::from_le_bytes(le8(&body[..8])), body[8..].to_vec())),
            Some(_) => return Err(LogError::Damaged { segment: RAFT_PURGED.to_string(), offset: SMALL_HEAD_LEN as u64, detail: "no index".into() }),
            None => None,
        };
        let vote = read_small(disk.as_ref(), RAFT_VOTE, VOTE_MAGIC)?;
        for tmp in names.iter().filter(|n| n.starts_with(RAFT_LOG_PREFIX) && n.ends_with(TMP_SUFFIX)) {
            match disk.remove(tmp) {
                Err(e) if !e.is_not_found() => return Err(e.into()),
                _ => {}
            }
        }
        let mut found: Vec<(u64, &String)> = names.iter().filter_map(|n| segment_first(n).map(|f| (f, n))).collect();
        found.sort();
        let purged_upto = purged.as_ref().map(|(i, _)| *i);
        let mut log = RaftLog { disk: Arc::clone(&disk), segment_bytes, segments: BTreeMap::new(), first: 0, places: VecDeque::new(), purged, vote, broken: None };
        let mut cut = None;
        // The index the next record of the log must have, once it holds one.
        let mut next: Option<u64> = None;
        for (i, &(first, name)) in found.iter().enumerate() {
            let file = disk.open(name)?;
            let size = file.len()?;
            let later = found.get(i + 1).map(|(f, _)| *f);
            // Every record of this segment is purged when the next one starts by the purge's
            // next index: a crash left it during a purge, and the next purge removes it.
            if let (Some(p), Some(l)) = (purged_upto, later) {
                if l <= p.saturating_add(1) {
                    log.segments.insert(first, Segment { name: name.clone(), file, size, cursor: size, link: 0 });
                    continue;
                }
            }
            let scan = scan_segment(name, first, file.as_ref(), size)?;
            if scan.dirty && later.is_none() {
                cut = Some((name.clone(), scan.end));
            }
            let mut end_index = first;
            for &(index, place) in &scan.records {
                end_index = index + 1;
                if purged_upto.is_some_and(|p| index <= p) {
                    continue;
                }
                if let Some(want) = next.or(purged_upto.map(|p| p + 1)) {
                    if index != want {
                        let detail = format!("record {index} where the log continues with {want}");
                        return Err(LogError::Damaged { segment: name.clone(), offset: place.offset, detail });
                    }
                }
                if log.places.is_empty() {
                    log.first = index;
                }
                log.places.push_back(place);
                next = Some(index + 1);
            }
            if let Some(l) = later {
                if l != end_index {
                    // Each segment was synced before the next was created: its records all
                    // read, or one was damaged at rest.
                    let detail = format!("its records end before index {end_index}, but the next segment starts at {l}");
                    return Err(LogError::Damaged { segment: name.clone(), offset: scan.end, detail });
                }
            }
            log.segments.insert(first, Segment { name: name.clone(), file, size, cursor: scan.end, link: scan.link });
        }
        let opened = LogOpened { records: log.places.len(), segments: log.segments.len(), cut };
        Ok((log, opened))
    }

    /// Appends records durably: written and synced on return (one sync per segment written,
    /// usually one). The first index must be `last_index() + 1`; in a log that holds nothing,
    /// the last purge's index + 1, or, never purged, any index (a log may start after a
    /// snapshot). The others follow one by one. On an error, the records before the one that
    /// failed may be durable (each is whole or absent); the log then takes no more writes.
    pub fn append(&mut self, records: &[(u64, &[u8])]) -> Result<(), LogError> {
        self.usable()?;
        let Some(&(start, _)) = records.first() else { return Ok(()) };
        if let Some(expected) = self.next_index() {
            if start != expected {
                return Err(LogError::NotNext { index: start, expected });
            }
        }
        let mut expected = start;
        for &(index, payload) in records {
            // u64::MAX is never an index: every record has a next one.
            if index != expected || index == u64::MAX {
                return Err(LogError::NotNext { index, expected });
            }
            if payload.len() > RECORD_BYTES_MAX {
                return Err(LogError::TooLarge { len: payload.len(), max: RECORD_BYTES_MAX });
            }
            expected = index.saturating_add(1);
        }
        let r = self.write_records(records);
        self.fail_on(r)
    }

    /// The log's last segment (None: it has none): after a restart, what a killed process
    /// wrote there but never synced reads back from the page cache, and a sync of this makes
    /// it durable before the log is taken as it reads.
    pub fn sync_target(&self) -> Result<Option<Arc<dyn DiskFile>>, LogError> {
        self.usable()?;
        Ok(self.segments.last_key_value().map(|(_, s)| Arc::clone(&s.file)))
    }

    /// The records with index in `range` that the log holds, in order, read from the disk.
    pub fn read(&self, range: RangeInclusive<u64>) -> Result<Vec<(u64, Vec<u8>)>, LogError> {
        let (Some(first), Some(last)) = (self.first_index(), self.last_index()) else { return Ok(Vec::new()) };
        let (lo, hi) = ((*range.start()).max(first), (*range.end()).min(last));
        let mut out = Vec::new();
        let mut i = lo;
        while i <= hi {
            // One read for the run of records in the same segment.
            let head = self.place(i);
            let mut j = i;
            while j < hi && self.place(j + 1).segment == head.segment {
                j += 1;
            }
            let tail = self.place(j);
            let seg = self.segment(head.segment)?;
            let end = tail.offset + RECORD_HEAD_LEN as u64 + u64::from(tail.len);
            let bytes = seg.file.read_at(head.offset, (end - head.offset) as usize)?;
            for index in i..=j {
                let p = self.place(index);
                let at = (p.offset - head.offset) as usize;
                let record = &bytes[at..at + RECORD_HEAD_LEN + p.len as usize];
                out.push((index, check_record(&seg.name, p, index, record)?));
            }
            i = j + 1;
        }
        Ok(out)
    }

    pub fn first_index(&self) -> Option<u64> {
        (!self.places.is_empty()).then_some(self.first)
    }

    pub fn last_index(&self) -> Option<u64> {
        (!self.places.is_empty()).then(|| self.first + self.places.len() as u64 - 1)
    }

    /// Removes every record after `index` (None: all), durably: after a crash they never
    /// come back. The last purge stays.
    pub fn truncate_after(&mut self, index: Option<u64>) -> Result<(), LogError> {
        self.usable()?;
        let Some(last) = self.last_index() else { return Ok(()) };
        let keep = match index {
            Some(k) if k >= last => return Ok(()),
            Some(k) if k >= self.first => k,
            _ => {
                self.places.clear();
                let r = self.remove_all_segments();
                return self.fail_on(r);
            }
        };
        let place = self.place(keep);
        self.places.truncate((keep - self.first) as usize + 1);
        let r = self.cut_after(place);
        self.fail_on(r)
    }

    /// Forgets every record up to and including `index`, durably, with `meta` (the caller's:
    /// the purged entry's log id). Segments whose records are all purged are removed. `index`
    /// may be past the last record: the log then holds nothing and takes `index + 1` next.
    pub fn purge_upto(&mut self, index: u64, meta: &[u8]) -> Result<(), LogError> {
        self.usable()?;
        if meta.len() > SMALL_BYTES_MAX {
            return Err(LogError::TooLarge { len: meta.len(), max: SMALL_BYTES_MAX });
        }
        if let Some((purged, _)) = self.purged {
            if index < purged {
                return Err(LogError::PurgeBehind { index, purged });
            }
        }
        if let Some(first) = self.first_index() {
            if index.saturating_add(1) < first {
                return Err(LogError::PurgeGap { index, first });
            }
        }
        let mut body = index.to_le_bytes().to_vec();
        body.extend_from_slice(meta);
        let r = disk::write_atomically(self.disk.as_ref(), RAFT_PURGED, &encode_small(PURGED_MAGIC, &body));
        self.fail_on(r)?;
        self.purged = Some((index, meta.to_vec()));
        while !self.places.is_empty() && self.first <= index {
            self.places.pop_front();
            self.first += 1;
        }
        let keys: Vec<u64> = self.segments.keys().copied().collect();
        let doomed: Vec<u64> = if self.places.is_empty() {
            keys
        } else {
            keys.windows(2).filter(|w| w[1] <= index.saturating_add(1)).map(|w| w[0]).collect()
        };
        let r = self.remove_segments(&doomed);
        self.fail_on(r)
    }

    /// The last purge: its index and meta.
    pub fn purged(&self) -> Option<(u64, &[u8])> {
        self.purged.as_ref().map(|(i, m)| (*i, m.as_slice()))
    }

    /// Saves the vote durably (it is read back after a restart).
    pub fn save_vote(&mut self, vote: &[u8]) -> Result<(), LogError> {
        self.usable()?;
        if vote.len() > SMALL_BYTES_MAX {
            return Err(LogError::TooLarge { len: vote.len(), max: SMALL_BYTES_MAX });
        }
        let r = disk::write_atomically(self.disk.as_ref(), RAFT_VOTE, &encode_small(VOTE_MAGIC, vote));
        self.fail_on(r)?;
        self.vote = Some(vote.to_vec());
        Ok(())
    }

    pub fn vote(&self) -> Option<&[u8]> {
        self.vote.as_deref()
    }

    /// The largest payload a record may have.
    pub fn max_record_bytes(&self) -> usize {
        RECORD_BYTES_MAX
    }

    /// The index the next append must start with; None: any (empty, never purged).
    fn next_index(&self) -> Option<u64> {
        match (self.last_index(), &self.purged) {
            (Some(last), _) => Some(last + 1),
            (None, Some((p, _))) => Some(p.saturating_add(1)),
            (None, None) => None,
        }
    }

    fn usable(&self) -> Result<(), LogError> {
        match &self.broken {
            Some(e) => Err(LogError::Broken(e.clone())),
            None => Ok(()),
        }
    }

    /// Remembers a failed write: the log takes no more.
    fn fail_on(&mut self, r: Result<(), DiskError>) -> Result<(), LogError> {
        r.map_err(|e| {
            self.broken = Some(e.clone());
            LogError::Disk(e)
        })
    }

    /// Where record `index` is; the caller knows the log holds it.
    fn place(&self, index: u64) -> Place {
        self.places[(index - self.first) as usize]
    }

    fn segment(&self, first: u64) -> Result<&Segment, LogError> {
        // Every place names a segment the log keeps: a miss is a bug, reported, not a panic.
        self.segments.get(&first).ok_or_else(|| LogError::Damaged { segment: segment_name(first), offset: 0, detail: "segment not open".into() })
    }

    fn write_records(&mut self, records: &[(u64, &[u8])]) -> Result<(), DiskError> {
        if self.places.is_empty() {
            // Segments left hold nothing of the log (purged records, a torn first record, or
            // none): the log starts over in a segment named for its first index.
            self.remove_all_segments()?;
            self.first = records.first().map_or(0, |r| r.0);
        }
        let mut batch = Vec::new();
        let mut pending: Vec<Place> = Vec::new();
        for &(index, payload) in records {
            let need = (RECORD_HEAD_LEN + payload.len()) as u64;
            let fits = self.segments.last_key_value().is_some_and(|(_, s)| s.cursor + batch.len() as u64 + need <= s.size);
            if !fits {
                self.flush(&mut batch, &mut pending)?;
                self.new_segment(index, need)?;
            }
            let Some((&key, seg)) = self.segments.last_key_value() else {
                return Err(DiskError::new(DiskErrorKind::Failed, "append", "", "no segment to write to"));
            };
            let offset = seg.cursor + batch.len() as u64;
            let link = pending.last().map_or(seg.link, |p| p.crc);
            let crc = encode_record(&mut batch, index, payload, link);
            pending.push(Place { segment: key, offset, len: payload.len() as u32, crc });
        }
        self.flush(&mut batch, &mut pending)
    }

    /// Writes and syncs the records encoded for the last segment; then the log holds them.
    fn flush(&mut self, batch: &mut Vec<u8>, pending: &mut Vec<Place>) -> Result<(), DiskError> {
        let Some(last) = pending.last().copied() else { return Ok(()) };
        let Some(seg) = self.segments.get_mut(&last.segment) else {
            return Err(DiskError::new(DiskErrorKind::Failed, "append", "", "no segment to write to"));
        };
        seg.file.write_at(seg.cursor, batch)?;
        seg.file.sync_data()?;
        seg.cursor += batch.len() as u64;
        seg.link = last.crc;
        self.places.extend(pending.drain(..));
        batch.clear();
        Ok(())
    }

    /// A new last segment for records from `first`, large enough for one of `need` bytes.
    fn new_segment(&mut self, first: u64, need: u64) -> Result<(), DiskError> {
        let size = self.segment_bytes.max(SEGMENT_HEADER_LEN as u64 + need);
        // An empty last segment of that name (left by a crash, or too small for this record)
        // is renamed over.
        self.segments.remove(&first);
        let name = segment_name(first);
        let file = create_segment(self.disk.as_ref(), &name, first, size)?;
        self.segments.insert(first, Segment { name, file, size, cursor: SEGMENT_HEADER_LEN as u64, link: header_crc(first) });
        Ok(())
    }

    /// Cuts the log after the record at `place`: the later segments go, then the records after
    /// it in its segment are zeroed.
    fn cut_after(&mut self, place: Place) -> Result<(), DiskError> {
        // Newest first, each durably: a crash leaves a prefix of the log, never a gap.
        let later: Vec<u64> = self.segments.range(place.segment + 1..).map(|(k, _)| *k).rev().collect();
        for k in later {
            if let Some(s) = self.segments.remove(&k) {
                disk::remove_durably(self.disk.as_ref(), &s.name)?;
            }
        }
        let Some(seg) = self.segments.get_mut(&place.segment) else {
            return Err(DiskError::new(DiskErrorKind::Failed, "truncate", "", "the record's segment is not open"));
        };
        let end = place.offset + RECORD_HEAD_LEN as u64 + u64::from(place.len);
        write_zeros(seg.file.as_ref(), end, seg.cursor.saturating_sub(end))?;
        seg.file.sync_data()?;
        seg.cursor = end;
        seg.link = place.crc;
        Ok(())
    }

    fn remove_all_segments(&mut self) -> Result<(), DiskError> {
        let all: Vec<u64> = self.segments.keys().copied().collect();
        self.remove_segments(&all)
    }

    /// Removes segments, then syncs the directory once.
    fn remove_segments(&mut self, firsts: &[u64]) -> Result<(), DiskError> {
        if firsts.is_empty() {
            return Ok(());
        }
        for first in firsts {
            if let Some(s) = self.segments.remove(first) {
                match self.disk.remove(&s.name) {
                    Err(e) if !e.is_not_found() => return Err(e),
                    _ => {}
                }
            }
        }
        self.disk.sync_dir()
    }
}

fn segment_name(first: u64) -> String {
    format!("{RAFT_LOG_PREFIX}{first:020}")
}

/// The first index a segment's name gives, or None if the name is not a segment's.
fn segment_first(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(RAFT_LOG_PREFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn le4(b: &[u8]) -> [u8; 4] {
    let mut a = [0; 4];
    a.copy_from_slice(&b[..4]);
    a
}

fn le8(b: &[u8]) -> [u8; 8] {
    let mut a = [0; 8];
    a.copy_from_slice(&b[..8]);
    a
}

fn encode_segment_header(first: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(SEGMENT_HEADER_LEN);
    h.extend_from_slice(SEGMENT_MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&first.to_le_bytes());
    let crc = crc32fast::hash(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h.resize(SEGMENT_HEADER_LEN, 0);
    h
}

/// The header's CRC, which the segment's first record links to.
fn header_crc(first: u64) -> u32 {
    let h = encode_segment_header(first);
    u32::from_le_bytes(le4(&h[16..20]))
}

/// The first index a segment header names, or what is wrong with it.
fn decode_segment_header(h: &[u8]) -> Result<u64, String> {
    if h.len() < SEGMENT_HEADER_LEN {
        return Err(format!("{} bytes, shorter than a segment header", h.len()));
    }
    if &h[..4] != SEGMENT_MAGIC {
        return Err("not a raft log segment (bad magic)".into());
    }
    if u32::from_le_bytes(le4(&h[16..20])) != crc32fast::hash(&h[..16]) {
        return Err("segment header: bad checksum".into());
    }
    let version = u32::from_le_bytes(le4(&h[4..8]));
    if version != VERSION {
        return Err(format!("segment version {version} (this binraft reads {VERSION})"));
    }
    Ok(u64::from_le_bytes(le8(&h[8..16])))
}

fn record_crc(fields: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(fields);
    h.update(payload);
    h.finalize()
}

/// Appends the record to `out`; its CRC (the next record's link).
fn encode_record(out: &mut Vec<u8>, index: u64, payload: &[u8], link: u32) -> u32 {
    let start = out.len();
    out.extend_from_slice(RECORD_MAGIC);
    out.extend_from_slice(&index.to_le_bytes());
    // Payloads are at most RECORD_BYTES_MAX (append checks): the length fits.
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    let crc = record_crc(&out[start + 4..start + 20], payload);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    crc
}

/// A record's head, as read.
struct Head {
    index: u64,
    len: u32,
    link: u32,
    crc: u32,
}

fn decode_head(h: &[u8]) -> Option<Head> {
    if h.len() < RECORD_HEAD_LEN || &h[..4] != RECORD_MAGIC {
        return None;
    }
    Some(Head { index: u64::from_le_bytes(le8(&h[4..12])), len: u32::from_le_bytes(le4(&h[12..16])), link: u32::from_le_bytes(le4(&h[16..20])), crc: u32::from_le_bytes(le4(&h[20..24])) })
}

/// A record read back at `p`: its payload, or why it is not what was written there.
fn check_record(segment: &str, p: Place, index: u64, record: &[u8]) -> Result<Vec<u8>, LogError> {
    let damaged = |detail: &str| LogError::Damaged { segment: segment.to_string(), offset: p.offset, detail: format!("record {index}: {detail}") };
    let Some(head) = decode_head(record) else { return Err(damaged("bad magic")) };
    if head.index != index || head.len != p.len || head.crc != p.crc {
        return Err(damaged("its head changed since the log was opened"));
    }
    let payload = &record[RECORD_HEAD_LEN..];
    if record_crc(&record[4..20], payload) != head.crc {
        return Err(damaged("bad checksum"));
    }
    Ok(payload.to_vec())
}

/// What a scan of one segment found.
struct Scanned {
    records: Vec<(u64, Place)>,
    /// Where the records end.
    end: u64,
    /// The last record's CRC, or the header's.
    link: u32,
    /// The scan stopped at something other than zeros.
    dirty: bool,
}

/// Reads a segment's records up to the first one whose magic, index, length, CRC or link is
/// wrong; an unreadable header is an error.
fn scan_segment(name: &str, first: u64, file: &dyn DiskFile, size: u64) -> Result<Scanned, LogError> {
    let mut w = Window { file, size, at: 0, buf: Vec::new() };
    let damaged = |offset: u64, detail: String| LogError::Damaged { segment: name.to_string(), offset, detail };
    let header = w.get(0, SEGMENT_HEADER_LEN)?.ok_or_else(|| damaged(0, format!("{size} bytes, shorter than a segment header")))?;
    let named = decode_segment_header(header).map_err(|d| damaged(0, d))?;
    if named != first {
        return Err(damaged(0, format!("its header says it starts at index {named}")));
    }
    let mut s = Scanned { records: Vec::new(), end: SEGMENT_HEADER_LEN as u64, link: header_crc(first), dirty: false };
    let mut index = first;
    loop {
        let pos = s.end;
        let Some(bytes) = w.get(pos, RECORD_HEAD_LEN)? else {
            // Less than a head is left: a clean end if it is zeros.
            let rest = w.get(pos, (size - pos) as usize)?.unwrap_or_default();
            s.dirty = rest.iter().any(|&b| b != 0);
            break;
        };
        let ok_head = decode_head(bytes).filter(|h| h.index == index && h.link == s.link && index != u64::MAX && h.len as usize <= RECORD_BYTES_MAX);
        let Some(head) = ok_head else {
            s.dirty = bytes.iter().any(|&b| b != 0);
            break;
        };
        let fields = bytes[4..20].to_vec();
        let Some(payload) = w.get(pos + RECORD_HEAD_LEN as u64, head.len as usize)? else {
            s.dirty = true;
            break;
        };
        if record_crc(&fields, payload) != head.crc {
            s.dirty = true;
            break;
        }
        s.records.push((index, Place { segment: first, offset: pos, len: head.len, crc: head.crc }));
        s.end = pos + RECORD_HEAD_LEN as u64 + u64::from(head.len);
        s.link = head.crc;
        index += 1;
    }
    Ok(s)
}

/// A segment read in windows, so a scan holds at most a window or one record.
struct Window<'a> {
    file: &'a dyn DiskFile,
    size: u64,
    /// The offset of `buf`.
    at: u64,
    buf: Vec<u8>,
}

impl Window<'_> {
    /// `len` bytes at `offset`, or None past the end of the file.
    fn get(&mut self, offset: u64, len: usize) -> Result<Option<&[u8]>, DiskError> {
        let Some(end) = offset.checked_add(len as u64).filter(|&e| e <= self.size) else { return Ok(None) };
        if offset < self.at || end > self.at + self.buf.len() as u64 {
            let window = if self.buf.is_empty() { SCAN_WINDOW_FIRST_BYTES } else { (self.buf.len() * 2).clamp(SCAN_WINDOW_FIRST_BYTES, SCAN_WINDOW_BYTES) };
            let n = (self.size - offset).min(len.max(window) as u64) as usize;
            self.buf = self.file.read_at(offset, n)?;
            self.at = offset;
        }
        let from = (offset - self.at) as usize;
        Ok(self.buf.get(from..from + len))
    }
}

/// A new segment of `size` bytes: zeros, written (not a hole) so appends allocate nothing,
/// with its header; built under a temporary name and renamed, so a crash while creating it
/// leaves no segment rather than one without a header.
fn create_segment(disk: &dyn Disk, name: &str, first: u64, size: u64) -> Result<Arc<dyn DiskFile>, DiskError> {
    let tmp = format!("{name}{TMP_SUFFIX}");
    let built = (|| {
        let file = disk.create(&tmp)?;
        write_zeros(file.as_ref(), 0, size)?;
        file.write_at(0, &encode_segment_header(first))?;
        file.sync_data()?;
        disk.rename(&tmp, name)?;
        disk.sync_dir()?;
        Ok(file)
    })();
    if built.is_err() {
        // Best effort: a half-built segment on a full disk holds space the store needs.
        let _ = disk.remove(&tmp);
    }
    built
}

fn write_zeros(file: &dyn DiskFile, offset: u64, len: u64) -> Result<(), DiskError> {
    let zeros = vec![0u8; (len.min(ZEROS_BYTES as u64)) as usize];
    let mut at = 0;
    while at < len {
        let n = (len - at).min(zeros.len() as u64) as usize;
        file.write_at(offset + at, &zeros[..n])?;
        at += n as u64;
    }
    Ok(())
}

fn encode_small(magic: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SMALL_HEAD_LEN + body.len() + 4);
    out.extend_from_slice(magic);
    out.extend_from_slice(&VERSION.to_le_bytes());
    // Bodies are at most SMALL_BYTES_MAX + 8 (checked by the callers): the length fits.
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The body of `raft.vote` or `raft.purged`, None if the file does not exist; damage is an
/// error, never a missing file: the vote is what keeps a node from voting twice in a term.
fn read_small(disk: &dyn Disk, name: &str, magic: &[u8; 4]) -> Result<Option<Vec<u8>>, LogError> {
    let damaged = |offset: u64, detail: String| LogError::Damaged { segment: name.to_string(), offset, detail };
    let file = match disk.open(name) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let len = file.len()?;
    let max = (SMALL_HEAD_LEN + 8 + SMALL_BYTES_MAX + 4) as u64;
    if len > max {
        return Err(damaged(0, format!("{len} bytes, more than such a file has ({max})")));
    }
    let bytes = file.read_at(0, len as usize)?;
    if bytes.len() < SMALL_HEAD_LEN + 4 {
        return Err(damaged(0, format!("{} bytes, too short", bytes.len())));
    }
    if &bytes[..4] != magic {
        return Err(damaged(0, "bad magic".into()));
    }
    let body_len = u32::from_le_bytes(le4(&bytes[8..12])) as usize;
    if SMALL_HEAD_LEN + body_len + 4 != bytes.len() {
        return Err(damaged(8, format!("says {body_len} bytes, the file has {}", bytes.len())));
    }
    let (data, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(data) != u32::from_le_bytes(le4(crc)) {
        return Err(damaged(0, "bad checksum".into()));
    }
    let version = u32::from_le_bytes(le4(&bytes[4..8]));
    if version != VERSION {
        return Err(damaged(4, format!("version {version} (this binraft reads {VERSION})")));
    }
    Ok(Some(data[SMALL_HEAD_LEN..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemDisk;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Small segments: a few records each, so tests roll over.
    const SEGMENT: u64 = 1024;

    fn open(d: &MemDisk) -> (RaftLog, LogOpened) {
        RaftLog::open(Arc::new(d.clone()), SEGMENT).unwrap()
    }

    /// Record `index`'s payload in version `v` of the log: its length depends on the index
    /// only, so a record of another version is the same size and different bytes.
    fn payload(index: u64, v: u8) -> Vec<u8> {
        let len = 50 + (index * 37 % 200) as usize;
        (0..len).map(|i| (i as u8).wrapping_mul(v).wrapping_add(index as u8) ^ v).collect()
    }

    fn append(log: &mut RaftLog, indexes: RangeInclusive<u64>, v: u8) {
        let payloads: Vec<(u64, Vec<u8>)> = indexes.map(|i| (i, payload(i, v))).collect();
        let records: Vec<(u64, &[u8])> = payloads.iter().map(|(i, p)| (*i, p.as_slice())).collect();
        log.append(&records).unwrap();
    }

    fn expect(indexes: RangeInclusive<u64>, v: u8) -> Vec<(u64, Vec<u8>)> {
        indexes.map(|i| (i, payload(i, v))).collect()
    }

    fn all(log: &RaftLog) -> Vec<(u64, Vec<u8>)> {
        log.read(0..=u64::MAX).unwrap()
    }

    fn segments(d: &MemDisk) -> Vec<String> {
        d.list().unwrap().into_iter().filter(|n| n.starts_with(RAFT_LOG_PREFIX)).collect()
    }

    #[test]
    fn the_log_can_move_between_tasks() {
        fn shared<T: Send + Sync>() {}
        shared::<RaftLog>();
        shared::<LogError>();
    }

    #[test]
    fn records_round_trip_and_come_back_after_a_reopen() {
        let d = MemDisk::new();
        let (mut log, opened) = open(&d);
        assert_eq!(opened, LogOpened::default());
        assert!(d.list().unwrap().is_empty(), "open creates nothing");
        assert_eq!((log.first_index(), log.last_index()), (None, None));
        append(&mut log, 1..=3, 1);
        append(&mut log, 4..=4, 1);
        log.append(&[]).unwrap();
        assert_eq!((log.first_index(), log.last_index()), (Some(1), Some(4)));
        assert_eq!(log.read(2..=3).unwrap(), expect(2..=3, 1));
        assert_eq!(log.read(3..=100).unwrap(), expect(3..=4, 1));
        assert_eq!(log.read(5..=9).unwrap(), vec![]);
        assert_eq!(all(&log), expect(1..=4, 1));
        drop(log);
        let (log, opened) = open(&d);
        assert_eq!(opened, LogOpened { records: 4, segments: 1, cut: None });
        assert_eq!(all(&log), expect(1..=4, 1));
        assert_eq!(log.max_record_bytes(), RECORD_BYTES_MAX);
        // Nothing but the crash model's durable state: a crash right after changes nothing.
        d.crash(7);
        assert_eq!(all(&open(&d).0), expect(1..=4, 1));
    }

    #[test]
    fn records_roll_over_to_new_segments_and_a_large_one_gets_its_own() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 1..=20, 1);
        let names = segments(&d);
        assert!(names.len() > 3, "{names:?}");
        assert_eq!(names[0], "raft-log.00000000000000000001");
        for n in &names {
            assert_eq!(d.contents(n).unwrap().len() as u64, SEGMENT, "{n}: appends change no size");
        }
        let big = vec![7u8; 3000];
        log.append(&[(21, &big), (22, b"after")]).unwrap();
        let big_name = segment_name(21);
        assert_eq!(d.contents(&big_name).unwrap().len(), SEGMENT_HEADER_LEN + RECORD_HEAD_LEN + 3000, "sized for the record");
        assert!(segments(&d).contains(&segment_name(22)), "the next record starts a new one");
        let mut want = expect(1..=20, 1);
        want.push((21, big.clone()));
        want.push((22, b"after".to_vec()));
        assert_eq!(all(&log), want);
        drop(log);
        let (log, opened) = open(&d);
        assert_eq!(opened, LogOpened { records: 22, segments: segments(&d).len(), cut: None });
        assert_eq!(all(&log), want);
        assert_eq!(log.read(19..=21).unwrap(), want[18..21].to_vec());
    }

    #[test]
    fn an_append_continues_the_log() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        // Empty and never purged: any start (after a snapshot).
        append(&mut log, 100..=101, 1);
        assert_eq!(log.append(&[(103, b"x")]), Err(LogError::NotNext { index: 103, expected: 102 }));
        assert_eq!(log.append(&[(101, b"x")]), Err(LogError::NotNext { index: 101, expected: 102 }));
        assert_eq!(log.append(&[(102, b"x"), (104, b"y")]), Err(LogError::NotNext { index: 104, expected: 103 }));
        assert_eq!(log.last_index(), Some(101), "a refused batch writes nothing");
        let huge = vec![0u8; RECORD_BYTES_MAX + 1];
        assert_eq!(log.append(&[(102, &huge)]), Err(LogError::TooLarge { len: RECORD_BYTES_MAX + 1, max: RECORD_BYTES_MAX }));
        // Refusals do not break the log.
        append(&mut log, 102..=102, 1);
        log.purge_upto(110, b"m").unwrap();
        assert_eq!(log.last_index(), None);
        assert_eq!(log.append(&[(200, b"x")]), Err(LogError::NotNext { index: 200, expected: 111 }));
        append(&mut log, 111..=111, 1);
        assert_eq!(log.append(&[(u64::MAX, b"x")]), Err(LogError::NotNext { index: u64::MAX, expected: 112 }));
        // Index 0 is an index (openraft's first entry).
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 0..=2, 1);
        assert_eq!(all(&open(&d).0), expect(0..=2, 1));
    }

    #[test]
    fn truncated_records_never_come_back() {
        // Within a segment and across segments, reopened and after a crash before the next append.
        for (keep, seed) in [(3u64, 0u64), (9, 1), (1, 2), (12, 3), (0, 4)] {
            let d = MemDisk::new();
            let (mut log, _) = open(&d);
            append(&mut log, 1..=14, 1);
            log.truncate_after(Some(keep)).unwrap();
            assert_eq!(log.last_index(), (keep >= 1).then_some(keep));
            d.crash(seed);
            let (mut log, opened) = open(&d);
            assert_eq!(opened.cut, None, "keep {keep}");
            assert_eq!(all(&log), expect(1..=keep, 1), "keep {keep}: after the crash");
            let from = if keep == 0 { 1 } else { keep + 1 };
            append(&mut log, from..=from + 4, 2);
            let mut want = expect(1..=keep, 1);
            want.extend(expect(from..=from + 4, 2));
            assert_eq!(all(&log), want);
            d.crash(seed + 10);
            assert_eq!(all(&open(&d).0), want, "keep {keep}: new records after a crash");
        }
        // None: all of them; the log starts anew anywhere.
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 1..=14, 1);
        log.truncate_after(None).unwrap();
        assert!(segments(&d).is_empty());
        log.truncate_after(Some(3)).unwrap();
        d.crash(5);
        let (mut log, _) = open(&d);
        assert_eq!(all(&log), vec![]);
        append(&mut log, 5..=6, 2);
        assert_eq!(all(&open(&d).0), expect(5..=6, 2));
    }

    /// Old records 4..=8 in one segment; cut after 3; a new 4 of the same length as the old.
    fn stale_trap() -> (MemDisk, Vec<u8>) {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        log.append(&[(1, b"one"), (2, b"two"), (3, b"three"), (4, b"four"), (5, b"five"), (6, b"six")]).unwrap();
        let before = d.contents(&segment_name(1)).unwrap();
        log.truncate_after(Some(3)).unwrap();
        log.append(&[(4, b"FOUR")]).unwrap();
        (d, before)
    }

    #[test]
    fn a_stale_record_after_a_new_one_is_never_read() {
        for seed in 0..8 {
            let (d, _) = stale_trap();
            d.crash(seed);
            let (log, _) = open(&d);
            assert_eq!(log.read(1..=9).unwrap().last(), Some(&(4, b"FOUR".to_vec())), "seed {seed}");
        }
        // As if the truncation's zeros had not reached the disk: the old 5 and 6 sit right after
        // the new 4, whole; they link to the old 4, so they are cut.
        let (d, before) = stale_trap();
        let name = segment_name(1);
        let mut now = d.contents(&name).unwrap();
        let new4_end = SEGMENT_HEADER_LEN + 3 * RECORD_HEAD_LEN + 3 + 3 + 5 + RECORD_HEAD_LEN + 4;
        now[new4_end..before.len()].copy_from_slice(&before[new4_end..]);
        assert_ne!(now, before);
        d.put(&name, &now);
        let (log, opened) = open(&d);
        assert_eq!(log.last_index(), Some(4));
        assert_eq!(log.read(4..=4).unwrap(), vec![(4, b"FOUR".to_vec())]);
        assert_eq!(opened.cut, Some((name, new4_end as u64)));
    }

    #[test]
    fn a_purge_removes_whole_segments_and_is_remembered() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 1..=20, 1);
        let before = segments(&d);
        log.purge_upto(9, b"log id 9").unwrap();
        assert_eq!(log.purged(), Some((9, &b"log id 9"[..])));
        assert_eq!((log.first_index(), log.last_index()), (Some(10), Some(20)));
        assert_eq!(log.read(1..=10).unwrap(), expect(10..=10, 1), "purged records are not read");
        let after = segments(&d);
        assert!(after.len() < before.len(), "{before:?} -> {after:?}");
        // The segment holding 10 stays; every one before it went.
        let first_kept = after.iter().filter_map(|n| segment_first(n)).min().unwrap();
        assert!(first_kept <= 10 && first_kept > 1, "{after:?}");
        assert_eq!(log.purge_upto(5, b"x"), Err(LogError::PurgeBehind { index: 5, purged: 9 }));
        d.crash(3);
        let (mut log, opened) = open(&d);
        assert_eq!(opened.records, 11);
        assert_eq!(log.purged(), Some((9, &b"log id 9"[..])));
        assert_eq!(all(&log), expect(10..=20, 1));
        // Past the last record: the log holds nothing and takes the next index.
        log.purge_upto(30, b"log id 30").unwrap();
        assert!(segments(&d).is_empty());
        assert_eq!(all(&log), vec![]);
        append(&mut log, 31..=32, 2);
        let (log, _) = open(&d);
        assert_eq!((log.purged(), all(&log)), (Some((30, &b"log id 30"[..])), expect(31..=32, 2)));
        // A log that starts after a snapshot takes no purge that would leave a gap.
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 50..=52, 1);
        assert_eq!(log.purge_upto(10, b""), Err(LogError::PurgeGap { index: 10, first: 50 }));
        log.purge_upto(49, b"").unwrap();
        assert_eq!(all(&open(&d).0), expect(50..=52, 1));
    }

    #[test]
    fn segments_a_crash_left_during_a_purge_are_skipped_and_removed_later() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 1..=20, 1);
        let before = segments(&d);
        // The purge's file is durable (create, write, sync, rename, sync), its removals are not.
        d.cut_power_after(5);
        assert!(log.purge_upto(12, b"m").is_err());
        d.crash(0);
        assert_eq!(segments(&d), before);
        let (mut log, opened) = open(&d);
        assert_eq!((opened.records, log.purged()), (8, Some((12, &b"m"[..]))));
        assert_eq!(all(&log), expect(13..=20, 1));
        log.purge_upto(13, b"n").unwrap();
        assert!(segments(&d).len() < before.len());
        assert_eq!(all(&open(&d).0), expect(14..=20, 1));
    }

    #[test]
    fn the_vote_survives_a_reopen_and_a_damaged_one_is_an_error() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        assert_eq!(log.vote(), None);
        log.save_vote(b"term 3 voted for 2").unwrap();
        log.save_vote(b"term 4 voted for 1").unwrap();
        d.crash(1);
        let (mut log, _) = open(&d);
        assert_eq!(log.vote(), Some(&b"term 4 voted for 1"[..]));
        assert_eq!(log.save_vote(&vec![0; SMALL_BYTES_MAX + 1]), Err(LogError::TooLarge { len: SMALL_BYTES_MAX + 1, max: SMALL_BYTES_MAX }));
        log.purge_upto(3, b"meta").unwrap();
        drop(log);
        for (file, at) in [(RAFT_VOTE, 14u64), (RAFT_VOTE, 0), (RAFT_PURGED, 13), (RAFT_PURGED, 9)] {
            let good = d.contents(file).unwrap();
            d.flip_bit(file, at, 2).unwrap();
            match RaftLog::open(Arc::new(d.clone()), SEGMENT) {
                Err(LogError::Damaged { segment, .. }) => assert_eq!(segment, file),
                other => panic!("{file} flipped at {at}: {other:?}"),
            }
            d.put(file, &good);
        }
        d.put(RAFT_VOTE, b"");
        assert!(matches!(RaftLog::open(Arc::new(d.clone()), SEGMENT), Err(LogError::Damaged { .. })));
    }

    #[test]
    fn a_failed_sync_fails_the_append_and_the_log_takes_no_more() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 1..=2, 1);
        d.fail_next_syncs(1);
        let e = log.append(&[(3, b"lost")]).unwrap_err();
        assert!(matches!(&e, LogError::Disk(e) if e.kind == DiskErrorKind::Failed), "{e:?}");
        assert_eq!(log.last_index(), Some(2));
        assert!(matches!(log.append(&[(3, b"again")]), Err(LogError::Broken(_))));
        assert!(matches!(log.save_vote(b"v"), Err(LogError::Broken(_))));
        assert_eq!(log.read(1..=2).unwrap(), expect(1..=2, 1), "reads still serve");
        drop(log);
        let (mut log, _) = open(&d);
        assert_eq!(all(&log), expect(1..=2, 1));
        log.append(&[(3, b"again")]).unwrap();
        assert_eq!(open(&d).0.read(3..=3).unwrap(), vec![(3, b"again".to_vec())]);
    }

    #[test]
    fn a_full_disk_fails_the_append_and_the_log_still_opens() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 1..=3, 1);
        d.set_capacity_bytes(SEGMENT + SEGMENT / 2);
        let big = vec![1u8; 900];
        let e = log.append(&[(4, &big)]).unwrap_err();
        assert!(matches!(&e, LogError::Disk(e) if e.kind == DiskErrorKind::NoSpace), "{e:?}");
        assert_eq!(segments(&d), vec![segment_name(1)], "the half-built segment is removed");
        drop(log);
        d.set_capacity_bytes(u64::MAX);
        let (mut log, opened) = open(&d);
        assert_eq!((opened.records, opened.cut), (3, None));
        log.append(&[(4, &big)]).unwrap();
        assert_eq!(open(&d).0.read(4..=4).unwrap(), vec![(4, big)]);
    }

    #[test]
    fn damage_in_the_last_segment_is_cut_and_before_it_is_an_error() {
        let d = MemDisk::new();
        let (mut log, _) = open(&d);
        append(&mut log, 1..=20, 1);
        drop(log);
        let names = segments(&d);
        let last = names.last().unwrap().clone();
        let last_first = segment_first(&last).unwrap();
        // The last segment's second record: the first stays, the rest are cut.
        let second = (SEGMENT_HEADER_LEN + RECORD_HEAD_LEN + payload(last_first, 1).len()) as u64;
        let good = d.contents(&last).unwrap();
        d.flip_bit(&last, second + RECORD_HEAD_LEN as u64 + 3, 0).unwrap();
        let (log, opened) = open(&d);
        assert_eq!(opened.cut, Some((last.clone(), second)));
        assert_eq!(all(&log), expect(1..=last_first, 1));
        d.put(&last, &good);
        // The first segment's last record: the next segment does not continue it.
        let first = &names[0];
        let bytes = d.contents(first).unwrap();
        d.flip_bit(first, SEGMENT_HEADER_LEN as u64 + RECORD_HEAD_LEN as u64 + 1, 5).unwrap();
        assert!(matches!(RaftLog::open(Arc::new(d.clone()), SEGMENT), Err(LogError::Damaged { segment, .. }) if segment == *first));
        d.put(first, &bytes);
        // A bad header anywhere.
        d.flip_bit(&last, 9, 1).unwrap();
        assert!(matches!(RaftLog::open(Arc::new(d.clone()), SEGMENT), Err(LogError::Damaged { segment, offset: 0, .. }) if segment == last));
        d.put(&last, &good);
        // Damage after open is found by the read.
        let (log, _) = open(&d);
        d.flip_bit(first, SEGMENT_HEADER_LEN as u64 + RECORD_HEAD_LEN as u64 + 1, 5).unwrap();
        assert!(matches!(log.read(1..=1), Err(LogError::Damaged { offset, .. }) if offset == SEGMENT_HEADER_LEN as u64));
    }

    #[test]
    fn flipped_bits_and_garbage_open_with_a_cut_or_an_error_never_a_panic() {
        let base = MemDisk::new();
        let (mut log, _) = open(&base);
        append(&mut log, 1..=20, 1);
        log.truncate_after(Some(15)).unwrap();
        append(&mut log, 16..=18, 2);
        log.purge_upto(4, b"meta").unwrap();
        log.save_vote(b"vote").unwrap();
        let want = log.read(0..=u64::MAX).unwrap();
        drop(log);
        let files: Vec<(String, Vec<u8>)> = base.list().unwrap().into_iter().map(|n| (n.clone(), base.contents(&n).unwrap())).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let (mut cut, mut errors) = (0, 0);
        for round in 0..400 {
            let d = MemDisk::new();
            for (n, b) in &files {
                d.put(n, b);
            }
            for _ in 0..rng.gen_range(1..=3) {
                let (n, b) = &files[rng.gen_range(0..files.len())];
                d.flip_bit(n, rng.gen_range(0..b.len() as u64), rng.gen_range(0..8)).unwrap();
            }
            match RaftLog::open(Arc::new(d.clone()), SEGMENT) {
                Ok((log, opened)) => {
                    let got = log.read(0..=u64::MAX).unwrap();
                    assert!(want.starts_with(&got), "round {round}: what opens is a prefix of what was written");
                    cut += usize::from(opened.cut.is_some() || got.len() < want.len());
                }
                Err(LogError::Damaged { .. }) => errors += 1,
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert!(cut > 0 && errors > 0, "cut {cut}, errors {errors}");
        // Garbage under a segment's name, bare or behind a good header.
        for round in 0..200u64 {
            let d = MemDisk::new();
            let len = rng.gen_range(0..2000);
            let mut junk: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if round % 2 == 1 && junk.len() >= SEGMENT_HEADER_LEN {
                junk[..SEGMENT_HEADER_LEN].copy_from_slice(&encode_segment_header(7));
                if junk.len() >= SEGMENT_HEADER_LEN + 24 && round % 4 == 1 {
                    // A plausible head with a wild length.
                    let mut head = Vec::new();
                    encode_record(&mut head, 7, b"", header_crc(7));
                    head[12..16].copy_from_slice(&rng.gen::<u32>().to_le_bytes());
                    junk[SEGMENT_HEADER_LEN..SEGMENT_HEADER_LEN + 24].copy_from_slice(&head);
                }
            }
            d.put(&segment_name(7), &junk);
            match RaftLog::open(Arc::new(d.clone()), SEGMENT) {
                Ok((log, _)) => assert!(log.read(0..=u64::MAX).is_ok()),
                Err(LogError::Damaged { .. }) => {}
                Err(e) => panic!("garbage round {round}: {e:?}"),
            }
        }
    }

    #[test]
    fn leftovers_of_a_crash_while_creating_a_segment_go() {
        let d = MemDisk::new();
        d.put(&format!("{}{TMP_SUFFIX}", segment_name(1)), &[0; 100]);
        // An empty segment (its first record lost) under a name the next append does not take.
        d.put(&segment_name(9), &{
            let mut s = encode_segment_header(9);
            s.resize(SEGMENT as usize, 0);
            s
        });
        let (mut log, opened) = open(&d);
        assert_eq!(opened, LogOpened { records: 0, segments: 1, cut: None });
        assert_eq!(d.list().unwrap(), vec![segment_name(9)]);
        append(&mut log, 3..=4, 1);
        assert_eq!(segments(&d), vec![segment_name(3)]);
        assert_eq!(all(&open(&d).0), expect(3..=4, 1));
    }
}
