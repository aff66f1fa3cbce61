//! What publishing one caption needs and yields, whatever the network: the worker hands an
//! [`Outgoing`] to the network's client and sorts its [`PublishError`] by what to do next.

/// A caption on its way out.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The caption's id: every network's exactly-once key is made from it (Bluesky's record
    /// key, Mastodon's `Idempotency-Key`).
    pub caption_id: String,
    /// The caption exactly as the subscriber will see it posted.
    pub text: String,
    /// The feed's language (`en`, `de-AT`…), when it has one.
    pub language: Option<String>,
    /// The post the caption is about: Bluesky shows it as a link card.
    pub link: Option<LinkPreview>,
    /// The post's image, when it has one: Bluesky's card thumbnail, Mastodon's attachment.
    pub image: Option<Image>,
    /// The network's id of that image as an earlier try of this caption uploaded it
    /// (Mastodon keeps unattached media a while): attached again instead of a second upload.
    pub media_id: Option<String>,
}

/// The post a caption links to, as a card shows it.
#[derive(Debug, Clone)]
pub struct LinkPreview {
    pub url: String,
    pub title: String,
    pub description: String,
}

/// An image already fetched (and guarded) by the worker.
#[derive(Debug, Clone)]
pub struct Image {
    pub bytes: Vec<u8>,
    pub mime: String,
    /// A description for screen readers: the post's title when nothing better is known.
    pub alt: String,
}

/// Where a caption was posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The network's own address of the post (`at://…` on Bluesky, the status URI on
    /// Mastodon).
    pub uri: String,
    /// The address a person opens in a browser.
    pub web_url: String,
}

/// Why publishing failed, sorted by what the worker does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// 401/403: the password or token no longer works. The connection is marked broken,
    /// the subscriber is mailed once, and the captions wait.
    #[error("{network} refused the connection: {message}")]
    Unauthorized {
        network: &'static str,
        message: String,
    },
    /// 429, 5xx, timeouts, refused connections: try again after `retry_after` seconds when
    /// the server said, else after the usual backoff.
    #[error("{network} is unavailable for now: {message}")]
    Retry {
        network: &'static str,
        message: String,
        retry_after: Option<u64>,
    },
    /// The network refused this caption (over its limit, a bad record): the same request
    /// would fail the same way, so it is not retried and the subscriber is shown why.
    #[error("{network} refused the post: {message}")]
    Refused {
        network: &'static str,
        message: String,
    },
}
