//! What a MariaDB primary sends a replica or client for each event, by the capability the
//! client announced (`@mariadb_slave_capability`), and the rewrites that keep positions: a GTID
//! becomes a `BEGIN` query of the same length, an event the client cannot take a dummy of the
//! same length (a comment query, or a NULL user variable when too short for one).
//!
//! In: an event's bytes as stored, whether they carry a CRC-32, the capability and whether the
//! dump asked for ANNOTATE_ROWS (COM_BINLOG_DUMP flag 0x02). Out: [`Action`], and the rewritten
//! bytes. The rules are MariaDB 10.11's dump thread's (`send_event_to_slave`,
//! `Gtid_log_event::make_compatible_event`, `Query_log_event::begin_event` / `dummy_event`);
//! the end-to-end test `io-tokio/tests/wire.rs` holds them against a real MariaDB.

use crate::binlog::checksum::{event_crc, CHECKSUM_LEN};
use crate::binlog::events::mariadb_gtid::flags as gtid_flags;
use crate::binlog::header::HEADER_LEN_V4;
use crate::binlog::EventType;
use crate::mysql::errors::ServerError;

/// `@mariadb_slave_capability`: what the client understands. Absent (most non-MariaDB
/// clients): [`Capability::UNKNOWN`]. Any number above 4 is taken as 4, as MariaDB does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Capability(pub u8);

impl Capability {
    /// Knows none of MariaDB's own events.
    pub const UNKNOWN: Capability = Capability(0);
    /// Takes ANNOTATE_ROWS.
    pub const ANNOTATE: Capability = Capability(1);
    /// Takes holes in the positions: what it cannot use may be left out, not replaced.
    pub const TOLERATE_HOLES: Capability = Capability(2);
    pub const BINLOG_CHECKPOINT: Capability = Capability(3);
    /// Takes GTID and GTID_LIST events: every MariaDB replica since 10.0.
    pub const GTID: Capability = Capability(4);

    /// The session variable's value as MariaDB reads it: a number, else 0.
    pub fn from_var(v: Option<&str>) -> Capability {
        Capability(v.and_then(|v| v.trim().parse::<u64>().ok()).map_or(0, |n| n.min(4) as u8))
    }
}

/// What becomes of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    Drop,
    /// A dummy event of the same length ([`dummy_event`]).
    Dummy,
    /// A `BEGIN` query of the same length ([`begin_event`]).
    Begin,
}

/// Flags 2 of a MariaDB GTID event: offset 12 of its body.
const GTID_FLAGS2_AT: usize = HEADER_LEN_V4 + 12;
/// A dump thread's rewrites set this and clear THREAD_SPECIFIC.
const SUPPRESS_USE: u16 = 0x0008;
const THREAD_SPECIFIC: u16 = 0x0004;
/// Events from a session with `@@skip_replication` set (MariaDB's LOG_EVENT_SKIP_REPLICATION_F).
pub const SKIP_REPLICATION: u16 = 0x8000;

/// The rule for an event of type `t` (whose stored bytes are `raw`) sent to a client of
/// `cap`; `annotate` when the dump asked for ANNOTATE_ROWS.
pub fn action(t: EventType, raw: &[u8], cap: Capability, annotate: bool) -> Action {
    let holes = cap >= Capability::TOLERATE_HOLES;
    let left_out = if holes { Action::Drop } else { Action::Dummy };
    match t {
        EventType::ANNOTATE_ROWS if !annotate => match cap {
            Capability::UNKNOWN => Action::Dummy,
            Capability::ANNOTATE => Action::Send,
            _ => Action::Drop,
        },
        EventType::MARIADB_GTID if cap < Capability::GTID => {
            let standalone = raw.get(GTID_FLAGS2_AT).is_some_and(|f| f & gtid_flags::STANDALONE != 0);
            if standalone {
                left_out
            } else {
                Action::Begin
            }
        }
        EventType::BINLOG_CHECKPOINT if cap < Capability::BINLOG_CHECKPOINT => left_out,
        EventType::GTID_LIST if cap < Capability::GTID => left_out,
        _ => Action::Send,
    }
}

fn set_type_and_flags(out: &mut [u8], t: EventType) {
    out[4] = t.0;
    let flags = u16::from_le_bytes([out[17], out[18]]);
    out[17..19].copy_from_slice(&((flags & !THREAD_SPECIFIC) | SUPPRESS_USE).to_le_bytes());
}

fn seal(mut out: Vec<u8>, crc: bool) -> Vec<u8> {
    if crc {
        let n = out.len() - CHECKSUM_LEN;
        let c = event_crc(&out[..n], false);
        out[n..].copy_from_slice(&c.to_le_bytes());
    }
    out
}

/// The length of an event's header and body (its checksum left out).
fn data_len(raw: &[u8], crc: bool) -> usize {
    raw.len().saturating_sub(if crc { CHECKSUM_LEN } else { 0 })
}

/// The query event header's fixed part: thread id, exec time, db length, error code.
const QUERY_POST_HEADER: [u8; 11] = [0; 11];

