//! What every background job shares: the runner that starts and stops the workers, the
//! loop a periodic worker runs, the lease a queued job is claimed with, and the wait
//! after a failure.

pub mod backoff;
pub mod every;
pub mod lease;
pub mod runner;

pub use backoff::backoff;
pub use every::{run_every, run_every_after};
pub use runner::Runner;
