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
    /// The primary's ACK violations already reported.
    reported: usize,
}

impl DurableOnMajority {
    pub fn check(&mut self, sim: &Sim, replicas: &ReplicaPrefix) -> Result<(), String> {
        for r in &sim.replicas {
            let l = r.lock();
            if let Some(v) = l.arrival_violations.first() {
                return Err(format!("{} received what was not yet durable on a majority: {v}", l.name));
            }
        }
        let (names, newest, acked) = {
            let p = sim.primary.lock();
            if let Some(v) = p.ack_violations.get(self.reported) {
                self.reported += 1;
                return Err(format!("the primary got a semi-sync ACK too early: {v}"));
            }
            let seen = replicas.seen_max().max(p.acked_txns);
            if seen == 0 {
                return Ok(());
            }
            // The newest transaction seen or ACKed: the older ones sit before it.
            let t = &p.log.txns[seen - 1];
            (p.log.files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), (seen, t.file, t.end), p.acked_txns)
        };
        let (seen, file, end) = newest;
        let voters = sim.voter_sets();
        binraft_io_sim::cluster::durable_on_voters(sim.nodes.iter().map(|n| (n.id, &n.disk)), &voters, &names, file, end)?.map_err(|e| {
            let who = if acked >= seen { "ACKed to the primary" } else { "seen by a replica" };
            format!("transaction {seen} ({} up to {end}), {who}, is {e}: a power cut of the others would lose it", names[file])
        })
    }
}
