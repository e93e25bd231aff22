//! The simulated primary's binlog, generated from a seed with core's encoder: MariaDB files of
//! a FORMAT_DESCRIPTION, a GTID_LIST and a BINLOG_CHECKPOINT, then transactions (GTID, an INSERT
//! of a seeded size, XID) in a few GTID domains, each file closed by a ROTATE once it passes a
//! seeded size.
//!
//! In: a seed, then [`PrimaryLog::produce`] once per transaction. Out: the files' bytes as a
//! primary holds them, and the list of transactions ([`Txn`]: GTID, file, byte range), which is
//! what the invariants compare every replica and every node with.

use binraft_core::binlog::events::format_description::FormatDescription;
use binraft_core::binlog::events::gtid_list::GtidList;
use binraft_core::binlog::events::mariadb_gtid::{flags, MariaGtidEvent};
use binraft_core::binlog::events::query::Query;
use binraft_core::binlog::events::rotate::Rotate;
use binraft_core::binlog::events::simple::{BinlogCheckpoint, Xid};
use binraft_core::binlog::{ChecksumAlg, Event, EventBody, EventHeader, EventType};
use binraft_core::gtid::MariaGtid;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// The primary's server_id (and the GTIDs' server).
pub const PRIMARY_SERVER_ID: u32 = 1;
pub const SERVER_VERSION: &str = "10.11.19-MariaDB-sim-log";
const BASE_NAME: &str = "primary-bin";

/// One transaction of the primary: its GTID and where its bytes lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    pub gtid: MariaGtid,
    /// Index into [`PrimaryLog::files`].
    pub file: usize,
    pub offset: u64,
    pub end: u64,
}

/// What the primary holds, and the generator that makes it grow.
pub struct PrimaryLog {
    rng: ChaCha8Rng,
    /// Oldest first: name and bytes.
    pub files: Vec<(String, Vec<u8>)>,
    pub txns: Vec<Txn>,
    /// The last sequence number per domain.
    seqs: BTreeMap<u32, u64>,
    /// A file is rotated once it passes this.
    rotate_bytes: usize,
    xid: u64,
    timestamp: u32,
}

fn header(t: EventType, server_id: u32, timestamp: u32, flags: u16) -> EventHeader {
    EventHeader { timestamp, event_type: t, server_id, event_size: 0, log_pos: 0, flags }
}

/// Appends `ev` to `out` with its end position set, as a primary writes it.
fn put(out: &mut Vec<u8>, mut ev: Event) {
    let size = ev.encode().len() as u32;
    ev.header.log_pos = out.len() as u32 + size;
    out.extend_from_slice(&ev.encode());
}

impl PrimaryLog {
    /// A primary with one file holding only its header events.
    pub fn new(seed: u64) -> PrimaryLog {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let rotate_bytes = rng.gen_range(4 << 10..=32 << 10);
        let mut log = PrimaryLog { rng, files: Vec::new(), txns: Vec::new(), seqs: BTreeMap::new(), rotate_bytes, xid: 100, timestamp: 1_700_000_000 };
        log.open_file();
        log
    }

    fn name(n: usize) -> String {
        format!("{BASE_NAME}.{n:06}")
    }

    fn open_file(&mut self) {
        let name = Self::name(self.files.len() + 1);
        let crc = ChecksumAlg::Crc32;
        let ts = self.timestamp;
        let mut out = binraft_core::binlog::frame::BINLOG_MAGIC.to_vec();
        let fde = FormatDescription::new_v4(SERVER_VERSION, ts, crc, true);
        put(&mut out, Event::new(header(EventType::FORMAT_DESCRIPTION, PRIMARY_SERVER_ID, ts, 0), EventBody::FormatDescription(fde), crc));
        let gtids = self.seqs.iter().map(|(&domain, &seq)| MariaGtid { domain, server: PRIMARY_SERVER_ID, seq }).collect();
        put(&mut out, Event::new(header(EventType::GTID_LIST, PRIMARY_SERVER_ID, ts, 0), EventBody::GtidList(GtidList { flags: 0, gtids, padding: Vec::new() }), crc));
        let checkpoint = BinlogCheckpoint { file: name.clone().into_bytes() };
        put(&mut out, Event::new(header(EventType::BINLOG_CHECKPOINT, PRIMARY_SERVER_ID, ts, 0), EventBody::BinlogCheckpoint(checkpoint), crc));
        self.files.push((name, out));
    }