/// A MariaDB GTID event as the `BEGIN` query a client without GTID capability gets: the same
/// timestamp, server id, length and position. Only GTIDs of 19 or 21 body bytes (without or
/// with a commit id) can be: others (XA) end the dump, as MariaDB's does.
pub fn begin_event(raw: &[u8], crc: bool) -> Result<Vec<u8>, ServerError> {
    let body = data_len(raw, crc).saturating_sub(HEADER_LEN_V4);
    let status: &[u8] = match body {
        19 => &[],
        // Q_TIME_ZONE_CODE of length 0 fills the commit id's two extra bytes.
        21 => &[0x05, 0x00],
        _ => return Err(ServerError::binlog("Failed to replace GTID event with backwards-compatible event: corrupt event.")),
    };
    let mut out = raw[..HEADER_LEN_V4].to_vec();
    set_type_and_flags(&mut out, EventType::QUERY);
    out.extend_from_slice(&QUERY_POST_HEADER);
    out.extend_from_slice(&(status.len() as u16).to_le_bytes());
    out.extend_from_slice(status);
    out.push(0);
    out.extend_from_slice(b"BEGIN");
    out.resize(raw.len(), 0);
    Ok(seal(out, crc))
}

/// The smallest event a dummy can stand for (a user variable with a one-byte name).
const DUMMY_MIN: usize = 25;
/// From this length on, a dummy is a comment query.
const DUMMY_QUERY_MIN: usize = 34;

