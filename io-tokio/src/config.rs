//! The node's settings: command-line flags, over a TOML file (`--config`), over defaults. And
//! the replication settings a DBA sets with CHANGE MASTER TO, kept in the data directory.

use binraft_core::upstream::settings::CONNECT_RETRY_S_DEFAULT;
use binraft_core::upstream::UpstreamSettings;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// `binraft run` flags. Each also has a key of the same name (with `_`) in the config file.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Args {
    /// A TOML file with any of the settings below.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The store directory [default: binraft-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address of the MySQL port [default: 127.0.0.1:3307].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// This node's server_id, unlike the primary's and every replica's [default: 1000].
    #[arg(long)]
    pub server_id: Option<u32>,
    /// A replication user, NAME:PASSWORD (repeatable) [default: repl:repl].
    #[arg(long = "user", value_name = "NAME:PASSWORD")]
    pub users: Vec<String>,
    /// An admin user, who may also run CHANGE MASTER TO, START/STOP SLAVE, PURGE BINARY LOGS
    /// (repeatable) [default: admin:admin].
    #[arg(long = "admin", value_name = "NAME:PASSWORD")]
    pub admins: Vec<String>,
    /// Largest packet accepted from an authenticated client [default: 67108864]. Also
    /// accepted as --max-packet-bytes, its former name.
    #[arg(long, visible_alias = "max-packet-bytes")]
    pub packet_bytes_max: Option<usize>,
    /// Largest packet accepted before authentication: the handshake response, connection
    /// attributes included [default: 16384].
    #[arg(long)]
    pub handshake_bytes_max: Option<usize>,
    /// Open connections at most; the next ones get error 1040 [default: 1000].
    #[arg(long)]
    pub connections_max: Option<usize>,
    /// Time from connect to authenticated, TLS included, before the connection is closed
    /// (MariaDB's connect_timeout) [default: 10000].
    #[arg(long)]
    pub login_timeout_ms: Option<u64>,
    /// Time an authenticated session may wait for its next command before it is closed
    /// (MariaDB's wait_timeout); dumps are not idle [default: 28800000].
    #[arg(long)]
    pub idle_timeout_ms: Option<u64>,
    /// Time a dump may wait on one write to a replica that does not read before it is cut off
    /// (MariaDB's net_write_timeout) [default: 60000].
    #[arg(long)]
    pub dump_write_timeout_ms: Option<u64>,
    /// How much of one transaction from the primary is held in memory; a larger one goes to
    /// the store in pieces of this size, shown only once whole [default: 67108864].
    #[arg(long)]
    pub upstream_group_bytes_max: Option<usize>,
    /// The primary to replicate from, HOST:PORT; also settable with CHANGE MASTER TO.
    #[arg(long)]
    pub primary: Option<String>,
    /// The user binraft logs in to the primary as [default: repl].
    #[arg(long)]
    pub primary_user: Option<String>,
    /// Its password [default: empty].
    #[arg(long)]
    pub primary_password: Option<String>,
    /// Heartbeat period asked of the primary, in milliseconds [default: 1000].
    #[arg(long)]
    pub primary_heartbeat_ms: Option<u64>,
    /// The longest wait between two attempts to connect to the primary, in seconds
    /// (MASTER_CONNECT_RETRY); the first wait is 100 ms, doubling up to it [default: 10].
    #[arg(long)]
    pub primary_connect_retry_s: Option<u64>,
    /// How received transactions are made durable: `group` (one fsync for all those received
    /// together) or `transaction` (one fsync each) [default: group].
    #[arg(long)]
    pub sync: Option<String>,
    /// Size of the store's journal in MiB, preallocated: appends are made durable there, and the
    /// binlog files are synced when it fills. 0 syncs the binlog files on every append instead
    /// [default: 16].
    #[arg(long)]
    pub journal_mb: Option<u64>,
    /// PEM certificate chain for TLS on the MySQL port (with --tls-key).
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS on the MySQL port.
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// Refuse clients that do not use TLS.
    #[arg(long)]
    pub require_tls: bool,
    /// Talk to the primary over TLS.
    #[arg(long)]
    pub primary_ssl: bool,
    /// CA certificate (PEM) to verify the primary's certificate with; without it any
    /// certificate is accepted, as with MASTER_SSL_VERIFY_SERVER_CERT=0.
    #[arg(long)]
    pub primary_ssl_ca: Option<PathBuf>,
    /// Resume from the primary by GTID rather than by file and position: MariaDB GTID
    /// (MASTER_USE_GTID=slave_pos) or MySQL auto-position (COM_BINLOG_DUMP_GTID); what the
    /// primary sends again is checked against the store.
    #[arg(long)]
    pub primary_use_gtid: bool,
    /// This node's id in the Raft cluster (with --peers): one of the ids --peers names.
    #[arg(long)]
    pub node_id: Option<u64>,
    /// Every member of the cluster, ID=HOST:PORT of its Raft port, comma-separated; the same
    /// on every node. Without it binraft is a single node.
    #[arg(long)]
    pub peers: Option<String>,
    /// Address of this node's Raft port [default: its own entry in --peers].
    #[arg(long)]
    pub raft_listen: Option<SocketAddr>,
    /// Address of the HTTP admin API (status) [default: none].
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// The secret the cluster's nodes prove to each other on the Raft port (required with
    /// --peers).
    #[arg(long)]
    pub cluster_secret: Option<String>,
    /// Largest Raft entry the leader proposes, in bytes: groups received together go in one
    /// entry up to this (a larger group goes alone) [default: 4194304].
    #[arg(long)]
    pub raft_entry_bytes_max: Option<usize>,
    /// Raft entries between two snapshots: a snapshot is a checkpoint of the binlog files
    /// (nothing is copied), after which the Raft log is purged up to half as many entries
    /// before it; a member further behind is sent the files it lacks [default: 5000].
    #[arg(long)]
    pub raft_snapshot_entries: Option<u64>,
    /// Keep at most this many binlog files: the oldest go, as PURGE BINARY LOGS would take them
    /// (never one a replica reads; in a cluster the leader decides, through the log) [default:
    /// 0, any number].
    #[arg(long)]
    pub binlog_keep_files: Option<usize>,
    /// Purge a binlog file once its newest event is this many seconds old, as MariaDB's
    /// binlog_expire_logs_seconds [default: 0, never].
    #[arg(long)]
    pub binlog_expire_logs_seconds: Option<u64>,
}

