//! Hashtags worth posting, made from a post's categories and tags.
//!
//! Feeds label posts for their own navigation, not for social reach: a
//! company blog files posts under its team names (`GO`, `CS`, `SCM`),
//! WordPress files the rest under "Uncategorized", tags come as version
//! numbers or split into letters. The rules, in order:
//!
//! 1. A category is split into separate tags at `/`, `&`, `|`, `,`, `;` and
//!    `+` ("iPhone/iPad", "AI & Machine Learning"): those separate
//!    alternatives, not words of one name.
//! 2. Placeholder categories ("Uncategorized" in nine languages, "Blog",
//!    "Post", ...) are dropped: blog software assigns them, nobody chose them.
//! 3. Cryptic short upper-case tags (2 to 4 capitals or digits as the whole
//!    category, like `GO`, `SCM`) are dropped unless the subscriber keeps
//!    them or they are widely known ([`KNOWN_ACRONYMS`]: `AI`, `SEO`, ...).
//! 4. The rest is CamelCased: words are split at any other punctuation or
//!    space; an all-lowercase word gets a capital, a word with capitals of
//!    its own (`iOS`, `macOS`) keeps them. `C++`, `C#` and `F#` keep their
//!    meaning (`CPlusPlus`, `CSharp`, `FSharp`).
//! 5. Dropped: tags without a letter (`2024`: no platform links them), single
//!    Latin letters, and phrases of more than [`MAX_WORDS`] words or
//!    [`MAX_CHARS`] characters, which read as sentences, not tags.
//! 6. Duplicates are merged ignoring case (`iOS 10` and `iOS10`); the first
//!    spelling wins.
//!
//! The subscriber's own tags to always add come first (so caps keep them),
//! then the post's, minus the subscriber's blocklist.

use std::collections::HashSet;

use super::platform::Platform;

/// Words a tag may have before it reads as a sentence.
pub const MAX_WORDS: usize = 4;
/// Characters a tag may have (without `#`).
pub const MAX_CHARS: usize = 30;
/// Tags made per post at most; bounds work on feeds that tag everything.
pub const MAX_TAGS: usize = 30;

/// Upper-case abbreviations readers know; kept although short and capital.
pub const KNOWN_ACRONYMS: &[&str] = &[
    "AI", "API", "AR", "AWS", "B2B", "B2C", "CEO", "CI", "CLI", "CSS", "DIY", "DNS", "ESG", "ETF",
    "EU", "EV", "F1", "FAQ", "FIFA", "GDPR", "GPS", "GPT", "GPU", "HR", "HTML", "HTTP", "IOT",
    "IPO", "IT", "JSON", "LGBT", "LLM", "ML", "NASA", "NATO", "NBA", "NFL", "NFT", "NHS", "PDF",
    "PHP", "PR", "SDK", "SEO", "SQL", "SSD", "UEFA", "UI", "UK", "UN", "US", "USA", "USB", "UX",
    "VPN", "VR", "XML", "YAML",
];

/// Categories blog software assigns when nobody picked one, or that name the
/// kind of item rather than its subject; compared ignoring case.
const PLACEHOLDERS: &[&str] = &[
    "uncategorized",
    "uncategorised",
    "unkategorisiert",
    "allgemein",
    "non classé",
    "sin categoría",
    "sin categoria",
    "geen categorie",
    "ongecategoriseerd",
    "senza categoria",
    "sem categoria",
    "未分類",
    "未分类",
    "미분류",
    "general",
    "misc",
    "blog",
    "post",
    "posts",
    "article",
    "articles",
];

/// How many hashtags each platform's captions carry, changeable per feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashtagCaps([usize; 7]);

impl Default for HashtagCaps {
    fn default() -> Self {
        HashtagCaps(Platform::ALL.map(default_cap))
    }
}

