//! When to connect to the primary again.
//!
//! In: the end of each session (why it ended, whether it stored anything) with the driver's
//! clock. Out: the moment the next session may start ([`Reconnect::poll_timeout`]); the driver
//! sleeps until then and asks [`Reconnect::handle_timeout`]. The backoff doubles from
//! `backoff_min_ms` after each failed attempt, starts over after a session that streamed, and
//! goes straight to `backoff_max_ms` for a fatal cause, which retrying soon cannot cure.

use super::error::UpstreamError;

/// The first wait after a failed attempt; the longest is MASTER_CONNECT_RETRY
/// ([`UpstreamSettings::reconnect`](super::settings::UpstreamSettings::reconnect)).
pub const BACKOFF_MIN_MS: u64 = 100;

#[derive(Debug, Clone)]
pub struct Reconnect {
    backoff_min_ms: u64,
    backoff_max_ms: u64,
    /// The wait after the next failure that is neither fatal nor after streaming.
    backoff_ms: u64,
    /// When the next session may start; `None`: now.
    at_ms: Option<u64>,
}

impl Reconnect {
    pub fn new(backoff_min_ms: u64, backoff_max_ms: u64) -> Self {
        let backoff_max_ms = backoff_max_ms.max(backoff_min_ms);
        Reconnect { backoff_min_ms, backoff_max_ms, backoff_ms: backoff_min_ms, at_ms: None }
    }

    /// A session ended at `now_ms` with `error`, having stored something (`streamed`) or not.
    /// Returns how long the driver waits before the next one (for its log).
    pub fn handle_session_end(&mut self, now_ms: u64, error: &UpstreamError, streamed: bool) -> u64 {
        if streamed {
            self.backoff_ms = self.backoff_min_ms;
        }
        if error.is_fatal() {
            self.backoff_ms = self.backoff_max_ms;
        }
        let wait_ms = self.backoff_ms;
        self.at_ms = Some(now_ms.saturating_add(wait_ms));
        self.backoff_ms = self.backoff_ms.saturating_mul(2).clamp(self.backoff_min_ms, self.backoff_max_ms);
        wait_ms
    }

    /// When the next session may start (driver's clock, ms); `None`: at once.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.at_ms
    }

    /// Whether a session may start at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: u64) -> bool {
        match self.at_ms {
            Some(at) if now_ms < at => false,
            _ => {
                self.at_ms = None;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::client::ClientError;
    use crate::mysql::errors::ServerError;

    fn network() -> UpstreamError {
        UpstreamError::Network { detail: "connection refused".into() }
    }

    #[test]
    fn backoff_doubles_up_to_its_bound_and_the_driver_waits_for_the_deadline() {
        let mut r = Reconnect::new(100, 1000);
        assert_eq!(r.poll_timeout(), None, "the first session starts at once");
        assert!(r.handle_timeout(0));
        let waits: Vec<u64> = (0..6).map(|i| r.handle_session_end(i * 10_000, &network(), false)).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(r.poll_timeout(), Some(50_000 + 1000));
        assert!(!r.handle_timeout(50_999));
        assert_eq!(r.poll_timeout(), Some(51_000), "an early wake-up changes nothing");
        assert!(r.handle_timeout(51_000));
        assert_eq!(r.poll_timeout(), None);
    }

    #[test]
    fn a_session_that_streamed_starts_over_and_a_fatal_cause_waits_longest() {
        let mut r = Reconnect::new(100, 10_000);
        for _ in 0..4 {
            let _ = r.handle_session_end(0, &network(), false);
        }
        assert_eq!(r.handle_session_end(0, &network(), true), 100, "a good connection resets the backoff");
        assert_eq!(r.handle_session_end(0, &network(), false), 200);
        let denied = UpstreamError::Connection(ClientError::AccessDenied(ServerError::access_denied("repl", "h", true)));
        assert_eq!(r.handle_session_end(0, &denied, true), 10_000, "fatal even after streaming");
        assert_eq!(r.handle_session_end(0, &network(), false), 10_000, "stays slow until a session streams");
        assert_eq!(r.handle_session_end(0, &network(), true), 100);
    }
}
