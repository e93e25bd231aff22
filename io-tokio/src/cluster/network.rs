//! The Raft port: openraft's RPCs between the nodes of one cluster, over TCP.
//!
//! A connection opens with a challenge on the cluster secret, both ways, so that neither a
//! stranger nor a node of another cluster gets in, and a node never talks to an impostor:
//!
//! ```text
//! server: "BRRF" | version u8 | server nonce [32]
//! client: from node u64 | to node u64 | client nonce [32] | HMAC-SHA256(secret, "client" | server nonce | client nonce | from | to)
//! server: HMAC-SHA256(secret, "server" | client nonce | server nonce | from | to)     (or it closes)
//! ```
//!
//! Then each request is one frame (length u32, postcard bytes) answered by one frame, in turn.
//! A frame is at most [`FRAME_BYTES_MAX`]; the leader's batches are bounded to fit
//! ([`super::max_payload_entries`]).
//!
//! A snapshot goes as files: the leader names them with their ends, the member answers how
//! much of each it already holds, the leader sends the rest in chunks of at most
//! [`SNAPSHOT_CHUNK_BYTES`], up to [`SNAPSHOT_CHUNKS_IN_FLIGHT`] of them before it waits for the
//! first's answer (the member writes one while the leader reads the next), and each file's
//! CRC-32 over its whole length, which the member checks over its own part and the received
//! part together. A mismatch fails the snapshot and
//! the member takes that file whole the next time.

use super::state_machine::{staged_name, SnapshotFile, SnapshotFiles};
use super::types::{Raft, Types};
use crate::store::Store;
use hmac::{Hmac, Mac};
use openraft::error::{NetworkError, RPCError, RaftError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse};
use openraft::type_config::alias::{SnapshotMetaOf, SnapshotOf, VoteOf};
use openraft::{BasicNode, RaftNetworkFactory, RaftNetworkV2};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MAGIC: &[u8; 4] = b"BRRF";
const VERSION: u8 = 1;
const NONCE: usize = 32;
const MAC: usize = 32;
/// The largest frame either side reads: a batch of entries, bounded to fit.
pub const FRAME_BYTES_MAX: usize = 1 << 30;
/// The challenge must be answered within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

type HmacSha256 = Hmac<Sha256>;
use sha2::Sha256;

/// A snapshot's bytes go in pieces of at most this.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;

/// Chunks sent and not yet answered, at most: a pipeline, so that reading, sending and
/// writing a snapshot overlap (one at a time, a new member caught up at 0.48 of this disk's
/// sequential pace).
pub const SNAPSHOT_CHUNKS_IN_FLIGHT: usize = 4;

/// One RPC.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
enum Rpc {
    Append(AppendEntriesRequest<Types>),
    Vote(VoteRequest<Types>),
    PreVote(VoteRequest<Types>),
    /// A snapshot's files and their ends: how much of each does the member hold?
    SnapshotBegin { files: Vec<(String, u64)> },
    SnapshotChunk { name: String, offset: u64, bytes: bytes::Bytes },
    /// The file is sent up to `end`; the CRC-32 of its bytes 0..end.
    SnapshotFile { name: String, end: u64, crc: u32 },
    /// With the replication settings at the snapshot's point.
    SnapshotEnd { vote: VoteOf<Types>, meta: SnapshotMetaOf<Types>, replication: Option<binraft_core::upstream::UpstreamSettings> },
    /// Is the cluster formed (does this member know a membership)? Asked by a member whose
    /// log is empty before it bootstraps one.
    Probe,
    /// A membership change, forwarded by a member that does not lead.
    Members(super::members::MemberChange),
    /// A proposal (CHANGE MASTER...), forwarded by a member that does not lead.
    Propose(binraft_core::cluster::request::Request),
    /// Which files do this member's replicas read now? Asked before a purge.
    Reading,
}

/// Its answer.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
enum Reply {
    Append(Result<AppendEntriesResponse<Types>, RaftError<Types>>),
    Vote(Result<VoteResponse<Types>, RaftError<Types>>),
    /// For each file, the offset from which the member needs it.
    SnapshotNeed(Vec<u64>),
    SnapshotAck(Result<(), String>),
    SnapshotInstalled(Result<SnapshotResponse<Types>, String>),
    Probe { formed: bool },
    Members(Result<String, String>),
    Proposed(Result<binraft_core::cluster::request::Response, String>),
    Reading(Vec<String>),
}

fn mac(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut m = <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    for p in parts {
        m.update(p);
    }
    m
}

async fn write_frame(s: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).ok().filter(|&l| l as usize <= FRAME_BYTES_MAX).ok_or_else(|| io::Error::other(format!("a frame of {} bytes is over {FRAME_BYTES_MAX}", bytes.len())))?;
    s.write_all(&len.to_le_bytes()).await?;
    s.write_all(bytes).await?;
    s.flush().await
}

