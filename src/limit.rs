//! `pool_max_per_host`: the most connections open to one host at once.
//!
//! Each new connection takes a permit from its host's semaphore and holds it until it closes, so
//! the bound counts busy and idle connections alike. A request that finds every allowed
//! connection busy waits: hyper-util's pool hands it the first connection that becomes idle,
//! while its own connect waits for a permit (and, if it gets one later, leaves its connection
//! idle in the pool, still within the bound).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::Uri;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Semaphores per host, created on first use and dropped when nothing holds or waits for them.
#[derive(Debug)]
pub(crate) struct HostLimit {
    max: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimit {
    pub(crate) fn new(max: usize) -> HostLimit {
        HostLimit {
            max: max.clamp(1, Semaphore::MAX_PERMITS),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The semaphore for `dst`'s scheme, host and port.
    pub(crate) fn semaphore(&self, dst: &Uri) -> Arc<Semaphore> {
        let key = format!(
            "{}://{}",
            dst.scheme_str().unwrap_or(""),
            dst.authority().map_or("", |a| a.as_str())
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sem) = hosts.get(&key) {
            return sem.clone();
        }
        if hosts.len() >= 64 {
            // Forget hosts with no open connection and no waiter (each permit and each waiter
            // holds a clone).
            hosts.retain(|_, sem| Arc::strong_count(sem) > 1);
        }
        let sem = Arc::new(Semaphore::new(self.max));
        hosts.insert(key, sem.clone());
        sem
    }

    /// Wait for a connection slot to `dst`.
    pub(crate) async fn acquire(&self, dst: &Uri) -> OwnedSemaphorePermit {
        self.semaphore(dst)
            .acquire_owned()
            .await
            .expect("host semaphores are never closed")
    }
}
