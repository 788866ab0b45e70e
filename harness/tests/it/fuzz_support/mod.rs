//! The fuzzer's inputs: matrices from a grammar of the format, real matrices
//! mutated, and raw bytes.
//!
//! A grammar matrix is clean or dirty. A clean one draws every value from
//! plausible pools, so that most of them load and expand and the fuzzer
//! reaches expand, plan and the reports; a dirty one mixes in hostile values
//! (NUL, `../`, shell and template syntax, odd Unicode, YAML specials) and
//! keys that do not exist. Mutation then breaks either kind at the byte
//! level.

use std::path::Path;

use proptest::prelude::*;

#[derive(Clone, Debug)]
pub enum Input {
    /// A matrix written from the grammar.
    Grammar(String),
    /// A real or grammar matrix, mutated.
    Mutated(String),
    /// Any bytes at all, read as a file.
    Raw(Vec<u8>),
}

impl Input {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Input::Grammar(s) | Input::Mutated(s) => s.as_bytes().to_vec(),
            Input::Raw(b) => b.clone(),
        }
    }
}

/// Real matrices to mutate: the shipped ones and the bad corpus.
pub fn seeds(crate_dir: &Path) -> Vec<String> {
    let root = crate_dir.parent().unwrap();
    let mut out = Vec::new();
    for dir in [root.join("matrices"), crate_dir.join("tests/bad")] {
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).unwrap();
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    out
}

pub fn input(seeds: Vec<String>) -> impl Strategy<Value = Input> {
    let mutated_seed = (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 1..6),
    )
        .prop_map(|(s, m)| Input::Mutated(apply(&s, &m)));
    let mutated_grammar = (grammar(), prop::collection::vec(mutation(), 1..4))
        .prop_map(|(s, m)| Input::Mutated(apply(&s, &m)));
    prop_oneof![
        5 => grammar().prop_map(Input::Grammar),
        3 => mutated_seed,
        2 => mutated_grammar,
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Input::Raw),
    ]
}

// ---------------------------------------------------------------------------
// The grammar

/// Weighted towards Linux, whose ports cover most GOARCH values, so that a
/// good share of goos × goarch products are all real targets.
const GOOS: &[&str] = &[
    "linux", "linux", "linux", "linux", "linux", "linux", "linux", "windows", "darwin", "freebsd",
    "js", "wasip1",
];
const GOARCH: &[&str] = &[
    "amd64", "amd64", "386", "arm", "arm64", "arm64", "riscv64", "ppc64le", "s390x", "mips",
    "mipsle", "mips64le", "loong64", "wasm",
];
const ENV_NAMES: &[&str] = &[
    "GOARM",
    "GOAMD64",
    "GO386",
    "GOMIPS",
    "GOMIPS64",
    "GOPPC64",
    "GORISCV64",
    "GOARM64",
    "GOWASM",
    "GODEBUG",
    "CGO_CFLAGS",
    "GOFLAGS",
    "CC",
    "PATH",
    "_X",
    "A1",
];
const ENV_VALUES: &[&str] = &[
    "5",
    "6",
    "7",
    "v1",
    "v2",
    "v3",
    "hardfloat",
    "softfloat",
    "1",
    "sse2",
    "power9",
    "rva22u64",
    "v8.1",
    "satconv",
    "x=1,y=2",
    "",
];
/// Keys of include, exclude and when: every axis of the table, and two
/// variables.
fn axes() -> &'static [&'static str] {
    static KEYS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut v: Vec<&'static str> = crossprobe::axis::keys().collect();
        v.extend(["GOARM", "GODEBUG"]);
        Box::leak(v.into_boxed_slice())
    })
}

