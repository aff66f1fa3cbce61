//! "Send me a test digest now": the account's newest captions, of the platforms its
//! digests carry, mailed at once as a digest would be, so a subscriber sees what they
//! will get without waiting for the schedule. Nothing is recorded: no caption counts as
//! carried or served, and the schedule goes on as before.

use super::outbox::{latest_for_account, Digest};
use super::{render, settings, DigestError, Digests};
use crate::accounts::{verification, UserId};
use crate::db::{new_id, now};

/// How many posts a test digest shows: enough to judge the layout, few enough to read.
pub const TEST_POSTS: i64 = 5;

/// What a test digest held, for the page or the command to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDigest {
    pub recipient: String,
    pub posts: usize,
    pub captions: usize,
}

impl Digests {
    /// Mails the account a digest of its newest captions now. Refused, with a sentence,
    /// for an address not confirmed yet (digests never go to one) and for an account with
    /// no caption of its chosen platforms.
    pub async fn send_test(&self, user: &UserId) -> Result<TestDigest, DigestError> {
        let who = user.clone();
        let (status, captions) = self
            .db
            .run(move |conn| {
                let status = verification::status(conn, &who)?;
                let platforms = settings::platforms(conn, &who)?;
                let captions = latest_for_account(conn, who.as_str(), &platforms, TEST_POSTS)?;
                Ok::<_, DigestError>((status, captions))
            })
            .await?;
        let Some((recipient, verified)) = status else {
            return Err(DigestError::Invalid("There is no such account.".into()));
        };
        if !verified {
            return Err(DigestError::Invalid(format!(
                "Confirm {recipient} first: digests, test ones too, go only to a confirmed address."
            )));
        }
        let posts = render::group(captions);
        if posts.is_empty() {
            return Err(DigestError::Invalid(
                "There are no captions of your digest's platforms yet: follow a feed, and try again once its captions show on the desk.".into(),
            ));
        }
        let id = new_id();
        let at = now();
        let digest = Digest {
            message_id: format!("<test-digest-{id}@{}>", self.message_host()),
            id,
            user_id: user.as_str().to_string(),
            period_key: "test".into(),
            recipient: recipient.clone(),
            created_at: at,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            sent_at: None,
            lease_token: None,
        };
        let sent = TestDigest {
            recipient,
            posts: posts.len(),
            captions: posts.iter().map(|p| p.captions.len()).sum(),
        };
        self.mail(&digest, &posts, true, false).await?;
        Ok(sent)
    }
}
