//! `binraft run`: the node's MySQL port. Each connection is a task driving the core's
//! `ServerConn` (handshake, auth, commands) and, once the client asks for the binlog, a `Dump`
//! over the store. Everything decided lives in core; this file moves bytes and waits.
//!
//! The limits (`config::Limits`): at most `connections_max` connections (the next get 1040); a
//! login within `login_timeout_ms`, then a command at least every `idle_timeout_ms` (core's
//! `ServerConn` keeps both deadlines); a dump write within `dump_write_timeout_ms`. An accept
//! error (out of file descriptors) pauses the accept loop, 10 ms doubling to 1 s.

use crate::config::{Args, Limits, Settings};
use binraft_core::store::Disk;
use crate::store::Store;
use binraft_core::primary::admin;
use binraft_core::mysql::auth::StoredPassword;
use binraft_core::mysql::command::Command;
use binraft_core::mysql::errors::{ServerError, ER_NO_SUCH_THREAD};
use binraft_core::mysql::server::{refusal, CloseReason, Output, ServerConfig, ServerConn};
use binraft_core::primary::dump::{Dump, DumpOutput};
use binraft_core::primary::dump_request::{DumpCommand, DumpRequest};
use binraft_core::primary::{answer, Reply, ServerInfo, Session};
use rand::RngCore;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What connections share.
pub struct Node {
    pub store: Store,
    server_id: u32,
    version: String,
    conn_config: Arc<ServerConfig>,
    admins: Vec<String>,
    next_conn: AtomicU32,
    replicas: Mutex<BTreeMap<u32, (u32, String, u16)>>,
    /// The file each dumping connection is reading, so that PURGE spares it (in a cluster,
    /// the other members ask for it too).
    pub(crate) dump_files: Readers,
    /// Every open connection, so that KILL can end it; their number is held to
    /// `connections_max`.
    connections: Mutex<BTreeMap<u32, Connection>>,
    pub(crate) limits: Limits,
    /// The origin of the milliseconds the connections' deadlines are counted in.
    epoch: Instant,
    /// binraft's own replication: settings (persisted), what the upstream reports, what runs.
    pub replication: Arc<crate::upstream::Replication>,
    group_commit: bool,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// The Raft cluster this node is a member of (None: a single node, its own store's writer).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// How long what the upstream received takes to be committed: durable here on one node, on
    /// a majority in a cluster (`/metrics`: `binraft_commit_seconds`).
    pub commit_seconds: prometheus_client::metrics::histogram::Histogram,
}

/// The buckets of [`Node::commit_seconds`]: from 50 µs up by a quarter each, to about 1.7 s.
pub fn commit_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.000_05, 1.25, 48)
}

/// The file each dumping connection of a node is reading, by connection id.
pub type Readers = Arc<Mutex<BTreeMap<u32, String>>>;

/// An open connection: its task, and its user once authenticated.
struct Connection {
    task: tokio::task::AbortHandle,
    user: Option<String>,
}

/// A run of failures, logged once when it starts and once when it ends.
#[derive(Default)]
struct Burst {
    failures: u64,
}

impl Burst {
    /// Counts a failure; true for the first of a run.
    fn fail(&mut self) -> bool {
        self.failures += 1;
        self.failures == 1
    }

    /// Ends the run, if any: how many failures it had.
    fn end(&mut self) -> Option<u64> {
        (self.failures > 0).then(|| std::mem::take(&mut self.failures))
    }

    /// The pause after the run's latest failure: 10 ms, doubling up to 1 s.
    fn backoff(&self) -> Duration {
        Duration::from_millis(10 << self.failures.saturating_sub(1).min(7)).min(Duration::from_secs(1))
    }
}

/// How long the 1040 refusal of a connection over `connections_max` may take to write.
const REFUSAL_WRITE_MS: u64 = 1000;

const READ_CHUNK: usize = 1 << 20;
/// A dump writes what it has gathered once it reaches this much, or when it waits.
const WRITE_BATCH: usize = 256 * 1024;

