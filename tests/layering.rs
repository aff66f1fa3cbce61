//! The layering check: imports run downward and no module cycle exists.
//!
//! It reads every `src/**/*.rs` as text, collects the `crate::…` and `super::…` paths
//! outside `#[cfg(test)]` items (unit tests may reach anywhere), maps each file and
//! each path to a unit (a top-level module, see [`UNITS`]) and fails, naming the file
//! and line, on an import from a lower layer to a higher one and on any cycle between
//! units, or between the files directly under one module. The README's architecture
//! section draws the same table.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Layers, bottom first. A unit may import its own layer and the ones below.
const LAYERS: [&str; 4] = ["base", "domain", "workers", "top"];

/// Each unit and its layer. A new top-level module must be added here.
const UNITS: &[(&str, &str)] = &[
    // base: storage, settings and helpers that know no feature
    ("db", "base"),
    ("config", "base"),
    ("telemetry", "base"),
    ("metrics", "base"),
    ("xml_text", "base"),
    ("sentence", "base"),
    ("signing", "base"),
    ("jobs", "base"),
    ("spreadsheet", "base"),
    // domain: the product's data and rules
    ("feeds", "domain"),
    ("mail", "domain"),
    ("accounts", "domain"),
    ("captions", "domain"),
    ("subscriptions", "domain"),
    ("desk", "domain"),
    ("billing", "domain"),
    ("opml", "domain"),
    ("preview", "domain"),
    ("queue", "domain"),
    ("publish", "domain"),
    ("operators", "domain"),
    // workers and use-cases: background jobs and what they drive
    ("poller", "workers"),
    ("digests", "workers"),
    ("webhooks", "workers"),
    ("websub", "workers"),
    ("images", "workers"),
    ("account_data", "workers"),
    ("publishing", "workers"),
    // top: what starts the process and what talks to people and programs
    ("web", "top"),
    ("cli", "top"),
    ("app", "top"),
];

/// One `crate::…` reference: where it is and the module path it names.
#[derive(Debug, Clone)]
struct Reference {
    file: String,
    line: usize,
    target: Vec<String>,
}

#[test]
fn lower_layers_never_import_higher_ones_and_no_module_cycle_exists() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = source_files(&src);
    let macros = exported_macros(&files);
    let mut problems = Vec::new();
    // (from unit, to unit) -> first reference
    let mut unit_edges: BTreeMap<(String, String), Reference> = BTreeMap::new();
    // per top-level module: (from child, to child) -> first reference
    let mut child_edges: BTreeMap<String, BTreeMap<(String, String), Reference>> = BTreeMap::new();

    for (module, file, text) in &files {
        let Some(from) = unit_of(module) else {
            continue; // lib.rs: declares modules, imports nothing
        };
        if layer_of(&from).is_none() {
            problems.push(format!(
                "{file}: module `{from}` has no layer: add it to UNITS in tests/layering.rs and to the README's architecture section"
            ));
            continue;
        }
        for reference in references(module, file, text, &macros) {
            let Some(to) = unit_of(&reference.target) else {
                continue;
            };
            if to != from {
                unit_edges
                    .entry((from.clone(), to.clone()))
                    .or_insert_with(|| reference.clone());
            }
            if module.len() >= 2
                && reference.target.len() >= 2
                && module[0] == reference.target[0]
                && module[1] != reference.target[1]
            {
                child_edges
                    .entry(module[0].clone())
                    .or_default()
                    .entry((module[1].clone(), reference.target[1].clone()))
                    .or_insert_with(|| reference.clone());
            }
        }
    }

    // A cycle across layers has an upward step, reported once here; what is left to
    // search for cycles is the steps within a layer or downward.
    let mut downward = BTreeMap::new();
    for ((from, to), reference) in &unit_edges {
        match (layer_of(from), layer_of(to)) {
            (Some(low), Some(high)) if low < high => problems.push(format!(
                "{}:{}: `{from}` ({}) imports `{to}` ({}): lower layers never import higher ones",
                reference.file, reference.line, LAYERS[low], LAYERS[high]
            )),
            (_, None) => problems.push(format!(
                "{}:{}: `{to}` has no layer in tests/layering.rs",
                reference.file, reference.line
            )),
            _ => {
                downward.insert((from.clone(), to.clone()), reference.clone());
            }
        }
    }
    problems.extend(cycles("module", &downward));
    for (parent, edges) in &child_edges {
        problems.extend(cycles(&format!("file in {parent}/"), edges));
    }
    assert!(
        problems.is_empty(),
        "the layering is broken:\n{}",
        problems.join("\n")
    );
}

