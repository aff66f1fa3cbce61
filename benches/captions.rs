//! Caption generation speed on one core: captions per second with the built-in templates
//! and with a heavy custom template (rendering, counting and fitting included), against a
//! reference measured in the same run: minijinja rendering a caption-sized template alone.
//!
//! `cargo bench --bench captions`. Prints rates and ratios, no verdicts: the machines are
//! shared, so only ratios within one run mean much. The target is 100,000 captions/s with
//! the built-in templates.

use std::hint::black_box;
use std::time::{Duration, Instant};

use captionfeed::captions::{
    generate_with, Platform, PostView, Settings, TemplateSet, DEFAULT_VARIANT,
};
use captionfeed::feeds::{angles, Angles};

const POSTS: usize = 200;
const MIN_TIME: Duration = Duration::from_secs(3);

fn posts() -> Vec<PostView> {
    let scripts = [
        "Zero-downtime Postgres migrations with Diesel",
        "日本語のブログ記事：Rustで作るフィードリーダー",
        "Pourquoi nous avons réécrit notre moteur de recherche en Rust 🦀",
        "مقدمة إلى البرمجة المتزامنة",
        "The 👨‍👩‍👧‍👦 family emoji, flags 🇯🇵 and other things that break counters",
    ];
    (0..POSTS)
        .map(|i| {
            let title = format!("{} (part {i})", scripts[i % scripts.len()]);
            // Every fourth post has a summary far over every short limit, so fitting works.
            let words = if i % 4 == 0 { 120 } else { 35 };
            let summary: Vec<String> = (0..words)
                .map(|w| {
                    [
                        "feeds",
                        "captions",
                        "Rust",
                        "naïve",
                        "データ",
                        "example.com",
                        "performance",
                    ][(i + w) % 7]
                        .to_owned()
                })
                .collect();
            let lead = "A paragraph of the article body with some words in it.";
            let content_text = format!(
                "{lead}\nOur largest table has {i}00 million rows, and a naive ALTER TABLE took \
                 an exclusive lock for minutes.\nThe expand and contract pattern lets old and new \
                 versions of the article body share one table while a column moves.\n\
                 Why does a rename of one column need two deploys of the whole service?\n\
                 {}",
                "Each paragraph of the article body adds some words to the table. ".repeat(26)
            );
            // Read once when the feed was, and read back from the stored form.
            let angles = Angles::from_json(&angles::of(&title, &content_text, lead).to_json())
                .unwrap_or_default();
            PostView {
                angles,
                title,
                url: Some(format!(
                    "https://blog.example.dev/posts/{i}/a-fairly-long-slug-for-the-post"
                )),
                summary: summary.join(" "),
                content_text,
                author: Some("Dana Okafor".into()),
                published: chrono::DateTime::from_timestamp(1_760_000_000 + i as i64 * 3600, 0),
                categories: vec![
                    "Rust".into(),
                    "web feeds".into(),
                    "Social media".into(),
                    "performance".into(),
                    "DevOps".into(),
                    "Site reliability".into(),
                ],
                image_url: Some("https://blog.example.dev/img/cover.png".into()),
                feed_title: Some("Example Engineering".into()),
                // Read once when the feed was, like the text above.
                lead: lead.into(),
                title_from_text: false,
                headings: vec!["Why".into(), "How".into()],
            }
        })
        .collect()
}

/// Loops, conditionals and most filters, for every platform.
const HEAVY: &str = "{% if feed_title %}[{{ feed_title|upper }}] {% endif %}{{ title|strip }}\n\n\
{{ summary|truncate_words(40) }} {% for c in categories %}{% for h in hashtags %}{% if loop.index <= 2 %}{{ c|lower }}{{ h }} {% endif %}{% endfor %}{% endfor %}\n\n\
{{ excerpt|truncate_words(25) }}\n\
By {{ author|default('someone') }} on {{ published|date('%A %d %B %Y') }}\n\
{% for c in categories %}{{ c|lower }}{% if not loop.last %}, {% endif %}{% endfor %}\n\
{{ url }}\n\
{{ categories|hashtags|join(' ') }} {{ hashtags[:3]|join(' ') }}";

/// Fixed number of rounds over the posts instead of MIN_TIME, from `CAPTIONS_BENCH_ROUNDS`:
/// under `valgrind --tool=callgrind` the instruction count of a fixed amount of work is
/// repeatable where wall-clock time on a shared machine is not.
fn fixed_rounds() -> Option<usize> {
    std::env::var("CAPTIONS_BENCH_ROUNDS").ok()?.parse().ok()
}

