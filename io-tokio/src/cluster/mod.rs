//! binraft as a member of a Raft cluster (openraft): the leader alone pulls from the primary and
//! proposes what it receives; every member applies committed entries to its own binlog files
//! and serves them.
//!
//! - [`types`]: openraft's type configuration;
//! - [`log_store`]: the Raft log and vote, on core's durable record log;
//! - [`state_machine`]: committed entries applied to the store, checkpoints, restart;
//! - [`network`]: the Raft port, with the peers' challenge on the cluster secret;
//! - [`members`]: learners and voters added, promoted and removed online.
//!
//! What a member does, in order: it cuts its store back to its last checkpoint
//! ([`state_machine::open_store`]), opens the log, starts Raft, bootstraps the cluster if its log
//! has never held anything (every member may: openraft keeps one), and serves the Raft port.
//! The upstream driver asks [`Cluster::until_leader_ready`] before it pulls, and stops as soon as
//! [`Cluster::leadership_lost`] fires.

pub mod log_store;
pub mod runtime;
pub mod members;
pub mod network;
pub mod state_machine;
pub mod types;

use crate::config::ClusterSettings;
use crate::store::Store;
use binraft_core::cluster::log::RaftLog;
use binraft_core::cluster::request::{Group, Request, Response};
use binraft_core::store::binlogs::Append;
use binraft_core::store::Disk;
use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config, ReadPolicy, ServerState, SnapshotPolicy};
use std::collections::BTreeMap;
use std::sync::Arc;
use types::Raft;

/// The log's segment files are preallocated to this.
#[cfg(not(madsim))]
pub(crate) const SEGMENT_BYTES: u64 = 64 << 20;
/// In the simulator, small segments: a simulated run writes a few MiB, so the log moves from
/// segment to segment (which 64 MiB would never show), and each node's in-memory disk does
/// not hold a mostly empty 64 MiB file, copied at every sync.
#[cfg(madsim)]
pub(crate) const SEGMENT_BYTES: u64 = 1 << 20;

/// How many entries one AppendEntries carries at most: a batch must fit in one frame of the
/// Raft port.
pub fn max_payload_entries(entry_bytes_max: usize, group_bytes_max: usize) -> u64 {
    let largest = entry_bytes_max.max(group_bytes_max).max(1);
    (network::FRAME_BYTES_MAX / 2 / largest).clamp(1, 256) as u64
}

/// A running member.
pub struct Cluster {
    pub raft: Raft,
    pub node_id: u64,
    entry_bytes_max: usize,
    secret: Arc<str>,
    store: Store,
    /// The snapshot this member is receiving, if it is.
    pub catch_up: network::CatchUp,
}

/// Why a proposal did not commit. The caller (the upstream) ends its session: what it had not
/// committed is pulled again by whichever node leads next.
#[derive(Debug)]
pub enum ProposeError {
    /// This node does not lead (any more).
    NotLeader { leader: Option<u64> },
    Raft(String),
}

impl std::fmt::Display for ProposeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProposeError::NotLeader { leader: Some(l) } => write!(f, "not the leader any more (node {l} is)"),
            ProposeError::NotLeader { leader: None } => write!(f, "not the leader any more"),
            ProposeError::Raft(e) => write!(f, "raft: {e}"),
        }
    }
}

