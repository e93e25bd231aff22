//! The common header in front of every event: 19 bytes since binlog v3, 13 in v1.

use super::error::BinlogError;
use super::event_type::EventType;
use crate::codec::Reader;

/// Header length of binlog v3 and v4 files (MySQL 4.0 on).
pub const HEADER_LEN_V4: usize = 19;
/// Header length of binlog v1 files (MySQL 3.23): no end position, no flags.
pub const HEADER_LEN_V1: usize = 13;

/// Header flags (the `flags` field). Only the ones binraft acts on or shows.
pub mod flags {
    /// FORMAT_DESCRIPTION of a file that the server has not closed yet.
    pub const BINLOG_IN_USE: u16 = 0x0001;
    /// Made up by the sender (artificial ROTATE, GTID_LIST), never stored by the primary.
    pub const ARTIFICIAL: u16 = 0x0020;
    /// Sent by a relay (MySQL 5.6 on), not read from the primary's binlog.
    pub const RELAY_LOG: u16 = 0x0040;
    /// A replica that does not know the event type may skip it.
    pub const IGNORABLE: u16 = 0x0080;
}

/// Whether two encoded v4 events are the same event: byte for byte, except what a dump thread
/// rewrites in a FORMAT_DESCRIPTION: the in-use flag (set on disk while its file is active,
/// clear in a replication stream) and the creation time (MariaDB sends it in a dump by file and
/// position from the first file, and 0 in a GTID dump), with the checksum over it, the last four
/// bytes (in an event without a checksum, the last post-header lengths, which the same server
/// writes the same).
pub fn same_event(a: &[u8], b: &[u8]) -> bool {
    const FLAGS: usize = 17;
    // The body's binlog version (2 bytes) and server version (50) come before the creation time.
    const CREATED: std::ops::Range<usize> = HEADER_LEN_V4 + 52..HEADER_LEN_V4 + 56;
    if a.len() != b.len() || a.len() < CREATED.end + 4 || a[4] != EventType::FORMAT_DESCRIPTION.0 {
        return a == b;
    }
    let end = a.len() - 4;
    a[..FLAGS] == b[..FLAGS] && (a[FLAGS] ^ b[FLAGS]) & !(flags::BINLOG_IN_USE as u8) == 0 && a[FLAGS + 1..CREATED.start] == b[FLAGS + 1..CREATED.start] && a[CREATED.end..end] == b[CREATED.end..end]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    /// Seconds since the epoch when the statement began.
    pub timestamp: u32,
    pub event_type: EventType,
    pub server_id: u32,
    /// Length of the whole event: header, body and checksum.
    pub event_size: u32,
    /// Position of the next event in the primary's file (0 in v1 files and some artificial events).
    pub log_pos: u32,
    pub flags: u16,
}

impl EventHeader {
    /// Reads a header of `len` bytes (13 or 19) at `offset` for error context.
    pub fn read(bytes: &[u8], len: usize, offset: u64) -> Result<EventHeader, BinlogError> {
        let short = |_| BinlogError::TruncatedHeader { offset, have: bytes.len() };
        let mut r = Reader::new(bytes);
        let timestamp = r.u32("timestamp").map_err(short)?;
        let event_type = EventType(r.u8("type").map_err(short)?);
        let server_id = r.u32("server_id").map_err(short)?;
        let event_size = r.u32("event_size").map_err(short)?;
        let (log_pos, flags) = if len >= HEADER_LEN_V4 {
            (r.u32("log_pos").map_err(short)?, r.u16("flags").map_err(short)?)
        } else {
            (0, 0)
        };
        Ok(EventHeader { timestamp, event_type, server_id, event_size, log_pos, flags })
    }

    /// Writes the header in `len` bytes (13 or 19).
    pub fn write(&self, out: &mut Vec<u8>, len: usize) {
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        out.push(self.event_type.0);
        out.extend_from_slice(&self.server_id.to_le_bytes());
        out.extend_from_slice(&self.event_size.to_le_bytes());
        if len >= HEADER_LEN_V4 {
            out.extend_from_slice(&self.log_pos.to_le_bytes());
            out.extend_from_slice(&self.flags.to_le_bytes());
        }
    }

    pub fn is_artificial(&self) -> bool {
        self.flags & flags::ARTIFICIAL != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_event_ignores_only_what_a_dump_rewrites_in_a_format_description() {
        let mut fde = vec![0u8; 100];
        fde[4] = EventType::FORMAT_DESCRIPTION.0;
        let mut in_use = fde.clone();
        in_use[17] |= flags::BINLOG_IN_USE as u8;
        assert!(same_event(&fde, &in_use));
        let mut other_flag = fde.clone();
        other_flag[17] |= 0x02;
        assert!(!same_event(&fde, &other_flag));
        let mut body = fde.clone();
        body[30] = 1;
        assert!(!same_event(&fde, &body));
        // The creation time (and the checksum over it) as a GTID dump sends it: the same event.
        let mut created = fde.clone();
        created[71..75].copy_from_slice(&[1, 2, 3, 4]);
        created[96..100].copy_from_slice(&[9, 9, 9, 9]);
        assert!(same_event(&fde, &created));
        let mut post_header = fde.clone();
        post_header[75] = 7;
        assert!(!same_event(&fde, &post_header), "the rest of the body counts");
        // Any other event: byte for byte.
        let (mut query, mut query_in_use) = (fde.clone(), in_use.clone());
        query[4] = EventType::QUERY.0;
        query_in_use[4] = EventType::QUERY.0;
        assert!(!same_event(&query, &query_in_use));
        assert!(!same_event(&fde, &fde[..39]));
    }
}
