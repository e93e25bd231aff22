//! What a replica has seen is durable on a majority of the nodes, at every moment: in the synced
//! bytes of their binlog files, or in their synced Raft log (applied again after a restart). A
//! power cut of any minority then keeps it.
//!
//! The end state alone cannot show a lost write here: the simulated primary still holds what a
//! cluster lost, and the cluster would pull it again, byte for byte. So this is checked on the
//! disks themselves, as a power cut now would leave them ([`binraft_io_sim::cluster::Sim::durable`]):
//! a node that skips its log's fsync, or serves what a majority has not made durable, fails it at
//! once.

use super::replica_prefix::ReplicaPrefix;
use binraft_io_sim::cluster::Sim;

#[derive(Default)]
pub struct DurableOnMajority {}

impl DurableOnMajority {
    pub fn check(&mut self, sim: &Sim, replicas: &ReplicaPrefix) -> Result<(), String> {
        let seen = replicas.seen_max();
        if seen == 0 {
            return Ok(());
        }
        // The newest transaction seen: the older ones sit before it in the same files.
        let (names, file, end) = {
            let p = sim.primary.lock();
            let t = &p.log.txns[seen - 1];
            (p.log.files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), t.file, t.end)
        };
        let position = |name: &str| names.iter().position(|n| n == name);
        let mut holders = Vec::new();
        for (i, n) in sim.nodes.iter().enumerate() {
            let d = sim.durable(i)?;
            let in_files = d.files.get(&names[file]).is_some_and(|&len| len >= end);
            let in_log = d.logged.as_ref().is_some_and(|(f, e)| position(f).is_some_and(|at| at > file || (at == file && *e >= end)));
            if in_files || in_log {
                holders.push(n.id);
            }
        }
        if holders.len() * 2 <= sim.nodes.len() {
            return Err(format!(
                "transaction {seen} ({} up to {end}), which a replica has seen, is durable only on nodes {holders:?} of {}: a power cut of the others would lose it",
                names[file],
                sim.nodes.len()
            ));
        }
        Ok(())
    }
}