/// The built-in cap: what reads well on each platform. Bluesky and Facebook
/// default templates show none; a template of the subscriber's own gets a few.
fn default_cap(platform: Platform) -> usize {
    match platform {
        Platform::X => 2,
        Platform::Mastodon => 4,
        Platform::Bluesky => 2,
        Platform::Threads => 1,
        Platform::Linkedin => 3,
        Platform::Instagram => 5,
        Platform::Facebook => 3,
    }
}

/// The most a feed may ask for: what the platform accepts (Threads takes one
/// topic tag, Instagram reach drops past five), else [`MAX_TAGS`].
pub fn max_cap(platform: Platform) -> usize {
    match platform {
        Platform::Threads => 1,
        Platform::Instagram => 5,
        _ => MAX_TAGS,
    }
}

/// Why a caps setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapsError {
    #[error("{0:?} is not \"platform=number\" (for example x=2)")]
    Shape(String),
    #[error("{0}")]
    Platform(String),
    #[error("{platform} takes at most {max} hashtags")]
    TooMany { platform: &'static str, max: usize },
}

impl HashtagCaps {
    pub fn get(&self, platform: Platform) -> usize {
        self.0[index(platform)]
    }

    /// Reads `x=3, instagram=0`: platforms not named keep their default.
    pub fn parse(setting: &str) -> Result<Self, CapsError> {
        let mut caps = HashtagCaps::default();
        for item in setting.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (platform, n) = item
                .split_once('=')
                .ok_or_else(|| CapsError::Shape(item.to_owned()))?;
            let platform: Platform = platform
                .parse()
                .map_err(|e: super::UnknownPlatform| CapsError::Platform(e.to_string()))?;
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| CapsError::Shape(item.to_owned()))?;
            if n > max_cap(platform) {
                return Err(CapsError::TooMany {
                    platform: platform.display_name(),
                    max: max_cap(platform),
                });
            }
            caps.0[index(platform)] = n;
        }
        Ok(caps)
    }

    /// The setting as stored and shown: only what differs from the default.
    pub fn to_setting(&self) -> String {
        Platform::ALL
            .into_iter()
            .filter(|&p| self.get(p) != default_cap(p))
            .map(|p| format!("{}={}", p.id(), self.get(p)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every platform's cap, in the usual order of platforms.
    pub fn all(&self) -> Vec<(Platform, usize)> {
        Platform::ALL
            .into_iter()
            .map(|p| (p, self.get(p)))
            .collect()
    }
}

fn index(platform: Platform) -> usize {
    Platform::ALL
        .iter()
        .position(|&p| p == platform)
        .unwrap_or_default()
}

/// A feed's hashtag settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashtagRules {
    /// Added to every caption, before the post's own.
    pub always: Vec<String>,
    /// Never used, however the post is tagged (compared ignoring case and `#`).
    pub blocked: Vec<String>,
    /// Short upper-case tags the subscriber wants although they look cryptic.
    pub kept: Vec<String>,
    pub caps: HashtagCaps,
}

/// The hashtags (with `#`) for a post tagged `categories`, under `rules`.
pub fn hashtags(categories: &[String], rules: &HashtagRules) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut tags = Vec::new();
    let blocked: HashSet<String> = rules
        .blocked
        .iter()
        .flat_map(|b| tags_of(b, &Keep::Everything))
        .map(|t| t.to_lowercase())
        .collect();
    let mut push = |tag: String, tags: &mut Vec<String>| {
        if tags.len() < MAX_TAGS && seen.insert(tag.to_lowercase()) {
            tags.push(format!("#{tag}"));
        }
    };
    for own in &rules.always {
        for tag in tags_of(own, &Keep::Everything) {
            push(tag, &mut tags);
        }
    }
    let keep = Keep::Chosen(&rules.kept);
    for category in categories {
        for tag in tags_of(category, &keep) {
            if !blocked.contains(&tag.to_lowercase()) {
                push(tag, &mut tags);
            }
        }
    }
    tags
}

/// Which doubtful tags survive.
enum Keep<'a> {
    /// The subscriber typed them: only what cannot be a tag at all goes.
    Everything,
    /// From the feed: cryptic ones only when listed here.
    Chosen(&'a [String]),
}

