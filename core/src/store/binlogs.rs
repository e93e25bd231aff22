//! The binlog store on a [`Disk`]: the primary's binlog files under their own names, listed in
//! order in `binlog.index` (one name a line, as MySQL and MariaDB keep theirs), with the
//! journal that makes appends durable and the persisted summaries of closed files.
//!
//! In: whole groups to append, files to create, add or purge, reads. Out: the [`Files`]
//! snapshot dumps serve from, bytes, and what opening found ([`Opened`]) for the node to log.
//!
//! An append goes through three steps, each a position of the store's log ([`Positions`]):
//! - **durable**: [`Store::append`] makes the batch durable (one record in the journal, or the
//!   bytes synced in their files when the batch is too large for it) and gives its index;
//! - **committed**: [`Store::commit`] says the record may be applied; on one node as soon as it
//!   is durable, in a cluster when a majority has it;
//! - **applied**: [`Store::apply`] writes committed records to their binlog files and shows
//!   them to readers: the [`Files`] snapshot and every read stop at the applied records.
//!
//! [`Store::append_batch`] is the three at once. The rules it keeps:
//! - every event sits at the primary's file and offset; a group goes where its file ends, or
//!   the append is refused;
//! - on open, a file's torn tail (a group cut by a crash) is truncated, so what is stored is
//!   whole groups only; closed files are known from `binlog.summaries` while their size still
//!   matches;
//! - every file name comes through [`super::names::check_binlog_name`].

use super::disk::{self, Disk, DiskError};
use super::index::{self, share, summarize, Appended, FileSummary, Files};
use super::journal_file::{Journal, JournalError, Logged, Replayed};
use super::names::{self, NameError, INDEX, SUMMARIES};
use super::summaries;
use super::tail::Tail;
use crate::binlog::error::BinlogError;
use crate::upstream::Resume;
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

/// The journal's size when the configuration does not say.
pub const DEFAULT_JOURNAL_BYTES: u64 = 16 << 20;

/// One group to append: bytes for `file` at `offset`, and what they add to its summary.
pub type Append = (String, u64, Vec<u8>, Box<Appended>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    Disk(DiskError),
    Journal(JournalError),
    /// A file listed in the index does not read as a binlog at all.
    Unreadable { file: String, error: BinlogError },
    /// A file name the store refuses (from a ROTATE, or an import).
    BadFileName { name: String, why: NameError },
    /// An append that does not start where its file's stored part ends.
    NotContiguous { file: String, offset: u64, end: Option<u64> },
    /// A file added that the store already has.
    Exists { file: String },
    /// Only the oldest files can be purged.
    PurgeNotOldest,
    /// The journal is full of records not yet applied (it checkpoints only once they are).
    LogFull { unapplied: usize },
    /// A file a checkpoint found durable is missing, or shorter than it was then: the disk lost
    /// synced data.
    Lost { file: String, size: Option<u64>, durable_end: u64 },
}

impl From<DiskError> for StoreError {
    fn from(e: DiskError) -> Self {
        StoreError::Disk(e)
    }
}

impl From<JournalError> for StoreError {
    fn from(e: JournalError) -> Self {
        StoreError::Journal(e)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Disk(e) => write!(f, "{e}"),
            StoreError::Journal(e) => write!(f, "{e}"),
            StoreError::Unreadable { file, error } => write!(f, "{file}: {error}"),
            StoreError::BadFileName { name, why } => write!(f, "refusing binlog file name {name:?}: {why}"),
            StoreError::NotContiguous { file, offset, end } => match end {
                Some(end) => write!(f, "append to {file} at {offset}, but the store ends at {end}"),
                None => write!(f, "append to {file} at {offset}, a file the store does not have"),
            },
            StoreError::Exists { file } => write!(f, "{file} is already in the store"),
            StoreError::PurgeNotOldest => write!(f, "only the oldest files can be purged"),
            StoreError::LogFull { unapplied } => write!(f, "the journal is full with {unapplied} records not yet applied"),
            StoreError::Lost { file, size: None, durable_end } => write!(f, "{file} is missing, but it was durable up to {durable_end}"),
            StoreError::Lost { file, size: Some(size), durable_end } => write!(f, "{file} ends at {size}, but it was durable up to {durable_end}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A torn tail cut when the store opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncated {
    pub file: String,
    pub kept: u64,
    pub size: u64,
    pub error: Option<BinlogError>,
}

/// What opening the store found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    pub replayed: Replayed,
    /// Files known from `binlog.summaries`, and files read.
    pub from_index: usize,
    pub read: usize,
    /// Lines of `binlog.summaries` skipped (their files are read), and why.
    pub skipped_lines: Vec<(usize, String)>,
    /// Indexed files whose size changed since (read again).
    pub resized: Vec<String>,
    pub truncated: Vec<Truncated>,
}

/// A record's index in the store's log: appends are numbered from 1, in the order they were
/// made durable, for the life of the open store.
pub type LogIndex = u64;

/// How far the store's log has come: `applied <= committed <= durable`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Positions {
    pub durable: LogIndex,
    pub committed: LogIndex,
    pub applied: LogIndex,
}