/// The same settings, as the config file spells them.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct File {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    server_id: Option<u32>,
    users: Option<Vec<String>>,
    admins: Option<Vec<String>>,
    #[serde(alias = "max_packet_bytes")]
    packet_bytes_max: Option<usize>,
    handshake_bytes_max: Option<usize>,
    connections_max: Option<usize>,
    login_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    dump_write_timeout_ms: Option<u64>,
    upstream_group_bytes_max: Option<usize>,
    primary: Option<String>,
    primary_user: Option<String>,
    primary_password: Option<String>,
    primary_heartbeat_ms: Option<u64>,
    primary_connect_retry_s: Option<u64>,
    sync: Option<String>,
    journal_mb: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    require_tls: Option<bool>,
    primary_ssl: Option<bool>,
    primary_ssl_ca: Option<PathBuf>,
    primary_use_gtid: Option<bool>,
    node_id: Option<u64>,
    peers: Option<String>,
    raft_listen: Option<SocketAddr>,
    http_listen: Option<SocketAddr>,
    cluster_secret: Option<String>,
    raft_entry_bytes_max: Option<usize>,
    raft_snapshot_entries: Option<u64>,
    binlog_keep_files: Option<usize>,
    binlog_expire_logs_seconds: Option<u64>,
}

/// Settings resolved from flags, file and defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub server_id: u32,
    pub users: Vec<(String, String)>,
    pub admins: Vec<(String, String)>,
    pub limits: Limits,
    pub primary: Option<UpstreamSettings>,
    /// One fsync for all transactions received together (else one each).
    pub group_commit: bool,
    /// The journal's size in bytes (0: no journal).
    pub journal_bytes: u64,
    /// Certificate chain and key files for TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub require_tls: bool,
    /// The Raft cluster this node is a member of (None: a single node).
    pub cluster: Option<ClusterSettings>,
    pub http_listen: Option<SocketAddr>,
    /// What is kept of the binlog.
    pub retention: binraft_core::store::binlogs::Retention,
}

/// A cluster member's settings.
#[derive(Clone)]
pub struct ClusterSettings {
    pub node_id: u64,
    /// Every member's Raft address, by id.
    pub peers: std::collections::BTreeMap<u64, String>,
    pub raft_listen: SocketAddr,
    pub secret: String,
    pub entry_bytes_max: usize,
    pub snapshot_entries: u64,
}

