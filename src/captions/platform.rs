//! The platforms captions are written for, and the fixed facts about each.

use std::str::FromStr;

/// A social platform a caption is written for.
///
/// Serialized as its lowercase id (`"x"`, `"linkedin"`, ...), which is also
/// what [`Platform::id`] returns and what [`FromStr`] accepts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    X,
    Mastodon,
    Bluesky,
    Threads,
    Linkedin,
    Instagram,
    Facebook,
}

impl Platform {
    /// Every platform, in the order the UI lists them.
    pub const ALL: [Platform; 7] = [
        Platform::X,
        Platform::Mastodon,
        Platform::Bluesky,
        Platform::Threads,
        Platform::Linkedin,
        Platform::Instagram,
        Platform::Facebook,
    ];

    /// Stable lowercase id, identical to the serde representation.
    pub fn id(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Mastodon => "mastodon",
            Platform::Bluesky => "bluesky",
            Platform::Threads => "threads",
            Platform::Linkedin => "linkedin",
            Platform::Instagram => "instagram",
            Platform::Facebook => "facebook",
        }
    }

    /// Human-facing name, spelled the way each platform brands itself.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::X => "X",
            Platform::Mastodon => "Mastodon",
            Platform::Bluesky => "Bluesky",
            Platform::Threads => "Threads",
            Platform::Linkedin => "LinkedIn",
            Platform::Instagram => "Instagram",
            Platform::Facebook => "Facebook",
        }
    }

    /// Maximum post length, in the units [`crate::captions::measure`] returns
    /// for this platform (weighted characters on X, graphemes on Bluesky, ...).
    pub fn limit(self) -> usize {
        match self {
            Platform::X => 280,
            // Mastodon's default; instances can raise it, never assumed here.
            Platform::Mastodon => 500,
            Platform::Bluesky => 300,
            Platform::Threads => 500,
            Platform::Linkedin => 3000,
            Platform::Instagram => 2200,
            Platform::Facebook => 63206,
        }
    }
}

/// A platform id that is not one of [`Platform::ALL`].
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown platform {0:?}; expected one of x, mastodon, bluesky, threads, linkedin, instagram, facebook"
)]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    /// Accepts the ids, ignoring ASCII case and surrounding whitespace, because
    /// they arrive from CLI flags, query strings and config files typed by hand.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Platform::ALL
            .into_iter()
            .find(|p| p.id().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownPlatform(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_from_str_and_serde() {
        for p in Platform::ALL {
            assert_eq!(p.id().parse::<Platform>().unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.id()));
            assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), p);
        }
    }

    #[test]
    fn facts() {
        let facts: Vec<_> = Platform::ALL
            .iter()
            .map(|p| (p.id(), p.display_name(), p.limit()))
            .collect();
        assert_eq!(
            facts,
            [
                ("x", "X", 280),
                ("mastodon", "Mastodon", 500),
                ("bluesky", "Bluesky", 300),
                ("threads", "Threads", 500),
                ("linkedin", "LinkedIn", 3000),
                ("instagram", "Instagram", 2200),
                ("facebook", "Facebook", 63206),
            ]
        );
    }

    #[test]
    fn from_str_is_forgiving_about_case_and_space_only() {
        assert_eq!(
            " LinkedIn ".parse::<Platform>().unwrap(),
            Platform::Linkedin
        );
        let err = "twitter".parse::<Platform>().unwrap_err();
        assert_eq!(err.0, "twitter");
        assert!(err.to_string().contains("expected one of x, mastodon"));
        assert!("".parse::<Platform>().is_err());
    }
}
