//! The binlog store on disk: a directory of binlog files under the primary's names, listed in
//! order in `binlog.index` (one name a line, as MySQL and MariaDB keep theirs). Each file is
//! summarised when opened, and a torn tail (a transaction cut by a crash) is truncated then.
//! Appends are whole groups, fsynced before the store says they exist; dumps waiting for more
//! are woken through a watch channel.

use binraft_core::store::index::{summarize, Appended, FileSummary};
use binraft_core::upstream::Resume;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use tokio::sync::watch;

const INDEX: &str = "binlog.index";
const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    files: RwLock<Vec<FileSummary>>,
    changed: watch::Sender<u64>,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl Store {
    /// Opens (or creates) the store in `dir`, reading every file once and truncating torn tails.
    pub fn open(dir: &Path) -> io::Result<Store> {
        std::fs::create_dir_all(dir)?;
        let names: Vec<String> = match std::fs::read_to_string(dir.join(INDEX)) {
            Ok(s) => s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for name in names {
            let path = dir.join(&name);
            let bytes = std::fs::read(&path)?;
            let mut s = summarize(&name, &bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{name}: {e}")))?;
            if s.complete_end < s.size {
                tracing::warn!(file = %name, kept = s.complete_end, size = s.size, error = ?s.error, "recovery: truncating an incomplete tail");
                let f = std::fs::OpenOptions::new().write(true).open(&path)?;
                f.set_len(s.complete_end)?;
                f.sync_all()?;
                s.size = s.complete_end;
                s.error = None;
            }
            files.push(s);
        }
        let (changed, _) = watch::channel(0);
        Ok(Store { dir: dir.to_path_buf(), files: RwLock::new(files), changed })
    }

    /// A snapshot of the files' summaries (a copy: for the cold paths).
    pub fn files(&self) -> Vec<FileSummary> {
        self.with_files(|f| f.to_vec())
    }

    /// Looks at the summaries under the lock, without copying them (for the hot paths).
    pub fn with_files<R>(&self, f: impl FnOnce(&[FileSummary]) -> R) -> R {
        match self.files.read() {
            Ok(files) => f(&files),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// Where the stored part of `name` ends.
    pub fn complete_end(&self, name: &str) -> Option<u64> {
        self.with_files(|files| files.iter().find(|f| f.name == name).map(|f| f.complete_end))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Wakes when the store grows.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Where each file's stored part ends.
    pub fn file_ends(&self) -> BTreeMap<String, u64> {
        self.with_files(|files| files.iter().map(|f| (f.name.clone(), f.complete_end)).collect())
    }

    /// The MariaDB GTID position of everything stored: the last GTID of each domain.
    pub fn gtid_pos(&self) -> String {
        self.with_files(|files| {
            let mut pos = binraft_core::gtid::MariaGtidPos::new();
            for f in files {
                pos = pos.union(&f.start_gtid_list.iter().copied().collect());
                pos = pos.union(&f.last_gtids);
            }
            pos.to_string()
        })
    }

    /// The MySQL GTIDs of everything stored: each file's PREVIOUS_GTIDS and its own GTIDs.
    pub fn gtid_executed(&self) -> binraft_core::gtid::GtidSet {
        self.with_files(|files| files.iter().fold(binraft_core::gtid::GtidSet::new(), |set, f| set.union(&f.previous_gtids).union(&f.gtids)))
    }

    /// Where the upstream resumes: right after the last complete group, or at the start of
    /// the file a closed last file rotates to.
    pub fn resume_point(&self) -> Resume {
        let files = self.files();
        match files.last() {
            None => Resume::Empty,
            Some(f) if f.closed => match &f.next_file {
                Some(n) => Resume::At { file: n.clone(), offset: 4 },
                None => Resume::At { file: f.name.clone(), offset: f.complete_end },
            },
            Some(f) => Resume::At { file: f.name.clone(), offset: f.complete_end },
        }
    }

    fn write_index(&self, files: &[FileSummary]) -> io::Result<()> {
        let mut index = String::new();
        for f in files {
            index.push_str(&f.name);
            index.push('\n');
        }
        write_atomically(&self.dir.join(INDEX), index.as_bytes())
    }

    /// Adds a file already written into the store directory.
    pub fn add(&self, summary: FileSummary) -> io::Result<()> {
        let mut files = self.files.write().map_err(io_err)?;
        files.push(summary);
        self.write_index(&files)?;
        drop(files);
        self.changed.send_modify(|v| *v += 1);
        Ok(())
    }

    /// Creates `name` holding only the magic (durably) and makes it the last file.
    pub fn create_file(&self, name: &str) -> io::Result<()> {
        if name.contains('/') || name.is_empty() || name == INDEX {
            return Err(io_err(format!("refusing file name {name:?}")));
        }
        if self.complete_end(name).is_some() {
            // Reconnected into a file we created but did not write yet.
            return Ok(());
        }
        write_atomically(&self.dir.join(name), &MAGIC)?;
        self.add(FileSummary::empty(name))
    }

    /// Group commit: writes each group as it comes, then one fsync for all, then makes them
    /// visible together (to dumps, to the resume point, to semi-sync ACKs sent after it).
    pub fn append_batch(&self, batch: &mut Vec<(String, u64, Vec<u8>, Box<Appended>)>) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut touched: Vec<String> = Vec::new();
        let mut ends = self.file_ends();
        for (name, offset, bytes, _) in batch.iter() {
            if ends.get(name) != Some(offset) {
                return Err(io_err(format!("append to {name} at {offset}, but the store ends at {:?}", ends.get(name))));
            }
            let f = std::fs::OpenOptions::new().write(true).open(self.dir.join(name))?;
            f.write_all_at(bytes, *offset)?;
            ends.insert(name.clone(), offset + bytes.len() as u64);
            if !touched.contains(name) {
                touched.push(name.clone());
            }
        }
        for name in &touched {
            let f = std::fs::OpenOptions::new().write(true).open(self.dir.join(name))?;
            f.set_len(ends[name])?;
            f.sync_data()?;
        }
        let mut files = self.files.write().map_err(io_err)?;
        for (name, _, _, info) in batch.drain(..) {
            if let Some(s) = files.iter_mut().find(|f| f.name == name) {
                s.apply(&info);
            }
        }
        drop(files);
        self.changed.send_modify(|v| *v += 1);
        Ok(())
    }

    /// Removes the oldest files: the index first (durably), then the files.
    pub fn purge(&self, names: &[String]) -> io::Result<()> {
        let mut files = self.files.write().map_err(io_err)?;
        if files.iter().take(names.len()).map(|f| &f.name).ne(names.iter()) {
            return Err(io_err("only the oldest files can be purged"));
        }
        let keep: Vec<FileSummary> = files[names.len()..].to_vec();
        self.write_index(&keep)?;
        *files = keep;
        drop(files);
        for n in names {
            std::fs::remove_file(self.dir.join(n))?;
        }
        Ok(())
    }

    /// Up to `max` bytes of `file` from `offset`, within its stored part, read now.
    pub fn read_sync(&self, file: &str, offset: u64, max: usize) -> io::Result<Vec<u8>> {
        let limit = self.complete_end(file).unwrap_or(0);
        read_range(&self.dir.join(file), offset, (limit.saturating_sub(offset) as usize).min(max))
    }

    /// When a file was last written, in seconds since the epoch.
    pub fn modified_secs(&self, name: &str) -> Option<u64> {
        let m = std::fs::metadata(self.dir.join(name)).ok()?.modified().ok()?;
        m.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs())
    }

    /// Up to `max` bytes of `file` from `offset`, and whether they reach its stored end. Only
    /// whole groups are ever served: a partial write stays invisible.
    pub async fn read(&self, file: &str, offset: u64, max: usize) -> io::Result<(Vec<u8>, bool)> {
        let limit = self.complete_end(file).unwrap_or(0);
        let want = (limit.saturating_sub(offset) as usize).min(max);
        let path = self.dir.join(file);
        let buf = tokio::task::spawn_blocking(move || read_range(&path, offset, want)).await.map_err(io_err)??;
        Ok((buf, offset + want as u64 >= limit))
    }
}

/// Exactly `len` bytes of the file at `path` from `offset`.
fn read_range(path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    std::fs::File::open(path)?.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

/// Write to a temporary file (owner-only), fsync it, rename it over `path`, fsync the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
