//! The template builder's form, shared by the account's Templates page and a feed's own
//! templates: the blocks as the form carries them, one edit per post (add, remove, move),
//! and the preview of the built template on a post the subscriber picks.
//!
//! Every action is a plain form post that re-renders the page, so the builder works
//! without JavaScript; the blocks travel in a hidden field, one per line.

use crate::captions::builder::{self, Block, KINDS};
use crate::captions::{
    check, generate_with, Language, Platform, PostView, Rules, Settings, TemplateSet,
};

/// Recent posts offered to preview on.
pub const PREVIEW_POSTS: i64 = 10;

/// The builder's fields, as posted by each of its small forms.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct BuilderForm {
    pub platform: String,
    pub variant: String,
    /// The blocks, one a line (see [`encode`]).
    pub blocks: String,
    /// The block to add, and its own text when it is one.
    pub kind: String,
    pub text: String,
    /// Which recent post the preview is made on (its place in the list).
    pub post: String,
    /// `add`, `remove:N`, `up:N`, `down:N`, `preview` or `save`.
    pub action: String,
}

/// What a posted builder form asks for.
pub enum Step {
    /// Show these blocks again (after an edit, or with why the edit was refused).
    Edit(Vec<Block>, Option<String>),
    /// Write the template these blocks make.
    Save(Vec<Block>),
}

impl BuilderForm {
    /// The blocks after this form's action.
    pub fn step(&self) -> Step {
        let mut blocks = decode(&self.blocks);
        let (verb, at) = self.action.split_once(':').unwrap_or((&self.action, ""));
        let at: Option<usize> = at.parse().ok().filter(|&i| i < blocks.len());
        match (verb, at) {
            ("save", _) => return Step::Save(blocks),
            ("add", _) if blocks.len() >= builder::MAX_BLOCKS => {
                return Step::Edit(
                    blocks,
                    Some(format!(
                        "a template holds at most {} blocks",
                        builder::MAX_BLOCKS
                    )),
                )
            }
            ("add", _) => match Block::from_kind(&self.kind, &self.text) {
                Some(block) => blocks.push(block),
                None if self.kind == "text" => {
                    return Step::Edit(blocks, Some("write the text to add first".into()))
                }
                None => return Step::Edit(blocks, Some("choose a block to add".into())),
            },
            ("remove", Some(i)) => {
                blocks.remove(i);
            }
            ("up", Some(i)) if i > 0 => blocks.swap(i, i - 1),
            ("down", Some(i)) if i + 1 < blocks.len() => blocks.swap(i, i + 1),
            _ => {}
        }
        Step::Edit(blocks, None)
    }

    /// The chosen preview post's place, the first when none was chosen.
    pub fn post(&self) -> usize {
        self.post.parse().unwrap_or(0)
    }
}

