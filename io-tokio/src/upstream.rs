//! The upstream driver: connects to the primary, drives the core's `UpstreamSession`, and
//! applies what it decides to the store. Reconnects forever, with a backoff bounded by
//! MASTER_CONNECT_RETRY (`UpstreamSettings::reconnect`); each session resumes
//! right after the last complete group stored. START/STOP SLAVE switch it on and off (stopping
//! drops the session: a transaction half received is never stored).

use crate::server::Node;
use binraft_core::upstream::{AppendId, HeldAcks, HistoryCheck, LastFile, UpstreamError, UpstreamOutput, UpstreamSession, UpstreamSettings};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connecting, logging in and setting up the stream must be done by then: a MariaDB replica
/// gives its primary slave_net_timeout, 60 s by default.
const LOGIN_TIMEOUT_MS: u64 = 60_000;

/// binraft's own replication: its settings (saved in `replication.toml`), what the session
/// reports (SHOW SLAVE STATUS), and what the supervisor runs. Shared by the node and, in a
/// cluster, by the state machine that carries out CHANGE MASTER and START/STOP from the log.
pub struct Replication {
    pub settings: std::sync::Mutex<Option<UpstreamSettings>>,
    pub status: std::sync::Mutex<binraft_core::primary::admin::ReplicaStatus>,
    pub target: crate::notify::Latest<Option<UpstreamSettings>>,
}

impl Replication {
    pub fn new(settings: Option<UpstreamSettings>) -> Replication {
        let target = crate::notify::Latest::new(settings.clone().filter(|r| r.running));
        Replication { settings: std::sync::Mutex::new(settings), status: std::sync::Mutex::default(), target }
    }

    /// The settings now.
    pub fn current(&self) -> Option<UpstreamSettings> {
        self.settings.lock().ok().and_then(|s| s.clone())
    }

    /// Carries out what a statement decided: the settings saved first (the ones run are always
    /// the saved ones), then the session and the status changed.
    pub fn carry_out(&self, disk: &dyn binraft_core::store::Disk, t: &binraft_core::upstream::settings::Transition) -> Result<(), String> {
        use binraft_core::upstream::settings::{Session, Status};
        let mut settings = self.settings.lock().map_err(|_| "internal: poisoned lock".to_string())?;
        if t.save {
            crate::config::save_replication(disk, t.settings.as_ref()).map_err(|e| format!("cannot save replication settings: {e}"))?;
        }
        match t.session {
            Session::Unchanged => {}
            Session::Start => self.target.set(t.settings.clone()),
            Session::Stop => self.target.set(None),
        }
        if let Ok(mut s) = self.status.lock() {
            match t.status {
                Status::Unchanged => {}
                Status::Stopped => {
                    s.io_running = "No".into();
                    s.io_state = String::new();
                }
                Status::Cleared => *s = Default::default(),
            }
        }
        *settings = t.settings.clone();
        Ok(())
    }
}

/// Runs replication whenever the target says so.
/// In a cluster, only while this node leads, and only once it has applied everything committed
/// before its term: it then pulls from its own store's end, and stops the moment it no longer
/// leads (what it had not committed is pulled again by the next leader).
pub async fn supervise(node: Arc<Node>) {
    loop {
        if let Some(c) = &node.cluster {
            c.until_leader_ready().await;
            tracing::info!(term = c.metrics().current_term, "raft: this node leads, with everything committed applied: it pulls from the primary");
        }
        let lost = async {
            match &node.cluster {
                Some(c) => c.leadership_lost().await,
                None => std::future::pending().await,
            }
        };
        let (current, mut changed) = node.replication.target.get();
        match current {
            // biased: an unbiased select! draws its order from tokio's thread-local RNG, which
            // the simulator does not seed: a run would not replay from its seed.
            None => tokio::select! {
                biased;
                _ = changed.changed() => {}
                _ = lost => tracing::info!("raft: no longer the leader"),
            },
            Some(r) => {
                tracing::info!(replication = ?r, "replication starts");
                tokio::select! {
                    biased;
                    _ = run(r, &node) => {}
                    _ = changed.changed() => tracing::info!("replication stops"),
                    _ = lost => tracing::info!("raft: no longer the leader: the pull stops"),
                }
            }
        }
    }
}

