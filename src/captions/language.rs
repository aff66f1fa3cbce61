//! The languages the built-in templates' fixed words ("Read more", "Link in bio") are
//! written in. A feed's captions use the language chosen for the feed, else the one the
//! feed declares, else English.

/// A language of the fixed words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    En,
    De,
    Fr,
    Es,
    Nl,
    Pt,
    It,
    Ja,
    Ko,
}

impl Language {
    pub const ALL: [Language; 9] = [
        Language::En,
        Language::De,
        Language::Fr,
        Language::Es,
        Language::Nl,
        Language::Pt,
        Language::It,
        Language::Ja,
        Language::Ko,
    ];

    /// The ISO 639-1 code, as stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::Nl => "nl",
            Language::Pt => "pt",
            Language::It => "it",
            Language::Ja => "ja",
            Language::Ko => "ko",
        }
    }

    /// The language's name in itself, for choosing it.
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::De => "Deutsch",
            Language::Fr => "Français",
            Language::Es => "Español",
            Language::Nl => "Nederlands",
            Language::Pt => "Português",
            Language::It => "Italiano",
            Language::Ja => "日本語",
            Language::Ko => "한국어",
        }
    }

    /// The language of a tag as feeds write it (`de`, `de-DE`, `pt_BR`, `EN-us`); `None`
    /// for one without fixed words here.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// Before the link on LinkedIn, with its punctuation ("Read more:").
    pub fn read_more(self) -> &'static str {
        match self {
            Language::En => "Read more:",
            Language::De => "Weiterlesen:",
            Language::Fr => "Lire la suite :",
            Language::Es => "Leer más:",
            Language::Nl => "Lees meer:",
            Language::Pt => "Leia mais:",
            Language::It => "Leggi di più:",
            Language::Ja => "続きを読む：",
            Language::Ko => "더 읽기:",
        }
    }

    /// Where the link is on Instagram, whose captions cannot hold one.
    pub fn link_in_bio(self) -> &'static str {
        match self {
            Language::En => "Link in bio.",
            Language::De => "Link in der Bio.",
            Language::Fr => "Lien dans la bio.",
            Language::Es => "Enlace en la bio.",
            Language::Nl => "Link in bio.",
            Language::Pt => "Link na bio.",
            Language::It => "Link nella bio.",
            Language::Ja => "リンクはプロフィールから。",
            Language::Ko => "링크는 프로필에 있어요.",
        }
    }

    /// The closing question of a LinkedIn caption when the post asks none itself.
    pub fn what_do_you_think(self) -> &'static str {
        match self {
            Language::En => "What do you think?",
            Language::De => "Was meinen Sie?",
            Language::Fr => "Qu’en pensez-vous ?",
            Language::Es => "¿Qué opinas?",
            Language::Nl => "Wat vind jij?",
            Language::Pt => "O que você acha?",
            Language::It => "Cosa ne pensi?",
            Language::Ja => "どう思いますか？",
            Language::Ko => "어떻게 생각하시나요?",
        }
    }

    /// The words of a teaser: what opens it ("In this post:"), what joins its last two
    /// items (" and "), and what separates the others (", ").
    pub fn teaser_words(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Language::En => ("In this post:", " and ", ", "),
            Language::De => ("In diesem Beitrag:", " und ", ", "),
            Language::Fr => ("Dans cet article :", " et ", ", "),
            Language::Es => ("En este artículo:", " y ", ", "),
            Language::Nl => ("In dit artikel:", " en ", ", "),
            Language::Pt => ("Neste artigo:", " e ", ", "),
            Language::It => ("In questo articolo:", " e ", ", "),
            Language::Ja => ("この記事の内容：", "、", "、"),
            Language::Ko => ("이 글의 내용:", ", ", ", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_as_feeds_write_them() {
        assert_eq!(Language::from_tag("de-DE"), Some(Language::De));
        assert_eq!(Language::from_tag(" pt_BR"), Some(Language::Pt));
        assert_eq!(Language::from_tag("EN-us"), Some(Language::En));
        assert_eq!(Language::from_tag("ja"), Some(Language::Ja));
        assert_eq!(Language::from_tag("sv-SE"), None);
        assert_eq!(Language::from_tag(""), None);
        for l in Language::ALL {
            assert_eq!(Language::from_tag(l.code()), Some(l));
        }
    }

    #[test]
    fn every_language_has_its_own_words_and_none_breaks_a_template() {
        for l in Language::ALL {
            for words in [
                l.read_more(),
                l.link_in_bio(),
                l.name(),
                l.what_do_you_think(),
            ] {
                assert!(!words.is_empty() && !words.contains(['{', '}', '%', '#']));
            }
            if l != Language::En {
                assert_ne!(l.read_more(), Language::En.read_more(), "{l:?}");
            }
        }
    }
}
