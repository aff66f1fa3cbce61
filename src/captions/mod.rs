//! Caption generation: one ready-to-post text per platform for a feed entry.
//!
//! [`generate`] is shared by the poller, the dashboard preview and the CLI, so
//! it is pure and deterministic: the same [`PostView`] always yields the same
//! captions, whoever asks.
//!
//! - `platform`: the [`Platform`] list and each platform's fixed facts.
//! - `count`: [`measure`], each platform's own idea of text length.
//! - `rules`: [`check`], the byte, link and hashtag caps on top of the length.
//! - `template`: the default templates and the context they see.
//! - `engine`: the sandboxed minijinja environment subscriber templates run in;
//!   `segments`: templates simple enough to render by pasting fields.
//! - `fit`: shortening a rendered caption until it is within the limit;
//!   `meter`: measuring its shortenings line by line, each line once.
//! - `builder`: templates as blocks a subscriber arranges, and back.
//! - `filter`: include/exclude keywords; `utm`: tracking parameters on links.
//! - `composer`: each platform's compose address with a caption in it.
//!
//! This module only writes: the account's stored captions, their templates and the
//! desk that shows them are `crate::desk`.
//!
//! Feed text is untrusted but this module only produces plain text; nothing
//! is HTML-escaped here. Pages escape captions when they display them.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};

mod bounds;
pub mod builder;
mod count;
mod engine;
mod filter;
mod filters;
mod fit;
mod hashtags;
mod language;
mod limits;
mod meter;
mod platform;
mod rules;
mod segments;
mod styles;
mod teaser;
mod template;
mod utm;

pub use count::measure;
pub use engine::{
    validate as validate_template, TemplateError, TemplateSet, VARIABLES as TEMPLATE_VARIABLES,
};
pub use filter::KeywordFilter;
pub use hashtags::{
    max_cap as max_hashtag_cap, parse_list as parse_hashtag_list, CapsError, HashtagCaps,
    HashtagRules,
};
pub use language::Language;
pub use platform::{Platform, UnknownPlatform};
pub use rules::{check, Check, Rules, MASTODON_MAX_LIMIT, MASTODON_MIN_LIMIT};
pub use styles::{variant_label, Style, STYLES};
pub use utm::{feed_slug, UtmTags, MAX_UTM_LEN};

/// The parts of a feed entry captions are made from, already reduced to
/// plain text by the feed layer.
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
    /// The first strong sentence of the post, or empty.
    pub lead: String,
    /// The title is a label made from the text (the feed had none, or repeated the text's
    /// beginning): captions carry the text once instead.
    pub title_from_text: bool,
    /// The post's section headings, in order.
    pub headings: Vec<String>,
    /// Other ways into the post than its lead (`feeds::angles`), read when it was stored.
    pub angles: crate::feeds::Angles,
}

/// A caption ready to post; `length` is [`measure`] of `text` and never
/// exceeds `limit`. When the template could not make a caption for this
/// post, `text` is empty and `error` says why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Caption {
    pub platform: Platform,
    pub variant: String,
    pub text: String,
    pub length: usize,
    pub limit: usize,
    pub error: Option<String>,
}

/// Name of the variant every platform has (the built-in template unless the
/// account overrides it).
pub const DEFAULT_VARIANT: &str = "default";

/// A subscription's settings that change how its captions are made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The subscriber's Mastodon instance limit, when not the default 500.
    pub mastodon_limit: Option<usize>,
    /// Whether links get UTM parameters: `utm_tags`, by default
    /// utm_source=<platform>, utm_medium=social, utm_campaign=captionfeed.
    pub utm: bool,
    pub utm_tags: UtmTags,
    /// The feed's name for `{feed}` in the UTM tags ([`feed_slug`]).
    pub feed: String,
    /// Which hashtags the captions carry, and how many on each platform.
    pub hashtags: HashtagRules,
    /// The language of the words captions add around the post's (the teaser's).
    pub language: Language,
}

/// The built-in template of `platform`, as the template page shows it.
pub fn default_template_source(platform: Platform) -> &'static str {
    template::default_template(platform)
}