fn layer_of(unit: &str) -> Option<usize> {
    let (_, layer) = UNITS.iter().find(|(name, _)| *name == unit)?;
    LAYERS.iter().position(|l| l == layer)
}

fn unit_of(module: &[String]) -> Option<String> {
    module.first().cloned()
}

/// Every cycle among `edges`, each printed once with the reference behind every step.
fn cycles(what: &str, edges: &BTreeMap<(String, String), Reference>) -> Vec<String> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    let mut found = Vec::new();
    let mut seen: BTreeSet<BTreeSet<&str>> = BTreeSet::new();
    for start in next.keys() {
        // Breadth-first: the shortest way back to `start`, if any.
        let mut back: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = vec![*start];
        let mut closing = None;
        while let Some(at) = (!queue.is_empty()).then(|| queue.remove(0)) {
            for &to in next.get(at).into_iter().flatten() {
                if to == *start {
                    closing = Some(at);
                    break;
                }
                if !back.contains_key(to) {
                    back.insert(to, at);
                    queue.push(to);
                }
            }
            if closing.is_some() {
                break;
            }
        }
        let Some(mut at) = closing else { continue };
        let mut path = vec![*start];
        while at != *start {
            path.insert(1, at);
            at = back[at];
        }
        if !seen.insert(path.iter().copied().collect()) {
            continue;
        }
        let steps: Vec<String> = path
            .iter()
            .zip(path.iter().cycle().skip(1))
            .map(|(from, to)| {
                let r = &edges[&(from.to_string(), to.to_string())];
                format!("  {from} -> {to} at {}:{}", r.file, r.line)
            })
            .collect();
        found.push(format!(
            "{what} cycle {} -> {start}:\n{}",
            path.join(" -> "),
            steps.join("\n")
        ));
    }
    found
}

