//! Whether each endpoint is failing, as this process has seen it, so the log tells of an
//! endpoint once when it starts failing and once when it recovers: a dead receiver with
//! 21 deliveries due used to write 21 lines a pass, every pass. Each delivery's result is
//! on the webhooks page; the log is for the operator.

use std::collections::HashMap;
use std::sync::Mutex;

/// A change in an endpoint's state worth one log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The first failure after success (or since this process started): why it failed.
    Failing(String),
    Recovered,
}

#[derive(Default)]
pub struct EndpointHealth {
    failing: Mutex<HashMap<String, ()>>,
}

impl EndpointHealth {
    /// Records one delivery's outcome for `endpoint`; says when that changes its state.
    pub fn observe(&self, endpoint: &str, error: Option<&str>) -> Option<Change> {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        match error {
            Some(error) => failing
                .insert(endpoint.to_string(), ())
                .is_none()
                .then(|| Change::Failing(error.to_string())),
            None => failing.remove(endpoint).map(|()| Change::Recovered),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_told_of_once_when_it_fails_and_once_when_it_recovers() {
        let health = EndpointHealth::default();
        let changes: Vec<Option<Change>> = (0..21)
            .map(|_| health.observe("dead", Some("connection refused")))
            .collect();
        assert_eq!(
            changes[0],
            Some(Change::Failing("connection refused".into()))
        );
        assert!(changes[1..].iter().all(Option::is_none), "{changes:?}");
        assert_eq!(
            health.observe("fine", None),
            None,
            "a healthy endpoint says nothing"
        );
        assert_eq!(health.observe("dead", None), Some(Change::Recovered));
        assert_eq!(health.observe("dead", None), None);
        assert_eq!(
            health.observe("dead", Some("HTTP 500")),
            Some(Change::Failing("HTTP 500".into()))
        );
    }
}