/// The tags (without `#`) one category gives.
fn tags_of(category: &str, keep: &Keep) -> Vec<String> {
    // "C++" keeps its meaning instead of splitting at its pluses.
    let category = if category.contains("++") {
        std::borrow::Cow::Owned(category.replace("++", "PlusPlus"))
    } else {
        std::borrow::Cow::Borrowed(category)
    };
    category
        .split(['/', '&', '|', ',', ';', '+', '\u{FF0F}', '\u{FF06}'])
        .filter_map(|part| tag_of(part.trim(), keep))
        .collect()
}

fn tag_of(part: &str, keep: &Keep) -> Option<String> {
    if part.is_empty() {
        return None;
    }
    if let Keep::Chosen(kept) = keep {
        let lower = part.to_lowercase();
        if PLACEHOLDERS.contains(&lower.as_str()) {
            return None;
        }
        if is_cryptic(part) && !kept.iter().any(|k| same_tag(k, part)) {
            return None;
        }
    }
    let words = words_of(part);
    if words.is_empty() || words.len() > MAX_WORDS {
        return None;
    }
    let mut tag = String::new();
    for word in &words {
        let mut chars = word.chars();
        match chars.next() {
            Some(first) if !word.chars().skip(1).any(char::is_uppercase) => {
                tag.extend(first.to_uppercase());
                tag.push_str(chars.as_str());
            }
            _ => tag.push_str(word),
        }
    }
    let letters = tag.chars().filter(|c| c.is_alphabetic()).count();
    let single_latin = tag.chars().count() == 1 && tag.is_ascii();
    (letters > 0 && !single_latin && tag.chars().count() <= MAX_CHARS).then_some(tag)
}

