//! openraft's log storage over core's [`RaftLog`]: each entry is one record of the log,
//! postcard-encoded; the vote and the last purged log id sit in the log's own slots.
//!
//! Every call is durable on return (the log syncs before it answers), so `append` reports the
//! flush at once: an entry counts toward a commit only once it is on this node's disk.
//!
//! It must stay so, though openraft would take the flush later (a leader could then send
//! entries while its own sync runs). openraft takes appended entries, flushed or not, as the
//! log: a leader sends them, a candidate campaigns with them, and a leader restarted in its own
//! term (its vote committed) leads again at once with what its log reads. A leader that sent
//! entry 82 unsynced, lost it to a failed sync and restarted, proposed another entry 82 under
//! the same log id, which its followers took for the one they held: they served a gap (tried
//! with a flusher task and group commit, 2026-12-03; the simulator's `leader_disk_faults`
//! failed 30 seeds of 40 at once).

use super::types::{Entry, LogId, Types, Vote};
use binraft_core::cluster::committed;
use binraft_core::cluster::log::{LogError, RaftLog};
use binraft_core::store::Disk;
use openraft::storage::{IOFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader};
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, Mutex, MutexGuard};

/// The log, shared by the storage and the readers of the replication tasks.
#[derive(Clone, Debug)]
pub struct LogStore {
    log: Arc<Mutex<RaftLog>>,
    /// Where the committed hint is kept ([`binraft_core::cluster::committed`]).
    disk: Arc<dyn Disk>,
}

fn io_err(e: LogError) -> io::Error {
    io::Error::other(e.to_string())
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> io::Result<T> {
    postcard::from_bytes(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("raft log: {what} does not decode: {e}")))
}

fn encode<T: serde::Serialize>(v: &T) -> io::Result<Vec<u8>> {
    postcard::to_stdvec(v).map_err(io::Error::other)
}

impl LogStore {
    pub fn new(log: RaftLog, disk: Arc<dyn Disk>) -> LogStore {
        LogStore { log: Arc::new(Mutex::new(log)), disk }
    }

    fn lock(&self) -> MutexGuard<'_, RaftLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the log has never held anything, nor a vote: a fresh member.
    pub fn is_pristine(&self) -> bool {
        let log = self.lock();
        log.last_index().is_none() && log.purged().is_none() && log.vote().is_none()
    }

    /// The index up to which the log is purged, if it is.
    pub fn purged_index(&self) -> Option<u64> {
        self.lock().purged().map(|(i, _)| i)
    }

    fn entries(&self, start: u64, end_inclusive: u64) -> io::Result<Vec<Entry>> {
        if start > end_inclusive {
            return Ok(Vec::new());
        }
        let records = self.lock().read(start..=end_inclusive).map_err(io_err)?;
        records.iter().map(|(i, b)| decode(&format!("entry {i}"), b)).collect()
    }
}

/// The binlog position the log on `disk` reaches: the file and end of the last group its last
/// entries carry (None if they carry none). For the simulator's checkers, which read a node's
/// log as its disk holds it durably.
pub fn logged_end(disk: Arc<dyn Disk>) -> Result<Option<(String, u64)>, String> {
    let (log, _) = RaftLog::open(disk, super::SEGMENT_BYTES).map_err(|e| e.to_string())?;
    let (Some(first), Some(mut i)) = (log.first_index(), log.last_index()) else { return Ok(None) };
    loop {
        let records = log.read(i..=i).map_err(|e| e.to_string())?;
        for (index, bytes) in records {
            let entry: Entry = decode(&format!("entry {index}"), &bytes).map_err(|e| e.to_string())?;
            if let openraft::EntryPayload::Normal(binraft_core::cluster::request::Request::Groups(groups)) = entry.payload {
                if let Some(g) = groups.last() {
                    return Ok(Some((g.file.clone(), g.offset + g.bytes.len() as u64)));
                }
            }
        }
        if i == first {
            return Ok(None);
        }
        i -= 1;
    }
}

