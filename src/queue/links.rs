//! Signed one-click links in digests: approve, skip or snooze one caption without logging
//! in. The signature (HMAC-SHA-256 with the app's signing key, like the unsubscribe link)
//! covers the purpose, the caption, the action and the expiry, so a link cannot be turned
//! into another caption's or another action's. A link is used once: the caption's queue
//! entry records the decision, and a link for a caption already decided is refused.

use crate::desk::CaptionId;

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

/// The suffix of a link's action in a "today's queue" digest: made for a caption already
/// queued, whose skip and snooze links take it out of the queue (once).
const QUEUED_SUFFIX: &str = "-queued";

/// The action as a link's path names it: `skip`, or `skip-queued` in today's queue.
pub fn segment(action: LinkAction, queued: bool) -> String {
    if queued {
        format!("{}{QUEUED_SUFFIX}", action.as_str())
    } else {
        action.as_str().to_string()
    }
}

/// A link's action segment read back: the action, and whether the link was made for a
/// caption already queued.
pub fn parse_segment(value: &str) -> Option<(LinkAction, bool)> {
    match value.strip_suffix(QUEUED_SUFFIX) {
        Some(action) => LinkAction::parse(action).map(|a| (a, true)),
        None => LinkAction::parse(value).map(|a| (a, false)),
    }
}

/// What a link signs, after its purpose: the caption, the action segment, the expiry.
const PURPOSE: &str = "queue-link";

pub fn sign(key: &[u8], caption_id: &CaptionId, action: LinkAction, expires: i64) -> String {
    sign_segment(key, caption_id, action.as_str(), expires)
}

fn sign_segment(key: &[u8], caption_id: &CaptionId, segment: &str, expires: i64) -> String {
    crate::signing::sign(
        key,
        PURPOSE,
        &[caption_id.as_str(), segment, &expires.to_string()],
    )
}

/// Whether `signature` was made for exactly this caption, action and expiry (compared in
/// constant time). The expiry is checked by the caller, which can then say so.
pub fn verify(
    key: &[u8],
    caption_id: &CaptionId,
    action: LinkAction,
    expires: i64,
    signature: &str,
) -> bool {
    verify_segment(key, caption_id, action.as_str(), expires, signature)
}

/// As [`verify`], for the action segment as the path has it (see [`segment`]).
pub fn verify_segment(
    key: &[u8],
    caption_id: &CaptionId,
    segment: &str,
    expires: i64,
    signature: &str,
) -> bool {
    crate::signing::verify(
        key,
        PURPOSE,
        &[caption_id.as_str(), segment, &expires.to_string()],
        signature,
    )
}

/// The path of one link, under the service's base address.
pub fn path(key: &[u8], caption_id: &CaptionId, action: LinkAction, expires: i64) -> String {
    path_of(key, caption_id, &segment(action, false), expires)
}

/// The path of one link of a caption already queued (today's queue).
pub fn path_queued(key: &[u8], caption_id: &CaptionId, action: LinkAction, expires: i64) -> String {
    path_of(key, caption_id, &segment(action, true), expires)
}

fn path_of(key: &[u8], caption_id: &CaptionId, segment: &str, expires: i64) -> String {
    format!(
        "queue/mail/{caption_id}/{segment}/{expires}/{}",
        sign_segment(key, caption_id, segment, expires)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn id(caption: &str) -> CaptionId {
        CaptionId::from(caption)
    }

    #[test]
    fn links_mailed_before_the_shared_signer_still_open() {
        // Made by the hand-written HMAC these links had before they went through
        // crate::signing: the same bytes are signed, so digests already sent keep working.
        let mailed = "Q-lMByLs5uX9NcTQDVFFXyDz0gtqv448-L5fv9jcY3o";
        assert_eq!(
            sign(KEY, &id("c1"), LinkAction::Approve, 1_800_000_000),
            mailed
        );
        assert!(verify(
            KEY,
            &id("c1"),
            LinkAction::Approve,
            1_800_000_000,
            mailed
        ));
    }

    #[test]
    fn a_link_opens_only_its_own_caption_action_and_expiry() {
        let s = sign(KEY, &id("c1"), LinkAction::Approve, 1_800_000_000);
        assert!(verify(
            KEY,
            &id("c1"),
            LinkAction::Approve,
            1_800_000_000,
            &s
        ));
        assert!(!verify(
            KEY,
            &id("c2"),
            LinkAction::Approve,
            1_800_000_000,
            &s
        ));
        assert!(!verify(KEY, &id("c1"), LinkAction::Skip, 1_800_000_000, &s));
        assert!(!verify(
            KEY,
            &id("c1"),
            LinkAction::Approve,
            1_800_000_001,
            &s
        ));
        assert!(!verify(
            b"another deployment's key........",
            &id("c1"),
            LinkAction::Approve,
            1_800_000_000,
            &s
        ));
        assert!(!verify(
            KEY,
            &id("c1"),
            LinkAction::Approve,
            1_800_000_000,
            "not-base64!"
        ));
        let mut tampered = s.clone();
        tampered.replace_range(0..1, if s.starts_with('A') { "B" } else { "A" });
        assert!(!verify(
            KEY,
            &id("c1"),
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
        for action in LinkAction::ALL {
            for queued in [false, true] {
                assert_eq!(
                    parse_segment(&segment(action, queued)),
                    Some((action, queued))
                );
            }
        }
        assert_eq!(parse_segment("delete-queued"), None);
        // A queued caption's link is not the plain one with a word added: it is signed so.
        let plain = sign(KEY, &id("c1"), LinkAction::Skip, 5);
        assert!(!verify_segment(KEY, &id("c1"), "skip-queued", 5, &plain));
        assert!(path(KEY, &id("c1"), LinkAction::Snooze, 5).starts_with("queue/mail/c1/snooze/5/"));
    }
}
