//! What every background job shares: the wait after a failure.

pub mod backoff;

pub use backoff::backoff;
