//! What feed-rs does not read, made readable before it parses. feed-rs reads today's RSS
//! 2.0, RSS 1.0 and Atom 1.0 well; blogs also serve what Python's feedparser has read for
//! twenty years, and feed-rs drops it, mangles it or rejects the whole document for it:
//!
//! - `<rss>` without a version or with one other than 0.91, 0.92 and 2.0;
//! - namespaces under an older name: Atom 0.3 and the pre-Atom drafts, RSS 0.90, the
//!   Userland and Harvard RSS 2.0 namespaces, Media RSS without its final slash, iTunes
//!   spelled with capitals;
//! - Atom 0.3's element names (`issued`, `modified`, `tagline`, `copyright`);
//! - Atom text in forms feed-rs refuses (a MIME type for `type`, `mode="base64"`,
//!   `mode="escaped"`) or serialises lossily (inline XHTML, whose `&lt;` it unescapes);
//! - an entry's link given elsewhere than in `<link>`: a permalink `<guid>` (a guid is one
//!   unless `isPermaLink="false"`), RSS 1.0's `rdf:about`, an Atom `<id>` that is an
//!   http(s) address, an RSS `<link href="…"/>` written the Atom way;
//! - an entry's title given only as `dc:title` or `media:title`.
//!
//! The document is rewritten into the dialect feed-rs reads, not parsed: one quick-xml pass
//! finds the spans to change and every other byte is copied as it was, so the declared
//! encoding still holds. Text this module writes is ASCII (other characters as character
//! references) for the same reason. A document quick-xml cannot read is passed on
//! untouched, for feed-rs to report.

use std::borrow::Cow;
use std::ops::Range;

use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::seen::{Known, RawEntries};

/// The document feed-rs should parse, and how many entries the original holds.
pub(super) struct Translated<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// `<item>`s and `<entry>`s in the document, whether or not feed-rs can read them.
    pub entries: usize,
    /// Of those, the entries cut out because the last document held them byte for byte.
    pub dropped: usize,
    /// The raw hash ([`RawEntries`]) of every entry, cut out or not.
    pub raw: Vec<u64>,
}

#[cfg(test)]
pub(super) fn translate(doc: &[u8]) -> Translated<'_> {
    translate_except(doc, None, &Known::default())
}

/// [`translate`], and the entries whose raw hash is `known` are cut out of the document:
/// feed-rs, which reads every entry it is given, never sees them.
pub(super) fn translate_except<'a>(
    doc: &'a [u8],
    source_url: Option<&str>,
    known: &Known,
) -> Translated<'a> {
    let untouched = |entries| Translated {
        bytes: Cow::Borrowed(doc),
        entries,
        dropped: 0,
        raw: Vec::new(),
    };
    if !is_ascii_compatible_xml(doc) {
        return untouched(0);
    }
    // quick-xml counts positions after a byte order mark.
    let bom = if doc.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let (mark, body) = doc.split_at(bom);
    match Rewriter::new(body, source_url, known).run() {
        Some(done) if done.edits.is_empty() => Translated {
            raw: done.raw,
            ..untouched(done.entries)
        },
        Some(done) => Translated {
            bytes: Cow::Owned([mark, &apply(body, done.edits)].concat()),
            entries: done.entries,
            dropped: done.dropped,
            raw: done.raw,
        },
        None => untouched(0),
    }
}

const ATOM: &str = "http://www.w3.org/2005/Atom";
const RSS1: &str = "http://purl.org/rss/1.0/";
const MEDIA: &str = "http://search.yahoo.com/mrss/";
const ITUNES: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const DC_TERMS: &str = "http://purl.org/dc/terms/";

