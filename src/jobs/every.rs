//! The loop every background sender shares: run a pass, log what it did or why it
//! failed, wait for the next tick or for shutdown. A failed pass never ends the loop: a
//! worker must not stop quietly.

use std::fmt::{Debug, Display};
use std::future::Future;
use std::time::Duration;

/// Runs `pass` every `tick` until `shutdown` resolves. `what` names the worker in logs.
pub async fn run_every<R, E, F, Fut>(
    what: &str,
    tick: Duration,
    shutdown: impl Future<Output = ()>,
    pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<R, E>>,
    R: Debug + Default + PartialEq,
    E: Display,
{
    run_every_after(what, Duration::ZERO, tick, shutdown, pass).await
}

/// [`run_every`], its first pass only after `first`: for work that can wait while the
/// process catches up on what matters more just after a start.
pub async fn run_every_after<R, E, F, Fut>(
    what: &str,
    first: Duration,
    tick: Duration,
    shutdown: impl Future<Output = ()>,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<R, E>>,
    R: Debug + Default + PartialEq,
    E: Display,
{
    tokio::pin!(shutdown);
    if !first.is_zero() {
        tokio::select! {
            _ = &mut shutdown => {
                tracing::info!("{what} stopped");
                return;
            }
            _ = tokio::time::sleep(first) => {}
        }
    }
    loop {
        match pass().await {
            Ok(report) if report != R::default() => tracing::info!(?report, "{what} pass"),
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "{what} pass failed; retrying on the next tick")
            }
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(tick) => {}
        }
    }
    tracing::info!("{what} stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    async fn passes_before_an_immediate_shutdown(first: Duration) -> usize {
        let passes = Cell::new(0);
        let pass = || {
            passes.set(passes.get() + 1);
            std::future::ready(Ok::<(), String>(()))
        };
        let hour = Duration::from_secs(3600);
        run_every_after("test worker", first, hour, std::future::ready(()), pass).await;
        passes.get()
    }

    #[tokio::test]
    async fn a_worker_runs_its_first_pass_at_once_unless_told_to_wait() {
        assert_eq!(passes_before_an_immediate_shutdown(Duration::ZERO).await, 1);
        let hour = Duration::from_secs(3600);
        assert_eq!(passes_before_an_immediate_shutdown(hour).await, 0);
    }
}
