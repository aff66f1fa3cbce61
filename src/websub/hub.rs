//! Talking to a hub: the subscription request (WebSub §5.1).

use crate::feeds::guard::{check_url, AddressPolicy};
use crate::feeds::FeedId;

use super::store::Wanted;
use super::LEASE_SECONDS;

/// Where the hub reaches us for this feed.
pub fn callback_url(base_url: &url::Url, feed_id: &FeedId) -> String {
    let base = base_url.as_str().trim_end_matches('/');
    format!("{base}/websub/{feed_id}")
}

/// What we ask a hub for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Subscribe,
    Unsubscribe,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Subscribe => "subscribe",
            Mode::Unsubscribe => "unsubscribe",
        }
    }
}

/// Asks the hub to start (or stop) sending us the topic's updates. The hub answers 202
/// Accepted and then verifies our intent with a GET to the callback; any other answer is
/// a refusal.
pub async fn request(
    client: &reqwest::Client,
    policy: &AddressPolicy,
    wanted: &Wanted,
    callback: &str,
    mode: Mode,
) -> Result<(), String> {
    let hub =
        url::Url::parse(&wanted.hub).map_err(|e| format!("the hub address is invalid: {e}"))?;
    // The client's resolver guards host names; an address written as an IP is checked here.
    check_url(&hub, policy).map_err(|e| format!("the hub's address is refused: {e}"))?;
    let lease = LEASE_SECONDS.to_string();
    let form = [
        ("hub.mode", mode.as_str()),
        ("hub.topic", wanted.topic.as_str()),
        ("hub.callback", callback),
        ("hub.secret", wanted.secret.as_str()),
        ("hub.lease_seconds", lease.as_str()),
    ];
    let response = client
        .post(hub)
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("the hub did not answer: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        Err(format!(
            "the hub refused the {} (HTTP {}): {body}",
            match mode {
                Mode::Subscribe => "subscription",
                Mode::Unsubscribe => "unsubscription",
            },
            status.as_u16()
        ))
    }
}