/// The namespace feed-rs knows for a URI it does not, as feedparser maps them.
fn canonical_namespace(uri: &str) -> Option<&'static str> {
    let lower = uri.trim().to_ascii_lowercase();
    let canonical = match lower.as_str() {
        "http://purl.org/atom/ns#"
        | "http://example.com/newformat#"
        | "http://example.com/necho"
        | "http://purl.org/echo/"
        | "http://purl.org/pie/"
        | "http://www.w3.org/2005/atom" => ATOM,
        "http://blogs.law.harvard.edu/tech/rss"
        | "http://my.netscape.com/rdf/simple/0.9/"
        | "http://purl.org/rss/1.0/modules/rss091#"
        | "http://purl.org/rss/1.0/" => RSS1,
        l if l.contains("backend.userland.com/rss") => RSS1,
        "http://search.yahoo.com/mrss" | "http://search.yahoo.com/mrss/" => MEDIA,
        "http://www.itunes.com/dtds/podcast-1.0.dtd" => ITUNES,
        _ => return None,
    };
    (canonical != uri).then_some(canonical)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Rss,
    Atom,
    Dc,
    Media,
    Other,
    /// No namespace: RSS 2.0's elements, or an Atom feed that declares none.
    Unbound,
}

fn classify(uri: &str) -> Ns {
    match canonical_namespace(uri).unwrap_or(uri) {
        RSS1 => Ns::Rss,
        ATOM => Ns::Atom,
        DC | DC_TERMS => Ns::Dc,
        MEDIA => Ns::Media,
        _ => Ns::Other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Rss,
    /// RSS 1.0 and 0.90: `<rdf:RDF>`, items beside the channel.
    Rdf,
    Atom,
    /// Microsoft's Channel Definition Format (1997), which feedparser still reads.
    Cdf,
}

/// One change: the bytes at `at` are replaced (an insertion when `at` is empty).
struct Edit {
    at: Range<usize>,
    with: Vec<u8>,
}

fn apply(doc: &[u8], edits: Vec<Edit>) -> Vec<u8> {
    let extra: usize = edits.iter().map(|e| e.with.len()).sum();
    let mut out = Vec::with_capacity(doc.len() + extra);
    let mut copied = 0;
    for edit in edits {
        if edit.at.start < copied || edit.at.end > doc.len() {
            debug_assert!(false, "edits overlap or overrun: {:?}", edit.at);
            continue;
        }
        out.extend_from_slice(&doc[copied..edit.at.start]);
        out.extend_from_slice(&edit.with);
        copied = edit.at.end;
    }
    out.extend_from_slice(&doc[copied..]);
    out
}

/// Markup bytes are ASCII bytes in the document: true of UTF-8 and the single-byte
/// encodings feeds use, not of UTF-16 (which is passed on untouched).
fn is_ascii_compatible_xml(doc: &[u8]) -> bool {
    let head = &doc[..doc.len().min(4)];
    !head.starts_with(&[0xFE, 0xFF]) && !head.starts_with(&[0xFF, 0xFE]) && !head.contains(&0)
}

/// What an entry says about its title and link, gathered until its end tag.
struct EntryState {
    depth: usize,
    /// Where its start tag begins in the document.
    start: usize,
    root: Root,
    /// `rss:` in `<rss:item>`: what is inserted goes into the entry's own namespace.
    prefix: Vec<u8>,
    has_title: bool,
    has_link: bool,
    /// The first title from `dc:title` or `media:title`, and whether it is HTML.
    other_title: Option<(String, bool)>,
    /// An address to use as the link, the most trustworthy first.
    link_href: Option<String>,
    permalink: Option<String>,
    about: Option<String>,
}

impl EntryState {
    /// The first `href` of an RSS `<link>` that has no text.
    fn note_link_href(&mut self, tag: &Tag) {
        if self.link_href.is_none() {
            self.link_href = tag.get("href").filter(|h| !h.trim().is_empty());
        }
    }

    /// The end of the entry: what feed-rs will need that the entry did not say its way.
    fn insertions(self) -> Vec<u8> {
        let p = String::from_utf8_lossy(&self.prefix).into_owned();
        let mut out = String::new();
        if !self.has_title {
            if let Some((title, html)) = self.other_title {
                if self.root == Root::Atom {
                    let kind = if html { "html" } else { "text" };
                    out += &format!(
                        "<{p}title type=\"{kind}\">{}</{p}title>",
                        escape_xml_ascii(&title)
                    );
                } else {
                    // RSS titles are read as HTML, so plain text is escaped once for HTML
                    // and once for XML.
                    let title = if html { title } else { escape_html(&title) };
                    out += &format!("<{p}title>{}</{p}title>", escape_xml_ascii(&title));
                }
            }
        }
        if !self.has_link {
            let link = self.link_href.or(self.permalink).or(self.about);
            match (link, self.root) {
                (Some(link), Root::Atom) => {
                    out += &format!("<{p}link href=\"{}\"/>", escape_xml_ascii(&link));
                }
                (Some(link), _) => {
                    out += &format!("<{p}link>{}</{p}link>", escape_xml_ascii(&link));
                }
                // feed-rs drops an RSS 1.0 item without a link; one that is no web
                // address keeps the item, and gives it no link.
                (None, Root::Rdf) => out += &format!("<{p}link>about:blank</{p}link>"),
                (None, _) => {}
            }
        }
        out.into_bytes()
    }
}

/// A start tag taken apart, to be written back only if something in it changed.
struct Tag {
    name: Vec<u8>,
    /// Names and values as written (values still escaped).
    attributes: Vec<(Vec<u8>, Vec<u8>)>,
    changed: bool,
    renamed: bool,
}

impl Tag {
    fn of(start: &BytesStart<'_>) -> Tag {
        let mut attributes = Vec::new();
        for attribute in start.attributes().with_checks(false).flatten() {
            attributes.push((
                attribute.key.as_ref().to_vec(),
                attribute.value.as_ref().to_vec(),
            ));
        }
        Tag {
            name: start.name().as_ref().to_vec(),
            attributes,
            changed: false,
            renamed: false,
        }
    }

    /// RSS 1.0's `rdf:about`, whatever the RDF prefix.
    fn rdf_about(&self) -> Option<String> {
        self.attributes
            .iter()
            .find(|(k, _)| k.ends_with(b":about"))
            .map(|(_, v)| xml_text(&String::from_utf8_lossy(v)))
    }

    fn get(&self, name: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| xml_text(&String::from_utf8_lossy(v)))
    }

    fn set(&mut self, name: &str, value: &str) {
        let value = value.as_bytes().to_vec();
        match self
            .attributes
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
        {
            Some((_, v)) if *v == value => return,
            Some((_, v)) => *v = value,
            None => self.attributes.push((name.as_bytes().to_vec(), value)),
        }
        self.changed = true;
    }

    fn remove(&mut self, name: &str) {
        let before = self.attributes.len();
        self.attributes
            .retain(|(k, _)| !k.eq_ignore_ascii_case(name.as_bytes()));
        self.changed |= self.attributes.len() != before;
    }

    fn rename(&mut self, local: &str) {
        let prefix_len = self
            .name
            .iter()
            .position(|b| *b == b':')
            .map_or(0, |i| i + 1);
        self.name.truncate(prefix_len);
        self.name.extend_from_slice(local.as_bytes());
        self.changed = true;
        self.renamed = true;
    }

    /// Namespace declarations under an older name, renamed to the one feed-rs knows.
    fn modernize_namespaces(&mut self) {
        for (key, value) in &mut self.attributes {
            let declares = key == b"xmlns" || key.starts_with(b"xmlns:");
            if let Some(canonical) = declares
                .then(|| canonical_namespace(&String::from_utf8_lossy(value)))
                .flatten()
            {
                *value = canonical.as_bytes().to_vec();
                self.changed = true;
            }
        }
    }

    fn write(&self, empty: bool) -> Vec<u8> {
        let mut out = vec![b'<'];
        out.extend_from_slice(&self.name);
        for (key, value) in &self.attributes {
            let quote = if value.contains(&b'"') { b'\'' } else { b'"' };
            out.push(b' ');
            out.extend_from_slice(key);
            out.push(b'=');
            out.push(quote);
            out.extend_from_slice(value);
            out.push(quote);
        }
        out.extend_from_slice(if empty { b"/>" } else { b">" });
        out
    }

    fn end(&self) -> Vec<u8> {
        let mut out = b"</".to_vec();
        out.extend_from_slice(&self.name);
        out.push(b'>');
        out
    }
}