async fn read_frame(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > FRAME_BYTES_MAX {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a frame of {len} bytes is over {FRAME_BYTES_MAX}")));
    }
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).await?;
    Ok(buf)
}

/// The client's side of the challenge: proves the secret, checks the server's proof.
async fn handshake_client(s: &mut TcpStream, secret: &[u8], from: u64, to: u64) -> io::Result<()> {
    let mut hello = [0u8; 5 + NONCE];
    s.read_exact(&mut hello).await?;
    if &hello[..4] != MAGIC || hello[4] != VERSION {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a binraft Raft port (or another version)"));
    }
    let server_nonce = &hello[5..];
    let mut nonce = [0u8; NONCE];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ids = [from.to_le_bytes(), to.to_le_bytes()].concat();
    let proof = mac(secret, &[b"client", server_nonce, &nonce, &ids]).finalize().into_bytes();
    let mut msg = Vec::with_capacity(16 + NONCE + MAC);
    msg.extend_from_slice(&ids);
    msg.extend_from_slice(&nonce);
    msg.extend_from_slice(&proof);
    s.write_all(&msg).await?;
    s.flush().await?;
    let mut theirs = [0u8; MAC];
    s.read_exact(&mut theirs).await.map_err(|_| io::Error::new(io::ErrorKind::PermissionDenied, format!("node {to} refused this node: another cluster secret, or not a member")))?;
    mac(secret, &[b"server", &nonce, server_nonce, &ids])
        .verify_slice(&theirs)
        .map_err(|_| io::Error::new(io::ErrorKind::PermissionDenied, format!("the peer at node {to}'s address does not know the cluster secret")))
}

/// Why a connection to the Raft port was refused.
#[derive(Debug)]
enum Refused {
    Io(io::Error),
    BadProof { from: u64 },
    NotForMe { to: u64 },
}

/// The server's side: the client's node id once it proved the secret. The secret proves it is of
/// this cluster; whether it is a member (and may send more than a probe) is decided after.
async fn handshake_server(s: &mut TcpStream, secret: &[u8], me: u64) -> Result<u64, Refused> {
    let mut nonce = [0u8; NONCE];
    rand::thread_rng().fill_bytes(&mut nonce);
    let mut hello = Vec::with_capacity(5 + NONCE);
    hello.extend_from_slice(MAGIC);
    hello.push(VERSION);
    hello.extend_from_slice(&nonce);
    s.write_all(&hello).await.map_err(Refused::Io)?;
    s.flush().await.map_err(Refused::Io)?;
    let mut msg = [0u8; 16 + NONCE + MAC];
    s.read_exact(&mut msg).await.map_err(Refused::Io)?;
    let (ids, rest) = msg.split_at(16);
    let (client_nonce, proof) = rest.split_at(NONCE);
    let from = u64::from_le_bytes(ids[..8].try_into().unwrap_or_default());
    let to = u64::from_le_bytes(ids[8..].try_into().unwrap_or_default());
    mac(secret, &[b"client", &nonce, client_nonce, ids]).verify_slice(proof).map_err(|_| Refused::BadProof { from })?;
    if to != me {
        return Err(Refused::NotForMe { to });
    }
    let answer = mac(secret, &[b"server", client_nonce, &nonce, ids]).finalize().into_bytes();
    s.write_all(&answer).await.map_err(Refused::Io)?;
    s.flush().await.map_err(Refused::Io)?;
    Ok(from)
}

