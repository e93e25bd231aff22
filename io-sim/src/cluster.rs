//! The simulated deployment: a primary, `nodes` binraft members and `replicas` replicas, each on
//! its own madsim node and address, and the faults a scenario plays on them.
//!
//! Addresses: node `i` (from 1) is 10.0.0.i, MySQL port 3307 and Raft port 4000; the primary is
//! 10.0.0.100:3306, and the replica promoted when it dies ([`Sim::fail_over`]) 10.0.0.101:3306;
//! replica `k` (from 1) is 10.0.1.k. Each node runs
//! [`binraft::server::start`] over its own [`MemDisk`], which outlives the node: a kill keeps
//! it (a process crash keeps the page cache), [`Sim::crash_disk`] loses what was not synced (a
//! power cut, seeded), and the restarted node gets the same disk.

use crate::layout::Layout;
use crate::primary::Primary;
use crate::replica::{ReplicaHandle, ReplicaSpec};
use crate::trace::{TraceHandle, TraceLayer};
use binraft::config::{Args, Settings};
use binraft_core::store::mem_disk::MemDisk;
use binraft_core::store::Disk;
use madsim::net::NetSim;
use madsim::runtime::{Handle, NodeHandle};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

pub const MYSQL_PORT: u16 = 3307;
pub const RAFT_PORT: u16 = 4000;
pub const PRIMARY_PORT: u16 = 3306;
pub const PRIMARY_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
/// The primary's replica, promoted by [`Sim::fail_over`].
pub const STANDBY_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 101);
/// The promoted replica's server id and binlog base name.
pub const STANDBY_SERVER_ID: u32 = 2;
pub const STANDBY_BASE_NAME: &str = "standby-bin";
pub const SECRET: &str = "sim-cluster-secret";

/// What a simulation is made of; everything else is drawn from the seed.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub nodes: usize,
    pub replicas: usize,
    /// The primary writes this many transactions in all.
    pub txns_max: usize,
    /// Between two of its transactions, in ms (a seeded draw each time).
    pub produce_interval_ms: std::ops::Range<u64>,
    /// A bug planted for the run: the teeth tests prove the invariants catch each.
    pub plant: Option<Plant>,
    /// Whether the primary serves semi-sync (None: drawn from the seed).
    pub semi_sync: Option<bool>,
    /// Machines ready to join (ids after the members'): not started until a scenario adds one
    /// ([`Sim::start_spare`]).
    pub spares: usize,
    /// A replica of them reads slowly: it pauses this long (ms) after each read.
    pub slow_replica_ms: Option<u64>,
    /// Raft log entries between two checkpoints (`--raft-snapshot-entries`; None: drawn from
    /// the seed, small, so that checkpoints and log purges happen often).
    pub snapshot_entries: Option<u64>,
    /// A replica asking, again and again, for GTIDs no node has ([`Sim::stray`]).
    pub stray_replica: bool,
    /// The primary ends each connection after a time drawn from this (ms), as a DBA's KILL of
    /// its dump thread, a net_write_timeout or a proxy's idle cut would; None: never.
    pub primary_drops_ms: Option<std::ops::Range<u64>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { nodes: 3, replicas: 2, txns_max: 400, produce_interval_ms: 5..60, plant: None, semi_sync: None, spares: 0, slow_replica_ms: None, snapshot_entries: None, stray_replica: true, primary_drops_ms: Some(2_000..15_000) }
    }
}

pub use binraft::planted::Bug;

/// A bug planted on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plant {
    /// Every node's disk answers the syncs of the Raft log with success and keeps nothing:
    /// the node skips its log's fsync.
    SkipLogFsync,
    /// A bug in the node's own code ([`binraft::planted`]).
    Node(binraft::planted::Bug),
}

