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

use super::types::{Raft, Types};
use hmac::{Hmac, Mac};
use openraft::error::{NetworkError, RPCError, RaftError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse};
use openraft::type_config::alias::{SnapshotOf, VoteOf};
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

/// One RPC.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
enum Rpc {
    Append(AppendEntriesRequest<Types>),
    Vote(VoteRequest<Types>),
    PreVote(VoteRequest<Types>),
}

/// Its answer.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
enum Reply {
    Append(Result<AppendEntriesResponse<Types>, RaftError<Types>>),
    Vote(Result<VoteResponse<Types>, RaftError<Types>>),
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
    NotAMember { from: u64 },
}

/// The server's side: the client's node id once it proved the secret.
async fn handshake_server(s: &mut TcpStream, secret: &[u8], me: u64, members: &[u64]) -> Result<u64, Refused> {
    let mut nonce = [0u8; NONCE];
    rand::thread_rng().fill_bytes(&mut nonce);
    let mut hello = Vec::with_capacity(5 + NONCE);
    hello.extend_from_slice(MAGIC);
    hello.push(VERSION);
    hello.extend_from_slice(&nonce);
    s.write_all(&hello).await.map_err(Refused::Io)?;
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
    if !members.contains(&from) {
        return Err(Refused::NotAMember { from });
    }
    let answer = mac(secret, &[b"server", client_nonce, &nonce, ids]).finalize().into_bytes();
    s.write_all(&answer).await.map_err(Refused::Io)?;
    Ok(from)
}

/// Serves the Raft port: every connection that proves the secret gets its RPCs answered by
/// `raft`. Runs until the listener fails.
pub async fn serve(listener: TcpListener, raft: Raft, secret: Arc<str>, me: u64, members: Vec<u64>) {
    loop {
        let (mut stream, addr) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("raft port: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (raft, secret, members) = (raft.clone(), Arc::clone(&secret), members.clone());
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let from = match crate::time::timeout(HANDSHAKE_TIMEOUT, handshake_server(&mut stream, secret.as_bytes(), me, &members)).await {
                Ok(Ok(from)) => from,
                Ok(Err(Refused::Io(e))) => return tracing::debug!(%addr, "raft port: connection closed during the handshake: {e}"),
                Ok(Err(Refused::BadProof { from })) => return tracing::warn!(%addr, "raft port: refused a connection (claiming node {from}) that does not know the cluster secret"),
                Ok(Err(Refused::NotForMe { to })) => return tracing::warn!(%addr, "raft port: refused a peer that takes this node (id {me}) for node {to}: check --peers"),
                Ok(Err(Refused::NotAMember { from })) => return tracing::warn!(%addr, "raft port: refused node {from}, not one of the peers"),
                Err(_) => return tracing::warn!(%addr, "raft port: refused a connection that did not answer the challenge in time"),
            };
            if let Err(e) = answer(&mut stream, &raft).await {
                if e.kind() != io::ErrorKind::UnexpectedEof {
                    tracing::debug!(%addr, from, "raft port: connection ends: {e}");
                }
            }
        });
    }
}

async fn answer(stream: &mut TcpStream, raft: &Raft) -> io::Result<()> {
    loop {
        let frame = read_frame(stream).await?;
        let rpc: Rpc = postcard::from_bytes(&frame).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("a request that does not decode: {e}")))?;
        let reply = match rpc {
            Rpc::Append(r) => Reply::Append(raft.append_entries(r).await),
            Rpc::Vote(r) => Reply::Vote(raft.vote(r).await),
            Rpc::PreVote(r) => Reply::Vote(raft.pre_vote(r).await),
        };
        let bytes = postcard::to_stdvec(&reply).map_err(io::Error::other)?;
        write_frame(stream, &bytes).await?;
    }
}

/// Makes a client for each peer openraft talks to.
#[derive(Clone)]
pub struct Network {
    pub me: u64,
    pub secret: Arc<str>,
}

impl RaftNetworkFactory<Types> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Peer {
        Peer { me: self.me, target, addr: node.addr.clone(), secret: Arc::clone(&self.secret), conn: None }
    }
}

/// One peer, over one connection at a time (made again after any failure).
pub struct Peer {
    me: u64,
    target: u64,
    addr: String,
    secret: Arc<str>,
    conn: Option<TcpStream>,
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
        let mut s = match self.conn.take() {
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
        self.conn = Some(s);
        Ok(reply)
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

impl RaftNetworkV2<Types> for Peer {
    type SnapshotData = super::state_machine::SnapshotFiles;

    async fn append_entries(&mut self, rpc: AppendEntriesRequest<Types>, option: RPCOption) -> Result<AppendEntriesResponse<Types>, RPCError<Types>> {
        match self.call(&Rpc::Append(rpc), option.hard_ttl()).await.map_err(rpc_error)? {
            Reply::Append(r) => r.map_err(remote),
            Reply::Vote(_) => Err(remote(io::Error::other("a vote reply to an append"))),
        }
    }

    async fn vote(&mut self, rpc: VoteRequest<Types>, option: RPCOption) -> Result<VoteResponse<Types>, RPCError<Types>> {
        match self.call(&Rpc::Vote(rpc), option.hard_ttl()).await.map_err(rpc_error)? {
            Reply::Vote(r) => r.map_err(remote),
            Reply::Append(_) => Err(remote(io::Error::other("an append reply to a vote"))),
        }
    }

    async fn pre_vote(&mut self, rpc: VoteRequest<Types>, option: RPCOption) -> Result<VoteResponse<Types>, RPCError<Types>> {
        match self.call(&Rpc::PreVote(rpc), option.hard_ttl()).await.map_err(rpc_error)? {
            Reply::Vote(r) => r.map_err(remote),
            Reply::Append(_) => Err(remote(io::Error::other("an append reply to a pre-vote"))),
        }
    }

    async fn full_snapshot(
        &mut self,
        _vote: VoteOf<Types>,
        _snapshot: SnapshotOf<Types, Self::SnapshotData>,
        _cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<Types>, StreamingError<Types>> {
        // The log is kept whole (no snapshot policy purges it), so a member is always caught
        // up from the log: a snapshot is never asked for.
        Err(StreamingError::Unreachable(Unreachable::new(&io::Error::other(format!("node {}: sending a snapshot is not supported yet; the log is kept whole", self.target)))))
    }
}
