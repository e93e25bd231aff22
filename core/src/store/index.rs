//! What a binlog file holds, found by reading it once: its format, the GTID state before it
//! (MariaDB GTID_LIST, MySQL PREVIOUS_GTIDS), its size, where its last complete group ends, and
//! whether it is closed (ends with ROTATE or STOP).

use super::groups::GroupTracker;
use crate::binlog::decoder::Decoder;
use crate::binlog::error::BinlogError;
use crate::binlog::event::Event;
use crate::binlog::events::EventBody;
use crate::binlog::EventType;
use crate::binlog::frame::{check_magic, FrameState, Framed};
use crate::binlog::ChecksumAlg;
use crate::gtid::mysql::{GtidSet, Tag};
use crate::binlog::events::table_map::TableMap;
use crate::gtid::{MariaGtid, MariaGtidPos};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub name: String,
    pub size: u64,
    pub server_version: String,
    pub mariadb: bool,
    pub checksum: ChecksumAlg,
    pub server_id: u32,
    /// MariaDB: the binlog state at the start of the file (GTID_LIST), one per domain and server.
    pub start_gtid_list: Vec<MariaGtid>,
    /// MySQL: the GTIDs of all earlier files (PREVIOUS_GTIDS).
    pub previous_gtids: GtidSet,
    /// MariaDB: the last GTID of each domain in this file.
    pub last_gtids: MariaGtidPos,
    /// MySQL: the GTIDs in this file.
    pub gtids: GtidSet,
    /// Offset just past the last complete group: what survives recovery.
    pub complete_end: u64,
    /// The file ends with ROTATE or STOP: nothing more will be written to it.
    pub closed: bool,
    /// The file its closing ROTATE names.
    pub next_file: Option<String>,
    pub events: u64,
    /// The first decode error, if the file is damaged after `complete_end`.
    pub error: Option<BinlogError>,
    /// The newest event timestamp in the file (the primary's clock, seconds): what PURGE
    /// BINARY LOGS BEFORE compares, the same on every node, where a file's mtime is not.
    pub last_timestamp: u32,
    /// The last TABLE_MAP of each table in this file, by (schema, table): what binraft knows of
    /// tables' columns (names and types with binlog_row_metadata=FULL).
    pub tables: BTreeMap<(String, String), Arc<TableMap>>,
}

/// The store's files as a dump sees them: one snapshot shared by every reader, replaced (not
/// copied) when the store grows.
pub type Files = Arc<Vec<Arc<FileSummary>>>;

/// The MySQL GTIDs the files hold: each one's PREVIOUS_GTIDS and its own GTIDs.
pub fn gtid_executed(files: &[Arc<FileSummary>]) -> GtidSet {
    files.iter().fold(GtidSet::new(), |set, f| set.union(&f.previous_gtids).union(&f.gtids))
}

/// The MariaDB GTID position the files reach: the last GTID of each domain.
pub fn gtid_position(files: &[Arc<FileSummary>]) -> MariaGtidPos {
    files.iter().fold(MariaGtidPos::new(), |pos, f| pos.union(&f.start_gtid_list.iter().copied().collect()).union(&f.last_gtids))
}

/// MariaDB's `binlog_gtid_pos(file, pos)`: the GTID position a replica that has read `file` up
/// to `pos` is at. At the file's stored end it is the summary's own answer, read from no file;
/// before it, `head` (the file's first `pos` bytes) is read for its GTID events only, rows
/// skipped. None for a position outside the file's stored part or inside a damaged head.
pub fn gtid_pos_at(f: &FileSummary, pos: u64, head: impl FnOnce(u64) -> Option<Vec<u8>>) -> Option<MariaGtidPos> {
    let start: MariaGtidPos = f.start_gtid_list.iter().copied().collect();
    if pos < 4 || pos > f.complete_end {
        return None;
    }
    if pos == f.complete_end {
        return Some(start.union(&f.last_gtids));
    }
    let bytes = head(pos)?;
    let mut dec = Decoder::for_file().decode_rows(false);
    let mut state = start;
    let mut at = 4usize;
    while at < bytes.len() {
        let ev = dec.decode_next(&bytes[at..], at as u64).ok()??;
        at += ev.header.event_size as usize;
        if let EventBody::MariaGtid(g) = &ev.body {
            state.update(MariaGtid { domain: g.domain, server: ev.header.server_id, seq: g.seq });
        }
    }
    Some(state)
}