/// Plausible values of each axis of the table that is not required. An axis
/// added to the table needs its pool here: the grammar writes every one.
fn pool(key: &str) -> &'static [&'static str] {
    match key {
        "go" => &["local", "local", "1.22", "1.21.13", "1.21..1.23"],
        "cgo" => &["0", "1", "default"],
        "cc" => &[
            "auto",
            "default",
            "gcc",
            "clang",
            "zig",
            "aarch64-linux-gnu-gcc",
            "zig cc -target x86_64-linux-musl",
        ],
        "buildmode" => &["exe", "pie", "c-archive", "c-shared", "plugin"],
        "ldflags" => &["", "-s -w", "-X main.v=1", "-X 'main.v=a b'"],
        "tags" => &["", "netgo", "osusergo,netgo"],
        "flags" => &["", "-trimpath", "-race", "-toolexec=/bin/false"],
        "cpu" => &["", "max", "cortex-a7", "arm926"],
        other => panic!("axis {other:?} has no value pool in the fuzzer's grammar"),
    }
}

/// The axes the grammar may write, each with a default, in table order.
fn optional_axes() -> Vec<&'static crossprobe::axis::Axis> {
    crossprobe::axis::AXES
        .iter()
        .filter(|a| a.default.is_some())
        .collect()
}
/// Typos and keys that do not exist, for dirty matrices.
const WRONG: &[&str] = &[
    "widnows", "Linux", "plan10", "arm46", "x86_64", "goarm", "A=B", "", "arch", "env", "nmae",
    "probe", "timeout", "expects",
];
/// Values that have broken, or could break, something downstream. Backslash
/// sequences are YAML escapes, used only inside double quotes.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "../../x",
    "/etc/passwd",
    "a\\0b",
    "\\0",
    "$(touch /tmp/crossprobe-fuzz-pwned)",
    "`id`",
    "; rm -rf / #",
    "{{ cell.goos }}",
    "{% raw %}",
    "*",
    "?",
    "linux/*",
    "*/*",
    "-s -w",
    "-X 'main.v=a b'",
    "-toolexec=/bin/sleep",
    "é",
    "\\u202e",
    "\\ufffe",
    "\\uffff",
    "\\x85",
    "\\x1b[31m",
    "\\r\\n",
    "\\t",
    "\\x01",
    "]]>",
    "<testcase>",
    "&amp;",
    "\\\"",
    "'",
    "null",
    "~",
    "true",
    "0x1F",
    "0o17",
    "1e400",
    ".nan",
    "-.inf",
    "007",
    "1_000",
    "go1.22",
    "(unaligned",
    "a{1000}{1000}",
    "(?=x)",
    "\\\\1",
    "0s",
    "99999999999999999999",
    "-1",
    "docker",
    "crash",
];

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(pool).prop_map(str::to_string)
}

/// A value as YAML text: plain, single- or double-quoted. Dirty values
/// include hostile words, random text and very long strings.
fn scalar(pool: &'static [&'static str], dirty: bool) -> BoxedStrategy<String> {
    let word = if dirty {
        prop_oneof![
            12 => pick(pool),
            3 => pick(HOSTILE),
            1 => pick(WRONG),
            1 => "[a-zA-Z0-9_./=-]{0,12}",
            1 => (1usize..400).prop_map(|n| "a".repeat(n)),
        ]
        .boxed()
    } else {
        pick(pool).boxed()
    };
    (word, 0u8..4)
        .prop_map(|(w, style)| {
            let plain_safe = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._/=-".contains(c));
            match style {
                0 | 1 if plain_safe => w,
                2 if !w.contains('\\') => format!("'{}'", w.replace('\'', "''")),
                _ if w.contains('\\') => format!("\"{w}\""),
                _ => format!("\"{}\"", w.replace('"', "\\\"")),
            }
        })
        .boxed()
}

