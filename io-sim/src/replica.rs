//! Simulated replicas made of the project's client side (core's `UpstreamSession` over
//! `ClientConn`): each connects to a node chosen at random, by GTID or by file and position,
//! reads for a seeded while, disconnects, and comes back to another node from where it stopped.
//!
//! Out: [`ReplicaLog`], every append each replica received (from which node, where, the bytes),
//! which the invariants compare with the primary's log.

use binraft_core::gtid::mysql::GtidSet;
use binraft_core::upstream::{Resume, UpstreamConfig, UpstreamOutput, UpstreamSession};
use rand::Rng;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whole groups a replica received in one append.
#[derive(Debug, Clone)]
pub struct Received {
    pub ms: u64,
    /// Index of the node it came from.
    pub node: usize,
    pub file: String,
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// What one replica saw.
#[derive(Debug, Default)]
pub struct ReplicaLog {
    pub name: String,
    pub by_gtid: bool,
    pub received: Vec<Received>,
    /// Sessions started, and why each ended.
    pub sessions: Vec<(usize, String)>,
    /// Events the primary sent again that differ from what the replica holds.
    pub verify_failures: Vec<String>,
    /// What arrived before a majority of the nodes held it durably ([`crate::arrival`]).
    pub arrival_violations: Vec<String>,
    /// The sessions a node ended with a server error: which node, the error's code, and what
    /// the session made of it.
    pub refused: Vec<(usize, u16, String)>,
}

#[derive(Clone, Default)]
pub struct ReplicaHandle(Arc<Mutex<ReplicaLog>>, crate::arrival::ArrivalCheck);

impl ReplicaHandle {
    pub fn lock(&self) -> MutexGuard<'_, ReplicaLog> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What checks each arrival.
    pub fn set_arrival_check(&self, check: crate::arrival::Check) {
        self.1.set(check);
    }

    /// `file` up to `end` arrived from `node` at `ms`.
    fn arrived(&self, node: usize, file: &str, end: u64, ms: u64) {
        if let Some(v) = self.1.run(file, end, ms) {
            self.lock().arrival_violations.push(format!("at {ms} ms, {file} up to {end} from node{}: {v}", node + 1));
        }
    }
}

/// The replica's own store: its files in the order it got them, and its GTID position.
#[derive(Default)]
struct Local {
    order: Vec<String>,
    files: BTreeMap<String, Vec<u8>>,
    /// The last GTID per domain.
    gtids: BTreeMap<u32, (u32, u64)>,
    /// The last session ended with TailMissing: the next one goes by file and position, as
    /// binraft's own upstream does, to fetch the end of the last file.
    by_position_once: bool,
}

impl Local {
    fn resume(&self) -> Resume {
        match self.order.last() {
            Some(f) => Resume::At { file: f.clone(), offset: self.files[f].len() as u64 },
            None => Resume::Empty,
        }
    }

    fn gtid_pos(&self) -> String {
        self.gtids.iter().map(|(d, (s, n))| format!("{d}-{s}-{n}")).collect::<Vec<_>>().join(",")
    }