/// `binraft run`: the node on the data directory and the MySQL port its settings name.
pub async fn run(args: Args) -> Result<(), String> {
    let settings = args.resolve()?;
    let disk = crate::disk::StdDisk::open(&settings.data_dir).map_err(|e| format!("store {}: {e}", settings.data_dir.display()))?;
    let listener = TcpListener::bind(settings.listen).await.map_err(|e| format!("listen on {}: {e}", settings.listen))?;
    start(settings, Arc::new(disk), listener).await
}

/// A node over `disk` (its store and `replication.toml`), serving `listener`: runs until an
/// error stops it, or until the future is dropped. In-process tests and the simulator start
/// nodes with this.
pub async fn start(settings: Settings, disk: Arc<dyn Disk>, listener: TcpListener) -> Result<(), String> {
    // A cluster member's store is written only by applying the Raft log, which is its journal:
    // taken back to its last checkpoint first, it opens without a journal of its own.
    let restored = match &settings.cluster {
        Some(_) => Some(crate::cluster::state_machine::open_store(&disk)?),
        None => None,
    };
    let journal_bytes = if settings.cluster.is_some() { 0 } else { settings.journal_bytes };
    let store = Store::open_on(Arc::clone(&disk), journal_bytes).map_err(|e| format!("store {}: {e}", settings.data_dir.display()))?;
    // A single node: replication from the command line or config file replaces what CHANGE
    // MASTER TO saved. A cluster member: the settings are the log's, as of its last checkpoint
    // (the log applied again after it brings them forward); the flags only seed a member that
    // has applied nothing durably yet, as they seeded every member of a new cluster.
    let replication = match &restored {
        Some(restored) => match (&restored.replication, restored.applied) {
            (Some(decided), _) => {
                if settings.primary.is_some() && decided.as_ref() != settings.primary.as_ref() {
                    tracing::info!("keeping the replication settings the cluster decided; --primary flags only seed a member that has none");
                }
                decided.clone()
            }
            // A checkpoint written before checkpoints carried the settings.
            (None, Some(_)) => crate::config::load_replication(store.disk().as_ref())?,
            (None, None) => settings.primary.clone(),
        },
        None => match (&settings.primary, crate::config::load_replication(store.disk().as_ref())?) {
            (Some(r), saved) => {
                // Another primary than the saved one is a change of primary, as by CHANGE
                // MASTER TO; binraft's own layout, once begun, goes on.
                let mut r = r.clone();
                if let Some(s) = saved.filter(|s| !s.host.is_empty()) {
                    r.own_layout = s.own_layout || (s.host.as_str(), s.port) != (r.host.as_str(), r.port);
                }
                if r.own_layout && !r.use_gtid {
                    return Err(format!("the primary {}:{} is not the one this store was pulled from: a new primary is followed by GTID (--primary-use-gtid)", r.host, r.port));
                }
                crate::config::save_replication(store.disk().as_ref(), Some(&r)).map_err(|e| format!("saving replication settings: {e}"))?;
                Some(r)
            }
            (None, saved) => saved,
        },
    };
    let replication = Arc::new(crate::upstream::Replication::new(replication));
    let dump_files = Readers::default();
    let cluster = match (&settings.cluster, &restored) {
        (Some(c), Some(restored)) => {
            let raft_listener = TcpListener::bind(c.raft_listen).await.map_err(|e| format!("raft port {}: {e}", c.raft_listen))?;
            let limits = &settings.limits;
            Some(crate::cluster::Cluster::start(c, Arc::clone(&disk), store.clone(), restored, raft_listener, limits.upstream_group_bytes_max, Arc::clone(&replication), Arc::clone(&dump_files)).await?)
        }
        _ => None,
    };
    let users: Vec<(String, StoredPassword)> =
        settings.users.iter().chain(&settings.admins).map(|(u, p)| (u.clone(), StoredPassword::from_plain(p))).collect();
    let primary_version = store.files().last().map(|f| f.server_version.clone()).filter(|v| !v.is_empty()).unwrap_or_else(|| "10.11.19-MariaDB".into());
    let base = primary_version.trim_end_matches("-log");
    let version = format!("{base}-binraft-log");
    let mariadb = store.files().last().is_none_or(|f| f.mariadb);
    // MariaDB servers prefix 5.5.5- in the greeting so that old clients accept them.
    let greeting_version = if mariadb { format!("5.5.5-{version}") } else { version.clone() };
    let tls = match &settings.tls {
        Some((cert, key)) => Some(crate::tls::acceptor(cert, key)?),
        None => None,
    };
    let conn_config = Arc::new(ServerConfig {
        server_version: greeting_version,
        users,
        packet_bytes_max: settings.limits.packet_bytes_max,
        handshake_bytes_max: settings.limits.handshake_bytes_max,
        login_timeout_ms: settings.limits.login_timeout_ms,
        idle_timeout_ms: settings.limits.idle_timeout_ms,
        tls: tls.is_some(),
        require_tls: settings.require_tls,
    });
    let node = Arc::new(Node {
        store,
        server_id: settings.server_id,
        version,
        conn_config,
        admins: settings.admins.iter().map(|(u, _)| u.clone()).collect(),
        next_conn: AtomicU32::new(1),
        replicas: Mutex::new(BTreeMap::new()),
        dump_files,
        connections: Mutex::new(BTreeMap::new()),
        limits: settings.limits,
        epoch: Instant::now(),
        replication,
        group_commit: settings.group_commit,
        tls,
        cluster,
        commit_seconds: prometheus_client::metrics::histogram::Histogram::new(commit_buckets()),
    });
    {
        let node = Arc::clone(&node);
        tokio::spawn(async move { crate::upstream::supervise(node).await });
    }
    if !settings.retention.is_off() {
        tokio::spawn(crate::admin::retain(Arc::clone(&node), settings.retention));
    }
    #[cfg(not(madsim))]
    if let Some(addr) = settings.http_listen {
        let http = TcpListener::bind(addr).await.map_err(|e| format!("http api {addr}: {e}"))?;
        tracing::info!(%addr, "http api serving");
        tokio::spawn(crate::http::serve(http, Arc::clone(&node)));
    }
    tracing::info!(listen = %settings.listen, files = node.store.files().len(), server_id = node.server_id, "binraft serving");
    let (mut accept_errors, mut refused) = (Burst::default(), Burst::default());
    // A member whose Raft stopped (its disk failed a write or a sync, or an entry would not
    // apply) serves nothing more: it ends, so that its replicas go to the other members and a
    // restart recovers it from what its disk holds (after a failed fsync, nothing in memory is
    // to be trusted).
    let stopped = async {
        match &node.cluster {
            Some(c) => c.wait_stopped().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stopped);
    loop {
        let accepted = tokio::select! {
            biased;
            why = &mut stopped => {
                tracing::error!("raft stopped on this node: {why}; binraft exits, and a restart recovers it from its disk");
                return Err(format!("raft stopped on this node: {why}"));
            }
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors (EMFILE) the listener stays ready: pause, or spin.
                if accept_errors.fail() {
                    tracing::warn!("accept failed: {e}; retrying after 10 ms, doubling up to 1 s, until it works again");
                }
                tokio::time::sleep(accept_errors.backoff()).await;
                continue;
            }
        };
        if let Some(n) = accept_errors.end() {
            tracing::info!("accept works again after {n} failures");
        }
        let mut connections = node.connections();
        if connections.len() >= node.limits.connections_max {
            drop(connections);
            if refused.fail() {
                tracing::warn!(%peer, "connections_max {} reached: new connections get error 1040", node.limits.connections_max);
            }
            // A fresh socket's send buffer takes these few bytes at once; closing follows. Off
            // the accept loop, and bounded, should the peer not read.
            let mut stream = stream;
            tokio::spawn(async move {
                let due = tokio::time::Instant::now() + Duration::from_millis(REFUSAL_WRITE_MS);
                let _ = crate::time::timeout_at(due, stream.write_all(&refusal(&ServerError::too_many_connections()))).await;
            });
            continue;
        }
        if let Some(n) = refused.end() {
            tracing::info!("connections below connections_max again; {n} refused");
        }
        let id = node.next_conn.fetch_add(1, Ordering::Relaxed);
        let task_node = Arc::clone(&node);
        // Spawned under the lock, so that the task's `forget` comes after this insert.
        let task = tokio::spawn(async move {
            let node = task_node;
            match serve(stream, peer, id, &node).await {
                Ok(reason) => tracing::info!(%peer, conn = id, "connection closed: {reason}"),
                Err(e) => tracing::info!(%peer, conn = id, "connection ended: {e}"),
            }
            node.forget(id);
        });
        connections.insert(id, Connection { task: task.abort_handle(), user: None });
    }
}