impl RaftLogReader<Types> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(&mut self, range: RB) -> io::Result<Vec<Entry>> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e,
            Bound::Excluded(&e) => match e.checked_sub(1) {
                Some(e) => e,
                None => return Ok(Vec::new()),
            },
            Bound::Unbounded => u64::MAX,
        };
        self.entries(start, end)
    }

    /// The replication stream's read: nothing when the range starts in the purged part of the
    /// log. openraft takes the first entry returned as the one after the request's prev: entries
    /// from after a purge that raced with the stream (the simulator found it,
    /// `minority_unsynced` seed 9: prev 63, entries from 69) would tell the member to append
    /// them after 63, a hole in its log. Nothing read is sent as an entry-less request below
    /// the purged log, which the network ends ([`super::network`]), and the member is then
    /// sent a snapshot.
    async fn limited_get_log_entries(&mut self, start: u64, end: u64) -> io::Result<Vec<Entry>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let entries = self.entries(start, end - 1)?;
        if entries.first().is_some_and(|e| e.log_id.index != start) {
            tracing::info!(start, first = entries.first().map(|e| e.log_id.index), "raft: a replication read starts in the purged log; the member gets a snapshot");
            return Ok(Vec::new());
        }
        Ok(entries)
    }

    async fn read_vote(&mut self) -> io::Result<Option<Vote>> {
        match self.lock().vote() {
            Some(b) => decode("the vote", b).map(Some),
            None => Ok(None),
        }
    }
}

impl RaftLogStorage<Types> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> io::Result<LogState<Types>> {
        let (purged, last) = {
            let log = self.lock();
            let purged: Option<LogId> = match log.purged() {
                Some((_, meta)) => Some(decode("the purged log id", meta)?),
                None => None,
            };
            (purged, log.last_index())
        };
        let last_log_id = match last {
            Some(i) => match self.entries(i, i)?.pop() {
                Some(e) => Some(e.log_id),
                None => return Err(io::Error::other(format!("raft log: entry {i} is listed but does not read"))),
            },
            None => purged,
        };
        Ok(LogState { last_purged_log_id: purged, last_log_id })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> io::Result<()> {
        let bytes = encode(vote)?;
        self.lock().save_vote(&bytes).map_err(io_err)
    }

    /// Kept without a sync: a restart applies the log up to it before the node serves, so a
    /// member never shows its replicas less than it showed them before. Lost, it is older.
    async fn save_committed(&mut self, committed: Option<LogId>) -> io::Result<()> {
        let bytes = encode(&committed)?;
        committed::save(self.disk.as_ref(), &bytes).map_err(|e| io::Error::other(e.to_string()))
    }

    async fn read_committed(&mut self) -> io::Result<Option<LogId>> {
        match committed::load(self.disk.as_ref()).map_err(|e| io::Error::other(e.to_string()))? {
            Some(b) => decode("the committed log id", &b),
            None => Ok(None),
        }
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<Types>) -> io::Result<()>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let encoded: Vec<(u64, Vec<u8>)> = entries.into_iter().map(|e| encode(&e).map(|b| (e.log_id.index, b))).collect::<io::Result<_>>()?;
        let records: Vec<(u64, &[u8])> = encoded.iter().map(|(i, b)| (*i, b.as_slice())).collect();
        let r = self.lock().append(&records);
        match r {
            Ok(()) => {
                callback.io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                tracing::error!("raft log: append failed: {e}");
                callback.io_completed(Err(io_err(e.clone())));
                Err(io_err(e))
            }
        }
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> io::Result<()> {
        self.lock().truncate_after(last_log_id.map(|l| l.index)).map_err(io_err)
    }

    async fn purge(&mut self, log_id: LogId) -> io::Result<()> {
        let meta = encode(&log_id)?;
        self.lock().purge_upto(log_id.index, &meta).map_err(io_err)
    }
}
