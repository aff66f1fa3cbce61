//! Process-wide Prometheus metrics for operators (`/metrics`).
//!
//! One registry per process, reached through [`metrics()`]: the poller counts as it
//! works, the web side renders on scrape. Replicas are scraped one by one and summed
//! by Prometheus, so nothing here is shared between processes.

use std::sync::LazyLock;

use prometheus::{
    Encoder as _, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// Fetches by outcome: `200`, `304`, `http_404`..., or an error kind (`timeout`...).
    pub fetches: IntCounterVec,
    pub fetch_seconds: Histogram,
    pub posts_found: IntCounter,
    pub captions_made: IntCounter,
    /// Results dropped because their claim had lost its lease.
    pub results_discarded: IntCounter,
    /// Post image fetches by outcome: `stored`, `retry` (tried again later), `gave_up`.
    pub images: IntCounterVec,
}

/// What the shared database says on each scrape. Every replica reports the same values
/// (alert rules take the `max` over replicas); they are rendered for the one scrape that
/// read them, never kept, so two scrapes at once cannot mix their numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backlog {
    /// How long the oldest overdue feed has waited.
    pub queue_lag_seconds: f64,
    /// Account mail unsent and not given up; of those, failing; given up in the last day;
    /// the age of the oldest waiting.
    pub mail_waiting: i64,
    pub mail_failing: i64,
    pub mail_given_up_last_day: i64,
    pub mail_oldest_seconds: f64,
    /// Webhook deliveries being retried after a failure, and given up in the last day.
    pub webhooks_failing: i64,
    pub webhooks_given_up_last_day: i64,
    /// Followed feeds whose last check failed.
    pub feeds_failing: i64,
}

impl Backlog {
    /// The Prometheus text of these values (the same `captionfeed_` prefix).
    pub fn render(&self) -> String {
        let registry = match Registry::new_custom(Some("captionfeed".into()), None) {
            Ok(registry) => registry,
            Err(e) => {
                tracing::error!(error = %e, "backlog metrics could not be made");
                return String::new();
            }
        };
        let gauges: [(&str, &str, f64); 8] = [
            (
                "queue_lag_seconds",
                "How long the oldest overdue feed has been waiting",
                self.queue_lag_seconds,
            ),
            (
                "mail_outbox_waiting",
                "Account mail not sent yet and not given up",
                self.mail_waiting as f64,
            ),
            (
                "mail_outbox_failing",
                "Waiting account mail whose last attempt failed",
                self.mail_failing as f64,
            ),
            (
                "mail_given_up_last_day",
                "Account mail given up unsent in the last 24 hours",
                self.mail_given_up_last_day as f64,
            ),
            (
                "mail_outbox_oldest_seconds",
                "How long the oldest waiting account mail has waited",
                self.mail_oldest_seconds,
            ),
            (
                "webhook_deliveries_failing",
                "Webhook deliveries being retried after a failed attempt",
                self.webhooks_failing as f64,
            ),
            (
                "webhook_deliveries_given_up_last_day",
                "Webhook deliveries given up in the last 24 hours",
                self.webhooks_given_up_last_day as f64,
            ),
            (
                "feeds_failing",
                "Followed feeds whose last check failed",
                self.feeds_failing as f64,
            ),
        ];
        for (name, help, value) in gauges {
            let registered = Gauge::new(name, help).and_then(|gauge| {
                gauge.set(value);
                registry.register(Box::new(gauge))
            });
            if let Err(e) = registered {
                tracing::error!(error = %e, name, "a backlog metric could not be made");
            }
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&registry.gather(), &mut out) {
            tracing::error!(error = %e, "backlog metrics could not be encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

pub fn metrics() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    // The definitions are constants of this file; a failure is a bug any test catches.
    fn new() -> Self {
        let registry =
            Registry::new_custom(Some("captionfeed".into()), None).expect("a valid metrics prefix");
        let fetches = IntCounterVec::new(
            Opts::new("fetches_total", "Feed fetches by outcome"),
            &["outcome"],
        )
        .expect("valid fetches metric");
        let fetch_seconds = Histogram::with_opts(
            HistogramOpts::new("fetch_duration_seconds", "Time to fetch one feed").buckets(vec![
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
        )
        .expect("valid latency metric");
        let posts_found =
            IntCounter::new("posts_found_total", "New posts stored").expect("valid posts metric");
        let captions_made = IntCounter::new("captions_made_total", "Captions written")
            .expect("valid captions metric");
        let results_discarded = IntCounter::new(
            "results_discarded_total",
            "Refresh results dropped because their claim had lost its lease",
        )
        .expect("valid discard metric");
        let images = IntCounterVec::new(
            Opts::new("images_total", "Post image fetches by outcome"),
            &["outcome"],
        )
        .expect("valid images metric");
        // Known outcomes start at zero, so a rate over them exists before the first event
        // (an alert or a panel over a missing series shows nothing rather than 0).
        for outcome in ["stored", "retry", "gave_up"] {
            images.with_label_values(&[outcome]);
        }
        for outcome in ["200", "304"] {
            fetches.with_label_values(&[outcome]);
        }
        for collector in [
            Box::new(fetches.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(fetch_seconds.clone()),
            Box::new(posts_found.clone()),
            Box::new(captions_made.clone()),
            Box::new(results_discarded.clone()),
            Box::new(images.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        Metrics {
            registry,
            fetches,
            fetch_seconds,
            posts_found,
            captions_made,
            results_discarded,
            images,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_in_text_format() {
        let m = metrics();
        m.fetches.with_label_values(&["304"]).inc();
        m.fetch_seconds.observe(0.2);
        let text = m.render();
        for name in [
            "captionfeed_fetches_total{outcome=\"304\"}",
            "captionfeed_fetch_duration_seconds_bucket{le=\"0.25\"}",
            "captionfeed_posts_found_total",
            "captionfeed_captions_made_total",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
