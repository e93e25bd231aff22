//! The store's journal on disk (its format and replay rules are core::store::journal): a
//! preallocated `binlog.journal` written at a cursor and fdatasynced. Overwriting blocks that
//! already exist changes no file size, so the sync has no file-system metadata to commit; an
//! append to a binlog file always does.

use binraft_core::store::journal::{self, HEADER_LEN, SLOT_LEN};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const FILE: &str = "binlog.journal";

#[derive(Debug)]
pub struct Journal {
    file: File,
    dir: PathBuf,
    size: u64,
    generation: u64,
    cursor: u64,
    /// Binlog files written since the last checkpoint, not yet synced.
    touched: BTreeSet<String>,
    /// The binlog file last written, kept open.
    open: Option<(String, File)>,
}

/// What opening the journal found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub records: usize,
    pub groups: usize,
    pub bytes: u64,
}

impl Journal {
    /// Opens the journal of the store in `dir`. Every record of its current generation is
    /// written again to its binlog file (a file no longer in `names`, purged, is skipped), those
    /// files are synced, and the next generation starts empty. A missing journal is created,
    /// `size` bytes preallocated; `size` 0 means none (one left from before is replayed and
    /// removed). An existing journal keeps its size.
    pub fn open(dir: &Path, size: u64, names: &[String]) -> io::Result<(Option<Journal>, Replayed)> {
        let path = dir.join(FILE);
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if size == 0 {
                    return Ok((None, Replayed::default()));
                }
                let file = create(dir, size)?;
                let j = Journal { file, dir: dir.to_path_buf(), size, generation: 1, cursor: HEADER_LEN as u64, touched: BTreeSet::new(), open: None };
                return Ok((Some(j), Replayed::default()));
            }
            Err(e) => return Err(e),
        };
        let (generation, replayed) = replay(dir, &file, names)?;
        if size == 0 {
            drop(file);
            std::fs::remove_file(&path)?;
            sync_dir(dir)?;
            return Ok((None, replayed));
        }
        let size = file.metadata()?.len();
        let mut j = Journal { file, dir: dir.to_path_buf(), size, generation, cursor: HEADER_LEN as u64, touched: BTreeSet::new(), open: None };
        j.start_generation()?;
        Ok((Some(j), replayed))
    }

    /// Makes the next generation current (durably): the records of the last one are dead.
    fn start_generation(&mut self) -> io::Result<()> {
        self.generation += 1;
        self.file.write_all_at(&journal::encode_header(self.generation), journal::slot_offset(self.generation))?;
        self.file.sync_data()?;
        self.cursor = HEADER_LEN as u64;
        Ok(())
    }

    /// The largest batch the journal takes; a larger one goes straight to its files.
    pub fn max_record(&self) -> u64 {
        (self.size - HEADER_LEN as u64) / 4
    }

    /// Makes a batch durable in the journal, then writes it to its binlog files (not synced).
    /// `false` when the batch is too large for the journal: nothing was written.
    pub fn append(&mut self, entries: &[(&str, u64, &[u8])]) -> io::Result<bool> {
        let len = journal::record_len(entries) as u64;
        if len > self.max_record() {
            return Ok(false);
        }
        if self.cursor + len > self.size {
            self.checkpoint()?;
        }
        let record = journal::encode_record(self.generation, entries);
        self.file.write_all_at(&record, self.cursor)?;
        self.file.sync_data()?;
        self.cursor += len;
        for (name, offset, bytes) in entries {
            self.binlog(name)?.write_all_at(bytes, *offset)?;
            if !self.touched.contains(*name) {
                self.touched.insert(name.to_string());
            }
        }
        Ok(true)
    }

    fn binlog(&mut self, name: &str) -> io::Result<&File> {
        if self.open.as_ref().is_none_or(|(n, _)| n != name) {
            let f = OpenOptions::new().write(true).open(self.dir.join(name))?;
            self.open = Some((name.to_string(), f));
        }
        match &self.open {
            Some((_, f)) => Ok(f),
            None => Err(io::Error::other("no open binlog file")),
        }
    }

    /// Syncs every binlog file written since the last checkpoint, then starts a new
    /// generation. A file purged meanwhile needs nothing.
    pub fn checkpoint(&mut self) -> io::Result<()> {
        for name in std::mem::take(&mut self.touched) {
            match OpenOptions::new().write(true).open(self.dir.join(&name)) {
                Ok(f) => f.sync_data()?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.start_generation()
    }

    /// The current generation and where its next record goes.
    #[cfg(test)]
    pub fn position(&self) -> (u64, u64) {
        (self.generation, self.cursor)
    }
}

/// Writes every record of the journal's current generation again to its binlog file (one no
/// longer in `names`, purged, is skipped) and syncs those files; the generation.
fn replay(dir: &Path, file: &File, names: &[String]) -> io::Result<(u64, Replayed)> {
    let len = file.metadata()?.len();
    let mut header = vec![0u8; HEADER_LEN];
    if len >= HEADER_LEN as u64 {
        file.read_exact_at(&mut header, 0)?;
    }
    let generation = journal::current_generation(&header).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{FILE}: {e}. It may hold acknowledged transactions; binraft will not start over it. Move it away to start without it."),
        )
    })?;
    let mut body = vec![0u8; len.saturating_sub(HEADER_LEN as u64) as usize];
    file.read_exact_at(&mut body, HEADER_LEN as u64)?;
    let scan = journal::scan(&body, generation);
    let mut replayed = Replayed { records: scan.records, ..Replayed::default() };
    let mut written: Vec<(&str, File)> = Vec::new();
    for e in &scan.entries {
        if !names.contains(&e.file) {
            tracing::warn!(file = %e.file, "{FILE}: a record for a file no longer in the store; skipped");
            continue;
        }
        let i = match written.iter().position(|(n, _)| *n == e.file) {
            Some(i) => i,
            None => {
                written.push((&e.file, OpenOptions::new().write(true).open(dir.join(&e.file))?));
                written.len() - 1
            }
        };
        let f = &written[i].1;
        let have = f.metadata()?.len();
        if e.offset > have {
            tracing::warn!(file = %e.file, offset = e.offset, size = have, "{FILE}: a record past the file's end; recovery will cut at the gap");
        }
        f.write_all_at(&e.bytes, e.offset)?;
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
fn create(dir: &Path, size: u64) -> io::Result<File> {
    let tmp = dir.join(format!("{FILE}.tmp"));
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&tmp)?;
    let zeros = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < size {
        let n = (size - at).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    file.write_all_at(&journal::encode_header(1), journal::slot_offset(1))?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(FILE))?;
    sync_dir(dir)?;
    Ok(file)
}

/// Offsets of the two header slots are fixed by the format.
const _: () = assert!(SLOT_LEN * 2 == HEADER_LEN);

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