/// The secret never shows in a log line or a debug dump.
impl std::fmt::Debug for ClusterSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterSettings").field("node_id", &self.node_id).field("peers", &self.peers).field("raft_listen", &self.raft_listen).finish_non_exhaustive()
    }
}

/// `--peers 1=HOST:PORT,2=HOST:PORT,...`: at least one member, ids unique and not 0.
pub fn parse_peers(spec: &str) -> Result<std::collections::BTreeMap<u64, String>, String> {
    let mut peers = std::collections::BTreeMap::new();
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (id, addr) = item.split_once('=').ok_or_else(|| format!("peers: {item:?}: expected ID=HOST:PORT"))?;
        let id: u64 = id.trim().parse().map_err(|_| format!("peers: {item:?}: the id is not a number"))?;
        if id == 0 {
            return Err(format!("peers: {item:?}: node ids start at 1"));
        }
        let addr = addr.trim();
        match addr.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => return Err(format!("peers: {item:?}: expected ID=HOST:PORT")),
        }
        if peers.insert(id, addr.to_string()).is_some() {
            return Err(format!("peers: node {id} is listed twice"));
        }
    }
    if peers.is_empty() {
        return Err("peers: no member listed".into());
    }
    Ok(peers)
}

/// What one connection, and all of them together, may take of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub packet_bytes_max: usize,
    pub handshake_bytes_max: usize,
    pub connections_max: usize,
    pub login_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub dump_write_timeout_ms: u64,
    pub upstream_group_bytes_max: usize,
}

/// The longest timeout accepted, a year (MariaDB's bound on wait_timeout).
const TIMEOUT_MS_MAX: u64 = 365 * 24 * 3600 * 1000;

/// The flag, else the file's value, else `default`; refused outside `range`.
fn bounded<T: PartialOrd + std::fmt::Display + Copy>(name: &str, flag: Option<T>, file: Option<T>, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, String> {
    let v = flag.or(file).unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(format!("{name} {v}: expected {} to {}", range.start(), range.end()))
    }
}

fn user(spec: &str, what: &str) -> Result<(String, String), String> {
    let (n, p) = spec.split_once(':').ok_or_else(|| format!("{what} {spec:?}: expected NAME:PASSWORD"))?;
    if n.is_empty() {
        return Err(format!("{what} {spec:?}: empty user name"));
    }
    Ok((n.to_string(), p.to_string()))
}

