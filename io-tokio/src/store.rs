//! The binlog store on disk: a directory of binlog files under the primary's names, listed in
//! order in `binlog.index` (one name a line, as MySQL and MariaDB keep theirs), each summarised
//! once when opened.

use binraft_core::store::index::{summarize, FileSummary};
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const INDEX: &str = "binlog.index";

#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    files: Vec<FileSummary>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, reading every file once.
    pub fn open(dir: &Path) -> io::Result<Store> {
        std::fs::create_dir_all(dir)?;
        let names = match std::fs::read_to_string(dir.join(INDEX)) {
            Ok(s) => s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for name in names {
            let bytes = std::fs::read(dir.join(&name))?;
            let s = summarize(&name, &bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{name}: {e}")))?;
            if let Some(e) = &s.error {
                tracing::warn!(file = %name, complete_end = s.complete_end, "store file has a damaged or torn tail: {e}");
            }
            files.push(s);
        }
        Ok(Store { dir: dir.to_path_buf(), files })
    }

    pub fn files(&self) -> &[FileSummary] {
        &self.files
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a file already written into the store directory (fsynced by the caller).
    pub fn add(&mut self, summary: FileSummary) -> io::Result<()> {
        self.files.push(summary);
        let mut index = String::new();
        for f in &self.files {
            index.push_str(&f.name);
            index.push('\n');
        }
        write_atomically(&self.dir.join(INDEX), index.as_bytes())
    }

    /// Up to `max` bytes of `file` from `offset`, and whether they reach the file's current end.
    pub async fn read(&self, file: &str, offset: u64, max: usize) -> io::Result<(Vec<u8>, bool)> {
        let limit = self.files.iter().find(|f| f.name == file).map(|f| f.complete_end).unwrap_or(0);
        let mut f = tokio::fs::File::open(self.dir.join(file)).await?;
        f.seek(io::SeekFrom::Start(offset)).await?;
        // Only whole groups are served: a torn tail stays invisible.
        let want = (limit.saturating_sub(offset) as usize).min(max);
        let mut buf = vec![0u8; want];
        f.read_exact(&mut buf).await?;
        Ok((buf, offset + want as u64 >= limit))
    }
}

/// Write to a temporary file, fsync it, rename it over `path`, fsync the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
