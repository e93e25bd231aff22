//! The nodes' binlog files are byte-identical prefixes of each other: each is a prefix of the
//! primary's file of the same name (so of any other node's), read off every node's disk, dead
//! or alive, all along the run. A node holds no binlog file the primary does not have.

use binraft_core::store::Disk;
use binraft_io_sim::cluster::Sim;

#[derive(Default)]
pub struct NodesIdentical;

impl NodesIdentical {
    pub fn check(&mut self, sim: &Sim) -> Result<(), String> {
        let primary = sim.primary.lock();
        let log = &primary.log;
        for n in &sim.nodes {
            let names = n.disk.list().map_err(|e| format!("node{}: list: {e}", n.id))?;
            for name in names.iter().filter(|f| f.starts_with("primary-bin.") && !f.ends_with(".tmp")) {
                let Some(fi) = log.file_index(name) else {
                    return Err(format!("node{} holds {name}, which the primary does not have", n.id));
                };
                let theirs = &log.files[fi].1;
                let differs = n.disk.with_contents(name, |ours| {
                    (!theirs.starts_with(ours)).then(|| (ours.len(), ours.iter().zip(theirs.iter()).position(|(a, b)| a != b).unwrap_or(theirs.len())))
                });
                if let Some(Some((len, at))) = differs {
                    return Err(format!("node{}: {name} ({len} bytes) is not a prefix of the primary's ({} bytes): first difference at {at}", n.id, theirs.len()));
                }
            }
        }
        Ok(())
    }
}
