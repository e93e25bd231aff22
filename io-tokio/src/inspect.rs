//! `binraft inspect FILE...`: reads binlog files (plain or gzip) in chunks through the core's
//! stream decoder and prints each event as a line (`--json`: a JSON object per line), counts per
//! type (`--stats`), or only checks them (`--verify`). Exit status 1 when any file is bad; the
//! error names the file, the offset and the event type.

use binraft_core::binlog::render::{describe, text_line, Description};
use binraft_core::binlog::{BinlogError, Event, StreamDecoder};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Binlog files (a .gz file is decompressed first).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per event.
    #[arg(long, conflicts_with_all = ["stats", "verify"])]
    json: bool,
    /// Count events and bytes per event type.
    #[arg(long, conflicts_with = "verify")]
    stats: bool,
    /// Only check every event (framing, checksums, bodies, rows); print one line per file.
    #[arg(long)]
    verify: bool,
}

const CHUNK: usize = 1 << 20;

#[derive(Default)]
struct Stats {
    per_type: BTreeMap<(u8, &'static str), (u64, u64)>,
}

pub fn run(args: &Args) -> ExitCode {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = false;
    for path in &args.files {
        let mut stats = Stats::default();
        let mut count = 0u64;
        let result = each_event(path, |dec, ev| {
            count += 1;
            if args.stats {
                let e = stats.per_type.entry((ev.header.event_type.0, ev.header.event_type.name())).or_default();
                e.0 += 1;
                e.1 += u64::from(ev.header.event_size);
                return Ok(());
            }
            if args.verify {
                return Ok(());
            }
            let d = describe(ev, &|id| dec.table(id).map(|t| t.qualified_name()));
            if args.json {
                writeln!(out, "{}", to_json(&d))
            } else {
                write!(out, "{}", text_line(&d))
            }
        });
        if args.stats {
            let _ = writeln!(out, "{}:", path.display());
            let _ = writeln!(out, "  {:<28} {:>10} {:>14}", "event type", "events", "bytes");
            let (mut n, mut b) = (0, 0);
            for ((code, name), (c, bytes)) in &stats.per_type {
                let _ = writeln!(out, "  {:<28} {c:>10} {bytes:>14}", format!("{name} ({code})"));
                n += c;
                b += bytes;
            }
            let _ = writeln!(out, "  {:<28} {n:>10} {b:>14}", "total");
        }
        match result {
            Ok(()) => {
                if args.verify {
                    let _ = writeln!(out, "{}: ok, {count} events", path.display());
                }
            }
            Err(e) => {
                failed = true;
                let _ = out.flush();
                eprintln!("binraft inspect: {}: {e}", path.display());
            }
        }
    }
    let _ = out.flush();
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Why a file could not be read to its end.
enum InspectError {
    Io(io::Error),
    Binlog(BinlogError),
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InspectError::Io(e) => write!(f, "{e}"),
            InspectError::Binlog(e) => write!(f, "{e}"),
        }
    }
}

fn open(path: &Path) -> io::Result<Box<dyn Read>> {
    let mut f = File::open(path)?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic)?;
    let f = File::open(path)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::GzDecoder::new(f)))
    } else {
        Ok(Box::new(f))
    }
}

fn each_event(
    path: &Path,
    mut f: impl FnMut(&binraft_core::binlog::Decoder, &Event) -> io::Result<()>,
) -> Result<(), InspectError> {
    let mut input = open(path).map_err(InspectError::Io)?;
    let mut dec = StreamDecoder::for_file();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = input.read(&mut buf).map_err(InspectError::Io)?;
        if n == 0 {
            break;
        }
        dec.handle_bytes(&buf[..n]);
        while let Some(ev) = dec.poll_event() {
            let ev = ev.map_err(InspectError::Binlog)?;
            f(dec.decoder(), &ev).map_err(InspectError::Io)?;
        }
    }
    dec.finish().map_err(InspectError::Binlog)
}

fn to_json(d: &Description) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("offset".into(), d.offset.into());
    m.insert("type".into(), d.event_type.clone().into());
    for (k, v) in &d.fields {
        m.insert((*k).into(), v.clone().into());
    }
    if !d.rows.is_empty() {
        m.insert("row_lines".into(), d.rows.clone().into());
    }
    if !d.inner.is_empty() {
        m.insert("events".into(), d.inner.iter().map(to_json).collect::<Vec<_>>().into());
    }
    serde_json::Value::Object(m)
}