/// Runs `f` over the posts repeatedly for at least MIN_TIME (or the fixed rounds);
/// returns captions per second.
fn rate(posts: &[PostView], per_post: usize, mut f: impl FnMut(&PostView) -> usize) -> f64 {
    let started = Instant::now();
    let mut captions = 0usize;
    let mut rounds = 0;
    let fixed = fixed_rounds();
    while match fixed {
        Some(n) => rounds < n,
        None => started.elapsed() < MIN_TIME || rounds == 0,
    } {
        for post in posts {
            captions += black_box(f(post));
        }
        rounds += 1;
    }
    assert_eq!(captions, rounds * posts.len() * per_post);
    captions as f64 / started.elapsed().as_secs_f64()
}

/// Whether a case runs: all of them, or only the one `CAPTIONS_BENCH_CASE` names
/// (reference, defaults, utm, heavy, platforms), to profile one at a time.
fn wanted(case: &str) -> bool {
    std::env::var("CAPTIONS_BENCH_CASE").map_or(true, |only| only == case)
}

fn main() {
    let posts = posts();
    let all: Vec<(Platform, String)> = Platform::ALL
        .iter()
        .map(|&p| (p, DEFAULT_VARIANT.to_owned()))
        .collect();
    let settings = Settings::default();
    println!("caption generation, one core, {POSTS} posts × 7 platforms");

    if wanted("reference") {
        // Reference: minijinja alone, X's built-in template, no counting or fitting.
        let mut env = minijinja::Environment::new();
        env.add_template(
            "x",
            "{{ title }}\n{{ url }}\n\n{{ hashtags[:2]|join(' ') }}",
        )
        .expect("reference template compiles");
        let tmpl = env.get_template("x").expect("reference template");
        let contexts: Vec<minijinja::Value> = posts
            .iter()
            .map(|p| {
                minijinja::context! {
                    title => p.title, url => p.url, summary => p.summary,
                    hashtags => vec!["#Rust", "#WebFeeds", "#SocialMedia"],
                }
            })
            .collect();
        let mut i = 0;
        let reference = rate(&posts, 1, |_| {
            i = (i + 1) % contexts.len();
            black_box(tmpl.render(&contexts[i]).map(|s| s.len()).unwrap_or(0));
            1
        });
        println!("  reference: minijinja render alone   {reference:>12.0} renders/s");
    }

    let defaults = TemplateSet::defaults();
    if wanted("defaults") {
        let default_rate = rate(&posts, all.len(), |post| {
            generate_with(defaults, post, &all, &settings).len()
        });
        println!("  built-in templates                  {default_rate:>12.0} captions/s");
    }
    if wanted("utm") {
        let utm = Settings {
            utm: true,
            ..Settings::default()
        };
        let utm_rate = rate(&posts, all.len(), |post| {
            generate_with(defaults, post, &all, &utm).len()
        });
        println!("  built-in templates + UTM            {utm_rate:>12.0} captions/s");
    }

    if wanted("heavy") {
        let (heavy, broken) = TemplateSet::with_overrides(
            Platform::ALL
                .iter()
                .map(|&p| (p, "heavy".to_owned(), HEAVY.to_owned())),
        );
        assert!(broken.is_empty(), "{broken:?}");
        let heavy_requests: Vec<(Platform, String)> = Platform::ALL
            .iter()
            .map(|&p| (p, "heavy".to_owned()))
            .collect();
        let sample = generate_with(&heavy, &posts[0], &heavy_requests, &settings);
        assert!(
            sample
                .iter()
                .all(|c| c.error.is_none() && c.length <= c.limit),
            "{sample:?}"
        );
        let heavy_rate = rate(&posts, all.len(), |post| {
            generate_with(&heavy, post, &heavy_requests, &settings).len()
        });
        println!("  heavy custom template               {heavy_rate:>12.0} captions/s");
    }

    if wanted("platforms") {
        for p in Platform::ALL {
            let one = [(p, DEFAULT_VARIANT.to_owned())];
            let r = rate(&posts[..50], 1, |post| {
                generate_with(defaults, post, &one, &settings).len()
            });
            println!(
                "    {:<10} built-in               {r:>12.0} captions/s",
                p.id()
            );
        }
    }
}
