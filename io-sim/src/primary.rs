//! The simulated MariaDB primary: on its own madsim node, a producer writes transactions into a
//! [`PrimaryLog`] at seeded intervals, and every connection on its MySQL port is served by
//! fixtures' [`MemPrimary`] (the project's `ServerConn` and `Dump`: the real protocol), fed with
//! the log as it grows.
//!
//! It ends each connection after a seeded while ([`Primary::dropping_after`]), in the middle
//! of a transaction as often as not, as a DBA's KILL of a dump thread would.
//!
//! With semi-sync on, it asks for an ACK at each transaction's end, as a semi-sync MariaDB
//! does, and checks each ACK the moment it arrives ([`crate::arrival`]): what binraft acknowledges
//! must already be durable on a majority of its nodes.
//!
//! Out: [`PrimaryState::sessions`], every dump a node ran against it (which node, when), and
//! what the ACKs covered and broke, for the invariants.

use crate::binlog::{PrimaryLog, SERVER_VERSION};
use crate::layout::Layout;
use binraft::notify::Changes;
use binraft_fixtures::sim::MemPrimary;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A dump a node ran: from where, and from when to when (simulated ms).
#[derive(Debug, Clone)]
pub struct Session {
    pub peer: SocketAddr,
    pub start_ms: u64,
    /// When its dump started (None: it never asked for the binlog).
    pub dump_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// The primary ended it ([`Primary::dropping_after`]).
    pub dropped: bool,
}

/// The primary's log and what it saw.
pub struct PrimaryState {
    pub log: PrimaryLog,
    pub sessions: Vec<Session>,
    /// The producer stops once the log has this many transactions.
    pub txns_max: usize,
    /// While true, the producer writes nothing (the scenario's quiet phase).
    pub paused: bool,
    /// Whether it serves semi-sync.
    pub semi_sync: bool,
    /// How many of its transactions the ACKs received cover, from the first.
    pub acked_txns: usize,
    /// ACKs for what was not yet durable on a majority when they arrived.
    pub ack_violations: Vec<String>,
    /// Whether binraft's layout is this primary's log (until a change of primary).
    pub followed: bool,
}

#[derive(Clone)]
pub struct Primary {
    state: Arc<Mutex<PrimaryState>>,
    /// binraft's layout: where an ACKed transaction lies in binraft's files.
    layout: Layout,
    changes: Arc<Changes>,
    epoch: tokio::time::Instant,
    /// Each ACK is checked as it arrives.
    pub ack_check: crate::arrival::ArrivalCheck,
    /// Each connection is ended after a time drawn from this (ms).
    drops_ms: Option<std::ops::Range<u64>>,
}

impl Primary {
    /// A primary holding `log`; with `followed`, binraft's layout is its log.
    pub fn new(log: PrimaryLog, txns_max: usize, epoch: tokio::time::Instant, semi_sync: bool, layout: Layout, followed: bool) -> Primary {
        if followed {
            layout.lock().follow(&log);
        }
        let state = PrimaryState { log, sessions: Vec::new(), txns_max, paused: false, semi_sync, acked_txns: 0, ack_violations: Vec::new(), followed };
        Primary { state: Arc::new(Mutex::new(state)), layout, changes: Arc::default(), epoch, ack_check: Default::default(), drops_ms: None }
    }

    /// Ends each connection after a time drawn from `ms`, as a DBA's KILL of a dump thread, a
    /// net_write_timeout or a proxy's idle cut end a replica's: binraft must reconnect and go
    /// on, without a gap or a duplicate.
    pub fn dropping_after(self, ms: Option<std::ops::Range<u64>>) -> Primary {
        Primary { drops_ms: ms, ..self }
    }

