//! The binlog store's layout and recovery, as pure functions over file bytes.
//!
//! - [`groups`]: where transactions (event groups) begin and end, the unit that is stored,
//!   skipped and recovered whole.
//! - [`index`]: what each binlog file holds (its GTID state at start, size, how it ends), the
//!   index a dump uses to find where to start.
//! - [`journal`]: the preallocated journal that makes appends durable cheaply, and its replay.
//! - [`summaries`]: that index persisted, a line per closed file, so a store opens without
//!   reading every file.
//!
//! The store keeps the primary's file names and positions: every event sits at the same file and
//! offset as on the primary, so `mariadb-binlog` reads binraft's files directly.

pub mod groups;
pub mod index;
pub mod journal;
pub mod summaries;
