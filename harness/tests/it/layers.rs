//! The layers hold: the crate's modules import one another in the order
//! [`crossprobe::LAYERS`] lists them, bottom-up, and never in a circle.
//!
//! The import graph is read from the source: every `crate::` path of
//! non-test code (`use crate::{a, b::c}` groups included) and every
//! `super::` path between the files of one folder. A module may import only
//! modules listed before it; a front end imports no other front end but the
//! last, the dispatcher; the files of one folder import one another without
//! a circle. And every file stays under [`MAX_LINES`] lines of non-test
//! code (the lines before its first `#[cfg(test)]`).
//!
//! What fails names the file and line of each offending import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The most non-test lines one file may hold.
const MAX_LINES: usize = 600;

#[test]
fn the_crate_keeps_its_declared_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = Crate::read(&src, crossprobe::LAYERS).problems();
    assert!(
        problems.is_empty(),
        "the layers of crossprobe::LAYERS (src/lib.rs) do not hold:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_file_is_under_the_line_limit() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = Crate::read(&src, crossprobe::LAYERS)
        .files
        .values()
        .filter(|f| f.lines >= MAX_LINES)
        .map(|f| format!("{}: {} lines before its tests", f.rel, f.lines))
        .collect();
    assert!(
        long.is_empty(),
        "split these files (at most {MAX_LINES} lines of code each):\n{}",
        long.join("\n")
    );
}

/// The checker finds each kind of fault in a small crate made for it.
#[test]
fn the_checker_finds_what_it_is_for() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let layers: &[(&str, &[&str])] = &[
        ("base", &["model", "run"]),
        ("engine", &["engine"]),
        ("front ends", &["repro", "doctor", "cli"]),
    ];
    write(
        "lib.rs",
        "pub mod cli;\npub mod doctor;\npub mod engine;\npub mod model;\npub mod repro;\npub mod run;\npub mod stray;\n",
    );
    // A module the layers do not list.
    write("stray.rs", "use crate::model;\n");
    // An upward import, hidden in a group; a string and a comment that
    // only look like imports; a test that may import anything.
    write(
        "model.rs",
        "use crate::{axisless, run::{self, Runner}};\n\
         // crate::engine in a comment\nconst S: &str = \"crate::engine\";\n\
         #[cfg(test)]\nmod tests {\n    use crate::cli;\n}\n",
    );
    // A circle between two files of one folder, one of them through super.
    write("run/mod.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n");
    write(
        "run/a.rs",
        "use super::b::B;\nuse crate::model;\npub struct A;\n",
    );
    // A path in an attribute's string is an import too: a derive expands it.
    write("run/b.rs", "#[serde(with = \"super::a\")]\npub struct B;\n");
    // A test-only file imports what it likes.
    write("run/tests.rs", "use crate::cli;\n");
    write("engine.rs", "use crate::model;\nuse crate::run::a::A;\n");
    // A front end importing another; the dispatcher may.
    write("repro.rs", "use crate::engine;\n");
    write(
        "doctor.rs",
        "pub fn f() {\n    crate::repro::g();\n    let c = '{';\n}\n",
    );
    write("cli.rs", "use crate::{doctor, repro};\n");
    let problems = Crate::read(dir.path(), layers).problems().join("\n");
    let want = [
        "model.rs:1: model imports run (crate::run::self), listed after it",
        "model.rs:1: model imports run (crate::run::Runner), listed after it",
        "stray is not in crossprobe::LAYERS",
        "doctor.rs:2: front end doctor imports front end repro",
        "run/a.rs:1: run/a imports run/b",
        "run/b.rs:1: run/b imports run/a",
        "a cycle among the top-level modules: model -> run -> model",
    ];
    for w in want {
        assert!(problems.contains(w), "missing {w:?} in:\n{problems}");
    }
    for not in ["engine", "cli", "comment", "tests"] {
        assert!(
            !problems.lines().any(|l| l.starts_with(not)),
            "{not} reported:\n{problems}"
        );
    }
    assert!(!problems.contains("axisless"), "{problems}");
}

