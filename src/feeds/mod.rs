//! Fetching, parsing and normalizing feeds. (interface stub: to be replaced)
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default)]
pub struct FetchConfig {
    pub allow_private_networks: bool,
    pub timeout: std::time::Duration,
    pub max_body_bytes: usize,
    pub user_agent: String,
}

#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug)]
pub enum FetchOutcome {
    NotModified,
    Fetched {
        body: bytes::Bytes,
        final_url: url::Url,
        validators: Validators,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Other(String),
}

#[derive(Clone)]
pub struct Fetcher;
impl Fetcher {
    pub fn new(_cfg: FetchConfig) -> Result<Self, FetchError> {
        Ok(Fetcher)
    }
    pub async fn fetch(&self, _url: &str, _v: &Validators) -> Result<FetchOutcome, FetchError> {
        todo!()
    }
}

#[derive(Debug, Clone)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub entries: Vec<NewEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub entry_key: String,
    pub title: String,
    pub url: Option<String>,
    pub summary: String,
    pub content_text: String,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub categories: Vec<String>,
    pub image_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Invalid(String),
}

pub fn parse_feed(_bytes: &[u8], _source_url: Option<&url::Url>) -> Result<ParsedFeed, ParseError> {
    todo!()
}
pub mod store;
pub mod guard {
    pub fn check_url(_url: &url::Url, _allow_private: bool) -> Result<(), super::FetchError> {
        Ok(())
    }
}
