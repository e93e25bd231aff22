//! The journal on a [`Disk`] (its format and scan are [`super::journal`]): `binlog.journal`,
//! preallocated and written at a cursor, one record and one sync per batch. Overwriting blocks
//! that already exist changes no file size, so the sync has no file-system metadata to commit;
//! an append to a binlog file always does.

use super::disk::{Disk, DiskFile, DiskResult};
use super::journal::{self, HeaderError, HEADER_LEN};
use super::names::{JOURNAL, TMP_SUFFIX};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Debug)]
pub struct Journal {
    file: Arc<dyn DiskFile>,
    disk: Arc<dyn Disk>,
    size: u64,
    generation: u64,
    cursor: u64,
    /// Binlog files written since the last checkpoint, not yet synced.
    touched: BTreeSet<String>,
    /// The binlog file last written, kept open.
    open: Option<(String, Arc<dyn DiskFile>)>,
}

/// What [`Journal::append`] did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logged {
    Durable,
    /// Larger than a record may be: nothing written (it goes straight to its files).
    TooLarge,
    /// The journal is full and may not checkpoint yet: nothing written.
    Full,
}

/// What opening the journal found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub records: usize,
    pub groups: usize,
    pub bytes: u64,
    /// Records for files no longer in the store (purged): skipped.
    pub skipped_files: Vec<String>,
    /// Records that start past their file's end (the gap is cut by recovery).
    pub past_end: Vec<(String, u64, u64)>,
}

/// Why the journal cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalError {
    Disk(super::disk::DiskError),
    /// Neither header slot reads: the journal may hold acknowledged transactions, so binraft
    /// does not start over it.
    Header(HeaderError),
}

impl From<super::disk::DiskError> for JournalError {
    fn from(e: super::disk::DiskError) -> Self {
        JournalError::Disk(e)
    }
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Disk(e) => write!(f, "{JOURNAL}: {e}"),
            JournalError::Header(e) => write!(
                f,
                "{JOURNAL}: {e}. It may hold acknowledged transactions; binraft will not start over it. Move it away to start without it."
            ),
        }
    }
}

impl Journal {
    /// Opens the journal of the store on `disk`. Every record of its current generation is
    /// written again to its binlog file (a file no longer in `names`, purged, is skipped),
    /// those files are synced, and the next generation starts empty. A missing journal is
    /// created, `size` bytes preallocated; `size` 0 means none (one left from before is
    /// replayed and removed). An existing journal keeps its size.
    pub fn open(disk: &Arc<dyn Disk>, size: u64, names: &[String]) -> Result<(Option<Journal>, Replayed), JournalError> {
        let file = match disk.open(JOURNAL) {
            Ok(f) => f,
            Err(e) if e.is_not_found() => {
                if size == 0 {
                    return Ok((None, Replayed::default()));
                }
                let file = create(disk.as_ref(), size)?;
                let j = Journal { file, disk: Arc::clone(disk), size, generation: 1, cursor: HEADER_LEN as u64, touched: BTreeSet::new(), open: None };
                return Ok((Some(j), Replayed::default()));
            }
            Err(e) => return Err(e.into()),
        };
        let (generation, replayed) = replay(disk.as_ref(), file.as_ref(), names)?;
        if size == 0 {
            drop(file);
            super::disk::remove_durably(disk.as_ref(), JOURNAL)?;
            return Ok((None, replayed));
        }
        let size = file.len()?;
        let mut j = Journal { file, disk: Arc::clone(disk), size, generation, cursor: HEADER_LEN as u64, touched: BTreeSet::new(), open: None };
        j.start_generation()?;
        Ok((Some(j), replayed))
    }

    /// Makes the next generation current (durably): the records of the last one are dead.
    fn start_generation(&mut self) -> DiskResult<()> {
        self.generation += 1;
        self.file.write_at(journal::slot_offset(self.generation), &journal::encode_header(self.generation))?;
        self.file.sync_data()?;
        self.cursor = HEADER_LEN as u64;
        Ok(())
    }

    /// The largest batch the journal takes; a larger one goes straight to its files.
    pub fn max_record(&self) -> u64 {
        (self.size - HEADER_LEN as u64) / 4
    }

