//! The simulated primary's binlog, generated from a seed with core's encoder: MariaDB files of
//! a FORMAT_DESCRIPTION, a GTID_LIST and a BINLOG_CHECKPOINT, then transactions (GTID, an INSERT
//! of a seeded size, XID) in a few GTID domains, each file closed by a ROTATE once it passes a
//! seeded size.
//!
//! In: a seed, then [`PrimaryLog::produce`] once per transaction. Out: the files' bytes as a
//! primary holds them, and the list of transactions ([`Txn`]: GTID, file, byte range), which is
//! what the invariants compare every replica and every node with.
//!
//! A promoted replica ([`PrimaryLog::promoted`]) holds the same transactions, event for event
//! (their origin server, times, GTIDs and XIDs kept, as `log_slave_updates` writes them), in
//! files of its own names and sizes, and goes on with its own, whose GTIDs continue.

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

/// The first primary's server_id (and its GTIDs' server).
pub const PRIMARY_SERVER_ID: u32 = 1;
pub const SERVER_VERSION: &str = "10.11.19-MariaDB-sim-log";
/// The first primary's binlog base name: binraft's files keep it, after a failover too.
pub const BASE_NAME: &str = "primary-bin";

/// What a transaction is made of, whichever server writes it: its GTID (origin server
/// included), time, row size and XID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnSpec {
    pub gtid: MariaGtid,
    pub timestamp: u32,
    pub len: usize,
    pub xid: u64,
}

/// One transaction of the primary: what it is made of and where its bytes lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    pub spec: TxnSpec,
    /// Index into [`PrimaryLog::files`].
    pub file: usize,
    pub offset: u64,
    pub end: u64,
}

/// What the primary holds, and the generator that makes it grow.
pub struct PrimaryLog {
    rng: ChaCha8Rng,
    /// This server's id, on its own events (and in the GTIDs of the transactions it writes).
    pub server_id: u32,
    base_name: String,
    /// Oldest first: name and bytes.
    pub files: Vec<(String, Vec<u8>)>,
    pub txns: Vec<Txn>,
    /// The last GTID per domain.
    seqs: BTreeMap<u32, MariaGtid>,
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
        Self::of_server(seed, PRIMARY_SERVER_ID, BASE_NAME, 1_700_000_000)
    }

    fn of_server(seed: u64, server_id: u32, base_name: &str, timestamp: u32) -> PrimaryLog {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let rotate_bytes = rng.gen_range(4 << 10..=32 << 10);
        let mut log = PrimaryLog { rng, server_id, base_name: base_name.into(), files: Vec::new(), txns: Vec::new(), seqs: BTreeMap::new(), rotate_bytes, xid: 100, timestamp };
        log.open_file();
        log
    }

    /// A replica of `from` promoted to primary: server `server_id`, files `base_name.*` of
    /// its own sizes (drawn from `seed`), holding every transaction of `from` as it was
    /// written there; [`PrimaryLog::produce`] then writes its own, their GTIDs continuing.
    pub fn promoted(from: &PrimaryLog, seed: u64, server_id: u32, base_name: &str) -> PrimaryLog {
        let mut log = Self::of_server(seed, server_id, base_name, from.timestamp);
        for t in &from.txns {
            log.write(t.spec);
        }
        log.xid = from.xid;
        log
    }

    fn name(&self, n: usize) -> String {
        format!("{}.{n:06}", self.base_name)
    }

    fn open_file(&mut self) {
        let name = self.name(self.files.len() + 1);
        let crc = ChecksumAlg::Crc32;
        let ts = self.timestamp;
        let mut out = binraft_core::binlog::frame::BINLOG_MAGIC.to_vec();
        let fde = FormatDescription::new_v4(SERVER_VERSION, ts, crc, true);
        let me = self.server_id;
        put(&mut out, Event::new(header(EventType::FORMAT_DESCRIPTION, me, ts, 0), EventBody::FormatDescription(fde), crc));
        let gtids = self.seqs.values().copied().collect();
        put(&mut out, Event::new(header(EventType::GTID_LIST, me, ts, 0), EventBody::GtidList(GtidList { flags: 0, gtids, padding: Vec::new() }), crc));
        let checkpoint = BinlogCheckpoint { file: name.clone().into_bytes() };
        put(&mut out, Event::new(header(EventType::BINLOG_CHECKPOINT, me, ts, 0), EventBody::BinlogCheckpoint(checkpoint), crc));
        self.files.push((name, out));
    }

    /// Writes one more transaction of its own (rotating first if the last file is full);
    /// returns its index in [`PrimaryLog::txns`].
    pub fn produce(&mut self) -> usize {
        self.rotate_if_full();
        self.timestamp += self.rng.gen_range(0..2);
        // Mostly domain 0; some in 1 and 2, as several sources writing through one primary.
        let domain = match self.rng.gen_range(0..10) {
            0 => 2,
            1 | 2 => 1,
            _ => 0,
        };
        let seq = self.seqs.get(&domain).map_or(0, |g| g.seq) + 1;
        // Rows of a seeded size: mostly small, sometimes a few KiB.
        let len = if self.rng.gen_bool(0.1) { self.rng.gen_range(1024..8192) } else { self.rng.gen_range(8..200) };
        self.xid += 1;
        self.write(TxnSpec { gtid: MariaGtid { domain, server: self.server_id, seq }, timestamp: self.timestamp, len, xid: self.xid })
    }

    /// Closes the last file with a ROTATE and opens the next, once it is full.
    fn rotate_if_full(&mut self) {
        if self.files.last().is_some_and(|(_, b)| b.len() >= self.rotate_bytes) {
            let next = self.name(self.files.len() + 1);
            let (ts, me) = (self.timestamp, self.server_id);
            let (_, out) = self.files.last_mut().expect("a file is open");
            put(out, Event::new(header(EventType::ROTATE, me, ts, 0), EventBody::Rotate(Rotate { position: Some(4), next_file: next.into_bytes() }), ChecksumAlg::Crc32));
            self.open_file();
        }
    }

    /// Writes the transaction `spec` (rotating first if the last file is full); returns its
    /// index in [`PrimaryLog::txns`].
    fn write(&mut self, spec: TxnSpec) -> usize {
        let crc = ChecksumAlg::Crc32;
        self.rotate_if_full();
        let TxnSpec { gtid, timestamp: ts, len, xid } = spec;
        self.timestamp = self.timestamp.max(ts);
        self.seqs.insert(gtid.domain, gtid);
        let domain = gtid.domain;
        let value: String = (0..len).map(|i| char::from(b'a' + ((i + gtid.seq as usize) % 26) as u8)).collect();
        let sql = format!("INSERT INTO sim.t{domain} VALUES ({}, '{value}')", gtid.seq);
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
        let origin = gtid.server;
        put(out, Event::new(header(EventType::MARIADB_GTID, origin, ts, 0x08), EventBody::MariaGtid(ge), crc));
        let q = Query { thread_id: 6, exec_time: 0, error_code: 0, status_vars: Some(Vec::new()), load: None, extra_post_header: Vec::new(), db: b"sim".to_vec(), query: sql.into_bytes(), inflated: None };
        put(out, Event::new(header(EventType::QUERY, origin, ts, 0), EventBody::Query(q), crc));
        put(out, Event::new(header(EventType::XID, origin, ts, 0), EventBody::Xid(Xid { xid }), crc));
        let end = out.len() as u64;
        self.txns.push(Txn { spec, file, offset, end });
        self.txns.len() - 1
    }

    /// The index of the file named `name`.
    pub fn file_index(&self, name: &str) -> Option<usize> {
        self.files.iter().position(|(n, _)| n == name)
    }
}

