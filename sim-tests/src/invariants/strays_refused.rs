//! A replica that asks for GTIDs no node has (far ahead of the primary in one domain, and in a
//! domain it never wrote: [`binraft_io_sim::replica::STRAY_POSITION`]), as a replica of
//! another cluster pointed here by mistake would, is refused by every node it reaches with
//! MariaDB's answer, error 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG), and is sent no event:
//! not the start of the binlog, not some other position. It asks again and again, from the
//! start of the run; the others go on meanwhile (the other invariants and the convergence say
//! so). By the end, it was refused at least once.

use binraft_io_sim::cluster::Sim;

/// MariaDB's code for a dump it cannot start.
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;

#[derive(Default)]
pub struct StraysRefused {
    refusals_checked: usize,
}

impl StraysRefused {
    pub fn check(&mut self, sim: &Sim) -> Result<(), String> {
        let Some(stray) = &sim.stray else { return Ok(()) };
        let l = stray.lock();
        if let Some(r) = l.received.first() {
            return Err(format!("node{} sent {}:{} ({} bytes) to a replica that asked for GTIDs no node has", r.node + 1, r.file, r.offset, r.bytes.len()));
        }
        for (node, code, message) in &l.refused[self.refusals_checked..] {
            if *code != ER_MASTER_FATAL_ERROR_READING_BINLOG {
                return Err(format!("node{} refused a replica that asked for GTIDs no node has with error {code} ({message}), where MariaDB answers {ER_MASTER_FATAL_ERROR_READING_BINLOG}", node + 1));
            }
        }
        self.refusals_checked = l.refused.len();
        Ok(())
    }

    pub fn check_final(&mut self, sim: &Sim) -> Result<(), String> {
        self.check(sim)?;
        let Some(stray) = &sim.stray else { return Ok(()) };
        let l = stray.lock();
        if l.refused.is_empty() {
            let ends: Vec<String> = l.sessions.iter().take(4).map(|(node, why)| format!("node{}: {why}", node + 1)).collect();
            return Err(format!("the replica that asks for GTIDs no node has was never refused; its first sessions ended so: {ends:?}"));
        }
        Ok(())
    }
}
