//! What a replica has seen, or the primary got a semi-sync ACK for, is durable on a majority
//! of the voters (of one of the voter sets that may be in effect, while a membership change is
//! on its way), at every moment: in the synced bytes of their binlog files, or in their synced
//! Raft log (applied again after a restart). A power cut of any minority then keeps it.
//!
//! The end state alone cannot show a lost write here: the simulated primary still holds what a
//! cluster lost, and the cluster would pull it again, byte for byte. So this is checked on the
//! disks themselves, as a power cut now would leave them
//! ([`binraft_io_sim::cluster::holds_durably`]): every check for what replicas have seen and the
//! ACKs cover, and the primary and the replicas check ACKs and data the moment they arrive. A node that skips its log's
//! fsync, serves what a majority has not made durable, or ACKs before the Raft commit fails it.

use super::replica_prefix::ReplicaPrefix;
use binraft_io_sim::cluster::Sim;

#[derive(Default)]
pub struct DurableOnMajority {
    /// The cut was checked.
    cut_checked: bool,
}

impl DurableOnMajority {
    pub fn check(&mut self, sim: &Sim, replicas: &ReplicaPrefix) -> Result<(), String> {
        for r in &sim.replicas {
            let l = r.lock();
            if let Some(v) = l.arrival_violations.first() {
                return Err(format!("{} received what was not yet durable on a majority: {v}", l.name));
            }
        }
        for p in sim.primaries() {
            if let Some(v) = p.lock().ack_violations.first() {
                return Err(format!("the primary got a semi-sync ACK too early: {v}"));
            }
        }
        let acked = sim.acked_txns();
        let layout = sim.layout.lock();
        if let (Some(cut), false) = (layout.cut, self.cut_checked) {
            self.cut_checked = true;
            let old = sim.former.first().map_or(0, |p| p.lock().acked_txns);
            if old > cut.txns {
                return Err(format!("the old primary got semi-sync ACKs for {old} transactions, but binraft's own files begin after {}: it lost what it had ACKed", cut.txns));
            }
        }
        // The newest transaction seen or ACKed whose place in binraft's files a node has shown:
        // the older ones sit before it.
        let seen = replicas.seen_max().max(acked).min(layout.txns.len());
        if seen == 0 {
            return Ok(());
        }
        let t = &layout.txns[seen - 1];
        let (file, end) = (layout.files[t.file].0.clone(), t.end);
        drop(layout);
        let voters = sim.voter_sets();
        binraft_io_sim::cluster::durable_on_voters(sim.nodes.iter().map(|n| (n.id, &n.disk)), &voters, &file, end)?.map_err(|e| {
            let who = if acked >= seen { "ACKed to the primary" } else { "seen by a replica" };
            format!("transaction {seen} ({file} up to {end}), {who}, is {e}: a power cut of the others would lose it")
        })
    }
}