    /// Notes the MariaDB GTIDs in `bytes` (whole events).
    fn scan_gtids(&mut self, bytes: &[u8]) {
        let mut at = 0usize;
        while at + 19 <= bytes.len() {
            let size = u32::from_le_bytes(bytes[at + 9..at + 13].try_into().unwrap_or_default()) as usize;
            if size < 19 || at + size > bytes.len() {
                return;
            }
            if bytes[at + 4] == 162 && size >= 19 + 12 {
                let server = u32::from_le_bytes(bytes[at + 5..at + 9].try_into().unwrap_or_default());
                let seq = u64::from_le_bytes(bytes[at + 19..at + 27].try_into().unwrap_or_default());
                let domain = u32::from_le_bytes(bytes[at + 27..at + 31].try_into().unwrap_or_default());
                self.gtids.insert(domain, (server, seq));
            }
            at += size;
        }
    }
}

/// A replica's settings.
#[derive(Clone)]
pub struct ReplicaSpec {
    pub name: String,
    pub server_id: u32,
    pub by_gtid: bool,
    /// A slow replica: it pauses this long (ms) after each read.
    pub read_pause_ms: Option<u64>,
    /// It asks for GTIDs that do not exist ([`STRAY_POSITION`]), every 1 to 3 s, as a replica
    /// of another cluster pointed here by mistake would.
    pub stray: bool,
    /// The nodes' MySQL ports.
    pub nodes: Vec<SocketAddr>,
    pub user: String,
    pub password: String,
}

/// The stray replica's GTID position: in domain 0 far ahead of anything the primary writes,
/// and in a domain it never writes.
pub const STRAY_POSITION: [(u32, u32, u64); 2] = [(0, 1, 4_000_000_000), (9, 9, 1)];

/// Runs the replica forever: a session with a random node, a pause, again.
pub async fn run(spec: ReplicaSpec, log: ReplicaHandle, epoch: tokio::time::Instant) {
    {
        let mut l = log.lock();
        l.name = spec.name.clone();
        l.by_gtid = spec.by_gtid;
    }
    let mut local = Local::default();
    if spec.stray {
        local.gtids = STRAY_POSITION.iter().map(|&(d, s, n)| (d, (s, n))).collect();
    }
    let pauses_ms = if spec.stray { 1_000..3_000 } else { 20..500 };
    loop {
        let (node, stay_ms, pause_ms) = {
            let mut rng = madsim::rand::thread_rng();
            (rng.gen_range(0..spec.nodes.len()), rng.gen_range(500..6000u64), rng.gen_range(pauses_ms.clone()))
        };
        let why = session(&spec, node, &mut local, &log, epoch, Duration::from_millis(stay_ms)).await;
        log.lock().sessions.push((node, why));
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    }
}

async fn session(spec: &ReplicaSpec, node: usize, local: &mut Local, log: &ReplicaHandle, epoch: tokio::time::Instant, stay: Duration) -> String {
    let cfg = UpstreamConfig {
        user: spec.user.clone(),
        password: spec.password.as_str().into(),
        server_id: spec.server_id,
        heartbeat_period_ms: 500,
        tls: false,
        use_gtid: spec.by_gtid && !std::mem::take(&mut local.by_position_once),
        login_timeout_ms: 5_000,
        own_layout: false,
    };
    let t0 = tokio::time::Instant::now();
    let now = || t0.elapsed().as_millis() as u64;
    let leave = t0 + stay;
    let ends = local.files.iter().map(|(f, b)| (f.clone(), b.len() as u64)).collect();
    let mut s = UpstreamSession::new(cfg, local.resume(), now()).with_stored(ends, local.gtid_pos(), GtidSet::default());
    let mut stream = match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(spec.nodes[node])).await {
        Ok(Ok(st)) => st,
        Ok(Err(e)) => return format!("connect: {e}"),
        Err(_) => return "connect timed out".into(),
    };
    // A slow replica also reads in small pieces.
    let mut buf = vec![0u8; if spec.read_pause_ms.is_some() { 16 << 10 } else { 256 << 10 }];
    let mut part: Option<(String, u64, Vec<u8>)> = None;
    loop {
        while let Some(o) = s.poll_output() {
            match o {
                UpstreamOutput::Send(b) => {
                    if let Err(e) = stream.write_all(&b).await {
                        return format!("write: {e}");
                    }
                }
                UpstreamOutput::Connected { .. } | UpstreamOutput::Ack { .. } => {}
                UpstreamOutput::NewFile { file } => {
                    if !local.files.contains_key(&file) {
                        local.order.push(file.clone());
                        local.files.insert(file, binraft_core::binlog::frame::BINLOG_MAGIC.to_vec());
                    }
                }
                UpstreamOutput::AppendPart { file, offset, bytes } => match &mut part {
                    Some((f, start, held)) if *f == file && *start + held.len() as u64 == offset => held.extend_from_slice(&bytes),
                    _ => part = Some((file, offset, bytes)),
                },
                UpstreamOutput::Append { file, mut offset, mut bytes, .. } => {
                    if let Some((f, start, mut held)) = part.take() {
                        if f == file && start + held.len() as u64 == offset {
                            held.extend_from_slice(&bytes);
                            (offset, bytes) = (start, held);
                        }
                    }
                    let f = local.files.entry(file.clone()).or_insert_with(|| binraft_core::binlog::frame::BINLOG_MAGIC.to_vec());
                    if !local.order.contains(&file) {
                        local.order.push(file.clone());
                    }
                    // Kept where the node put it: the invariants judge whether that was right.
                    f.truncate(offset as usize);
                    f.resize(offset as usize, 0);
                    f.extend_from_slice(&bytes);
                    local.scan_gtids(&bytes);
                    let ms = epoch.elapsed().as_millis() as u64;
                    let end = offset + bytes.len() as u64;
                    let name = file.clone();
                    log.lock().received.push(Received { ms, node, file, offset, bytes });
                    log.arrived(node, &name, end, ms);
                }
                UpstreamOutput::Verify { file, offset, bytes } => {
                    let ours = local.files.get(&file).and_then(|f| f.get(offset as usize..offset as usize + bytes.len()));
                    if !ours.is_some_and(|o| binraft_core::binlog::header::same_event(o, &bytes)) {
                        log.lock().verify_failures.push(format!("node {node} sent again {file} at {offset}, which differs from what this replica holds"));
                    }
                }
                UpstreamOutput::Failed(e) => {
                    if let Some(code) = e.errno() {
                        log.lock().refused.push((node, code, e.to_string()));
                    }
                    local.by_position_once = matches!(e, binraft_core::upstream::UpstreamError::TailMissing { .. });
                    return format!("failed: {e}");
                }
                UpstreamOutput::StartTls => return "TLS asked for".into(),
            }
        }
        // madsim's streams send on flush only.
        if let Err(e) = stream.flush().await {
            return format!("write: {e}");
        }
        // Checked here too: while events flow the read below is always ready, and the biased
        // select would never get to the stay's end.
        if tokio::time::Instant::now() >= leave {
            return "left".into();
        }
        let deadline = s.poll_timeout();
        let wake = async {
            match deadline {
                Some(ms) => tokio::time::sleep_until(t0 + Duration::from_millis(ms)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            // Polled in order: tokio's random order is seeded per process, not per simulation.
            biased;
            n = stream.read(&mut buf) => match n {
                Ok(0) => return "the node closed the connection".into(),
                Ok(n) => {
                    s.handle_bytes(&buf[..n], now());
                    if let Some(ms) = spec.read_pause_ms {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                }
                Err(e) => return format!("read: {e}"),
            },
            _ = wake => s.handle_timeout(now()),
            _ = tokio::time::sleep_until(leave) => return "left".into(),
        }
    }
}
