//! The binlog store on disk: a directory of binlog files under the primary's names, listed in
//! order in `binlog.index` (one name a line, as MySQL and MariaDB keep theirs). Each file is
//! summarised when opened, and a torn tail (a transaction cut by a crash) is truncated then.
//! Appends are whole groups, fsynced before the store says they exist; dumps waiting for more
//! are woken through a watch channel.
//!
//! The newest appends are also kept in memory (the tail, up to [`TAIL_BYTES`]), so that replicas
//! following the primary are served without a file read; older parts are read from the files.

use binraft_core::store::index::{self, share, summarize, Appended, FileSummary, Files};
use binraft_core::store::summaries;
use crate::journal::Journal;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;
use binraft_core::upstream::Resume;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use tokio::sync::watch;

const INDEX: &str = "binlog.index";
/// The persisted summaries of closed files (core::store::summaries).
const SUMMARIES: &str = "binlog.summaries";
const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

/// How many of the newest stored bytes are kept in memory for readers that follow.
pub const TAIL_BYTES: usize = 64 << 20;

/// The journal's size when the configuration does not say.
pub const DEFAULT_JOURNAL_BYTES: u64 = 16 << 20;

#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    state: RwLock<State>,
    changed: watch::Sender<u64>,
    /// Appends are made durable here (None: by syncing the binlog files themselves).
    journal: std::sync::Mutex<Option<Journal>>,
}

/// What readers see, changed together under one lock.
#[derive(Debug, Default)]
struct State {
    files: Files,
    tail: Tail,
}

/// The newest stored bytes of one file, in the groups they were appended as: contiguous, each
/// chunk starting where the one before ends.
#[derive(Debug, Default)]
struct Tail {
    file: String,
    chunks: VecDeque<(u64, Bytes)>,
    bytes: usize,
}

impl Tail {
    fn push(&mut self, file: &str, offset: u64, bytes: Bytes) {
        let follows = self.file == file && self.chunks.back().is_some_and(|(o, b)| o + b.len() as u64 == offset);
        if !follows {
            self.file = file.to_string();
            self.chunks.clear();
            self.bytes = 0;
        }
        self.bytes += bytes.len();
        self.chunks.push_back((offset, bytes));
        while self.bytes > TAIL_BYTES && self.chunks.len() > 1 {
            if let Some((_, b)) = self.chunks.pop_front() {
                self.bytes -= b.len();
            }
        }
    }