/// How an Atom text construct's content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Text,
    Html,
    Xhtml,
    /// Another MIME type: base64 in a title, or media in `<content>`.
    Other,
}

impl TextKind {
    fn of(declared: Option<&str>) -> TextKind {
        let declared = declared.unwrap_or_default().trim().to_ascii_lowercase();
        match declared.as_str() {
            "" | "text" => TextKind::Text,
            "html" => TextKind::Html,
            "xhtml" => TextKind::Xhtml,
            t if t.contains("xhtml") => TextKind::Xhtml,
            t if t.contains("html") => TextKind::Html,
            t if t.starts_with("text/") => TextKind::Text,
            _ => TextKind::Other,
        }
    }
}

/// Open elements beyond which a document is passed on untouched: feeds nest a few dozen
/// deep, and quick-xml's namespace scopes count to 65535 only.
const MAX_DEPTH: usize = 10_000;

/// What a [`Rewriter`] found: its edits, the entries, and which it cut out.
struct Rewritten {
    edits: Vec<Edit>,
    entries: usize,
    dropped: usize,
    raw: Vec<u64>,
}

struct Rewriter<'a> {
    doc: &'a [u8],
    source_url: Option<&'a str>,
    known: &'a Known,
    /// Set at the root element, which is part of every entry's setting.
    raw_entries: Option<RawEntries>,
    raw: Vec<u64>,
    dropped: usize,
    reader: NsReader<&'a [u8]>,
    edits: Vec<Edit>,
    root: Option<Root>,
    atom03: bool,
    /// Open elements; each holds what its end tag becomes if it was renamed.
    open: Vec<Option<Vec<u8>>>,
    entry: Option<EntryState>,
    entries: usize,
}

