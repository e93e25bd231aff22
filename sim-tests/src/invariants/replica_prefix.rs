//! Every replica receives a gap-free, duplicate-free prefix of the primary's transactions, in
//! the primary's order, byte-identical: each append a replica takes must lie in one of the
//! primary's files exactly where the replica's copy of that file ends, hold the primary's very
//! bytes, and bring the transactions right after the last one it had, across reconnections to
//! any node.

use binraft_io_sim::cluster::Sim;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct ReplicaPrefix {
    /// Per replica: appends checked, where each of its files ends, and how many of the
    /// primary's transactions it holds (they are the first ones).
    progress: Vec<Progress>,
}

#[derive(Default, Clone)]
struct Progress {
    checked: usize,
    ends: BTreeMap<String, u64>,
    txns: usize,
}

impl ReplicaPrefix {
    /// The most transactions any replica holds.
    pub fn seen_max(&self) -> usize {
        self.progress.iter().map(|p| p.txns).max().unwrap_or(0)
    }

    /// How many transactions each replica holds.
    pub fn held(&self) -> Vec<usize> {
        self.progress.iter().map(|p| p.txns).collect()
    }

    pub fn check(&mut self, sim: &Sim) -> Result<(), String> {
        self.progress.resize(sim.replicas.len(), Progress::default());
        let primary = sim.primary.lock();
        let log = &primary.log;
        for (k, replica) in sim.replicas.iter().enumerate() {
            let r = replica.lock();
            let p = &mut self.progress[k];
            if let Some(v) = r.verify_failures.first() {
                return Err(format!("{}: {v}", r.name));
            }
            for got in &r.received[p.checked..] {
                let who = format!("{} (by {}) from node{} at {} ms", r.name, if r.by_gtid { "GTID" } else { "position" }, sim.nodes[got.node].id, got.ms);
                let Some(fi) = log.file_index(&got.file) else {
                    return Err(format!("{who}: an append to {}, a file the primary does not have", got.file));
                };
                let end = got.offset + got.bytes.len() as u64;
                let ours = &log.files[fi].1;
                if ours.get(got.offset as usize..end as usize) != Some(&got.bytes[..]) {
                    return Err(format!("{who}: {}[{}..{end}] differs from the primary's ({} bytes there)", got.file, got.offset, ours.len()));
                }
                let held_end = p.ends.get(&got.file).copied().unwrap_or(4);
                if got.offset != held_end {
                    return Err(format!("{who}: an append at {}:{} where its copy ends at {held_end} (a gap or a duplicate)", got.file, got.offset));
                }
                let txns = log.txns_within(fi, got.offset, end);
                if !txns.is_empty() {
                    if txns.start != p.txns {
                        let at = |i: usize| log.txns.get(i).map(|t| format!("{} in {}:{}", t.gtid, log.files[t.file].0, t.offset)).unwrap_or_default();
                        return Err(format!(
                            "{who}: got transactions {}..{} ({}) in {}:{} after the first {} (a gap or a duplicate); its next would have been {}, its last was {}; the replica asked from {}",
                            txns.start,
                            txns.end,
                            at(txns.start),
                            got.file,
                            got.offset,
                            p.txns,
                            at(p.txns),
                            at(p.txns.wrapping_sub(1)),
                            log.gtid_pos_after(p.txns)
                        ));
                    }
                    if log.txns[txns.end - 1].end > end {
                        return Err(format!("{who}: a transaction cut in the middle ({})", log.txns[txns.end - 1].gtid));
                    }
                    p.txns = txns.end;
                }
                p.ends.insert(got.file.clone(), end);
            }
            p.checked = r.received.len();
        }
        Ok(())
    }
}