/// Serves the Raft port: every connection that proves the secret gets its RPCs answered by
/// `raft`. Runs until the listener fails.
#[allow(clippy::too_many_arguments)]
pub async fn serve(listener: TcpListener, raft: Raft, secret: Arc<str>, me: u64, members: Vec<u64>, store: Store, catch_up: CatchUp, readers: crate::server::Readers) {
    // Files whose copy here did not match a leader's CRC: taken whole the next time.
    let distrusted: Arc<std::sync::Mutex<std::collections::BTreeSet<String>>> = Arc::default();
    loop {
        let (mut stream, addr) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("raft port: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (raft, secret, members, store, distrusted, catch_up, readers) = (raft.clone(), Arc::clone(&secret), members.clone(), store.clone(), Arc::clone(&distrusted), Arc::clone(&catch_up), Arc::clone(&readers));
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            // Asked at each request, not once per connection: memberships change while
            // connections last.
            let trusted = |id: u64| {
                use openraft::async_runtime::WatchReceiver;
                if members.contains(&id) {
                    return true;
                }
                let m = raft.metrics().borrow_watched().clone();
                let known = m.membership_config.membership().get_node(&id).is_some();
                known
            };
            let from = match crate::time::timeout(HANDSHAKE_TIMEOUT, handshake_server(&mut stream, secret.as_bytes(), me)).await {
                Ok(Ok(from)) => from,
                Ok(Err(Refused::Io(e))) => return tracing::debug!(%addr, "raft port: connection closed during the handshake: {e}"),
                Ok(Err(Refused::BadProof { from })) => return tracing::warn!(%addr, "raft port: refused a connection (claiming node {from}) that does not know the cluster secret"),
                Ok(Err(Refused::NotForMe { to })) => return tracing::warn!(%addr, "raft port: refused a peer that takes this node (id {me}) for node {to}: check --peers"),
                Err(_) => return tracing::warn!(%addr, "raft port: refused a connection that did not answer the challenge in time"),
            };
            // A node of this cluster that is not a member (one about to be added, or removed)
            // may not ask for votes, changes or proposals.
            let mut receiving = None;
            let answered = answer(&mut stream, &raft, &store, &distrusted, &|| trusted(from), &mut receiving, &catch_up, &readers).await;
            if let Some(r) = receiving.take() {
                // The connection ended in the middle of a snapshot: the leader sends it again.
                tracing::info!(%addr, from, "raft: a snapshot being received was cut off; the leader sends it again");
                r.discard(&store);
                set(&catch_up, None);
            }
            if let Err(e) = answered {
                if e.kind() == io::ErrorKind::PermissionDenied {
                    return tracing::warn!(%addr, from, "raft port: {e}");
                }
                if e.kind() != io::ErrorKind::UnexpectedEof {
                    tracing::debug!(%addr, from, "raft port: connection ends: {e}");
                }
            }
        });
    }
}

/// A snapshot being received on one connection: its files, from where each is received, and
/// those whose CRC matched the leader's.
pub struct Receiving {
    reception: u64,
    files: Vec<SnapshotFile>,
    checked: std::collections::BTreeSet<String>,
}

/// Each snapshot reception stages its bytes under names of its own.
static RECEPTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Receiving {
    /// Removes the staged bytes the install did not take (gone already when it did).
    fn discard(&self, store: &Store) {
        let d = store.disk();
        let present = d.list().unwrap_or_default();
        for f in self.files.iter().filter(|f| f.staged_from.is_some()) {
            let staged = staged_name(self.reception, &f.name);
            if present.contains(&staged) {
                if let Err(e) = d.remove(&staged) {
                    tracing::warn!(file = %staged, "raft: removing a snapshot's staged bytes: {e}");
                }
            }
        }
    }
}

/// How far this member is in receiving a snapshot, for the status API: `None` when it is not
/// receiving one.
pub type CatchUp = Arc<std::sync::Mutex<Option<SnapshotProgress>>>;

/// A snapshot being received: the bytes this member lacks of its files, and how many have come.
#[derive(Clone, Debug, Default)]
pub struct SnapshotProgress {
    pub files: usize,
    pub files_done: usize,
    pub bytes: u64,
    pub received: u64,
}

fn set(catch_up: &CatchUp, to: Option<SnapshotProgress>) {
    if let Ok(mut c) = catch_up.lock() {
        *c = to;
    }
}

/// A progress line every this many bytes received.
const PROGRESS_LINE_BYTES: u64 = 64 << 20;

