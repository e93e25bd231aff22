//! Bugs planted on purpose, in the simulator only: its teeth tests switch one on for a run and
//! require the invariants to catch it (`sim-tests/tests/teeth.rs`). Per thread, since a
//! simulation runs on one; off unless a test sets it, and absent outside `--cfg madsim`.

use std::cell::Cell;

/// A bug the node can be built to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// A restarting member does not take its binlog files back to its last checkpoint, so the
    /// entries after it are applied a second time over what the files already hold.
    ApplyTwiceAfterRestart,
    /// The leader's pull sends a semi-sync ACK as soon as the transaction arrives, before its
    /// entry is committed (kingbus's bug).
    AckBeforeCommit,
    /// The leader writes what it pulls to its own files, where its replicas read, before the
    /// Raft commit (its apply then skips what is there already).
    ServeUncommitted,
}

thread_local! {
    static PLANTED: Cell<Option<Bug>> = const { Cell::new(None) };
}

/// Plants `bug` (or none) for the simulations run on this thread from now on.
pub fn plant(bug: Option<Bug>) {
    PLANTED.with(|p| p.set(bug));
}

/// Whether `bug` is planted on this thread.
pub fn has(bug: Bug) -> bool {
    PLANTED.with(|p| p.get() == Some(bug))
}