/// Seconds, rounded up, as MariaDB's timeout variables count them.
fn secs_ceil(ms: u64) -> String {
    ms.div_ceil(1000).to_string()
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Node {
    pub fn server_id(&self) -> u32 {
        self.server_id
    }

    /// Whether `user` is an admin and `password` is theirs.
    pub fn is_admin_password(&self, user: &str, password: &str) -> bool {
        if !self.admins.iter().any(|a| a == user) {
            return false;
        }
        let given = StoredPassword::from_plain(password);
        self.conn_config.users.iter().any(|(u, p)| u == user && *p == given)
    }

    pub fn group_commit(&self) -> bool {
        self.group_commit
    }

    /// Milliseconds since the node started: the clock of the connections' deadlines.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    // A std Instant made a tokio one; on madsim the two are one type.
    #[allow(clippy::useless_conversion)]
    fn instant_of(&self, ms: u64) -> tokio::time::Instant {
        (self.epoch + Duration::from_millis(ms)).into()
    }

    /// Open connections, and how many of them are dumps (replicas and binlog clients).
    pub fn connection_counts(&self) -> (usize, usize) {
        let dumps = self.dump_files.lock().map(|d| d.len()).unwrap_or(0);
        (self.connections().len(), dumps)
    }

    fn connections(&self) -> MutexGuard<'_, BTreeMap<u32, Connection>> {
        self.connections.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget(&self, id: u32) {
        self.replicas.lock().map(|mut r| r.remove(&id)).ok();
        self.dump_files.lock().map(|mut r| r.remove(&id)).ok();
        self.connections().remove(&id);
    }

    /// KILL by `user`: ends connection `id`, a dump included. Only admins end other users'.
    fn kill(&self, id: u64, user: &str, is_admin: bool) -> Result<(), ServerError> {
        let mut connections = self.connections();
        let target = u32::try_from(id).ok().filter(|i| connections.contains_key(i));
        let Some(target) = target else {
            return Err(ServerError::new(ER_NO_SUCH_THREAD, b"HY000", format!("Unknown thread id: {id}")));
        };
        if !is_admin && connections.get(&target).and_then(|c| c.user.as_deref()) != Some(user) {
            return Err(ServerError::not_owner_of_thread(id));
        }
        if let Some(c) = connections.remove(&target) {
            c.task.abort();
        }
        drop(connections);
        self.forget(target);
        tracing::info!(conn = id, by = user, "connection killed");
        Ok(())
    }

    fn info(&self, conn: u32) -> ServerInfo {
        let files = self.store.files();
        let files = &files;
        let pos = self.store.gtid_pos();
        let gtid_executed = self.store.gtid_executed();
        let checksum = files.last().map_or("CRC32", |f| f.checksum.name());
        let mut v = BTreeMap::new();
        let mut set = |k: &str, val: String| {
            v.insert(k.to_string(), val);
        };
        set("server_id", self.server_id.to_string());
        set("version", self.version.clone());
        set("version_comment", "binraft".into());
        set("binlog_checksum", checksum.into());
        set("log_bin", "ON".into());
        set("binlog_format", "ROW".into());
        set("binlog_row_image", "FULL".into());
        set("binlog_row_metadata", "FULL".into());
        set("gtid_domain_id", "0".into());
        set("gtid_strict_mode", "ON".into());
        set("gtid_binlog_pos", pos.clone());
        set("gtid_current_pos", pos.clone());
        set("gtid_slave_pos", String::new());
        set("gtid_binlog_state", pos);
        set("gtid_mode", if gtid_executed.is_empty() { "OFF".into() } else { "ON".into() });
        set("gtid_executed", gtid_executed.to_string());
        set("gtid_purged", files.first().map(|f| f.previous_gtids.to_string()).unwrap_or_default());
        set("server_uuid", binraft_core::gtid::mysql::Uuid::of_server_id(self.server_id).to_string());
        set("rpl_semi_sync_master_enabled", "ON".into());
        // The limits, as MariaDB names them: what is reported is what is enforced.
        set("max_allowed_packet", self.limits.packet_bytes_max.to_string());
        set("max_connections", self.limits.connections_max.to_string());
        set("connect_timeout", secs_ceil(self.limits.login_timeout_ms));
        set("wait_timeout", secs_ceil(self.limits.idle_timeout_ms));
        set("interactive_timeout", secs_ceil(self.limits.idle_timeout_ms));
        set("net_write_timeout", secs_ceil(self.limits.dump_write_timeout_ms));
        set("lower_case_table_names", "0".into());
        set("character_set_server", "utf8mb4".into());
        set("collation_server", "utf8mb4_general_ci".into());
        set("time_zone", "SYSTEM".into());
        set("system_time_zone", "UTC".into());
        set("autocommit", "ON".into());
        let replicas = self.replicas.lock().map(|r| r.values().cloned().collect()).unwrap_or_default();
        let mut tables = BTreeMap::new();
        for f in files.iter() {
            tables.extend(f.tables.iter().map(|(k, t)| (k.clone(), Arc::clone(t))));
        }
        let replica_settings = self.replication.settings.lock().ok().and_then(|r| r.clone());
        let mut replica_status = self.replication.status.lock().map(|s| s.clone()).unwrap_or_default();
        replica_status.executed_gtid_set = gtid_executed.to_string();
        ServerInfo {
            replica_settings,
            replica_status,
            tables,
            variables: v,
            binlogs: files.iter().map(|f| (f.name.clone(), f.complete_end)).collect(),
            now: now_secs(),
            connection_id: conn,
            replicas,
            gtid_pos_of: BTreeMap::new(),
        }
    }
}

async fn write_outputs<S: AsyncWrite + Unpin>(conn: &mut ServerConn, stream: &mut S) -> std::io::Result<Option<Output>> {
    while let Some(o) = conn.poll_output() {
        match o {
            Output::Send(b) => stream.write_all(&b).await?,
            other => return Ok(Some(other)),
        }
    }
    stream.flush().await?;
    Ok(None)
}

/// Where a connection's command loop ended.
enum Step {
    Closed(String),
    StartTls,
    /// A dump, and whether its events carry the semi-sync header.
    Dump(Box<Dump>, bool),
}

/// A connection's state between its phases (before and after TLS, then the dump).
struct Conn {
    conn: ServerConn,
    session: Session,
    user: String,
    is_admin: bool,
}

async fn serve(stream: TcpStream, peer: SocketAddr, id: u32, node: &Node) -> std::io::Result<String> {
    stream.set_nodelay(true)?;
    let mut scramble = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut scramble);
    let conn = ServerConn::new(Arc::clone(&node.conn_config), id, scramble, peer.to_string(), node.now_ms());
    let mut c = Conn { conn, session: Session::default(), user: String::new(), is_admin: false };
    let mut plain = stream;
    match drive(&mut plain, &mut c, peer, id, node).await? {
        Step::Closed(reason) => Ok(reason),
        Step::Dump(dump, semi_sync) => stream_dump(*dump, semi_sync, c.conn, plain, id, node).await,
        Step::StartTls => {
            let Some(acceptor) = node.tls.clone() else { return Ok("TLS requested without TLS configured".into()) };
            // The TLS handshake is part of the login, and held to its deadline.
            let login_due = node.instant_of(c.conn.poll_timeout().unwrap_or_default());
            let mut tls = match crate::time::timeout_at(login_due, acceptor.accept(plain)).await {
                Ok(tls) => tls.map_err(|e| std::io::Error::other(format!("TLS handshake: {e}")))?,
                Err(_) => return Ok(format!("{} (in the TLS handshake)", CloseReason::LoginTimeout { ms: node.limits.login_timeout_ms })),
            };
            tracing::debug!(%peer, conn = id, "TLS established");
            match drive(&mut tls, &mut c, peer, id, node).await? {
                Step::Closed(reason) => Ok(reason),
                Step::Dump(dump, semi_sync) => stream_dump(*dump, semi_sync, c.conn, tls, id, node).await,
                Step::StartTls => Ok("TLS requested twice".into()),
            }
        }
    }
}