impl Args {
    pub fn resolve(&self) -> Result<Settings, String> {
        let file: File = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| format!("config {}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| format!("config {}: {e}", p.display()))?
            }
            None => File::default(),
        };
        let pick = |flag: &Vec<String>, file: &Option<Vec<String>>, default: &str| -> Vec<String> {
            if !flag.is_empty() {
                flag.clone()
            } else {
                file.clone().unwrap_or_else(|| vec![default.to_string()])
            }
        };
        let users = pick(&self.users, &file.users, "repl:repl").iter().map(|u| user(u, "user")).collect::<Result<Vec<_>, _>>()?;
        let admins = pick(&self.admins, &file.admins, "admin:admin").iter().map(|u| user(u, "admin")).collect::<Result<Vec<_>, _>>()?;
        let server_id = self.server_id.or(file.server_id).unwrap_or(1000);
        if server_id == 0 {
            return Err("server_id must not be 0".into());
        }
        let primary = match self.primary.clone().or(file.primary) {
            None => None,
            Some(hp) => {
                let (host, port) = hp.rsplit_once(':').ok_or_else(|| format!("primary {hp:?}: expected HOST:PORT"))?;
                let port: u16 = port.parse().map_err(|_| format!("primary {hp:?}: bad port"))?;
                let ssl_ca = match self.primary_ssl_ca.clone().or(file.primary_ssl_ca) {
                    None => None,
                    Some(p) => Some(p.into_os_string().into_string().map_err(|p| format!("primary_ssl_ca {p:?}: not UTF-8"))?),
                };
                Some(UpstreamSettings {
                    host: host.to_string(),
                    port,
                    user: self.primary_user.clone().or(file.primary_user).unwrap_or_else(|| "repl".into()),
                    password: self.primary_password.clone().or(file.primary_password).unwrap_or_default().into(),
                    heartbeat_ms: self.primary_heartbeat_ms.or(file.primary_heartbeat_ms).unwrap_or(1000),
                    running: true,
                    ssl: self.primary_ssl || file.primary_ssl.unwrap_or(false),
                    ssl_ca,
                    use_gtid: self.primary_use_gtid || file.primary_use_gtid.unwrap_or(false),
                    own_layout: false,
                    connect_retry_s: bounded("primary_connect_retry_s", self.primary_connect_retry_s, file.primary_connect_retry_s, CONNECT_RETRY_S_DEFAULT, 1..=TIMEOUT_MS_MAX / 1000)?,
                })
            }
        };
        Ok(Settings {
            data_dir: self.data_dir.clone().or(file.data_dir).unwrap_or_else(|| "binraft-data".into()),
            listen: self.listen.or(file.listen).unwrap_or_else(|| "127.0.0.1:3307".parse().expect("literal address")),
            server_id,
            users,
            admins,
            limits: Limits {
                // MariaDB's bounds on max_allowed_packet.
                packet_bytes_max: bounded("packet_bytes_max", self.packet_bytes_max, file.packet_bytes_max, 64 << 20, 1024..=1 << 30)?,
                handshake_bytes_max: bounded("handshake_bytes_max", self.handshake_bytes_max, file.handshake_bytes_max, 16 << 10, 4096..=1 << 20)?,
                connections_max: bounded("connections_max", self.connections_max, file.connections_max, 1000, 1..=100_000)?,
                login_timeout_ms: bounded("login_timeout_ms", self.login_timeout_ms, file.login_timeout_ms, 10_000, 1..=TIMEOUT_MS_MAX)?,
                idle_timeout_ms: bounded("idle_timeout_ms", self.idle_timeout_ms, file.idle_timeout_ms, 8 * 3600 * 1000, 1..=TIMEOUT_MS_MAX)?,
                dump_write_timeout_ms: bounded("dump_write_timeout_ms", self.dump_write_timeout_ms, file.dump_write_timeout_ms, 60_000, 1..=TIMEOUT_MS_MAX)?,
                upstream_group_bytes_max: bounded("upstream_group_bytes_max", self.upstream_group_bytes_max, file.upstream_group_bytes_max, 64 << 20, 64 << 10..=1 << 30)?,
            },
            primary,
            tls: match (self.tls_cert.clone().or(file.tls_cert), self.tls_key.clone().or(file.tls_key)) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                _ => return Err("tls_cert and tls_key go together".into()),
            },
            require_tls: self.require_tls || file.require_tls.unwrap_or(false),
            http_listen: self.http_listen.or(file.http_listen),
            retention: binraft_core::store::binlogs::Retention {
                keep_files: bounded("binlog_keep_files", self.binlog_keep_files, file.binlog_keep_files, 0, 0..=1_000_000)?,
                expire_logs_seconds: bounded("binlog_expire_logs_seconds", self.binlog_expire_logs_seconds, file.binlog_expire_logs_seconds, 0, 0..=100 * 365 * 86_400)?,
            },
            cluster: match self.peers.clone().or(file.peers) {
                None => {
                    if self.node_id.or(file.node_id).is_some() {
                        return Err("node_id needs peers: the cluster's members".into());
                    }
                    None
                }
                Some(spec) => {
                    let peers = parse_peers(&spec)?;
                    let node_id = self.node_id.or(file.node_id).ok_or("peers needs node_id: which of the members this node is")?;
                    let own = peers.get(&node_id).ok_or_else(|| format!("node_id {node_id} is not one of the peers ({})", peers.keys().map(u64::to_string).collect::<Vec<_>>().join(", ")))?;
                    let raft_listen = match self.raft_listen.or(file.raft_listen) {
                        Some(a) => a,
                        None => own.parse().map_err(|_| format!("raft_listen: node {node_id}'s peer address {own:?} is not an IP:PORT to listen on; give --raft-listen"))?,
                    };
                    let secret = self.cluster_secret.clone().or(file.cluster_secret).ok_or("peers needs cluster_secret: the nodes prove it to each other")?;
                    if secret.len() < 8 {
                        return Err("cluster_secret: at least 8 characters".into());
                    }
                    let entry_bytes_max = bounded("raft_entry_bytes_max", self.raft_entry_bytes_max, file.raft_entry_bytes_max, 4 << 20, 64 << 10..=256 << 20)?;
                    let snapshot_entries = bounded("raft_snapshot_entries", self.raft_snapshot_entries, file.raft_snapshot_entries, 5000, 2..=10_000_000)?;
                    Some(ClusterSettings { node_id, peers, raft_listen, secret, entry_bytes_max, snapshot_entries })
                }
            },
            journal_bytes: match self.journal_mb.or(file.journal_mb).unwrap_or(16) {
                0 => 0,
                mb @ 1..=4096 => mb << 20,
                other => return Err(format!("journal_mb {other}: expected 0 (off) or 1 to 4096")),
            },
            group_commit: match self.sync.clone().or(file.sync).as_deref() {
                None | Some("group") => true,
                Some("transaction") => false,
                Some(other) => return Err(format!("sync {other:?}: expected group or transaction")),
            },
        })
    }
}