#[allow(clippy::too_many_arguments)]
async fn answer(
    stream: &mut TcpStream,
    raft: &Raft,
    store: &Store,
    distrusted: &std::sync::Mutex<std::collections::BTreeSet<String>>,
    member: &(dyn Fn() -> bool + Sync),
    receiving: &mut Option<Receiving>,
    catch_up: &CatchUp,
    readers: &crate::server::Readers,
) -> io::Result<()> {
    loop {
        let frame = read_frame(stream).await?;
        let rpc: Rpc = postcard::from_bytes(&frame).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("a request that does not decode: {e}")))?;
        // What a leader sends (the log, a snapshot) is taken from any node that proved the
        // secret: openraft judges it by its vote, and the leader may be a member this node
        // does not know yet (one added after its --peers were written, while its own view is
        // an older snapshot's: the simulator found a learner refusing such a leader forever,
        // `membership_change` seed 12). What only members may ask (a vote, a change, a
        // proposal) needs a peer or a member.
        let leaders_only = matches!(rpc, Rpc::Append(_) | Rpc::SnapshotBegin { .. } | Rpc::SnapshotChunk { .. } | Rpc::SnapshotFile { .. } | Rpc::SnapshotEnd { .. });
        if !matches!(rpc, Rpc::Probe) && !leaders_only && !member() {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "refused a Raft request from a node that is neither one of the peers nor a member"));
        }
        let reply = match rpc {
            Rpc::Append(r) => Reply::Append(raft.append_entries(r).await),
            Rpc::Vote(r) => Reply::Vote(raft.vote(r).await),
            Rpc::PreVote(r) => Reply::Vote(raft.pre_vote(r).await),
            Rpc::SnapshotBegin { files } => {
                // A leader that begins again on this connection gave up on the last one.
                if let Some(old) = receiving.take() {
                    old.discard(store);
                }
                let distrusted = distrusted.lock().map(|d| d.clone()).unwrap_or_default();
                let r = Receiving {
                    reception: RECEPTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    files: files
                        .iter()
                        .map(|(name, end)| {
                            let have = if distrusted.contains(name) { 0 } else { store.complete_end(name).unwrap_or(0) };
                            let staged_from = if have >= *end { None } else { Some(have) };
                            SnapshotFile { name: name.clone(), end: *end, staged_from }
                        })
                        .collect(),
                    checked: Default::default(),
                };
                let need = r.files.iter().map(|f| f.staged_from.unwrap_or(f.end)).collect();
                for f in r.files.iter().filter(|f| f.staged_from.is_some()) {
                    let d = store.disk();
                    d.create(&staged_name(r.reception, &f.name)).map_err(|e| io::Error::other(e.to_string()))?;
                }
                let lacking: Vec<&SnapshotFile> = r.files.iter().filter(|f| f.staged_from.is_some()).collect();
                let bytes: u64 = lacking.iter().map(|f| f.end - f.staged_from.unwrap_or(f.end)).sum();
                tracing::info!(files = r.files.len(), receiving = lacking.len(), bytes, reception = r.reception, "raft: receiving a snapshot");
                set(catch_up, Some(SnapshotProgress { files: lacking.len(), files_done: 0, bytes, received: 0 }));
                *receiving = Some(r);
                Reply::SnapshotNeed(need)
            }
            Rpc::SnapshotChunk { name, offset, bytes } => {
                let r = receive_chunk(receiving.as_ref(), store, &name, offset, &bytes);
                if r.is_ok() {
                    if let Ok(mut c) = catch_up.lock() {
                        if let Some(p) = c.as_mut() {
                            let before = p.received;
                            p.received += bytes.len() as u64;
                            if before / PROGRESS_LINE_BYTES != p.received / PROGRESS_LINE_BYTES {
                                tracing::info!(received = p.received, of = p.bytes, file = %name, "raft: catching up by snapshot");
                            }
                        }
                    }
                }
                Reply::SnapshotAck(r)
            }
            Rpc::SnapshotFile { name, end, crc } => {
                let r = check_file(receiving.as_ref(), store, &name, end, crc);
                let lacked = receiving.as_ref().is_some_and(|r| r.files.iter().any(|f| f.name == name && f.staged_from.is_some()));
                if let (Ok(()), Some(rc)) = (&r, receiving.as_mut()) {
                    rc.checked.insert(name.clone());
                }
                if r.is_ok() && lacked {
                    if let Ok(mut c) = catch_up.lock() {
                        if let Some(p) = c.as_mut() {
                            p.files_done += 1;
                            tracing::info!(file = %name, files_done = p.files_done, of = p.files, received = p.received, bytes = p.bytes, "raft: catching up by snapshot: file received");
                        }
                    }
                }
                if r.is_err() {
                    if let Ok(mut d) = distrusted.lock() {
                        d.insert(name.clone());
                    }
                }
                Reply::SnapshotAck(r)
            }
            Rpc::Probe => {
                use openraft::async_runtime::WatchReceiver;
                let m = raft.metrics().borrow_watched().clone();
                let formed = m.membership_config.membership().voter_ids().next().is_some();
                Reply::Probe { formed }
            }
            Rpc::Members(change) => Reply::Members(super::members::execute(raft, &change).await),
            Rpc::Reading => Reply::Reading(readers.lock().map(|r| r.values().cloned().collect()).unwrap_or_default()),
            Rpc::Propose(req) => Reply::Proposed(raft.client_write(req).await.map(|w| w.data).map_err(|e| e.to_string())),
            Rpc::SnapshotEnd { vote, meta, replication } => match receiving.take() {
                None => Reply::SnapshotInstalled(Err("a snapshot's end without its beginning".into())),
                Some(r) => {
                    // Only files whose every byte was checked against the leader's CRC go in.
                    let unchecked: Vec<&str> = r.files.iter().filter(|f| !r.checked.contains(&f.name)).map(|f| f.name.as_str()).collect();
                    let installed = if unchecked.is_empty() {
                        let snapshot = openraft::Snapshot { meta, snapshot: SnapshotFiles::received(r.files.clone(), r.reception, replication) };
                        raft.install_full_snapshot(vote, snapshot).await.map_err(|e| e.to_string())
                    } else {
                        tracing::warn!(files = ?unchecked, "raft: a snapshot's end came before its files were all checked; not installed");
                        Err(format!("a snapshot's end before these files were checked: {}", unchecked.join(", ")))
                    };
                    // What the install did not take (a snapshot not newer than this node's state
                    // is not installed) is removed.
                    r.discard(store);
                    set(catch_up, None);
                    Reply::SnapshotInstalled(installed)
                }
            },
        };
        let bytes = postcard::to_stdvec(&reply).map_err(io::Error::other)?;
        write_frame(stream, &bytes).await?;
    }
}

