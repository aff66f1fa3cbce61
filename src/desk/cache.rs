//! Rendered copy-desk pages, gzipped once and served again while nothing on them changed.
//!
//! A page is reused only for the same session (its forms carry that session's CSRF token),
//! the same account, the same view (filters and page) and the same desk version: a
//! number the database raises in triggers on every change the desk shows, and
//! that the desk reads on each request together with the session, in one query. So a
//! change made through any replica sharing the database shows at once everywhere, and one
//! account's page can never reach another: each entry is checked against all of those.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// What a stored page must match to be served: everything the page is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    /// The SHA-256 of the session token, as the sessions table keeps it.
    pub session: String,
    pub user_id: String,
    /// The view's canonical address (filters and page).
    pub view: String,
    pub version: i64,
}

impl PageKey {
    /// A strong validator for conditional GETs. It covers the build too: a new release
    /// may render the same data differently.
    pub fn etag(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            env!("CARGO_PKG_VERSION"),
            &self.session,
            &self.user_id,
            &self.view,
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let hex = hex::encode(&digest[..12]);
        format!("\"d{}-{hex}\"", self.version)
    }
}

/// A page as stored: gzipped, since nearly every browser takes that.
pub struct StoredPage {
    key: PageKey,
    pub etag: String,
    pub gzip: Bytes,
}

impl StoredPage {
    pub fn new(key: PageKey, html: &str) -> std::io::Result<StoredPage> {
        let mut encoder = GzEncoder::new(
            Vec::with_capacity(html.len() / 8),
            flate2::Compression::default(),
        );
        encoder.write_all(html.as_bytes())?;
        let gzip = Bytes::from(encoder.finish()?);
        Ok(StoredPage {
            etag: key.etag(),
            key,
            gzip,
        })
    }

    /// The page as HTML, for the rare client that does not take gzip.
    pub fn html(&self) -> std::io::Result<Bytes> {
        let mut decoder = flate2::write::GzDecoder::new(Vec::new());
        decoder.write_all(&self.gzip)?;
        Ok(Bytes::from(decoder.finish()?))
    }
}

/// Pages by session and view; a newer version of a view replaces the older one.
pub struct DeskCache {
    pages: Mutex<Pages>,
    max_bytes: usize,
    /// One lock per session and view being rendered: requests that miss together wait for
    /// the first one's page instead of each rendering it (see [`DeskCache::render_turn`]).
    renders: Mutex<HashMap<SessionView, Arc<tokio::sync::Mutex<()>>>>,
}

/// A session (its token's hash) and a view's canonical address.
type SessionView = (String, String);

/// The right to render one session's view; the next request waiting for it goes once this
/// is dropped. Must not be held across anything but the render and storing its page.
pub struct RenderTurn<'a> {
    cache: &'a DeskCache,
    view: SessionView,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for RenderTurn<'_> {
    fn drop(&mut self) {
        let guard = self.guard.take();
        let Ok(mut renders) = self.cache.renders.lock() else {
            return;
        };
        drop(guard);
        // Waiters cloned the lock under this same mutex before waiting, so a count of one
        // (the map's own) means nobody waits: forget it, or the map would keep every view.
        if renders
            .get(&self.view)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            renders.remove(&self.view);
        }
    }
}

#[derive(Default)]
struct Pages {
    by_view: HashMap<(String, String), Arc<StoredPage>>,
    bytes: usize,
}

impl Default for DeskCache {
    fn default() -> Self {
        // About 2,000 first pages of a large desk (23 KB gzipped each).
        DeskCache::with_limit(48 * 1024 * 1024)
    }
}

impl DeskCache {
    pub fn with_limit(max_bytes: usize) -> Self {
        DeskCache {
            pages: Mutex::new(Pages::default()),
            max_bytes,
            renders: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until no other request of the same session is rendering the same view. After
    /// a change, or on a cold start, the requests that missed the store together would
    /// otherwise each render the page: 64 renders at once of a page taking 20 ms keep them
    /// all waiting over half a second on two cores. The caller looks in the store again once its
    /// turn comes, and renders only if the page it wants is still not there.
    pub async fn render_turn(&self, key: &PageKey) -> RenderTurn<'_> {
        let view = (key.session.clone(), key.view.clone());
        let lock = match self.renders.lock() {
            Ok(mut renders) => Some(renders.entry(view.clone()).or_default().clone()),
            Err(_) => None,
        };
        let guard = match lock {
            Some(lock) => Some(lock.lock_owned().await),
            None => None,
        };
        RenderTurn {
            cache: self,
            view,
            guard,
        }
    }

    /// How many views have a render under way or waited for (tests).
    pub fn renders_pending(&self) -> usize {
        self.renders.lock().map(|r| r.len()).unwrap_or_default()
    }

    /// The stored page for exactly this key, if any.
    pub fn get(&self, key: &PageKey) -> Option<Arc<StoredPage>> {
        let pages = self.pages.lock().ok()?;
        pages
            .by_view
            .get(&(key.session.clone(), key.view.clone()))
            .filter(|page| page.key == *key)
            .cloned()
    }

    pub fn put(&self, page: Arc<StoredPage>) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        let size = page.gzip.len();
        if size > self.max_bytes / 4 {
            return;
        }
        // Past the limit, drop pages until a quarter is free: which ones matters little,
        // since each is one render away.
        if pages.bytes + size > self.max_bytes {
            let target = self.max_bytes * 3 / 4;
            let mut freed = Vec::new();
            let mut bytes = pages.bytes;
            for (view, stored) in &pages.by_view {
                if bytes + size <= target {
                    break;
                }
                bytes -= stored.gzip.len();
                freed.push(view.clone());
            }
            for view in freed {
                pages.by_view.remove(&view);
            }
            pages.bytes = bytes;
        }
        let view = (page.key.session.clone(), page.key.view.clone());
        if let Some(old) = pages.by_view.insert(view, page) {
            pages.bytes -= old.gzip.len();
        }
        pages.bytes += size;
    }
}

