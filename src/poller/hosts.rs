//! At most a few requests at a time to one host, however many of its feeds are due: many
//! blogs share a host (a platform, a CDN name), and a burst of our requests must not look
//! like an attack on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The default number of requests in flight to one host.
pub const PER_HOST: usize = 2;

type Slots = Arc<Mutex<HashMap<String, Arc<Semaphore>>>>;

#[derive(Clone)]
pub struct HostLimiter {
    per_host: usize,
    slots: Slots,
}

/// Holds one of a host's slots until dropped.
pub struct HostPermit {
    permit: Option<OwnedSemaphorePermit>,
    host: String,
    slots: Slots,
}

impl HostLimiter {
    pub fn new(per_host: usize) -> Self {
        HostLimiter {
            per_host: per_host.max(1),
            slots: Arc::default(),
        }
    }

    /// Waits for a slot of the URL's host (host and port; an unparsable URL gets a slot
    /// of its own kind, it fails before any request anyway).
    pub async fn acquire(&self, url: &str) -> HostPermit {
        let host = host_key(url);
        let semaphore = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .entry(host.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = semaphore.acquire_owned().await.ok();
        HostPermit {
            permit,
            host,
            slots: self.slots.clone(),
        }
    }

    /// How many hosts have a slot table; hosts nobody is fetching are forgotten.
    #[cfg(test)]
    pub fn hosts_tracked(&self) -> usize {
        self.slots.lock().map(|s| s.len()).unwrap_or(0)
    }
}

impl Drop for HostPermit {
    fn drop(&mut self) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        self.permit.take();
        // Only the table holds the semaphore now: nobody waits on this host, forget it so
        // the table does not grow with every host ever polled.
        if slots
            .get(&self.host)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            slots.remove(&self.host);
        }
    }
}

fn host_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or_default().to_ascii_lowercase(),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_third_request_to_one_host_waits_but_other_hosts_do_not() {
        let limiter = HostLimiter::new(2);
        let a1 = limiter.acquire("https://blog.example/a.xml").await;
        let _a2 = limiter.acquire("https://BLOG.example:443/b.xml").await;
        let third = limiter.acquire("https://blog.example/c.xml");
        tokio::pin!(third);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), &mut third).await;
        assert!(waited.is_err(), "the third request to one host must wait");
        let _other = limiter.acquire("https://other.example/feed").await;
        drop(a1);
        let _a3 = tokio::time::timeout(std::time::Duration::from_secs(1), third)
            .await
            .expect("a freed slot lets the third one go");
    }

    #[tokio::test]
    async fn idle_hosts_are_forgotten() {
        let limiter = HostLimiter::new(2);
        drop(limiter.acquire("https://blog.example/a.xml").await);
        assert_eq!(limiter.hosts_tracked(), 0);
    }
}
