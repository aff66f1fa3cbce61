//! "Send me a test digest now": what the account's digests hold (its newest captions, or
//! today's queue), of the platforms they carry, mailed at once as a digest would be, so a
//! subscriber sees what they will get without waiting for the schedule. Nothing is
//! recorded: no caption counts as carried or served, nothing is admitted to the queue,
//! and the schedule goes on as before.

use super::outbox::{captions_at, latest_for_account, Digest};
use super::settings::DigestContents;
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
    /// Mails the account a digest of its newest captions, or of today's queue when its
    /// digests hold that, now. Refused, with a sentence, for an address not confirmed yet
    /// (digests never go to one) and when the digest would be empty.
    pub async fn send_test(&self, user: &UserId) -> Result<TestDigest, DigestError> {
        let who = user.clone();
        let (status, captions) = self
            .db
            .run(move |conn| {
                let status = verification::status(conn, &who)?;
                let row = settings::find(conn, &who)?;
                let platforms = settings::platforms_from_stored(
                    row.as_ref()
                        .map(|r| r.platforms.as_str())
                        .unwrap_or_default(),
                );
                let captions = match row {
                    Some(row) if row.contents() == DigestContents::TodaysQueue => {
                        let zone = row.prefs().time_zone;
                        let timed = crate::queue::todays_queue(
                            conn,
                            &who,
                            &platforms,
                            zone,
                            chrono::Utc::now(),
                        )?;
                        Held::Queue(captions_at(conn, &timed)?, zone)
                    }
                    _ => Held::New(latest_for_account(
                        conn,
                        who.as_str(),
                        &platforms,
                        TEST_POSTS,
                    )?),
                };
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
        let todays_queue = matches!(captions, Held::Queue(..));
        // Today's queue is mailed in one section per platform, not one per post, so its
        // posts are counted from the captions.
        let mut shown: Vec<&str> = match &captions {
            Held::New(captions) => captions.iter().map(|c| c.post_id.as_str()).collect(),
            Held::Queue(captions, _) => captions.iter().map(|(c, _)| c.post_id.as_str()).collect(),
        };
        shown.sort_unstable();
        shown.dedup();
        let post_count = shown.len();
        let posts = match captions {
            Held::New(captions) => render::group(captions),
            Held::Queue(captions, zone) => render::group_queue(captions, zone),
        };
        if posts.is_empty() {
            return Err(DigestError::Invalid(if todays_queue {
                "Nothing of your digest's platforms is queued for today, so a digest of today's queue would be empty: queue captions on the Queue page and try again, or have the digest hold new captions.".into()
            } else {
                "There are no captions of your digest's platforms yet: follow a feed, and try again once its captions show on the desk.".into()
            }));
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
            posts: post_count,
            captions: posts.iter().map(|p| p.captions.len()).sum(),
        };
        self.mail(&digest, &posts, true, todays_queue).await?;
        Ok(sent)
    }
}

/// What a test digest holds, as the account's digests would.
enum Held {
    New(Vec<super::outbox::DigestCaption>),
    Queue(
        Vec<(super::outbox::DigestCaption, chrono::NaiveDateTime)>,
        chrono_tz::Tz,
    ),
}
