//! The background workers of one process, started together and stopped together: each
//! is named and has its own grace time, in which it finishes what it started once asked
//! to stop. One cut short is dropped; its leases expire and another run picks its work up.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Workers running until [`Runner::stop`].
#[derive(Default)]
pub struct Runner {
    workers: JoinSet<()>,
    stop: CancellationToken,
}

impl Runner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `work`, given the signal to stop on. `name` and `grace` are for the log and
    /// for [`Runner::stop`].
    pub fn spawn<F, Fut>(&mut self, name: &'static str, grace: Duration, work: F)
    where
        F: FnOnce(WaitForCancellationFutureOwned) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        let work = work(stop.clone().cancelled_owned());
        self.workers.spawn(async move {
            tokio::pin!(work);
            tokio::select! {
                () = &mut work => {}
                () = stop.cancelled() => {
                    if tokio::time::timeout(grace, &mut work).await.is_err() {
                        tracing::warn!(worker = name, ?grace, "did not stop in time; cut short");
                    }
                }
            }
        });
    }

    /// How many workers were started.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// Asks every worker to stop and waits for each, at most its grace time.
    pub async fn stop(mut self) {
        self.stop.cancel();
        while let Some(result) = self.workers.join_next().await {
            if let Err(error) = result {
                tracing::error!(%error, "a background worker failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn stopping_lets_a_worker_finish_within_its_grace_and_cuts_a_slow_one_short() {
        let finished = Arc::new(AtomicBool::new(false));
        let cut_short = Arc::new(AtomicBool::new(true));
        let mut runner = Runner::new();
        let done = finished.clone();
        runner.spawn("polite", Duration::from_secs(5), |stop| async move {
            stop.await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            done.store(true, Ordering::SeqCst);
        });
        let never = cut_short.clone();
        runner.spawn("slow", Duration::from_millis(50), |stop| async move {
            stop.await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            never.store(false, Ordering::SeqCst);
        });
        assert_eq!(runner.len(), 2);
        let started = std::time::Instant::now();
        runner.stop().await;
        assert!(
            finished.load(Ordering::SeqCst),
            "the polite worker finished"
        );
        assert!(
            cut_short.load(Ordering::SeqCst),
            "the slow worker never got to its end"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stop waited only the grace time"
        );
    }
}
