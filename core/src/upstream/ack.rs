//! Semi-sync ACKs held until what they acknowledge is committed.
//!
//! In: [`UpstreamOutput::Ack`](super::UpstreamOutput::Ack)s as the session emits them, and the
//! id of the last committed append as the driver learns it. Out: the ACK bytes that may go to
//! the primary now. An ACK tells the primary "durably received": sent before its append is
//! committed, a crash would lose a transaction the primary counts as safe. The condition is
//! kept here, as openraft's `Respond { when: LogFlushed }`, rather than in the order in which a
//! driver happens to run its outputs, so a driver that batches or pipelines appends, or commits
//! them from another task, cannot ACK early.

use std::collections::BTreeMap;

/// Append ids are given by the session, one per stored group, increasing from 1; 0 means
/// nothing is committed yet.
pub type AppendId = u64;

#[derive(Debug, Default)]
pub struct HeldAcks {
    /// By the append each one waits for. A BTreeMap, not a queue: release does not rely on the
    /// ACKs arriving in the order of their appends.
    held: BTreeMap<AppendId, Vec<u8>>,
    committed: AppendId,
}

impl HeldAcks {
    pub fn new() -> Self {
        HeldAcks::default()
    }

    /// An ACK that may leave once append `after` is committed.
    pub fn hold(&mut self, after: AppendId, bytes: Vec<u8>) {
        self.held.insert(after, bytes);
    }

    /// Every append up to `committed` is committed (a smaller id than before changes nothing:
    /// commit never goes back). Afterwards [`HeldAcks::poll_ack`] gives what may be sent.
    pub fn handle_committed(&mut self, committed: AppendId) {
        self.committed = self.committed.max(committed);
    }

    /// The next ACK whose append is committed, oldest first.
    #[must_use]
    pub fn poll_ack(&mut self) -> Option<Vec<u8>> {
        let first = self.held.first_key_value().map(|(id, _)| *id)?;
        if first > self.committed {
            return None;
        }
        self.held.remove(&first)
    }

    /// ACKs still waiting.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(h: &mut HeldAcks) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| h.poll_ack()).collect()
    }

    #[test]
    fn an_ack_leaves_only_once_its_append_is_committed() {
        let mut h = HeldAcks::new();
        h.hold(2, b"two".to_vec());
        assert_eq!(drain(&mut h), Vec::<Vec<u8>>::new(), "nothing committed");
        h.handle_committed(1);
        assert_eq!(drain(&mut h), Vec::<Vec<u8>>::new(), "append 1 does not cover the ACK after 2");
        h.handle_committed(2);
        assert_eq!(drain(&mut h), [b"two".to_vec()]);
        assert!(h.is_empty());
    }

    #[test]
    fn release_does_not_depend_on_the_order_acks_came_in() {
        let mut h = HeldAcks::new();
        h.hold(5, b"five".to_vec());
        h.hold(3, b"three".to_vec());
        h.hold(9, b"nine".to_vec());
        h.handle_committed(6);
        assert_eq!(drain(&mut h), [b"three".to_vec(), b"five".to_vec()]);
        // Commit does not go back: a late, older report releases nothing and holds nothing back.
        h.handle_committed(4);
        assert_eq!(h.len(), 1);
        h.hold(6, b"six".to_vec());
        assert_eq!(drain(&mut h), [b"six".to_vec()], "already committed: goes at once");
        h.handle_committed(9);
        assert_eq!(drain(&mut h), [b"nine".to_vec()]);
    }
}
