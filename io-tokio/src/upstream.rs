//! The upstream driver: connects to the primary, drives the core's `UpstreamSession`, and
//! applies what it decides to the store. Reconnects with backoff forever; each session resumes
//! right after the last complete group stored. START/STOP SLAVE switch it on and off (stopping
//! drops the session: a transaction half received is never stored).

use crate::config::Replication;
use crate::server::Node;
use binraft_core::upstream::{AppendId, HeldAcks, UpstreamConfig, UpstreamOutput, UpstreamSession};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Runs replication whenever the target says so.
pub async fn supervise(mut target: watch::Receiver<Option<Replication>>, node: Arc<Node>) {
    loop {
        let current = target.borrow_and_update().clone();
        match current {
            None => {
                if target.changed().await.is_err() {
                    return;
                }
            }
            Some(r) => {
                tracing::info!(replication = ?r, "replication starts");
                tokio::select! {
                    _ = run(r, &node) => {}
                    changed = target.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        tracing::info!("replication stops");
                    }
                }
            }
        }
    }
}

fn status(node: &Node, f: impl FnOnce(&mut binraft_core::primary::admin::ReplicaStatus)) {
    if let Ok(mut s) = node.replica_status.lock() {
        f(&mut s);
    }
}

async fn run(r: Replication, node: &Node) {
    let primary = format!("{}:{}", r.host, r.port);
    let cfg = UpstreamConfig { user: r.user.clone(), password: r.password.clone(), server_id: node.server_id(), heartbeat_period_ms: r.heartbeat_ms, tls: r.ssl, use_gtid: r.use_gtid };
    let tls = if r.ssl {
        match crate::tls::connector(r.ssl_ca.as_deref()) {
            Ok(c) => Some(c),
            Err(e) => {
                status(node, |s| {
                    s.io_running = "No".into();
                    s.last_io_errno = 2026;
                    s.last_io_error = e.clone();
                });
                tracing::error!("replication cannot start: {e}");
                return std::future::pending().await;
            }
        }
    } else {
        None
    };
    status(node, |s| {
        s.host = r.host.clone();
        s.port = r.port;
        s.user = r.user.clone();
        s.connect_retry_s = BACKOFF_MAX.as_secs();
        s.using_gtid = if r.use_gtid { "Slave_Pos".into() } else { "No".into() };
    });
    let start = Instant::now();
    let mut backoff = BACKOFF_MIN;
    loop {
        let resume = node.store.resume_point();
        status(node, |s| {
            s.io_running = "Connecting".into();
            s.io_state = "Connecting to master".into();
        });
        let outcome = match TcpStream::connect(&primary).await {
            Ok(stream) => session(stream, &cfg, tls.as_ref(), &r.host, resume.clone(), node, start).await,
            Err(e) => Err((format!("cannot connect: {e}"), false, false)),
        };
        if let Err((reason, fatal, streamed)) = outcome {
            if streamed {
                backoff = BACKOFF_MIN;
            }
            // The server's own error number when it gave one, else "cannot connect" (2003).
            let errno = ["1045", "1236", "1227", "1044"].iter().find(|c| reason.contains(&format!("({c})")) || reason.contains(&format!("error {c}"))).and_then(|c| c.parse().ok());
            status(node, |s| {
                s.last_io_errno = errno.unwrap_or(if fatal { 1236 } else { 2003 });
                s.last_io_error = reason.clone();
                s.seconds_behind_master = None;
            });
            if fatal {
                tracing::error!(%primary, ?resume, "upstream: {reason}; retrying in {BACKOFF_MAX:?}");
                backoff = BACKOFF_MAX;
            } else {
                tracing::warn!(%primary, ?resume, "upstream: {reason}; reconnecting in {backoff:?}");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

type Outcome = Result<(), (String, bool, bool)>;

/// One session; `Err((reason, fatal, streamed_anything))` when it ends. It starts on the plain
/// socket and, if the session asks for TLS, goes on over it.
async fn session(
    stream: TcpStream,
    cfg: &UpstreamConfig,
    tls: Option<&tokio_rustls::TlsConnector>,
    host: &str,
    resume: binraft_core::upstream::Resume,
    node: &Node,
    t0: Instant,
) -> Outcome {
    let mut s = UpstreamSession::new(cfg.clone(), resume, t0.elapsed().as_millis() as u64).with_stored(node.store.file_ends(), node.store.gtid_pos(), node.store.gtid_executed());
    let mut plain = stream;
    let TlsRequested = pump(&mut plain, &mut s, node, t0).await?;
    let Some(tls) = tls else { return Err(("TLS asked for without a TLS configuration".into(), true, false)) };
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| (format!("TLS: bad server name {host}: {e}"), true, false))?;
    let mut secure = tls.connect(name, plain).await.map_err(|e| (format!("TLS handshake with the primary: {e}"), false, false))?;
    s.tls_established();
    let TlsRequested = pump(&mut secure, &mut s, node, t0).await?;
    Err(("TLS asked for twice".into(), true, false))
}

/// The session asked for TLS: the only way a pump ends without an error.
struct TlsRequested;

/// Drives the session over `stream` until it fails or asks for TLS.
async fn pump<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, s: &mut UpstreamSession, node: &Node, t0: Instant) -> Result<TlsRequested, (String, bool, bool)> {
    let store = &node.store;
    let now = || t0.elapsed().as_millis() as u64;
    let mut buf = vec![0u8; 4 << 20];
    let mut streamed = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_append = Instant::now();
    let mut batch = Vec::new();
    // The id of the last append in `batch`: committed once `append_batch` returns (on one
    // node, durable is committed).
    let mut batch_last: AppendId = 0;
    let mut acks = HeldAcks::new();
    let group_commit = node.group_commit();
    loop {
        while let Some(o) = s.poll_output() {
            // The store's operations run in stream order: a new file or a check follows the
            // appends before it. ACKs do not rely on this: they wait in `acks` for their own
            // append to be committed.
            if !matches!(o, UpstreamOutput::Append { .. } | UpstreamOutput::Ack { .. }) {
                commit(store, &mut batch, batch_last, &mut acks).map_err(|e| (format!("store: {e}"), true, streamed))?;
            }
            match o {
                UpstreamOutput::Send(b) => stream.write_all(&b).await.map_err(|e| (format!("write: {e}"), false, streamed))?,
                UpstreamOutput::StartTls => {
                    stream.flush().await.map_err(|e| (format!("write: {e}"), false, streamed))?;
                    return Ok(TlsRequested);
                }
                UpstreamOutput::Connected { server_version } => {
                    tracing::info!(%server_version, "upstream: logged in to the primary");
                    status(node, |st| {
                        st.io_running = "Yes".into();
                        st.io_state = "Waiting for master to send event".into();
                        st.last_io_errno = 0;
                        st.last_io_error.clear();
                    });
                }
                UpstreamOutput::Verify { file, offset, bytes } => {
                    let ours = store.read_sync(&file, offset, bytes.len()).map_err(|e| (format!("store: {e}"), true, streamed))?;
                    if !binraft_core::binlog::header::same_event(&ours, &bytes) {
                        return Err((
                            format!("the primary's {file} differs from binraft's at {offset}: its binlog history does not match the store's"),
                            true,
                            streamed,
                        ));
                    }
                }
                UpstreamOutput::NewFile { file } => {
                    store.create_file(&file).map_err(|e| (format!("store: create {file}: {e}"), true, streamed))?;
                    tracing::info!(%file, "upstream: new binlog file");
                }
                UpstreamOutput::Ack { after, bytes } => acks.hold(after, bytes),
                UpstreamOutput::Append { id, file, offset, bytes, info } => {
                    let (ts, server_id, end) = (u64::from(info.timestamp), info.server_id, offset + bytes.len() as u64);
                    batch.push((file.clone(), offset, bytes, info));
                    batch_last = id;
                    if !group_commit {
                        commit(store, &mut batch, batch_last, &mut acks).map_err(|e| (format!("store: {e}"), true, streamed))?;
                    }
                    streamed = true;
                    last_append = Instant::now();
                    status(node, |st| {
                        st.master_log_file = file.clone();
                        st.read_master_log_pos = end;
                        if ts > 0 {
                            st.seconds_behind_master = Some(now_secs().saturating_sub(ts));
                        }
                        if server_id != 0 {
                            st.master_server_id = server_id;
                        }
                    });
                }
                UpstreamOutput::Failed { reason, fatal } => return Err((reason, fatal, streamed)),
            }
            write_acks(stream, &mut acks).await.map_err(|e| (format!("write: {e}"), false, streamed))?;
        }
        // Nothing more to do until the primary sends more: make the batch durable and visible.
        let had = !batch.is_empty();
        commit(store, &mut batch, batch_last, &mut acks).map_err(|e| (format!("store: {e}"), true, streamed))?;
        write_acks(stream, &mut acks).await.map_err(|e| (format!("write: {e}"), false, streamed))?;
        if had {
            let pos = store.with_files(|f| f.last().map(|f| f.last_gtids.to_string()).unwrap_or_default());
            status(node, |st| st.gtid_io_pos = pos);
        }
        tokio::select! {
            n = stream.read(&mut buf) => {
                let n = n.map_err(|e| (format!("read: {e}"), false, streamed))?;
                if n == 0 {
                    return Err(("the primary closed the connection".into(), false, streamed));
                }
                s.handle_bytes(&buf[..n], now());
            }
            _ = tick.tick() => {
                if s.is_silent(now()) {
                    return Err(("the primary is silent (no heartbeat)".into(), false, streamed));
                }
                // Caught up: nothing new for a second.
                if last_append.elapsed() >= Duration::from_secs(1) {
                    status(node, |st| if st.io_running == "Yes" { st.seconds_behind_master = Some(0) });
                }
            }
        }
    }
}

type Batch = Vec<(String, u64, Vec<u8>, Box<binraft_core::store::index::Appended>)>;

/// Makes the batch durable, which on one node commits it up to `last`: the ACKs it covers may go.
fn commit(store: &crate::store::Store, batch: &mut Batch, last: AppendId, acks: &mut HeldAcks) -> std::io::Result<()> {
    store.append_batch(batch)?;
    acks.handle_committed(last);
    Ok(())
}

/// Writes the ACKs whose appends are committed.
async fn write_acks<S: AsyncWrite + Unpin>(stream: &mut S, acks: &mut HeldAcks) -> std::io::Result<()> {
    while let Some(ack) = acks.poll_ack() {
        stream.write_all(&ack).await?;
    }
    Ok(())
}
