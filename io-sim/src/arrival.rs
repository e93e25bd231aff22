//! A check run the moment something reaches the simulated primary (a semi-sync ACK) or a
//! replica (binlog bytes): what arrived, a file and an end, must already be durable on a
//! majority of the nodes. Each check reads every node's disk, so it runs at most every
//! [`CHECK_EVERY_MS`] per place.

use std::sync::{Arc, Mutex};

/// What arrived: a file and the end of what came; a violation, or None.
pub type Check = Arc<dyn Fn(&str, u64) -> Option<String> + Send + Sync>;

/// At most this often per place (simulated ms).
pub const CHECK_EVERY_MS: u64 = 20;

/// The check of one place, once the simulation has set it, and when it last ran.
#[derive(Clone, Default)]
pub struct ArrivalCheck(Arc<Mutex<(Option<Check>, Option<u64>)>>);

impl ArrivalCheck {
    pub fn set(&self, check: Check) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).0 = Some(check);
    }

    /// Runs the check on `file` up to `end` at `now_ms`, unless it ran less than
    /// [`CHECK_EVERY_MS`] ago or none is set.
    pub fn run(&self, file: &str, end: u64, now_ms: u64) -> Option<String> {
        let check = {
            let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if g.1.is_some_and(|t| now_ms < t + CHECK_EVERY_MS) {
                return None;
            }
            g.1 = Some(now_ms);
            g.0.clone()?
        };
        check(file, end)
    }
}
