//! One replica's binlog dump, as a state machine over the store's files.
//!
//! In: the start (file and position, or a MariaDB GTID state), the store's file summaries, the
//! file bytes the machine asks for, and the time (milliseconds on the driver's clock) when the
//! driver takes each output and when the deadline of [`Dump::poll_timeout`] passes. Out:
//! [`DumpOutput`]s: events to send (as stored, or as a client of a lower
//! `@mariadb_slave_capability` gets them: [`super::compat`]; plus the artificial ROTATE before
//! each file, the GTID_LIST a GTID dump sends in place of the groups it skipped, and a
//! HEARTBEAT when the stream has been idle for a heartbeat period), each saying whether it ends
//! a transaction; reads to perform; and when to wait for the store to grow.
//!
//! What a dump sends around the stored events is what MariaDB 10.11's dump thread sends
//! (`io-tokio/tests/wire.rs` compares the two streams, byte for byte): an artificial ROTATE
//! (timestamp 0, log position 0) before every file, the first one naming the start position;
//! each FORMAT_DESCRIPTION without its in-use flag, and with log position and creation time 0
//! where the dump starts inside the file (the creation time 0 also while a GTID dump is still
//! skipping: a replica drops its temporary tables at a creation time); in a GTID dump, once a
//! domain reaches the replica's position, a GTID_LIST of every GTID passed since the dump began
//! (in MariaDB's order: [`crate::gtid::hash_order`]), right after the group that reached it.
//! Artificial events carry binraft's own server id, as a MariaDB relay's carry its own: the one
//! binraft answers for `@@server_id`.
//!
//! It never reads a file nor a clock itself, so the same machine runs on tokio, on
//! madsim, and behind Raft.
//!
//! A driver loops: take every output of [`Dump::poll_output`] (sending events, answering a read
//! with [`Dump::handle_shared`]), write what it gathered, then wait for the first of: the store
//! growing ([`Dump::update_files`], [`Dump::resume`]), the deadline of [`Dump::poll_timeout`]
//! ([`Dump::handle_timeout`]), or the replica going away.

use crate::binlog::checksum::{event_crc, ChecksumAlg, CHECKSUM_LEN};
use crate::binlog::decoder::Decoder;
use crate::binlog::event::Event;
use crate::binlog::events::gtid_list::GtidList;
use crate::binlog::events::misc::Heartbeat;
use crate::binlog::events::rotate::Rotate;
use crate::binlog::events::EventBody;
use crate::binlog::header::flags::{ARTIFICIAL, BINLOG_IN_USE};
use crate::binlog::{EventHeader, EventType};
use crate::gtid::hash_order::HashOrder;
use crate::gtid::mysql::{GtidSet, Tag};
use crate::gtid::{MariaGtid, MariaGtidPos};
use crate::mysql::errors::ServerError;
use crate::primary::compat::{self, Action, Capability};
use crate::store::groups::GroupTracker;
use crate::store::index::Files;
use bytes::{Buf, Bytes};
use std::collections::{BTreeMap, VecDeque};

/// A dump's decoder: rows skimmed, checksums read but not verified again (the store verified
/// every event as it came in; replicas verify what they get).
fn unverified_decoder() -> Decoder {
    let mut d = Decoder::for_file().skim_rows(true);
    d.frame_state_mut().set_verify(false);
    d
}

/// Where the replica wants to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpStart {
    /// MariaDB `@slave_connect_state` (empty: from the first file).
    MariaGtid(MariaGtidPos),
    /// COM_BINLOG_DUMP's file and position; an empty name means the first file.
    FilePos { file: String, pos: u64 },
    /// MySQL COM_BINLOG_DUMP_GTID: the replica's gtid_executed.
    MySqlGtid(GtidSet),
}