/// Whether `disk`, as a power cut now would leave it, holds binraft's binlog up to `end` of
/// `file`: in the synced bytes of that file, or in the synced Raft log, whose entries a restart
/// applies again. binraft's file names sort as they follow each other (one base name, a
/// six-digit number), also after a change of primary, so a log that reaches a later file holds
/// all of this one.
pub fn holds_durably(disk: &MemDisk, file: &str, end: u64) -> Result<bool, String> {
    let view = disk.durable_view();
    if view.open(file).and_then(|f| f.len()).is_ok_and(|len| len >= end) {
        return Ok(true);
    }
    let logged = binraft::cluster::log_store::logged_end(Arc::new(view)).map_err(|e| format!("its durable Raft log: {e}"))?;
    Ok(logged.is_some_and(|(f, e)| f.as_str() > file || (f == file && e >= end)))
}

/// Whether binraft's binlog up to `end` of `file` is durable on a majority of one of the voter
/// sets, judged on the voters' `disks` ([`holds_durably`]): the outer error when a disk cannot
/// be read, the inner one when too few hold it.
pub fn durable_on_voters<'a>(disks: impl IntoIterator<Item = (u64, &'a MemDisk)>, voters: &VoterSets, file: &str, end: u64) -> Result<Result<(), String>, String> {
    let mut holders = Vec::new();
    for (id, d) in disks.into_iter().filter(|(id, _)| voters.0.iter().any(|s| s.contains(id))) {
        if holds_durably(d, file, end).map_err(|e| format!("node{id}: {e}"))? {
            holders.push(id);
        }
    }
    Ok(majority_of(voters, &holders))
}

/// What a machine is to the cluster, as the harness has asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A voting member.
    Voter,
    /// Added as a learner: it serves, and does not vote.
    Learner,
    /// Not started, not a member.
    Spare,
    /// Removed from the cluster, and stopped.
    Removed,
}

/// The voter sets that may be in effect, as the harness knows them: one once a change is
/// settled, more while a change is on its way or its outcome is not known. Something
/// committed is durable on a majority of at least one of them.
#[derive(Debug, Clone, Default)]
pub struct VoterSets(pub Vec<Vec<u64>>);

/// The voter sets, shared with the arrival checks.
pub type Voters = Arc<std::sync::Mutex<VoterSets>>;

/// Whether `holders` is a majority of one of the voter sets; else the violation.
pub fn majority_of(voters: &VoterSets, holders: &[u64]) -> Result<(), String> {
    if voters.0.iter().any(|set| holders.iter().filter(|h| set.contains(h)).count() * 2 > set.len()) {
        return Ok(());
    }
    let sets: Vec<String> = voters.0.iter().map(|s| format!("{s:?}")).collect();
    Err(format!("durable only on nodes {holders:?}, not a majority of the voters {}", sets.join(" or ")))
}

/// One binraft member.
pub struct SimNode {
    /// Raft node id, from 1.
    pub id: u64,
    pub handle: NodeHandle,
    pub disk: MemDisk,
    pub alive: bool,
    /// Stalled ([`Sim::pause`]): alive, but none of its tasks runs.
    pub paused: bool,
    pub mysql: SocketAddr,
    /// When it was last started (simulated ms).
    pub started_ms: u64,
    pub role: Role,
    /// Off for a spare until it is started.
    powered: Arc<std::sync::atomic::AtomicBool>,
}

/// A running simulation.
pub struct Sim {
    pub seed: u64,
    pub handle: Handle,
    pub nodes: Vec<SimNode>,
    /// The primary binraft follows now (the promoted replica after [`Sim::fail_over`]).
    pub primary: Primary,
    pub primary_node: NodeHandle,
    /// Primaries that died.
    pub former: Vec<Primary>,
    /// binraft's files as every node must hold them ([`crate::layout`]).
    pub layout: Layout,
    cfg: SimConfig,
    pub replicas: Vec<ReplicaHandle>,
    /// The replica that asks for GTIDs no node has: every node must refuse it
    /// ([`crate::replica::STRAY_POSITION`]).
    pub stray: Option<ReplicaHandle>,
    pub trace: TraceHandle,
    pub epoch: tokio::time::Instant,
    /// Whether the nodes pull from the primary by GTID (else by file and position).
    pub pull_by_gtid: bool,
    pub voters: Voters,
    /// Where the admin's statements come from.
    pub admin_node: NodeHandle,
    /// The arrival check of ACKs and replicated bytes, for a primary started later.
    durable: crate::arrival::Check,
    _trace_guard: tracing::subscriber::DefaultGuard,
}

