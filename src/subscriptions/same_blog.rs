//! One blog, two feeds: its RSS and its Atom (or a `/feed` and a `/feed.xml`) carry the
//! same posts, and following both makes every caption twice. Before a second one is
//! followed, the account's feeds are searched for the same blog.

use diesel::prelude::*;

use super::{list, SubscribedFeed, SubscriptionId};
use crate::accounts::UserId;
use crate::db::schema::{posts, subscriptions};
use crate::db::{AnyConnection, DbError};

/// How many of the new feed's entry links are compared: a feed's newest posts are enough
/// to tell, and the query stays small.
const LINKS_COMPARED: usize = 50;

/// The account's feed, other than the one at `url`, that carries the same blog as `url`
/// with this site address and these entry links: the same site address, or more than
/// half of the links among its posts. `None` when no feed does.
pub fn followed_elsewhere(
    conn: &mut AnyConnection,
    user: &UserId,
    url: &str,
    site_url: Option<&str>,
    entry_links: &[String],
) -> Result<Option<SubscribedFeed>, DbError> {
    // The feed itself followed again is another answer (already followed), not this one.
    let followed: Vec<SubscribedFeed> = list(conn, user)?
        .into_iter()
        .filter(|f| f.feed.url != url)
        .collect();
    if let Some(site) = site_url.and_then(site_key) {
        if let Some(same) = followed
            .iter()
            .find(|f| f.feed.site_url.as_deref().and_then(site_key).as_deref() == Some(&site))
        {
            return Ok(Some(same.clone()));
        }
    }
    let links: Vec<String> = entry_links.iter().take(LINKS_COMPARED).cloned().collect();
    if links.is_empty() {
        return Ok(None);
    }
    let matched: Vec<SubscriptionId> = posts::table
        .inner_join(
            subscriptions::table.on(subscriptions::feed_id
                .eq(posts::feed_id)
                .and(subscriptions::user_id.eq(user.as_str()))),
        )
        .filter(posts::url.eq_any(links.clone()))
        .select(subscriptions::id)
        .load(conn)?;
    let best = followed
        .into_iter()
        .map(|f| {
            let hits = matched
                .iter()
                .filter(|id| **id == f.subscription.id)
                .count();
            (hits, f)
        })
        .max_by_key(|(hits, _)| *hits);
    Ok(best
        .filter(|(hits, _)| hits * 2 > links.len())
        .map(|(_, f)| f))
}

/// A site address as two feeds of one blog would both state it: the scheme, a leading
/// `www.` and a trailing slash do not tell blogs apart.
fn site_key(site: &str) -> Option<String> {
    let url = url::Url::parse(site.trim()).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    Some(format!("{host}{}", url.path().trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::site_key;

    #[test]
    fn site_addresses_of_one_blog_match() {
        assert_eq!(
            site_key("https://www.Blog.example/"),
            site_key("http://blog.example")
        );
        assert_ne!(
            site_key("https://blog.example/ann/"),
            site_key("https://blog.example/bob/")
        );
        assert_eq!(site_key("not an address"), None);
    }
}
