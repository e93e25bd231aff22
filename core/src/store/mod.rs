//! The binlog store: its layout and recovery as pure functions over file bytes, and the store
//! itself over a [`disk::Disk`].
//!
//! - [`binlogs`]: the store: appends, reads, files created and purged, recovery on open.
//! - [`disk`]: the seam to a disk, with its durability contract; [`mem_disk`] is a disk in
//!   memory that loses what a power cut may lose.
//! - [`groups`]: where transactions (event groups) begin and end, the unit that is stored,
//!   skipped and recovered whole.
//! - [`index`]: what each binlog file holds (its GTID state at start, size, how it ends), the
//!   index a dump uses to find where to start.
//! - [`journal`]: the preallocated journal that makes appends durable cheaply: its format and
//!   scan; [`journal_file`]: the journal on a disk, and its replay.
//! - [`names`]: the file names the store accepts from a primary, and its own files.
//! - [`summaries`]: that index persisted, a line per closed file, so a store opens without
//!   reading every file.
//! - [`tail`]: the newest bytes kept in memory for the readers that follow.
//!
//! The store keeps the primary's file names and positions: every event sits at the same file and
//! offset as on the primary, so `mariadb-binlog` reads binraft's files directly.

pub mod binlogs;
pub mod disk;
pub mod groups;
pub mod index;
pub mod journal;
pub mod journal_file;
pub mod mem_disk;
pub mod names;
pub mod summaries;
pub mod tail;

pub use binlogs::{cut_to, Cut, Opened, Store, StoreError};
pub use disk::{Disk, DiskError, DiskErrorKind, DiskFile};
pub use mem_disk::MemDisk;
