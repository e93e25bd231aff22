//! Deadlines that work the same on tokio and on madsim, whose `time` has no `timeout_at`.

use std::future::Future;
use tokio::time::Instant;

/// The deadline passed before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

/// `fut`'s output, or [`Elapsed`] if `deadline` comes first.
pub async fn timeout_at<F: Future>(deadline: Instant, fut: F) -> Result<F::Output, Elapsed> {
    tokio::select! {
        biased;
        out = fut => Ok(out),
        _ = tokio::time::sleep_until(deadline) => Err(Elapsed),
    }
}

/// `fut`'s output, or [`Elapsed`] if `d` passes first.
pub async fn timeout<F: Future>(d: std::time::Duration, fut: F) -> Result<F::Output, Elapsed> {
    timeout_at(Instant::now() + d, fut).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_first_of_the_future_and_the_deadline() {
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(timeout_at(soon, std::future::pending::<()>()).await, Err(Elapsed));
        assert_eq!(timeout_at(Instant::now() + Duration::from_secs(60), async { 7 }).await, Ok(7));
    }
}