/// Runs the command phase on `stream` until the connection closes, asks for TLS, or dumps.
/// Each round (writing the replies, reading the next bytes) is held to the connection's
/// deadline: a client that neither sends nor takes anything by then is closed.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, c: &mut Conn, peer: SocketAddr, id: u32, node: &Node) -> std::io::Result<Step> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let due = c.conn.poll_timeout().map(|ms| node.instant_of(ms));
        let round = round(stream, c, &mut buf, peer, id, node);
        let done = match due {
            Some(due) => crate::time::timeout_at(due, round).await,
            None => Ok(round.await),
        };
        match done {
            Ok(Ok(Some(step))) => return Ok(step),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                c.conn.handle_timeout(node.now_ms());
                if c.conn.is_closed() {
                    // What was left to write is dropped: the client took nothing.
                    while let Some(o) = c.conn.poll_output() {
                        if let Output::Close { reason } = o {
                            return Ok(Step::Closed(reason.to_string()));
                        }
                    }
                }
            }
        }
    }
}

/// Writes what the connection has to send and answers its commands, then reads once; the
/// step that ends the phase, if one does.
async fn round<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, c: &mut Conn, buf: &mut [u8], peer: SocketAddr, id: u32, node: &Node) -> std::io::Result<Option<Step>> {
    while let Some(o) = write_outputs(&mut c.conn, stream).await? {
        match o {
            Output::Authenticated { user, .. } => {
                c.is_admin = node.admins.contains(&user);
                tracing::info!(%peer, conn = id, %user, admin = c.is_admin, "authenticated");
                if let Some(entry) = node.connections().get_mut(&id) {
                    entry.user = Some(user.clone());
                }
                c.user = user;
            }
            Output::Close { reason } => {
                stream.flush().await?;
                return Ok(Some(Step::Closed(reason.to_string())));
            }
            Output::StartTls => return Ok(Some(Step::StartTls)),
            Output::Command(cmd) => {
                if let Some((dump, semi_sync)) = command(cmd, c, node, id, peer).await {
                    return Ok(Some(Step::Dump(Box::new(dump), semi_sync)));
                }
            }
            Output::Send(_) => {}
        }
    }
    let n = stream.read(buf).await?;
    if n == 0 {
        return Ok(Some(Step::Closed("client disconnected".into())));
    }
    c.conn.handle_bytes(&buf[..n], node.now_ms());
    Ok(None)
}

