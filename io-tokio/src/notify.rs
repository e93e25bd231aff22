//! "Something changed": a version counter that tasks wait on, such as dumps waiting for the store
//! to grow ([`Changes`]), and a value with its changes ([`Latest`]), such as the replication
//! target the upstream follows. Runtime-neutral (a waker per listener, woken in the order they
//! subscribed), so the same code is deterministic on madsim, where tokio's `watch` is not.

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::sync::Mutex;
use std::task::{Poll, Waker};

#[derive(Debug, Default)]
pub struct Changes {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    version: u64,
    next_listener: u64,
    wakers: BTreeMap<u64, Waker>,
}

/// One listener: [`Listener::changed`] returns once the version moved past what it last saw.
#[derive(Debug)]
pub struct Listener<'a> {
    changes: &'a Changes,
    id: u64,
    seen: u64,
}

impl Changes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the version and wakes every listener.
    pub fn notify(&self) {
        let wakers = {
            let mut inner = self.lock();
            inner.version += 1;
            std::mem::take(&mut inner.wakers)
        };
        for (_, w) in wakers {
            w.wake();
        }
    }

    /// A listener that has seen the current version.
    pub fn subscribe(&self) -> Listener<'_> {
        let mut inner = self.lock();
        inner.next_listener += 1;
        Listener { changes: self, id: inner.next_listener, seen: inner.version }
    }
}

impl Listener<'_> {
    /// Returns once something changed since the last call (or since subscribing).
    pub async fn changed(&mut self) {
        poll_fn(|cx| {
            let mut inner = self.changes.lock();
            if inner.version != self.seen {
                self.seen = inner.version;
                inner.wakers.remove(&self.id);
                return Poll::Ready(());
            }
            inner.wakers.insert(self.id, cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl Drop for Listener<'_> {
    fn drop(&mut self) {
        self.changes.lock().wakers.remove(&self.id);
    }
}

/// A value that tasks follow: [`Latest::get`] gives it with a listener that wakes when it is
/// next [`Latest::set`], with no change lost in between.
#[derive(Debug, Default)]
pub struct Latest<T> {
    value: Mutex<T>,
    changes: Changes,
}

impl<T: Clone> Latest<T> {
    pub fn new(value: T) -> Self {
        Latest { value: Mutex::new(value), changes: Changes::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        self.value.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set(&self, value: T) {
        let mut v = self.lock();
        *v = value;
        // Under the value's lock: a `get` sees the new value or is woken for it, never neither.
        self.changes.notify();
    }

    pub fn get(&self) -> (T, Listener<'_>) {
        let v = self.lock();
        (v.clone(), self.changes.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_listener_wakes_on_each_change_it_has_not_seen() {
        let c = Changes::default();
        let mut l = c.subscribe();
        c.notify();
        l.changed().await;
        // Nothing new: still waiting after a while.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), l.changed()).await;
        assert!(waited.is_err());
        assert!(c.lock().wakers.contains_key(&l.id));
        c.notify();
        l.changed().await;
        drop(l);
        assert!(c.lock().wakers.is_empty(), "a dropped listener leaves no waker behind");
    }

    #[tokio::test]
    async fn a_value_and_its_next_change() {
        let target = Latest::new(1);
        let (v, mut l) = target.get();
        assert_eq!(v, 1);
        target.set(2);
        l.changed().await;
        assert_eq!(target.get().0, 2);
    }
}
