//! openraft's runtime on the node's `tokio`, which is madsim-tokio: real tokio in production, and
//! the simulator under `RUSTFLAGS="--cfg madsim"` (io-sim). openraft's own `TokioRuntime` calls
//! real tokio and would panic inside the simulator; this one spawns, sleeps and reads the clock
//! through whichever `tokio` the node is built with, so the same Raft code runs in both.
//!
//! In: openraft's calls (spawn, sleep, timeouts, `now`, its RNG, channels). Out: tokio's (or
//! madsim's) tasks and timers. What differs under `cfg(madsim)`, and why:
//! - the RNG (election timeouts) draws from madsim's seeded RNG, through a rand 0.10 adapter
//!   ([`SimRng`]): openraft wants rand 0.10, madsim has rand 0.8;
//! - the watch channel (openraft's metrics and wait conditions) is `openraft_rt_sim`'s, which
//!   wakes its waiters in the order they started waiting: tokio's picks a slot at random, and
//!   broke determinism;
//! - `spawn_blocking` runs inline (the simulated disk is memory), `new`/`block_on` use a madsim
//!   runtime.
//!
//! The timeout is a small future of its own on both: madsim's `timeout` is opaque (no nameable
//! type for [`AsyncRuntime::Timeout`]) and it has no `timeout_at`. The channels and the mutex are
//! tokio's `sync` types, which madsim leaves real, wrapped by `openraft-rt-tokio`.

use openraft::async_runtime::instant::Instant as RaftInstant;
use openraft::async_runtime::AsyncRuntime;
use openraft::OptionalSend;
use std::future::Future;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// openraft's runtime for the node: tokio, or madsim under `cfg(madsim)`.
pub struct NodeRuntime {
    #[cfg(not(madsim))]
    rt: tokio::runtime::Runtime,
    #[cfg(madsim)]
    rt: madsim::runtime::Runtime,
}

impl std::fmt::Debug for NodeRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRuntime").finish_non_exhaustive()
    }
}

/// A point on the runtime's clock (madsim's virtual clock under `cfg(madsim)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(pub tokio::time::Instant);

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0 + d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        self.0 += d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0 - d)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        self.0 -= d;
    }
}

impl RaftInstant for Instant {
    fn now() -> Instant {
        Instant(tokio::time::Instant::now())
    }
}

/// The deadline passed before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

pin_project_lite::pin_project! {
    /// `future`'s output, or [`Elapsed`] once `sleep` ends first. The future is polled first, so
    /// one ready at the deadline wins (as with tokio's `timeout`).
    pub struct Timeout<F> {
        #[pin]
        future: F,
        #[pin]
        sleep: tokio::time::Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match this.sleep.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// madsim's seeded RNG as a rand 0.10 RNG.
#[cfg(madsim)]
pub struct SimRng(madsim::rand::GlobalRng);

#[cfg(madsim)]
impl rand010::TryRng for SimRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(madsim::rand::RngCore::next_u32(&mut self.0))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(madsim::rand::RngCore::next_u64(&mut self.0))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        madsim::rand::RngCore::fill_bytes(&mut self.0, dst);
        Ok(())
    }
}

impl AsyncRuntime for NodeRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle<T: OptionalSend + 'static> = tokio::task::JoinHandle<T>;
    type Sleep = tokio::time::Sleep;
    type Instant = Instant;
    type TimeoutError = Elapsed;
    type Timeout<R, T: Future<Output = R> + OptionalSend> = Timeout<T>;
    #[cfg(not(madsim))]
    type ThreadLocalRng = rand010::rngs::ThreadRng;
    #[cfg(madsim)]
    type ThreadLocalRng = SimRng;

    fn spawn<T>(future: T) -> Self::JoinHandle<T::Output>
    where
        T: Future + OptionalSend + 'static,
        T::Output: OptionalSend + 'static,
    {
        tokio::task::spawn(future)
    }

    fn sleep(duration: Duration) -> Self::Sleep {
        tokio::time::sleep(duration)
    }

    fn sleep_until(deadline: Instant) -> Self::Sleep {
        tokio::time::sleep_until(deadline.0)
    }

    fn timeout<R, F: Future<Output = R> + OptionalSend>(duration: Duration, future: F) -> Timeout<F> {
        Timeout { future, sleep: tokio::time::sleep(duration) }
    }

    fn timeout_at<R, F: Future<Output = R> + OptionalSend>(deadline: Instant, future: F) -> Timeout<F> {
        Timeout { future, sleep: tokio::time::sleep_until(deadline.0) }
    }

    fn is_panic(e: &Self::JoinError) -> bool {
        e.is_panic()
    }

    fn thread_rng() -> Self::ThreadLocalRng {
        #[cfg(not(madsim))]
        return rand010::rng();
        #[cfg(madsim)]
        return SimRng(madsim::rand::thread_rng());
    }

    type Mpsc = openraft_rt_tokio::TokioMpsc;
    #[cfg(not(madsim))]
    type Watch = openraft_rt_tokio::TokioWatch;
    #[cfg(madsim)]
    type Watch = openraft_rt_sim::SimWatch;
    type Oneshot = openraft_rt_tokio::TokioOneshot;
    type Mutex<T: OptionalSend + 'static> = openraft_rt_tokio::TokioMutex<T>;

    fn new(threads: usize) -> Self {
        #[cfg(not(madsim))]
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads.max(1)).enable_all().build().unwrap_or_else(|e| panic!("a tokio runtime: {e}"));
        #[cfg(madsim)]
        let rt = {
            let _ = threads;
            madsim::runtime::Runtime::new()
        };
        NodeRuntime { rt }
    }

    fn block_on<F, T>(&mut self, future: F) -> T
    where
        F: Future<Output = T>,
    {
        self.rt.block_on(future)
    }

    fn spawn_blocking<F, T>(f: F) -> impl Future<Output = Result<T, std::io::Error>> + Send
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // Under the simulator there is no thread to hop to (and none should be: it would run
        // outside the simulation's clock and order).
        #[cfg(madsim)]
        return std::future::ready(Ok(f()));
        #[cfg(not(madsim))]
        return async move { tokio::task::spawn_blocking(f).await.map_err(std::io::Error::other) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// openraft's own conformance suite for runtimes (spawn, timers, channels, watch, mutex).
    #[test]
    fn openraft_runtime_suite() {
        openraft_rt::testing::Suite::<NodeRuntime>::test_all();
    }

    #[tokio::test]
    async fn timeouts_sleeps_and_the_clock() {
        let t0 = <Instant as RaftInstant>::now();
        let r = NodeRuntime::timeout(Duration::from_millis(20), std::future::pending::<()>()).await;
        assert_eq!(r, Err(Elapsed));
        assert!(<Instant as RaftInstant>::now() - t0 >= Duration::from_millis(20));
        let r = NodeRuntime::timeout_at(<Instant as RaftInstant>::now() + Duration::from_secs(60), async { 7 }).await;
        assert_eq!(r, Ok(7));
        let h = NodeRuntime::spawn(async { 1 + 1 });
        assert_eq!(h.await.unwrap(), 2);
        let v = NodeRuntime::spawn_blocking(|| 3).await.unwrap();
        assert_eq!(v, 3);
        let mut rng = NodeRuntime::thread_rng();
        let _: u64 = rand010::Rng::next_u64(&mut rng);
    }
}