/// The words of a part: letters, digits and combining marks, split at
/// everything else. `C#` and `F#` become `CSharp` and `FSharp`; an
/// apostrophe joins ("Editor's" is one word).
fn words_of(part: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in part.chars() {
        if c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c) {
            word.push(c);
        } else if matches!(c, '\'' | '\u{2019}') && !word.is_empty() {
            // Apostrophes inside a word are dropped, not split at.
        } else if c == '#' && word.len() == 1 && word.chars().all(|l| l.is_ascii_alphabetic()) {
            word.push_str("Sharp");
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Two to four capitals or digits, at least one a letter, and nothing else:
/// an internal code more often than a word a reader would follow.
fn is_cryptic(part: &str) -> bool {
    let n = part.chars().count();
    (2..=4).contains(&n)
        && part
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && part.chars().any(|c| c.is_ascii_uppercase())
        && !KNOWN_ACRONYMS.contains(&part)
}

/// Whether a subscriber's entry names this category, ignoring case and `#`.
fn same_tag(entry: &str, part: &str) -> bool {
    entry
        .trim()
        .trim_start_matches('#')
        .eq_ignore_ascii_case(part)
}

/// A comma-separated list of tags as a subscriber types it, each trimmed of
/// `#` and space; empty items dropped.
pub fn parse_list(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(|t| t.trim().trim_start_matches(['#', '＃']).trim())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(categories: &[&str]) -> Vec<String> {
        let categories: Vec<String> = categories.iter().map(|c| c.to_string()).collect();
        hashtags(&categories, &HashtagRules::default())
    }

    /// Categories as real feeds carry them, each from a committed copy of the
    /// feed (feed-rs/feed-rs @ b64d2aa, `feed-rs/fixture/`; and
    /// Ranchero-Software/NetNewsWire @ 834decf,
    /// `Modules/RSParser/Tests/RSParserTests/Resources/`), and what they
    /// become. An empty result means the category gives no tag.
    #[test]
    fn real_categories_become_hashtags_worth_posting() {
        let table: &[(&str, &str, &[&str])] = &[
            // feed-rs rss2/rss_2.0_wirecutter.xml (WordPress default)
            ("wirecutter", "Uncategorized", &[]),
            // feed-rs rss2/rss_2.0_ch9.xml (Channel 9)
            ("ch9", "Azure", &["#Azure"]),
            ("ch9", "aft", &["#Aft"]),
            // feed-rs rss2/rss_2.0_cloudflare.xml
            ("cloudflare", "Product News", &["#ProductNews"]),
            // feed-rs rss2/rss_2.0_spreaker.xml (a podcast category)
            ("spreaker", "Society & Culture", &["#Society", "#Culture"]),
            // feed-rs rss2/rss_2.0_rps.xml (Rock Paper Shotgun)
            ("rps", "The Sunday Papers", &["#TheSundayPapers"]),
            // feed-rs rss2/rss_2.0_ilgiornale.xml (Italian)
            ("ilgiornale", "Cronaca nera", &["#CronacaNera"]),
            // feed-rs rss2/rss_2.0_nbcny.xml: the item type, not a subject
            ("nbcny", "post", &[]),
            // NetNewsWire cloudblog.rss (Google Cloud)
            (
                "cloudblog",
                "AI & Machine Learning",
                &["#AI", "#MachineLearning"],
            ),
            (
                "cloudblog",
                "Containers & Kubernetes",
                &["#Containers", "#Kubernetes"],
            ),
            (
                "cloudblog",
                "Google Cloud Platform",
                &["#GoogleCloudPlatform"],
            ),
            ("cloudblog", "BigQuery", &["#BigQuery"]),
            // NetNewsWire macworld.rss
            ("macworld", "iPhone/iPad", &["#iPhone", "#iPad"]),
            ("macworld", "iOS Apps", &["#iOSApps"]),
            // NetNewsWire medscape.rss
            (
                "medscape",
                "Family Medicine/Primary Care",
                &["#FamilyMedicine", "#PrimaryCare"],
            ),
            (
                "medscape",
                "Public Health & Prevention",
                &["#PublicHealth", "#Prevention"],
            ),
            ("medscape", "MDAngle", &["#MDAngle"]),
            // NetNewsWire natasha.xml
            ("natasha", "iOS 10", &["#iOS10"]),
            ("natasha", "passkit pass", &["#PasskitPass"]),
            // NetNewsWire qemu.atom: version labels
            ("qemu", "qemu 9.2", &["#Qemu92"]),
            ("qemu", "gsoc", &["#Gsoc"]),
            // NetNewsWire 489.rss
            ("489", "2018", &[]),
            ("489", "Hodl Hodl", &["#HodlHodl"]),
            ("489", "honey-badger", &["#HoneyBadger"]),
            // NetNewsWire 3960.json (a German blog)
            ("3960", "Für Tumblr", &["#FürTumblr"]),
            ("3960", "MSFS2020", &["#MSFS2020"]),
            // NetNewsWire rose.json: a tag string split into letters
            ("rose", "w", &[]),
            ("rose", ",", &[]),
            // The company blog of issue 15: internal team names
            ("issue 15", "GO", &[]),
            ("issue 15", "CS", &[]),
            ("issue 15", "SCM", &[]),
            ("issue 15", "Trans", &["#Trans"]),
        ];
        let failures: Vec<String> = table
            .iter()
            .filter(|(_, category, want)| tags(&[category]) != *want)
            .map(|(feed, category, want)| {
                format!(
                    "{feed}: {category:?} gave {:?}, want {want:?}",
                    tags(&[category])
                )
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn duplicates_merge_ignoring_case_first_spelling_wins() {
        // NetNewsWire natasha.xml tags one post "ios", "iOS10" and "iOS 10".
        assert_eq!(tags(&["ios", "iOS10", "iOS 10", "iOS"]), ["#Ios", "#iOS10"]);
        assert_eq!(
            tags(&["Rust programming", "rust-programming", "RUST PROGRAMMING"]),
            ["#RustProgramming"]
        );
    }

    #[test]
    fn punctuation_and_numbers() {
        assert_eq!(
            tags(&["C++", "C#", "F#", "Node.js"]),
            ["#CPlusPlus", "#CSharp", "#FSharp", "#NodeJs"]
        );
        assert_eq!(
            tags(&["Editor's picks", "l’été"]),
            ["#EditorsPicks", "#Lété"]
        );
        assert_eq!(
            tags(&["2024", "3.14", "#rust", "(draft)"]),
            ["#Rust", "#Draft"]
        );
        assert_eq!(
            tags(&["Café culture", "観察記録", "트위터"]),
            ["#CaféCulture", "#観察記録", "#트위터"]
        );
        // A decomposed accent stays in its word.
        assert_eq!(tags(&["cafe\u{301} culture"]), ["#Cafe\u{301}Culture"]);
    }

    #[test]
    fn sentences_are_not_tags() {
        assert_eq!(
            tags(&["How to make the most of your garden"]),
            Vec::<String>::new()
        );
        assert_eq!(tags(&["Garmin Descent MK1"]), ["#GarminDescentMK1"]);
        assert_eq!(tags(&[&"a".repeat(31)]), Vec::<String>::new());
    }

    #[test]
    fn known_acronyms_stay_and_subscribers_keep_their_own() {
        assert_eq!(tags(&["AI", "SEO", "GO", "SCM"]), ["#AI", "#SEO"]);
        let rules = HashtagRules {
            kept: vec!["#scm".into()],
            ..HashtagRules::default()
        };
        let categories = ["GO".to_owned(), "SCM".to_owned()];
        assert_eq!(hashtags(&categories, &rules), ["#SCM"]);
    }

    #[test]
    fn always_added_tags_come_first_and_blocked_ones_never() {
        let rules = HashtagRules {
            always: vec!["our brand".into(), "#Rust".into()],
            blocked: vec!["#trans".into(), "Product news".into()],
            ..HashtagRules::default()
        };
        let categories: Vec<String> = ["Trans", "rust", "Product News", "Security"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            hashtags(&categories, &rules),
            ["#OurBrand", "#Rust", "#Security"]
        );
    }

    #[test]
    fn at_most_thirty_tags() {
        let many: Vec<String> = (0..100).map(|i| format!("topic {i}")).collect();
        assert_eq!(hashtags(&many, &HashtagRules::default()).len(), MAX_TAGS);
    }

    #[test]
    fn caps_default_parse_and_round_trip() {
        let caps = HashtagCaps::default();
        let defaults: Vec<(&str, usize)> = caps.all().iter().map(|(p, n)| (p.id(), *n)).collect();
        assert_eq!(
            defaults,
            [
                ("x", 2),
                ("mastodon", 4),
                ("bluesky", 2),
                ("threads", 1),
                ("linkedin", 3),
                ("instagram", 5),
                ("facebook", 3)
            ]
        );
        assert_eq!(caps.to_setting(), "");
        let mine = HashtagCaps::parse(" X=0 , linkedin = 6,").unwrap();
        assert_eq!(
            (mine.get(Platform::X), mine.get(Platform::Linkedin)),
            (0, 6)
        );
        assert_eq!(mine.get(Platform::Mastodon), 4);
        assert_eq!(mine.to_setting(), "x=0, linkedin=6");
        assert_eq!(HashtagCaps::parse(&mine.to_setting()), Ok(mine));
        assert_eq!(
            HashtagCaps::parse("threads=2").unwrap_err().to_string(),
            "Threads takes at most 1 hashtags"
        );
        assert!(HashtagCaps::parse("twitter=2")
            .unwrap_err()
            .to_string()
            .contains("unknown platform"));
        assert!(matches!(
            HashtagCaps::parse("x:2"),
            Err(CapsError::Shape(_))
        ));
        assert!(matches!(
            HashtagCaps::parse("x=-1"),
            Err(CapsError::Shape(_))
        ));
    }

    #[test]
    fn lists_as_typed() {
        assert_eq!(
            parse_list(" #Rust, ,our brand ,＃タグ"),
            ["Rust", "our brand", "タグ"]
        );
    }
}
