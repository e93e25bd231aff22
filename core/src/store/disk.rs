//! The seam between the store and a disk: one flat directory of files, with the operations and
//! the durability rules of POSIX files. io-tokio implements it over `std::fs` (fdatasync, and
//! fsync of the directory); [`super::mem_disk::MemDisk`] implements it in memory with a crash
//! model, for the store's crash tests and the simulator.
//!
//! What is durable, and when (the contract every implementation keeps and the store relies on):
//! - bytes written to a file, and its length, once [`DiskFile::sync_data`] returned Ok on it;
//! - a file's name (created, renamed or removed) once [`Disk::sync_dir`] returned Ok after it;
//! - nothing else: a crash may keep any prefix of the unsynced writes, the last one torn.
//!
//! A failed `sync_data` may have lost the unsynced writes (Linux drops the dirty pages of a
//! failed fsync): the caller must treat them as never written.

use std::fmt;
use std::sync::Arc;

/// What went wrong, in the terms the store decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskErrorKind {
    NotFound,
    /// The disk (or the quota) is full.
    NoSpace,
    /// A read asked for bytes past the end of the file.
    ShortRead,
    /// The disk is gone: a simulated crash happened, or the device failed.
    Unavailable,
    /// Any other failure of the operation.
    Failed,
}

/// A failed disk operation, with what it was doing and on which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskError {
    pub kind: DiskErrorKind,
    pub op: &'static str,
    /// The file, or empty for the directory.
    pub name: String,
    pub detail: String,
}

impl DiskError {
    pub fn new(kind: DiskErrorKind, op: &'static str, name: &str, detail: impl Into<String>) -> DiskError {
        DiskError { kind, op, name: name.to_string(), detail: detail.into() }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == DiskErrorKind::NotFound
    }
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.name.is_empty() { "the directory" } else { self.name.as_str() };
        write!(f, "{} {what}: {}", self.op, self.detail)
    }
}

impl std::error::Error for DiskError {}

pub type DiskResult<T> = Result<T, DiskError>;

/// An open file. Handles stay valid across a rename of their file, as POSIX descriptors do.
// A file length is not a collection size: no is_empty.
#[allow(clippy::len_without_is_empty)]
pub trait DiskFile: Send + Sync + fmt::Debug {
    fn len(&self) -> DiskResult<u64>;
    /// Exactly `len` bytes from `offset` ([`DiskErrorKind::ShortRead`] if the file ends before).
    fn read_at(&self, offset: u64, len: usize) -> DiskResult<Vec<u8>>;
    fn write_at(&self, offset: u64, bytes: &[u8]) -> DiskResult<()>;
    fn set_len(&self, len: u64) -> DiskResult<()>;
    /// Makes the file's bytes and length durable (fdatasync).
    fn sync_data(&self) -> DiskResult<()>;
}

/// A directory of files.
pub trait Disk: Send + Sync + fmt::Debug {
    /// Creates `name` empty, or truncates it if it exists (readable by the owner only).
    fn create(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>>;
    /// Opens `name` for reading and writing ([`DiskErrorKind::NotFound`] if it does not exist).
    fn open(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>>;
    /// Renames `from` over `to`, replacing it.
    fn rename(&self, from: &str, to: &str) -> DiskResult<()>;
    fn remove(&self, name: &str) -> DiskResult<()>;
    /// Every file's name, sorted.
    fn list(&self) -> DiskResult<Vec<String>>;
    /// Makes the directory's entries durable (creates, renames, removes before it).
    fn sync_dir(&self) -> DiskResult<()>;
    /// Bytes that can still be written.
    fn free_bytes(&self) -> DiskResult<u64>;
}

/// The whole of `name`, or None if it does not exist.
pub fn read_whole(disk: &dyn Disk, name: &str) -> DiskResult<Option<Vec<u8>>> {
    match disk.open(name) {
        Ok(f) => {
            let len = f.len()?;
            let len = usize::try_from(len).map_err(|_| DiskError::new(DiskErrorKind::Failed, "read", name, format!("{len} bytes do not fit in memory")))?;
            f.read_at(0, len).map(Some)
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces `name` with `bytes` so that a crash leaves either the old or the new content whole:
/// written under `name.tmp`, synced, renamed over `name`, and the directory synced.
pub fn write_atomically(disk: &dyn Disk, name: &str, bytes: &[u8]) -> DiskResult<()> {
    let tmp = format!("{name}.tmp");
    let f = disk.create(&tmp)?;
    f.write_at(0, bytes)?;
    f.sync_data()?;
    drop(f);
    disk.rename(&tmp, name)?;
    disk.sync_dir()
}

/// Removes `name` durably; a file that does not exist is already removed.
pub fn remove_durably(disk: &dyn Disk, name: &str) -> DiskResult<()> {
    match disk.remove(name) {
        Ok(()) => disk.sync_dir(),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}
