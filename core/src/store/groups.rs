//! Event groups: a transaction (GTID, BEGIN, ..., XID or COMMIT), a DDL statement with its
//! GTID, or an event that stands alone (FORMAT_DESCRIPTION, ROTATE, GTID_LIST, ...). A group is
//! stored, skipped and recovered whole: a replica never sees half of one.

use crate::binlog::event::Event;
use crate::binlog::event_type::EventType;
use crate::binlog::events::mariadb_gtid::flags as mflags;
use crate::binlog::events::EventBody;

/// Follows events and says where groups end.
#[derive(Debug, Clone, Default)]
pub struct GroupTracker {
    state: State,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Between groups.
    #[default]
    Outside,
    /// After a GTID: the next statement is a whole group (DDL) unless it is BEGIN.
    AfterGtid,
    /// Inside BEGIN ... COMMIT.
    InTransaction,
}

fn is_query(body: &EventBody, words: &[&str]) -> bool {
    let EventBody::Query(q) = body else { return false };
    let sql = q.sql();
    let start = sql.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(sql.len());
    let sql = &sql[start..];
    words.iter().any(|w| sql.len() >= w.len() && sql[..w.len()].eq_ignore_ascii_case(w.as_bytes()) && sql.get(w.len()).is_none_or(|b| !b.is_ascii_alphanumeric()))
}

impl GroupTracker {
    pub fn new() -> Self {
        GroupTracker::default()
    }

    /// Whether no group is open.
    pub fn at_boundary(&self) -> bool {
        self.state == State::Outside
    }

    /// Observes the next event; returns whether a group ends with it.
    pub fn observe(&mut self, ev: &Event) -> bool {
        let t = ev.kind;
        // Events a replica may skip (Aurora's padding, future types) belong to whatever group
        // they sit in.
        if ev.header.flags & crate::binlog::header::flags::IGNORABLE != 0 || matches!(ev.body, EventBody::Unknown(_)) {
            return self.at_boundary();
        }
        match (self.state, &ev.body) {
            (_, EventBody::MariaGtid(g)) => {
                // Standalone groups (DDL) hold one statement; others run to XID or COMMIT.
                self.state = if g.flags & mflags::STANDALONE != 0 { State::AfterGtid } else { State::InTransaction };
                false
            }
            (_, EventBody::Gtid(_) | EventBody::TaggedGtid(_)) => {
                self.state = State::AfterGtid;
                false
            }
            (State::AfterGtid, body) if is_query(body, &["BEGIN", "XA START"]) => {
                self.state = State::InTransaction;
                false
            }
            (State::Outside, body) if is_query(body, &["BEGIN", "XA START"]) => {
                self.state = State::InTransaction;
                false
            }
            (State::InTransaction, EventBody::Xid(_) | EventBody::XaPrepare(_)) => {
                self.state = State::Outside;
                true
            }
            (State::InTransaction, body) if is_query(body, &["COMMIT", "ROLLBACK", "XA END", "XA PREPARE", "XA COMMIT", "XA ROLLBACK"]) => {
                // XA END ... XA PREPARE come as one group in MariaDB; XA END alone does not close it.
                if is_query(body, &["XA END"]) {
                    return false;
                }
                self.state = State::Outside;
                true
            }
            (State::InTransaction, _) => false,
            (State::AfterGtid, _) => {
                // Events that belong to the statement (INTVAR, RAND, USER_VAR, ANNOTATE_ROWS,
                // TABLE_MAP, rows without STMT_END) keep the group open.
                if matches!(t, EventType::INTVAR | EventType::RAND | EventType::USER_VAR | EventType::ANNOTATE_ROWS | EventType::ROWS_QUERY | EventType::TABLE_MAP | EventType::BEGIN_LOAD_QUERY) {
                    return false;
                }
                if let EventBody::Rows(r) = &ev.body {
                    if !r.is_stmt_end() {
                        return false;
                    }
                }
                self.state = State::Outside;
                true
            }
            (State::Outside, _) => {
                if matches!(t, EventType::INTVAR | EventType::RAND | EventType::USER_VAR | EventType::ANNOTATE_ROWS | EventType::ROWS_QUERY | EventType::TABLE_MAP | EventType::BEGIN_LOAD_QUERY) {
                    self.state = State::AfterGtid;
                    return false;
                }
                true
            }
        }
    }
}