/// The built-in template of (`platform`, `variant`): the default or a built-in style's,
/// in English; `None` for a variant only an account can have.
pub fn builtin_template_source(platform: Platform, variant: &str) -> Option<String> {
    if variant == DEFAULT_VARIANT {
        return Some(default_template_source(platform).to_owned());
    }
    styles::style(variant).map(|s| s.template(platform, Language::En))
}

/// One caption per entry of `platforms` with the built-in templates, in the
/// same order (duplicates included), each fitted to its platform's limit.
pub fn generate(post: &PostView, platforms: &[Platform]) -> Vec<Caption> {
    let requests: Vec<(Platform, String)> = platforms
        .iter()
        .map(|&p| (p, DEFAULT_VARIANT.to_owned()))
        .collect();
    generate_with(
        TemplateSet::defaults(),
        post,
        &requests,
        &Settings::default(),
    )
}

/// One caption per (platform, variant) request, rendered with `templates`
/// (compiled once by the caller, reused for every post).
pub fn generate_with(
    templates: &TemplateSet,
    post: &PostView,
    requests: &[(Platform, String)],
    settings: &Settings,
) -> Vec<Caption> {
    let ctx = template::Context::from_post_in(post, &settings.hashtags, settings.language);
    // Converted to template values once for every platform and shortening,
    // when a template needs minijinja.
    let prepared = OnceCell::new();
    requests
        .iter()
        .map(|(platform, variant)| {
            caption(templates, &ctx, &prepared, *platform, variant, settings)
        })
        .collect()
}

