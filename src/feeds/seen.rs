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
}

fn hash(entry_key: &str) -> u64 {
    let digest = Sha256::digest(entry_key.as_bytes());
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
    fn an_unreadable_column_means_nothing_is_known() {
        for stored in ["", "   ", "not-hex 0011", "00112233445566778899"] {
            assert!(SeenKeys::decode(stored).is_empty(), "{stored:?}");
        }
        assert!(!Known::default().contains("id:x"));
    }
}