/// Shares summaries as a [`Files`] snapshot.
pub fn share(files: Vec<FileSummary>) -> Files {
    Arc::new(files.into_iter().map(Arc::new).collect())
}

fn table_key(t: &TableMap) -> (String, String) {
    (String::from_utf8_lossy(&t.schema).into_owned(), String::from_utf8_lossy(&t.table).into_owned())
}

/// Reads a whole file. A damaged or torn tail is not an error here: the summary says where the
/// complete part ends, and `error` what stopped the read.
pub fn summarize(name: &str, bytes: &[u8]) -> Result<FileSummary, BinlogError> {
    check_magic(bytes)?;
    let mut dec = Decoder::for_file().decode_rows(false);
    let mut groups = GroupTracker::new();
    let mut facts = GroupFacts::new();
    let mut s = FileSummary::empty(name);
    let mut pos = 4usize;
    while pos < bytes.len() {
        let ev = match dec.decode_next(&bytes[pos..], pos as u64) {
            Ok(Some(ev)) => ev,
            Ok(None) => {
                s.error = Some(crate::binlog::frame::incomplete_error(&bytes[pos..], pos as u64, dec.frame_state().header_len()));
                break;
            }
            Err(e) => {
                s.error = Some(e);
                break;
            }
        };
        pos += ev.header.event_size as usize;
        facts.observe(&ev);
        if groups.observe(&ev) {
            s.apply(&facts.finish());
        }
    }
    // A group cut short (a torn tail, or damage) is not part of the file's complete part: none
    // of its facts count, but its events were read and its bytes are there.
    s.events += facts.events();
    s.size = bytes.len() as u64;
    Ok(s)
}

/// The facts of one group as its events go by: the one definition of what an event adds to its
/// file's summary, for [`summarize`] reading a file and the upstream receiving a stream (which
/// once kept a copy of its own, and missed MySQL 9's tagged GTIDs).
#[derive(Debug, Clone, Default)]
pub struct GroupFacts {
    facts: Appended,
}

impl GroupFacts {
    pub fn new() -> Self {
        GroupFacts::default()
    }

    /// Accounts for the group's next event.
    pub fn observe(&mut self, ev: &Event) {
        let a = &mut self.facts;
        a.events += 1;
        a.len += u64::from(ev.header.event_size);
        if a.events == 1 {
            a.timestamp = ev.header.timestamp;
            a.server_id = ev.header.server_id;
        }
        match &ev.body {
            EventBody::FormatDescription(f) => {
                a.format = Some((f.server_version(), f.is_mariadb(), f.checksum().unwrap_or(ChecksumAlg::None), ev.header.server_id));
            }
            // An artificial one (a dump's, in place of skipped groups) is not the file's start.
            EventBody::GtidList(l) if !ev.header.is_artificial() => a.start_gtid_list = Some(l.gtids.clone()),
            EventBody::PreviousGtids(p) => a.previous_gtids = Some(p.set.clone()),
            EventBody::TableMap(t) => a.tables.push(Arc::clone(t)),
            EventBody::MariaGtid(g) => a.mariadb_gtids.push(MariaGtid { domain: g.domain, server: ev.header.server_id, seq: g.seq }),
            // Type 33 only: ANONYMOUS_GTID (34) decodes alike and has no GTID.
            EventBody::Gtid(g) if ev.kind == EventType::GTID && g.gno > 0 => a.mysql_gtids.add_range(g.uuid, Tag::untagged(), g.gno as u64, g.gno as u64),
            EventBody::TaggedGtid(g) => {
                if let (Some(u), Some(n)) = (g.uuid, g.gno) {
                    a.mysql_gtids.add_range(u, g.tag.clone().unwrap_or_default(), n as u64, n as u64);
                }
            }
            EventBody::Rotate(r) => {
                a.closes = true;
                a.rotate_to = Some(String::from_utf8_lossy(&r.next_file).into_owned());
            }
            EventBody::Stop => a.closes = true,
            _ => {}
        }
    }