fn node_ip(id: u64) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, id as u8)
}

/// The Raft address of node `id`, as BINRAFT ADD LEARNER takes it.
pub fn raft_addr(id: u64) -> String {
    format!("{}:{RAFT_PORT}", node_ip(id))
}

/// The settings of node `id` whose peers are `peers` (itself among them), resolved from flags
/// as `binraft run` resolves them (so a new setting gets its default here too).
pub fn node_settings(id: u64, peers: &[u64], pull_by_gtid: bool, snapshot_entries: u64) -> Settings {
    let peers: Vec<String> = peers.iter().map(|i| format!("{i}={}", raft_addr(*i))).collect();
    let args = Args {
        data_dir: Some(format!("/sim/node{id}").into()),
        listen: Some(SocketAddr::new(IpAddr::V4(node_ip(id)), MYSQL_PORT)),
        server_id: Some(100 + id as u32),
        users: vec![format!("{}:{}", binraft_fixtures::sim::USER, binraft_fixtures::sim::PASSWORD)],
        primary: Some(format!("{PRIMARY_IP}:{PRIMARY_PORT}")),
        primary_user: Some(binraft_fixtures::sim::USER.into()),
        primary_password: Some(binraft_fixtures::sim::PASSWORD.into()),
        primary_heartbeat_ms: Some(500),
        primary_connect_retry_s: Some(1),
        primary_use_gtid: pull_by_gtid,
        node_id: Some(id),
        peers: Some(peers.join(",")),
        cluster_secret: Some(SECRET.into()),
        raft_snapshot_entries: Some(snapshot_entries),
        ..Args::default()
    };
    args.resolve().unwrap_or_else(|e| panic!("node{id}'s settings: {e}"))
}

/// A primary's machine at `ip`: it serves its MySQL port and writes its transactions.
fn primary_machine(handle: &Handle, name: &str, ip: Ipv4Addr, primary: &Primary, interval: std::ops::Range<u64>) -> NodeHandle {
    let p = primary.clone();
    handle
        .create_node()
        .name(name)
        .ip(IpAddr::V4(ip))
        .init(move || {
            let p = p.clone();
            let interval = interval.clone();
            async move {
                let listener = tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(ip), PRIMARY_PORT)).await.expect("the primary's port");
                tokio::spawn(p.clone().produce(interval));
                p.serve(listener).await;
            }
        })
        .build()
}