/// Answers one command; returns a dump (and whether it is semi-sync) when the client asked for
/// the binlog.
async fn command(cmd: Command, c: &mut Conn, node: &Node, id: u32, peer: SocketAddr) -> Option<(Dump, bool)> {
    let (conn, session, is_admin) = (&mut c.conn, &mut c.session, c.is_admin);
    match cmd {
        Command::Query(q) if admin::parse(&q).is_some() => {
            let result = match admin::parse(&q) {
                Some(Ok(cmd)) if is_admin => node.admin(cmd).await,
                Some(Ok(_)) => Err(ServerError::new(1227, b"42000", "Access denied; you need (at least one of) the SUPER, REPLICATION SLAVE ADMIN privilege(s) for this operation")),
                Some(Err(e)) => Err(e),
                None => Ok(()),
            };
            match result {
                Ok(()) => conn.send_ok(0, 0),
                Err(e) => {
                    tracing::info!(%peer, conn = id, code = e.code, "admin statement refused: {}", e.message);
                    conn.send_err(&e);
                }
            }
            None
        }
        Command::Query(q) if binraft_core::primary::show_events::parse(&q).is_some() => {
            match binraft_core::primary::show_events::parse(&q) {
                Some(Ok(req)) => match node.show_binlog_events(&req) {
                    Ok(rs) => conn.send_result_set(&rs),
                    Err(e) => conn.send_err(&e),
                },
                Some(Err(e)) => conn.send_err(&e),
                None => {}
            }
            None
        }
        Command::Query(q) => {
            let mut info = node.info(id);
            if let Some((file, pos)) = crate::admin::binlog_gtid_pos_args(&q) {
                if let Some(p) = node.gtid_pos_at(&file, pos) {
                    info.gtid_pos_of.insert((file, pos), p);
                }
            }
            match answer(&q, &info, session) {
                Reply::Rows(rs) => conn.send_result_set(&rs),
                Reply::Ok => conn.send_ok(0, 0),
                Reply::Kill(target) => match node.kill(target, &c.user, is_admin) {
                    Ok(()) => conn.send_ok(0, 0),
                    Err(e) => conn.send_err(&e),
                },
                Reply::Err(e) => {
                    tracing::info!(%peer, conn = id, code = e.code, "query refused: {:.200}", binraft_core::primary::redact::redact(&q));
                    conn.send_err(&e);
                }
            }
            None
        }
        Command::Ping | Command::InitDb(_) => {
            conn.send_ok(0, 0);
            None
        }
        Command::RegisterSlave(r) => {
            let host = if r.host.is_empty() { peer.ip().to_string() } else { r.host.clone() };
            node.replicas.lock().map(|mut m| m.insert(id, (r.server_id, host, r.port))).ok();
            conn.send_ok(0, 0);
            None
        }
        Command::BinlogDump(d) => start_dump(DumpCommand::FilePos(&d), conn, session, node, id, peer),
        Command::BinlogDumpGtid(d) => start_dump(DumpCommand::Gtid(&d), conn, session, node, id, peer),
        Command::Quit => None,
        Command::Other(cmd) => {
            conn.send_err(&ServerError::unknown_command(cmd));
            None
        }
    }
}

