//! The entries a feed's last fetched document held, kept on the feed row so that the next
//! fetch reads only what is new.
//!
//! Turning an entry's HTML into text is most of a changed feed's cost, and a changed feed
//! usually holds one new entry among twenty already stored. The keys of the entries in
//! the last document are stored on the feed, written in the same transaction as those
//! entries' posts; the next fetch computes each entry's key first (cheap when the entry
//! has an id or a link) and reads only the entries whose key is not among them. Storing
//! stays keyed by the posts table: an entry read again is ignored there as before.
//!
//! Each key is kept as the first 8 bytes of its SHA-256, in hex: a few hundred bytes a
//! feed, and a chance of two different keys sharing a hash far below any feed's lifetime.
//!
//! Beside the keys, the hash of each entry's raw bytes ([`RawEntries`]): an entry whose
//! bytes are those of an entry of the last document is cut out before feed-rs reads the
//! document at all, so a changed feed costs the parse of its new entries, not of all
//! twenty. The keys of the entries read remain the fallback for an entry whose bytes
//! changed (an edited post, a comment count): such an entry read again is known by key,
//! or stored already and ignored by the posts table.

use std::collections::HashSet;

use sha2::{Digest as _, Sha256};

/// The hashes of a document's entry keys, in the document's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenKeys {
    hashes: Vec<u64>,
}

impl SeenKeys {
    /// Reads the column's value; anything unreadable counts as nothing seen, so the next
    /// fetch reads every entry, as before this column existed.
    pub fn decode(stored: &str) -> SeenKeys {
        let hashes: Option<Vec<u64>> = stored
            .split_ascii_whitespace()
            .map(|h| u64::from_str_radix(h, 16).ok())
            .collect();
        SeenKeys {
            hashes: hashes.unwrap_or_default(),
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.hashes.len() * 17);
        for (i, h) in self.hashes.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&format!("{h:016x}"));
        }
        out
    }

    pub fn push(&mut self, entry_key: &str) {
        self.hashes.push(hash(entry_key));
    }

    /// Notes an entry by the hash of its raw bytes ([`RawEntries::hash`]).
    pub fn push_raw(&mut self, raw: u64) {
        self.hashes.push(raw);
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// A set to look keys up in while a document is read.
    pub fn lookup(&self) -> Known {
        Known(self.hashes.iter().copied().collect())
    }
}

/// The keys of entries already stored, as far as the last document tells.
#[derive(Debug, Default)]
pub struct Known(HashSet<u64>);

impl Known {
    pub fn contains(&self, entry_key: &str) -> bool {
        !self.0.is_empty() && self.0.contains(&hash(entry_key))
    }

    /// Whether an entry of the last document had exactly these bytes ([`RawEntries`]).
    pub fn contains_raw(&self, raw: u64) -> bool {
        self.0.contains(&raw)
    }
}

/// Hashes the raw bytes of a document's entries, in the setting that gives them their
/// meaning: the address the document came from (relative links resolve against it) and
/// the root element's start tag (its namespace prefixes and `xml:base`). A raw hash is
/// of another domain than a key's hash (its input starts with a zero byte, which no key
/// holds), so both share one set.
#[derive(Clone)]
pub struct RawEntries {
    setting: Sha256,
}

impl RawEntries {
    pub fn new(source_url: Option<&str>, root_start_tag: &[u8]) -> RawEntries {
        let mut setting = Sha256::new();
        setting.update([0u8]);
        for part in [source_url.unwrap_or_default().as_bytes(), root_start_tag] {
            setting.update((part.len() as u64).to_be_bytes());
            setting.update(part);
        }
        RawEntries { setting }
    }

    pub fn hash(&self, entry: &[u8]) -> u64 {
        let mut hasher = self.setting.clone();
        hasher.update(entry);
        first_eight(&hasher.finalize())
    }
}

fn hash(entry_key: &str) -> u64 {
    first_eight(&Sha256::digest(entry_key.as_bytes()))
}

fn first_eight(digest: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_the_column_and_are_found_again() {
        let mut seen = SeenKeys::default();
        seen.push("id:urn:post:1");
        seen.push("link:https://blog.example/2");
        let stored = seen.encode();
        assert_eq!(stored.len(), 2 * 16 + 1);
        let back = SeenKeys::decode(&stored);
        assert_eq!(back, seen);
        let known = back.lookup();
        assert!(known.contains("id:urn:post:1"));
        assert!(known.contains("link:https://blog.example/2"));
        assert!(!known.contains("id:urn:post:3"));
    }

    #[test]
    fn raw_hashes_depend_on_the_bytes_and_on_their_setting() {
        let entry = b"<item><guid>1</guid></item>";
        let here = RawEntries::new(Some("https://blog.example/feed"), b"<rss version=\"2.0\">");
        let mut seen = SeenKeys::default();
        seen.push_raw(here.hash(entry));
        let known = SeenKeys::decode(&seen.encode()).lookup();
        assert!(known.contains_raw(here.hash(entry)));
        assert!(!known.contains_raw(here.hash(b"<item><guid>2</guid></item>")));
        let moved = RawEntries::new(Some("https://other.example/feed"), b"<rss version=\"2.0\">");
        assert!(!known.contains_raw(moved.hash(entry)));
        let renamed = RawEntries::new(Some("https://blog.example/feed"), b"<rss xmlns:a=\"x\">");
        assert!(!known.contains_raw(renamed.hash(entry)));
    }

    #[test]
    fn an_unreadable_column_means_nothing_is_known() {
        for stored in ["", "   ", "not-hex 0011", "00112233445566778899"] {
            assert!(SeenKeys::decode(stored).is_empty(), "{stored:?}");
        }
        assert!(!Known::default().contains("id:x"));
    }
}