fn receive_chunk(r: Option<&Receiving>, store: &Store, name: &str, offset: u64, bytes: &[u8]) -> Result<(), String> {
    let f = r.and_then(|r| r.files.iter().find(|f| f.name == name)).ok_or_else(|| format!("a chunk of {name}, not part of the snapshot"))?;
    let from = f.staged_from.ok_or_else(|| format!("a chunk of {name}, which this node holds already"))?;
    if offset < from || offset + bytes.len() as u64 > f.end {
        return Err(format!("a chunk of {name} at {offset}, outside {from}..{}", f.end));
    }
    let staged = store.disk().open(&staged_name(r.map_or(0, |r| r.reception), name)).map_err(|e| e.to_string())?;
    staged.write_at(offset - from, bytes).map_err(|e| e.to_string())
}

/// The CRC-32 of `name`'s bytes 0..end here: this node's own part, then the received part.
fn check_file(r: Option<&Receiving>, store: &Store, name: &str, end: u64, crc: u32) -> Result<(), String> {
    let f = r.and_then(|r| r.files.iter().find(|f| f.name == name)).ok_or_else(|| format!("{name} is not part of the snapshot"))?;
    let d = store.disk();
    let from = f.staged_from.unwrap_or(end);
    let mut h = crc32fast::Hasher::new();
    let mut hash = |file: &dyn binraft_core::store::DiskFile, start: u64, stop: u64| -> Result<(), String> {
        let mut at = start;
        while at < stop {
            let n = (stop - at).min(8 << 20) as usize;
            h.update(&file.read_at(at, n).map_err(|e| e.to_string())?);
            at += n as u64;
        }
        Ok(())
    };
    if from > 0 {
        hash(d.open(name).map_err(|e| e.to_string())?.as_ref(), 0, from)?;
    }
    if from < end {
        let staged = d.open(&staged_name(r.map_or(0, |r| r.reception), name)).map_err(|e| e.to_string())?;
        let have = staged.len().map_err(|e| e.to_string())?;
        if have != end - from {
            return Err(format!("{name}: {have} bytes received of {}", end - from));
        }
        let mut at = 0;
        while at < end - from {
            let n = (end - from - at).min(8 << 20) as usize;
            h.update(&staged.read_at(at, n).map_err(|e| e.to_string())?);
            at += n as u64;
        }
    }
    let ours = h.finalize();
    if ours != crc {
        tracing::warn!(file = %name, "raft: a snapshot's file does not match the leader's (CRC {ours:08x}, leader's {crc:08x}); it will be taken whole");
        return Err(format!("{name}: CRC {ours:08x} here, {crc:08x} on the leader"));
    }
    Ok(())
}

/// Makes a client for each peer openraft talks to.
#[derive(Clone)]
pub struct Network {
    pub me: u64,
    pub secret: Arc<str>,
    /// The files a snapshot sends are read from here.
    pub store: Store,
    /// This node's log: a replication stream that has fallen below its purge point is ended.
    pub log: super::log_store::LogStore,
}

impl RaftNetworkFactory<Types> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Peer {
        Peer { me: self.me, target, addr: node.addr.clone(), secret: Arc::clone(&self.secret), conn: Default::default(), store: self.store.clone(), log: Some(self.log.clone()) }
    }
}

/// One peer, over one connection at a time (made again after any failure).
pub struct Peer {
    me: u64,
    target: u64,
    addr: String,
    secret: Arc<str>,
    /// In a Mutex only to be Sync, as openraft wants (madsim's stream is not); never locked.
    conn: std::sync::Mutex<Option<TcpStream>>,
    store: Store,
    /// The leader's log, for the replication streams to this peer (none for one-off calls).
    log: Option<super::log_store::LogStore>,
}

/// How a call failed: before anything was sent (the peer is unreachable), or after.
enum CallError {
    Unreachable(io::Error),
    Network(io::Error),
}