/// (module path, file shown relative to the crate, text) of every non-test source file.
fn source_files(src: &Path) -> Vec<(Vec<String>, String, String)> {
    let mut paths = Vec::new();
    collect(src, &mut paths);
    let mut test_only = BTreeSet::new();
    let mut files = Vec::new();
    for path in paths {
        let text = fs::read_to_string(&path).expect("a source file is readable");
        test_only.extend(test_module_files(&path, &text));
        files.push((path, text));
    }
    files
        .into_iter()
        .filter(|(path, _)| !test_only.contains(path))
        .filter_map(|(path, text)| {
            let relative = path.strip_prefix(src).ok()?;
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            if module == ["main"] {
                return None; // the binary imports the library by name, not `crate::`
            }
            let shown = format!("src/{}", relative.display());
            Some((module, shown, text))
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Files that `text` declares as `#[cfg(test)] mod x;` (with or without `#[path]`).
fn test_module_files(path: &Path, text: &str) -> Vec<PathBuf> {
    let dir = match path.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs" | "lib.rs") => path.parent().map(Path::to_path_buf),
        _ => path
            .parent()
            .map(|p| p.join(path.file_stem().unwrap_or_default())),
    }
    .unwrap_or_default();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line != "#[cfg(test)]" {
            continue;
        }
        let mut explicit = None;
        for next in &lines[i + 1..] {
            if let Some(p) = next
                .strip_prefix("#[path = \"")
                .and_then(|p| p.strip_suffix("\"]"))
            {
                explicit = Some(p);
            } else if let Some(name) = next
                .strip_prefix("mod ")
                .or_else(|| next.strip_prefix("pub mod "))
                .and_then(|n| n.strip_suffix(';'))
            {
                out.push(match explicit {
                    Some(p) => path.parent().unwrap_or(Path::new("")).join(p),
                    None => dir.join(format!("{name}.rs")),
                });
                out.push(dir.join(name).join("mod.rs"));
                break;
            } else if !next.starts_with("#[") {
                break;
            }
        }
    }
    out
}

/// `#[macro_export]` macros live at the crate root by name; map each to its module.
fn exported_macros(files: &[(Vec<String>, String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (module, _, text) in files {
        let mut exported = false;
        for line in text.lines().map(str::trim) {
            if line == "#[macro_export]" {
                exported = true;
            } else if let Some(rest) = line.strip_prefix("macro_rules!").filter(|_| exported) {
                let name: String = rest
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name, module.clone());
                exported = false;
            } else if !line.starts_with("#[") && !line.starts_with("//") {
                exported = false;
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Path, // ::
    Open,
    Close,
    Comma,
    Other(char),
}

/// The source as tokens with their lines: comments, strings and `#[cfg(test)]` items
/// removed.
fn tokens(text: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == '"' || (c == 'r' && matches!(next, Some('"' | '#'))) {
            i = skip_string(&chars, i, &mut line);
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let end = chars[i + 1..]
                .iter()
                .take(12)
                .position(|&c| c == '\'' || c == '\n');
            match end {
                Some(n) if chars[i + 1 + n] == '\'' && n > 0 => i += n + 2,
                _ => i += 1,
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && next == Some(':') {
            out.push((Token::Path, line));
            i += 2;
        } else {
            out.push((
                match c {
                    '{' => Token::Open,
                    '}' => Token::Close,
                    ',' => Token::Comma,
                    other => Token::Other(other),
                },
                line,
            ));
            i += 1;
        }
    }
    drop_test_items(out)
}

fn skip_string(chars: &[char], mut i: usize, line: &mut usize) -> usize {
    let mut hashes = 0;
    let raw = chars[i] == 'r';
    if raw {
        i += 1;
        while chars.get(i) == Some(&'#') {
            hashes += 1;
            i += 1;
        }
        if chars.get(i) != Some(&'"') {
            return i; // an identifier starting with r
        }
    }
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if !raw => i += 1,
            '\n' => *line += 1,
            '"' if chars[i + 1..].iter().take(hashes).all(|&c| c == '#')
                && i + hashes < chars.len() =>
            {
                return i + 1 + hashes;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// Drops every item that follows `#[cfg(test)]`: up to its `;` or its closing brace.
fn drop_test_items(tokens: Vec<(Token, usize)>) -> Vec<(Token, usize)> {
    let cfg_test = [
        Token::Other('#'),
        Token::Other('['),
        Token::Ident("cfg".into()),
        Token::Other('('),
        Token::Ident("test".into()),
        Token::Other(')'),
        Token::Other(']'),
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_cfg_test = tokens.len() - i >= cfg_test.len()
            && tokens[i..i + cfg_test.len()]
                .iter()
                .map(|(t, _)| t)
                .eq(cfg_test.iter());
        if !is_cfg_test {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        }
        i += cfg_test.len();
        let mut depth = 0usize;
        while i < tokens.len() {
            match tokens[i].0 {
                Token::Open => depth += 1,
                Token::Close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                Token::Other(';') if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// Every `crate::…`, `super::…` and exported-macro path in `text`, as absolute module
/// paths (use groups `{a, b::c}` expanded).
fn references(
    module: &[String],
    file: &str,
    text: &str,
    macros: &BTreeMap<String, Vec<String>>,
) -> Vec<Reference> {
    let tokens = tokens(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let start_of_path = i == 0 || tokens[i - 1].0 != Token::Path;
        let (base, mut j) = match &tokens[i].0 {
            Token::Ident(word) if word == "crate" && start_of_path => (Vec::new(), i + 1),
            Token::Ident(word) if word == "super" && start_of_path => {
                let mut base = module.to_vec();
                let mut j = i;
                while tokens.get(j).map(|t| &t.0) == Some(&Token::Ident("super".into()))
                    && tokens.get(j + 1).map(|t| &t.0) == Some(&Token::Path)
                {
                    base.pop();
                    j += 2;
                }
                (base, j - 1)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if tokens.get(j).map(|t| &t.0) != Some(&Token::Path) {
            i += 1;
            continue;
        }
        j += 1;
        let line = tokens[i].1;
        let mut paths = Vec::new();
        j = use_tree(&tokens, j, base, &mut paths);
        for mut target in paths {
            if let Some(home) = target.first().and_then(|name| macros.get(name)) {
                if tokens.get(j).map(|t| &t.0) == Some(&Token::Other('!')) {
                    target = home.clone();
                }
            }
            out.push(Reference {
                file: file.to_string(),
                line,
                target,
            });
        }
        i = j.max(i + 1);
    }
    out
}

/// Reads `a::b::{c, d::e}` from `tokens[at]`, pushing each full path; returns the index
/// after it.
fn use_tree(
    tokens: &[(Token, usize)],
    mut at: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match tokens.get(at).map(|t| &t.0) {
            Some(Token::Ident(name)) => {
                if name != "self" {
                    prefix.push(name.clone());
                }
                at += 1;
                if tokens.get(at).map(|t| &t.0) == Some(&Token::Path) {
                    at += 1;
                    continue;
                }
                out.push(prefix);
                return at;
            }
            Some(Token::Open) => {
                at += 1;
                loop {
                    match tokens.get(at).map(|t| &t.0) {
                        Some(Token::Close) => return at + 1,
                        Some(Token::Comma) => at += 1,
                        None => return at,
                        _ => {
                            let before = at;
                            at = use_tree(tokens, at, prefix.clone(), out);
                            if at == before {
                                at += 1;
                            }
                        }
                    }
                }
            }
            _ => {
                out.push(prefix);
                return at;
            }
        }
    }
}