    /// Events observed since the last [`GroupFacts::finish`].
    pub fn events(&self) -> u64 {
        self.facts.events
    }

    /// The group ended with the last event observed: its facts, and the accumulator starts over.
    pub fn finish(&mut self) -> Appended {
        std::mem::take(&mut self.facts)
    }
}

/// Frames only: the offset just past the last whole event of `bytes` (a file's torn tail
/// starts there).
pub fn whole_events_end(bytes: &[u8]) -> u64 {
    if check_magic(bytes).is_err() {
        return 0;
    }
    let mut st = FrameState::for_file();
    let mut pos = 4usize;
    while pos < bytes.len() {
        match st.frame(&bytes[pos..], pos as u64) {
            Ok(Framed::Event(f)) => pos += f.bytes.len(),
            _ => break,
        }
    }
    pos as u64
}

/// What an append of whole groups adds to a file, as the upstream saw it while streaming.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appended {
    pub events: u64,
    pub len: u64,
    /// Timestamp and server id of the group's first event (what SHOW SLAVE STATUS reports).
    pub timestamp: u32,
    pub server_id: u32,
    /// FORMAT_DESCRIPTION facts, when the append starts the file.
    pub format: Option<(String, bool, ChecksumAlg, u32)>,
    pub start_gtid_list: Option<Vec<MariaGtid>>,
    pub previous_gtids: Option<GtidSet>,
    pub mariadb_gtids: Vec<MariaGtid>,
    pub mysql_gtids: GtidSet,
    /// Ends with ROTATE or STOP.
    pub closes: bool,
    /// The file a closing ROTATE names.
    pub rotate_to: Option<String>,
    pub tables: Vec<Arc<TableMap>>,
    /// Not a whole group: a piece of one larger than the upstream holds in memory. The store
    /// writes it and shows nothing of it until the group's last piece (a whole `Appended`,
    /// whose facts are the whole group's) follows it.
    pub part: bool,
}

impl Appended {
    /// A piece of a group, with no facts of its own.
    pub fn part() -> Appended {
        Appended { part: true, ..Appended::default() }
    }
}

impl FileSummary {
    /// The summary of a file that holds only the magic so far.
    pub fn empty(name: &str) -> FileSummary {
        FileSummary {
            name: name.to_string(),
            size: 4,
            server_version: String::new(),
            mariadb: false,
            checksum: ChecksumAlg::None,
            server_id: 0,
            start_gtid_list: Vec::new(),
            previous_gtids: GtidSet::new(),
            last_gtids: MariaGtidPos::new(),
            gtids: GtidSet::new(),
            complete_end: 4,
            closed: false,
            next_file: None,
            events: 0,
            error: None,
            last_timestamp: 0,
            tables: BTreeMap::new(),
        }
    }

    /// Accounts for whole groups appended at the end of the file.
    pub fn apply(&mut self, a: &Appended) {
        self.size += a.len;
        self.complete_end = self.size;
        self.events += a.events;
        self.last_timestamp = self.last_timestamp.max(a.timestamp);
        if let Some((v, mariadb, checksum, server_id)) = &a.format {
            self.server_version = v.clone();
            self.mariadb = *mariadb;
            self.checksum = *checksum;
            self.server_id = *server_id;
        }
        // MariaDB writes the start state among a file's first three events; a GTID_LIST later
        // in a file does not say how it started.
        if let (Some(l), true) = (&a.start_gtid_list, self.events - a.events < 3) {
            self.start_gtid_list = l.clone();
        }
        if let Some(p) = &a.previous_gtids {
            self.previous_gtids = p.clone();
        }
        for g in &a.mariadb_gtids {
            self.last_gtids.update(*g);
        }
        self.gtids = self.gtids.union(&a.mysql_gtids);
        self.closed |= a.closes;
        if a.rotate_to.is_some() {
            self.next_file = a.rotate_to.clone();
        }
        for t in &a.tables {
            self.tables.insert(table_key(t), Arc::clone(t));
        }
    }
}
