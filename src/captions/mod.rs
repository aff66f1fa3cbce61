//! Caption generation. (interface stub: to be replaced)
use chrono::{DateTime, Utc};

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
    pub const ALL: [Platform; 7] = [
        Platform::X,
        Platform::Mastodon,
        Platform::Bluesky,
        Platform::Threads,
        Platform::Linkedin,
        Platform::Instagram,
        Platform::Facebook,
    ];
    pub fn id(self) -> &'static str {
        todo!()
    }
    pub fn display_name(self) -> &'static str {
        todo!()
    }
    pub fn limit(self) -> usize {
        todo!()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown platform {0:?}; expected one of x, mastodon, bluesky, threads, linkedin, instagram, facebook")]
pub struct UnknownPlatform(pub String);

impl std::str::FromStr for Platform {
    type Err = UnknownPlatform;
    fn from_str(_s: &str) -> Result<Self, Self::Err> {
        todo!()
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PostView {
    pub title: String,
    pub url: Option<String>,
    pub summary: String,
    pub content_text: String,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub categories: Vec<String>,
    pub image_url: Option<String>,
    pub feed_title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Caption {
    pub platform: Platform,
    pub variant: String,
    pub text: String,
    pub length: usize,
    pub limit: usize,
}

pub fn measure(_platform: Platform, _text: &str) -> usize {
    todo!()
}

pub fn generate(_post: &PostView, _platforms: &[Platform]) -> Vec<Caption> {
    todo!()
}
pub mod store;