/// A dump of what `command` and the session's variables ask for, or the error sent instead.
fn start_dump(command: DumpCommand<'_>, conn: &mut ServerConn, session: &Session, node: &Node, id: u32, peer: SocketAddr) -> Option<(Dump, bool)> {
    let planned = DumpRequest::read(command, &session.user_vars, node.server_id).and_then(|r| {
        let (start, semi_sync, replica_id) = (r.start.clone(), r.semi_sync, r.replica_server_id);
        Dump::new(r.start, node.store.files(), r.config).map(|dump| (dump, start, semi_sync, replica_id))
    });
    match planned {
        Ok((dump, start, semi_sync, replica_id)) => {
            tracing::info!(%peer, conn = id, replica_server_id = replica_id, %start, semi_sync, "binlog dump starts");
            Some((dump, semi_sync))
        }
        Err(e) => {
            tracing::info!(%peer, conn = id, "binlog dump refused: {}", e.message);
            conn.send_err(&e);
            None
        }
    }
}

/// A dump's side of the socket: every write is held to `dump_write_timeout_ms`, so that a
/// replica that stops reading is cut off (its task ends, and with it its hold on the store).
struct DumpWriter<W> {
    wr: W,
    timeout_ms: u64,
}

impl<W: AsyncWrite + Unpin> DumpWriter<W> {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let wr = &mut self.wr;
        let write = async move {
            wr.write_all(bytes).await?;
            wr.flush().await
        };
        match tokio::time::timeout(Duration::from_millis(self.timeout_ms), write).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("the replica took nothing for dump_write_timeout_ms {}", self.timeout_ms))),
        }
    }

    /// Writes what `conn` has to send.
    async fn write_outputs(&mut self, conn: &mut ServerConn) -> std::io::Result<()> {
        while let Some(Output::Send(b)) = conn.poll_output() {
            self.write(&b).await?;
        }
        Ok(())
    }
}