impl Peer {
    async fn connect(&mut self) -> io::Result<TcpStream> {
        let mut s = match crate::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.addr)).await {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, format!("connect to {} timed out", self.addr))),
        };
        let _ = s.set_nodelay(true);
        match crate::time::timeout(HANDSHAKE_TIMEOUT, handshake_client(&mut s, self.secret.as_bytes(), self.me, self.target)).await {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "the handshake timed out")),
        }
        Ok(s)
    }

    async fn call(&mut self, rpc: &Rpc, ttl: Duration) -> Result<Reply, CallError> {
        let bytes = postcard::to_stdvec(rpc).map_err(|e| CallError::Network(io::Error::other(e)))?;
        let mut s = match self.conn.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            Some(s) => s,
            None => self.connect().await.map_err(CallError::Unreachable)?,
        };
        let exchange = async {
            write_frame(&mut s, &bytes).await?;
            read_frame(&mut s).await
        };
        let frame = match crate::time::timeout(ttl, exchange).await {
            Ok(Ok(f)) => f,
            Ok(Err(e)) => return Err(CallError::Network(e)),
            Err(_) => return Err(CallError::Network(io::Error::new(io::ErrorKind::TimedOut, format!("no answer from node {} within {ttl:?}", self.target)))),
        };
        let reply = postcard::from_bytes(&frame).map_err(|e| CallError::Network(io::Error::new(io::ErrorKind::InvalidData, e)))?;
        self.conn = Some(s).into();
        Ok(reply)
    }
}

/// Whether the member at `addr` (node `target`) knows a formed cluster; None if it cannot be
/// asked.
pub async fn probe(me: u64, target: u64, addr: &str, secret: Arc<str>, store: Store) -> Option<bool> {
    let mut p = Peer { me, target, addr: addr.to_string(), secret, conn: Default::default(), store, log: None };
    match p.call(&Rpc::Probe, Duration::from_secs(1)).await {
        Ok(Reply::Probe { formed }) => Some(formed),
        Ok(_) => None,
        Err(CallError::Unreachable(e) | CallError::Network(e)) => {
            if e.kind() == io::ErrorKind::PermissionDenied {
                tracing::error!(peer = target, %addr, "raft: {e}");
            } else {
                tracing::info!(peer = target, %addr, "raft: cannot ask whether the cluster is formed: {e}");
            }
            None
        }
    }
}

/// The files the replicas of the member at `addr` (node `target`) read now.
pub async fn files_read(me: u64, target: u64, addr: &str, secret: Arc<str>, store: Store) -> Result<Vec<String>, String> {
    let mut p = Peer { me, target, addr: addr.to_string(), secret, conn: Default::default(), store, log: None };
    match p.call(&Rpc::Reading, Duration::from_secs(2)).await {
        Ok(Reply::Reading(files)) => Ok(files),
        Ok(_) => Err("an unexpected reply".into()),
        Err(CallError::Unreachable(e) | CallError::Network(e)) => Err(e.to_string()),
    }
}

/// Asks the leader at `addr` to carry out a membership change.
pub async fn forward_members(me: u64, leader: u64, addr: &str, secret: Arc<str>, store: Store, change: super::members::MemberChange) -> Result<String, String> {
    let mut p = Peer { me, target: leader, addr: addr.to_string(), secret, conn: Default::default(), store, log: None };
    match p.call(&Rpc::Members(change), Duration::from_secs(30)).await {
        Ok(Reply::Members(r)) => r,
        Ok(_) => Err("an unexpected reply from the leader".into()),
        Err(CallError::Unreachable(e) | CallError::Network(e)) => Err(format!("the leader (node {leader}) cannot be reached: {e}")),
    }
}

/// Asks the leader at `addr` to propose `req`.
pub async fn forward_proposal(me: u64, leader: u64, addr: &str, secret: Arc<str>, store: Store, req: binraft_core::cluster::request::Request) -> Result<binraft_core::cluster::request::Response, String> {
    let mut p = Peer { me, target: leader, addr: addr.to_string(), secret, conn: Default::default(), store, log: None };
    match p.call(&Rpc::Propose(req), Duration::from_secs(30)).await {
        Ok(Reply::Proposed(r)) => r,
        Ok(_) => Err("an unexpected reply from the leader".into()),
        Err(CallError::Unreachable(e) | CallError::Network(e)) => Err(format!("the leader (node {leader}) cannot be reached: {e}")),
    }
}

impl Peer {
    async fn ack(&mut self, rpc: &Rpc, ttl: Duration) -> Result<(), CallError> {
        match self.call(rpc, ttl).await? {
            Reply::SnapshotAck(Ok(())) => Ok(()),
            Reply::SnapshotAck(Err(e)) => Err(CallError::Network(io::Error::other(format!("node {}: {e}", self.target)))),
            _ => Err(CallError::Network(io::Error::other("an unexpected reply to a snapshot chunk"))),
        }
    }