    /// An ACK of `file` up to `pos` arrived: what it covers, and whether that was durable on a
    /// majority, where it lies in binraft's files ([`crate::arrival`]). One whose place there
    /// no node has shown yet is judged later, by the invariant.
    fn on_ack(&self, file: &str, pos: u64) {
        let covered = {
            let mut s = self.lock();
            let Some(at) = s.log.files.iter().position(|(n, _)| n == file) else {
                return s.ack_violations.push(format!("an ACK of {file}:{pos}, a file the primary does not have"));
            };
            let covered = s.log.txns.iter().take_while(|t| t.file < at || (t.file == at && t.end <= pos)).count();
            s.acked_txns = s.acked_txns.max(covered);
            covered
        };
        let placed = {
            let l = self.layout.lock();
            covered.checked_sub(1).and_then(|i| l.txns.get(i)).map(|t| (l.files[t.file].0.clone(), t.end))
        };
        let Some((ours, end)) = placed else { return };
        let now = self.now_ms();
        if let Some(v) = self.ack_check.run(&ours, end, now) {
            self.lock().ack_violations.push(format!("at {now} ms, an ACK of {file}:{pos} ({ours} up to {end} in binraft's files): {v}"));
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, PrimaryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Writes a transaction every `interval_ms` (a seeded draw in the range each time) until
    /// `txns_max`.
    pub async fn produce(self, interval_ms: std::ops::Range<u64>) {
        use rand::Rng;
        loop {
            let wait = madsim::rand::thread_rng().gen_range(interval_ms.clone());
            tokio::time::sleep(Duration::from_millis(wait)).await;
            {
                let mut s = self.lock();
                if s.paused || s.log.txns.len() >= s.txns_max {
                    continue;
                }
                s.log.produce();
                if s.followed {
                    self.layout.lock().follow(&s.log);
                }
            }
            self.changes.notify();
        }
    }

    /// Serves the MySQL port.
    pub async fn serve(self, listener: TcpListener) {
        loop {
            let Ok((stream, peer)) = listener.accept().await else { continue };
            let p = self.clone();
            tokio::spawn(async move {
                let id = {
                    let mut s = p.lock();
                    s.sessions.push(Session { peer, start_ms: p.now_ms(), dump_ms: None, end_ms: None, dropped: false });
                    s.sessions.len() - 1
                };
                let _ = p.connection(stream, id).await;
                let end = p.now_ms();
                p.lock().sessions[id].end_ms = Some(end);
            });
        }
    }

    async fn connection(&self, mut stream: TcpStream, id: usize) -> std::io::Result<()> {
        let mut changes = self.changes.subscribe();
        let (mut mem, mut given) = {
            let s = self.lock();
            let files = s.log.files.clone();
            let given: Vec<u64> = files.iter().map(|(_, b)| b.len() as u64).collect();
            let mut mem = MemPrimary::new(SERVER_VERSION, files, s.semi_sync);
            mem.set_server_id(s.log.server_id);
            (mem, given)
        };
        let mut buf = vec![0u8; 64 << 10];
        // The connection's own clock: its login deadline counts from its start.
        let t0 = tokio::time::Instant::now();
        let now = || t0.elapsed().as_millis() as u64;
        let ends_at = self.drops_ms.clone().map(|ms| {
            use rand::Rng;
            t0 + Duration::from_millis(madsim::rand::thread_rng().gen_range(ms))
        });
        loop {
            // Checked here too: while events flow the select below may never get to it.
            if ends_at.is_some_and(|at| tokio::time::Instant::now() >= at) {
                self.lock().sessions[id].dropped = true;
                return Ok(());
            }
            while let Some(b) = mem.poll_transmit() {
                stream.write_all(&b).await?;
            }
            // madsim's streams send on flush only.
            stream.flush().await?;
            if mem.closed.is_some() {
                return Ok(());
            }
            if mem.dumping() {
                let mut s = self.lock();
                if s.sessions[id].dump_ms.is_none() {
                    s.sessions[id].dump_ms = Some(self.now_ms());
                }
            }
            let due = mem.poll_timeout();
            let heartbeat = async {
                match due {
                    Some(ms) => tokio::time::sleep_until(t0 + Duration::from_millis(ms)).await,
                    None => std::future::pending().await,
                }
            };
            let ended = async {
                match ends_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
            // Polled in order: tokio's random order is seeded per process, not per simulation.
            biased;
                n = stream.read(&mut buf) => {
                    let n = n?;
                    if n == 0 {
                        return Ok(());
                    }
                    mem.handle_bytes(&buf[..n], now());
                    for a in std::mem::take(&mut mem.acks) {
                        self.on_ack(&a.file, a.pos);
                    }
                }
                _ = changes.changed() => {
                    let s = self.lock();
                    for (i, (name, bytes)) in s.log.files.iter().enumerate() {
                        let from = given.get(i).copied().unwrap_or(0) as usize;
                        if from < bytes.len() {
                            mem.extend(name, &bytes[from..]);
                            if i < given.len() {
                                given[i] = bytes.len() as u64;
                            } else {
                                given.push(bytes.len() as u64);
                            }
                        }
                    }
                }
                _ = heartbeat => mem.handle_timeout(now()),
                _ = ended => {
                    self.lock().sessions[id].dropped = true;
                    return Ok(());
                }
            }
        }
    }
}