/// An event a client cannot take, as the dummy of the same length MariaDB sends in its place
/// (a comment query, or a NULL user variable when the event is too short for one), so that
/// positions stay the same. `what` names the event in the error when it is too short for any.
pub fn dummy_event(raw: &[u8], crc: bool, what: &str) -> Result<Vec<u8>, ServerError> {
    let len = data_len(raw, crc);
    if len < DUMMY_MIN || raw.len() < HEADER_LEN_V4 {
        return Err(ServerError::binlog(format!("Failed to replace {what} event with dummy event: too small event.")));
    }
    let mut out = raw[..HEADER_LEN_V4].to_vec();
    if len < DUMMY_QUERY_MIN {
        set_type_and_flags(&mut out, EventType::USER_VAR);
        let name_len = len - 24;
        out.extend_from_slice(&(name_len as u32).to_le_bytes());
        out.extend_from_slice(&b"!dummyvar"[..name_len]);
        // Is NULL.
        out.push(1);
    } else {
        set_type_and_flags(&mut out, EventType::QUERY);
        out.extend_from_slice(&QUERY_POST_HEADER);
        // No status variables, an empty database name.
        out.extend_from_slice(&[0, 0, 0]);
        let text = format!("# Dummy event replacing event type {} that slave cannot handle.", raw[4]);
        let n = len - 33;
        let mut query = text.into_bytes();
        query.resize(n, b' ');
        out.extend_from_slice(&query);
    }
    out.resize(raw.len(), 0);
    Ok(seal(out, crc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::checksum::ChecksumAlg;
    use crate::binlog::decoder::Decoder;
    use crate::binlog::event::Event;
    use crate::binlog::events::gtid_list::GtidList;
    use crate::binlog::events::mariadb_gtid::MariaGtidEvent;
    use crate::binlog::events::EventBody;
    use crate::binlog::EventHeader;
    use crate::gtid::MariaGtid;

    fn encode(t: EventType, body: EventBody, crc: bool) -> Vec<u8> {
        let h = EventHeader { timestamp: 1_700_000_000, event_type: t, server_id: 7, event_size: 0, log_pos: 1234, flags: 0x0008 | 0x0004 };
        Event::new(h, body, if crc { ChecksumAlg::Crc32 } else { ChecksumAlg::None }).encode()
    }

    fn gtid(flags: u8, commit_id: Option<u64>) -> EventBody {
        EventBody::MariaGtid(MariaGtidEvent { seq: 42, domain: 3, flags, commit_id, xid: None, flags_extra: None, extra_engines: None, start_alter_seq: None, thread_id: None })
    }

    /// The rewritten event decodes, with a valid CRC, as what it stands for.
    fn decoded(bytes: &[u8], crc: bool) -> Event {
        let mut d = Decoder::for_stream(if crc { ChecksumAlg::Crc32 } else { ChecksumAlg::None });
        d.decode_next(bytes, 1234 - bytes.len() as u64).unwrap().unwrap()
    }

    #[test]
    fn a_gtid_becomes_a_begin_of_the_same_length_and_position() {
        for (commit_id, crc) in [(None, true), (Some(9), true), (None, false), (Some(9), false)] {
            let raw = encode(EventType::MARIADB_GTID, gtid(gtid_flags::TRANSACTIONAL, commit_id), crc);
            let b = begin_event(&raw, crc).unwrap();
            assert_eq!(b.len(), raw.len());
            assert_eq!(b[..4], raw[..4], "timestamp");
            assert_eq!(b[5..17], raw[5..17], "server id, length, position");
            let ev = decoded(&b, crc);
            assert_eq!(ev.header.flags, 0x0008);
            match ev.body {
                EventBody::Query(q) => {
                    assert_eq!(q.query, b"BEGIN");
                    assert!(q.db.is_empty());
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_xa_gtid_cannot_become_a_begin() {
        let mut raw = encode(EventType::MARIADB_GTID, gtid(0, None), false);
        raw.extend_from_slice(&[0; 30]);
        let n = raw.len() as u32;
        raw[9..13].copy_from_slice(&n.to_le_bytes());
        assert!(begin_event(&raw, false).is_err());
    }

    #[test]
    fn dummies_keep_the_length_and_say_what_they_replace() {
        // A one-GTID GTID_LIST: 39 bytes and its CRC, a comment query of 6 bytes.
        let list = EventBody::GtidList(GtidList { flags: 0, gtids: vec![MariaGtid { domain: 0, server: 1, seq: 5 }], padding: Vec::new() });
        let raw = encode(EventType::GTID_LIST, list, true);
        assert_eq!(raw.len(), 43);
        let d = dummy_event(&raw, true, "gtid list").unwrap();
        assert_eq!(d.len(), 43);
        match decoded(&d, true).body {
            EventBody::Query(q) => assert_eq!(q.query, b"# Dumm"),
            other => panic!("{other:?}"),
        }
        // Long: the whole text, padded with spaces.
        let long = encode(EventType::ANNOTATE_ROWS, EventBody::AnnotateRows(crate::binlog::events::simple::AnnotateRows { query: vec![b'x'; 100] }), true);
        match decoded(&dummy_event(&long, true, "annotate rows").unwrap(), true).body {
            EventBody::Query(q) => {
                let text = String::from_utf8(q.query).unwrap();
                assert_eq!(text.trim_end(), "# Dummy event replacing event type 160 that slave cannot handle.");
                // 19 + 100 bytes without the CRC, 33 of them before the query.
                assert_eq!(text.len(), 119 - 33);
            }
            other => panic!("{other:?}"),
        }
        // An empty GTID_LIST (19 + 4 + 2 padding bytes, and its CRC): a NULL user variable named "!".
        let empty = encode(EventType::GTID_LIST, EventBody::GtidList(GtidList { flags: 0, gtids: vec![], padding: vec![0, 0] }), true);
        let d = dummy_event(&empty, true, "gtid list").unwrap();
        assert_eq!(d.len(), empty.len());
        assert_eq!(d[4], EventType::USER_VAR.0);
        let name_len = u32::from_le_bytes([d[19], d[20], d[21], d[22]]) as usize;
        assert_eq!(&d[23..23 + name_len], &b"!dummyvar"[..name_len]);
        assert_eq!(d[23 + name_len], 1, "NULL");
        // Too short for any dummy.
        assert!(dummy_event(&empty[..23], false, "gtid list").is_err());
    }

    #[test]
    fn what_each_capability_gets() {
        let std = encode(EventType::MARIADB_GTID, gtid(gtid_flags::TRANSACTIONAL, None), true);
        let alone = encode(EventType::MARIADB_GTID, gtid(gtid_flags::STANDALONE, None), true);
        let rows: Vec<Action> = (0..=4).map(|c| action(EventType::MARIADB_GTID, &std, Capability(c), false)).collect();
        assert_eq!(rows, [Action::Begin, Action::Begin, Action::Begin, Action::Begin, Action::Send]);
        let rows: Vec<Action> = (0..=4).map(|c| action(EventType::MARIADB_GTID, &alone, Capability(c), false)).collect();
        assert_eq!(rows, [Action::Dummy, Action::Dummy, Action::Drop, Action::Drop, Action::Send]);
        let rows: Vec<Action> = (0..=4).map(|c| action(EventType::ANNOTATE_ROWS, &[], Capability(c), false)).collect();
        assert_eq!(rows, [Action::Dummy, Action::Send, Action::Drop, Action::Drop, Action::Drop]);
        let rows: Vec<Action> = (0..=4).map(|c| action(EventType::ANNOTATE_ROWS, &[], Capability(c), true)).collect();
        assert_eq!(rows, [Action::Send; 5]);
        let rows: Vec<Action> = (0..=4).map(|c| action(EventType::BINLOG_CHECKPOINT, &[], Capability(c), false)).collect();
        assert_eq!(rows, [Action::Dummy, Action::Dummy, Action::Drop, Action::Send, Action::Send]);
        let rows: Vec<Action> = (0..=4).map(|c| action(EventType::GTID_LIST, &[], Capability(c), false)).collect();
        assert_eq!(rows, [Action::Dummy, Action::Dummy, Action::Drop, Action::Drop, Action::Send]);
        assert_eq!(Capability::from_var(None), Capability::UNKNOWN);
        assert_eq!(Capability::from_var(Some("4")), Capability::GTID);
        assert_eq!(Capability::from_var(Some("9")), Capability::GTID);
        assert_eq!(Capability::from_var(Some("x")), Capability::UNKNOWN);
    }
}
