//! At most one node pulls from the primary in a Raft term, and only a node that leads pulls: every
//! node logs the term it leads when its pull starts, and every dump a primary (the first, or
//! the one promoted after it) served a node began after that node said it leads.

use binraft_io_sim::cluster::Sim;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct OnePullerPerTerm {
    by_term: BTreeMap<u64, String>,
    /// Per primary.
    sessions_checked: Vec<usize>,
}

impl OnePullerPerTerm {
    pub fn check(&mut self, sim: &Sim) -> Result<(), String> {
        let pulls = sim.trace.lock().pulls();
        for p in &pulls {
            match self.by_term.get(&p.term) {
                Some(other) if *other != p.node => return Err(format!("term {}: both {other} and {} pulled from the primary (at {} ms)", p.term, p.node, p.ms)),
                Some(_) => {}
                None => {
                    self.by_term.insert(p.term, p.node.clone());
                }
            }
        }
        for (k, primary) in sim.primaries().enumerate() {
            if self.sessions_checked.len() <= k {
                self.sessions_checked.push(0);
            }
            let primary = primary.lock();
            for s in &primary.sessions[self.sessions_checked[k]..] {
                let Some(dump_ms) = s.dump_ms else { continue };
                let Some(i) = sim.index_of_ip(s.peer.ip()) else { continue };
                let name = format!("node{}", sim.nodes[i].id);
                if !pulls.iter().any(|p| p.node == name && p.ms <= dump_ms) {
                    return Err(format!("{name} dumped from the primary at {dump_ms} ms without having led"));
                }
            }
            // Sessions still connecting are looked at again next time.
            self.sessions_checked[k] = primary.sessions.iter().position(|s| s.dump_ms.is_none() && s.end_ms.is_none()).unwrap_or(primary.sessions.len());
        }
        Ok(())
    }
}