    /// `len` bytes of `file` from `offset`, if the tail holds all of them: a slice of the
    /// appended buffer when one holds them all, else one copy.
    fn read(&self, file: &str, offset: u64, len: usize) -> Option<Bytes> {
        if self.file != file || offset < self.chunks.front()?.0 {
            return None;
        }
        // The chunk holding `offset`; the chunks after it continue it.
        let i = self.chunks.partition_point(|(o, _)| *o <= offset) - 1;
        let (o, b) = &self.chunks[i];
        let from = usize::try_from(offset - o).ok()?;
        let head = b.get(from..)?;
        if head.len() >= len {
            return Some(b.slice(from..from + len));
        }
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(head);
        for (_, b) in self.chunks.range(i + 1..) {
            let take = (len - out.len()).min(b.len());
            out.extend_from_slice(&b[..take]);
            if out.len() == len {
                break;
            }
        }
        (out.len() == len).then(|| out.into())
    }
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl Store {
    /// Opens (or creates) the store in `dir` with the default journal.
    pub fn open(dir: &Path) -> io::Result<Store> {
        Self::open_with(dir, DEFAULT_JOURNAL_BYTES)
    }

    /// Opens (or creates) the store in `dir`: replays the journal (`journal_bytes` 0: none),
    /// then knows each file from the persisted index or by reading it, truncating torn tails.
    pub fn open_with(dir: &Path, journal_bytes: u64) -> io::Result<Store> {
        std::fs::create_dir_all(dir)?;
        let names: Vec<String> = match std::fs::read_to_string(dir.join(INDEX)) {
            Ok(s) => s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let (journal, replayed) = Journal::open(dir, journal_bytes, &names)?;
        if replayed.records > 0 {
            tracing::info!(records = replayed.records, groups = replayed.groups, bytes = replayed.bytes, "journal: transactions written again to their files");
        }
        // Closed files are known from the persisted index when their size still matches; the
        // others (the newest, or any the index lacks) are read whole.
        let (mut indexed, skipped) = match std::fs::read_to_string(dir.join(SUMMARIES)) {
            Ok(text) => summaries::decode_all(&text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Default::default(),
            Err(e) => return Err(e),
        };
        for (line, why) in &skipped {
            tracing::warn!(line, "{SUMMARIES}: skipping a line ({why}); its file is read again");
        }
        let mut rewrite = !skipped.is_empty() || indexed.keys().any(|k| !names.contains(k));
        let (mut from_index, mut read) = (0usize, 0usize);
        let mut files = Vec::new();
        for name in names {
            let path = dir.join(&name);
            if let Some(s) = indexed.remove(&name) {
                if std::fs::metadata(&path)?.len() == s.size {
                    files.push(s);
                    from_index += 1;
                    continue;
                }
                tracing::warn!(file = %name, "{SUMMARIES}: the file's size changed since it was indexed; reading it again");
            }
            read += 1;
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
            rewrite |= summaries::persistable(&s);
            files.push(s);
        }
        let files = share(files);
        if rewrite {
            write_atomically(&dir.join(SUMMARIES), summaries_text(&files).as_bytes())?;
        }
        tracing::info!(files = files.len(), from_index, read, "store opened");
        let (changed, _) = watch::channel(0);
        Ok(Store {
            dir: dir.to_path_buf(),
            state: RwLock::new(State { files, tail: Tail::default() }),
            changed,
            journal: std::sync::Mutex::new(journal),
        })
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The files' summaries now: a shared snapshot, not a copy.
    pub fn files(&self) -> Files {
        Arc::clone(&self.state().files)
    }

    /// Looks at the summaries under the lock.
    pub fn with_files<R>(&self, f: impl FnOnce(&[Arc<FileSummary>]) -> R) -> R {
        f(&self.state().files)
    }

    /// Where the stored part of `name` ends.
    pub fn complete_end(&self, name: &str) -> Option<u64> {
        self.with_files(|files| complete_end(files, name))
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
        self.with_files(|files| index::gtid_position(files).to_string())
    }

    /// The MySQL GTIDs of everything stored: each file's PREVIOUS_GTIDS and its own GTIDs.
    pub fn gtid_executed(&self) -> binraft_core::gtid::GtidSet {
        self.with_files(index::gtid_executed)
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

    fn write_index(&self, files: &[Arc<FileSummary>]) -> io::Result<()> {
        let mut index = String::new();
        for f in files {
            index.push_str(&f.name);
            index.push('\n');
        }
        write_atomically(&self.dir.join(INDEX), index.as_bytes())
    }

    /// Appends a closed file's line to the persisted summaries, durably.
    fn index_closed(&self, s: &FileSummary) -> io::Result<()> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(SUMMARIES))?;
        f.write_all(summaries::encode_line(s).as_bytes())?;
        f.sync_data()
    }

    /// Adds a file already written into the store directory.
    pub fn add(&self, summary: FileSummary) -> io::Result<()> {
        if summaries::persistable(&summary) {
            self.index_closed(&summary)?;
        }
        let mut st = self.state_mut();
        let mut files: Vec<Arc<FileSummary>> = st.files.to_vec();
        files.push(Arc::new(summary));
        self.write_index(&files)?;
        st.files = Arc::new(files);
        drop(st);
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

    /// Group commit: makes the whole batch durable with one sync (of the journal, or of the
    /// binlog files when the batch is too large for it or there is none), then visible together
    /// (to dumps, to the resume point, to semi-sync ACKs sent after it).
    pub fn append_batch(&self, batch: &mut Vec<(String, u64, Vec<u8>, Box<Appended>)>) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // Each group must start where its file ends (or where the one before it in the batch does).
        let mut ends: Vec<(&str, u64)> = Vec::new();
        for (name, offset, bytes, _) in batch.iter() {
            let end = match ends.iter().position(|(n, _)| n == name) {
                Some(i) => Some(ends[i].1),
                None => self.complete_end(name),
            };
            if end != Some(*offset) {
                return Err(io_err(format!("append to {name} at {offset}, but the store ends at {end:?}")));
            }
            let new_end = offset + bytes.len() as u64;
            match ends.iter_mut().find(|(n, _)| n == name) {
                Some(e) => e.1 = new_end,
                None => ends.push((name, new_end)),
            }
        }
        let entries: Vec<(&str, u64, &[u8])> = batch.iter().map(|(n, o, b, _)| (n.as_str(), *o, b.as_slice())).collect();
        let journaled = match self.journal.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some(j) => j.append(&entries)?,
            None => false,
        };
        if !journaled {
            // Straight to the files: written, cut at their new end, synced.
            for (name, end) in &ends {
                let f = std::fs::OpenOptions::new().write(true).open(self.dir.join(name))?;
                for (_, offset, bytes) in entries.iter().filter(|(n, _, _)| n == name) {
                    f.write_all_at(bytes, *offset)?;
                }
                f.set_len(*end)?;
                f.sync_data()?;
            }
        }
        drop(entries);
        drop(ends);
        let mut st = self.state_mut();
        let State { files, tail } = &mut *st;
        // Dumps hold the old snapshot: the list is copied (pointers) and the summaries that
        // change are copied once, the others shared.
        let files = Arc::make_mut(files);
        let mut closed = Vec::new();
        for (name, offset, bytes, info) in batch.drain(..) {
            if let Some(s) = files.iter_mut().rev().find(|f| f.name == name) {
                let was_closed = s.closed;
                Arc::make_mut(s).apply(&info);
                if s.closed && !was_closed && summaries::persistable(s) {
                    closed.push(Arc::clone(s));
                }
            }
            tail.push(&name, offset, Bytes::from(bytes));
        }
        drop(st);
        for s in closed {
            self.index_closed(&s)?;
        }
        self.changed.send_modify(|v| *v += 1);
        Ok(())
    }

    /// Removes the oldest files: the index first (durably), then the files.
    pub fn purge(&self, names: &[String]) -> io::Result<()> {
        let mut st = self.state_mut();
        if st.files.iter().take(names.len()).map(|f| &f.name).ne(names.iter()) {
            return Err(io_err("only the oldest files can be purged"));
        }
        let keep: Vec<Arc<FileSummary>> = st.files[names.len()..].to_vec();
        self.write_index(&keep)?;
        write_atomically(&self.dir.join(SUMMARIES), summaries_text(&keep).as_bytes())?;
        st.files = Arc::new(keep);
        drop(st);
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
    pub async fn read(&self, file: &str, offset: u64, max: usize) -> io::Result<(Bytes, bool)> {
        let (limit, want, cached) = {
            let st = self.state();
            let limit = complete_end(&st.files, file).unwrap_or(0);
            let want = (limit.saturating_sub(offset) as usize).min(max);
            (limit, want, st.tail.read(file, offset, want))
        };
        if let Some(buf) = cached {
            return Ok((buf, offset + want as u64 >= limit));
        }
        let path = self.dir.join(file);
        let buf = tokio::task::spawn_blocking(move || read_range(&path, offset, want)).await.map_err(io_err)??;
        Ok((buf.into(), offset + want as u64 >= limit))
    }
}

/// Where the stored part of `name` ends. Searched from the newest file, the one appended to and
/// read most.
fn complete_end(files: &[Arc<FileSummary>], name: &str) -> Option<u64> {
    files.iter().rev().find(|f| f.name == name).map(|f| f.complete_end)
}

/// The persisted index's text for `files`: a line per closed file it can hold.
fn summaries_text(files: &[Arc<FileSummary>]) -> String {
    files.iter().filter(|s| summaries::persistable(s)).map(|s| summaries::encode_line(s)).collect()
}

/// Exactly `len` bytes of the file at `path` from `offset`.
fn read_range(path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    // read_to_end fills the spare capacity without zeroing it first.
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(len);
    f.take(len as u64).read_to_end(&mut buf)?;
    if buf.len() < len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{}: {} bytes at {offset}, {} read", path.display(), len, buf.len())));
    }
    Ok(buf)
}

/// Write to a temporary file (owner-only), fsync it, rename it over `path`, fsync the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    // binlog.index and binlog.summaries: each its own temporary name.
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A store seeded with the MariaDB captures (every file closed but the last).
    fn seeded(tag: &str) -> (PathBuf, Vec<FileSummary>) {
        let dir = std::env::temp_dir().join(format!("binraft-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).unwrap();
        for path in binraft_fixtures::captured_files() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = binraft_fixtures::read_binlog(&path);
            std::fs::write(dir.join(&name), &bytes).unwrap();
            store.add(summarize(&name, &bytes).unwrap()).unwrap();
        }
        let files = store.files().iter().map(|f| (**f).clone()).collect();
        (dir, files)
    }

    fn reopened(dir: &Path) -> Vec<FileSummary> {
        Store::open(dir).unwrap().files().iter().map(|f| (**f).clone()).collect()
    }

    /// Groups of a file: each one's offset and bytes.
    type Groups = Vec<(u64, Vec<u8>)>;

    /// The groups of the first capture file (29 transactions, 0.24 MB), as the upstream
    /// appends them.
    fn capture_groups() -> (String, Vec<u8>, Groups) {
        let path = binraft_fixtures::captured_files()[0].clone();
        let bytes = binraft_fixtures::read_binlog(&path);
        let (events, _) = binraft_fixtures::decode_all(&bytes);
        let mut t = binraft_core::store::groups::GroupTracker::new();
        let mut groups = Vec::new();
        let mut start = 4u64;
        for d in &events {
            if t.observe(&d.event) {
                let end = d.event.offset + d.bytes.len() as u64;
                groups.push((start, bytes[start as usize..end as usize].to_vec()));
                start = end;
            }
        }
        (path.file_name().unwrap().to_string_lossy().into_owned(), bytes, groups)
    }

    fn append_all(store: &Store, name: &str, groups: &[(u64, Vec<u8>)]) {
        store.create_file(name).unwrap();
        for (offset, g) in groups {
            let info = Box::new(Appended { len: g.len() as u64, events: 1, ..Appended::default() });
            store.append_batch(&mut vec![(name.to_string(), *offset, g.clone(), info)]).unwrap();
        }
    }

    #[test]
    fn journaled_appends_survive_the_loss_of_unsynced_binlog_writes() {
        let dir = std::env::temp_dir().join(format!("binraft-store-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (name, bytes, groups) = capture_groups();
        let end = groups.last().unwrap().0 as usize + groups.last().unwrap().1.len();
        // A journal of 8 KiB + header: the large groups go straight to the file (synced), the
        // others through the journal, which fills and checkpoints.
        let store = Store::open_with(&dir, 4096 + 8192).unwrap();
        append_all(&store, &name, &groups);
        let generation = store.journal.lock().unwrap().as_ref().unwrap().position().0;
        let pos = store.journal.lock().unwrap().as_ref().unwrap().position();
        assert!(generation >= 2, "the journal never filled: {pos:?} {:?}", groups.iter().map(|g| g.1.len()).collect::<Vec<_>>());
        drop(store);
        assert_eq!(std::fs::read(dir.join(&name)).unwrap(), bytes[..end]);
        // Lose every binlog write since the last checkpoint, as a crash before the page cache
        // reaches the disk would: cut the file where the journal's current records begin.
        let journal = std::fs::read(dir.join(crate::journal::FILE)).unwrap();
        let g = binraft_core::store::journal::current_generation(&journal).unwrap();
        let scan = binraft_core::store::journal::scan(&journal[binraft_core::store::journal::HEADER_LEN..], g);
        assert!(scan.records > 0);
        let first = scan.entries[0].offset;
        let f = std::fs::OpenOptions::new().write(true).open(dir.join(&name)).unwrap();
        f.set_len(first).unwrap();
        drop(f);
        let reopened = Store::open_with(&dir, 4096 + 8192).unwrap();
        assert_eq!(std::fs::read(dir.join(&name)).unwrap(), bytes[..end], "the journal gave back what was lost");
        assert_eq!(reopened.files()[0].complete_end, end as u64);
        drop(reopened);
        // Without a journal now: the old one is replayed once more and removed.
        let plain = Store::open_with(&dir, 0).unwrap();
        assert!(!dir.join(crate::journal::FILE).exists());
        assert_eq!(plain.files()[0].complete_end, end as u64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_journal_header_stops_the_start_with_the_reason() {
        let dir = std::env::temp_dir().join(format!("binraft-store-badjournal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // A crash while the journal was being created leaves only its temporary file: no harm.
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{}.tmp", crate::journal::FILE)), [0u8; 100]).unwrap();
        drop(Store::open_with(&dir, 4096 + 65536).unwrap());
        let f = std::fs::OpenOptions::new().write(true).open(dir.join(crate::journal::FILE)).unwrap();
        f.write_all_at(&[0xff; 4096], 0).unwrap();
        drop(f);
        let e = Store::open_with(&dir, 4096 + 65536).unwrap_err().to_string();
        assert!(e.contains("binlog.journal") && e.contains("Move it away"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn closed_files_open_from_the_persisted_index() {
        let (dir, files) = seeded("index");
        let closed: Vec<&FileSummary> = files.iter().filter(|f| summaries::persistable(f)).collect();
        assert!(closed.len() >= 2, "{} closed files", closed.len());
        let index = std::fs::read_to_string(dir.join(SUMMARIES)).unwrap();
        assert_eq!(index.lines().count(), closed.len());
        assert_eq!(reopened(&dir), files);
        // Proof that a closed file is not read again: damage it in place, same size. The index
        // still answers (the files are the truth only where the index cannot vouch for them).
        let first = dir.join(&closed[0].name);
        let mut bytes = std::fs::read(&first).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&first, &bytes).unwrap();
        assert_eq!(reopened(&dir), files);
        // A size that changed: read again (here: a torn tail appended, then truncated away).
        bytes[mid] ^= 0xff;
        bytes.extend_from_slice(&[1, 2, 3]);
        std::fs::write(&first, &bytes).unwrap();
        assert_eq!(reopened(&dir), files);
        assert_eq!(std::fs::metadata(&first).unwrap().len(), closed[0].size);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_or_missing_index_is_rebuilt_from_the_files() {
        let (dir, files) = seeded("torn");
        let index = std::fs::read_to_string(dir.join(SUMMARIES)).unwrap();
        std::fs::write(dir.join(SUMMARIES), &index[..index.len() - 7]).unwrap();
        assert_eq!(reopened(&dir), files);
        assert_eq!(std::fs::read_to_string(dir.join(SUMMARIES)).unwrap(), index, "rewritten whole");
        std::fs::remove_file(dir.join(SUMMARIES)).unwrap();
        assert_eq!(reopened(&dir), files);
        assert_eq!(std::fs::read_to_string(dir.join(SUMMARIES)).unwrap(), index);
        // Purging drops the purged files' lines.
        let store = Store::open(&dir).unwrap();
        store.purge(&[files[0].name.clone()]).unwrap();
        let left = std::fs::read_to_string(dir.join(SUMMARIES)).unwrap();
        assert_eq!(left.lines().count(), index.lines().count() - 1);
        assert!(!left.contains(&format!("\"name\":\"{}\"", files[0].name)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tail_of(chunks: &[(u64, &[u8])]) -> Tail {
        let mut t = Tail::default();
        for (o, b) in chunks {
            t.push("f.000001", *o, Bytes::copy_from_slice(b));
        }
        t
    }

    #[test]
    fn tail_reads_across_chunks_and_refuses_what_it_lacks() {
        let t = tail_of(&[(4, b"abc"), (7, b"defg"), (11, b"h")]);
        assert_eq!(t.read("f.000001", 4, 8).as_deref(), Some(&b"abcdefgh"[..]));
        assert_eq!(t.read("f.000001", 6, 3).as_deref(), Some(&b"cde"[..]));
        assert_eq!(t.read("f.000001", 11, 1).as_deref(), Some(&b"h"[..]));
        assert_eq!(t.read("f.000001", 8, 0).as_deref(), Some(&b""[..]));
        // Before the tail, past it, or another file: the caller reads the file instead.
        assert_eq!(t.read("f.000001", 3, 2), None);
        assert_eq!(t.read("f.000001", 10, 5), None);
        // At the end, nothing to read; past the end, not the tail's to answer (no panic).
        assert_eq!(t.read("f.000001", 12, 0).as_deref(), Some(&b""[..]));
        assert_eq!(t.read("f.000001", 13, 0), None);
        assert_eq!(t.read("f.000002", 4, 1), None);
    }

    #[test]
    fn tail_starts_over_on_a_gap_or_another_file_and_stays_bounded() {
        let mut t = tail_of(&[(4, b"abc")]);
        t.push("f.000001", 100, Bytes::from_static(b"xyz"));
        assert_eq!(t.read("f.000001", 4, 3), None);
        assert_eq!(t.read("f.000001", 100, 3).as_deref(), Some(&b"xyz"[..]));
        t.push("f.000002", 4, Bytes::from_static(b"new"));
        assert_eq!(t.read("f.000001", 100, 3), None);
        let big = Bytes::from(vec![7u8; TAIL_BYTES / 2 + 1]);
        let mut at = 7;
        for _ in 0..4 {
            t.push("f.000002", at, big.clone());
            at += big.len() as u64;
        }
        assert!(t.bytes <= TAIL_BYTES);
        assert_eq!(t.read("f.000002", at - 10, 10), Some(Bytes::from(vec![7u8; 10])));
        assert_eq!(t.read("f.000002", 4, 3), None);
    }
}