/// One import: where it is written and the module path it names.
struct Import {
    line: usize,
    /// As written after `crate::` or the `super::`s, for messages.
    shown: String,
    /// The module it names: the longest prefix of the path that is a file
    /// of the crate.
    target: Vec<String>,
}

struct Crate {
    /// The layers' modules, in order, each with its layer's name.
    declared: Vec<(String, String)>,
    /// Module path (`["pipeline", "group"]`) to its file.
    files: BTreeMap<Vec<String>, File>,
}

/// One file the crate compiles outside tests.
struct File {
    /// Its path relative to src.
    rel: String,
    /// Its lines before the first `#[cfg(test)]`.
    lines: usize,
    imports: Vec<Import>,
}

impl Crate {
    fn read(src: &Path, layers: &[(&str, &[&str])]) -> Crate {
        let declared = layers
            .iter()
            .flat_map(|(layer, ms)| ms.iter().map(|m| (m.to_string(), layer.to_string())))
            .collect();
        // Only the files the crate compiles outside tests: those a parent
        // declares in its non-test code.
        let mut texts = BTreeMap::new();
        let mut todo = vec![(Vec::<String>::new(), src.join("lib.rs"))];
        while let Some((path, file)) = todo.pop() {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines = text
                .lines()
                .take_while(|l| l.trim() != "#[cfg(test)]")
                .count();
            let code = code_of(&text);
            let dir = match file.file_name().and_then(|n| n.to_str()) {
                Some("lib.rs" | "mod.rs") => file.parent().unwrap().to_path_buf(),
                _ => file.with_extension(""),
            };
            for child in declared_mods(&code) {
                let (flat, nested) = (
                    dir.join(format!("{child}.rs")),
                    dir.join(&child).join("mod.rs"),
                );
                let mut p = path.clone();
                p.push(child);
                match (flat.is_file(), nested.is_file()) {
                    (true, _) => todo.push((p, flat)),
                    (_, true) => todo.push((p, nested)),
                    _ => {}
                }
            }
            let rel = file.strip_prefix(src).unwrap().display().to_string();
            texts.insert(path, (rel, lines, code));
        }
        let modules: BTreeSet<Vec<String>> = texts.keys().cloned().collect();
        let files = texts
            .into_iter()
            .map(|(path, (rel, lines, code))| {
                let imports = imports(&code, &path, &modules);
                (
                    path,
                    File {
                        rel,
                        lines,
                        imports,
                    },
                )
            })
            .collect();
        Crate { declared, files }
    }

    fn problems(&self) -> Vec<String> {
        let rank: BTreeMap<&str, usize> = self
            .declared
            .iter()
            .enumerate()
            .map(|(i, (m, _))| (m.as_str(), i))
            .collect();
        let front: Vec<&str> = self
            .declared
            .iter()
            .filter(|(_, g)| g == "front ends")
            .map(|(m, _)| m.as_str())
            .collect();
        let mut out = Vec::new();
        let tops: BTreeSet<&String> = self.files.keys().filter_map(|p| p.first()).collect();
        for m in tops {
            match self.declared.iter().filter(|(d, _)| d == m).count() {
                1 => {}
                0 => out.push(format!("{m} is not in crossprobe::LAYERS")),
                n => out.push(format!("{m} is in crossprobe::LAYERS {n} times")),
            }
        }
        let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut within: BTreeMap<Vec<String>, Vec<(String, String, String)>> = BTreeMap::new();
        for (path, File { rel, imports, .. }) in &self.files {
            let Some(from) = path.first() else {
                continue;
            };
            for i in imports {
                let at = format!("{rel}:{}", i.line);
                let k = path
                    .iter()
                    .zip(&i.target)
                    .take_while(|(a, b)| a == b)
                    .count();
                if k == path.len() || k == i.target.len() {
                    continue;
                }
                if k > 0 {
                    let folder = path[..k].to_vec();
                    let (a, b) = (path[..=k].join("/"), i.target[..=k].join("/"));
                    within.entry(folder).or_default().push((a, b, at));
                    continue;
                }
                let to = &i.target[0];
                top.entry(from.clone()).or_default().insert(to.clone());
                if let (Some(a), Some(b)) = (rank.get(from.as_str()), rank.get(to.as_str())) {
                    if b >= a {
                        out.push(format!(
                            "{at}: {from} imports {to} (crate::{}), listed after it",
                            i.shown
                        ));
                    }
                }
                let last = front.last().copied();
                if front.contains(&from.as_str())
                    && front.contains(&to.as_str())
                    && Some(from.as_str()) != last
                {
                    out.push(format!("{at}: front end {from} imports front end {to}"));
                }
            }
        }
        for cycle in cycles(&top) {
            out.push(format!(
                "a cycle among the top-level modules: {}",
                cycle.join(" -> ")
            ));
        }
        for (folder, edges) in &within {
            let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (a, b, _) in edges {
                graph.entry(a.clone()).or_default().insert(b.clone());
            }
            for cycle in cycles(&graph) {
                let mut text = format!(
                    "a cycle among the files of {}/: {}",
                    folder.join("/"),
                    cycle.join(" -> ")
                );
                let shown: BTreeSet<String> = edges
                    .iter()
                    .filter(|(a, b, _)| cycle.windows(2).any(|w| w[0] == *a && w[1] == *b))
                    .map(|(a, b, at)| format!("\n  {at}: {a} imports {b}"))
                    .collect();
                for line in shown {
                    text.push_str(&line);
                }
                out.push(text);
            }
        }
        out
    }
}