/// A list, flow or block style, sometimes anchored (and so aliased by a
/// mutation that splices `*l1`).
fn list(pool: &'static [&'static str], max: usize, dirty: bool) -> BoxedStrategy<String> {
    (
        prop::collection::vec(scalar(pool, dirty), 1..=max),
        any::<bool>(),
        0u8..16,
    )
        .prop_map(|(vals, flow, anchor)| {
            let body = if flow {
                format!("[{}]", vals.join(", "))
            } else {
                vals.iter().map(|v| format!("\n    - {v}")).collect()
            };
            if anchor == 0 {
                format!("&l{} {body}", vals.len())
            } else {
                body
            }
        })
        .boxed()
}

/// An `exclude` or `when` entry (`lists`: values may be lists), or an
/// `include` entry (`include`: a clean one names goos and goarch, so that
/// when it extends no cell it adds a valid one).
fn entry(dirty: bool, lists: bool, include: bool) -> BoxedStrategy<String> {
    let key = |k: &'static str| Just(k.to_string());
    let kv = prop_oneof![
        3 => (key("goarch"), scalar(GOARCH, dirty)),
        2 => (key("goos"), scalar(GOOS, dirty)),
        1 => (key("GOARM"), scalar(&["5", "6", "7"], dirty)),
        1 => (key("probe"), scalar(&["hello", "atomic64"], dirty)),
        1 => (key("cgo"), scalar(&["0", "1", "default"], dirty)),
        1 => (key("CP_EXTRA"), scalar(ENV_VALUES, dirty)),
        1 => (pick(if dirty { WRONG } else { axes() }), scalar(ENV_VALUES, dirty)),
    ];
    let target = (scalar(GOOS, dirty), scalar(GOARCH, dirty));
    let need_target = include && !dirty;
    (prop::collection::vec((kv, 0u8..4), 1..4), target)
        .prop_map(move |(kvs, (goos, goarch))| {
            let mut kvs: Vec<(String, String, u8)> =
                kvs.into_iter().map(|((k, v), n)| (k, v, n)).collect();
            if need_target {
                kvs.insert(0, ("goos".into(), goos, 1));
                kvs.insert(1, ("goarch".into(), goarch, 1));
            }
            let mut seen = std::collections::HashSet::new();
            let inner: Vec<String> = kvs
                .into_iter()
                .filter(|(k, _, _)| seen.insert(k.clone()))
                .map(|(k, v, many)| match many {
                    0 if lists => format!("{k}: [{v}, {v}]"),
                    _ => format!("{k}: {v}"),
                })
                .collect();
            format!("{{{}}}", inner.join(", "))
        })
        .boxed()
}

fn probes(dirty: bool) -> BoxedStrategy<String> {
    let named =
        prop::sample::subsequence(&["hello", "atomic64"][..], 1..=2).prop_map(|v| v.join(", "));
    let inline = (scalar(&["mine", "p1", "x.y"], dirty), 0u8..8).prop_map(move |(n, k)| match k {
        0 if dirty => format!("{{name: {n}}}"),
        1 if dirty => format!("{{name: {n}, lang: rust, source: x}}"),
        2 => format!("{{name: {n}, lang: c, source: \"int main(void) {{ return 0; }}\"}}"),
        _ => format!("{{name: {n}, source: \"package main\\nfunc main() {{}}\\n\"}}"),
    });
    (named, prop::option::of(inline))
        .prop_map(|(named, inline)| match inline {
            Some(i) => format!("[{named}, {i}]"),
            None => format!("[{named}]"),
        })
        .boxed()
}

fn expect(dirty: bool) -> BoxedStrategy<String> {
    let outcomes: &'static [&'static str] = if dirty {
        &["pass", "run-fail", "build-fail", "timeout", "skip", "crash"]
    } else {
        &["pass", "run-fail", "build-fail", "timeout", "skip"]
    };
    (
        entry(dirty, true, false),
        prop::option::of(pick(outcomes)),
        prop::option::of(scalar(
            &["unaligned 64-bit", "panic: .*", "(a|b)+", "x{2,3}", "^$"],
            dirty,
        )),
        scalar(
            &["https://github.com/golang/go/issues/599", "a sentence"],
            dirty,
        ),
        any::<bool>(),
    )
        .prop_map(move |(when, outcome, pattern, reason, give_reason)| {
            let mut y = format!("  - when: {when}\n");
            if let Some(o) = &outcome {
                y += &format!("    outcome: {o}\n");
            }
            if let Some(p) = pattern {
                y += &format!("    match: {p}\n");
            }
            // A clean expected failure always says why.
            if give_reason || (!dirty && outcome.is_some()) {
                y += &format!("    reason: {reason}\n");
            }
            y
        })
        .boxed()
}

