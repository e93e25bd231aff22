//! The persisted index of closed files: one JSON line per file with everything its
//! [`FileSummary`] holds, so that a store opens by reading these lines and its newest file only,
//! not every byte it has ever stored.
//!
//! Lines are appended as files close; a later line for the same name replaces an earlier one. A
//! line that does not parse (a write cut by a crash) is skipped and its file read again, so the
//! index is a cache of what the files say: the files stay the truth.

use super::index::FileSummary;
use crate::binlog::checksum::ChecksumAlg;
use crate::binlog::decoder::Decoder;
use crate::binlog::events::EventBody;
use crate::binlog::header::EventHeader;
use crate::binlog::{Event, EventType};
use crate::gtid::{GtidSet, MariaGtid, MariaGtidPos};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The format of a line, written in each: a reader skips lines of a version it does not know.
/// 2: `last_timestamp`. A line of version 1 is skipped, so its file is read again.
const VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Line {
    v: u32,
    name: String,
    size: u64,
    server_version: String,
    mariadb: bool,
    checksum: String,
    server_id: u32,
    start_gtid_list: Vec<String>,
    previous_gtids: String,
    last_gtids: String,
    gtids: String,
    complete_end: u64,
    closed: bool,
    next_file: Option<String>,
    events: u64,
    last_timestamp: u32,
    /// Each table's last TABLE_MAP as an event without checksum, base64.
    tables: Vec<String>,
}

/// Whether a summary can be kept in the index: a closed, undamaged file whose table maps re-read
/// without the file's FORMAT_DESCRIPTION (6-byte table ids, as every v4 server writes).
pub fn persistable(s: &FileSummary) -> bool {
    s.closed && s.error.is_none() && s.complete_end == s.size && s.tables.values().all(|t| t.table_id_len == 6)
}

/// One index line (with its newline) for a closed file.
pub fn encode_line(s: &FileSummary) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let tables = s
        .tables
        .values()
        .map(|t| {
            let header = EventHeader { timestamp: 0, event_type: EventType::TABLE_MAP, server_id: 0, event_size: 0, log_pos: 0, flags: 0 };
            b64.encode(Event::new(header, EventBody::TableMap(Arc::clone(t)), ChecksumAlg::None).encode())
        })
        .collect();
    let line = Line {
        v: VERSION,
        name: s.name.clone(),
        size: s.size,
        server_version: s.server_version.clone(),
        mariadb: s.mariadb,
        checksum: s.checksum.name().into(),
        server_id: s.server_id,
        start_gtid_list: s.start_gtid_list.iter().map(ToString::to_string).collect(),
        previous_gtids: s.previous_gtids.to_string(),
        last_gtids: s.last_gtids.to_string(),
        gtids: s.gtids.to_string(),
        complete_end: s.complete_end,
        closed: s.closed,
        next_file: s.next_file.clone(),
        events: s.events,
        last_timestamp: s.last_timestamp,
        tables,
    };
    // A struct of strings and numbers always serializes.
    let mut out = serde_json::to_string(&line).unwrap_or_default();
    out.push('\n');
    out
}

/// Reads one line back; an error says why it is skipped.
pub fn decode_line(text: &str) -> Result<FileSummary, String> {
    let l: Line = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if l.v != VERSION {
        return Err(format!("index line version {} (this binraft writes {VERSION})", l.v));
    }
    let checksum = match l.checksum.as_str() {
        "NONE" => ChecksumAlg::None,
        "CRC32" => ChecksumAlg::Crc32,
        other => return Err(format!("unknown checksum {other:?}")),
    };
    let mut s = FileSummary::empty(&l.name);
    s.size = l.size;
    s.server_version = l.server_version;
    s.mariadb = l.mariadb;
    s.checksum = checksum;
    s.server_id = l.server_id;
    s.start_gtid_list = l.start_gtid_list.iter().map(|g| MariaGtid::parse(g).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    s.previous_gtids = GtidSet::parse(&l.previous_gtids).map_err(|e| e.to_string())?;
    s.last_gtids = if l.last_gtids.is_empty() { MariaGtidPos::new() } else { MariaGtidPos::parse(&l.last_gtids).map_err(|e| e.to_string())? };
    s.gtids = GtidSet::parse(&l.gtids).map_err(|e| e.to_string())?;
    s.complete_end = l.complete_end;
    s.closed = l.closed;
    s.next_file = l.next_file;
    s.events = l.events;
    s.last_timestamp = l.last_timestamp;
    let b64 = base64::engine::general_purpose::STANDARD;
    for t in &l.tables {
        let bytes = b64.decode(t).map_err(|e| format!("table map: {e}"))?;
        let mut dec = Decoder::for_stream(ChecksumAlg::None);
        match dec.decode_next(&bytes, 0) {
            Ok(Some(Event { body: EventBody::TableMap(t), .. })) => {
                s.tables.insert((String::from_utf8_lossy(&t.schema).into_owned(), String::from_utf8_lossy(&t.table).into_owned()), t);
            }
            other => return Err(format!("table map does not decode: {other:?}")),
        }
    }
    Ok(s)
}

/// Every summary the index holds, by file name (the last line for a name wins), and the lines
/// skipped with the reason.
pub fn decode_all(text: &str) -> (std::collections::BTreeMap<String, FileSummary>, Vec<(usize, String)>) {
    let mut found = std::collections::BTreeMap::new();
    let mut skipped = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match decode_line(line) {
            Ok(s) => {
                found.insert(s.name.clone(), s);
            }
            Err(e) => skipped.push((i + 1, e)),
        }
    }
    (found, skipped)
}
