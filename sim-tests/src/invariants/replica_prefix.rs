//! Every replica receives a gap-free, duplicate-free prefix of the primary's transactions, in
//! the primary's order, byte-identical: each append a replica takes must lie in one of
//! binraft's files ([`binraft_io_sim::layout`]: the primary's own until a change of primary)
//! exactly where the replica's copy of that file ends, hold their very bytes, and bring the
//! transactions right after the last one it had, across reconnections to any node and across
//! a change of primary. After one, an append of bytes no node has shown yet is judged once one
//! has; and when binraft's own bytes begin (the cut), no replica may have received anything of
//! the old primary's beyond it: that would be a transaction binraft served and then lost.

use binraft_io_sim::binlog::{gtid_pos, txns_within};
use binraft_io_sim::cluster::Sim;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct ReplicaPrefix {
    /// Per replica: appends checked, where each of its files ends, and how many of the
    /// primary's transactions it holds (they are the first ones).
    progress: Vec<Progress>,
    /// The cut was checked.
    cut_checked: bool,
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
        let log = sim.layout.lock();
        if let (Some(cut), false) = (log.cut, self.cut_checked) {
            self.cut_checked = true;
            let name = &log.files[cut.file].0;
            for (k, replica) in sim.replicas.iter().enumerate() {
                let p = &self.progress[k];
                let end = p.ends.get(name).copied().unwrap_or(0);
                if p.txns > cut.txns || end > cut.offset {
                    return Err(format!(
                        "{} had received {} transactions, {name} up to {end}, but binraft's own files begin after {} transactions, at {name}:{}: it lost what it had served",
                        replica.lock().name,
                        p.txns,
                        cut.txns,
                        cut.offset
                    ));
                }
            }
        }
        for (k, replica) in sim.replicas.iter().enumerate() {
            let r = replica.lock();
            let p = &mut self.progress[k];
            if let Some(v) = r.verify_failures.first() {
                return Err(format!("{}: {v}", r.name));
            }
            for got in &r.received[p.checked..] {
                let who = format!("{} (by {}) from node{} at {} ms", r.name, if r.by_gtid { "GTID" } else { "position" }, sim.nodes[got.node].id, got.ms);
                let end = got.offset + got.bytes.len() as u64;
                let Some(fi) = log.file_index(&got.file) else {
                    if log.switched {
                        // binraft's own, not yet shown by a node: judged later.
                        break;
                    }
                    return Err(format!("{who}: an append to {}, a file the primary does not have", got.file));
                };
                let ours = &log.files[fi].1;
                if log.switched && ours.len() < end as usize && got.bytes.starts_with(ours.get(got.offset as usize..).unwrap_or_default()) {
                    break;
                }
                if ours.get(got.offset as usize..end as usize) != Some(&got.bytes[..]) {
                    return Err(format!("{who}: {}[{}..{end}] differs from binraft's files ({} bytes there)", got.file, got.offset, ours.len()));
                }
                let held_end = p.ends.get(&got.file).copied().unwrap_or(4);
                if got.offset != held_end {
                    return Err(format!("{who}: an append at {}:{} where its copy ends at {held_end} (a gap or a duplicate)", got.file, got.offset));
                }
                let txns = txns_within(&log.txns, fi, got.offset, end);
                if !txns.is_empty() {
                    if txns.start != p.txns {
                        let at = |i: usize| log.txns.get(i).map(|t| format!("{} in {}:{}", t.spec.gtid, log.files[t.file].0, t.offset)).unwrap_or_default();
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
                            gtid_pos(&log.txns[..p.txns.min(log.txns.len())])
                        ));
                    }
                    if log.txns[txns.end - 1].end > end {
                        return Err(format!("{who}: a transaction cut in the middle ({})", log.txns[txns.end - 1].spec.gtid));
                    }
                    p.txns = txns.end;
                }
                p.ends.insert(got.file.clone(), end);
                p.checked += 1;
            }
        }
        Ok(())
    }
}
