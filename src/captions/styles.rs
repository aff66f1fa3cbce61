//! Built-in styles: ways into a post a subscriber can switch on per feed, each a labelled
//! variant with a template on every platform. A feed's variants list names them beside
//! `default` (`default, quote, question`); each then adds one caption per platform. An
//! account's own template of the same name replaces the built-in one.
//!
//! Each style leads with its angle and falls back to the title when the post has none, so
//! a style never invents text; where it falls back, it says what the headline says.

use std::borrow::Cow;

use super::language::Language;
use super::platform::Platform;

/// A built-in style: its variant name and what leads the caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// The variant name, as in a feed's variants list.
    pub name: &'static str,
    /// What the desk, the digest and the API call it.
    pub label: &'static str,
    /// The template's opening, before the link and the hashtags.
    body: &'static str,
}

/// The built-in styles, in the order they are offered.
pub const STYLES: [Style; 5] = [
    Style {
        name: "headline",
        label: "Headline",
        body: "{{ title }}",
    },
    Style {
        name: "hook",
        label: "Hook",
        body: "{% if lead %}{{ lead }}{% else %}{{ title }}\n\n{{ summary }}{% endif %}",
    },
    Style {
        name: "quote",
        label: "Quote",
        body: "{% if quote %}{{ quote }}\n\n— {% endif %}{{ title }}",
    },
    Style {
        name: "question",
        label: "Question",
        body: "{% if question %}{{ question }}\n\n{% endif %}{{ title }}",
    },
    Style {
        name: "teaser",
        label: "Teaser",
        body: "{{ title }}\n\n{{ teaser }}",
    },
];

/// The built-in style named `variant`, if it is one.
pub fn style(variant: &str) -> Option<&'static Style> {
    STYLES.iter().find(|s| s.name == variant)
}

/// What the desk, the digest and the API call a variant: a style's label, "Default" for
/// `default`, and the subscriber's own name for a variant of their own.
pub fn variant_label(variant: &str) -> Cow<'_, str> {
    match style(variant) {
        Some(s) => s.label.into(),
        None if variant == super::DEFAULT_VARIANT => "Default".into(),
        None => variant.into(),
    }
}

impl Style {
    /// The style's template on `platform`, its fixed words in `language`: the opening,
    /// then the link (on Instagram, where links do not work, where to find it), then the
    /// hashtags.
    pub(crate) fn template(&self, platform: Platform, language: Language) -> String {
        let link = match platform {
            Platform::Instagram => format!("{{% if url %}}{}{{% endif %}}", language.link_in_bio()),
            _ => "{{ url }}".to_owned(),
        };
        format!("{}\n\n{link}\n\n{{{{ hashtags|join(' ') }}}}", self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_styles_and_keep_the_subscribers_names() {
        assert_eq!(variant_label("quote"), "Quote");
        assert_eq!(variant_label("default"), "Default");
        assert_eq!(variant_label("spring-sale"), "spring-sale");
    }

    #[test]
    fn every_style_compiles_on_every_platform_in_every_language() {
        for style in STYLES {
            for platform in Platform::ALL {
                for language in Language::ALL {
                    let source = style.template(platform, language);
                    assert_eq!(super::super::validate_template(&source), Ok(()), "{source}");
                    assert_eq!(
                        source.contains("{{ url }}"),
                        platform != Platform::Instagram,
                        "{source}"
                    );
                }
            }
        }
    }
}
