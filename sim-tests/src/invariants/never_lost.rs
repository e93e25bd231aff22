//! A transaction a replica has seen is never lost: the number of the primary's transactions the
//! replicas have seen only grows, and once the run has healed every node holds all of them, in
//! its files, or purged them (the cluster never forgets what it served).
//!
//! With one primary that never loses anything, a cluster that lost a transaction would pull it
//! again, byte for byte, and look whole; across a change of primary it could not: binraft's own
//! files then begin after the last transaction it kept, and a replica that had received one
//! after it, or an ACK the old primary got for one, fails [`super::replica_prefix`] and
//! [`super::durable_on_majority`] at the cut.

use super::replica_prefix::ReplicaPrefix;
use binraft_io_sim::cluster::Sim;

#[derive(Default)]
pub struct NeverLost {
    seen_max: usize,
}

impl NeverLost {
    pub fn check(&mut self, _sim: &Sim, replicas: &ReplicaPrefix) -> Result<(), String> {
        let now = replicas.seen_max();
        if now < self.seen_max {
            return Err(format!("the replicas' high-water mark went back from {} to {now} transactions", self.seen_max));
        }
        self.seen_max = now;
        Ok(())
    }

    pub fn check_final(&mut self, sim: &Sim, replicas: &ReplicaPrefix) -> Result<(), String> {
        self.check(sim, replicas)?;
        for (_, n) in sim.members() {
            let held = crate::scenario::txns_held(sim, n).min(self.seen_max);
            if held < self.seen_max {
                return Err(format!("node{} holds {held} of the {} transactions replicas saw", n.id, self.seen_max));
            }
        }
        Ok(())
    }
}