    /// Makes a batch durable in the journal (its binlog files are written later, at apply,
    /// with [`Journal::write_to_files`]). A full journal checkpoints first if `may_checkpoint`
    /// (nothing journaled is still unwritten to its files), else it says so.
    pub fn append(&mut self, entries: &[(&str, u64, &[u8])], may_checkpoint: bool) -> DiskResult<Logged> {
        let len = journal::record_len(entries) as u64;
        if len > self.max_record() {
            return Ok(Logged::TooLarge);
        }
        if self.cursor + len > self.size {
            if !may_checkpoint {
                return Ok(Logged::Full);
            }
            self.checkpoint()?;
        }
        let record = journal::encode_record(self.generation, entries);
        self.file.write_at(self.cursor, &record)?;
        self.file.sync_data()?;
        self.cursor += len;
        Ok(Logged::Durable)
    }

    /// Writes journaled groups to their binlog files, without a sync: the next checkpoint
    /// syncs them, and until then a start replays them from the journal.
    pub fn write_to_files(&mut self, entries: &[(&str, u64, &[u8])]) -> DiskResult<()> {
        for (name, offset, bytes) in entries {
            self.binlog(name)?.write_at(*offset, bytes)?;
            if !self.touched.contains(*name) {
                self.touched.insert(name.to_string());
            }
        }
        Ok(())
    }

    fn binlog(&mut self, name: &str) -> DiskResult<Arc<dyn DiskFile>> {
        if let Some((n, f)) = &self.open {
            if n == name {
                return Ok(Arc::clone(f));
            }
        }
        let f = self.disk.open(name)?;
        self.open = Some((name.to_string(), Arc::clone(&f)));
        Ok(f)
    }

    /// Syncs every binlog file written since the last checkpoint, then starts a new
    /// generation. A file purged meanwhile needs nothing.
    pub fn checkpoint(&mut self) -> DiskResult<()> {
        for name in std::mem::take(&mut self.touched) {
            match self.disk.open(&name) {
                Ok(f) => f.sync_data()?,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        self.start_generation()
    }

    /// Forgets an open handle on `name` (before the file is removed).
    pub fn forget(&mut self, name: &str) {
        self.touched.remove(name);
        if self.open.as_ref().is_some_and(|(n, _)| n == name) {
            self.open = None;
        }
    }

    /// The current generation and where its next record goes.
    pub fn position(&self) -> (u64, u64) {
        (self.generation, self.cursor)
    }
}

/// Writes every record of the journal's current generation again to its binlog file (one no
/// longer in `names`, purged, is skipped) and syncs those files; the generation.
fn replay(disk: &dyn Disk, file: &dyn DiskFile, names: &[String]) -> Result<(u64, Replayed), JournalError> {
    let len = file.len()?;
    let header = if len >= HEADER_LEN as u64 { file.read_at(0, HEADER_LEN)? } else { Vec::new() };
    let generation = journal::current_generation(&header).map_err(JournalError::Header)?;
    let body = file.read_at(HEADER_LEN as u64, len.saturating_sub(HEADER_LEN as u64) as usize)?;
    let scan = journal::scan(&body, generation);
    let mut replayed = Replayed { records: scan.records, ..Replayed::default() };
    let mut written: Vec<(&str, Arc<dyn DiskFile>)> = Vec::new();
    for e in &scan.entries {
        if !names.contains(&e.file) {
            if !replayed.skipped_files.contains(&e.file) {
                replayed.skipped_files.push(e.file.clone());
            }
            continue;
        }
        let i = match written.iter().position(|(n, _)| *n == e.file) {
            Some(i) => i,
            None => {
                written.push((&e.file, disk.open(&e.file)?));
                written.len() - 1
            }
        };
        let f = &written[i].1;
        let have = f.len()?;
        if e.offset > have {
            replayed.past_end.push((e.file.clone(), e.offset, have));
        }
        f.write_at(e.offset, &e.bytes)?;
        replayed.groups += 1;
        replayed.bytes += e.bytes.len() as u64;
    }
    for (_, f) in &written {
        f.sync_data()?;
    }
    Ok((generation, replayed))
}

/// A new journal of `size` bytes at its first generation. Preallocated with zeros, written (not
/// a hole), so later overwrites allocate nothing; built under another name with its header and
/// renamed, so a crash while creating it leaves no journal rather than one without a header.
fn create(disk: &dyn Disk, size: u64) -> DiskResult<Arc<dyn DiskFile>> {
    let tmp = format!("{JOURNAL}{TMP_SUFFIX}");
    let file = disk.create(&tmp)?;
    let zeros = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < size {
        let n = (size - at).min(zeros.len() as u64) as usize;
        file.write_at(at, &zeros[..n])?;
        at += n as u64;
    }
    file.write_at(journal::slot_offset(1), &journal::encode_header(1))?;
    file.sync_data()?;
    disk.rename(&tmp, JOURNAL)?;
    disk.sync_dir()?;
    Ok(file)
}