fn caption(
    templates: &TemplateSet,
    ctx: &template::Context,
    prepared: &OnceCell<engine::Prepared>,
    platform: Platform,
    variant: &str,
    settings: &Settings,
) -> Caption {
    let rules = Rules::for_platform(platform, settings.mastodon_limit);
    // This platform's own context, when it differs from the post's.
    let mut own: Option<template::Context> = None;
    if settings.utm && !ctx.url.is_empty() {
        own = Some(template::Context {
            url: utm::add_utm(&ctx.url, platform, &settings.utm_tags, &settings.feed),
            ..ctx.clone()
        });
    }
    if platform == Platform::X {
        if let Some(unlinked) = own.as_ref().unwrap_or(ctx).without_linked_angles() {
            own = Some(unlinked);
        }
    }
    let own_values = OnceCell::new();
    let (ctx, prepared) = match &own {
        Some(own) => (own, &own_values),
        None => (ctx, prepared),
    };
    let fitted = templates.compiled(platform, variant).and_then(|template| {
        let render = |s: &template::Shortened| template.render(ctx, prepared, s);
        let cap = settings.hashtags.caps.get(platform);
        fit::fit_with(platform, &rules, ctx, cap, &render)
    });
    let (text, length, error) = match fitted {
        // An empty caption is never silent: the page says why it is empty.
        Ok(fitted) if fitted.text.is_empty() => (
            fitted.text,
            0,
            Some("the template made no text for this post".to_owned()),
        ),
        Ok(fitted) => (fitted.text, fitted.length, None),
        Err(e) => (String::new(), 0, Some(e.to_string())),
    };
    Caption {
        platform,
        variant: variant.to_owned(),
        length,
        limit: rules.limit,
        text,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> PostView {
        PostView {
            title: "Zero-downtime Postgres migrations with Diesel".into(),
            url: Some("https://blog.example.dev/posts/zero-downtime-migrations".into()),
            summary: "How we ship schema changes to a busy Postgres database without locking tables: \
                      expand/contract migrations, batched backfills and the Diesel patterns that keep \
                      both old and new code working during a deploy."
                .into(),
            content_text: "Zero-downtime Postgres migrations with Diesel\n\nEvery deploy used to mean a \
                           maintenance window. Our largest table has 400 million rows, and a naive \
                           ALTER TABLE took an exclusive lock for minutes. This post walks through the \
                           expand/contract pattern we adopted, how we backfill in batches of 10,000 rows \
                           with a sleep between them, and the small Diesel helpers that let old and new \
                           application versions run side by side while a column is renamed. We also cover \
                           the monitoring we put in place, the two incidents that taught us to always set \
                           lock_timeout, and a checklist you can copy into your own pull request template."
                .into(),
            author: Some("Dana Okafor".into()),
            published: DateTime::from_timestamp(1_760_000_000, 0),
            categories: vec![
                "Rust".into(),
                "PostgreSQL".into(),
                "database migrations".into(),
                "DevOps".into(),
                "rust".into(),
                "Site reliability".into(),
            ],
            image_url: Some("https://blog.example.dev/img/migrations.png".into()),
            feed_title: Some("Example Engineering".into()),
            lead: "Every deploy used to mean a maintenance window.".into(),
            title_from_text: false,
            headings: vec!["Expand and contract".into(), "Backfills".into()],
            angles: crate::feeds::Angles {
                key_sentence: "This post walks through the expand/contract pattern we adopted, how we \
                               backfill in batches of 10,000 rows with a sleep between them, and the \
                               small Diesel helpers that let old and new application versions run side \
                               by side while a column is renamed."
                    .into(),
                quote: "We also cover the monitoring we put in place, the two incidents that taught \
                        us to always set lock_timeout, and a checklist you can copy into your own \
                        pull request template."
                    .into(),
                question: String::new(),
                number: "Our largest table has 400 million rows, and a naive ALTER TABLE took an \
                         exclusive lock for minutes."
                    .into(),
            },
        }
    }

    #[test]
    fn one_caption_per_requested_platform_in_order() {
        let asked = [Platform::Threads, Platform::X, Platform::Threads];
        let captions = generate(&post(), &asked);
        let got: Vec<_> = captions.iter().map(|c| c.platform).collect();
        assert_eq!(got, asked);
        assert!(generate(&post(), &[]).is_empty());
        for c in &captions {
            assert_eq!(c.variant, "default");
            assert_eq!(c.error, None);
            assert_eq!(c.length, measure(c.platform, &c.text));
            assert_eq!(c.limit, c.platform.limit());
        }
    }

    #[test]
    fn realistic_post_fits_everywhere_and_is_deterministic() {
        let first = generate(&post(), &Platform::ALL);
        assert_eq!(first, generate(&post(), &Platform::ALL));
        for c in &first {
            assert!(c.length <= c.limit, "{:?}", c);
            assert!(
                c.text.contains("Zero-downtime Postgres migrations"),
                "{:?}",
                c
            );
            assert!(!c.text.contains("\n\n\n"));
            let has_url = c
                .text
                .contains("https://blog.example.dev/posts/zero-downtime-migrations");
            assert_eq!(has_url, c.platform != Platform::Instagram, "{:?}", c);
        }
    }

    #[test]
    fn a_post_titled_from_its_text_is_captioned_from_its_text_once() {
        let text = "After years, I finally got us a month of Netflix. Mostly, so our little one \
                    can watch K-Pop Demon Hunters.";
        let post = PostView {
            title: "After years, I finally got".into(),
            title_from_text: true,
            url: Some("https://a.example/2025/10/07/after-years.html".into()),
            summary: text.into(),
            content_text: text.into(),
            ..PostView::default()
        };
        for c in generate(&post, &Platform::ALL) {
            assert_eq!(c.error, None, "{c:?}");
            assert!(c.text.starts_with("After years, I finally got us"), "{c:?}");
            assert_eq!(c.text.matches("After years").count(), 1, "{c:?}");
            assert!(!c.text.contains("(untitled)"));
        }
        let x = &generate(&post, &[Platform::X])[0];
        assert!(x.text.contains("Demon Hunters."), "{x:?}");
        assert!(x.text.contains("https://a.example/"), "{x:?}");

        // With no text at all, the label stands in.
        let bare = PostView {
            title: "after years".into(),
            title_from_text: true,
            ..PostView::default()
        };
        assert_eq!(generate(&bare, &[Platform::X])[0].text, "after years");
    }

    #[test]
    fn the_lead_is_a_template_variable() {
        let (set, errors) = TemplateSet::with_overrides([(
            Platform::X,
            DEFAULT_VARIANT.to_owned(),
            "{{ lead }} {{ url }}".to_owned(),
        )]);
        assert!(errors.is_empty(), "{errors:?}");
        let c = &generate_with(
            &set,
            &post(),
            &[(Platform::X, DEFAULT_VARIANT.to_owned())],
            &Settings::default(),
        )[0];
        assert_eq!(
            c.text,
            "Every deploy used to mean a maintenance window. \
             https://blog.example.dev/posts/zero-downtime-migrations"
        );
    }

    #[test]
    fn extreme_post_fits_everywhere() {
        let post = PostView {
            title: "x".repeat(600),
            url: Some(format!("https://example.com/{}", "segment/".repeat(40))),
            summary: "word ".repeat(1000),
            content_text: "text ".repeat(5000),
            categories: (0..100).map(|i| format!("category {i}")).collect(),
            ..PostView::default()
        };
        for c in generate(&post, &Platform::ALL) {
            assert!(!c.text.is_empty(), "{:?}", c.platform);
            assert!(c.length <= c.limit, "{:?}", c);
        }
    }

    #[test]
    fn empty_post_gives_empty_captions_that_say_so() {
        for c in generate(&PostView::default(), &Platform::ALL) {
            assert_eq!(c.text, "");
            assert_eq!(c.length, 0);
            assert_eq!(
                c.error.as_deref(),
                Some("the template made no text for this post")
            );
        }
    }

    #[test]
    fn a_template_that_fails_for_one_post_gives_that_caption_an_error() {
        let (set, broken) = TemplateSet::with_overrides([(
            Platform::X,
            "strict".to_owned(),
            "{{ title }} {{ (categories|first).missing.deeper }}".to_owned(),
        )]);
        assert!(broken.is_empty());
        let requests = [
            (Platform::X, "strict".to_owned()),
            (Platform::X, DEFAULT_VARIANT.to_owned()),
        ];
        let captions = generate_with(&set, &post(), &requests, &Settings::default());
        assert_eq!(captions[0].text, "");
        let error = captions[0].error.as_deref().unwrap();
        assert!(error.starts_with("line 1: "), "{error}");
        assert!(captions[1].error.is_none() && !captions[1].text.is_empty());
    }

    #[test]
    fn utm_parameters_are_per_platform_when_switched_on() {
        let requests = [
            (Platform::X, DEFAULT_VARIANT.to_owned()),
            (Platform::Bluesky, DEFAULT_VARIANT.to_owned()),
        ];
        let on = Settings {
            utm: true,
            ..Settings::default()
        };
        let captions = generate_with(TemplateSet::defaults(), &post(), &requests, &on);
        assert!(captions[0].text.contains(
            "https://blog.example.dev/posts/zero-downtime-migrations?utm_source=x&utm_medium=social&utm_campaign=captionfeed"
        ), "{}", captions[0].text);
        assert!(captions[1].text.contains("?utm_source=bluesky&"));
        let off = generate_with(
            TemplateSet::defaults(),
            &post(),
            &requests,
            &Settings::default(),
        );
        assert!(!off[0].text.contains("utm_"));
    }

    #[test]
    fn hashtags_follow_the_feeds_rules_and_caps() {
        let requests = [
            (Platform::X, DEFAULT_VARIANT.to_owned()),
            (Platform::Instagram, DEFAULT_VARIANT.to_owned()),
            (Platform::Mastodon, DEFAULT_VARIANT.to_owned()),
            (Platform::X, "all".to_owned()),
        ];
        let (set, _) = TemplateSet::with_overrides([(
            Platform::X,
            "all".to_owned(),
            "{{ title }} {{ hashtags[:10]|join(' ') }}".to_owned(),
        )]);
        let tags = |c: &Caption| -> Vec<String> {
            c.text
                .split_whitespace()
                .filter(|w| w.starts_with('#'))
                .map(str::to_owned)
                .collect()
        };
        let default = generate_with(&set, &post(), &requests, &Settings::default());
        assert_eq!(tags(&default[0]), ["#Rust", "#PostgreSQL"]);
        assert_eq!(tags(&default[1]).len(), 5);
        assert_eq!(tags(&default[2]).len(), 4);
        // The cap holds for templates of the subscriber's own too.
        assert_eq!(tags(&default[3]), ["#Rust", "#PostgreSQL"]);

        let feed = Settings {
            hashtags: HashtagRules {
                always: vec!["Example Eng".into()],
                blocked: vec!["#postgresql".into()],
                caps: HashtagCaps::parse("x=3, instagram=0").unwrap(),
                ..HashtagRules::default()
            },
            ..Settings::default()
        };
        let mine = generate_with(&set, &post(), &requests, &feed);
        assert_eq!(
            tags(&mine[0]),
            ["#ExampleEng", "#Rust", "#DatabaseMigrations"]
        );
        assert_eq!(tags(&mine[1]), Vec::<String>::new());
        assert!(!mine[1].text.ends_with('\n') && mine[1].error.is_none());
        assert_eq!(
            tags(&mine[2]),
            ["#ExampleEng", "#Rust", "#DatabaseMigrations", "#DevOps"]
        );
    }

    #[test]
    fn mastodon_limit_comes_from_the_settings() {
        // Mastodon carries the summary when the post has no lead.
        let long = PostView {
            summary: "Incomprehensibilities ".repeat(400),
            lead: String::new(),
            angles: crate::feeds::Angles::default(),
            ..post()
        };
        let requests = [(Platform::Mastodon, DEFAULT_VARIANT.to_owned())];
        let roomy = Settings {
            mastodon_limit: Some(1000),
            ..Settings::default()
        };
        let default = generate_with(
            TemplateSet::defaults(),
            &long,
            &requests,
            &Settings::default(),
        );
        let more = generate_with(TemplateSet::defaults(), &long, &requests, &roomy);
        assert_eq!((default[0].limit, more[0].limit), (500, 1000));
        assert!(default[0].length <= 500 && more[0].length > 500 && more[0].length <= 1000);
    }

    #[test]
    fn each_platform_takes_its_own_way_into_a_post_with_material() {
        let captions = generate(&post(), &Platform::ALL);
        for (i, a) in captions.iter().enumerate() {
            for b in &captions[i + 1..] {
                assert_ne!(a.text, b.text, "{:?} and {:?}", a.platform, b.platform);
            }
        }
        let text =
            |p: Platform| &captions[Platform::ALL.iter().position(|&q| q == p).unwrap()].text;
        let angles = post().angles;
        // X has no room for this key sentence beside the title: the lead, whole, instead.
        assert!(
            text(Platform::X).contains("\nEvery deploy used to mean a maintenance window.\n"),
            "{}",
            text(Platform::X)
        );
        assert!(text(Platform::Bluesky).starts_with(&post().lead));
        assert!(text(Platform::Threads).contains("We also cover the monitoring"));
        let linkedin = text(Platform::Linkedin);
        for part in [&post().lead, &angles.key_sentence, &angles.number] {
            assert!(linkedin.contains(part.as_str()), "{linkedin}");
        }
        assert!(linkedin.contains("In this post: Expand and contract and Backfills."));
        assert!(linkedin.contains("What do you think?\n\nRead more: https://"));
        assert!(text(Platform::Instagram).contains("Every deploy used to mean"));
    }

    #[test]
    fn a_hook_too_long_for_x_goes_whole_and_the_link_stays() {
        let long = PostView {
            title: "A title of some length that takes a good part of the room X gives us".into(),
            angles: crate::feeds::Angles {
                key_sentence: format!("{}.", "A sentence that goes on ".repeat(9).trim_end()),
                ..post().angles
            },
            ..post()
        };
        let x = &generate(&long, &[Platform::X])[0];
        assert!(x.length <= 280, "{x:?}");
        assert!(!x.text.contains("A sentence that goes on"), "{x:?}");
        assert!(
            x.text
                .starts_with(&format!("{}\n{}\n", long.title, long.lead)),
            "{x:?}"
        );
        assert!(x
            .text
            .contains("https://blog.example.dev/posts/zero-downtime-migrations"));
        // Where it fits, the key sentence is the hook, and hashtags make room for it.
        let short = PostView {
            angles: crate::feeds::Angles {
                key_sentence: "A naive ALTER TABLE on our largest table took an exclusive lock \
                               for minutes, and every deploy waited on a maintenance window."
                    .into(),
                ..post().angles
            },
            ..post()
        };
        let x = &generate(&short, &[Platform::X])[0];
        assert!(x.text.contains("\nA naive ALTER TABLE"), "{x:?}");
        assert!(x.text.contains("https://blog.example.dev/"), "{x:?}");
    }

    #[test]
    fn an_x_hook_never_carries_a_second_link() {
        // X counts bare domains as links: a hook naming one beside the post's link is
        // skipped, and the next way in takes its place.
        let linked = PostView {
            angles: crate::feeds::Angles {
                key_sentence: "The full checklist is at example.com/checklist for anyone \
                               to copy."
                    .into(),
                ..post().angles
            },
            ..post()
        };
        let x = &generate(&linked, &[Platform::X])[0];
        assert!(!x.text.contains("example.com"), "{x:?}");
        assert!(x.text.contains(&format!("\n{}\n", linked.lead)), "{x:?}");
        // Elsewhere the sentence stands, and on a post without a link of its own too.
        let mastodon = &generate(&linked, &[Platform::Mastodon])[0];
        assert!(
            mastodon.text.contains("example.com/checklist"),
            "{mastodon:?}"
        );
        let unlinked = PostView {
            url: None,
            ..linked
        };
        let x = &generate(&unlinked, &[Platform::X])[0];
        assert!(x.text.contains("example.com/checklist"), "{x:?}");
    }

    #[test]
    fn bluesky_cuts_its_text_after_a_whole_sentence_where_one_fits() {
        let first = "Every deploy used to mean a maintenance window for the whole team.";
        let second = "Our largest table has four hundred million rows and counting!";
        let post = PostView {
            summary: format!(
                "{first} {second} {}",
                "Incomprehensibilities everywhere ".repeat(12)
            ),
            lead: String::new(),
            angles: crate::feeds::Angles::default(),
            ..post()
        };
        let bluesky = &generate(&post, &[Platform::Bluesky])[0];
        assert!(
            bluesky
                .text
                .contains(&format!("\n\n{first} {second}\nhttps://")),
            "{bluesky:?}"
        );
        assert!(!bluesky.text.contains('…'), "{bluesky:?}");
        // Where no sentence ends in the room, words and an ellipsis as before.
        let endless = PostView {
            summary: "Incomprehensibilities everywhere ".repeat(12),
            ..post
        };
        let bluesky = &generate(&endless, &[Platform::Bluesky])[0];
        assert!(bluesky.text.contains("…\nhttps://"), "{bluesky:?}");
    }

    #[test]
    fn built_in_styles_are_labelled_variants_on_every_platform() {
        let requests: Vec<(Platform, String)> = STYLES
            .iter()
            .map(|s| (Platform::Bluesky, s.name.to_owned()))
            .collect();
        let de = Settings {
            language: Language::De,
            ..Settings::default()
        };
        let captions = generate_with(TemplateSet::defaults(), &post(), &requests, &de);
        let by = |v: &str| &captions.iter().find(|c| c.variant == v).unwrap().text;
        assert!(
            by("headline").starts_with("Zero-downtime Postgres migrations with Diesel\n\nhttps://")
        );
        assert!(by("hook").starts_with(&post().lead));
        assert!(by("quote").starts_with("We also cover the monitoring"));
        assert!(by("teaser").contains("In diesem Beitrag: Expand and contract und Backfills."));
        // No question in this post: the style falls back to the headline, never invents one.
        assert_eq!(by("question"), by("headline"));
        for c in &captions {
            assert_eq!(c.error, None);
            assert!(c.length <= c.limit);
        }
        assert_eq!(variant_label("teaser"), "Teaser");
    }

    #[test]
    #[ignore = "prints sample captions; run with --ignored --nocapture"]
    fn print_sample() {
        for c in generate(&post(), &Platform::ALL) {
            println!(
                "--- {} ({}/{}) ---\n{}\n",
                c.platform.display_name(),
                c.length,
                c.limit,
                c.text
            );
        }
    }
}
pub mod composer;
