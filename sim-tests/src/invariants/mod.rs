//! The invariants, one per file. Each keeps what it has already checked and is called again
//! and again during a run ([`Invariants::check`]) and once after it converged
//! ([`Invariants::check_final`]); a violation is a message, which the scenario turns into a
//! failure with its seed.
//!
//! - [`replica_prefix`]: every replica receives a gap-free, duplicate-free prefix of the
//!   primary's transactions, in order, byte-identical;
//! - [`never_lost`]: a transaction a replica has seen is never lost;
//! - [`durable_on_majority`]: what a replica has seen is durable on a majority of the nodes, at
//!   every moment (their disks as a power cut now would leave them);
//! - [`nodes_identical`]: the nodes' binlog files are byte-identical prefixes of binraft's
//!   layout (the primary's files, then after a change of primary binraft's own), hence of each
//!   other's; it is checked first, as it learns the layout the others judge by;
//! - [`one_puller_per_term`]: at most one node pulls from the primary in a Raft term, and only a
//!   node that leads pulls;
//! - [`strays_refused`]: a replica asking for GTIDs no node has is refused with 1236 and sent
//!   nothing.

pub mod durable_on_majority;
pub mod never_lost;
pub mod nodes_identical;
pub mod one_puller_per_term;
pub mod replica_prefix;
pub mod strays_refused;

use binraft_io_sim::cluster::Sim;

/// All of them, with their progress.
#[derive(Default)]
pub struct Invariants {
    pub replica_prefix: replica_prefix::ReplicaPrefix,
    pub never_lost: never_lost::NeverLost,
    pub durable_on_majority: durable_on_majority::DurableOnMajority,
    pub nodes_identical: nodes_identical::NodesIdentical,
    pub one_puller_per_term: one_puller_per_term::OnePullerPerTerm,
    pub strays_refused: strays_refused::StraysRefused,
}

impl Invariants {
    /// Checks what happened since the last call.
    pub fn check(&mut self, sim: &Sim) -> Result<(), String> {
        self.nodes_identical.check(sim)?;
        self.replica_prefix.check(sim)?;
        self.never_lost.check(sim, &self.replica_prefix)?;
        self.durable_on_majority.check(sim, &self.replica_prefix)?;
        self.one_puller_per_term.check(sim)?;
        self.strays_refused.check(sim)?;
        Ok(())
    }

    /// After the run converged: what must hold at the end.
    pub fn check_final(&mut self, sim: &Sim) -> Result<(), String> {
        self.check(sim)?;
        self.never_lost.check_final(sim, &self.replica_prefix)?;
        self.strays_refused.check_final(sim)
    }
}
