//! Per-subscription keyword filters: which posts get captions at all.

use super::PostView;

/// Keywords matched case-insensitively as substrings of the post's title,
/// summary and categories. An exclude match always wins; with include
/// keywords, a post needs at least one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordFilter {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl KeywordFilter {
    pub fn new(include: &[String], exclude: &[String]) -> Self {
        let normalize = |list: &[String]| {
            list.iter()
                .map(|k| k.trim().to_lowercase())
                .filter(|k| !k.is_empty())
                .collect()
        };
        KeywordFilter {
            include: normalize(include),
            exclude: normalize(exclude),
        }
    }

    pub fn allows(&self, post: &PostView) -> bool {
        if self.include.is_empty() && self.exclude.is_empty() {
            return true;
        }
        let haystack = format!(
            "{}\n{}\n{}",
            post.title,
            post.summary,
            post.categories.join("\n")
        )
        .to_lowercase();
        let found = |list: &[String]| list.iter().any(|k| haystack.contains(k.as_str()));
        !found(&self.exclude) && (self.include.is_empty() || found(&self.include))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(title: &str, summary: &str, categories: &[&str]) -> PostView {
        PostView {
            title: title.into(),
            summary: summary.into(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            ..PostView::default()
        }
    }

    fn filter(include: &[&str], exclude: &[&str]) -> KeywordFilter {
        let own = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        KeywordFilter::new(&own(include), &own(exclude))
    }

    #[test]
    fn no_keywords_allow_everything() {
        assert!(filter(&[], &[" "]).allows(&post("", "", &[])));
    }

    #[test]
    fn include_matches_title_summary_or_category_ignoring_case() {
        let f = filter(&["rust", "Postgres"], &[]);
        assert!(f.allows(&post("Learning RUST", "", &[])));
        assert!(f.allows(&post("A post", "about postgres tuning", &[])));
        assert!(f.allows(&post("A post", "", &["Rust"])));
        assert!(!f.allows(&post("Go generics", "nothing else", &["Go"])));
    }

    #[test]
    fn exclude_wins_over_include() {
        let f = filter(&["rust"], &["sponsored"]);
        assert!(!f.allows(&post("Rust news", "", &["Sponsored"])));
        assert!(f.allows(&post("Rust news", "", &[])));
        assert!(!filter(&[], &["hiring"]).allows(&post("We are HIRING", "", &[])));
    }
}