impl Sim {
    /// Starts the primary, the nodes and the replicas. Call on the simulation's main task.
    pub async fn start(cfg: SimConfig) -> Sim {
        use rand::Rng;
        let (trace, guard) = TraceLayer::install();
        let handle = Handle::current();
        let seed = handle.seed();
        let epoch = tokio::time::Instant::now();
        let pull_by_gtid = madsim::rand::thread_rng().gen_bool(0.5);
        binraft::planted::plant(match cfg.plant {
            Some(Plant::Node(bug)) => Some(bug),
            _ => None,
        });
        let semi_sync = cfg.semi_sync.unwrap_or_else(|| madsim::rand::thread_rng().gen_bool(0.5));
        let snapshot_entries = cfg.snapshot_entries.unwrap_or_else(|| madsim::rand::thread_rng().gen_range(20..400));
        let layout = Layout::default();
        let primary = Primary::new(crate::binlog::PrimaryLog::new(seed), cfg.txns_max, epoch, semi_sync, layout.clone(), true).dropping_after(cfg.primary_drops_ms.clone());
        let primary_node = primary_machine(&handle, "primary", PRIMARY_IP, &primary, cfg.produce_interval_ms.clone());
        let mut nodes = Vec::new();
        let members: Vec<u64> = (1..=cfg.nodes as u64).collect();
        for id in 1..=(cfg.nodes + cfg.spares) as u64 {
            let disk = MemDisk::new();
            if cfg.plant == Some(Plant::SkipLogFsync) {
                disk.lie_about_syncs_of(binraft_core::store::names::RAFT_LOG_PREFIX);
            }
            // A spare knows the members and itself, as an operator would start a new machine.
            let peers: Vec<u64> = if id as usize <= cfg.nodes { members.clone() } else { members.iter().copied().chain([id]).collect() };
            let settings = node_settings(id, &peers, pull_by_gtid, snapshot_entries);
            let mysql = settings.listen;
            let d = disk.clone();
            let spare = id as usize > cfg.nodes;
            // A spare's machine is powered on only once a scenario starts it.
            let powered = Arc::new(std::sync::atomic::AtomicBool::new(!spare));
            let on = Arc::clone(&powered);
            let node = handle
                .create_node()
                .name(format!("node{id}"))
                .ip(IpAddr::V4(node_ip(id)))
                .init(move || {
                    let disk: Arc<dyn Disk> = Arc::new(d.clone());
                    let settings = settings.clone();
                    let on = on.load(std::sync::atomic::Ordering::Relaxed);
                    async move {
                        if !on {
                            return std::future::pending().await;
                        }
                        let listener = match tokio::net::TcpListener::bind(settings.listen).await {
                            Ok(l) => l,
                            Err(e) => return tracing::error!("node: cannot listen: {e}"),
                        };
                        if let Err(e) = binraft::server::start(settings, disk, listener).await {
                            tracing::error!(error = %e, "node stopped");
                        }
                    }
                })
                .build();
            nodes.push(SimNode { id, handle: node, disk, alive: !spare, paused: false, mysql, started_ms: 0, role: if spare { Role::Spare } else { Role::Voter }, powered });
        }
        let node_addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.mysql).collect();
        let replica = |k: usize, spec: ReplicaSpec| {
            let log = ReplicaHandle::default();
            let l = log.clone();
            handle.create_node().name(spec.name.clone()).ip(IpAddr::V4(Ipv4Addr::new(10, 0, 1, k as u8))).init(move || crate::replica::run(spec.clone(), l.clone(), epoch)).build();
            log
        };
        let spec = |k: usize| ReplicaSpec {
            name: format!("replica{k}"),
            server_id: 500 + k as u32,
            // Half of them by GTID, half by file and position.
            by_gtid: k % 2 == 1,
            // The last one is the slow one, when there is one.
            read_pause_ms: cfg.slow_replica_ms.filter(|_| k == cfg.replicas),
            stray: false,
            nodes: node_addrs.clone(),
            user: binraft_fixtures::sim::USER.into(),
            password: binraft_fixtures::sim::PASSWORD.into(),
        };
        let replicas: Vec<ReplicaHandle> = (1..=cfg.replicas).map(|k| replica(k, spec(k))).collect();
        let stray = cfg.stray_replica.then(|| replica(200, ReplicaSpec { name: "stray".into(), by_gtid: true, stray: true, ..spec(200) }));
        // Each ACK the primary gets, and what each replica receives, must be durable on a
        // majority of the voters the moment it arrives.
        let voters: Voters = Arc::new(std::sync::Mutex::new(VoterSets(vec![members.clone()])));
        let disks: Vec<(u64, MemDisk)> = nodes.iter().map(|n| (n.id, n.disk.clone())).collect();
        let v = Arc::clone(&voters);
        let durable: crate::arrival::Check = Arc::new(move |file: &str, end: u64| {
            let voters = v.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match durable_on_voters(disks.iter().map(|(id, d)| (*id, d)), &voters, file, end) {
                Ok(judged) => judged.err(),
                Err(e) => Some(e),
            }
        });
        let admin_node = handle.create_node().name("admin").ip(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1))).build();
        primary.ack_check.set(Arc::clone(&durable));
        for r in &replicas {
            r.set_arrival_check(Arc::clone(&durable));
        }
        let cfg = SimConfig { semi_sync: Some(semi_sync), ..cfg };
        let sim = Sim { seed, handle, nodes, primary, primary_node, former: Vec::new(), layout, cfg: cfg.clone(), replicas, stray, trace, epoch, pull_by_gtid, voters, admin_node, durable, _trace_guard: guard };
        sim.note(format!(
            "seed {seed}: {} nodes{}, {} replicas, pull by {}{}, a checkpoint every {snapshot_entries} entries",
            cfg.nodes,
            if cfg.spares > 0 { format!(" and {} spare(s)", cfg.spares) } else { String::new() },
            cfg.replicas,
            if pull_by_gtid { "GTID" } else { "file and position" },
            if semi_sync { ", semi-sync" } else { "" }
        ));
        sim
    }

    /// The primary dies for good, and its replica (on [`STANDBY_IP`], holding every
    /// transaction it wrote, in files of its own) becomes the primary and goes on writing, its
    /// GTIDs continuing. binraft keeps trying the dead one until a DBA points it at the new one
    /// (CHANGE MASTER TO, through the admin).
    pub fn fail_over(&mut self) {
        self.note(format!("the primary dies; its replica {STANDBY_IP} is promoted"));
        self.handle.kill(self.primary_node.id());
        let log = {
            let mut old = self.primary.lock();
            old.followed = false;
            crate::binlog::PrimaryLog::promoted(&old.log, self.seed ^ 0x5741_4e44_4259, STANDBY_SERVER_ID, STANDBY_BASE_NAME)
        };
        self.layout.lock().switch();
        let semi_sync = self.cfg.semi_sync.unwrap_or(false);
        let standby = Primary::new(log, self.cfg.txns_max, self.epoch, semi_sync, self.layout.clone(), false).dropping_after(self.cfg.primary_drops_ms.clone());
        standby.ack_check.set(Arc::clone(&self.durable));
        let node = primary_machine(&self.handle, "standby", STANDBY_IP, &standby, self.cfg.produce_interval_ms.clone());
        self.former.push(std::mem::replace(&mut self.primary, standby));
        self.primary_node = node;
    }

    /// Every primary, the first first.
    pub fn primaries(&self) -> impl Iterator<Item = &Primary> {
        self.former.iter().chain([&self.primary])
    }

    /// The most transactions any primary got semi-sync ACKs for.
    pub fn acked_txns(&self) -> usize {
        self.primaries().map(|p| p.lock().acked_txns).max().unwrap_or(0)
    }

    /// Simulated milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A line of the harness in the trace.
    pub fn note(&self, message: String) {
        self.trace.note(self.now_ms(), message);
    }

    /// Index (into `nodes`) of a node's madsim name ("node2" is 1).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let id: u64 = name.strip_prefix("node")?.parse().ok()?;
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Index of a node by its IP (the primary sees nodes by their address).
    pub fn index_of_ip(&self, ip: IpAddr) -> Option<usize> {
        self.nodes.iter().position(|n| n.mysql.ip() == ip)
    }

    /// The live node that last started pulling from the primary, as its leader.
    pub fn puller(&self) -> Option<usize> {
        let pulls = self.trace.lock().pulls();
        pulls.iter().rev().filter_map(|p| self.index_of(&p.node)).find(|&i| self.nodes[i].alive)
    }

    /// Kills node `i` like SIGKILL: its tasks end; its disk keeps everything written.
    pub fn kill(&mut self, i: usize) {
        self.note(format!("kill node{}", self.nodes[i].id));
        self.handle.kill(self.nodes[i].handle.id());
        self.nodes[i].alive = false;
        self.nodes[i].paused = false;
    }

    /// Stalls node `i` (a long GC pause, a frozen VM): its tasks stop where they are, its
    /// timers and its sockets' data wait; nothing is lost.
    pub fn pause(&mut self, i: usize) {
        self.note(format!("pause node{}", self.nodes[i].id));
        self.handle.pause(self.nodes[i].handle.id());
        self.nodes[i].paused = true;
    }

    /// A stalled node runs again, where it stopped, unaware that time went by.
    pub fn resume(&mut self, i: usize) {
        self.note(format!("resume node{}", self.nodes[i].id));
        self.handle.resume(self.nodes[i].handle.id());
        self.nodes[i].paused = false;
    }

    /// The power goes on a killed node's disk: what was not synced is lost, a seeded prefix of
    /// it kept, the last write perhaps torn.
    pub fn crash_disk(&mut self, i: usize, seed: u64) {
        assert!(!self.nodes[i].alive, "crash the disk of a killed node only");
        self.note(format!("power cut on node{}'s disk (seed {seed})", self.nodes[i].id));
        self.nodes[i].disk.crash(seed);
    }

    /// The members (voters and learners).
    pub fn members(&self) -> impl Iterator<Item = (usize, &SimNode)> {
        self.nodes.iter().enumerate().filter(|(_, n)| matches!(n.role, Role::Voter | Role::Learner))
    }

    /// Starts spare node `i`, which then joins the cluster once it is added (it finds the
    /// cluster formed, and waits for a snapshot and the log).
    pub fn start_spare(&mut self, i: usize) {
        assert_eq!(self.nodes[i].role, Role::Spare, "node{} is not a spare", self.nodes[i].id);
        if self.nodes[i].alive {
            return;
        }
        self.nodes[i].powered.store(true, std::sync::atomic::Ordering::Relaxed);
        self.note(format!("start spare node{}", self.nodes[i].id));
        self.handle.kill(self.nodes[i].handle.id());
        self.restart(i);
    }

    /// Sends `sql` to node `i` from the admin's machine; its outcome comes later.
    pub fn admin(&self, i: usize, sql: &str) -> crate::admin::AdminCall {
        self.note(format!("admin on node{}: {sql}", self.nodes[i].id));
        let call = crate::admin::AdminCall::default();
        let (addr, c) = (self.nodes[i].mysql, call.clone());
        // binraft's default admin account (`--admin`).
        let (user, password, sql) = ("admin".to_string(), "admin".to_string(), sql.to_string());
        self.admin_node.spawn(crate::admin::run(addr, user, password, sql, c));
        call
    }

    /// A membership change was asked for: until it is settled, `after` may be the voters too.
    pub fn voters_may_become(&self, after: Vec<u64>) {
        self.note(format!("the voters may become {after:?}"));
        self.voters.lock().unwrap_or_else(|p| p.into_inner()).0.push(after);
    }

    /// The voters are `now`, and only those (a change's success was seen).
    pub fn voters_are(&self, now: Vec<u64>) {
        self.note(format!("the voters are {now:?}"));
        self.voters.lock().unwrap_or_else(|p| p.into_inner()).0 = vec![now];
    }

    /// The voter sets that may be in effect.
    pub fn voter_sets(&self) -> VoterSets {
        self.voters.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Starts a killed node again over the same disk.
    pub fn restart(&mut self, i: usize) {
        self.note(format!("restart node{}", self.nodes[i].id));
        self.handle.restart(self.nodes[i].handle.id());
        self.nodes[i].alive = true;
        self.nodes[i].started_ms = self.now_ms();
    }

    /// The supervisor's part (systemd's, Kubernetes'): a node whose binraft ended by itself
    /// since it was started ("node stopped": its Raft stopped on a disk failure) goes down as
    /// its process would, and is started again.
    pub fn supervise(&mut self) {
        let stops = self.trace.lock().stops();
        for i in 0..self.nodes.len() {
            let name = format!("node{}", self.nodes[i].id);
            if self.nodes[i].alive && stops.iter().any(|(ms, n)| *n == name && *ms >= self.nodes[i].started_ms) {
                self.note(format!("{name} exited: the supervisor starts it again"));
                self.kill(i);
                self.restart(i);
            }
        }
    }

    /// Node `i`'s next `n` syncs fail and lose the pages they were to write.
    pub fn fail_syncs(&self, i: usize, n: u32) {
        self.note(format!("node{}'s next {n} syncs fail", self.nodes[i].id));
        self.nodes[i].disk.fail_next_syncs(n);
    }

    /// Node `i`'s disk is full once `room` more bytes are written.
    pub fn fill_disk(&self, i: usize, room: u64) {
        self.note(format!("node{}'s disk fills ({room} bytes left)", self.nodes[i].id));
        let d = &self.nodes[i].disk;
        d.set_capacity_bytes(d.used_bytes() + room);
    }

    /// Space is freed on node `i`'s disk.
    pub fn free_space(&self, i: usize) {
        self.note(format!("space freed on node{}'s disk", self.nodes[i].id));
        self.nodes[i].disk.set_capacity_bytes(u64::MAX);
    }

    /// Cuts node `i` off from the other members (both ways); with `everyone`, from the primary
    /// and the replicas too.
    pub fn isolate(&self, i: usize, everyone: bool) {
        self.note(format!("isolate node{} from {}", self.nodes[i].id, if everyone { "everyone" } else { "the other members" }));
        let net = NetSim::current();
        if everyone {
            net.clog_node(self.nodes[i].handle.id());
            return;
        }
        for (j, other) in self.nodes.iter().enumerate() {
            if j != i {
                net.clog_link(self.nodes[i].handle.id(), other.handle.id());
                net.clog_link(other.handle.id(), self.nodes[i].handle.id());
            }
        }
    }

    /// Cuts node `i` off from the other members one way: with `inbound`, it hears nothing from
    /// them and they hear it; else they hear nothing from it and it hears them.
    pub fn isolate_one_way(&self, i: usize, inbound: bool) {
        self.note(format!("node{} {} the other members", self.nodes[i].id, if inbound { "hears nothing from" } else { "is not heard by" }));
        let net = NetSim::current();
        for (_, other) in self.nodes.iter().enumerate().filter(|(j, _)| *j != i) {
            let (me, them) = (self.nodes[i].handle.id(), other.handle.id());
            if inbound {
                net.clog_link(them, me);
            } else {
                net.clog_link(me, them);
            }
        }
    }

    /// Every packet on every link takes a time drawn from `ms` (madsim's default is 1 to 10 ms).
    pub fn set_latency(&self, ms: std::ops::Range<u64>) {
        self.note(format!("network latency {ms:?} ms"));
        NetSim::current().update_config(|c| c.send_latency = std::time::Duration::from_millis(ms.start)..std::time::Duration::from_millis(ms.end));
    }

    /// Ends every partition, and the network's loss and delays.
    pub fn heal_network(&self) {
        self.note("heal the network".into());
        let net = NetSim::current();
        for a in &self.nodes {
            net.unclog_node(a.handle.id());
            for b in &self.nodes {
                net.unclog_link(a.handle.id(), b.handle.id());
            }
        }
        net.update_config(|c| {
            c.packet_loss_rate = 0.0;
            c.send_latency = madsim::net::Config::default().send_latency;
        });
    }

    /// Loses this share of the packets on every link.
    pub fn set_loss(&self, rate: f64) {
        self.note(format!("packet loss {rate}"));
        NetSim::current().update_config(|c| c.packet_loss_rate = rate);
    }
}
