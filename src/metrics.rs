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
    /// Age of the oldest overdue feed, set on each scrape.
    pub queue_lag_seconds: Gauge,
    /// Post image fetches by outcome: `stored`, `retry` (tried again later), `gave_up`.
    pub images: IntCounterVec,
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
        let queue_lag_seconds = Gauge::new(
            "queue_lag_seconds",
            "How long the oldest overdue feed has been waiting",
        )
        .expect("valid lag metric");
        let images = IntCounterVec::new(
            Opts::new("images_total", "Post image fetches by outcome"),
            &["outcome"],
        )
        .expect("valid images metric");
        for collector in [
            Box::new(fetches.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(fetch_seconds.clone()),
            Box::new(posts_found.clone()),
            Box::new(captions_made.clone()),
            Box::new(results_discarded.clone()),
            Box::new(queue_lag_seconds.clone()),
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
            queue_lag_seconds,
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
            "captionfeed_queue_lag_seconds",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
