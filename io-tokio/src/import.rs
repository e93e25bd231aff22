//! `binraft import FILE...`: seeds a store from existing binlog files (a primary's history).
//! Each file is checked whole (framing, checksums, bodies) before it is copied; a file with a
//! torn tail is imported up to its last complete transaction, and the cut is reported.

use binraft::store::Store;
use binraft_core::store::index::summarize;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Binlog files, in order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The store directory.
    #[arg(long, default_value = "binraft-data")]
    data_dir: PathBuf,
}

pub fn run(args: &Args) -> Result<(), String> {
    let store = Store::open(&args.data_dir).map_err(|e| format!("{}: {e}", args.data_dir.display()))?;
    let total = args.files.len();
    let bytes: u64 = args.files.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    // A bar over all bytes, on a terminal only; the per-file lines go above it.
    let bar = indicatif::ProgressBar::new(bytes);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for (i, path) in args.files.iter().enumerate() {
        bar.set_message(path.display().to_string());
        let name = file_name(path)?;
        if store.files().iter().any(|f| f.name == name) {
            return Err(format!("{name} is already in the store"));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut s = summarize(&name, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(prev) = store.files().last() {
            if prev.mariadb != s.mariadb {
                return Err(format!("{name}: mixes MySQL and MariaDB binlogs in one store"));
            }
        }
        let keep = s.complete_end as usize;
        if let Some(e) = s.error.take() {
            eprintln!("binraft import: {name}: keeping {keep} of {} bytes: {e}", bytes.len());
        }
        s.size = keep as u64;
        let line = format!("[{:>3}/{total}] {name}: {} events, {} bytes{}", i + 1, s.events, keep, if s.closed { "" } else { " (open file)" });
        store.add_file(&bytes[..keep], s).map_err(|e| format!("{name}: {e}"))?;
        bar.suspend(|| println!("{line}"));
        bar.inc(bytes.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

fn file_name(p: &Path) -> Result<String, String> {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).ok_or_else(|| format!("{}: not a file", p.display()))
}
