//! GTID sets of both flavours.
//!
//! - [`mysql`]: MySQL's `uuid[:tag]:1-5:7-9` sets, as in `gtid_executed`, PREVIOUS_GTIDS and
//!   COM_BINLOG_DUMP_GTID; the set algebra replication needs (union, subtraction, intersection,
//!   containment, the next GTID).
//! - [`mariadb`]: MariaDB's `domain-server-seq` positions, one per domain, as in
//!   `gtid_binlog_pos`, `@slave_connect_state` and GTID_LIST events.
//! - [`hash_order`]: the order MariaDB lists such a state in (that of its mysys hash tables).
//!
//! In: text or binary forms. Out: canonical values and text; errors name what was wrong.

pub mod hash_order;
pub mod interval;
pub mod mariadb;
pub mod mysql;
pub mod varint;

pub use interval::IntervalSet;
pub use mariadb::{MariaGtid, MariaGtidPos};
pub use mysql::{GtidSet, Tag, Uuid};

use std::fmt;

/// A GTID or GTID set that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidError {
    /// Text that is not a GTID set; `at` is the byte offset of the problem.
    Syntax { text: String, at: usize, reason: &'static str },
    /// A binary set ran short or held an impossible value.
    Binary { reason: String },
}

impl fmt::Display for GtidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtidError::Syntax { text, at, reason } => write!(f, "malformed GTID set {text:?} at byte {at}: {reason}"),
            GtidError::Binary { reason } => write!(f, "malformed binary GTID set: {reason}"),
        }
    }
}

impl std::error::Error for GtidError {}
