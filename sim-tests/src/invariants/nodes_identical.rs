//! The nodes' binlog files are byte-identical prefixes of each other, read off every node's
//! disk, dead or alive, all along the run: each is a prefix of binraft's layout
//! ([`binraft_io_sim::layout`]), which is the primary's own files until a change of primary,
//! and after it the files binraft writes itself, learned from the first node that shows them
//! and checked as they are learned (the new primary's transactions, in order, right after the
//! old one's). A node holds no binlog file the primary does not have, before a change of
//! primary.

use binraft_core::store::Disk;
use binraft_io_sim::cluster::Sim;

#[derive(Default)]
pub struct NodesIdentical;

impl NodesIdentical {
    pub fn check(&mut self, sim: &Sim) -> Result<(), String> {
        let primary = sim.primary.lock();
        let mut layout = sim.layout.lock();
        for n in &sim.nodes {
            // In name order (MemDisk lists so): a file's predecessor is learned first.
            let names = n.disk.list().map_err(|e| format!("node{}: list: {e}", n.id))?;
            let who = format!("node{}", n.id);
            for name in names.iter().filter(|f| f.starts_with("primary-bin.") && !f.ends_with(".tmp")) {
                n.disk.with_contents(name, |ours| layout.observe(&who, name, ours, &primary.log)).unwrap_or(Ok(()))?;
            }
        }
        Ok(())
    }
}