#[derive(Debug)]
pub struct Store {
    disk: Arc<dyn Disk>,
    state: RwLock<State>,
    writer: Mutex<Writer>,
}

/// The write side, one append or apply at a time.
#[derive(Debug, Default)]
struct Writer {
    /// Appends are made durable here (None: by syncing the binlog files themselves).
    journal: Option<Journal>,
    positions: Positions,
    /// Durable records not applied yet, oldest first.
    unapplied: VecDeque<Record>,
    /// The applied pieces of a group not yet whole: written, not shown.
    partial: Option<Partial>,
    /// Files written by [`Store::apply_logged`] and not synced since (the log holds their bytes).
    unsynced: std::collections::BTreeSet<String>,
    /// The binlog file last written by [`Store::apply_logged`], kept open.
    open: Option<(String, Arc<dyn disk::DiskFile>)>,
}

/// Where the applied pieces of an unfinished group lie in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Partial {
    file: String,
    start: u64,
    len: u64,
}

#[derive(Debug)]
struct Record {
    index: LogIndex,
    batch: Vec<Append>,
    /// Its bytes are already in their files (written and synced at append): apply only shows
    /// them.
    in_files: bool,
}

/// What readers see, changed together under one lock.
#[derive(Debug, Default)]
struct State {
    files: Files,
    tail: Tail,
}

impl Store {
    /// Opens (or creates) the store on `disk`: replays the journal (`journal_bytes` 0: none),
    /// then knows each file from the persisted index or by reading it, truncating torn tails.
    pub fn open(disk: Arc<dyn Disk>, journal_bytes: u64) -> Result<(Store, Opened), StoreError> {
        let names: Vec<String> = match disk::read_whole(disk.as_ref(), INDEX)? {
            Some(b) => String::from_utf8_lossy(&b).lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            None => Vec::new(),
        };
        let (journal, replayed) = Journal::open(&disk, journal_bytes, &names)?;
        let mut opened = Opened { replayed, ..Opened::default() };
        let (mut indexed, skipped) = match disk::read_whole(disk.as_ref(), SUMMARIES)? {
            Some(b) => summaries::decode_all(&String::from_utf8_lossy(&b)),
            None => Default::default(),
        };
        let mut rewrite = !skipped.is_empty() || indexed.keys().any(|k| !names.contains(k));
        opened.skipped_lines = skipped;
        let mut files = Vec::new();
        for name in names {
            let f = disk.open(&name)?;
            let size = f.len()?;
            if let Some(s) = indexed.remove(&name) {
                if size == s.size {
                    files.push(s);
                    opened.from_index += 1;
                    continue;
                }
                opened.resized.push(name.clone());
            }
            opened.read += 1;
            let bytes = f.read_at(0, usize::try_from(size).unwrap_or(usize::MAX))?;
            let mut s = summarize(&name, &bytes).map_err(|error| StoreError::Unreadable { file: name.clone(), error })?;
            if s.complete_end < s.size {
                opened.truncated.push(Truncated { file: name.clone(), kept: s.complete_end, size: s.size, error: s.error.take() });
                f.set_len(s.complete_end)?;
                f.sync_data()?;
                s.size = s.complete_end;
            }
            rewrite |= summaries::persistable(&s);
            files.push(s);
        }
        let files = share(files);
        if rewrite {
            disk::write_atomically(disk.as_ref(), SUMMARIES, summaries_text(&files).as_bytes())?;
        }
        let writer = Writer { journal, ..Writer::default() };
        let store = Store { disk, state: RwLock::new(State { files, tail: Tail::default() }), writer: Mutex::new(writer) };
        Ok((store, opened))
    }

