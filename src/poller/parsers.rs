//! The threads that parse fetched feeds: one per core, at a lower priority than the rest
//! of the process.
//!
//! On SQLite one writer records every batch, so it sets the pace. Parsed on Tokio's
//! blocking pool, up to [`super::CONCURRENCY`] feeds were read at once, each thread asking
//! the kernel for an equal share: the writer was runnable but off a core for 30-37% of its
//! time. Here the parses never outnumber the cores, and the kernel gives the writer (and the
//! web server, in one process) the core first whenever it has work.

use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// How much lower the parsers' priority is (a nice value: 0 is the default, 19 the lowest).
/// At 5 the kernel weighs a thread at about a third of a default one. At 10 (a tenth) a
/// first poll took 6-8% more CPU than at 5 for no shorter a pass (and twice the thread
/// switches of parsing on Tokio's blocking pool).
const NICENESS: i32 = 5;

pub(super) struct Parsers {
    /// Started by the first parse: a process that never polls (a web-only replica, a
    /// command) starts none. `None` inside when no thread could be started.
    jobs: OnceLock<Option<mpsc::Sender<Job>>>,
}

/// The job panicked; its thread goes on with the next one.
#[derive(Debug)]
pub(super) struct Crashed(pub String);

/// One parser thread per core.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Parsers {
    /// A pool whose threads start with its first parse and end once it is dropped.
    pub fn new() -> Self {
        Parsers {
            jobs: OnceLock::new(),
        }
    }

    fn start() -> Option<mpsc::Sender<Job>> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut started = 0;
        for index in 0..threads() {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("feed-parser-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while waiting for a job, not while running it.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(error) => tracing::warn!(%error, "could not start a feed parser thread"),
            }
        }
        // Without a thread of its own, parsing falls back to Tokio's blocking pool.
        (started > 0).then_some(jobs)
    }

    /// Runs `work` on a parser thread and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Crashed> {
        let Some(jobs) = self.jobs.get_or_init(Self::start) else {
            return tokio::task::spawn_blocking(work)
                .await
                .map_err(|e| Crashed(e.to_string()));
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(work));
            let _ = done.send(outcome.map_err(|panic| Crashed(panic_message(&*panic))));
        });
        if jobs.send(job).is_err() {
            return Err(Crashed("the feed parser threads stopped".into()));
        }
        result
            .await
            .unwrap_or_else(|_| Err(Crashed("the feed parser thread stopped".into())))
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: nice only changes the scheduling weight of the calling thread (on Linux the
    // nice value belongs to each thread, not to the process).
    let changed = unsafe { libc::nice(NICENESS) };
    if changed == -1 {
        tracing::debug!("could not lower the feed parser's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pool_starts_its_threads_with_its_first_parse() {
        let parsers = Parsers::new();
        assert!(parsers.jobs.get().is_none(), "no thread before a parse");
        assert_eq!(parsers.run(|| 1).await.ok(), Some(1));
        assert!(matches!(parsers.jobs.get(), Some(Some(_))));
    }

    #[tokio::test]
    async fn a_parse_comes_back_with_its_result() {
        let parsers = Parsers::new();
        let length = parsers.run(|| "<rss/>".len()).await.ok();
        assert_eq!(length, Some(6));
    }

    /// A parse that panics comes back as [`Crashed`], with the panic's message.
    async fn crashes_with_its_message(parsers: &Parsers) {
        let crashed = parsers
            .run(|| -> usize { panic!("a feed the parser chokes on") })
            .await;
        assert!(
            matches!(&crashed, Err(Crashed(message)) if message.contains("chokes")),
            "{crashed:?}"
        );
    }

    #[tokio::test]
    async fn a_panicking_parse_is_an_error_and_the_threads_go_on() {
        let parsers = Parsers::new();
        let threads = threads();
        // More panics than threads: had a panic ended its thread, the last ones would hang.
        for _ in 0..threads + 1 {
            crashes_with_its_message(&parsers).await;
        }
        assert_eq!(parsers.run(|| 1 + 1).await.ok(), Some(2));
    }

    #[tokio::test]
    async fn without_threads_of_its_own_a_pool_parses_on_tokios_blocking_pool() {
        // As after every thread failed to start.
        let parsers = Parsers {
            jobs: OnceLock::from(None),
        };
        assert_eq!(parsers.run(|| 1 + 1).await.ok(), Some(2));
        crashes_with_its_message(&parsers).await;
        assert!(
            matches!(parsers.jobs.get(), Some(None)),
            "no thread started later"
        );
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn parses_run_at_a_lower_priority_than_their_caller() {
        fn niceness() -> i32 {
            // SAFETY: reads the calling thread's nice value.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
        }
        let parsers = Parsers::new();
        let caller = niceness();
        let parser = parsers.run(niceness).await.ok();
        assert_eq!(parser, Some((caller + NICENESS).min(19)));
    }

    #[tokio::test]
    async fn dropping_the_pool_ends_its_threads() {
        struct SaysWhenItsThreadEnds(mpsc::Sender<()>);
        impl Drop for SaysWhenItsThreadEnds {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        thread_local! {
            static ON_EXIT: std::cell::RefCell<Option<SaysWhenItsThreadEnds>> = const { std::cell::RefCell::new(None) };
        }
        let parsers = Parsers::new();
        let threads = threads();
        let (ended, ends) = mpsc::channel();
        // Each thread takes one of these jobs: none returns before all have started.
        let all_started = Arc::new(std::sync::Barrier::new(threads));
        let jobs: Vec<_> = (0..threads)
            .map(|_| {
                let (ended, all_started) = (ended.clone(), all_started.clone());
                parsers.run(move || {
                    ON_EXIT.with(|slot| *slot.borrow_mut() = Some(SaysWhenItsThreadEnds(ended)));
                    all_started.wait();
                })
            })
            .collect();
        for job in futures_util::future::join_all(jobs).await {
            assert!(job.is_ok());
        }
        drop(ended);
        drop(parsers);
        for _ in 0..threads {
            let end = ends.recv_timeout(std::time::Duration::from_secs(10));
            assert!(end.is_ok(), "a parser thread outlived its pool");
        }
    }
}