    /// Sends bytes `from..end` of file `name` in chunks, [`SNAPSHOT_CHUNKS_IN_FLIGHT`] at a
    /// time, each answer checked in turn; returns the CRC-32 of bytes `0..end`.
    async fn send_file(&mut self, name: &str, end: u64, from: u64, ttl: Duration, sent: &mut u64) -> Result<u32, CallError> {
        let io = |e: binraft_core::store::DiskError| CallError::Network(io::Error::other(e.to_string()));
        let file = self.store.disk().open(name).map_err(io)?;
        let mut s = match self.conn.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            Some(s) => s,
            None => self.connect().await.map_err(CallError::Unreachable)?,
        };
        let target = self.target;
        let timed_out = || CallError::Network(io::Error::new(io::ErrorKind::TimedOut, format!("no answer from node {target} within {ttl:?}")));
        let answered = |frame: Vec<u8>| match postcard::from_bytes(&frame) {
            Ok(Reply::SnapshotAck(Ok(()))) => Ok(()),
            Ok(Reply::SnapshotAck(Err(e))) => Err(CallError::Network(io::Error::other(format!("node {target}: {e}")))),
            _ => Err(CallError::Network(io::Error::other("an unexpected reply to a snapshot chunk"))),
        };
        let mut h = crc32fast::Hasher::new();
        let (mut at, mut unanswered) = (0u64, 0usize);
        while at < end || unanswered > 0 {
            if unanswered == SNAPSHOT_CHUNKS_IN_FLIGHT || at >= end {
                let frame = crate::time::timeout(ttl, read_frame(&mut s)).await.map_err(|_| timed_out())?.map_err(CallError::Network)?;
                answered(frame)?;
                unanswered -= 1;
                continue;
            }
            let n = (end - at).min(SNAPSHOT_CHUNK_BYTES as u64) as usize;
            let bytes = file.read_at(at, n).map_err(io)?;
            h.update(&bytes);
            if at + n as u64 > from {
                let skip = from.saturating_sub(at) as usize;
                let chunk = bytes::Bytes::from(bytes).slice(skip..);
                *sent += chunk.len() as u64;
                let rpc = Rpc::SnapshotChunk { name: name.to_string(), offset: at + skip as u64, bytes: chunk };
                let frame = postcard::to_stdvec(&rpc).map_err(|e| CallError::Network(io::Error::other(e)))?;
                crate::time::timeout(ttl, write_frame(&mut s, &frame)).await.map_err(|_| timed_out())?.map_err(CallError::Network)?;
                unanswered += 1;
            }
            at += n as u64;
        }
        // Every chunk answered: the connection is in step again for the next call.
        self.conn = Some(s).into();
        Ok(h.finalize())
    }

    /// Sends the snapshot's files (what the member lacks of each), then its meta to install.
    async fn send_snapshot(&mut self, vote: VoteOf<Types>, snapshot: SnapshotOf<Types, SnapshotFiles>, ttl: Duration) -> Result<SnapshotResponse<Types>, CallError> {
        let files: Vec<(String, u64)> = snapshot.snapshot.files.iter().map(|f| (f.name.clone(), f.end)).collect();
        let need = match self.call(&Rpc::SnapshotBegin { files: files.clone() }, ttl).await? {
            Reply::SnapshotNeed(n) if n.len() == files.len() => n,
            _ => return Err(CallError::Network(io::Error::other("an unexpected reply to a snapshot's beginning"))),
        };
        let total: u64 = files.iter().zip(&need).map(|((_, end), from)| end.saturating_sub(*from)).sum();
        tracing::info!(target_node = self.target, files = files.len(), bytes = total, "raft: sending a snapshot");
        let mut sent = 0u64;
        for ((name, end), from) in files.iter().zip(need) {
            let crc = self.send_file(name, *end, from, ttl, &mut sent).await?;
            self.ack(&Rpc::SnapshotFile { name: name.clone(), end: *end, crc }, ttl).await?;
            tracing::info!(target_node = self.target, file = %name, sent, of = total, "raft: snapshot progress");
        }
        match self.call(&Rpc::SnapshotEnd { vote, meta: snapshot.meta, replication: snapshot.snapshot.replication().cloned() }, ttl).await? {
            Reply::SnapshotInstalled(Ok(r)) => Ok(r),
            Reply::SnapshotInstalled(Err(e)) => Err(CallError::Network(io::Error::other(format!("node {} did not install the snapshot: {e}", self.target)))),
            _ => Err(CallError::Network(io::Error::other("an unexpected reply to a snapshot's end"))),
        }
    }
}

