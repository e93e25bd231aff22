//! Membership online: learners (they serve replicas and do not vote: fan-out, remote sites)
//! added, promoted to voters, and members removed, through the log. Asked of any member; a
//! follower forwards the change to the leader over the Raft port.
//!
//! Refused, with the reason: removing the last voter, and removing a voter when the voters left
//! that answer the leader would be fewer than a majority of them (the cluster would stop).

use super::types::{Raft, Types};
use openraft::async_runtime::WatchReceiver;
use openraft::Instant as _;
use openraft::{BasicNode, ChangeMembers, ServerState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A change of the cluster's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberChange {
    /// A new member that receives the log (a snapshot first) and serves, without a vote.
    AddLearner { node_id: u64, addr: String },
    /// A learner becomes a voter.
    Promote { node_id: u64 },
    /// A voter or a learner leaves the cluster.
    Remove { node_id: u64 },
}

/// A voter counts as answering if the leader heard from it within this.
const ANSWERED_WITHIN: Duration = Duration::from_secs(3);

/// Carries out `change` on this node, which must lead: what it did, or why not.
pub async fn execute(raft: &Raft, change: &MemberChange) -> Result<String, String> {
    let m = raft.metrics().borrow_watched().clone();
    if m.state != ServerState::Leader {
        return Err(format!("node {} does not lead (node {:?} does)", m.id, m.current_leader));
    }
    let membership = m.membership_config.membership().clone();
    let voters: BTreeSet<u64> = membership.voter_ids().collect();
    let learners: BTreeSet<u64> = membership.learner_ids().collect();
    match change {
        MemberChange::AddLearner { node_id, addr } => {
            if voters.contains(node_id) || learners.contains(node_id) {
                return Err(format!("node {node_id} is a member already"));
            }
            raft.add_learner(*node_id, BasicNode { addr: addr.clone() }, false).await.map_err(|e| e.to_string())?;
            tracing::info!(node = node_id, %addr, "raft: learner added; it catches up from a snapshot and the log");
            Ok(format!("node {node_id} added as a learner"))
        }
        MemberChange::Promote { node_id } => {
            if voters.contains(node_id) {
                return Err(format!("node {node_id} is a voter already"));
            }
            if !learners.contains(node_id) {
                return Err(format!("node {node_id} is not a learner: add it as one first"));
            }
            raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([*node_id])), true).await.map_err(|e| e.to_string())?;
            tracing::info!(node = node_id, "raft: learner promoted to voter");
            Ok(format!("node {node_id} is a voter"))
        }
        MemberChange::Remove { node_id } => {
            if learners.contains(node_id) {
                raft.change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([*node_id])), false).await.map_err(|e| e.to_string())?;
                tracing::info!(node = node_id, "raft: learner removed");
                return Ok(format!("learner {node_id} removed"));
            }
            if !voters.contains(node_id) {
                return Err(format!("node {node_id} is not a member"));
            }
            if voters.len() == 1 {
                return Err(format!("node {node_id} is the last voter: the cluster would have none"));
            }
            let left: BTreeSet<u64> = voters.iter().copied().filter(|v| v != node_id).collect();
            let answering = answering_voters(&m, &left);
            if answering * 2 <= left.len() {
                return Err(format!(
                    "removing node {node_id} would leave {} voters of which {answering} answer: fewer than a majority, the cluster would stop",
                    left.len()
                ));
            }
            raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([*node_id])), false).await.map_err(|e| e.to_string())?;
            tracing::info!(node = node_id, "raft: voter removed");
            Ok(format!("voter {node_id} removed"))
        }
    }
}

/// How many of `voters` the leader heard from lately (itself included).
fn answering_voters(m: &openraft::RaftMetrics<Types>, voters: &BTreeSet<u64>) -> usize {
    let acked: BTreeMap<u64, bool> = match &m.heartbeat {
        Some(h) => h.iter().map(|(id, at)| (*id, at.as_ref().is_some_and(|t| t.elapsed() < ANSWERED_WITHIN))).collect(),
        None => BTreeMap::new(),
    };
    voters.iter().filter(|v| **v == m.id || acked.get(v).copied().unwrap_or(false)).count()
}