/// The transactions of `txns` that start within `[offset, end)` of file `file`, as a range of
/// indexes.
pub fn txns_within(txns: &[Txn], file: usize, offset: u64, end: u64) -> std::ops::Range<usize> {
    let from = txns.partition_point(|t| (t.file, t.offset) < (file, offset));
    let to = txns.partition_point(|t| (t.file, t.offset) < (file, end));
    from..to
}

/// The last GTID of each domain in `txns`: the GTID state after them.
pub fn last_gtids(txns: &[Txn]) -> BTreeMap<u32, MariaGtid> {
    txns.iter().map(|t| (t.spec.gtid.domain, t.spec.gtid)).collect()
}

/// The MariaDB GTID position after `txns` (`gtid_slave_pos`), as text.
pub fn gtid_pos(txns: &[Txn]) -> String {
    last_gtids(txns).values().map(|g| g.to_string()).collect::<Vec<_>>().join(",")
}

/// Whether two encodings of an event are the same event but for its end position and checksum
/// (what a replica's `log_slave_updates` and binraft's own layout rewrite).
pub fn same_but_position(a: &[u8], b: &[u8]) -> bool {
    const HEADER: usize = 19;
    a.len() == b.len() && a.len() >= HEADER + 4 && a[..13] == b[..13] && a[17..a.len() - 4] == b[17..b.len() - 4]
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
        assert_eq!(txns_within(&log.txns, t.file, t.offset, t.end), 10..11);
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
                want.insert(t.spec.gtid.domain, t.spec.gtid.seq);
            }
            let got: BTreeMap<u32, u64> = s.start_gtid_list.iter().map(|g| (g.domain, g.seq)).collect();
            assert_eq!(got, want, "{name}");
        }
    }
}

#[cfg(test)]
mod promoted {
    use super::*;
    use binraft_core::binlog::decoder::Decoder;
    use binraft_core::store::index::summarize;

    #[test]
    fn a_promoted_replica_holds_the_same_transactions_in_its_own_files_and_continues_the_gtids() {
        let mut a = PrimaryLog::new(3);
        for _ in 0..300 {
            a.produce();
        }
        let mut b = PrimaryLog::promoted(&a, 99, 2, "standby-bin");
        let events = |log: &PrimaryLog, t: &Txn| -> Vec<Vec<u8>> {
            let bytes = &log.files[t.file].1;
            let within = Decoder::decode_file(bytes).map(Result::unwrap).filter(|e| (t.offset..t.end).contains(&e.offset));
            within.map(|e| bytes[e.offset as usize..(e.offset + e.header.event_size as u64) as usize].to_vec()).collect()
        };
        assert_eq!(b.txns.len(), a.txns.len());
        assert!(b.files.iter().all(|(n, _)| n.starts_with("standby-bin.")));
        for (ta, tb) in a.txns.iter().zip(&b.txns) {
            assert_eq!(ta.spec, tb.spec);
            // The same events, but for their end positions and checksums.
            let (ea, eb) = (events(&a, ta), events(&b, tb));
            assert_eq!(ea.len(), eb.len());
            assert!(ea.iter().zip(&eb).all(|(x, y)| same_but_position(x, y)), "{}", ta.spec.gtid);
        }
        let i = b.produce();
        let g = b.txns[i].spec.gtid;
        let last0 = last_gtids(&a.txns).get(&g.domain).map_or(0, |l| l.seq);
        assert_eq!(g, MariaGtid { domain: g.domain, server: 2, seq: last0 + 1 });
        for (name, bytes) in &b.files {
            let s = summarize(name, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.complete_end, bytes.len() as u64);
        }
    }
}