impl std::fmt::Display for DumpStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpStart::MariaGtid(p) => write!(f, "MariaDB GTID position '{p}'"),
            DumpStart::FilePos { file, pos } if file.is_empty() => write!(f, "the first file at {pos}"),
            DumpStart::FilePos { file, pos } => write!(f, "{file}:{pos}"),
            DumpStart::MySqlGtid(set) => write!(f, "MySQL GTID set '{set}'"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DumpConfig {
    pub server_id: u32,
    /// MariaDB's flag 0x02: send ANNOTATE_ROWS events.
    pub send_annotate_rows: bool,
    /// Flag 0x01: stop with EOF at the end instead of waiting.
    pub non_blocking: bool,
    /// The checksum the replica declared (`@master_binlog_checksum`): the artificial ROTATE
    /// that opens the stream carries one only if the replica asked for it, since it comes before
    /// any FORMAT_DESCRIPTION. Later artificial events follow the file's algorithm.
    pub replica_checksum: ChecksumAlg,
    /// While the dump waits, a HEARTBEAT goes out once this long has passed since the last
    /// event sent (`@master_heartbeat_period`).
    pub heartbeat_period_ms: u64,
    /// `@mariadb_slave_capability`: what MariaDB's own events become ([`compat`]).
    pub capability: Capability,
    /// The replica set `@master_binlog_checksum` (to anything): it can take events with a
    /// checksum. One that did not is refused files with checksums, as MariaDB and MySQL do.
    pub checksum_aware: bool,
    /// `@slave_gtid_strict_mode=1`: a GTID dump whose position falls in a hole of the binlog
    /// (a later sequence number there, the requested one missing) is refused.
    pub gtid_strict: bool,
}

impl DumpConfig {
    /// A dump for a replica that declares everything a MariaDB 10.11 replica does: GTID
    /// capability, checksums, ANNOTATE_ROWS not asked for.
    pub fn mariadb_replica(server_id: u32, heartbeat_period_ms: u64) -> DumpConfig {
        DumpConfig {
            server_id,
            send_annotate_rows: false,
            non_blocking: false,
            replica_checksum: ChecksumAlg::Crc32,
            heartbeat_period_ms,
            capability: Capability::GTID,
            checksum_aware: true,
            gtid_strict: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpOutput {
    /// One event to send, as it goes on the wire (without the 0x00 packet prefix): a slice of
    /// the bytes the store gave, not a copy. `ends_group` when it ends a transaction: a
    /// semi-sync primary asks for an ACK there.
    /// Every event a semi-sync replica gets carries the semi-sync header, heartbeats included
    /// (MariaDB's `reset_transmit_packet` reserves it for every packet of the dump).
    Event { bytes: Bytes, ends_group: bool },
    /// Read `file` from `offset` and give the bytes to [`Dump::handle_bytes`]: `len` of them
    /// (or what the store has) when set, which is the rest of an event the last read cut, so
    /// that only that event is joined; else as many as the driver reads at a time.
    Read { file: String, offset: u64, len: Option<usize> },
    /// The store has nothing more yet: call [`Dump::resume`] when it grows.
    Wait,
    /// A non-blocking dump reached the end.
    Eof,
    /// The dump cannot go on (a damaged store file): send this error and end it.
    Error(ServerError),
}

#[derive(Debug)]
pub struct Dump {
    cfg: DumpConfig,
    files: Files,
    file_idx: usize,
    /// File offset of `buf[0]`: a 32-bit log position, as everything the dump sends names one.
    buf_offset: u32,
    buf: Bytes,
    decoder: Decoder,
    /// Where to resume after the file's FORMAT_DESCRIPTION (file/position starts).
    start_pos: u32,
    /// MariaDB GTID start: groups the replica has are skipped.
    gtid_skip: Option<GtidSkip>,
    /// MySQL GTID start: transactions the replica has are skipped.
    have_mysql: Option<GtidSet>,
    skipping: bool,
    groups: GroupTracker,
    checksum: ChecksumAlg,
    out: VecDeque<DumpOutput>,
    /// Sent the FORMAT_DESCRIPTION of the current file.
    sent_fde: bool,
    /// The one request the driver has to answer: at most one is ever outstanding.
    awaiting: Awaiting,
    /// When the driver took the last event (a heartbeat included) to send: the heartbeat period counts
    /// from there, not from the last time the driver woke up.
    last_sent_ms: Option<u64>,
}

/// A MariaDB GTID dump's way to the replica's position, as MariaDB's dump thread goes it: per
/// domain, groups up to the requested sequence number are skipped; the GTIDs passed meanwhile
/// are what the GTID_LIST sent once a domain gets there says.
#[derive(Debug)]
struct GtidSkip {
    /// The domains not reached yet, with the requested GTID of each.
    pending: MariaGtidPos,
    /// Every GTID passed while a domain was pending, per domain, kept as MariaDB's dump thread
    /// keeps them (an `rpl_binlog_state`) so as to list them in its order.
    passed: BTreeMap<u32, PassedDomain>,
    /// The domains of `passed` in the order of MariaDB's hash of them.
    domains: HashOrder,
    /// A domain got there: a GTID_LIST goes out once the group skipped ends.
    reached: bool,
}

/// One domain's GTIDs passed: the newest per server, and the server of the newest of all.
#[derive(Debug, Default)]
struct PassedDomain {
    /// The servers in the order of MariaDB's hash of them.
    servers: HashOrder,
    seqs: BTreeMap<u32, u64>,
    last: u32,
}

impl GtidSkip {
    /// From the replica's `state`, for a dump that starts with a file beginning at
    /// `file_start`: a domain whose requested GTID is the last the file's GTID_LIST names for it
    /// is there already.
    fn new(state: MariaGtidPos, file_start: &[MariaGtid]) -> GtidSkip {
        let mut pending = MariaGtidPos::new();
        for g in state.iter() {
            if file_start.iter().rev().find(|x| x.domain == g.domain) != Some(g) {
                pending.update(*g);
            }
        }
        GtidSkip { pending, passed: BTreeMap::new(), domains: HashOrder::new(), reached: false }
    }

    /// As `rpl_binlog_state::update_nolock`: the server's sequence number is the GTID's, and
    /// the server the domain's last.
    fn pass(&mut self, g: MariaGtid) {
        self.domains.insert(g.domain);
        let d = self.passed.entry(g.domain).or_default();
        d.servers.insert(g.server);
        d.seqs.insert(g.server, g.seq);
        d.last = g.server;
    }

    /// A GTID event of the stream: whether its group is skipped, or the requested GTID it
    /// passed without meeting (a hole in the binlog).
    fn on_gtid(&mut self, g: MariaGtid) -> Result<bool, MariaGtid> {
        if self.pending.is_empty() {
            return Ok(false);
        }
        self.pass(g);
        let Some(asked) = self.pending.get(g.domain).copied() else { return Ok(false) };
        // As MariaDB: only the requested GTID's server gets the domain there; another server's
        // groups are skipped until it does, whatever their sequence numbers.
        let skip = g.server != asked.server || g.seq <= asked.seq;
        if g.server == asked.server && g.seq >= asked.seq {
            self.pending.remove(g.domain);
            self.reached = true;
            if g.seq > asked.seq {
                return Err(asked);
            }
        }
        Ok(skip)
    }

    /// Once a domain got there: the GTID_LIST's GTIDs, once.
    fn take_reached(&mut self) -> Option<Vec<MariaGtid>> {
        if !std::mem::take(&mut self.reached) {
            return None;
        }
        // As `rpl_binlog_state::get_gtid_list`: domains in their hash's order, and within
        // one, its servers in theirs but for the last, which comes after them.
        let mut gtids = Vec::new();
        for domain in self.domains.keys() {
            let d = &self.passed[&domain];
            let gtid = |server: u32| MariaGtid { domain, server, seq: d.seqs[&server] };
            gtids.extend(d.servers.keys().filter(|&s| s != d.last).map(gtid));
            gtids.push(gtid(d.last));
        }
        Some(gtids)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Nothing,
    Read,
    Wait,
    Done,
}

/// Where a FORMAT_DESCRIPTION's creation time is: after the header, the binlog version (2) and
/// the server version (50).
const FDE_CREATED_AT: usize = 19 + 2 + 50;

/// The last offset a 32-bit log position (in event headers, HEARTBEAT, GTID_LIST) can name.
pub const LOG_POS_MAX: u64 = u32::MAX as u64;

/// 1236 for a position past [`LOG_POS_MAX`]: the dump stops there rather than send a position
/// cut to 32 bits.
pub fn past_log_pos_max(file: &str, offset: u64) -> ServerError {
    ServerError::binlog(format!(
        "binraft cannot serve binlog '{file}' at offset {offset}: positions past {LOG_POS_MAX} (4 GiB) do not fit in the 32-bit log positions of the replication protocol"
    ))
}

fn no_gtid(gtid: &MariaGtid) -> ServerError {
    ServerError::binlog(format!(
        "Error: connecting slave requested to start from GTID {gtid}, which is not in the master's binlog"
    ))
}

impl Dump {
    /// Plans a dump; an impossible start is ER_MASTER_FATAL_ERROR_READING_BINLOG (1236) with the
    /// message MariaDB gives.
    pub fn new(start: DumpStart, files: Files, cfg: DumpConfig) -> Result<Dump, ServerError> {
        if files.is_empty() {
            return Err(ServerError::binlog("Binary log is not open"));
        }
        let mut have_mysql = None;
        let (file_idx, start_pos, maria_state) = match start {
            DumpStart::MySqlGtid(set) => {
                // The replica may not be ahead of the store for any server UUID the store has
                // (MySQL checks its own UUID; binraft relays others' and checks each of them).
                let ours = crate::store::index::gtid_executed(&files);
                let known: std::collections::BTreeSet<_> = ours.entries().map(|(u, t, _)| (*u, t.clone())).collect();
                let mut ahead = GtidSet::new();
                for (u, t, ranges) in set.subtract(&ours).entries() {
                    if known.contains(&(*u, t.clone())) {
                        for &(lo, hi) in ranges.ranges() {
                            ahead.add_range(*u, t.clone(), lo, hi);
                        }
                    }
                }
                if !ahead.is_empty() {
                    return Err(ServerError::binlog(format!(
                        "Slave has more GTIDs than the master has: '{ahead}' are not in the master's binary logs. This may indicate that the end of the binary log was truncated or that the last binary log file was lost"
                    )));
                }
                // The newest file all of whose predecessors' GTIDs the replica has.
                let idx = (0..files.len()).rev().find(|&i| files[i].previous_gtids.is_subset(&set));
                let Some(idx) = idx else {
                    let missing = files[0].previous_gtids.subtract(&set);
                    return Err(ServerError::binlog(format!(
                        "Cannot replicate because the master purged required binary logs. Replicate the missing transactions from elsewhere, or provision a new slave from backup. Consider increasing the master's binary log expiration period. The GTID set sent by the slave is '{set}', and the missing transactions are '{missing}'"
                    )));
                };
                have_mysql = Some(set);
                (idx, 4, None)
            }
            DumpStart::FilePos { file, pos } => {
                let idx = if file.is_empty() {
                    0
                } else {
                    files.iter().position(|f| f.name == file).ok_or_else(|| {
                        ServerError::binlog("Could not find first log file name in binary log index file")
                    })?
                };
                if pos > files[idx].size {
                    return Err(ServerError::binlog(format!(
                        "Client requested master to start replication from position > file size; the first event '{}' at {pos}, the last event read from '{}' at 4, the last byte read from '{}' at 4.",
                        files[idx].name, files[idx].name, files[idx].name
                    )));
                }
                if pos < 4 {
                    return Err(ServerError::binlog("Client requested master to start replication from position < 4"));
                }
                let start = u32::try_from(pos).map_err(|_| past_log_pos_max(&files[idx].name, pos))?;
                (idx, start, None)
            }
            DumpStart::MariaGtid(state) => {
                // The replica may not be ahead of us in any domain.
                for g in state.iter() {
                    let ours = files.iter().rev().find_map(|f| f.last_gtids.get(g.domain).map(|x| x.seq)).or_else(|| {
                        files.iter().rev().find_map(|f| f.start_gtid_list.iter().filter(|x| x.domain == g.domain).map(|x| x.seq).max())
                    });
                    match ours {
                        Some(seq) if seq >= g.seq => {}
                        _ => return Err(no_gtid(g)),
                    }
                }
                // The newest file whose starting state the replica already has. A last file
                // whose header (FORMAT_DESCRIPTION, GTID_LIST) is not stored yet, just created
                // after a ROTATE, has no known starting state: it is not taken for an empty one
                // (the replica would skip the rest of the file before; the simulator found it:
                // partition_leader, seed 5).
                let has = |i: usize| files[i].start_gtid_list.iter().all(|g| state.get(g.domain).is_some_and(|s| s.seq >= g.seq));
                let headerless_last = |i: usize| i + 1 == files.len() && files[i].events < 2;
                let idx = (0..files.len())
                    .rev()
                    .find(|&i| !headerless_last(i) && has(i))
                    .or_else(|| (0..files.len()).rev().find(|&i| has(i)))
                    .ok_or_else(|| {
                        ServerError::binlog("Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged.")
                    })?;
                (idx, 4, Some(state))
            }
        };
        let checksum = cfg.replica_checksum;
        let gtid_skip = maria_state.map(|state| GtidSkip::new(state, &files[file_idx].start_gtid_list));
        let mut d = Dump {
            cfg,
            files,
            file_idx,
            buf_offset: 4,
            buf: Bytes::new(),
            decoder: unverified_decoder(),
            start_pos,
            gtid_skip,
            have_mysql,
            skipping: false,
            groups: GroupTracker::new(),
            checksum,
            out: VecDeque::new(),
            sent_fde: false,
            awaiting: Awaiting::Nothing,
            last_sent_ms: None,
        };
        let name = d.files[file_idx].name.clone();
        let rotate = d.artificial(EventType::ROTATE, 0, EventBody::Rotate(Rotate { position: Some(u64::from(start_pos)), next_file: name.into_bytes() }));
        d.push_event(rotate.into());
        d.checksum = d.files[file_idx].checksum;
        d.request_read();
        Ok(d)
    }

    /// The file being sent and the offset reached.
    pub fn position(&self) -> (&str, u64) {
        (&self.files[self.file_idx].name, u64::from(self.buf_offset))
    }

    /// The next output, taken by the driver at `now_ms`: an event taken is sent then, and the
    /// heartbeat period counts from the last one.
    #[must_use]
    pub fn poll_output(&mut self, now_ms: u64) -> Option<DumpOutput> {
        let o = self.out.pop_front()?;
        if matches!(o, DumpOutput::Event { .. }) {
            self.last_sent_ms = Some(now_ms);
        }
        Some(o)
    }

    /// When [`Dump::handle_timeout`] is due: while the dump waits for the store to grow, one
    /// heartbeat period after the last event sent; `None` otherwise.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.awaiting != Awaiting::Wait {
            return None;
        }
        self.last_sent_ms.map(|t| t.saturating_add(self.cfg.heartbeat_period_ms))
    }

    /// The clock reached `now_ms`: a waiting dump past its deadline sends a HEARTBEAT (an event
    /// that ends no transaction) naming the current file and position.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.poll_timeout().is_none_or(|due| now_ms < due) {
            return;
        }
        // Counted as sent now, so that a second call before the driver takes it adds none.
        self.last_sent_ms = Some(now_ms);
        let hb = self.heartbeat();
        self.push_event(hb.into());
    }

    fn push_event(&mut self, bytes: Bytes) {
        self.out.push_back(DumpOutput::Event { bytes, ends_group: false });
    }

    /// The store's files changed (new events, a new file, older files purged): continue if
    /// waiting. The dump stays on its file by name, since a purge moves every index. If its
    /// file itself was purged, the dump ends with 1236, as MariaDB's ends when the file it
    /// reads goes.
    pub fn update_files(&mut self, files: Files) {
        if self.awaiting == Awaiting::Done {
            return;
        }
        let current = &self.files[self.file_idx].name;
        match files.iter().position(|f| f.name == *current) {
            Some(i) => {
                self.file_idx = i;
                self.files = files;
            }
            None => {
                let e = ServerError::binlog(format!("could not find next log: '{current}', which this dump was reading, was purged"));
                self.finish(DumpOutput::Error(e));
            }
        }
    }

    /// After a `Wait`: look again (the store may have grown). Does nothing while a read is
    /// outstanding.
    pub fn resume(&mut self) {
        if self.awaiting == Awaiting::Wait {
            self.awaiting = Awaiting::Nothing;
            if self.file_done() {
                self.next_file();
            } else {
                self.request_read();
            }
        }
    }

    fn request_read(&mut self) {
        if self.awaiting != Awaiting::Nothing {
            return;
        }
        self.awaiting = Awaiting::Read;
        let f = &self.files[self.file_idx];
        // Every header version has the event's size at bytes 9..13: a cut event is completed
        // first (its header, then the rest), alone.
        let len = match self.buf.get(9..13) {
            _ if self.buf.is_empty() => None,
            Some(b) => Some((u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize).saturating_sub(self.buf.len()).max(1)),
            None => Some(13 - self.buf.len()),
        };
        self.out.push_back(DumpOutput::Read { file: f.name.clone(), offset: u64::from(self.buf_offset) + self.buf.len() as u64, len });
    }

    /// Everything stored of the current file is sent, and a newer file exists. Only the newest
    /// file grows, so this one is done, whether it ended with ROTATE, STOP, or nothing (a primary
    /// that crashed): go on to the next.
    fn file_done(&self) -> bool {
        self.file_idx + 1 < self.files.len() && self.buf.is_empty() && u64::from(self.buf_offset) >= self.files[self.file_idx].complete_end
    }

    fn wait(&mut self) {
        if self.awaiting == Awaiting::Nothing {
            self.awaiting = Awaiting::Wait;
            self.out.push_back(DumpOutput::Wait);
        }
    }

    fn finish(&mut self, last: DumpOutput) {
        self.awaiting = Awaiting::Done;
        self.out.push_back(last);
    }

    /// A HEARTBEAT for an idle stream: current file and position.
    fn heartbeat(&self) -> Vec<u8> {
        let file = &self.files[self.file_idx].name;
        // Not flagged artificial: MariaDB's heartbeats are not.
        let h = EventHeader { flags: 0, ..self.header(EventType::HEARTBEAT, self.buf_offset) };
        Event::new(h, EventBody::Heartbeat(Heartbeat { log_file: file.as_bytes().to_vec() }), self.checksum).encode()
    }

    fn header(&self, t: EventType, log_pos: u32) -> EventHeader {
        EventHeader { timestamp: 0, event_type: t, server_id: self.cfg.server_id, event_size: 0, log_pos, flags: ARTIFICIAL }
    }

    fn artificial(&self, t: EventType, log_pos: u32, body: EventBody) -> Vec<u8> {
        Event::new(self.header(t, log_pos), body, self.checksum).encode()
    }

    /// Bytes of the current file from the offset last asked for; `at_end` when the read reached
    /// the file's current end.
    pub fn handle_bytes(&mut self, bytes: &[u8], at_end: bool) {
        self.handle_shared(Bytes::copy_from_slice(bytes), at_end);
    }

    /// [`Dump::handle_bytes`] of bytes the driver shares: the events sent are slices of them.
    pub fn handle_shared(&mut self, bytes: Bytes, at_end: bool) {
        if self.awaiting != Awaiting::Read {
            return;
        }
        self.awaiting = Awaiting::Nothing;
        if self.buf.is_empty() {
            self.buf = bytes;
        } else {
            // The start of an event the last read cut: joined once.
            let mut joined = Vec::with_capacity(self.buf.len() + bytes.len());
            joined.extend_from_slice(&self.buf);
            joined.extend_from_slice(&bytes);
            self.buf = joined.into();
        }
        let mut used = 0usize;
        loop {
            let rest = &self.buf[used..];
            if rest.is_empty() {
                break;
            }
            let offset = u64::from(self.buf_offset) + used as u64;
            let ev = match self.decoder.decode_next(rest, offset) {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    // A damaged store file: end this dump with the reason, as a primary does.
                    let name = self.files[self.file_idx].name.clone();
                    self.finish(DumpOutput::Error(ServerError::binlog(format!("binlog '{name}' is damaged: {e}"))));
                    return;
                }
            };
            let size = ev.header.event_size as usize;
            // Where it starts and ends must be 32-bit log positions: its end is the position the
            // replica holds after it.
            let at = match u32::try_from(offset) {
                Ok(at) if offset + size as u64 <= LOG_POS_MAX => at,
                _ => return self.stop_past_log_pos_max(offset),
            };
            let raw = self.buf.slice(used..used + size);
            used += size;
            let file_before = self.file_idx;
            if let Some(jump) = self.on_event(&ev, at, raw) {
                // Skip to the requested position after the FORMAT_DESCRIPTION.
                self.buf.clear();
                self.buf_offset = jump;
                self.request_read();
                return;
            }
            if self.file_idx != file_before || self.awaiting != Awaiting::Nothing {
                // Moved to the next file (its buffer starts afresh), or must wait for it.
                if self.file_idx == file_before {
                    self.consume(used);
                }
                return;
            }
        }
        if !self.consume(used) {
            return;
        }
        if at_end {
            let last = self.file_idx + 1 == self.files.len();
            let f = &self.files[self.file_idx];
            if !self.buf.is_empty() && (!last || f.closed) {
                // The part of an event that ends the file and never grows: the dump started
                // inside an event, as MariaDB answers it.
                let (name, at, end) = (f.name.clone(), self.buf_offset, f.complete_end);
                self.finish(DumpOutput::Error(ServerError::binlog(format!(
                    "binlog truncated in the middle of event; consider out of disk space on master; the first event '{name}' at {at}, the last event read from '{name}' at {at}, the last byte read from '{name}' at {end}."
                ))));
                return;
            }
            if self.cfg.non_blocking && last {
                self.finish(DumpOutput::Eof);
            } else if self.file_done() {
                self.next_file();
            } else {
                self.wait();
            }
        } else {
            self.request_read();
        }
    }

    /// Drops the first `used` bytes of the buffer, which were whole events: false (and the dump
    /// ends) if that passes [`LOG_POS_MAX`], which each event's end was checked not to.
    fn consume(&mut self, used: usize) -> bool {
        let to = u64::from(self.buf_offset) + used as u64;
        match u32::try_from(to) {
            Ok(to) => {
                self.buf.advance(used);
                self.buf_offset = to;
                true
            }
            Err(_) => {
                self.stop_past_log_pos_max(to);
                false
            }
        }
    }

    fn stop_past_log_pos_max(&mut self, offset: u64) {
        let name = self.files[self.file_idx].name.clone();
        self.finish(DumpOutput::Error(past_log_pos_max(&name, offset)));
    }

    /// Handles one event, which starts at `at`; returns an offset to jump to, if any.
    fn on_event(&mut self, ev: &Event, at: u32, raw: Bytes) -> Option<u32> {
        let group_end = self.groups.observe(ev);
        match &ev.body {
            EventBody::FormatDescription(_) if !self.sent_fde => {
                self.sent_fde = true;
                self.checksum = self.decoder.frame_state().checksum();
                if self.checksum == ChecksumAlg::Crc32 && !self.cfg.checksum_aware {
                    self.finish(DumpOutput::Error(ServerError::binlog("Slave can not handle replication events with the checksum that master is configured to log")));
                    return None;
                }
                let mut raw = raw.to_vec();
                // The in-use flag is not sent (its checksum was computed without it).
                let flags = u16::from_le_bytes([raw[17], raw[18]]) & !BINLOG_IN_USE;
                raw[17..19].copy_from_slice(&flags.to_le_bytes());
                let mid_file = u64::from(self.start_pos) > ev.offset + raw.len() as u64;
                let still_skipping = self.gtid_skip.as_ref().is_some_and(|s| !s.pending.is_empty());
                if mid_file || still_skipping {
                    // log_pos 0: the replica does not move its position to the file's start. A
                    // creation time tells a replica to drop its temporary tables (the primary
                    // started afresh): not in the middle of the stream.
                    if mid_file {
                        raw[13..17].copy_from_slice(&0u32.to_le_bytes());
                    }
                    if let Some(created) = raw.get_mut(FDE_CREATED_AT..FDE_CREATED_AT + 4) {
                        created.copy_from_slice(&[0; 4]);
                    }
                    if self.checksum == ChecksumAlg::Crc32 {
                        let n = raw.len() - CHECKSUM_LEN;
                        let c = event_crc(&raw[..n], true);
                        raw[n..].copy_from_slice(&c.to_le_bytes());
                    }
                }
                self.push_event(raw.into());
                if mid_file {
                    return Some(self.start_pos);
                }
            }
            EventBody::MariaGtid(g) => {
                let gtid = MariaGtid { domain: g.domain, server: ev.header.server_id, seq: g.seq };
                self.skipping = match self.gtid_skip.as_mut().map_or(Ok(false), |s| s.on_gtid(gtid)) {
                    Ok(skip) => skip,
                    Err(asked) if self.cfg.gtid_strict => {
                        self.finish(DumpOutput::Error(ServerError::binlog(format!(
                            "The binlog on the master is missing the GTID {asked} requested by the slave (even though a subsequent sequence number does exist), and GTID strict mode is enabled"
                        ))));
                        return None;
                    }
                    Err(_) => false,
                };
                if !self.skipping {
                    self.send(ev, raw);
                }
            }
            EventBody::Gtid(g) if ev.kind == EventType::GTID => {
                // A negative number is no GTID a replica can have.
                let has = |set: &GtidSet| u64::try_from(g.gno).is_ok_and(|gno| set.contains(&crate::gtid::mysql::Gtid { uuid: g.uuid, tag: Tag::untagged(), gno }));
                self.skipping = self.have_mysql.as_ref().is_some_and(has);
                if !self.skipping {
                    self.push_event(raw);
                }
            }
            EventBody::TaggedGtid(g) => {
                let gno = g.gno.and_then(|n| u64::try_from(n).ok());
                let gtid = gno.map(|gno| crate::gtid::mysql::Gtid { uuid: g.uuid.unwrap_or_default(), tag: g.tag.clone().unwrap_or_default(), gno });
                self.skipping = matches!((&self.have_mysql, &gtid), (Some(set), Some(gtid)) if set.contains(gtid));
                if !self.skipping {
                    self.push_event(raw);
                }
            }
            EventBody::Rotate(_) if !ev.header.is_artificial() => {
                self.send(ev, raw);
                self.next_file();
            }
            _ => {
                if !self.skipping {
                    self.send(ev, raw);
                }
            }
        }
        if group_end && !self.skipping {
            if let Some(DumpOutput::Event { ends_group, .. }) = self.out.back_mut() {
                *ends_group = true;
            }
        }
        if self.skipping && group_end {
            self.skipping = false;
        }
        let reached = if self.skipping || self.awaiting == Awaiting::Done { None } else { self.gtid_skip.as_mut().and_then(GtidSkip::take_reached) };
        if let Some(gtids) = reached {
            // A domain got to the replica's position: what was passed, right after the event
            // that got there (the skipped group's last, or a GTID past a hole).
            let end = at.saturating_add(ev.header.event_size);
            let list = self.artificial(EventType::GTID_LIST, end, EventBody::GtidList(GtidList { flags: 0, gtids, padding: Vec::new() }));
            self.push_event(list.into());
        }
        None
    }

    /// A stored event, as the replica's capability has it ([`compat`]): as it is, left out,
    /// or replaced by an event of the same length; one that cannot be replaced ends the dump.
    fn send(&mut self, ev: &Event, raw: Bytes) {
        let crc = self.checksum == ChecksumAlg::Crc32;
        let sent = match compat::action(ev.header.event_type, &raw, self.cfg.capability, self.cfg.send_annotate_rows) {
            Action::Send => Ok(raw),
            Action::Drop => return,
            Action::Begin => compat::begin_event(&raw, crc).map(Bytes::from),
            Action::Dummy => {
                let what = match ev.header.event_type {
                    EventType::ANNOTATE_ROWS => "annotate rows",
                    EventType::MARIADB_GTID => "GTID",
                    _ => "binlog checkpoint or gtid list",
                };
                compat::dummy_event(&raw, crc, what).map(Bytes::from)
            }
        };
        match sent {
            Ok(b) => self.push_event(b),
            Err(e) => self.finish(DumpOutput::Error(e)),
        }
    }

    /// On to the next file, announced by an artificial ROTATE (always: after the file's own
    /// ROTATE too, as MariaDB's dump thread does).
    fn next_file(&mut self) {
        if self.file_idx + 1 >= self.files.len() {
            // The next file is not in the store yet: a non-blocking dump is done.
            if self.cfg.non_blocking {
                self.finish(DumpOutput::Eof);
            } else {
                self.wait();
            }
            return;
        }
        self.file_idx += 1;
        self.buf.clear();
        self.buf_offset = 4;
        self.start_pos = 4;
        self.sent_fde = false;
        self.decoder = unverified_decoder();
        self.groups = GroupTracker::new();
        let name = self.files[self.file_idx].name.clone();
        let rotate = self.artificial(EventType::ROTATE, 0, EventBody::Rotate(Rotate { position: Some(4), next_file: name.into_bytes() }));
        self.push_event(rotate.into());
        self.request_read();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::events::format_description::FormatDescription;
    use crate::binlog::events::simple::Xid;
    use crate::store::index::{share, FileSummary};

    const FILE: &str = "big.000001";
    const GIB: u64 = 1 << 30;

    fn encode(t: EventType, log_pos: u32, body: EventBody) -> Vec<u8> {
        let h = EventHeader { timestamp: 0, event_type: t, server_id: 7, event_size: 0, log_pos, flags: 0 };
        Event::new(h, body, ChecksumAlg::Crc32).encode()
    }

    fn fde() -> Vec<u8> {
        let f = FormatDescription::new_v4("10.11.6-MariaDB-log", 0, ChecksumAlg::Crc32, true);
        encode(EventType::FORMAT_DESCRIPTION, 0, EventBody::FormatDescription(f))
    }

    /// One file of 5 GiB, as its summary says: no such file exists, the test answers the reads.
    fn five_gib_file() -> Files {
        let f = FileSummary { size: 5 * GIB, complete_end: 5 * GIB, mariadb: true, checksum: ChecksumAlg::Crc32, ..FileSummary::empty(FILE) };
        share(vec![f])
    }

    fn cfg() -> DumpConfig {
        DumpConfig::mariadb_replica(1, PERIOD_MS)
    }

    const PERIOD_MS: u64 = 1000;

    fn outputs(d: &mut Dump) -> Vec<DumpOutput> {
        outputs_at(d, 0)
    }

    /// Every output, taken by the driver at `now_ms`.
    fn outputs_at(d: &mut Dump, now_ms: u64) -> Vec<DumpOutput> {
        std::iter::from_fn(|| d.poll_output(now_ms)).collect()
    }

    /// A file of `events` after the magic, and its summary as the store keeps it.
    fn small_file(events: &[Vec<u8>]) -> (Vec<u8>, Files) {
        let mut bytes = crate::binlog::frame::BINLOG_MAGIC.to_vec();
        for e in events {
            bytes.extend_from_slice(e);
        }
        let n = bytes.len() as u64;
        let f = FileSummary { size: n, complete_end: n, mariadb: true, checksum: ChecksumAlg::Crc32, ..FileSummary::empty("small.000001") };
        (bytes, share(vec![f]))
    }

    fn xid(n: u64) -> Vec<u8> {
        encode(EventType::XID, 0, EventBody::Xid(Xid { xid: n }))
    }

    /// A dump of a file holding a FORMAT_DESCRIPTION, which the driver takes at `now_ms`: it
    /// has sent the ROTATE and the FORMAT_DESCRIPTION and waits.
    fn waiting_dump(now_ms: u64) -> (Dump, Vec<u8>) {
        let (bytes, files) = small_file(&[fde()]);
        let mut d = Dump::new(DumpStart::FilePos { file: String::new(), pos: 4 }, files, cfg()).unwrap();
        assert!(matches!(&outputs_at(&mut d, now_ms)[..], [DumpOutput::Event { .. }, DumpOutput::Read { offset: 4, len: None, .. }]));
        assert_eq!(d.poll_timeout(), None, "no heartbeat while a read is outstanding");
        d.handle_bytes(&bytes[4..], true);
        let out = outputs_at(&mut d, now_ms);
        assert!(matches!(&out[..], [DumpOutput::Event { .. }, DumpOutput::Wait]), "{out:?}");
        (d, bytes)
    }

    /// Files named `names`, each holding a FORMAT_DESCRIPTION, as the store lists them.
    fn files_named(names: &[&str]) -> (Vec<u8>, Files) {
        let (bytes, _) = small_file(&[fde()]);
        let n = bytes.len() as u64;
        (bytes, share(names.iter().map(|name| FileSummary { size: n, complete_end: n, mariadb: true, checksum: ChecksumAlg::Crc32, ..FileSummary::empty(name) }).collect()))
    }

    /// A purge of older files moves every index in the store's list: a dump keeps reading its
    /// own file (the simulator found it reading past the list's end, `purge_while_reading`).
    #[test]
    fn a_purge_of_older_files_leaves_a_dump_on_its_file() {
        let (bytes, files) = files_named(&["b.000001", "b.000002", "b.000003"]);
        let mut d = Dump::new(DumpStart::FilePos { file: "b.000003".into(), pos: 4 }, files, cfg()).unwrap();
        let out = outputs(&mut d);
        assert!(matches!(&out[..], [DumpOutput::Event { .. }, DumpOutput::Read { file, offset: 4, .. }] if file == "b.000003"), "{out:?}");
        let (_, purged) = files_named(&["b.000003", "b.000004"]);
        d.update_files(purged);
        d.handle_bytes(&bytes[4..], true);
        let out = outputs(&mut d);
        // Its file is done and b.000004 follows: the dump goes there, not past the list's end.
        assert!(out.iter().any(|o| matches!(o, DumpOutput::Read { file, offset: 4, .. } if file == "b.000004")), "{out:?}");
        assert_eq!(d.position().0, "b.000004");
    }

    /// The file a dump reads is purged under it: the dump ends with 1236 naming it.
    #[test]
    fn a_dump_whose_file_is_purged_ends_with_1236() {
        let (_, files) = files_named(&["b.000001", "b.000002"]);
        let mut d = Dump::new(DumpStart::FilePos { file: "b.000001".into(), pos: 4 }, files, cfg()).unwrap();
        let _ = outputs(&mut d);
        let (_, purged) = files_named(&["b.000002"]);
        d.update_files(purged);
        let out = outputs(&mut d);
        let [DumpOutput::Error(e)] = &out[..] else { panic!("one error, got {out:?}") };
        assert_eq!(e.code, 1236);
        assert!(e.message.contains("b.000001") && e.message.contains("purged"), "{}", e.message);
        let (_, more) = files_named(&["b.000002", "b.000003"]);
        d.update_files(more);
        assert_eq!(outputs(&mut d), [], "an ended dump stays ended");
    }

    #[test]
    fn a_waiting_dump_heartbeats_one_period_after_the_last_event() {
        let (mut d, bytes) = waiting_dump(100);
        assert_eq!(d.poll_timeout(), Some(100 + PERIOD_MS));
        d.handle_timeout(100 + PERIOD_MS - 1);
        assert_eq!(outputs_at(&mut d, 100 + PERIOD_MS - 1), [], "early");
        d.handle_timeout(100 + PERIOD_MS);
        d.handle_timeout(100 + PERIOD_MS);
        let out = outputs_at(&mut d, 100 + PERIOD_MS);
        let [DumpOutput::Event { bytes: hb, ends_group: false }] = &out[..] else { panic!("one heartbeat, got {out:?}") };
        // HEARTBEAT (27) of the node's server id, not flagged artificial (as MariaDB's), at the
        // end of what was sent, naming the file, with the file's CRC32.
        let h = EventHeader { timestamp: 0, event_type: EventType::HEARTBEAT, server_id: 1, event_size: 0, log_pos: bytes.len() as u32, flags: 0 };
        let expected = Event::new(h, EventBody::Heartbeat(Heartbeat { log_file: b"small.000001".to_vec() }), ChecksumAlg::Crc32).encode();
        assert_eq!(hb[..], expected[..]);
        assert_eq!(hb.len(), 19 + "small.000001".len() + 4);
        assert_eq!((hb[4], &hb[13..17], &hb[17..19]), (27, &(bytes.len() as u32).to_le_bytes()[..], &[0, 0][..]));
        // The next one a period after this one, still waiting.
        assert_eq!(d.poll_timeout(), Some(100 + 2 * PERIOD_MS));
    }

    #[test]
    fn no_heartbeat_while_events_flow_and_wake_ups_do_not_move_the_deadline() {
        let (mut d, mut bytes) = waiting_dump(0);
        // Woken at 600 (a replica's ACK, stray bytes): nothing new in the store. The deadline
        // stays one period after the last event, not after the wake-up.
        d.resume();
        let out = outputs_at(&mut d, 600);
        assert!(matches!(&out[..], [DumpOutput::Read { .. }]), "{out:?}");
        d.handle_bytes(&[], true);
        assert_eq!(outputs_at(&mut d, 600), [DumpOutput::Wait]);
        assert_eq!(d.poll_timeout(), Some(PERIOD_MS));
        // Events every 900 ms: each one moves the deadline, and no heartbeat is due.
        for (i, at) in [900, 1800, 2700].into_iter().enumerate() {
            d.handle_timeout(at);
            let sent = bytes.len() as u64;
            let e = xid(i as u64);
            bytes.extend_from_slice(&e);
            let n = bytes.len() as u64;
            let f = FileSummary { size: n, complete_end: n, mariadb: true, checksum: ChecksumAlg::Crc32, ..FileSummary::empty("small.000001") };
            d.update_files(share(vec![f]));
            d.resume();
            let out = outputs_at(&mut d, at);
            assert!(matches!(&out[..], [DumpOutput::Read { offset, .. }] if *offset == sent), "{out:?}");
            d.handle_bytes(&e, true);
            let out = outputs_at(&mut d, at);
            assert_eq!(out, [DumpOutput::Event { bytes: e.into(), ends_group: true }, DumpOutput::Wait], "at {at}");
            assert_eq!(d.poll_timeout(), Some(at + PERIOD_MS));
        }
    }

    #[test]
    fn only_the_event_that_ends_a_transaction_says_so() {
        let (bytes, files) = small_file(&[fde(), xid(1)]);
        let mut d = Dump::new(DumpStart::FilePos { file: String::new(), pos: 4 }, files, cfg()).unwrap();
        let _ = outputs(&mut d);
        d.handle_bytes(&bytes[4..], true);
        let ends: Vec<bool> = outputs(&mut d).into_iter().filter_map(|o| if let DumpOutput::Event { ends_group, .. } = o { Some(ends_group) } else { None }).collect();
        // The FORMAT_DESCRIPTION stands alone, as the group tracker counts it; the XID closes one.
        assert_eq!(ends, [true, true]);
    }

    fn maria_gtid(domain: u32, server: u32, seq: u64) -> Vec<u8> {
        use crate::binlog::events::mariadb_gtid::{flags, MariaGtidEvent};
        let g = MariaGtidEvent { seq, domain, flags: flags::TRANSACTIONAL, commit_id: None, xid: None, flags_extra: None, extra_engines: None, start_alter_seq: None, thread_id: None };
        let h = EventHeader { timestamp: 0, event_type: EventType::MARIADB_GTID, server_id: server, event_size: 0, log_pos: 0, flags: 0 };
        Event::new(h, EventBody::MariaGtid(g), ChecksumAlg::Crc32).encode()
    }

    /// A GTID dump from `from` of one closed file of `groups` (domain, server, seq), each a
    /// GTID and an XID, whose last GTIDs are `last`: every byte handed to it.
    fn gtid_dump(groups: &[(u32, u32, u64)], last: &str, from: &str, cfg: DumpConfig) -> Dump {
        let mut events = vec![fde()];
        for (i, &(domain, server, seq)) in groups.iter().enumerate() {
            events.push(maria_gtid(domain, server, seq));
            events.push(xid(i as u64));
        }
        let (bytes, _) = small_file(&events);
        let n = bytes.len() as u64;
        let last_gtids = MariaGtidPos::parse(last).unwrap();
        let f = FileSummary { size: n, complete_end: n, mariadb: true, checksum: ChecksumAlg::Crc32, last_gtids, ..FileSummary::empty("small.000001") };
        let mut d = Dump::new(DumpStart::MariaGtid(MariaGtidPos::parse(from).unwrap()), share(vec![f]), cfg).unwrap();
        let _ = outputs(&mut d);
        d.handle_bytes(&bytes[4..], true);
        d
    }

    /// The made-up GTID_LIST lists what was passed as MariaDB's dump thread does, in the order
    /// of its hash tables (`gtid::hash_order`), not in the order the GTIDs came. Three servers
    /// in domain 0, first seen 3, 2, 1: MariaDB's hash of them holds [1, 2, 3] (stepped by
    /// hand in `gtid::hash_order`'s tests), and the domain's last, 2, goes after the others;
    /// domains 0 and 1 are held as [1, 0] whichever comes first. Listed by arrival and recency,
    /// this was 0-3-1, 0-1-3, 0-2-4, 1-1-7.
    #[test]
    fn the_gtid_list_of_a_gtid_dump_is_in_mariadbs_order() {
        let mut d = gtid_dump(&[(0, 3, 1), (1, 1, 7), (0, 2, 2), (0, 1, 3), (0, 2, 4)], "0-2-4,1-1-7", "0-2-4", cfg());
        let lists: Vec<Vec<MariaGtid>> = outputs(&mut d)
            .into_iter()
            .filter_map(|o| match o {
                DumpOutput::Event { bytes, .. } if bytes[4] == EventType::GTID_LIST.0 => Some(GtidList::decode(&bytes[19..bytes.len() - CHECKSUM_LEN]).unwrap().gtids),
                _ => None,
            })
            .collect();
        let want: Vec<MariaGtid> = ["1-1-7", "0-1-3", "0-3-1", "0-2-4"].iter().map(|g| MariaGtid::parse(g).unwrap()).collect();
        assert_eq!(lists, [want]);
    }

    /// MariaDB skips the groups of other servers in the requested domain until the requested
    /// server's GTID comes, even those with higher sequence numbers (a domain written by two
    /// servers at once); binraft took the first as the replica's position, past a hole.
    #[test]
    fn a_gtid_dump_waits_for_the_requested_server_in_its_domain() {
        let strict = DumpConfig { gtid_strict: true, ..cfg() };
        let mut d = gtid_dump(&[(0, 1, 5), (0, 2, 2), (0, 2, 3), (0, 1, 6)], "0-1-6", "0-2-2", strict);
        let sent: Vec<String> = outputs(&mut d)
            .into_iter()
            .filter_map(|o| match o {
                DumpOutput::Event { bytes, .. } if bytes[4] == EventType::MARIADB_GTID.0 => {
                    let server = u32::from_le_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
                    let seq = u64::from_le_bytes(bytes[19..27].try_into().unwrap());
                    Some(format!("{server}-{seq}"))
                }
                DumpOutput::Event { bytes, .. } if bytes[4] == EventType::GTID_LIST.0 => Some("list".into()),
                DumpOutput::Error(e) => Some(format!("error {}", e.message)),
                _ => None,
            })
            .collect();
        assert_eq!(sent, ["list", "2-3", "1-6"]);
    }

    #[test]
    fn a_start_past_4_gib_is_refused_naming_file_and_offset() {
        let pos = 4 * GIB + 100;
        let err = Dump::new(DumpStart::FilePos { file: FILE.into(), pos }, five_gib_file(), cfg()).unwrap_err();
        assert_eq!(err, past_log_pos_max(FILE, pos));
        assert_eq!(err.code, crate::mysql::errors::ER_MASTER_FATAL_ERROR_READING_BINLOG);
        assert!(err.message.contains(FILE) && err.message.contains(&pos.to_string()), "{}", err.message);
        // At the last 32-bit position it may start (and would stop at the first event).
        assert!(Dump::new(DumpStart::FilePos { file: FILE.into(), pos: LOG_POS_MAX }, five_gib_file(), cfg()).is_ok());
    }

    #[test]
    fn an_event_that_ends_past_4_gib_ends_the_dump() {
        let xid = encode(EventType::XID, 0, EventBody::Xid(Xid { xid: 9 }));
        // The event starts below 4 GiB and ends one byte past the last 32-bit log position.
        let start = u64::from(u32::MAX) + 1 - xid.len() as u64;
        let mut d = Dump::new(DumpStart::FilePos { file: FILE.into(), pos: start }, five_gib_file(), cfg()).unwrap();
        let first = outputs(&mut d);
        assert!(matches!(&first[..], [DumpOutput::Event { ends_group: false, .. }, DumpOutput::Read { offset: 4, .. }]), "{first:?}");
        d.handle_bytes(&fde(), false);
        let after_fde = outputs(&mut d);
        assert!(matches!(&after_fde[..], [DumpOutput::Event { .. }, DumpOutput::Read { offset, .. }] if *offset == start), "{after_fde:?}");
        d.handle_bytes(&xid, false);
        let Some(DumpOutput::Error(e)) = d.poll_output(0) else { panic!("the event past 4 GiB was not refused") };
        assert_eq!(e, past_log_pos_max(FILE, start));
        assert!(e.message.contains(FILE) && e.message.contains(&start.to_string()), "{}", e.message);
        assert_eq!(d.poll_output(0), None);
    }
}