/// `goos` and `goarch` lists. Clean ones come from one family of ports, so
/// that their product is made of real targets.
fn targets(dirty: bool) -> BoxedStrategy<(String, String)> {
    if dirty {
        return (list(GOOS, 2, true), list(GOARCH, 4, true)).boxed();
    }
    const LINUX: &[&str] = &[
        "amd64", "386", "arm", "arm64", "riscv64", "ppc64le", "s390x", "mips", "mipsle",
        "mips64le", "loong64",
    ];
    prop_oneof![
        6 => (Just("[linux]".to_string()), list(LINUX, 4, false)),
        1 => (list(&["linux", "windows", "freebsd"], 3, false), list(&["amd64", "386", "arm64"], 3, false)),
        1 => (list(&["js", "wasip1"], 2, false), Just("[wasm]".to_string())),
        1 => (list(&["darwin", "ios"], 1, false), Just("[arm64]".to_string())),
    ]
    .boxed()
}

/// A whole matrix from the format's grammar: optional keys left out at
/// random, values clean or dirty.
pub fn grammar() -> BoxedStrategy<String> {
    prop_oneof![3 => Just(false), 1 => Just(true)]
        .prop_flat_map(grammar_with)
        .boxed()
}

fn grammar_with(dirty: bool) -> BoxedStrategy<String> {
    let axes = (
        prop::option::of(scalar(&["nightly", "linux-arches", "a.b_c-1"], dirty)),
        probes(dirty),
        targets(dirty),
        optional_axes()
            .into_iter()
            .map(|a| prop::option::of(list(pool(a.key), 2, dirty)))
            .collect::<Vec<_>>(),
    );
    let rest = (
        prop::collection::btree_map(pick(ENV_NAMES), list(ENV_VALUES, 4, dirty), 0..4),
        prop::collection::vec(entry(dirty, true, false), 0..3),
        prop::collection::vec(entry(dirty, false, true), 0..3),
        prop::option::of((
            scalar(&["60s", "2m", "500ms", "90", "1h"], dirty),
            prop::collection::btree_map(
                pick(&[
                    "linux/*",
                    "windows/amd64",
                    "*/*",
                    "js/wasm",
                    "linux/riscv64",
                ]),
                scalar(&["native", "qemu", "wine", "node", "wasi", "none"], dirty),
                0..3,
            ),
        )),
        prop::collection::vec(expect(dirty), 0..3),
        prop_oneof![7 => Just(None), 1 => pick(WRONG).prop_map(Some)],
    );
    (axes, rest)
        .prop_map(move |(axes, rest)| {
            let (name, probes, (goos, goarch), values) = axes;
            let (env, exclude, include, run, expect, wrong) = rest;
            let values: Vec<(&str, crossprobe::axis::Place, String)> = optional_axes()
                .into_iter()
                .zip(values)
                .filter_map(|(a, v)| Some((a.key, a.place, v?)))
                .collect();
            let mut y = String::new();
            if let Some(n) = name {
                y += &format!("name: {n}\n");
            }
            y += &format!("probes: {probes}\n");
            use crossprobe::axis::Place;
            for (k, _, v) in values.iter().filter(|(_, p, _)| *p == Place::Top) {
                y += &format!("{k}: {v}\n");
            }
            y += &format!("matrix:\n  goos: {goos}\n  goarch: {goarch}\n");
            for (k, _, v) in values.iter().filter(|(_, p, _)| *p == Place::Matrix) {
                y += &format!("  {k}: {v}\n");
            }
            if !env.is_empty() {
                y += "  env:\n";
                for (k, v) in env {
                    y += &format!("    {k}: {v}\n");
                }
            }
            for (key, entries) in [("exclude", exclude), ("include", include)] {
                if !entries.is_empty() {
                    y += &format!("  {key}:\n");
                    for e in entries {
                        y += &format!("    - {e}\n");
                    }
                }
            }
            if let Some((timeout, runners)) = run {
                y += &format!("run:\n  timeout: {timeout}\n");
                if !runners.is_empty() {
                    y += "  runners:\n";
                    for (p, r) in runners {
                        y += &format!("    \"{p}\": {r}\n");
                    }
                }
            }
            if !expect.is_empty() {
                y += "expect:\n";
                for e in expect {
                    y += &e;
                }
            }
            if let (true, Some(w)) = (dirty, wrong) {
                y += &format!("{w}: x\n");
            }
            y
        })
        .boxed()
}