    /// Reads the store again from its disk, in place, once its files were replaced under it (a
    /// snapshot installed). Readers holding the old [`Files`] keep them; reads from now on see
    /// the new files. For a store without a journal of its own.
    pub fn reload(&self) -> Result<Opened, StoreError> {
        let mut w = self.writer();
        let (fresh, opened) = Store::open(Arc::clone(&self.disk), 0)?;
        let Store { state, writer, .. } = fresh;
        *w = writer.into_inner().unwrap_or_else(|p| p.into_inner());
        *self.state_mut() = state.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok(opened)
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where the log's durable, committed and applied records end.
    pub fn positions(&self) -> Positions {
        self.writer().positions
    }

    pub fn disk(&self) -> &Arc<dyn Disk> {
        &self.disk
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

    /// Where each file's stored part ends.
    pub fn file_ends(&self) -> BTreeMap<String, u64> {
        self.with_files(|files| files.iter().map(|f| (f.name.clone(), f.complete_end)).collect())
    }

    /// The MariaDB GTID position of everything stored: the last GTID of each domain.
    pub fn gtid_pos(&self) -> String {
        self.with_files(|files| index::gtid_position(files).to_string())
    }

    /// The MySQL GTIDs of everything stored: each file's PREVIOUS_GTIDS and its own GTIDs.
    pub fn gtid_executed(&self) -> crate::gtid::GtidSet {
        self.with_files(index::gtid_executed)
    }

    /// Where the upstream resumes.
    pub fn resume_point(&self) -> Resume {
        self.with_files(resume_point)
    }

    /// The journal's generation and cursor (None without a journal).
    pub fn journal_position(&self) -> Option<(u64, u64)> {
        self.writer().journal.as_ref().map(Journal::position)
    }

    fn write_index(&self, files: &[Arc<FileSummary>]) -> Result<(), DiskError> {
        let text: String = files.iter().map(|f| format!("{}\n", f.name)).collect();
        disk::write_atomically(self.disk.as_ref(), INDEX, text.as_bytes())
    }

    /// Appends a closed file's line to the persisted summaries, durably. A line torn by a crash
    /// makes the next start read that file again.
    fn index_closed(&self, s: &FileSummary) -> Result<(), DiskError> {
        let f = match self.disk.open(SUMMARIES) {
            Ok(f) => f,
            Err(e) if e.is_not_found() => self.disk.create(SUMMARIES)?,
            Err(e) => return Err(e),
        };
        f.write_at(f.len()?, summaries::encode_line(s).as_bytes())?;
        f.sync_data()
    }

    /// Adds a file whole (an import of a primary's existing binlog): written durably, then
    /// listed.
    pub fn add_file(&self, bytes: &[u8], summary: FileSummary) -> Result<(), StoreError> {
        let name = summary.name.clone();
        names::check_binlog_name(&name).map_err(|why| StoreError::BadFileName { name: name.clone(), why })?;
        if self.complete_end(&name).is_some() {
            return Err(StoreError::Exists { file: name });
        }
        disk::write_atomically(self.disk.as_ref(), &name, bytes)?;
        self.add(summary)
    }

    fn add(&self, summary: FileSummary) -> Result<(), StoreError> {
        if summaries::persistable(&summary) {
            self.index_closed(&summary)?;
        }
        let mut st = self.state_mut();
        let mut files: Vec<Arc<FileSummary>> = st.files.to_vec();
        files.push(Arc::new(summary));
        self.write_index(&files)?;
        st.files = Arc::new(files);
        Ok(())
    }

    /// Creates `name` holding only the magic (durably) and makes it the last file.
    pub fn create_file(&self, name: &str) -> Result<(), StoreError> {
        names::check_binlog_name(name).map_err(|why| StoreError::BadFileName { name: name.to_string(), why })?;
        if self.complete_end(name).is_some() {
            // Reconnected into a file we created but did not write yet.
            return Ok(());
        }
        disk::write_atomically(self.disk.as_ref(), name, &MAGIC)?;
        self.add(FileSummary::empty(name))
    }

    /// Group commit: makes the whole batch durable with one sync (of the journal, or of the
    /// binlog files when the batch is too large for it or there is none), commits and applies
    /// it: visible together (to dumps, to the resume point, to semi-sync ACKs sent after it).
    /// The batch is drained.
    pub fn append_batch(&self, batch: &mut Vec<Append>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let index = self.append(std::mem::take(batch))?;
        self.commit(index);
        self.apply()?;
        Ok(())
    }

    /// Makes `batch` durable, not yet visible: one record of the log, whose index it returns.
    /// Each group must start where its file ends, counting the records not yet applied.
    pub fn append(&self, batch: Vec<Append>) -> Result<LogIndex, StoreError> {
        let mut w = self.writer();
        let files = self.files();
        if w.unapplied.is_empty() {
            restart_partial(&mut w.partial, &batch);
        }
        let partial = w.partial.clone();
        let ends = contiguous_ends(log_end(&files, &partial), w.unapplied.iter().flat_map(|r| &r.batch).chain(&batch))?;
        let entries: Vec<(&str, u64, &[u8])> = batch.iter().map(|(n, o, b, _)| (n.as_str(), *o, b.as_slice())).collect();
        let may_checkpoint = w.unapplied.is_empty();
        let logged = match w.journal.as_mut() {
            Some(j) => j.append(&entries, may_checkpoint)?,
            None => Logged::TooLarge,
        };
        let in_files = match logged {
            Logged::Durable => false,
            Logged::Full => return Err(StoreError::LogFull { unapplied: w.unapplied.len() }),
            Logged::TooLarge => {
                // Straight to the files: written, cut at their new end, synced. Readers do not
                // see past the applied end, so the bytes stay invisible until apply.
                for name in batch.iter().map(|(n, ..)| n.as_str()).collect::<std::collections::BTreeSet<_>>() {
                    let f = self.disk.open(name)?;
                    for (_, offset, bytes) in entries.iter().filter(|(n, _, _)| *n == name) {
                        f.write_at(*offset, bytes)?;
                    }
                    if let Some((_, end)) = ends.iter().find(|(n, _)| n == name) {
                        f.set_len(*end)?;
                    }
                    f.sync_data()?;
                }
                true
            }
        };
        drop(entries);
        w.positions.durable += 1;
        let index = w.positions.durable;
        w.unapplied.push_back(Record { index, batch, in_files });
        Ok(index)
    }

    /// Records up to `index` may be applied (on one node once durable; in a cluster once a
    /// majority holds them). Never past what is durable.
    pub fn commit(&self, index: LogIndex) {
        let mut w = self.writer();
        w.positions.committed = w.positions.committed.max(index.min(w.positions.durable));
    }

    /// Applies every committed record: journaled bytes go to their binlog files (unsynced: the
    /// journal has them), and readers see them. The applied index.
    pub fn apply(&self) -> Result<LogIndex, StoreError> {
        let mut w = self.writer();
        let mut closed = Vec::new();
        while w.unapplied.front().is_some_and(|r| r.index <= w.positions.committed) {
            let Writer { journal, unapplied, .. } = &mut *w;
            let record = &unapplied[0];
            if !record.in_files {
                let entries: Vec<(&str, u64, &[u8])> = record.batch.iter().map(|(n, o, b, _)| (n.as_str(), *o, b.as_slice())).collect();
                if let Some(j) = journal.as_mut() {
                    j.write_to_files(&entries)?;
                }
            }
            let Some(record) = w.unapplied.pop_front() else { break };
            closed.extend(self.show(record.batch, &mut w.partial));
            w.positions.applied = record.index;
        }
        for s in closed {
            self.index_closed(&s)?;
        }
        Ok(w.positions.applied)
    }

    /// Makes applied groups visible: summaries and the tail. A piece of a group only joins
    /// `partial` until the group's last piece shows the whole group. The files this closed.
    fn show(&self, batch: Vec<Append>, partial: &mut Option<Partial>) -> Vec<Arc<FileSummary>> {
        let mut st = self.state_mut();
        let State { files, tail } = &mut *st;
        // Dumps hold the old snapshot: the list is copied (pointers) and the summaries that
        // change are copied once, the others shared.
        let files = Arc::make_mut(files);
        let mut closed = Vec::new();
        for (name, offset, bytes, mut info) in batch {
            let len = bytes.len() as u64;
            // The bytes are the truth of how much a group adds: its pieces and this.
            let earlier = match partial.take() {
                Some(p) if p.file == name && p.start + p.len == offset => Some(p),
                _ => None,
            };
            if info.part {
                *partial = Some(match earlier {
                    Some(p) => Partial { len: p.len + len, ..p },
                    None => Partial { file: name.clone(), start: offset, len },
                });
            } else {
                info.len = earlier.map_or(0, |p| p.len) + len;
                if let Some(s) = files.iter_mut().rev().find(|f| f.name == name) {
                    let was_closed = s.closed;
                    Arc::make_mut(s).apply(&info);
                    if s.closed && !was_closed && summaries::persistable(s) {
                        closed.push(Arc::clone(s));
                    }
                }
            }
            tail.push(&name, offset, Bytes::from(bytes));
        }
        closed
    }

    /// Applies groups that a log outside the store holds durably (the Raft log): each is written
    /// where its file ends, without a sync, and shown. [`Store::sync_written`] makes them
    /// durable in their files; until then the log has them. A file that closes is synced before
    /// its summary is persisted. The store's own log must be empty (a store is driven either
    /// through its journal or through an outer log, never both).
    pub fn apply_logged(&self, batch: Vec<Append>) -> Result<(), StoreError> {
        let mut w = self.writer();
        if !w.unapplied.is_empty() {
            return Err(StoreError::LogFull { unapplied: w.unapplied.len() });
        }
        let files = self.files();
        restart_partial(&mut w.partial, &batch);
        let partial = w.partial.clone();
        contiguous_ends(log_end(&files, &partial), &batch)?;
        for (name, offset, bytes, _) in &batch {
            let f = match &w.open {
                Some((n, f)) if n == name => Arc::clone(f),
                _ => {
                    let f = self.disk.open(name)?;
                    w.open = Some((name.clone(), Arc::clone(&f)));
                    f
                }
            };
            f.write_at(*offset, bytes)?;
            if !w.unsynced.contains(name) {
                w.unsynced.insert(name.clone());
            }
        }
        let closed = self.show(batch, &mut w.partial);
        let p = &mut w.positions;
        p.durable += 1;
        p.committed = p.durable;
        p.applied = p.durable;
        for s in closed {
            self.disk.open(&s.name)?.sync_data()?;
            w.unsynced.remove(&s.name);
            self.index_closed(&s)?;
        }
        Ok(())
    }

    /// Whether the pieces of a group are applied and its last piece is not yet.
    pub fn in_group(&self) -> bool {
        self.writer().partial.is_some()
    }

    /// Syncs every file [`Store::apply_logged`] wrote since the last call: what was applied is
    /// then durable in the files themselves, and the outer log may forget it.
    pub fn sync_written(&self) -> Result<(), StoreError> {
        let mut w = self.writer();
        for name in std::mem::take(&mut w.unsynced) {
            match self.disk.open(&name) {
                Ok(f) => f.sync_data()?,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes the oldest files: the index first (durably), then the files.
    pub fn purge(&self, purged: &[String]) -> Result<(), StoreError> {
        let mut st = self.state_mut();
        if st.files.iter().take(purged.len()).map(|f| &f.name).ne(purged.iter()) {
            return Err(StoreError::PurgeNotOldest);
        }
        let keep: Vec<Arc<FileSummary>> = st.files[purged.len()..].to_vec();
        self.write_index(&keep)?;
        disk::write_atomically(self.disk.as_ref(), SUMMARIES, summaries_text(&keep).as_bytes())?;
        st.files = Arc::new(keep);
        drop(st);
        let mut w = self.writer();
        for n in purged {
            if let Some(j) = w.journal.as_mut() {
                j.forget(n);
            }
            w.unsynced.remove(n);
            if w.open.as_ref().is_some_and(|(o, _)| o == n) {
                w.open = None;
            }
            disk::remove_durably(self.disk.as_ref(), n)?;
        }
        Ok(())
    }

    /// Up to `max` bytes of `file` from `offset`, and whether they reach its stored end. Only
    /// whole groups are ever served: a partial write stays invisible. The newest bytes come
    /// from memory, older ones from the disk.
    pub fn read(&self, file: &str, offset: u64, max: usize) -> Result<(Bytes, bool), StoreError> {
        let (want, at_end, cached) = self.read_plan(file, offset, max);
        if let Some(buf) = cached {
            return Ok((buf, at_end));
        }
        let buf = self.disk.open(file)?.read_at(offset, want)?;
        Ok((buf.into(), at_end))
    }

    /// [`Store::read`] when memory can answer it (the tail, or nothing to read): no disk.
    pub fn read_cached(&self, file: &str, offset: u64, max: usize) -> Option<(Bytes, bool)> {
        let (_, at_end, cached) = self.read_plan(file, offset, max);
        cached.map(|b| (b, at_end))
    }

    /// How much a read gets, whether it reaches the stored end, and the bytes if memory has them.
    fn read_plan(&self, file: &str, offset: u64, max: usize) -> (usize, bool, Option<Bytes>) {
        let st = self.state();
        let limit = complete_end(&st.files, file).unwrap_or(0);
        let want = usize::try_from(limit.saturating_sub(offset)).unwrap_or(usize::MAX).min(max);
        let at_end = offset + want as u64 >= limit;
        let cached = if want == 0 { Some(Bytes::new()) } else { st.tail.read(file, offset, want) };
        (want, at_end, cached)
    }
}

/// A group sent again from its start (a new session after one that ended in the middle of a
/// large group): its earlier pieces are dropped, and overwritten.
fn restart_partial(partial: &mut Option<Partial>, batch: &[Append]) {
    if let (Some(p), Some((name, offset, ..))) = (partial.as_ref(), batch.first()) {
        if p.file == *name && p.start == *offset {
            *partial = None;
        }
    }
}

/// Where each file's log ends: its stored part, and the applied pieces of an unfinished group.
fn log_end<'a>(files: &'a [Arc<FileSummary>], partial: &'a Option<Partial>) -> impl Fn(&str) -> Option<u64> + 'a {
    move |name: &str| {
        let end = complete_end(files, name)?;
        Some(match partial {
            Some(p) if p.file == name && p.start == end => end + p.len,
            _ => end,
        })
    }
}

/// What [`cut_to`] removed and cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cut {
    /// Files not at the point (newer ones, or ones a snapshot did not keep), removed.
    pub removed: Vec<String>,
    /// The point's last file, cut from this size to the point's end (None: it was no longer).
    pub truncated: Option<(String, u64)>,
}

/// Takes the store's directory to a point it durably reached, before the store opens: `files`,
/// in order, the last of them durable up to `last_end` (a checkpoint, or an installed
/// snapshot). The index becomes `files` (those a purge has since removed excepted), every other
/// file is removed, and the last is cut at `last_end`. What an outer log applies again from
/// there then lands where it belongs.
pub fn cut_to(disk: &dyn Disk, files: &[String], last_end: u64) -> Result<Cut, StoreError> {
    let names: Vec<String> = match disk::read_whole(disk, INDEX)? {
        Some(b) => String::from_utf8_lossy(&b).lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
        None => Vec::new(),
    };
    let present = disk.list()?;
    let mut keep: Vec<String> = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        if present.contains(f) {
            keep.push(f.clone());
        } else if i + 1 == files.len() {
            return Err(StoreError::Lost { file: f.clone(), size: None, durable_end: last_end });
        }
    }
    let mut cut = Cut { removed: names.iter().filter(|n| !keep.contains(n)).cloned().collect(), truncated: None };
    if names != keep {
        let text: String = keep.iter().map(|n| format!("{n}\n")).collect();
        disk::write_atomically(disk, INDEX, text.as_bytes())?;
    }
    for n in &cut.removed {
        disk::remove_durably(disk, n)?;
    }
    if let Some(last) = files.last() {
        let f = disk.open(last)?;
        let size = f.len()?;
        if size > last_end {
            f.set_len(last_end)?;
            f.sync_data()?;
            cut.truncated = Some((last.clone(), size));
        } else if size < last_end {
            return Err(StoreError::Lost { file: last.clone(), size: Some(size), durable_end: last_end });
        }
    }
    Ok(cut)
}

/// Where the stored part of `name` ends. Searched from the newest file, the one appended to and
/// read most.
fn complete_end(files: &[Arc<FileSummary>], name: &str) -> Option<u64> {
    files.iter().rev().find(|f| f.name == name).map(|f| f.complete_end)
}

/// Where the upstream resumes: right after the last complete group, or at the start of the
/// file a closed last file rotates to.
pub fn resume_point(files: &[Arc<FileSummary>]) -> Resume {
    match files.last() {
        None => Resume::Empty,
        Some(f) if f.closed => match &f.next_file {
            Some(n) => Resume::At { file: n.clone(), offset: 4 },
            None => Resume::At { file: f.name.clone(), offset: f.complete_end },
        },
        Some(f) => Resume::At { file: f.name.clone(), offset: f.complete_end },
    }
}

/// What binraft keeps of its binlog, as MariaDB's `binlog_expire_logs_seconds` and a count of
/// files: the oldest files beyond either go, never the last one, never one a replica reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many files (0: any number).
    pub keep_files: usize,
    /// Purge a file once its newest event is this old, in seconds (0: never).
    pub expire_logs_seconds: u64,
}

impl Retention {
    pub fn is_off(&self) -> bool {
        self.keep_files == 0 && self.expire_logs_seconds == 0
    }

    /// How many of the oldest files go at `now` (seconds since the epoch): those beyond the
    /// count or expired, up to (not including) the first one in `reading` and the last file.
    pub fn purgeable(&self, files: &[Arc<FileSummary>], now: u64, reading: &dyn Fn(&str) -> bool) -> usize {
        let by_count = if self.keep_files == 0 { 0 } else { files.len().saturating_sub(self.keep_files) };
        let by_age = if self.expire_logs_seconds == 0 { 0 } else { purgeable_before(files, now.saturating_sub(self.expire_logs_seconds)) };
        let n = by_count.max(by_age).min(files.len().saturating_sub(1));
        files[..n].iter().take_while(|f| !reading(&f.name)).count()
    }
}

/// How many of the oldest files PURGE BINARY LOGS BEFORE `ts` (seconds since the epoch)
/// removes: those whose newest event is older, never the last file.
pub fn purgeable_before(files: &[Arc<FileSummary>], ts: u64) -> usize {
    files[..files.len().saturating_sub(1)].iter().take_while(|f| u64::from(f.last_timestamp) < ts).count()
}

/// Each group (or piece of one) of `batch` must start where its file's log ends (`log_end`),
/// or where the one before it in the batch does; the new end of each file appended to.
pub fn contiguous_ends<'a>(log_end: impl Fn(&str) -> Option<u64>, batch: impl IntoIterator<Item = &'a Append>) -> Result<Vec<(String, u64)>, StoreError> {
    let mut ends: Vec<(String, u64)> = Vec::new();
    for (name, offset, bytes, _) in batch {
        let i = match ends.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                let end = log_end(name).ok_or_else(|| StoreError::NotContiguous { file: name.clone(), offset: *offset, end: None })?;
                ends.push((name.clone(), end));
                ends.len() - 1
            }
        };
        if ends[i].1 != *offset {
            return Err(StoreError::NotContiguous { file: name.clone(), offset: *offset, end: Some(ends[i].1) });
        }
        ends[i].1 = offset + bytes.len() as u64;
    }
    Ok(ends)
}

