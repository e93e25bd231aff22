//! `SHOW BINLOG EVENTS [IN 'file'] [FROM pos] [LIMIT [offset,] count]`: the statement, and each
//! event's row (Log_name, Pos, Event_type, Server_id, End_log_pos, Info) with the Info text the
//! servers print. [`Rows`] gathers them, never more than [`SHOW_EVENTS_ROWS_MAX`].

use crate::binlog::event::Event;
use crate::binlog::events::rows::flags::STMT_END;
use crate::binlog::events::EventBody;
use crate::binlog::EventType;
use crate::mysql::errors::ServerError;
use crate::mysql::response::ResultSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowBinlogEvents {
    /// `None`: the first binlog.
    pub file: Option<String>,
    pub from: u64,
    pub offset: u64,
    pub limit: Option<u64>,
}

/// Recognises the statement; `None` when `sql` is something else.
pub fn parse(sql: &str) -> Option<Result<ShowBinlogEvents, ServerError>> {
    let s = sql.trim().trim_end_matches(';').trim();
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("show binlog events")?;
    let orig_rest = &s[s.len() - rest.len()..];
    let mut q = ShowBinlogEvents { file: None, from: 4, offset: 0, limit: None };
    let words: Vec<&str> = orig_rest.split_whitespace().collect();
    let mut i = 0;
    let bad = || Some(Err(ServerError::syntax(s)));
    while i < words.len() {
        match words[i].to_ascii_lowercase().as_str() {
            "in" => {
                let f = words.get(i + 1)?.trim_matches(|c| c == '\'' || c == '"');
                q.file = Some(f.to_string());
                i += 2;
            }
            "from" => {
                let Some(n) = words.get(i + 1).and_then(|w| w.parse().ok()) else { return bad() };
                q.from = n;
                i += 2;
            }
            "limit" => {
                let arg: String = words[i + 1..].concat();
                let (a, b) = match arg.split_once(',') {
                    Some((a, b)) => (Some(a), b),
                    None => (None, arg.as_str()),
                };
                let (Ok(count), Ok(off)) = (b.trim().parse::<u64>(), a.map_or(Ok(0), |a| a.trim().parse::<u64>())) else { return bad() };
                q.limit = Some(count);
                q.offset = off;
                i = words.len();
            }
            _ => return bad(),
        }
    }
    Some(Ok(q))
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The Info column of one event.
pub fn info(ev: &Event) -> String {
    match &ev.body {
        EventBody::FormatDescription(f) => format!("Server ver: {}, Binlog ver: {}", f.server_version(), f.binlog_version),
        EventBody::Query(q) => {
            let sql = s(q.sql());
            if q.db.is_empty() { sql } else { format!("use `{}`; {sql}", s(&q.db)) }
        }
        EventBody::Rotate(r) => format!("{};pos={}", s(&r.next_file), r.position.unwrap_or(4)),
        EventBody::Xid(x) => format!("COMMIT /* xid={} */", x.xid),
        EventBody::TableMap(t) => format!("table_id: {} ({}.{})", t.table_id, s(&t.schema), s(&t.table)),
        EventBody::Rows(r) => {
            let mut i = format!("table_id: {}", r.table_id);
            if r.flags & STMT_END != 0 {
                i.push_str(" flags: STMT_END_F");
            }
            i
        }
        EventBody::MariaGtid(g) => {
            let gtid = format!("{}-{}-{}", g.domain, ev.header.server_id, g.seq);
            if g.is_standalone() { format!("GTID {gtid}") } else { format!("BEGIN GTID {gtid}") }
        }
        EventBody::GtidList(l) => format!("[{}]", l.gtids.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(",")),
        EventBody::BinlogCheckpoint(c) => s(&c.file),
        EventBody::AnnotateRows(a) => s(&a.query),
        EventBody::RowsQuery(q) => format!("# {}", s(&q.query)),
        EventBody::Gtid(g) if ev.kind == EventType::ANONYMOUS_GTID => "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'".into(),
        EventBody::Gtid(g) => format!("SET @@SESSION.GTID_NEXT= '{}:{}'", g.uuid, g.gno),
        EventBody::TaggedGtid(g) => {
            let tag = g.tag.as_ref().map(|t| format!(":{}", t.as_str())).unwrap_or_default();
            format!("SET @@SESSION.GTID_NEXT= '{}{tag}:{}'", g.uuid.unwrap_or_default(), g.gno.unwrap_or(0))
        }
        EventBody::PreviousGtids(p) => p.set.to_string(),
        EventBody::IntVar(v) => format!("{}={}", v.kind_name(), v.value),
        EventBody::Rand(r) => format!("rand_seed1={},rand_seed2={}", r.seed1, r.seed2),
        EventBody::UserVar(u) => format!("@`{}`={}", s(&u.name), u.value_text()),
        EventBody::Stop => String::new(),
        _ => String::new(),
    }
}

/// The most rows one SHOW BINLOG EVENTS returns, with LIMIT or without: the result set is built
/// in memory. A larger file is read in pages, with `LIMIT offset, count` or `FROM pos`.
pub const SHOW_EVENTS_ROWS_MAX: u64 = 10_000;

/// The rows of one SHOW BINLOG EVENTS, from the events of its file in order: the first
/// `offset` are skipped, then at most `limit` kept, and never more than
/// [`SHOW_EVENTS_ROWS_MAX`].
#[derive(Debug)]
pub struct Rows {
    file: String,
    skip: u64,
    want: u64,
    rs: ResultSet,
}

impl Rows {
    pub fn new(q: &ShowBinlogEvents, file: &str) -> Rows {
        let want = q.limit.unwrap_or(SHOW_EVENTS_ROWS_MAX).min(SHOW_EVENTS_ROWS_MAX);
        Rows { file: file.to_string(), skip: q.offset, want, rs: result_set() }
    }

    /// Whether more events are wanted: false once the rows are complete, so that the file is
    /// read no further.
    pub fn wants_more(&self) -> bool {
        (self.rs.rows.len() as u64) < self.want
    }

    /// The next event of the file; returns [`Rows::wants_more`].
    pub fn push(&mut self, ev: &Event) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
        } else if self.wants_more() {
            self.rs.rows.push(row(&self.file, ev));
        }
        self.wants_more()
    }

    pub fn finish(self) -> ResultSet {
        self.rs
    }
}

