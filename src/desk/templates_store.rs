//! The templates table: an account's own caption templates. Every function
//! takes the account id first; another account's templates are never seen. Saving one
//! rewrites captions, so that is `template_edits`; compiling them is `template_cache`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::accounts::UserId;
use crate::captions::{Platform, TemplateError, DEFAULT_VARIANT};
use crate::db::schema::templates;
use crate::db::{AnyConnection, DbError};

/// Longest variant name; names appear in pages and URLs.
const MAX_VARIANT_LEN: usize = 32;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = templates)]
pub struct StoredTemplate {
    pub platform: String,
    pub variant: String,
    pub source: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{0}")]
    Invalid(#[from] TemplateError),
    #[error("variant names are 1 to 32 lowercase letters, digits, - or _")]
    BadVariant,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl crate::db::IsBusy for SaveError {
    fn is_busy(&self) -> bool {
        matches!(self, SaveError::Db(e) if e.is_busy())
    }
}

impl From<diesel::result::Error> for SaveError {
    fn from(e: diesel::result::Error) -> Self {
        SaveError::Db(e.into())
    }
}

/// Whether `name` can be a variant name.
pub fn valid_variant(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_VARIANT_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A template in force for an account: its own, or the built-in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    pub platform: Platform,
    pub variant: String,
    pub source: String,
    /// The built-in template (the account has not written its own).
    pub builtin: bool,
    /// When the account saved it; `None` for a built-in one.
    pub updated_at: Option<NaiveDateTime>,
}

/// What is in force for an account with `stored` templates, in
/// [`Platform::ALL`] order: each platform's `default` variant (the account's
/// or the built-in one) first, then the account's other variants by name.
/// Stored rows for a platform id this version does not know are left out.
pub fn in_force(stored: &[StoredTemplate]) -> Vec<InForce> {
    let mut out = Vec::new();
    for platform in Platform::ALL {
        let own: Vec<&StoredTemplate> = stored
            .iter()
            .filter(|t| t.platform == platform.id())
            .collect();
        let default = own.iter().find(|t| t.variant == DEFAULT_VARIANT);
        out.push(match default {
            Some(t) => InForce {
                platform,
                variant: t.variant.clone(),
                source: t.source.clone(),
                builtin: false,
                updated_at: Some(t.updated_at),
            },
            None => InForce {
                platform,
                variant: DEFAULT_VARIANT.to_owned(),
                source: crate::captions::default_template_source(platform).to_owned(),
                builtin: true,
                updated_at: None,
            },
        });
        let mut others: Vec<&&StoredTemplate> = own
            .iter()
            .filter(|t| t.variant != DEFAULT_VARIANT)
            .collect();
        others.sort_by(|a, b| a.variant.cmp(&b.variant));
        out.extend(others.into_iter().map(|t| InForce {
            platform,
            variant: t.variant.clone(),
            source: t.source.clone(),
            builtin: false,
            updated_at: Some(t.updated_at),
        }));
    }
    out
}

/// The account's templates, by platform then variant.
pub fn list(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<StoredTemplate>> {
    templates::table
        .filter(templates::user_id.eq(user.as_str()))
        .order((templates::platform.asc(), templates::variant.asc()))
        .select(StoredTemplate::as_select())
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(platform: &str, variant: &str, source: &str) -> StoredTemplate {
        StoredTemplate {
            platform: platform.into(),
            variant: variant.into(),
            source: source.into(),
            updated_at: chrono::DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap_or_default()
                .naive_utc(),
        }
    }

    #[test]
    fn every_platform_has_a_default_in_force_then_the_accounts_variants() {
        let rows = [
            stored("bluesky", "teaser", "T {{ title }}"),
            stored("x", "default", "Mine {{ title }}"),
            stored("bluesky", "question", "Q {{ title }}?"),
            stored("myspace", "default", "gone platform"),
        ];
        let all = in_force(&rows);
        let listed: Vec<(&str, &str, bool)> = all
            .iter()
            .map(|t| (t.platform.id(), t.variant.as_str(), t.builtin))
            .collect();
        assert_eq!(
            listed,
            [
                ("x", "default", false),
                ("mastodon", "default", true),
                ("bluesky", "default", true),
                ("bluesky", "question", false),
                ("bluesky", "teaser", false),
                ("threads", "default", true),
                ("linkedin", "default", true),
                ("instagram", "default", true),
                ("facebook", "default", true),
            ]
        );
        assert_eq!(all[0].source, "Mine {{ title }}");
        assert!(all[0].updated_at.is_some() && all[1].updated_at.is_none());
        assert_eq!(
            all[1].source,
            crate::captions::default_template_source(Platform::Mastodon)
        );
    }
}