fn rpc_error<E: std::error::Error + 'static>(e: CallError) -> RPCError<Types, E> {
    match e {
        CallError::Unreachable(e) => RPCError::Unreachable(Unreachable::new(&e)),
        CallError::Network(e) => RPCError::Network(NetworkError::new(&e)),
    }
}

fn remote<E: std::error::Error + 'static, X: std::error::Error + 'static>(e: X) -> RPCError<Types, E> {
    RPCError::Network(NetworkError::new(&e))
}

/// Whether an entry-less request of a replication stream stands where the entries it should
/// carry are purged: the stream was made before this member was sent a snapshot and is stale.
/// (openraft's stream reads an empty range there and, seeing log to send, never looks for newer
/// work: it would send such heartbeats forever and the member would get no entry again.)
/// `purged` is asked only for an entry-less request: the others pass without a look at the log.
fn stale_stream(req: &AppendEntriesRequest<Types>, purged: impl FnOnce() -> Option<u64>) -> bool {
    req.entries.is_empty() && purged().is_some_and(|purged| req.prev_log_id.as_ref().is_none_or(|p| p.index < purged))
}

impl RaftNetworkV2<Types> for Peer {
    type SnapshotData = super::state_machine::SnapshotFiles;

    /// openraft's sequential stream, ended at a stale request ([`stale_stream`]): the
    /// replication task then takes up its newest work (after a snapshot, the log from it).
    /// A stream of one request is the heartbeat worker's (`stream::once`), and is sent as it
    /// is: a member far behind, receiving a snapshot, must go on hearing from its leader. Ended
    /// there too, its heartbeats never left, the member's election timer ran out in the middle
    /// of every snapshot, each election started the snapshot again, and it never caught up
    /// (the simulator found it: slow_replica, seed 9).
    fn stream_append<'s, S>(&'s mut self, input: S, option: RPCOption) -> openraft::base::BoxFuture<'s, Result<openraft::base::BoxStream<'s, Result<openraft::raft::StreamAppendResult<Types>, RPCError<Types>>>, RPCError<Types>>>
    where
        S: futures::Stream<Item = AppendEntriesRequest<Types>> + openraft::OptionalSend + Unpin + 'static,
    {
        use futures::StreamExt;
        let heartbeat = input.size_hint() == (1, Some(1));
        let (log, target) = (self.log.clone(), self.target);
        let checked = futures::stream::unfold(Some(input), move |input| {
            let log = log.clone();
            async move {
                let mut input = input?;
                let req = input.next().await?;
                if !heartbeat && stale_stream(&req, || log.as_ref().and_then(|l| l.purged_index())) {
                    tracing::info!(target_node = target, prev = ?req.prev_log_id, "raft: a replication stream below the purged log ends; the next one starts where the member is");
                    // Not at once: a stream that keeps coming back stale runs at this pace.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    return None;
                }
                Some((req, Some(input)))
            }
        });
        openraft::network::stream_append_sequential(self, Box::pin(checked), option)
    }

    async fn append_entries(&mut self, rpc: AppendEntriesRequest<Types>, option: RPCOption) -> Result<AppendEntriesResponse<Types>, RPCError<Types>> {
        match self.call(&Rpc::Append(rpc), option.hard_ttl()).await.map_err(rpc_error)? {
            Reply::Append(r) => r.map_err(remote),
            _ => Err(remote(io::Error::other("another reply to an append"))),
        }
    }

    async fn vote(&mut self, rpc: VoteRequest<Types>, option: RPCOption) -> Result<VoteResponse<Types>, RPCError<Types>> {
        match self.call(&Rpc::Vote(rpc), option.hard_ttl()).await.map_err(rpc_error)? {
            Reply::Vote(r) => r.map_err(remote),
            _ => Err(remote(io::Error::other("another reply to a vote"))),
        }
    }

    async fn pre_vote(&mut self, rpc: VoteRequest<Types>, option: RPCOption) -> Result<VoteResponse<Types>, RPCError<Types>> {
        match self.call(&Rpc::PreVote(rpc), option.hard_ttl()).await.map_err(rpc_error)? {
            Reply::Vote(r) => r.map_err(remote),
            _ => Err(remote(io::Error::other("another reply to a pre-vote"))),
        }
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<Types>,
        snapshot: SnapshotOf<Types, Self::SnapshotData>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<Types>, StreamingError<Types>> {
        let send = self.send_snapshot(vote, snapshot, option.hard_ttl());
        tokio::select! {
            biased;
            r = send => r.map_err(|e| match e {
                CallError::Unreachable(e) => StreamingError::Unreachable(Unreachable::new(&e)),
                CallError::Network(e) => StreamingError::Network(NetworkError::new(&e)),
            }),
            closed = cancel => Err(StreamingError::Closed(closed)),
        }
    }
}
