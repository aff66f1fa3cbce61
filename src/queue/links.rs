//! Signed one-click links in digests: approve, skip or snooze one caption without logging
//! in. The signature (HMAC-SHA-256 with the app's signing key, like the unsubscribe link)
//! covers the purpose, the caption, the action and the expiry, so a link cannot be turned
//! into another caption's or another action's. A link is used once: the caption's queue
//! entry records the decision, and a link for a caption already decided is refused.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a digest's links work.
pub const VALID_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Approve,
    Skip,
    /// Ask again tomorrow: back in "waiting for review" after a day.
    Snooze,
}

impl LinkAction {
    pub const ALL: [LinkAction; 3] = [LinkAction::Approve, LinkAction::Skip, LinkAction::Snooze];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Approve => "approve",
            LinkAction::Skip => "skip",
            LinkAction::Snooze => "snooze",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        LinkAction::ALL.into_iter().find(|a| a.as_str() == value)
    }

    /// The button and link text.
    pub fn label(self) -> &'static str {
        match self {
            LinkAction::Approve => "Add to the queue",
            LinkAction::Skip => "Skip",
            LinkAction::Snooze => "Ask me tomorrow",
        }
    }
}

fn mac(key: &[u8], caption_id: &str, action: LinkAction, expires: i64) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(b"queue-link\0");
    mac.update(caption_id.as_bytes());
    mac.update(b"\0");
    mac.update(action.as_str().as_bytes());
    mac.update(b"\0");
    mac.update(expires.to_string().as_bytes());
    Some(mac)
}

pub fn sign(key: &[u8], caption_id: &str, action: LinkAction, expires: i64) -> String {
    mac(key, caption_id, action, expires)
        .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `signature` was made for exactly this caption, action and expiry (compared in
/// constant time). The expiry is checked by the caller, which can then say so.
pub fn verify(
    key: &[u8],
    caption_id: &str,
    action: LinkAction,
    expires: i64,
    signature: &str,
) -> bool {
    let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature.as_bytes())
    else {
        return false;
    };
    mac(key, caption_id, action, expires).is_some_and(|m| m.verify_slice(&raw).is_ok())
}

/// The path of one link, under the service's base address.
pub fn path(key: &[u8], caption_id: &str, action: LinkAction, expires: i64) -> String {
    format!(
        "queue/mail/{caption_id}/{}/{expires}/{}",
        action.as_str(),
        sign(key, caption_id, action, expires)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_link_opens_only_its_own_caption_action_and_expiry() {
        let s = sign(KEY, "c1", LinkAction::Approve, 1_800_000_000);
        assert!(verify(KEY, "c1", LinkAction::Approve, 1_800_000_000, &s));
        assert!(!verify(KEY, "c2", LinkAction::Approve, 1_800_000_000, &s));
        assert!(!verify(KEY, "c1", LinkAction::Skip, 1_800_000_000, &s));
        assert!(!verify(KEY, "c1", LinkAction::Approve, 1_800_000_001, &s));
        assert!(!verify(
            b"another deployment's key........",
            "c1",
            LinkAction::Approve,
            1_800_000_000,
            &s
        ));
        assert!(!verify(
            KEY,
            "c1",
            LinkAction::Approve,
            1_800_000_000,
            "not-base64!"
        ));
        let mut tampered = s.clone();
        tampered.replace_range(0..1, if s.starts_with('A') { "B" } else { "A" });
        assert!(!verify(
            KEY,
            "c1",
            LinkAction::Approve,
            1_800_000_000,
            &tampered
        ));
    }

    #[test]
    fn actions_read_back_from_their_names() {
        for action in LinkAction::ALL {
            assert_eq!(LinkAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(LinkAction::parse("delete"), None);
        assert!(path(KEY, "c1", LinkAction::Snooze, 5).starts_with("queue/mail/c1/snooze/5/"));
    }
}