    /// Writes one more transaction (rotating first if the last file is full); returns its index
    /// in [`PrimaryLog::txns`].
    pub fn produce(&mut self) -> usize {
        let crc = ChecksumAlg::Crc32;
        if self.files.last().is_some_and(|(_, b)| b.len() >= self.rotate_bytes) {
            let next = Self::name(self.files.len() + 1);
            let ts = self.timestamp;
            let (_, out) = self.files.last_mut().expect("a file is open");
            put(out, Event::new(header(EventType::ROTATE, PRIMARY_SERVER_ID, ts, 0), EventBody::Rotate(Rotate { position: Some(4), next_file: next.into_bytes() }), crc));
            self.open_file();
        }
        self.timestamp += self.rng.gen_range(0..2);
        let ts = self.timestamp;
        // Mostly domain 0; some in 1 and 2, as several sources writing through one primary.
        let domain = match self.rng.gen_range(0..10) {
            0 => 2,
            1 | 2 => 1,
            _ => 0,
        };
        let seq = self.seqs.entry(domain).or_insert(0);
        *seq += 1;
        let gtid = MariaGtid { domain, server: PRIMARY_SERVER_ID, seq: *seq };
        // Rows of a seeded size: mostly small, sometimes a few KiB.
        let len = if self.rng.gen_bool(0.1) { self.rng.gen_range(1024..8192) } else { self.rng.gen_range(8..200) };
        let value: String = (0..len).map(|i| char::from(b'a' + ((i + gtid.seq as usize) % 26) as u8)).collect();
        let sql = format!("INSERT INTO sim.t{domain} VALUES ({}, '{value}')", gtid.seq);
        self.xid += 1;
        let xid = self.xid;
        let file = self.files.len() - 1;
        let (_, out) = self.files.last_mut().expect("a file is open");
        let offset = out.len() as u64;
        let ge = MariaGtidEvent {
            seq: gtid.seq,
            domain,
            flags: flags::TRANSACTIONAL | flags::ALLOW_PARALLEL,
            commit_id: None,
            xid: None,
            flags_extra: None,
            extra_engines: None,
            start_alter_seq: None,
            thread_id: None,
        };
        put(out, Event::new(header(EventType::MARIADB_GTID, PRIMARY_SERVER_ID, ts, 0x08), EventBody::MariaGtid(ge), crc));
        let q = Query { thread_id: 6, exec_time: 0, error_code: 0, status_vars: Some(Vec::new()), load: None, extra_post_header: Vec::new(), db: b"sim".to_vec(), query: sql.into_bytes(), inflated: None };
        put(out, Event::new(header(EventType::QUERY, PRIMARY_SERVER_ID, ts, 0), EventBody::Query(q), crc));
        put(out, Event::new(header(EventType::XID, PRIMARY_SERVER_ID, ts, 0), EventBody::Xid(Xid { xid }), crc));
        let end = out.len() as u64;
        self.txns.push(Txn { gtid, file, offset, end });
        self.txns.len() - 1
    }

    /// The index of the file named `name`.
    pub fn file_index(&self, name: &str) -> Option<usize> {
        self.files.iter().position(|(n, _)| n == name)
    }

    /// The transactions that start within `[offset, end)` of file `file`, as a range of indexes.
    pub fn txns_within(&self, file: usize, offset: u64, end: u64) -> std::ops::Range<usize> {
        let from = self.txns.partition_point(|t| (t.file, t.offset) < (file, offset));
        let to = self.txns.partition_point(|t| (t.file, t.offset) < (file, end));
        from..to
    }

    /// The MariaDB GTID position after the first `n` transactions (`gtid_slave_pos`).
    pub fn gtid_pos_after(&self, n: usize) -> String {
        let mut last: BTreeMap<u32, MariaGtid> = BTreeMap::new();
        for t in &self.txns[..n] {
            last.insert(t.gtid.domain, t.gtid);
        }
        last.values().map(|g| format!("{}-{}-{}", g.domain, g.server, g.seq)).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use binraft_core::store::index::summarize;

    #[test]
    fn generated_files_decode_and_summarize_and_rotate() {
        let mut log = PrimaryLog::new(7);
        for _ in 0..400 {
            log.produce();
        }
        assert!(log.files.len() > 1, "no rotation in 400 transactions");
        for (name, bytes) in &log.files {
            let s = summarize(name, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.complete_end, bytes.len() as u64, "{name}: every group is complete");
        }
        let t = &log.txns[10];
        let (_, bytes) = &log.files[t.file];
        assert!(t.end as usize <= bytes.len());
        assert_eq!(log.txns_within(t.file, t.offset, t.end), 10..11);
        // The same seed makes the same bytes.
        let mut again = PrimaryLog::new(7);
        for _ in 0..400 {
            again.produce();
        }
        assert_eq!(again.files, log.files);
    }
}

#[cfg(test)]
mod start_state {
    use super::*;
    use binraft_core::store::index::summarize;

    #[test]
    fn each_file_says_how_it_starts() {
        let mut log = PrimaryLog::new(5);
        for _ in 0..300 {
            log.produce();
        }
        for (i, (name, bytes)) in log.files.iter().enumerate().skip(1) {
            let s = summarize(name, bytes).unwrap();
            let before: Vec<_> = log.txns.iter().filter(|t| t.file < i).collect();
            let mut want: BTreeMap<u32, u64> = BTreeMap::new();
            for t in before {
                want.insert(t.gtid.domain, t.gtid.seq);
            }
            let got: BTreeMap<u32, u64> = s.start_gtid_list.iter().map(|g| (g.domain, g.seq)).collect();
            assert_eq!(got, want, "{name}");
        }
    }
}