/// Each circle of `graph` once, as a path that ends where it starts: one
/// per strongly connected component of more than one node.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(n) = todo.pop() {
            for m in graph.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    todo.push(m.clone());
                }
            }
        }
        seen
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for start in graph.keys() {
        if done.contains(start) || !reach(start).contains(start) {
            continue;
        }
        // The shortest way back to `start`, breadth first.
        let mut back: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        'search: while let Some(n) = queue.pop_front() {
            for m in graph.get(&n).into_iter().flatten() {
                if m == start {
                    back.insert(start.clone(), n.clone());
                    break 'search;
                }
                if !back.contains_key(m) {
                    back.insert(m.clone(), n.clone());
                    queue.push_back(m.clone());
                }
            }
        }
        let mut between = Vec::new();
        let mut n = back[start].clone();
        while n != *start {
            between.push(n.clone());
            n = back[&n].clone();
        }
        between.reverse();
        let mut cycle = vec![start.clone()];
        cycle.extend(between);
        cycle.push(start.clone());
        let component: BTreeSet<String> = reach(start)
            .into_iter()
            .filter(|n| reach(n).contains(start))
            .collect();
        done.extend(component);
        out.push(cycle);
    }
    out
}

/// The children a module declares: `mod x;`, `pub mod x;`, `pub(crate) mod x;`.
fn declared_mods(code: &str) -> Vec<String> {
    code.lines()
        .map(str::trim)
        .filter_map(|l| {
            let rest = ["pub ", "pub(crate) ", "pub(super) "]
                .iter()
                .find_map(|p| l.strip_prefix(p))
                .unwrap_or(l);
            let name = rest.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_string())
        })
        .collect()
}