// ---------------------------------------------------------------------------
// Mutation

/// YAML and crossprobe syntax worth splicing into a matrix.
const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "*l1",
    "*l2",
    "&b [x, y]",
    "*b",
    "<<: *a\n",
    "[",
    "]",
    "{",
    "}",
    "- ",
    ": ",
    ", ",
    "\t",
    "\n",
    "\n---\n",
    "!!str ",
    "!!binary ",
    "!include ",
    "? ",
    "| \n",
    "> \n",
    "%YAML 1.2\n",
    "#",
    "'",
    "\"",
    "\\",
    "\\0",
    "\u{FEFF}",
    "\u{0}",
    "\r",
    "~",
    "null",
    "goos",
    "goarch",
    "env:",
    "GOARM",
    "include:",
    "exclude:",
    "expect:",
    "when:",
    "386",
    "linux",
    "amd64",
    "arm",
];

#[derive(Clone, Debug)]
pub enum Mutation {
    Flip(usize, u8),
    Insert(usize, &'static str),
    Delete(usize, usize),
    Repeat(usize, usize, u8),
    Indent(usize, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Mutation::Insert(i, t)),
        1 => (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<usize>(), 1usize..80, 2u8..20).prop_map(|(i, n, k)| Mutation::Repeat(i, n, k)),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(l, more)| Mutation::Indent(l, more)),
    ]
}

pub fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut b = text.as_bytes().to_vec();
    for m in muts {
        let len = b.len();
        let at = |i: usize| i % (len + 1);
        match *m {
            Mutation::Flip(i, x) if len > 0 => b[i % len] ^= x.max(1),
            Mutation::Flip(..) => {}
            Mutation::Insert(i, t) => {
                let i = at(i);
                b.splice(i..i, t.bytes());
            }
            Mutation::Delete(i, n) => {
                let i = at(i);
                b.drain(i..(i + n).min(len));
            }
            Mutation::Repeat(i, n, k) => {
                let i = at(i);
                let chunk = b[i..(i + n).min(len)].to_vec();
                for _ in 1..k {
                    b.splice(i..i, chunk.iter().copied());
                }
            }
            Mutation::Indent(line, more) => {
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        b.iter()
                            .enumerate()
                            .filter(|(_, &c)| c == b'\n')
                            .map(|(i, _)| i + 1),
                    )
                    .collect();
                let s = starts[line % starts.len()];
                if more {
                    b.splice(s..s, *b"  ");
                } else if b.get(s) == Some(&b' ') {
                    b.remove(s);
                }
            }
        }
    }
    // A flipped byte may cut a character; the file path refuses that (the
    // raw inputs cover it), and this input goes on to the parser instead.
    String::from_utf8_lossy(&b).into_owned()
}