/// What a session in binraft's own layout checks a MariaDB primary's history by: every
/// transaction of the newest file holding one (read once, in chunks), and the GTID state at
/// that file's start.
fn history_check(store: &crate::store::Store) -> Option<HistoryCheck> {
    let files = store.files();
    let f = files.iter().rev().find(|f| f.mariadb && !f.last_gtids.is_empty())?;
    let mut from = binraft_core::gtid::MariaGtidPos::new();
    for g in &f.start_gtid_list {
        if from.get(g.domain).is_none_or(|x| x.seq < g.seq) {
            from.update(*g);
        }
    }
    let mut txns = binraft_core::upstream::session::HistoryTxns::default();
    let mut stream = binraft_core::binlog::decoder::StreamDecoder::for_events(binraft_core::binlog::decoder::Decoder::for_file().decode_rows(false), 4);
    let mut at = 4u64;
    while at < f.complete_end {
        let chunk = store.read_sync(&f.name, at, (f.complete_end - at).min(1 << 20) as usize).ok()?;
        if chunk.is_empty() {
            break;
        }
        at += chunk.len() as u64;
        stream.handle_bytes(&chunk);
        while let Some(ev) = stream.poll_event() {
            txns.observe(&ev.ok()?);
        }
    }
    (!txns.txns.is_empty()).then(|| HistoryCheck { from_state: from.to_string(), txns: txns.txns })
}

fn status(node: &Node, f: impl FnOnce(&mut binraft_core::primary::admin::ReplicaStatus)) {
    if let Ok(mut s) = node.replication.status.lock() {
        f(&mut s);
    }
}

