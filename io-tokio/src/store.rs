//! The node's store: core's [`binraft_core::store::Store`] over the data directory
//! ([`StdDisk`]), plus what only a running node needs: the wake-up of dumps waiting for more,
//! and the log lines of what opening the store found.

use crate::disk::StdDisk;
use crate::notify::{Changes, Listener};
use binraft_core::store::binlogs::Append;
use binraft_core::store::index::FileSummary;
use binraft_core::store::{Disk, DiskError, DiskErrorKind, Opened, StoreError};
use bytes::Bytes;
use std::io;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

pub use binraft_core::store::binlogs::DEFAULT_JOURNAL_BYTES;
pub use binraft_core::store::tail::TAIL_BYTES;

/// Cloned handles share the store and its wake-ups (the Raft state machine holds one).
#[derive(Debug, Clone)]
pub struct Store {
    core: Arc<binraft_core::store::Store>,
    changed: Arc<Changes>,
}

/// Reads and queries go straight to core's store; what changes the store is wrapped below, to
/// wake the dumps.
impl Deref for Store {
    type Target = binraft_core::store::Store;
    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl Store {
    /// Opens (or creates) the store in `dir` with the default journal.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(dir, DEFAULT_JOURNAL_BYTES)
    }

    /// Opens (or creates) the store in `dir`: replays the journal (`journal_bytes` 0: none),
    /// then knows each file from the persisted index or by reading it, truncating torn tails.
    pub fn open_with(dir: &Path, journal_bytes: u64) -> Result<Store, StoreError> {
        let disk = StdDisk::open(dir).map_err(|e| StoreError::Disk(DiskError::new(DiskErrorKind::Failed, "create", "", e.to_string())))?;
        Self::open_on(Arc::new(disk), journal_bytes)
    }

    /// Opens (or creates) the store on `disk`.
    pub fn open_on(disk: Arc<dyn Disk>, journal_bytes: u64) -> Result<Store, StoreError> {
        let (core, opened) = binraft_core::store::Store::open(disk, journal_bytes)?;
        log_opened(&opened, core.files().len());
        Ok(Store { core: Arc::new(core), changed: Arc::default() })
    }

    /// Wakes when the store grows.
    pub fn subscribe(&self) -> Listener<'_> {
        self.changed.subscribe()
    }

    /// Adds a file whole (an import).
    pub fn add_file(&self, bytes: &[u8], summary: FileSummary) -> Result<(), StoreError> {
        self.core.add_file(bytes, summary)?;
        self.changed.notify();
        Ok(())
    }

    /// Creates `name` holding only the magic (durably) and makes it the last file.
    pub fn create_file(&self, name: &str) -> Result<(), StoreError> {
        self.core.create_file(name)?;
        self.changed.notify();
        Ok(())
    }

    /// Makes the batch durable, then visible, and wakes the dumps.
    pub fn append_batch(&self, batch: &mut Vec<Append>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.core.append_batch(batch)?;
        self.changed.notify();
        Ok(())
    }

    /// Applies groups the Raft log holds durably, and wakes the dumps.
    pub fn apply_logged(&self, batch: Vec<Append>) -> Result<(), StoreError> {
        self.core.apply_logged(batch)?;
        self.changed.notify();
        Ok(())
    }

    /// Reads the store again from its disk (its files were replaced: a snapshot), and wakes
    /// the dumps.
    pub fn reload(&self) -> Result<(), StoreError> {
        let opened = self.core.reload()?;
        log_opened(&opened, self.core.files().len());
        self.changed.notify();
        Ok(())
    }

    /// Up to `max` bytes of `file` from `offset`, within its stored part, read now.
    pub fn read_sync(&self, file: &str, offset: u64, max: usize) -> Result<Vec<u8>, StoreError> {
        self.core.read(file, offset, max).map(|(b, _)| b.to_vec())
    }

    /// Up to `max` bytes of `file` from `offset`, and whether they reach its stored end. A read
    /// that misses the in-memory tail runs on a blocking thread, off the runtime's workers
    /// (inline under the simulator, whose disk is memory).
    pub async fn read(&self, file: &str, offset: u64, max: usize) -> io::Result<(Bytes, bool)> {
        // Replicas that follow read from memory: no thread hop for them.
        if let Some(hit) = self.core.read_cached(file, offset, max) {
            return Ok(hit);
        }
        #[cfg(not(madsim))]
        let r = {
            let (core, file) = (Arc::clone(&self.core), file.to_string());
            tokio::task::spawn_blocking(move || core.read(&file, offset, max)).await.map_err(io::Error::other)?
        };
        #[cfg(madsim)]
        let r = self.core.read(file, offset, max);
        r.map_err(io::Error::other)
    }
}

fn log_opened(o: &Opened, files: usize) {
    let r = &o.replayed;
    if r.records > 0 {
        tracing::info!(records = r.records, groups = r.groups, bytes = r.bytes, "journal: transactions written again to their files");
    }
    for f in &r.skipped_files {
        tracing::warn!(file = %f, "binlog.journal: records for a file no longer in the store; skipped");
    }
    for (f, offset, size) in &r.past_end {
        tracing::warn!(file = %f, offset, size, "binlog.journal: a record past the file's end; recovery cuts at the gap");
    }
    for (line, why) in &o.skipped_lines {
        tracing::warn!(line, "binlog.summaries: skipping a line ({why}); its file is read again");
    }
    for f in &o.resized {
        tracing::warn!(file = %f, "binlog.summaries: the file's size changed since it was indexed; reading it again");
    }
    for t in &o.truncated {
        tracing::warn!(file = %t.file, kept = t.kept, size = t.size, error = ?t.error, "recovery: truncating an incomplete tail");
    }
    tracing::info!(files, from_index = o.from_index, read = o.read, "store opened");
}