/// Whether the client takes gzip (`Accept-Encoding`, with a q-value above 0).
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        coding.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// Whether `If-None-Match` names this entity tag (or any, with `*`).
pub fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(session: &str, view: &str, version: i64) -> PageKey {
        PageKey {
            session: session.into(),
            user_id: "u1".into(),
            view: view.into(),
            version,
        }
    }

    #[tokio::test]
    async fn a_render_of_the_same_view_waits_for_the_one_under_way() {
        let cache = DeskCache::default();
        let first = cache.render_turn(&key("s1", "/feeds", 1)).await;
        // Another session's render, or another view's, does not wait.
        let other_session = cache.render_turn(&key("s2", "/feeds", 1)).await;
        let other_view = cache.render_turn(&key("s1", "/settings", 1)).await;
        drop((other_session, other_view));

        let same = key("s1", "/feeds", 2);
        let waiting = cache.render_turn(&same);
        tokio::pin!(waiting);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting).await;
        assert!(waited.is_err(), "the same view waits while one renders");
        drop(first);
        let second = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("its turn comes once the first is done");
        assert_eq!(cache.renders_pending(), 1);
        drop(second);
        assert_eq!(
            cache.renders_pending(),
            0,
            "nothing is kept once nobody renders"
        );
    }

    fn page(key: PageKey, html: &str) -> Arc<StoredPage> {
        Arc::new(StoredPage::new(key, html).expect("gzip in memory"))
    }

    #[test]
    fn a_page_is_served_only_for_its_exact_key() {
        let cache = DeskCache::default();
        cache.put(page(key("s1", "/captions", 7), "<p>seven</p>"));
        let found = cache.get(&key("s1", "/captions", 7)).expect("stored");
        assert_eq!(found.html().expect("gunzip").as_ref(), b"<p>seven</p>");
        assert!(
            cache.get(&key("s1", "/captions", 8)).is_none(),
            "newer version"
        );
        assert!(
            cache.get(&key("s2", "/captions", 7)).is_none(),
            "other session"
        );
        assert!(cache.get(&key("s1", "/captions?page=2", 7)).is_none());
        let mut other_account = key("s1", "/captions", 7);
        other_account.user_id = "u2".into();
        assert!(cache.get(&other_account).is_none());
    }

    #[test]
    fn a_newer_version_replaces_the_older_and_the_size_stays_bounded() {
        let cache = DeskCache::with_limit(4096);
        cache.put(page(key("s1", "/captions", 1), "one"));
        cache.put(page(key("s1", "/captions", 2), "two"));
        assert!(cache.get(&key("s1", "/captions", 1)).is_none());
        assert!(cache.get(&key("s1", "/captions", 2)).is_some());
        for i in 0..200 {
            cache.put(page(key(&format!("s{i}"), "/captions", 1), "page"));
        }
        let pages = cache.pages.lock().expect("not poisoned");
        assert!(pages.bytes <= 4096, "{} bytes kept", pages.bytes);
        let counted: usize = pages.by_view.values().map(|p| p.gzip.len()).sum();
        assert_eq!(counted, pages.bytes);
    }

    #[test]
    fn etags_differ_by_version_view_and_session() {
        let base = key("s1", "/captions", 1).etag();
        assert_ne!(base, key("s1", "/captions", 2).etag());
        assert_ne!(base, key("s2", "/captions", 1).etag());
        assert_ne!(base, key("s1", "/captions?status=new", 1).etag());
        assert!(matches_etag(&format!("\"x\", W/{base}"), &base));
        assert!(!matches_etag("\"x\"", &base));
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0, deflate"));
        assert!(!accepts_gzip("identity"));
    }
}