/// Streams a dump until the client goes away. Between the dump's outputs it waits for the store
/// to grow, for the dump's heartbeat deadline, or for the replica; `semi_sync` events carry the
/// semi-sync header (binraft asks for an ACK at each transaction's end and waits on none: its
/// own durability does not depend on them).
async fn stream_dump<S: AsyncRead + AsyncWrite + Unpin>(mut dump: Dump, semi_sync: bool, mut conn: ServerConn, stream: S, id: u32, node: &Node) -> std::io::Result<String> {
    conn.ignore_input();
    let (mut rd, wr) = tokio::io::split(stream);
    let mut out = DumpWriter { wr, timeout_ms: node.limits.dump_write_timeout_ms };
    let mut scratch = [0u8; 512];
    let mut changes = node.store.subscribe();
    // Events are gathered and written together: one write per read of the store, not per event.
    let mut pending: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        while let Some(o) = dump.poll_output(node.now_ms()) {
            match o {
                DumpOutput::Event { bytes, ends_group } => {
                    conn.event_into(&mut pending, &bytes, semi_sync.then_some(ends_group));
                    if pending.len() >= WRITE_BATCH {
                        out.write(&pending).await?;
                        pending.clear();
                    }
                }
                DumpOutput::Read { file, offset, len } => {
                    if let Ok(mut d) = node.dump_files.lock() {
                        if d.get(&id) != Some(&file) {
                            d.insert(id, file.clone());
                        }
                    }
                    let (bytes, at_end) = node.store.read(&file, offset, len.unwrap_or(READ_CHUNK)).await?;
                    dump.handle_shared(bytes, at_end);
                }
                DumpOutput::Wait => {}
                DumpOutput::Eof => {
                    conn.send_eof();
                    return end_dump(&mut out, &mut pending, &mut conn, "non-blocking dump reached the end".into()).await;
                }
                DumpOutput::Error(e) => {
                    conn.send_err(&e);
                    return end_dump(&mut out, &mut pending, &mut conn, format!("dump failed: {}", e.message)).await;
                }
            }
        }
        // Everything gathered goes out before the dump waits (a TLS stream holds what it was
        // given until flushed).
        if !pending.is_empty() {
            out.write(&pending).await?;
            pending.clear();
        }
        let heartbeat_due = dump.poll_timeout().map(|ms| node.instant_of(ms));
        tokio::select! {
            biased;
            _ = changes.changed() => {
                dump.update_files(node.store.files());
                dump.resume();
            }
            _ = sleep_until(heartbeat_due) => dump.handle_timeout(node.now_ms()),
            n = rd.read(&mut scratch) => {
                if n? == 0 {
                    return Ok(format!("replica on connection {id} disconnected"));
                }
                dump.resume();
            }
        }
    }
}

/// Sleeps until `due`; forever without one.
async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// The last of a dump: what was gathered, then what `conn` has to send (its EOF or error).
async fn end_dump<W: AsyncWrite + Unpin>(out: &mut DumpWriter<W>, pending: &mut Vec<u8>, conn: &mut ServerConn, reason: String) -> std::io::Result<String> {
    if !pending.is_empty() {
        out.write(pending).await?;
        pending.clear();
    }
    out.write_outputs(conn).await?;
    Ok(reason)
}