/// The blocks as the form carries them: one a line, own text after `text:`.
pub fn encode(blocks: &[Block]) -> String {
    blocks
        .iter()
        .map(|b| match b {
            Block::Text(text) => format!("text:{text}"),
            other => other.kind().to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`encode`]'s blocks; lines it cannot read are left out.
pub fn decode(encoded: &str) -> Vec<Block> {
    encoded
        .lines()
        .filter_map(|line| {
            let (kind, text) = line.split_once(':').unwrap_or((line, ""));
            Block::from_kind(kind.trim(), text)
        })
        .take(builder::MAX_BLOCKS)
        .collect()
}

pub struct BlockRow {
    pub index: usize,
    pub label: &'static str,
    pub text: String,
    pub first: bool,
    pub last: bool,
}

pub struct PostChoice {
    pub index: usize,
    pub title: String,
    pub selected: bool,
}

pub struct BuiltPreview {
    pub text: String,
    pub length: usize,
    pub limit: usize,
    pub fits: bool,
    pub problems: Vec<String>,
}

/// Everything the builder's part of a page shows.
pub struct BuilderView {
    /// Where its forms post.
    pub action: String,
    pub platform: &'static str,
    pub platform_name: &'static str,
    pub variant: String,
    pub blocks: Vec<BlockRow>,
    /// The blocks for the hidden field.
    pub encoded: String,
    pub kinds: &'static [(&'static str, &'static str)],
    /// The template in force was not made here: saving from the builder replaces it.
    pub hand_written: bool,
    pub posts: Vec<PostChoice>,
    pub post: usize,
    pub preview: Option<BuiltPreview>,
    pub error: Option<String>,
}

/// The blocks a template in force opens with: its own when the builder made it, else a
/// starting point (and `true`: it was written by hand).
pub fn opening(source: &str, platform: Platform) -> (Vec<Block>, bool) {
    match builder::from_source(source, platform) {
        Some(blocks) => (blocks, false),
        None => (builder::starter(platform), true),
    }
}

/// The builder for `blocks`, previewed on the `post`th of `posts` with the settings of the
/// feed it came from; its fixed words in `language`.
#[allow(clippy::too_many_arguments)]
pub fn view(
    action: String,
    platform: Platform,
    variant: &str,
    blocks: &[Block],
    hand_written: bool,
    posts: &[(PostView, Settings)],
    post: usize,
    language: Language,
) -> BuilderView {
    let post = if post < posts.len() { post } else { 0 };
    let last = blocks.len().saturating_sub(1);
    BuilderView {
        action,
        platform: platform.id(),
        platform_name: platform.display_name(),
        variant: variant.to_owned(),
        blocks: blocks
            .iter()
            .enumerate()
            .map(|(index, b)| BlockRow {
                index,
                label: b.label(),
                text: b.text().to_owned(),
                first: index == 0,
                last: index == last,
            })
            .collect(),
        encoded: encode(blocks),
        kinds: &KINDS,
        hand_written,
        posts: posts
            .iter()
            .enumerate()
            .map(|(index, (p, _))| PostChoice {
                index,
                title: p.title.clone(),
                selected: index == post,
            })
            .collect(),
        post,
        preview: posts
            .get(post)
            .map(|(p, settings)| preview(platform, variant, blocks, p, settings, language)),
        error: None,
    }
}

/// The built template rendered and fitted on `post` as its captions would be.
fn preview(
    platform: Platform,
    variant: &str,
    blocks: &[Block],
    post: &PostView,
    settings: &Settings,
    language: Language,
) -> BuiltPreview {
    let source = builder::to_source(blocks, platform, language);
    // Built templates always compile (the builder's proptest); a set without it would
    // only preview the built-in template.
    let (set, _) =
        TemplateSet::with_overrides_in(settings.language, [(platform, variant.to_owned(), source)]);
    let rules = Rules::for_platform(platform, settings.mastodon_limit);
    let caption = generate_with(&set, post, &[(platform, variant.to_owned())], settings)
        .into_iter()
        .next();
    let (text, length, limit, error) = match caption {
        Some(c) => (c.text, c.length, c.limit, c.error),
        None => (String::new(), 0, rules.limit, None),
    };
    let mut problems = check(platform, &rules, &text).violations;
    problems.extend(error);
    BuiltPreview {
        fits: length <= limit && problems.is_empty(),
        text,
        length,
        limit,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(blocks: &[Block], action: &str) -> BuilderForm {
        BuilderForm {
            blocks: encode(blocks),
            action: action.into(),
            ..BuilderForm::default()
        }
    }

    fn edited(form: &BuilderForm) -> (Vec<Block>, Option<String>) {
        match form.step() {
            Step::Edit(blocks, error) => (blocks, error),
            Step::Save(_) => panic!("saved"),
        }
    }

    #[test]
    fn blocks_survive_the_hidden_field() {
        let blocks = vec![
            Block::Text("New: read this".into()),
            Block::Title,
            Block::Break,
            Block::Break,
            Block::Link,
        ];
        assert_eq!(decode(&encode(&blocks)), blocks);
        assert_eq!(
            decode("title\nnonsense\n\nlink"),
            [Block::Title, Block::Link]
        );
    }

    #[test]
    fn each_action_edits_the_blocks() {
        let blocks = [Block::Title, Block::Lead, Block::Link];
        let mut add = form(&blocks, "add");
        add.kind = "text".into();
        add.text = "Fresh from the blog".into();
        assert_eq!(edited(&add).0[3], Block::Text("Fresh from the blog".into()));
        assert_eq!(
            edited(&form(&blocks, "up:1")).0,
            [Block::Lead, Block::Title, Block::Link]
        );
        assert_eq!(
            edited(&form(&blocks, "down:1")).0,
            [Block::Title, Block::Link, Block::Lead]
        );
        assert_eq!(
            edited(&form(&blocks, "remove:0")).0,
            [Block::Lead, Block::Link]
        );
        // Moves past either end and places that are not there change nothing.
        for action in ["up:0", "down:2", "remove:3", "remove:x", "preview"] {
            assert_eq!(edited(&form(&blocks, action)), (blocks.to_vec(), None));
        }
    }

    #[test]
    fn an_empty_own_text_is_refused_with_a_reason() {
        let mut add = form(&[Block::Title], "add");
        add.kind = "text".into();
        add.text = "  {} ".into();
        let (blocks, error) = edited(&add);
        assert_eq!(blocks, [Block::Title]);
        assert_eq!(error.as_deref(), Some("write the text to add first"));
    }

    #[test]
    fn the_preview_counts_and_says_whether_it_fits() {
        let post = PostView {
            title: "Short and sweet".into(),
            url: Some("https://blog.example.com/p".into()),
            ..PostView::default()
        };
        let posts = [(post, Settings::default())];
        let v = view(
            "/templates/builder".into(),
            Platform::X,
            "default",
            &[Block::Title, Block::Quote, Block::Link],
            false,
            &posts,
            7,
            Language::En,
        );
        let p = v.preview.unwrap();
        assert_eq!(p.text, "Short and sweet\nhttps://blog.example.com/p");
        assert_eq!((p.length, p.limit, p.fits), (39, 280, true));
        assert_eq!(v.post, 0);
    }
}