/// The source with comments, string and char literals blanked (newlines
/// kept, so that lines still count), and every item under `#[cfg(test)]`
/// removed. A string inside an attribute is kept, quotes aside: a path in
/// `#[serde(with = "...")]` is code the derive expands.
fn code_of(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // Bracket depth inside an attribute; 0 outside one.
    let mut attr = 0usize;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('#') || next == Some('"'))
            && !ident(b.get(i.wrapping_sub(1)))
        {
            let mut hashes = 0;
            let mut j = i + 1;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                blank(&mut out, b[j]);
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                match b.get(i) {
                    Some(&ch) if attr > 0 => out.push(ch),
                    Some(&ch) => blank(&mut out, ch),
                    None => {}
                }
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c == '#' && (next == Some('[') || next == Some('!')) {
            attr = 1;
            out.push(c);
            i += 1;
            while i < b.len() && b[i] != '[' {
                out.push(b[i]);
                i += 1;
            }
            out.push('[');
            i += 1;
        } else if attr > 0 && (c == '[' || c == ']') {
            attr = if c == '[' { attr + 1 } else { attr - 1 };
            out.push(c);
            i += 1;
        } else if c == '\'' && next == Some('\\') {
            // '\n', '\'', '\u{..}'
            i += 2;
            while i < b.len() && b[i] != '\'' {
                i += 1;
            }
            out.push_str("' '");
            i += 1;
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            out.push_str("' '");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    without_tests(&out)
}

fn ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// `code` with each item that follows a `#[cfg(test)]` blanked: up to its
/// `;`, or to the brace that closes its body.
fn without_tests(code: &str) -> String {
    let mut b: Vec<char> = code.chars().collect();
    let attr: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + attr.len() <= b.len() {
        if b[i..i + attr.len()] != attr[..] {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + attr.len();
        let mut depth = 0;
        while j < b.len() {
            match b[j] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let end = j.min(b.len());
        for ch in &mut b[start..end] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = j;
    }
    b.into_iter().collect()
}

/// The `crate::` and `super::` paths of `code`, in the file of module
/// `path`, each resolved to the module it names.
fn imports(code: &str, path: &[String], modules: &BTreeSet<Vec<String>>) -> Vec<Import> {
    let resolve = |full: Vec<String>| -> Vec<String> {
        let mut t = full;
        while !t.is_empty() && !modules.contains(&t) {
            t.pop();
        }
        t
    };
    let mut out = Vec::new();
    let b: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let word_start = i == 0 || !ident(b.get(i - 1));
        let rest: String = b[i..b.len().min(i + 7)].iter().collect();
        let base: Option<(Vec<String>, usize, &str)> = if word_start && rest.starts_with("crate::")
        {
            Some((Vec::new(), 7, "crate::"))
        } else if word_start && rest.starts_with("super::") {
            // The module whose child this file is; `mod.rs` and the
            // module's own file have the same path.
            let mut base = path.to_vec();
            let mut j = i;
            while b[j..].iter().take(7).collect::<String>() == "super::" {
                base.pop();
                j += 7;
            }
            Some((base, j - i, "super::"))
        } else {
            None
        };
        let Some((base, skip, _)) = base else {
            i += 1;
            continue;
        };
        let line = b[..i].iter().filter(|&&c| c == '\n').count() + 1;
        let (paths, end) = parse_tree(&b, i + skip);
        for p in paths {
            let shown = p.join("::");
            let mut full = base.clone();
            full.extend(p.into_iter().filter(|s| s != "self"));
            out.push(Import {
                line,
                shown,
                target: resolve(full),
            });
        }
        i = end.max(i + 1);
    }
    out
}

/// The paths of a use tree starting at `i`: `a::b::C`, `a::{b, c::{d, self}}`.
fn parse_tree(b: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_whitespace() {
            *i += 1;
        }
    };
    let mut prefix = Vec::new();
    loop {
        skip_ws(&mut i);
        if b.get(i) == Some(&'{') {
            i += 1;
            let mut out = Vec::new();
            loop {
                skip_ws(&mut i);
                match b.get(i) {
                    Some('}') => {
                        i += 1;
                        break;
                    }
                    Some(',') => i += 1,
                    None => break,
                    _ => {
                        let (paths, end) = parse_tree(b, i);
                        for p in paths {
                            let mut full = prefix.clone();
                            full.extend(p);
                            out.push(full);
                        }
                        if end == i {
                            i += 1;
                        } else {
                            i = end;
                        }
                    }
                }
            }
            return (out, i);
        }
        let start = i;
        while i < b.len() && ident(b.get(i)) {
            i += 1;
        }
        if i == start {
            return (
                if prefix.is_empty() {
                    vec![]
                } else {
                    vec![prefix]
                },
                i,
            );
        }
        prefix.push(b[start..i].iter().collect());
        if b.get(i) == Some(&':') && b.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}