async fn run(r: UpstreamSettings, node: &Node) {
    let primary = format!("{}:{}", r.host, r.port);
    let cfg = r.session_config(node.server_id(), LOGIN_TIMEOUT_MS);
    let tls = if r.ssl {
        match crate::tls::connector(r.ssl_ca.as_deref().map(std::path::Path::new)) {
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
    let t0 = Instant::now();
    let now = || t0.elapsed().as_millis() as u64;
    // MASTER_CONNECT_RETRY bounds the wait between attempts.
    let mut reconnect = r.reconnect();
    // After TailMissing, one session by file and position fetches the end of the last file.
    let mut by_position_once = false;
    loop {
        if let Some(at) = reconnect.poll_timeout() {
            tokio::time::sleep_until(at_ms(t0, at)).await;
        }
        if !reconnect.handle_timeout(now()) {
            continue;
        }
        let resume = node.store.resume_point();
        status(node, |s| {
            s.io_running = "Connecting".into();
            s.io_state = "Connecting to master".into();
        });
        // After a change of primary, binraft's own layout goes on after its last file.
        let last = node.store.files().last().map(|f| LastFile { name: f.name.clone(), end: f.complete_end, checksum: f.checksum, next_file: f.next_file.clone().filter(|_| f.closed) });
        let check = if cfg.own_layout { history_check(&node.store) } else { None };
        let session_cfg = binraft_core::upstream::UpstreamConfig { use_gtid: cfg.use_gtid && !std::mem::take(&mut by_position_once), ..cfg.clone() };
        let mut s = UpstreamSession::new(session_cfg, resume.clone(), now()).with_stored(node.store.file_ends(), node.store.gtid_pos(), node.store.gtid_executed()).with_last_file(last, check);
        s.set_group_bytes_max(node.limits.upstream_group_bytes_max);
        let error = session(&mut s, &primary, tls.as_ref(), &r.host, node, t0).await;
        by_position_once = matches!(error, UpstreamError::TailMissing { .. });
        let wait = Duration::from_millis(reconnect.handle_session_end(now(), &error, s.appended_any() || by_position_once));
        status(node, |st| {
            st.last_io_errno = error.io_errno();
            st.last_io_error = error.to_string();
            st.seconds_behind_master = None;
        });
        if error.is_fatal() {
            tracing::error!(%primary, ?resume, "upstream: {error}; retrying in {wait:?}");
        } else {
            tracing::warn!(%primary, ?resume, "upstream: {error}; reconnecting in {wait:?}");
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A time on the driver's clock (ms since `t0`) as a tokio instant.
// A std Instant made a tokio one; on madsim the two are one type.
#[allow(clippy::useless_conversion)]
fn at_ms(t0: Instant, ms: u64) -> tokio::time::Instant {
    (t0 + Duration::from_millis(ms)).into()
}

/// The session's own reason once its deadline has passed (it has no other output waiting).
fn timed_out(s: &mut UpstreamSession, now_ms: u64) -> UpstreamError {
    s.handle_timeout(now_ms);
    std::iter::from_fn(|| s.poll_output())
        .find_map(|o| if let UpstreamOutput::Failed(e) = o { Some(e) } else { None })
        .unwrap_or(UpstreamError::LoginTimeout { timeout_ms: LOGIN_TIMEOUT_MS })
}

/// One session, from connecting to its end: why it ended. It starts on the plain socket and, if
/// the session asks for TLS, goes on over it. Connecting and the TLS handshake count against
/// the session's login deadline.
async fn session(s: &mut UpstreamSession, primary: &str, tls: Option<&tokio_rustls::TlsConnector>, host: &str, node: &Node, t0: Instant) -> UpstreamError {
    let now = || t0.elapsed().as_millis() as u64;
    let login_deadline = at_ms(t0, s.poll_timeout().unwrap_or(0));
    let mut plain = match crate::time::timeout_at(login_deadline, TcpStream::connect(primary)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return UpstreamError::Network { detail: format!("cannot connect: {e}") },
        Err(_) => return timed_out(s, now()),
    };
    if let Err(e) = pump(&mut plain, s, node, t0).await {
        return e;
    }
    let Some(tls) = tls else { return UpstreamError::TlsConfig { detail: "TLS asked for without a TLS configuration".into() } };
    let name = match tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(e) => return UpstreamError::TlsConfig { detail: format!("bad server name {host}: {e}") },
    };
    let mut secure = match crate::time::timeout_at(login_deadline, tls.connect(name, plain)).await {
        Ok(Ok(secure)) => secure,
        Ok(Err(e)) => return UpstreamError::TlsHandshake { detail: e.to_string() },
        Err(_) => return timed_out(s, now()),
    };
    s.tls_established();
    match pump(&mut secure, s, node, t0).await {
        Err(e) => e,
        Ok(TlsRequested) => UpstreamError::TlsConfig { detail: "TLS asked for twice".into() },
    }
}

fn network(what: &str, e: std::io::Error) -> UpstreamError {
    UpstreamError::Network { detail: format!("{what}: {e}") }
}

fn store_error(e: binraft_core::store::StoreError) -> UpstreamError {
    UpstreamError::Store { detail: e.to_string() }
}

/// The session asked for TLS: the only way a pump ends without an error.
struct TlsRequested;

/// Drives the session over `stream` until it fails or asks for TLS.
async fn pump<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, s: &mut UpstreamSession, node: &Node, t0: Instant) -> Result<TlsRequested, UpstreamError> {
    let store = &node.store;
    let now = || t0.elapsed().as_millis() as u64;
    let mut buf = vec![0u8; 4 << 20];
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
                commit(node, &mut batch, batch_last, &mut acks).await?;
            }
            match o {
                UpstreamOutput::Send(b) => stream.write_all(&b).await.map_err(|e| network("write", e))?,
                UpstreamOutput::StartTls => {
                    stream.flush().await.map_err(|e| network("write", e))?;
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
                    let ours = store.read_sync(&file, offset, bytes.len()).map_err(store_error)?;
                    if !binraft_core::binlog::header::same_event(&ours, &bytes) {
                        return Err(UpstreamError::HistoryDiffers { file, offset });
                    }
                }
                UpstreamOutput::NewFile { file } => {
                    match &node.cluster {
                        None => store.create_file(&file).map_err(|e| UpstreamError::Store { detail: format!("create {file}: {e}") })?,
                        Some(c) => {
                            c.propose(binraft_core::cluster::request::Request::CreateFile { name: file.clone() }).await.map_err(not_committed)?;
                        }
                    }
                    tracing::info!(%file, "upstream: new binlog file");
                }
                UpstreamOutput::Ack { after, bytes } => {
                    #[cfg(madsim)]
                    if crate::planted::has(crate::planted::Bug::AckBeforeCommit) {
                        stream.write_all(&bytes).await.map_err(|e| network("write", e))?;
                        stream.flush().await.map_err(|e| network("write", e))?;
                        continue;
                    }
                    acks.hold(after, bytes)
                }
                UpstreamOutput::AppendPart { file, offset, bytes } => {
                    // Durable now, shown with the group's last piece; never held whole here.
                    let part = Box::new(binraft_core::store::index::Appended::part());
                    let mut piece = vec![(file, offset, bytes, part)];
                    match &node.cluster {
                        None => store.append_batch(&mut piece).map_err(store_error)?,
                        Some(c) => c.propose_groups(&mut piece).await.map_err(not_committed)?,
                    }
                }
                UpstreamOutput::Append { id, file, offset, bytes, info } => {
                    let (ts, server_id, end) = (u64::from(info.timestamp), info.server_id, offset + bytes.len() as u64);
                    batch.push((file.clone(), offset, bytes, info));
                    batch_last = id;
                    if !group_commit {
                        commit(node, &mut batch, batch_last, &mut acks).await?;
                    }
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
                UpstreamOutput::Failed(e) => return Err(e),
            }
            write_acks(stream, &mut acks).await.map_err(|e| network("write", e))?;
        }
        // Nothing more to do until the primary sends more: make the batch durable and visible.
        let had = !batch.is_empty();
        commit(node, &mut batch, batch_last, &mut acks).await?;
        write_acks(stream, &mut acks).await.map_err(|e| network("write", e))?;
        if had {
            let pos = store.with_files(|f| f.last().map(|f| f.last_gtids.to_string()).unwrap_or_default());
            status(node, |st| st.gtid_io_pos = pos);
        }
        stream.flush().await.map_err(|e| network("write", e))?;
        // The session's deadline (login, then the primary's silence); none once it failed, and
        // then its Failed output is already waiting.
        let deadline = s.poll_timeout();
        let wake = async {
            match deadline {
                Some(ms) => tokio::time::sleep_until(at_ms(t0, ms)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            n = stream.read(&mut buf) => {
                let n = n.map_err(|e| network("read", e))?;
                if n == 0 {
                    return Err(UpstreamError::Closed);
                }
                s.handle_bytes(&buf[..n], now());
            }
            _ = wake => s.handle_timeout(now()),
            _ = tick.tick() => {
                // Caught up: nothing new for a second.
                if last_append.elapsed() >= Duration::from_secs(1) {
                    status(node, |st| if st.io_running == "Yes" { st.seconds_behind_master = Some(0) });
                }
            }
        }
    }
}

type Batch = Vec<binraft_core::store::binlogs::Append>;

/// Commits the batch up to `last`: on one node by making it durable, in a cluster by Raft (on a
/// majority, durably). Only then may the ACKs it covers go.
async fn commit(node: &Node, batch: &mut Batch, last: AppendId, acks: &mut HeldAcks) -> Result<(), UpstreamError> {
    let started = (!batch.is_empty()).then(Instant::now);
    match &node.cluster {
        None => node.store.append_batch(batch).map_err(store_error)?,
        Some(c) => {
            #[cfg(madsim)]
            if crate::planted::has(crate::planted::Bug::ServeUncommitted) && !batch.is_empty() {
                node.store.apply_logged(batch.clone()).map_err(store_error)?;
            }
            c.propose_groups(batch).await.map_err(not_committed)?
        }
    }
    if let Some(t) = started {
        node.commit_seconds.observe(t.elapsed().as_secs_f64());
    }
    acks.handle_committed(last);
    Ok(())
}

fn not_committed(e: crate::cluster::ProposeError) -> UpstreamError {
    UpstreamError::NotCommitted { detail: e.to_string() }
}

/// Writes the ACKs whose appends are committed.
async fn write_acks<S: AsyncWrite + Unpin>(stream: &mut S, acks: &mut HeldAcks) -> std::io::Result<()> {
    while let Some(ack) = acks.poll_ack() {
        stream.write_all(&ack).await?;
    }
    Ok(())
}