/// The persisted index's text for `files`: a line per closed file it can hold.
fn summaries_text(files: &[Arc<FileSummary>]) -> String {
    files.iter().filter(|s| summaries::persistable(s)).map(|s| summaries::encode_line(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str, end: u64, closed: bool, next: Option<&str>) -> Arc<FileSummary> {
        Arc::new(FileSummary { complete_end: end, size: end, closed, next_file: next.map(String::from), ..FileSummary::empty(name) })
    }

    fn group(name: &str, offset: u64, len: usize) -> Append {
        (name.to_string(), offset, vec![0; len], Box::default())
    }

    #[test]
    fn appends_must_continue_their_file_within_a_batch_too() {
        let files = vec![summary("b.1", 400, true, Some("b.2")), summary("b.2", 4, false, None)];
        let files = |name: &str| complete_end(&files, name);
        assert_eq!(contiguous_ends(files, &[group("b.2", 4, 10), group("b.2", 14, 6)]), Ok(vec![("b.2".to_string(), 20)]));
        assert_eq!(
            contiguous_ends(files, &[group("b.2", 4, 10), group("b.2", 15, 6)]),
            Err(StoreError::NotContiguous { file: "b.2".into(), offset: 15, end: Some(14) })
        );
        assert_eq!(contiguous_ends(files, &[group("b.3", 4, 1)]), Err(StoreError::NotContiguous { file: "b.3".into(), offset: 4, end: None }));
        assert_eq!(contiguous_ends(files, &[group("b.1", 4, 1)]), Err(StoreError::NotContiguous { file: "b.1".into(), offset: 4, end: Some(400) }));
    }

    #[test]
    fn purge_before_goes_by_the_files_own_time_and_keeps_the_last() {
        let at = |name: &str, t: u32| Arc::new(FileSummary { last_timestamp: t, ..(*summary(name, 100, true, None)).clone() });
        let files = vec![at("b.1", 100), at("b.2", 200), at("b.3", 150), at("b.4", 50)];
        assert_eq!(purgeable_before(&files, 100), 0);
        assert_eq!(purgeable_before(&files, 101), 1);
        // Oldest first, and a newer file stops it: b.3 is older than b.2 but comes after it.
        assert_eq!(purgeable_before(&files, 199), 1);
        assert_eq!(purgeable_before(&files, 1000), 3, "never the last file");
        assert_eq!(purgeable_before(&[], 1000), 0);
    }

    #[test]
    fn retention_keeps_a_count_and_an_age_and_spares_what_replicas_read() {
        let at = |name: &str, t: u32| Arc::new(FileSummary { last_timestamp: t, ..(*summary(name, 100, true, None)).clone() });
        let files = vec![at("b.1", 100), at("b.2", 200), at("b.3", 300), at("b.4", 400)];
        let none = |_: &str| false;
        assert!(Retention::default().is_off());
        assert_eq!(Retention::default().purgeable(&files, 10_000, &none), 0);
        let keep2 = Retention { keep_files: 2, expire_logs_seconds: 0 };
        assert_eq!(keep2.purgeable(&files, 0, &none), 2);
        assert_eq!(Retention { keep_files: 9, ..keep2 }.purgeable(&files, 0, &none), 0);
        let hour = Retention { keep_files: 0, expire_logs_seconds: 3600 };
        assert_eq!(hour.purgeable(&files, 3600 + 250, &none), 2, "b.1 and b.2 are over an hour old");
        assert_eq!(hour.purgeable(&files, 1_000_000, &none), 3, "never the last file");
        // Whichever purges more; a file a replica reads stops it, and what comes after.
        assert_eq!(Retention { keep_files: 3, expire_logs_seconds: 3600 }.purgeable(&files, 3600 + 250, &none), 2);
        assert_eq!(keep2.purgeable(&files, 0, &|n: &str| n == "b.2"), 1);
        assert_eq!(keep2.purgeable(&files, 0, &|n: &str| n == "b.1"), 0);
    }

    #[test]
    fn the_upstream_resumes_after_the_last_group_or_in_the_next_file() {
        assert_eq!(resume_point(&[]), Resume::Empty);
        assert_eq!(resume_point(&[summary("b.1", 400, false, None)]), Resume::At { file: "b.1".into(), offset: 400 });
        assert_eq!(resume_point(&[summary("b.1", 400, true, Some("b.2"))]), Resume::At { file: "b.2".into(), offset: 4 });
        // Closed by a STOP: nothing names the next file; the primary's ROTATE will.
        assert_eq!(resume_point(&[summary("b.1", 400, true, None)]), Resume::At { file: "b.1".into(), offset: 400 });
    }
}