use binraft_core::store::disk::{self as disk, Disk};
use binraft_core::store::names::REPLICATION;

/// The replication settings kept on the store's disk (`replication.toml`), if any.
pub fn load_replication(d: &dyn Disk) -> Result<Option<UpstreamSettings>, String> {
    match disk::read_whole(d, REPLICATION).map_err(|e| e.to_string())? {
        Some(b) => toml::from_str(&String::from_utf8_lossy(&b)).map(Some).map_err(|e| format!("{REPLICATION}: {e}")),
        None => Ok(None),
    }
}

/// Saves (or, for `None`, removes) the replication settings, durably; the disk makes files
/// readable by the owner only.
pub fn save_replication(d: &dyn Disk, r: Option<&UpstreamSettings>) -> Result<(), String> {
    match r {
        None => disk::remove_durably(d, REPLICATION).map_err(|e| e.to_string()),
        Some(r) => {
            let text = toml::to_string(r).map_err(|e| format!("{REPLICATION}: {e}"))?;
            disk::write_atomically(d, REPLICATION, text.as_bytes()).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(toml: &str) -> Result<Settings, String> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("binraft-config-{}-{n}.toml", std::process::id()));
        std::fs::write(&path, toml).unwrap();
        let r = Args { config: Some(path.clone()), ..Args::default() }.resolve();
        let _ = std::fs::remove_file(&path);
        r
    }

    #[test]
    fn defaults_and_file_settings() {
        let s = Args::default().resolve().unwrap();
        assert_eq!((s.server_id, s.journal_bytes, s.group_commit), (1000, 16 << 20, true));
        assert_eq!(s.listen.to_string(), "127.0.0.1:3307");
        let s = with_file("journal_mb = 0\nsync = \"transaction\"\nprimary = \"db1:3306\"\n").unwrap();
        assert_eq!((s.journal_bytes, s.group_commit), (0, false));
        assert_eq!(s.primary.map(|p| (p.host, p.port, p.connect_retry_s)), Some(("db1".into(), 3306, 10)));
        let s = with_file("primary = \"db1:3306\"\nprimary_connect_retry_s = 7\n").unwrap();
        assert_eq!(s.primary.map(|p| p.connect_retry_s), Some(7));
        // A flag wins over the file.
        let s = Args { journal_mb: Some(2), ..Args::default() }.resolve().unwrap();
        assert_eq!(s.journal_bytes, 2 << 20);
    }

    #[test]
    fn replication_toml_of_before_connect_retry_loads_and_saves_round_trip() {
        use binraft_core::store::mem_disk::MemDisk;
        let d = MemDisk::new();
        assert_eq!(load_replication(&d).unwrap(), None);
        // As the former `Replication` wrote it.
        let old = "host = \"db1\"\nport = 3306\nuser = \"repl\"\npassword = \"pw\"\nheartbeat_ms = 500\nrunning = true\nssl = true\nssl_ca = \"/ca.pem\"\nuse_gtid = true\n";
        d.put(REPLICATION, old.as_bytes());
        let s = load_replication(&d).unwrap().unwrap();
        let want = UpstreamSettings {
            host: "db1".into(),
            user: "repl".into(),
            password: "pw".into(),
            heartbeat_ms: 500,
            running: true,
            ssl: true,
            ssl_ca: Some("/ca.pem".into()),
            use_gtid: true,
            ..UpstreamSettings::default()
        };
        assert_eq!((s.clone(), s.connect_retry_s), (want, CONNECT_RETRY_S_DEFAULT));
        let seven = UpstreamSettings { connect_retry_s: 7, ..s };
        save_replication(&d, Some(&seven)).unwrap();
        let text = String::from_utf8(d.contents(REPLICATION).unwrap()).unwrap();
        // The same keys as before, and the new one.
        assert!(old.lines().chain(["connect_retry_s = 7"]).all(|l| text.lines().any(|t| t == l)), "{text}");
        assert_eq!(load_replication(&d).unwrap(), Some(seven));
        save_replication(&d, None).unwrap();
        assert_eq!(load_replication(&d).unwrap(), None);
    }

    #[test]
    fn limits_have_defaults_a_key_and_a_flag() {
        let l = Args::default().resolve().unwrap().limits;
        let defaults = Limits {
            packet_bytes_max: 64 << 20,
            handshake_bytes_max: 16384,
            connections_max: 1000,
            login_timeout_ms: 10_000,
            idle_timeout_ms: 28_800_000,
            dump_write_timeout_ms: 60_000,
            upstream_group_bytes_max: 64 << 20,
        };
        assert_eq!(l, defaults);
        let toml = "packet_bytes_max = 2048\nhandshake_bytes_max = 8192\nconnections_max = 7\nlogin_timeout_ms = 5\nidle_timeout_ms = 6\ndump_write_timeout_ms = 8\nupstream_group_bytes_max = 65536\n";
        let l = with_file(toml).unwrap().limits;
        let set = Limits {
            packet_bytes_max: 2048,
            handshake_bytes_max: 8192,
            connections_max: 7,
            login_timeout_ms: 5,
            idle_timeout_ms: 6,
            dump_write_timeout_ms: 8,
            upstream_group_bytes_max: 65536,
        };
        assert_eq!(l, set);
        // The former name of packet_bytes_max, as a key and as a flag.
        assert_eq!(with_file("max_packet_bytes = 4096\n").unwrap().limits.packet_bytes_max, 4096);
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        use clap::Parser;
        for flag in ["--packet-bytes-max", "--max-packet-bytes"] {
            let cli = Cli::try_parse_from(["binraft", flag, "4096", "--connections-max", "3", "--login-timeout-ms", "9"]).unwrap();
            let l = cli.args.resolve().unwrap().limits;
            assert_eq!((l.packet_bytes_max, l.connections_max, l.login_timeout_ms), (4096, 3, 9));
        }
    }

    #[test]
    fn bad_settings_get_one_clear_line() {
        let err = |toml: &str| with_file(toml).unwrap_err();
        assert!(err("journal_mb = 9000\n").contains("journal_mb 9000: expected 0 (off) or 1 to 4096"));
        assert!(err("sync = \"sometimes\"\n").contains("sync \"sometimes\": expected group or transaction"));
        assert!(err("server_id = 0\n").contains("server_id must not be 0"));
        assert!(err("users = [\"nopassword\"]\n").contains("expected NAME:PASSWORD"));
        assert!(err("primary = \"db1\"\n").contains("expected HOST:PORT"));
        assert_eq!(err("primary = \"db1:1\"\nprimary_connect_retry_s = 0\n"), "primary_connect_retry_s 0: expected 1 to 31536000");
        assert!(err("tls_cert = \"/x.pem\"\n").contains("tls_cert and tls_key go together"));
        assert!(err("journal_mb = \"big\"\n").contains("config"));
        assert_eq!(err("packet_bytes_max = 100\n"), "packet_bytes_max 100: expected 1024 to 1073741824");
        assert_eq!(err("handshake_bytes_max = 100\n"), "handshake_bytes_max 100: expected 4096 to 1048576");
        assert_eq!(err("connections_max = 0\n"), "connections_max 0: expected 1 to 100000");
        assert_eq!(err("login_timeout_ms = 0\n"), "login_timeout_ms 0: expected 1 to 31536000000");
        assert_eq!(err("idle_timeout_ms = 0\n"), "idle_timeout_ms 0: expected 1 to 31536000000");
        assert_eq!(err("dump_write_timeout_ms = 0\n"), "dump_write_timeout_ms 0: expected 1 to 31536000000");
        let missing = Args { config: Some("/nonexistent/binraft.toml".into()), ..Args::default() }.resolve().unwrap_err();
        assert!(missing.starts_with("config /nonexistent/binraft.toml:"), "{missing}");
    }
}