impl<'a> Rewriter<'a> {
    fn new(doc: &'a [u8], source_url: Option<&'a str>, known: &'a Known) -> Self {
        Rewriter {
            doc,
            source_url,
            known,
            raw_entries: None,
            raw: Vec::new(),
            dropped: 0,
            reader: NsReader::from_reader(doc),
            edits: Vec::new(),
            root: None,
            atom03: false,
            open: Vec::new(),
            entry: None,
            entries: 0,
        }
    }

    fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    /// The edits and the entries; `None` when quick-xml cannot read the document or it
    /// nests too deep.
    fn run(mut self) -> Option<Rewritten> {
        loop {
            let before = self.position();
            let (ns, event) = self.reader.read_resolved_event().ok()?;
            let ns = match ns {
                ResolveResult::Bound(uri) => classify(&String::from_utf8_lossy(uri.as_ref())),
                ResolveResult::Unbound => Ns::Unbound,
                ResolveResult::Unknown(_) => Ns::Other,
            };
            match event {
                Event::Start(_) if self.open.len() >= MAX_DEPTH => return None,
                Event::Start(start) => self.element(before, ns, &start, false).ok()?,
                Event::Empty(start) => self.element(before, ns, &start, true).ok()?,
                Event::End(_) => {
                    let after = self.position();
                    let renamed = self.open.pop().flatten();
                    if self
                        .entry
                        .as_ref()
                        .is_some_and(|e| e.depth == self.open.len())
                    {
                        if let Some(entry) = self.entry.take() {
                            if self.end_entry(entry, before, after) {
                                continue;
                            }
                        }
                    }
                    if let Some(end) = renamed {
                        self.edits.push(Edit {
                            at: before..after,
                            with: end,
                        });
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            if self.root.is_none() && !self.open.is_empty() {
                // The root is not a feed this module knows: nothing to translate.
                return Some(Rewritten {
                    edits: Vec::new(),
                    entries: 0,
                    dropped: 0,
                    raw: Vec::new(),
                });
            }
        }
        Some(Rewritten {
            edits: self.edits,
            entries: self.entries,
            dropped: self.dropped,
            raw: self.raw,
        })
    }

    /// At an entry's end tag (`end_tag` ends at `after`): notes its raw hash, and either
    /// cuts it out whole (the last document held these very bytes: true is returned) or
    /// inserts what it lacks.
    fn end_entry(&mut self, entry: EntryState, end_tag: usize, after: usize) -> bool {
        let raw = self
            .raw_entries
            .as_ref()
            .and_then(|raw| Some(raw.hash(self.doc.get(entry.start..after)?)));
        if let Some(raw) = raw {
            self.raw.push(raw);
            if self.known.contains_raw(raw) {
                // Edits are in document order: those inside the entry are the last ones.
                while self.edits.last().is_some_and(|e| e.at.start >= entry.start) {
                    self.edits.pop();
                }
                self.edits.push(Edit {
                    at: entry.start..after,
                    with: Vec::new(),
                });
                self.dropped += 1;
                return true;
            }
        }
        let with = entry.insertions();
        if !with.is_empty() {
            self.edits.push(Edit {
                at: end_tag..end_tag,
                with,
            });
        }
        false
    }

    fn element(
        &mut self,
        before: usize,
        ns: Ns,
        start: &BytesStart<'_>,
        empty: bool,
    ) -> quick_xml::Result<()> {
        let after = self.position();
        let mut tag = Tag::of(start);
        let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
        let depth = self.open.len();
        if depth == 0 {
            self.root_element(ns, &local, &mut tag);
            let start_tag = self.doc.get(before..after).unwrap_or_default();
            self.raw_entries = Some(RawEntries::new(self.source_url, start_tag));
        }
        tag.modernize_namespaces();
        let Some(root) = self.root else {
            if !empty {
                self.open.push(None);
            }
            return Ok(());
        };
        if root == Root::Cdf {
            self.cdf_element(before..self.position(), &local, tag, empty);
            return Ok(());
        }
        let ns = match (ns, root) {
            (Ns::Unbound, Root::Atom) => Ns::Atom,
            (Ns::Unbound, _) => Ns::Rss,
            (ns, _) => ns,
        };

        let is_entry = match root {
            Root::Atom => ns == Ns::Atom && local == "entry",
            _ => ns == Ns::Rss && local == "item",
        };
        if is_entry && self.entry.is_none() && !empty {
            self.entries += 1;
            let name = start.name();
            let prefix = name
                .prefix()
                .map(|p| [p.as_ref(), b":"].concat())
                .unwrap_or_default();
            self.entry = Some(EntryState {
                depth,
                start: before,
                root,
                prefix,
                has_title: false,
                has_link: false,
                other_title: None,
                link_href: None,
                permalink: None,
                // RSS 1.0 names each item by its address.
                about: tag.rdf_about().filter(|a| is_web_address(a)),
            });
        } else if is_entry && empty {
            self.entries += 1;
        }

        if ns == Ns::Atom && self.atom03 {
            let modern = match local.as_str() {
                "issued" => Some("published"),
                "modified" => Some("updated"),
                "tagline" => Some("subtitle"),
                "copyright" => Some("rights"),
                _ => None,
            };
            if let Some(modern) = modern {
                tag.rename(modern);
            }
        }

        let child_of_entry = self.entry.as_ref().is_some_and(|e| e.depth + 1 == depth);
        let text_construct = ns == Ns::Atom
            && matches!(
                local.as_str(),
                "title" | "subtitle" | "summary" | "content" | "rights" | "tagline" | "copyright"
            );

        if child_of_entry {
            self.note_entry_child(ns, &local, &tag, empty);
        }

        let renamed_end = tag.renamed.then(|| tag.end());
        if text_construct && !empty {
            return self.text_construct(before..after, start, &local, tag);
        }
        if text_construct {
            let kind = TextKind::of(tag.get("type").as_deref());
            normalize_text_type(&mut tag, kind, &local);
        }
        let wants_text = child_of_entry
            && !empty
            && matches!(
                (ns, local.as_str()),
                (Ns::Rss, "guid" | "link") | (Ns::Atom, "id") | (Ns::Dc | Ns::Media, "title")
            );
        if wants_text {
            let span = self.read_to_end(start)?;
            let text = self.text_of(span.clone());
            self.note_entry_text(ns, &local, &tag, text);
            if tag.changed {
                self.edits.push(Edit {
                    at: before..after,
                    with: tag.write(false),
                });
                self.edits.push(Edit {
                    at: span.end..self.position(),
                    with: tag.end(),
                });
            }
            return Ok(());
        }
        if tag.changed {
            self.edits.push(Edit {
                at: before..after,
                with: tag.write(empty),
            });
        }
        if !empty {
            self.open.push(renamed_end);
        }
        Ok(())
    }

    fn root_element(&mut self, ns: Ns, local: &str, tag: &mut Tag) {
        match local {
            "rss" => {
                self.root = Some(Root::Rss);
                // feed-rs reads only these three versions; the others (0.90, 0.93, 0.94,
                // none at all) are RSS 2.0's ancestors and read the same way.
                let version = tag.get("version").unwrap_or_default();
                if !matches!(version.as_str(), "2.0" | "0.91" | "0.92") {
                    tag.set("version", "2.0");
                }
            }
            "RDF" => self.root = Some(Root::Rdf),
            l if l.eq_ignore_ascii_case("channel") => self.root = Some(Root::Cdf),
            "feed" if matches!(ns, Ns::Atom | Ns::Unbound) => {
                self.root = Some(Root::Atom);
                let declared_03 = tag.attributes.iter().any(|(k, v)| {
                    (k == b"xmlns" || k.starts_with(b"xmlns:"))
                        && canonical_namespace(&String::from_utf8_lossy(v)) == Some(ATOM)
                        && !v.eq_ignore_ascii_case(ATOM.as_bytes())
                });
                self.atom03 =
                    declared_03 || tag.get("version").is_some_and(|v| v.starts_with("0."));
            }
            _ => {}
        }
    }

    /// CDF as the RSS 2.0 it resembles: `<CHANNEL>` becomes `<rss><channel>`, an `<ITEM>`
    /// an `<item>` whose `HREF` is its `<link>`, `<TITLE>` and `<ABSTRACT>` the title and
    /// description, and `BASE` the `xml:base`.
    fn cdf_element(&mut self, start_tag: Range<usize>, local: &str, mut tag: Tag, empty: bool) {
        let href = tag
            .attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(b"href"))
            .map(|(_, v)| v.clone());
        let link = |href: Option<Vec<u8>>| {
            href.map(|h| [b"<link>".as_slice(), &h, b"</link>"].concat())
                .unwrap_or_default()
        };
        let (with, end): (Vec<u8>, Option<Vec<u8>>) = match local.to_ascii_lowercase().as_str() {
            "channel" if self.open.is_empty() => {
                let base = tag.get("base").map(|b| escape_xml_ascii(&b));
                let open = match base {
                    Some(base) => format!("<rss version=\"2.0\"><channel xml:base=\"{base}\">"),
                    None => "<rss version=\"2.0\"><channel>".to_owned(),
                };
                let close = b"</channel></rss>".to_vec();
                let mut with = [open.as_bytes(), &link(href)].concat();
                if empty {
                    with.extend_from_slice(&close);
                }
                (with, Some(close))
            }
            "item" => {
                self.entries += 1;
                let mut with = [b"<item>".as_slice(), &link(href)].concat();
                if empty {
                    with.extend_from_slice(b"</item>");
                }
                (with, Some(b"</item>".to_vec()))
            }
            "title" | "abstract" => {
                tag.rename(if local.eq_ignore_ascii_case("title") {
                    "title"
                } else {
                    "description"
                });
                (tag.write(empty), Some(tag.end()))
            }
            _ => {
                if !empty {
                    self.open.push(None);
                }
                return;
            }
        };
        self.edits.push(Edit {
            at: start_tag,
            with,
        });
        if !empty {
            self.open.push(end);
        }
    }

    /// What a direct child of an entry says, from its tag alone.
    fn note_entry_child(&mut self, ns: Ns, local: &str, tag: &Tag, empty: bool) {
        let Some(entry) = self.entry.as_mut() else {
            return;
        };
        match (entry.root, ns, local) {
            (Root::Atom, Ns::Atom, "title") if !empty => entry.has_title = true,
            (Root::Rss | Root::Rdf, Ns::Rss, "title") if !empty => entry.has_title = true,
            (Root::Atom, Ns::Atom, "link") => {
                let rel = tag.get("rel").unwrap_or_default();
                let href = tag.get("href").unwrap_or_default();
                if matches!(rel.trim(), "" | "alternate") && !href.trim().is_empty() {
                    entry.has_link = true;
                }
            }
            // `<link href="…"/>` in RSS, written the Atom way.
            (Root::Rss | Root::Rdf, Ns::Rss, "link") if empty => entry.note_link_href(tag),
            _ => {}
        }
    }

    /// What a direct child of an entry says in its text.
    fn note_entry_text(&mut self, ns: Ns, local: &str, tag: &Tag, text: String) {
        let Some(entry) = self.entry.as_mut() else {
            return;
        };
        let text = text.trim().to_owned();
        match (entry.root, ns, local) {
            (Root::Rss | Root::Rdf, Ns::Rss, "link") if text.is_empty() => {
                entry.note_link_href(tag)
            }
            (Root::Rss | Root::Rdf, Ns::Rss, "link") => entry.has_link = true,
            (Root::Rss | Root::Rdf, Ns::Rss, "guid") => {
                let permalink = tag
                    .get("isPermaLink")
                    .is_none_or(|p| !p.trim().eq_ignore_ascii_case("false"));
                if permalink && is_web_address(&text) {
                    entry.permalink = Some(text);
                }
            }
            (Root::Atom, Ns::Atom, "id") if is_web_address(&text) => entry.permalink = Some(text),
            (_, Ns::Dc | Ns::Media, "title") if !text.is_empty() && entry.other_title.is_none() => {
                let html = ns == Ns::Media && tag.get("type").is_some_and(|t| t.trim() == "html");
                entry.other_title = Some((text, html));
            }
            _ => {}
        }
    }

    /// An Atom text construct (title, summary, content…) rewritten so feed-rs accepts its
    /// type and keeps its text: base64 decoded, inline XHTML escaped as HTML.
    fn text_construct(
        &mut self,
        start_tag: Range<usize>,
        start: &BytesStart<'_>,
        local: &str,
        mut tag: Tag,
    ) -> quick_xml::Result<()> {
        let span = self.read_to_end(start)?;
        let end_tag = span.end..self.position();
        let kind = TextKind::of(tag.get("type").as_deref());
        let mode = tag
            .get("mode")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let inner = &self.doc[span.clone()];
        // A title in another MIME type is base64 (as feedparser reads it); content in one is
        // media, left alone unless it says it is base64 text.
        let base64 = if local == "content" {
            mode == "base64" && kind != TextKind::Other
        } else {
            mode == "base64" || kind == TextKind::Other
        };
        let content: Option<Vec<u8>> = if base64 {
            let text = self.text_of(span.clone());
            let compact: String = text.split_whitespace().collect();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .or_else(|_| {
                    base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes())
                });
            let decoded = decoded.map_or(text, |d| String::from_utf8_lossy(&d).into_owned());
            let html = matches!(kind, TextKind::Html | TextKind::Xhtml);
            tag.set("type", if html { "html" } else { "text" });
            Some(escape_xml_ascii(&decoded).into_bytes())
        } else if kind == TextKind::Xhtml
            || (kind != TextKind::Other && mode != "escaped" && has_child_elements(inner))
        {
            // Inline markup: its bytes become escaped HTML, so its own escapes survive.
            tag.set("type", "html");
            Some(escape_markup(&inline_as_html(inner)))
        } else {
            normalize_text_type(&mut tag, kind, local);
            None
        };
        tag.remove("mode");
        if let Some(content) = content {
            self.edits.push(Edit {
                at: start_tag,
                with: tag.write(false),
            });
            self.edits.push(Edit {
                at: span,
                with: content,
            });
            self.edits.push(Edit {
                at: end_tag,
                with: tag.end(),
            });
        } else if tag.changed {
            self.edits.push(Edit {
                at: start_tag,
                with: tag.write(false),
            });
            self.edits.push(Edit {
                at: end_tag,
                with: tag.end(),
            });
        }
        Ok(())
    }

    /// Consumes an element's content and end tag; returns the content's span.
    fn read_to_end(&mut self, start: &BytesStart<'_>) -> quick_xml::Result<Range<usize>> {
        let span = self.reader.read_to_end(start.name())?;
        let to_usize = |p: u64| usize::try_from(p).unwrap_or(usize::MAX);
        Ok(to_usize(span.start)..to_usize(span.end))
    }

    fn text_of(&self, span: Range<usize>) -> String {
        let raw = self.doc.get(span).unwrap_or_default();
        let decoded = self
            .reader
            .decoder()
            .decode(raw)
            .unwrap_or_else(|_| String::from_utf8_lossy(raw));
        xml_text(&decoded)
    }
}

/// A text construct's `type` as feed-rs accepts it: text, html or xhtml (a MIME type
/// elsewhere, and only in `<content>`).
fn normalize_text_type(tag: &mut Tag, kind: TextKind, local: &str) {
    let declared = tag.get("type");
    if local == "content" && tag.get("src").is_some() {
        // Content elsewhere: feed-rs wants its type as a MIME type, or none.
        let wanted = match (kind, declared.as_deref()) {
            (_, None) => return,
            (TextKind::Other, Some(t)) if is_mime(t) => return,
            (TextKind::Html, _) => "text/html",
            (TextKind::Xhtml, _) => "application/xhtml+xml",
            _ => "text/plain",
        };
        if declared.as_deref() != Some(wanted) {
            tag.set("type", wanted);
        }
        return;
    }
    let wanted = match kind {
        TextKind::Text => "text",
        TextKind::Html => "html",
        TextKind::Xhtml => "xhtml",
        TextKind::Other if local == "content" && declared.as_deref().is_some_and(is_mime) => return,
        TextKind::Other => "text",
    };
    // No type is text to feed-rs too.
    if declared.as_deref().is_some_and(|d| d != wanted) {
        tag.set("type", wanted);
    }
}

fn is_mime(s: &str) -> bool {
    s.trim()
        .split_once('/')
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
}

/// An absolute http(s) address: only such ids and guids are taken as links (feedparser
/// takes any id, which turns `urn:` ids and numbers into links to nowhere).
fn is_web_address(s: &str) -> bool {
    url::Url::parse(s.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// XML character data as text: entities and character references decoded, CDATA sections
/// taken literally.
fn xml_text(raw: &str) -> String {
    let unescape = |s: &str| {
        quick_xml::escape::unescape(s)
            .map(Cow::into_owned)
            .unwrap_or_else(|_| s.to_owned())
    };
    let mut out = String::new();
    let mut rest = raw;
    while let Some(open) = rest.find("<![CDATA[") {
        out += &unescape(&rest[..open]);
        let inside = &rest[open + "<![CDATA[".len()..];
        let close = inside.find("]]>").unwrap_or(inside.len());
        out += &inside[..close];
        rest = inside.get(close + "]]>".len()..).unwrap_or_default();
    }
    out += &unescape(rest);
    out
}

/// Inline markup as HTML: CDATA sections become escaped text, the rest is kept.
fn inline_as_html(inner: &[u8]) -> Vec<u8> {
    const OPEN: &[u8] = b"<![CDATA[";
    let mut out = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(open) = find(rest, OPEN) {
        out.extend_from_slice(&rest[..open]);
        let inside = &rest[open + OPEN.len()..];
        let close = find(inside, b"]]>").unwrap_or(inside.len());
        out.extend_from_slice(&escape_markup(&inside[..close]));
        rest = inside.get(close + 3..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    out
}

/// Markup inside a text construct that is not declared XHTML: Atom 0.3's default, or a
/// writer that forgot to escape. What CDATA sections and comments hold is text, not
/// elements; PIs (`<?`) are not elements either.
fn has_child_elements(inner: &[u8]) -> bool {
    let mut rest = inner;
    loop {
        let Some(open) = rest.iter().position(|b| *b == b'<') else {
            return false;
        };
        rest = &rest[open..];
        let skip_to = |end: &[u8], rest: &[u8]| find(rest, end).map(|i| i + end.len());
        let skipped = if rest.starts_with(b"<![CDATA[") {
            skip_to(b"]]>", rest)
        } else if rest.starts_with(b"<!--") {
            skip_to(b"-->", rest)
        } else if rest
            .get(1)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        {
            return true;
        } else {
            Some(1)
        };
        match skipped {
            Some(n) => rest = &rest[n..],
            None => return false,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `&`, `<` and `>` escaped; every other byte kept, so any ASCII-compatible encoding holds.
fn escape_markup(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    for &b in bytes {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            _ => out.push(b),
        }
    }
    out
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text as XML content or attribute value in ASCII, whatever the document's encoding.
fn escape_xml_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("&#x{:X};", u32::from(c))),
        }
    }
    out
}

#[cfg(test)]
#[path = "compat_tests.rs"]
mod tests;