impl Cluster {
    /// Starts this member over `disk` and `store` (already cut back by
    /// [`state_machine::open_store`]), serving the Raft port on `raft_listener`.
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        settings: &ClusterSettings,
        disk: Arc<dyn Disk>,
        store: Store,
        restored: &state_machine::Restored,
        raft_listener: tokio::net::TcpListener,
        group_bytes_max: usize,
        replication: Arc<crate::upstream::Replication>,
        readers: crate::server::Readers,
    ) -> Result<Arc<Cluster>, String> {
        let (log, opened) = RaftLog::open(Arc::clone(&disk), SEGMENT_BYTES).map_err(|e| format!("raft log: {e}"))?;
        if let Some((segment, offset)) = &opened.cut {
            tracing::warn!(%segment, offset, "raft log: cut a torn or damaged tail");
        }
        tracing::info!(records = opened.records, segments = opened.segments, applied = ?restored.applied, "raft log opened");
        // What a killed process wrote but never synced reads back from the page cache: synced
        // now, before openraft takes it as this member's durable log (and votes or acknowledges
        // by it).
        if let Some(last) = log.sync_target().map_err(|e| format!("raft log: {e}"))? {
            last.sync_data().map_err(|e| format!("raft log: cannot sync its last segment: {e}"))?;
        }
        let log = log_store::LogStore::new(log, disk);
        let pristine = log.is_pristine();
        let config = Config {
            cluster_name: "binraft".into(),
            // A follower campaigns once it has heard nothing from the leader for the leader's
            // lease (openraft takes election_timeout_max) plus a random election timeout:
            // between 750 ms and 1 s after the leader's last heartbeat. With 400-800 ms it was
            // 1.2 to 1.6 s, and the failover's p99 was over the 1.5 s a DBA is promised.
            heartbeat_interval: 100,
            election_timeout_min: 250,
            election_timeout_max: 500,
            // A snapshot is a checkpoint (it copies nothing); the log is then purged up to it,
            // less what a member a little behind still takes from the log.
            snapshot_policy: SnapshotPolicy::LogsSinceLast(settings.snapshot_entries),
            max_in_snapshot_log_to_keep: settings.snapshot_entries / 2,
            // A member whose data directory was lost or wiped comes back with an empty log: it
            // is sent a snapshot and the log again, rather than stopping the leader.
            allow_log_reversion: Some(true),
            max_payload_entries: max_payload_entries(settings.entry_bytes_max, group_bytes_max),
            ..Config::default()
        };
        let config = Arc::new(config.validate().map_err(|e| format!("raft config: {e}"))?);
        let secret: Arc<str> = Arc::from(settings.secret.as_str());
        let network = network::Network { me: settings.node_id, secret: Arc::clone(&secret), store: store.clone(), log: log.clone() };
        let sm = state_machine::StateMachine::new(store.clone(), restored, replication);
        let raft = Raft::new(settings.node_id, config, network, log, sm).await.map_err(|e| format!("raft: {e}"))?;
        let members: Vec<u64> = settings.peers.keys().copied().collect();
        let catch_up = network::CatchUp::default();
        tokio::spawn(network::serve(raft_listener, raft.clone(), Arc::clone(&secret), settings.node_id, members, store.clone(), Arc::clone(&catch_up), readers));
        // A member with an empty log bootstraps the cluster, unless a peer already knows it
        // formed (this member was added later, or its data directory was wiped): then it waits
        // to be sent the log, or a snapshot.
        let mut formed = false;
        if pristine {
            for (id, addr) in settings.peers.iter().filter(|(id, _)| **id != settings.node_id) {
                if network::probe(settings.node_id, *id, addr, Arc::clone(&secret), store.clone()).await == Some(true) {
                    tracing::info!(peer = id, "raft: the cluster is formed already; this member joins it");
                    formed = true;
                    break;
                }
            }
        }
        if pristine && !formed {
            let nodes: BTreeMap<u64, BasicNode> = settings.peers.iter().map(|(id, addr)| (*id, BasicNode { addr: addr.clone() })).collect();
            match raft.initialize(nodes).await {
                Ok(()) => tracing::info!(members = ?settings.peers.keys().collect::<Vec<_>>(), "raft: a new cluster, bootstrapped"),
                // Another member bootstrapped it first: this one joins.
                Err(e) => tracing::info!("raft: not bootstrapping ({e})"),
            }
        }
        Ok(Arc::new(Cluster { raft, node_id: settings.node_id, entry_bytes_max: settings.entry_bytes_max, secret, store, catch_up }))
    }

    /// Returns once this node leads and has applied its whole log: the store then holds all the
    /// cluster holds, and the pull may start from its end. A leader restarted in its own term
    /// (its vote was committed) appends no blank entry and may remember an old commit: its log
    /// may hold entries it has not applied yet, which the pull must not receive again (the
    /// simulator found it: `leader_crash_loop`, seed 1).
    pub async fn until_leader_ready(&self) {
        let me = self.node_id;
        loop {
            let _ = self.raft.wait(None).metrics(|m| m.state == ServerState::Leader && m.current_leader == Some(me), "leader").await;
            if let Err(e) = self.raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
                tracing::debug!("raft: leading, but not ready yet: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            let m = self.raft.wait(None).metrics(|m| m.state != ServerState::Leader || m.last_applied.map(|l| l.index) >= m.last_log_index, "applied the whole log").await;
            if m.is_ok_and(|m| m.state == ServerState::Leader && m.current_leader == Some(me)) {
                return;
            }
        }
    }

    /// Returns once this node no longer leads.
    pub async fn leadership_lost(&self) {
        let me = self.node_id;
        let _ = self.raft.wait(None).metrics(|m| m.state != ServerState::Leader || m.current_leader != Some(me), "not leader").await;
    }

    /// Proposes `req` from any member: here if this node leads, else through the leader (over
    /// the Raft port). Returns once it is committed, and applied on the leader.
    pub async fn propose_anywhere(&self, req: Request) -> Result<Response, String> {
        match self.propose(req.clone()).await {
            Ok(r) => Ok(r),
            Err(ProposeError::NotLeader { leader: Some(leader) }) => {
                let m = self.metrics();
                let addr = m.membership_config.membership().get_node(&leader).map(|n| n.addr.clone()).ok_or_else(|| format!("the leader, node {leader}, has no address in the membership"))?;
                network::forward_proposal(self.node_id, leader, &addr, Arc::clone(&self.secret), self.store.clone(), req).await
            }
            Err(ProposeError::NotLeader { leader: None }) => Err("no leader now: try again once one is elected".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Proposes `req` and waits until it is committed (on a majority, durably) and applied here.
    pub async fn propose(&self, req: Request) -> Result<Response, ProposeError> {
        match self.raft.client_write(req).await {
            Ok(w) => Ok(w.data),
            Err(e) => match e.forward_to_leader() {
                Some(f) => Err(ProposeError::NotLeader { leader: f.leader_id }),
                None => Err(ProposeError::Raft(e.to_string())),
            },
        }
    }

    /// Proposes a batch of appends as entries of at most `entry_bytes_max` each (a larger group
    /// goes alone), in order; returns once all are committed and applied.
    pub async fn propose_groups(&self, batch: &mut Vec<Append>) -> Result<(), ProposeError> {
        let mut entry: Vec<Group> = Vec::new();
        let mut bytes = 0usize;
        for (file, offset, b, info) in std::mem::take(batch) {
            if !entry.is_empty() && bytes + b.len() > self.entry_bytes_max {
                self.propose(Request::Groups(std::mem::take(&mut entry))).await?;
                bytes = 0;
            }
            bytes += b.len();
            entry.push(Group { file, offset, bytes: b.into(), part: info.part });
        }
        if !entry.is_empty() {
            self.propose(Request::Groups(entry)).await?;
        }
        Ok(())
    }

    /// Carries out a membership change: here if this node leads, else on the leader.
    pub async fn change_members(&self, change: members::MemberChange) -> Result<String, String> {
        let m = self.metrics();
        if m.state == ServerState::Leader {
            return members::execute(&self.raft, &change).await;
        }
        let leader = m.current_leader.ok_or("no leader now: try again once one is elected")?;
        let addr = m.membership_config.membership().get_node(&leader).map(|n| n.addr.clone()).ok_or_else(|| format!("the leader, node {leader}, has no address in the membership"))?;
        network::forward_members(self.node_id, leader, &addr, Arc::clone(&self.secret), self.store.clone(), change).await
    }

    /// The files the replicas of the other members read now, asked of each (learners too). A
    /// member that cannot be asked serves no one that matters now, but a majority of the voters
    /// (this one counted) must answer.
    pub async fn files_read_elsewhere(&self) -> Result<std::collections::BTreeSet<String>, String> {
        let m = self.metrics();
        let membership = m.membership_config.membership().clone();
        let voters: Vec<u64> = membership.voter_ids().collect();
        let mut read = std::collections::BTreeSet::new();
        let mut answered = usize::from(voters.contains(&self.node_id));
        for (id, node) in membership.nodes().filter(|(id, _)| **id != self.node_id) {
            match network::files_read(self.node_id, *id, &node.addr, Arc::clone(&self.secret), self.store.clone()).await {
                Ok(files) => {
                    read.extend(files);
                    answered += usize::from(voters.contains(id));
                }
                Err(e) => tracing::info!(peer = id, "raft: cannot ask which files its replicas read: {e}"),
            }
        }
        if answered * 2 <= voters.len() {
            return Err(format!("only {answered} of the {} voters could be asked which files their replicas read: not purging", voters.len()));
        }
        Ok(read)
    }

    /// The latest of openraft's metrics.
    pub fn metrics(&self) -> openraft::RaftMetrics<types::Types> {
        self.raft.metrics().borrow_watched().clone()
    }

    /// Why Raft stopped on this node, if it did (a storage failure, a fatal apply).
    pub fn stopped(&self) -> Option<String> {
        self.metrics().running_state.err().map(|e| e.to_string())
    }

    /// Waits until Raft stops on this node (a storage failure, a fatal apply), and says why.
    pub async fn wait_stopped(&self) -> String {
        let mut rx = self.raft.metrics();
        loop {
            if let Err(e) = &rx.borrow_watched().running_state {
                return e.to_string();
            }
            if rx.changed().await.is_err() {
                return "raft ended".into();
            }
        }
    }

    /// The role, as the status API names it.
    pub fn role(&self) -> &'static str {
        match self.metrics().state {
            ServerState::Leader => "leader",
            ServerState::Follower => "follower",
            ServerState::Learner => "learner",
            ServerState::Candidate => "candidate",
            ServerState::Shutdown => "shutdown",
        }
    }
}