/// The result set's columns.
pub fn result_set() -> ResultSet {
    ResultSet::new(&["Log_name", "Pos", "Event_type", "Server_id", "End_log_pos", "Info"])
}

/// One row.
pub fn row(file: &str, ev: &Event) -> Vec<Option<String>> {
    vec![
        Some(file.to_string()),
        Some(ev.offset.to_string()),
        Some(ev.kind.name().to_string()),
        Some(ev.header.server_id.to_string()),
        Some(ev.header.log_pos.to_string()),
        Some(info(ev)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_forms() {
        assert_eq!(parse("SHOW BINLOG EVENTS"), Some(Ok(ShowBinlogEvents { file: None, from: 4, offset: 0, limit: None })));
        assert_eq!(
            parse("show binlog events in 'b.000002' from 339 limit 2, 5"),
            Some(Ok(ShowBinlogEvents { file: Some("b.000002".into()), from: 339, offset: 2, limit: Some(5) }))
        );
        assert!(matches!(parse("SHOW BINLOG EVENTS FROM x"), Some(Err(_))));
        assert_eq!(parse("SHOW BINARY LOGS"), None);
    }

    /// The rows of a SHOW BINLOG EVENTS over a file of `n` events (XIDs numbered from 0).
    fn rows_of(sql: &str, n: u64) -> Vec<Vec<Option<String>>> {
        let q = parse(sql).unwrap().unwrap();
        let mut rows = Rows::new(&q, "b.000001");
        let mut pushed = 0;
        for xid in 0..n {
            if !rows.wants_more() {
                break;
            }
            let h = crate::binlog::EventHeader { timestamp: 0, event_type: EventType::XID, server_id: 1, event_size: 31, log_pos: 0, flags: 0 };
            let ev = Event::new(h, EventBody::Xid(crate::binlog::events::simple::Xid { xid }), crate::binlog::ChecksumAlg::Crc32);
            pushed += 1;
            rows.push(&ev);
        }
        // The file is read no further than the rows need.
        assert!(pushed <= q.offset + q.limit.unwrap_or(SHOW_EVENTS_ROWS_MAX).min(SHOW_EVENTS_ROWS_MAX), "{pushed} events read");
        rows.finish().rows
    }

    fn xids(rows: &[Vec<Option<String>>]) -> Vec<String> {
        rows.iter().map(|r| r[5].clone().unwrap_or_default()).collect()
    }

    #[test]
    fn rows_are_capped_and_limit_and_offset_still_work() {
        let big = SHOW_EVENTS_ROWS_MAX + 500;
        let all = rows_of("SHOW BINLOG EVENTS", big);
        assert_eq!(all.len() as u64, SHOW_EVENTS_ROWS_MAX);
        assert_eq!(xids(&all[..1]), ["COMMIT /* xid=0 */"]);
        assert_eq!(rows_of(&format!("SHOW BINLOG EVENTS LIMIT {}", SHOW_EVENTS_ROWS_MAX * 10), big).len() as u64, SHOW_EVENTS_ROWS_MAX);
        assert_eq!(xids(&rows_of("SHOW BINLOG EVENTS LIMIT 2, 3", big)), ["COMMIT /* xid=2 */", "COMMIT /* xid=3 */", "COMMIT /* xid=4 */"]);
        // The next page past the cap.
        let next = rows_of(&format!("SHOW BINLOG EVENTS LIMIT {SHOW_EVENTS_ROWS_MAX}, {SHOW_EVENTS_ROWS_MAX}"), big);
        assert_eq!((next.len(), xids(&next[..1])), (500, vec![format!("COMMIT /* xid={SHOW_EVENTS_ROWS_MAX} */")]));
        assert!(rows_of("SHOW BINLOG EVENTS LIMIT 0", big).is_empty());
        assert_eq!(rows_of("SHOW BINLOG EVENTS", 7).len(), 7);
    }
}
