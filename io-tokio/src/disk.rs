//! The store's [`Disk`] on a real directory: `std::fs` with pread/pwrite, fdatasync for a
//! file's data and fsync of the directory for its names. Files are created readable by the
//! owner only (the directory also holds `replication.toml`, which has a password).

use binraft_core::store::disk::{Disk, DiskError, DiskErrorKind, DiskFile, DiskResult};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug)]
pub struct StdDisk {
    dir: PathBuf,
}

impl StdDisk {
    /// The disk of directory `dir`, created if missing.
    pub fn open(dir: &Path) -> io::Result<StdDisk> {
        std::fs::create_dir_all(dir)?;
        Ok(StdDisk { dir: dir.to_path_buf() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn error(op: &'static str, name: &str, e: io::Error) -> DiskError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => DiskErrorKind::NotFound,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => DiskErrorKind::NoSpace,
        io::ErrorKind::UnexpectedEof => DiskErrorKind::ShortRead,
        _ => DiskErrorKind::Failed,
    };
    DiskError::new(kind, op, name, e.to_string())
}

#[derive(Debug)]
struct StdFile {
    file: File,
    name: String,
}

impl DiskFile for StdFile {
    fn len(&self) -> DiskResult<u64> {
        self.file.metadata().map(|m| m.len()).map_err(|e| error("stat", &self.name, e))
    }

    fn read_at(&self, offset: u64, len: usize) -> DiskResult<Vec<u8>> {
        use std::io::Read;
        // Filled without zeroing first: read_to_end writes into the spare capacity.
        let mut buf = Vec::with_capacity(len);
        let mut r = PositionedReader { file: &self.file, at: offset };
        r.by_ref().take(len as u64).read_to_end(&mut buf).map_err(|e| error("read", &self.name, e))?;
        if buf.len() < len {
            return Err(DiskError::new(DiskErrorKind::ShortRead, "read", &self.name, format!("{len} bytes at {offset}, {} read", buf.len())));
        }
        Ok(buf)
    }

    fn write_at(&self, offset: u64, bytes: &[u8]) -> DiskResult<()> {
        self.file.write_all_at(bytes, offset).map_err(|e| error("write", &self.name, e))
    }

    fn set_len(&self, len: u64) -> DiskResult<()> {
        self.file.set_len(len).map_err(|e| error("truncate", &self.name, e))
    }

    fn sync_data(&self) -> DiskResult<()> {
        self.file.sync_data().map_err(|e| error("sync", &self.name, e))
    }
}

/// pread as a `Read`, so that `read_to_end` can fill a buffer without zeroing it.
struct PositionedReader<'a> {
    file: &'a File,
    at: u64,
}

impl io::Read for PositionedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl Disk for StdDisk {
    fn create(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).mode(0o600).open(self.path(name)).map_err(|e| error("create", name, e))?;
        Ok(Arc::new(StdFile { file, name: name.to_string() }))
    }

    fn open(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>> {
        let file = OpenOptions::new().read(true).write(true).open(self.path(name)).map_err(|e| error("open", name, e))?;
        Ok(Arc::new(StdFile { file, name: name.to_string() }))
    }

    fn rename(&self, from: &str, to: &str) -> DiskResult<()> {
        std::fs::rename(self.path(from), self.path(to)).map_err(|e| error("rename", from, e))
    }

    fn remove(&self, name: &str) -> DiskResult<()> {
        std::fs::remove_file(self.path(name)).map_err(|e| error("remove", name, e))
    }

    fn list(&self) -> DiskResult<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| error("list", "", e))? {
            let entry = entry.map_err(|e| error("list", "", e))?;
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn sync_dir(&self) -> DiskResult<()> {
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| error("sync", "", e))
    }

    fn free_bytes(&self) -> DiskResult<u64> {
        let s = rustix::fs::statvfs(&self.dir).map_err(|e| error("statvfs", "", e.into()))?;
        Ok(s.f_bavail.saturating_mul(s.f_frsize))
    }
}
